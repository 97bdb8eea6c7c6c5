export { SyscallLayer, type SyscallHost, type ProcessExitReport } from './syscalls.js';
export { ThreadTask } from './task.js';
export { Process, type ProcessOptions } from '../process/process.js';
export { AddressSpace, type Vma, type PinnedPage } from '../process/mm.js';
export { UserMemory } from '../process/user-memory.js';
export { bindPageAllocator, type UserPageAllocator, type MemoryHost } from '../process/pages.js';
export { Vfs } from '../vfs/vfs.js';
export { File, anonInodeGetFile, ERESTARTSYS, type FileOps, type Task, type PollTable } from '../vfs/file.js';
export { EventfdCtx, eventfdCtxFdget, eventfdCtxFileget } from '../eventfd/eventfd.js';
