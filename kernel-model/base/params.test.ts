import { describe, expect, it } from 'vitest';
import { EINVAL, ERANGE } from './errno.js';
import { KernelLog } from './klog.js';
import { cmdlineQuotingError, KernelParams, parameq, parseBool, parseUint, splitCmdline, type CmdlineRules } from './params.js';
import { Sysfs } from '../sysfs/sysfs.js';

function params(rules: CmdlineRules): { p: KernelParams; log: KernelLog } {
  const log = new KernelLog(() => 0);
  const p = new KernelParams(log, rules);
  p.declare({ module: 'vfio_iommu_type1', name: 'allow_unsafe_interrupts', type: 'bool', perm: 0o644, default: false, source: 't' });
  p.declare({ module: 'vfio_iommu_type1', name: 'dma_entry_limit', type: 'uint', perm: 0o644, default: 65535, source: 't' });
  p.declare({ module: 'vfio_platform', name: 'reset_required', type: 'bool', perm: 0o444, default: true, source: 't' });
  return { p, log };
}

describe('lib/cmdline.c next_arg', () => {
  // [line, the arguments as next_arg splits them]
  const cases: Array<[string, Array<[string, string | null]>]> = [
    ['a b=c', [['a', null], ['b', 'c']]],
    ['  a   b  ', [['a', null], ['b', null]]],
    ['a=b=c', [['a', 'b=c']]],
    ['a="x y" z', [['a', 'x y'], ['z', null]]],
    ['"a=x y" z', [['a', 'x y'], ['z', null]]],
    ['"quoted arg" z', [['quoted arg', null], ['z', null]]],
    ['a="unterminated rest of line', [['a', 'unterminated rest of line']]],
    ['a=""', [['a', '']]],
    ['a=', [['a', '']]],
    // an '=' as the first character does not split (next_arg's `equals == 0` test)
    ['=x', [['=x', null]]],
    ['a\tb\nc', [['a', null], ['b', null], ['c', null]]],
    ['k="v" "w"', [['k', 'v'], ['w', null]]],
  ];
  it.each(cases)('%j', (line, want) => {
    expect(splitCmdline(line).map((a) => [a.param, a.val])).toEqual(want);
  });

  it('the CLI quoting check: an odd number of double quotes', () => {
    expect(cmdlineQuotingError('a="x y" b')).toBeNull();
    expect(cmdlineQuotingError('a="x y b')).toMatch(/unbalanced/);
    expect(cmdlineQuotingError('')).toBeNull();
  });

  it('parameq: dashes and underscores are the same', () => {
    expect(parameq('vfio-iommu-type1.allow-unsafe-interrupts', 'vfio_iommu_type1.allow_unsafe_interrupts')).toBe(true);
    expect(parameq('vfio_iommu_type1.allow_unsafe', 'vfio_iommu_type1.allow_unsafe_interrupts')).toBe(false);
  });
});

describe('param_set_bool: strtobool (3.14) / kstrtobool (mainline)', () => {
  // [value, 3.14, mainline] (null: -EINVAL)
  const cases: Array<[string, boolean | null, boolean | null]> = [
    ['1', true, true], ['0', false, false], ['y', true, true], ['Y', true, true], ['n', false, false], ['N', false, false],
    ['yes', true, true], ['no', false, false],
    ['on', null, true], ['off', null, false], ['ON', null, true], ['oFf', null, false], ['o', null, null],
    ['t', null, true], ['true', null, true], ['f', null, false], ['false', null, false],
    ['e', null, true], ['d', null, false],
    ['x', null, null], ['', null, null], ['2', null, null],
  ];
  it.each(cases)('%j -> 3.14 %j, mainline %j', (v, old, now) => {
    expect(parseBool(v, 'strtobool-first-error')).toBe(old);
    expect(parseBool(v, 'kstrtobool-all-errors')).toBe(now);
  });
});

describe('param_set_uint: kstrtouint(val, 0)', () => {
  const cases: Array<[string, number]> = [
    ['100', 100], ['+7', 7], ['0x10', 16], ['010', 8], ['0', 0], ['4294967295', 4294967295], ['12\n', 12],
    ['4294967296', -ERANGE], ['', -EINVAL], ['-1', -EINVAL], ['12a', -EINVAL], ['0x', -EINVAL], ['09', -EINVAL], ['1 ', -EINVAL],
  ];
  it.each(cases)('%j -> %d', (v, want) => {
    expect(parseUint(v)).toBe(want);
  });
});

describe('parse_args("Booting kernel", ...)', () => {
  it('prints the command line and sets module parameters (module.param=value, bare bool)', () => {
    const { p, log } = params('kstrtobool-all-errors');
    p.parseCommandLine('vfio-iommu-type1.allow-unsafe-interrupts vfio_iommu_type1.dma_entry_limit=0x20 vfio_platform.reset_required=0');
    expect(log.records[0]!.msg).toBe('Kernel command line: vfio-iommu-type1.allow-unsafe-interrupts vfio_iommu_type1.dma_entry_limit=0x20 vfio_platform.reset_required=0');
    expect(log.records[0]!.level).toBe('notice');
    expect([p.bool('vfio_iommu_type1', 'allow_unsafe_interrupts'), p.uint('vfio_iommu_type1', 'dma_entry_limit'), p.bool('vfio_platform', 'reset_required')]).toEqual([true, 32, false]);
    expect(log.records).toHaveLength(1);
  });

  it('an invalid value: the real message; 3.14 stops there, mainline goes on', () => {
    const line = 'vfio_iommu_type1.allow_unsafe_interrupts=x vfio_platform.reset_required=0';
    for (const rules of ['strtobool-first-error', 'kstrtobool-all-errors'] as const) {
      const { p, log } = params(rules);
      p.parseCommandLine(line);
      expect(log.lines().slice(1).map((l) => l.replace(/^\[[^\]]*\] /, ''))).toEqual(["Booting kernel: `x' invalid for parameter `vfio_iommu_type1.allow_unsafe_interrupts'"]);
      expect(log.records[1]!.level).toBe('err');
      expect(p.bool('vfio_iommu_type1', 'allow_unsafe_interrupts')).toBe(false);
      // kernel/params.c parse_args: 3.14 returns at the first error, mainline continues
      expect(p.bool('vfio_platform', 'reset_required')).toBe(rules === 'strtobool-first-error');
    }
  });

  it('a uint without a value or out of range is invalid; "on" is a bool only in mainline', () => {
    const { p, log } = params('kstrtobool-all-errors');
    p.parseCommandLine('vfio_iommu_type1.dma_entry_limit vfio_iommu_type1.dma_entry_limit=99999999999 vfio_iommu_type1.allow_unsafe_interrupts=on');
    expect(log.records.slice(1).map((r) => r.msg)).toEqual([
      "Booting kernel: `' invalid for parameter `vfio_iommu_type1.dma_entry_limit'",
      "Booting kernel: `99999999999' invalid for parameter `vfio_iommu_type1.dma_entry_limit'",
    ]);
    expect(p.uint('vfio_iommu_type1', 'dma_entry_limit')).toBe(65535);
    expect(p.bool('vfio_iommu_type1', 'allow_unsafe_interrupts')).toBe(true);
    const old = params('strtobool-first-error');
    old.p.parseCommandLine('vfio_iommu_type1.allow_unsafe_interrupts=on');
    expect(old.log.records[1]!.msg).toBe("Booting kernel: `on' invalid for parameter `vfio_iommu_type1.allow_unsafe_interrupts'");
  });

  it('a command-line name matches a parameter only with its dot where the module name ends (parameq of "module.name")', () => {
    const m = params('kstrtobool-all-errors');
    // the same length and letters as vfio_platform.reset_required, the dot elsewhere or missing
    m.p.parseCommandLine('vfio_platform_reset.required=0 vfio_platform-reset_required=0 vfio.platform_reset_required=0');
    expect(m.p.bool('vfio_platform', 'reset_required')).toBe(true);
    m.p.parseCommandLine('vfio-platform.reset-required=0');
    expect(m.p.bool('vfio_platform', 'reset_required')).toBe(false);
  });

  it('unknown parameters: dotted ones silently ignored; mainline lists the others (init/main.c print_unknown_bootoptions)', () => {
    const line = 'foo arm_smmu.nope=1 bar=2 console=ttyAMA0 vfio_iommu_type1.allow_unsafe_interrupts=1 "baz=a b" quiet';
    const m = params('kstrtobool-all-errors');
    m.p.parseCommandLine(line);
    expect(m.log.records.slice(1).map((r) => r.msg)).toEqual(['Unknown kernel command line parameters "foo quiet bar=2 console=ttyAMA0 baz=a b", will be passed to user space.']);
    expect(m.p.bool('vfio_iommu_type1', 'allow_unsafe_interrupts')).toBe(true);
    const o = params('strtobool-first-error');
    o.p.parseCommandLine(line);
    expect(o.log.records).toHaveLength(1);
    expect(o.p.bool('vfio_iommu_type1', 'allow_unsafe_interrupts')).toBe(true);
  });

  it('"--" ends the kernel\'s part in mainline (after_dashes); 3.14 has no such rule', () => {
    const m = params('kstrtobool-all-errors');
    m.p.parseCommandLine('vfio_platform.reset_required=0 -- vfio_iommu_type1.allow_unsafe_interrupts=1 x');
    expect([m.p.bool('vfio_platform', 'reset_required'), m.p.bool('vfio_iommu_type1', 'allow_unsafe_interrupts')]).toEqual([false, false]);
    expect(m.p.afterDashes).toEqual(['vfio_iommu_type1.allow_unsafe_interrupts=1', 'x']);
    const o = params('strtobool-first-error');
    o.p.parseCommandLine('vfio_platform.reset_required=0 -- vfio_iommu_type1.allow_unsafe_interrupts=1');
    expect(o.p.bool('vfio_iommu_type1', 'allow_unsafe_interrupts')).toBe(true);
  });

  it('an empty command line: printed, defaults kept', () => {
    const { p, log } = params('kstrtobool-all-errors');
    p.parseCommandLine('');
    expect(log.records.map((r) => r.msg)).toEqual(['Kernel command line: ']);
    expect(p.bool('vfio_platform', 'reset_required')).toBe(true);
  });

  it('an undeclared parameter read by model code is a model bug', () => {
    const { p } = params('kstrtobool-all-errors');
    expect(() => p.bool('arm_smmu', 'disable_bypass')).toThrow(/no bool parameter/);
    expect(() => p.uint('vfio_platform', 'reset_required')).toThrow(/no uint parameter/);
  });
});

describe('/sys/module/<module>/parameters (param_sysfs_builtin)', () => {
  it('show Y/N and %u; a 0644 parameter stores through its setter, a 0444 one has no store', () => {
    const { p } = params('kstrtobool-all-errors');
    const sysfs = new Sysfs();
    p.exposeSysfs(sysfs);
    const file = (path: string) => {
      const e = sysfs.lookup(path);
      if (!e || e.kind !== 'file') throw new Error(path);
      return e.attr;
    };
    const unsafe = file('module/vfio_iommu_type1/parameters/allow_unsafe_interrupts');
    expect([unsafe.mode, unsafe.show!()]).toEqual([0o644, 'N\n']);
    expect(unsafe.store!('1\n')).toBe(2);
    expect(unsafe.show!()).toBe('Y\n');
    expect(p.bool('vfio_iommu_type1', 'allow_unsafe_interrupts')).toBe(true);
    expect(unsafe.store!('maybe\n')).toBe(-EINVAL);
    const limit = file('module/vfio_iommu_type1/parameters/dma_entry_limit');
    expect(limit.show!()).toBe('65535\n');
    expect(limit.store!('100\n')).toBe(4);
    expect(p.uint('vfio_iommu_type1', 'dma_entry_limit')).toBe(100);
    const reset = file('module/vfio_platform/parameters/reset_required');
    expect([reset.mode, reset.show!(), reset.store]).toEqual([0o444, 'Y\n', undefined]);
  });
});
