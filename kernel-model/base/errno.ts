/** Linux errno values (asm-generic/errno-base.h, errno.h); kernel functions return -E*. */
export const EPERM = 1;
export const ENOENT = 2;
export const ESRCH = 3;
export const EINTR = 4;
export const EIO = 5;
export const ENXIO = 6;
export const E2BIG = 7;
export const ENOEXEC = 8;
export const EBADF = 9;
export const ECHILD = 10;
export const EAGAIN = 11;
export const ENOMEM = 12;
export const EACCES = 13;
export const EFAULT = 14;
export const EBUSY = 16;
export const EEXIST = 17;
export const EXDEV = 18;
export const ENODEV = 19;
export const ENOTDIR = 20;
export const EISDIR = 21;
export const EINVAL = 22;
export const ENFILE = 23;
export const EMFILE = 24;
export const ENOTTY = 25;
export const ETXTBSY = 26;
export const EFBIG = 27;
export const ENOSPC = 28;
export const ESPIPE = 29;
export const EROFS = 30;
export const EPIPE = 32;
export const ERANGE = 34;
export const ENAMETOOLONG = 36;
export const ENOSYS = 38;
export const ENOTEMPTY = 39;
/** too many symbolic links (fs/namei.c: MAXSYMLINKS, 3.14's MAX_NESTED_LINKS, O_NOFOLLOW) */
export const ELOOP = 40;
export const EOVERFLOW = 75;
/** fd in bad state (mainline vfio_group_ioctl_set_container: an fd that is neither a container nor an iommufd) */
export const EBADFD = 77;
/** accessing a corrupted shared library (include/uapi/asm-generic/errno.h): load_elf_binary's answer for a bad ELF interpreter */
export const ELIBBAD = 80;
export const ENOTSUPP = 524;
export const EMSGSIZE = 90;
export const EOPNOTSUPP = 95;
export const EADDRINUSE = 98;
export const ETIMEDOUT = 110;
/** kernel-internal: an ioctl handler does not know the request; vfs_ioctl turns it into -ENOTTY */
export const ENOIOCTLCMD = 515;
export const EPROBE_DEFER = 517;

export const ERRNO_NAMES: Record<number, string> = {
  1: 'EPERM', 2: 'ENOENT', 3: 'ESRCH', 4: 'EINTR', 5: 'EIO', 6: 'ENXIO', 7: 'E2BIG', 8: 'ENOEXEC', 9: 'EBADF',
  10: 'ECHILD', 11: 'EAGAIN', 12: 'ENOMEM', 13: 'EACCES', 14: 'EFAULT', 16: 'EBUSY', 17: 'EEXIST', 18: 'EXDEV',
  19: 'ENODEV', 20: 'ENOTDIR', 21: 'EISDIR', 22: 'EINVAL', 23: 'ENFILE', 24: 'EMFILE', 25: 'ENOTTY', 26: 'ETXTBSY', 27: 'EFBIG',
  28: 'ENOSPC', 29: 'ESPIPE', 30: 'EROFS', 32: 'EPIPE', 34: 'ERANGE', 36: 'ENAMETOOLONG', 38: 'ENOSYS',
  39: 'ENOTEMPTY', 40: 'ELOOP', 75: 'EOVERFLOW', 77: 'EBADFD', 80: 'ELIBBAD', 90: 'EMSGSIZE', 95: 'EOPNOTSUPP', 98: 'EADDRINUSE', 110: 'ETIMEDOUT', 515: 'ENOIOCTLCMD', 517: 'EPROBE_DEFER', 524: 'ENOTSUPP',
};

/** "-EINVAL" style name for a negative return value, or the number itself */
export function errnoName(ret: number): string {
  if (ret >= 0) return String(ret);
  return `-${ERRNO_NAMES[-ret] ?? String(-ret)}`;
}
