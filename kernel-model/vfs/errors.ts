export { EACCES, EEXIST, EINVAL, EISDIR, ENOENT, ENOTDIR, EPERM } from '../base/errno.js';
/** ELOOP (40) is not in base/errno.ts */
export const ELOOP_FALLBACK = 40;
