/**
 * binfmt_script (fs/binfmt_script.c load_script): the "#!" line of a file execve was given.
 * The kernel reads the first BINPRM_BUF_SIZE bytes of the file (prepare_binprm / kernel_read,
 * NUL padding past a short file) and takes from them the interpreter's path and at most one
 * optional argument (everything after the interpreter and its blanks, inner blanks included).
 * The two eras parse differently (the profile's `binfmtScript`):
 *
 * - 'buf128-truncate' (3.14): BINPRM_BUF_SIZE is 128; the last byte of the buffer is made NUL,
 *   the line ends at the first '\n' found by strchr (so a NUL before it ends the search: the
 *   line then runs to byte 127), trailing blanks (space, tab) are cut, leading blanks
 *   skipped; nothing left: -ENOEXEC. An interpreter path longer than the buffer is cut
 *   silently to what fits.
 * - 'buf256-enoexec' (v6.12): BINPRM_BUF_SIZE is 256 ("exec: increase BINPRM_BUF_SIZE to 256",
 *   6eb3c3d0a52d, v5.0) and the parser of b5372fe5dc84 ("exec: load_script: Do not exec
 *   truncated interpreter path", v5.0) as ccbb18b67323 rewrote it (v5.8, "Don't modify
 *   bprm->buf and then return -ENOEXEC"): without a '\n' (strnchr, stopping at a NUL) in the
 *   buffer the path must be followed by a blank or a NUL within it, else -ENOEXEC (a truncated
 *   interpreter path is never run); only blanks: -ENOEXEC. Without a '\n' the line's end is
 *   the buffer's last byte, and only blanks are trimmed from there, not the NUL padding: a
 *   short file "#!/bin/sh " (blank, no newline) gives an empty optional argument, as v6.12
 *   does.
 */

/** the profile's binfmtScript (capabilities-syscall.ts) */
export type BinfmtScript = 'buf128-truncate' | 'buf256-enoexec';

/** interpreter path and optional argument, or -ENOEXEC ("not ours" and every parse failure) */
export interface ScriptLine {
  interp: string;
  arg: string | null;
}

const ENOEXEC = 8;

const blank = (c: number): boolean => c === 0x20 || c === 0x09;

/** Latin-1 text of buf[from, to) up to its first NUL (a C string) */
function cstr(buf: Uint8Array, from: number, to: number): string {
  let s = '';
  for (let i = from; i < to && buf[i] !== 0; i++) s += String.fromCharCode(buf[i]!);
  return s;
}

/** is this file a script (load_script's first test: "#!")? */
export function isScript(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x23 && bytes[1] === 0x21;
}

/** load_script's parse of the first line (see the module comment); -ENOEXEC when it is not one */
export function parseScriptLine(bytes: Uint8Array, era: BinfmtScript): ScriptLine | number {
  if (!isScript(bytes)) return -ENOEXEC;
  const size = era === 'buf128-truncate' ? 128 : 256;
  // bprm->buf: the first BINPRM_BUF_SIZE bytes, zero-filled past the file's end
  const buf = new Uint8Array(size);
  buf.set(bytes.subarray(0, size));
  return era === 'buf128-truncate' ? parse314(buf) : parse612(buf);
}

/** 3.14 fs/binfmt_script.c load_script (the parse writes NULs into bprm->buf; here, indices) */
function parse314(buf: Uint8Array): ScriptLine | number {
  const n = buf.length;
  buf[n - 1] = 0;
  // strchr(bprm->buf, '\n'): stops at the first NUL; none: the line ends at the last byte
  let cp = n - 1;
  for (let i = 0; i < n && buf[i] !== 0; i++) {
    if (buf[i] === 0x0a) {
      cp = i;
      break;
    }
  }
  buf[cp] = 0;
  // trailing blanks become NULs
  while (cp > 0) {
    cp--;
    if (blank(buf[cp]!)) buf[cp] = 0;
    else break;
  }
  for (cp = 2; blank(buf[cp]!); cp++);
  // "No interpreter name found"
  if (buf[cp] === 0) return -ENOEXEC;
  const name = cp;
  for (; buf[cp] !== 0 && !blank(buf[cp]!); cp++);
  const nameEnd = cp;
  while (blank(buf[cp]!)) buf[cp++] = 0;
  const arg = buf[cp] !== 0 ? cstr(buf, cp, n) : null;
  return { interp: cstr(buf, name, nameEnd), arg };
}

/** v6.12 fs/binfmt_script.c load_script: the buffer is read, not written, until the end */
function parse612(buf: Uint8Array): ScriptLine | number {
  const bufEnd = buf.length - 1;
  // next_non_spacetab / next_terminator: the first index in [first, last] that is (not) a blank / NUL, or -1
  const nonBlank = (first: number, last: number): number => {
    for (; first <= last; first++) if (!blank(buf[first]!)) return first;
    return -1;
  };
  const terminator = (first: number, last: number): number => {
    for (; first <= last; first++) if (blank(buf[first]!) || buf[first] === 0) return first;
    return -1;
  };
  // strnchr(bprm->buf, sizeof(bprm->buf), '\n'): stops at a NUL too
  let iEnd = -1;
  for (let i = 0; i <= bufEnd && buf[i] !== 0; i++) {
    if (buf[i] === 0x0a) {
      iEnd = i;
      break;
    }
  }
  if (iEnd < 0) {
    const first = nonBlank(2, bufEnd);
    // the whole buffer is blanks
    if (first < 0) return -ENOEXEC;
    // no blank or NUL after the path: it may be truncated, so it is not run
    if (terminator(first, bufEnd) < 0) return -ENOEXEC;
    iEnd = bufEnd;
  }
  // trailing blanks off i_end
  while (blank(buf[iEnd - 1]!)) iEnd--;
  const name = nonBlank(2, iEnd);
  if (name < 0 || name === iEnd) return -ENOEXEC;
  let arg: string | null = null;
  const sep = terminator(name, iEnd);
  if (sep >= 0 && buf[sep] !== 0) {
    const a = nonBlank(sep, iEnd);
    // *i_end = '\0': the argument runs to i_end or its first NUL
    if (a >= 0) arg = cstr(buf, a, iEnd);
  }
  // *i_sep = '\0' (with an argument) or *i_end = '\0': the name stops at its terminator
  return { interp: cstr(buf, name, sep >= 0 ? sep : iEnd), arg };
}
