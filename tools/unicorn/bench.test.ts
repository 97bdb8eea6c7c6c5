import { expect, it } from 'vitest';
import { shouldSkipUnicornTests } from '../../emulator/cpu/unicorn/testing/guest-build.js';
import { benchUnicornSystem } from './bench.js';

it.skipIf(shouldSkipUnicornTests())('bench figures on the kernel-model path are produced and positive (short run)', () => {
  const f = benchUnicornSystem(true);
  expect(f.map((x) => x.name)).toEqual(['unicorn-instructions', 'unicorn-svc-round-trip', 'unicorn-kernel-syscall-round-trip', 'unicorn-pl330-vfio-test-run', 'unicorn-fork-exec-wait']);
  for (const x of f) expect(x.value, x.name).toBeGreaterThan(0);
}, 30_000);
