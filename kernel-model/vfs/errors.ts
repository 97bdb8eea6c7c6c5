export { EACCES, EEXIST, EINVAL, EISDIR, ELOOP, ENOENT, ENOTDIR, EPERM } from '../base/errno.js';
