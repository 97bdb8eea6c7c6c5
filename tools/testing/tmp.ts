/**
 * Temporary directories for tests that are removed when the test file ends (afterAll), so
 * `npm test` leaves nothing behind in the host's temporary directory.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

const made: string[] = [];

// registered when a test file imports this module (collection time: the file's root suite)
afterAll(() => {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
});

export function tempDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), `${prefix}-`));
  made.push(d);
  return d;
}
