/**
 * The executable of an exec as a file its PT_LOAD segments are mapped from (fs/binfmt_elf.c
 * elf_map: vm_mmap of bprm->file). A tmpfs or rootfs image is its own file, opened read-only
 * (open-exec.ts); an image of the run's exec file system (the programs a test or the runner
 * provides, busybox as /bin/sh), which the namespace does not hold, is an `ExecFsFile`: its
 * bytes as a file of its own, one per path and content for the processes of a run
 * (`LinuxAbi.execImages`), so that they share one page cache while any maps it.
 */
import { PageCache, type FileBacking } from '../process/filemap.js';
import { File, type FileOps, simpleReadFromBuffer } from '../vfs/file.js';

export class ExecFsFile implements FileBacking {
  cache: PageCache | null = null;
  constructor(readonly path: string, readonly bytes: Uint8Array) {}
  fileSize(): number {
    return this.bytes.length;
  }
  readPage(idx: number, dst: Uint8Array): void {
    const from = idx * 4096;
    if (from < this.bytes.length) dst.set(this.bytes.subarray(from, Math.min(this.bytes.length, from + 4096)));
  }
  detached(): void {
    this.cache = null;
  }
}

/** the exec file system's file operations: read-only, mmap through the page cache (filemap_fault) */
export const execFsFops: FileOps = {
  name: 'execfs',
  read(f, task, buf, count, pos) {
    const d = (f.priv as ExecFsFile).bytes;
    return simpleReadFromBuffer(task, buf, count, pos, d);
  },
  mmap(f, task, v) {
    const n = f.priv as ExecFsFile;
    (n.cache ??= new PageCache(task.mm.host, n)).attach(task.mm, v);
    return 0;
  },
};

/** the run's image at `path` with these bytes opened read-only (one ExecFsFile per path and content) */
export function openExecFsImage(images: Map<string, ExecFsFile>, path: string, bytes: Uint8Array): File {
  let n = images.get(path);
  if (n === undefined || n.bytes !== bytes) {
    n = new ExecFsFile(path, bytes);
    images.set(path, n);
  }
  return new File(execFsFops, n, 0, path);
}
