import type { CliIo } from '../main.js';

/** CLI I/O for tests: captured stdout/stderr and an in-memory file system */
export interface MemoryIo extends CliIo {
  o: string;
  e: string;
  files: Record<string, string>;
}

export function memoryIo(files: Record<string, string> = {}): MemoryIo {
  const r: MemoryIo = {
    o: '',
    e: '',
    files,
    out(s: string) {
      r.o += s;
    },
    err(s: string) {
      r.e += s;
    },
    writeFile(p: string, d: string | Iterable<string>) {
      files[p] = typeof d === 'string' ? d : [...d].join('');
    },
    readFile(p: string) {
      if (!(p in files)) throw Object.assign(new Error(`ENOENT: no such file or directory, open '${p}'`), { code: 'ENOENT', syscall: 'open', path: p });
      return files[p]!;
    },
    isTTY: false,
  };
  return r;
}
