/**
 * Kernel command line and built-in module parameters (kernel/params.c, lib/cmdline.c,
 * init/main.c), as start_kernel handles them: print "Kernel command line: ...", split the
 * line with next_arg, hand each `module.param=value` to its parameter's setter
 * (parse_one), report errors as parse_args does, and expose the parameters under
 * /sys/module/<module>/parameters/<name> (param_sysfs_builtin, param_attr_show/store).
 *
 * Model choices (documented in docs/KERNEL.md "Kernel command line"):
 * - every module of the model is built in (=y), so its parameters are parsed from the
 *   command line at boot with parse_args("Booting kernel", ...) and errors name the full
 *   dotted parameter: "Booting kernel: `x' invalid for parameter
 *   `vfio_iommu_type1.allow_unsafe_interrupts'" (a loadable module would be given its
 *   parameters by modprobe and print "vfio_iommu_type1: `x' invalid for parameter
 *   `allow_unsafe_interrupts'" and fail to load instead);
 * - early parameters (parse_early_param), __setup handlers and init's argv/envp are not
 *   modelled: an unknown parameter without a dot is only reported (mainline
 *   print_unknown_bootoptions) and otherwise ignored.
 *
 * The era's rules (`cmdlineRules` capability, kernel-model/profile.ts):
 * - 'strtobool-first-error' (3.14): parse_args stops at the first parameter that fails (3.14 kernel/params.c
 *   returns from the loop), bools through strtobool (first character y/Y/1 or n/N/0), no
 *   "--" handling (added in 3.16 by "params: hand arguments after -- straight to init"),
 *   unknown parameters pass silently to init (3.14 init/main.c unknown_bootoption);
 * - 'kstrtobool-all-errors' (mainline): parse_args reports each failing parameter and goes on (err = ERR_PTR(ret)),
 *   stops at "--"; bools through kstrtobool (lib/kstrtox.c: y/Y/t/T/1/e/E, n/N/f/F/0/d/D,
 *   on/off by the first two characters); non-dotted unknown parameters are listed once
 *   after parsing: `Unknown kernel command line parameters "...", will be passed to user
 *   space.` (init/main.c print_unknown_bootoptions; dotted ones are unused module
 *   parameters, ignored silently by unknown_bootoption).
 */
import type { Sysfs } from '../sysfs/sysfs.js';
import type { KernelLog } from './klog.js';
import { EINVAL, ERANGE } from './errno.js';

export type CmdlineRules = 'strtobool-first-error' | 'kstrtobool-all-errors';

export interface ParamDecl {
  /** KBUILD_MODNAME: dashes already underscores ("vfio_iommu_type1", "arm_smmu") */
  module: string;
  name: string;
  type: 'bool' | 'uint';
  /** sysfs permission (0 = not in sysfs) */
  perm: number;
  default: boolean | number;
  /** the kernel source declaring it (module_param in file, function) */
  source: string;
}

/** one argument as next_arg splits it: value null when there is no '=' */
export interface CmdlineArg {
  param: string;
  val: string | null;
}

function isSpace(c: string): boolean {
  // lib/ctype.c _C|_S: space, \t \n \v \f \r
  return c === ' ' || c === '\t' || c === '\n' || c === '\v' || c === '\f' || c === '\r';
}

function skipSpaces(s: string, i: number): number {
  while (i < s.length && isSpace(s[i]!)) i++;
  return i;
}

/**
 * lib/cmdline.c next_arg from position `pos` (leading spaces already skipped): a double
 * quote toggles quoting (spaces inside quotes do not split), the first '=' splits name and
 * value, a value that starts with '"' loses it and the argument's last character if that
 * is '"', an argument that starts with '"' loses that quote and its last '"'. An
 * unterminated quote runs to the end of the line (no error: the kernel has no way to
 * report one). Returns the argument and the position of the next one.
 */
export function nextArg(s: string, pos: number): { arg: CmdlineArg; next: number } {
  let start = pos;
  let inQuote = false;
  let quoted = false;
  if (s[start] === '"') {
    start++;
    inQuote = true;
    quoted = true;
  }
  let i = start;
  let equals = -1;
  for (; i < s.length; i++) {
    const c = s[i]!;
    if (isSpace(c) && !inQuote) break;
    // `if (equals == 0)`: an '=' at the very first character does not count (equals stays 0)
    if (equals <= 0 && c === '=') equals = i - start;
    if (c === '"') inQuote = !inQuote;
  }
  let end = i; // exclusive end of the argument's characters
  const lastIsQuote = end > start && s[end - 1] === '"';
  let param: string;
  let val: string | null;
  if (equals <= 0) {
    if (quoted && lastIsQuote) end--;
    param = s.slice(start, end);
    val = null;
  } else {
    param = s.slice(start, start + equals);
    let vs = start + equals + 1;
    let ve = end;
    if (s[vs] === '"') {
      vs++;
      if (lastIsQuote) ve--;
    } else if (quoted && lastIsQuote) {
      ve--;
    }
    val = s.slice(vs, Math.max(vs, ve));
  }
  const next = i < s.length ? skipSpaces(s, i + 1) : i;
  return { arg: { param, val }, next };
}

/** the whole line as next_arg splits it (leading spaces skipped, as parse_args does) */
export function splitCmdline(s: string): CmdlineArg[] {
  const out: CmdlineArg[] = [];
  let p = skipSpaces(s, 0);
  while (p < s.length) {
    const { arg, next } = nextArg(s, p);
    out.push(arg);
    p = next;
  }
  return out;
}

/**
 * A reason a command line cannot be what its author meant, for the CLI's usage check
 * (`--bootargs`): an unbalanced double quote (the kernel would glue the rest of the line
 * into one argument). null when the line is fine.
 */
export function cmdlineQuotingError(s: string): string | null {
  let n = 0;
  for (let i = 0; i < s.length; i++) if (s[i] === '"') n++;
  return n % 2 === 0 ? null : 'unbalanced double quote: the kernel would take the rest of the line as one argument';
}

/** kernel/params.c parameq: '-' and '_' are the same */
export function parameq(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  return parameqAt(a, 0, b);
}

/** '-' (0x2d) read as '_' (0x5f), as parameq compares */
const dashAsUnderscore = (c: number): number => (c === 0x2d ? 0x5f : c);

/** parameq of a[at, at + b.length) and b (the caller has checked that a is long enough) */
function parameqAt(a: string, at: number, b: string): boolean {
  for (let i = 0; i < b.length; i++) if (dashAsUnderscore(a.charCodeAt(at + i)) !== dashAsUnderscore(b.charCodeAt(i))) return false;
  return true;
}

/** parameq(full, `${module}.${name}`) without building the second string (every parameter lookup asks it of every parameter) */
function parameqFull(full: string, module: string, name: string): boolean {
  return full.length === module.length + 1 + name.length && parameqAt(full, 0, module) && full.charCodeAt(module.length) === 0x2e && parameqAt(full, module.length + 1, name);
}

/** strtobool (3.14 lib/string.c) / kstrtobool (mainline lib/kstrtox.c) */
export function parseBool(val: string, rules: CmdlineRules): boolean | null {
  const c0 = val[0];
  if (rules === 'strtobool-first-error') {
    if (c0 === 'y' || c0 === 'Y' || c0 === '1') return true;
    if (c0 === 'n' || c0 === 'N' || c0 === '0') return false;
    return null;
  }
  switch (c0) {
    case 'e': case 'E': case 'y': case 'Y': case 't': case 'T': case '1':
      return true;
    case 'd': case 'D': case 'n': case 'N': case 'f': case 'F': case '0':
      return false;
    case 'o': case 'O': {
      const c1 = val[1];
      if (c1 === 'n' || c1 === 'N') return true;
      if (c1 === 'f' || c1 === 'F') return false;
      return null;
    }
    default:
      return null;
  }
}

/**
 * kstrtouint(val, 0): optional '+', radix from the prefix (0x hex, 0 octal, else decimal),
 * at least one digit, an optional trailing newline, nothing else; -ERANGE past U32_MAX.
 */
export function parseUint(val: string): number {
  let i = 0;
  if (val[i] === '+') i++;
  let base = 10;
  if (val[i] === '0' && (val[i + 1] === 'x' || val[i + 1] === 'X') && /[0-9a-fA-F]/.test(val[i + 2] ?? '')) {
    base = 16;
    i += 2;
  } else if (val[i] === '0') {
    base = 8;
  }
  let v = 0;
  let digits = 0;
  let overflow = false;
  for (; i < val.length; i++) {
    const d = parseInt(val[i]!, 16);
    if (Number.isNaN(d) || d >= base) break;
    v = v * base + d;
    if (v > 0xffffffff) overflow = true;
    digits++;
  }
  if (digits === 0) return -EINVAL;
  if (val[i] === '\n') i++;
  if (i !== val.length) return -EINVAL;
  return overflow ? -ERANGE : v;
}

interface ParamState {
  decl: ParamDecl;
  value: boolean | number;
}

/** The built-in parameters (the __param section) and the kernel command line. */
export class KernelParams {
  private readonly params: ParamState[] = [];
  /** the command line the kernel booted with (saved_command_line) */
  commandLine = '';
  /** arguments after "--" (mainline: handed to init) */
  afterDashes: string[] = [];

  constructor(
    private readonly log: KernelLog,
    readonly rules: CmdlineRules,
  ) {}

  /** module_param: a built-in parameter with its default */
  declare(d: ParamDecl): void {
    if (this.find(`${d.module}.${d.name}`)) throw new Error(`params: ${d.module}.${d.name} declared twice`);
    // the declaration never changes (a frozen copy: the fuzzer's snapshot leaves it alone)
    this.params.push({ decl: Object.freeze({ ...d }), value: d.default });
  }

  private find(full: string): ParamState | null {
    const ps = this.params;
    for (let i = 0; i < ps.length; i++) if (parameqFull(full, ps[i]!.decl.module, ps[i]!.decl.name)) return ps[i]!;
    return null;
  }

  has(module: string, name: string): boolean {
    return this.find(`${module}.${name}`) !== null;
  }

  /** the value of a declared bool parameter (throws for an undeclared one: a model bug) */
  bool(module: string, name: string): boolean {
    const p = this.find(`${module}.${name}`);
    if (!p || p.decl.type !== 'bool') throw new Error(`params: no bool parameter ${module}.${name}`);
    return p.value as boolean;
  }

  /** the value of a declared uint parameter (throws for an undeclared one: a model bug) */
  uint(module: string, name: string): number {
    const p = this.find(`${module}.${name}`);
    if (!p || p.decl.type !== 'uint') throw new Error(`params: no uint parameter ${module}.${name}`);
    return p.value as number;
  }

  /** the parameters in declaration order (inspection) */
  list(): Array<{ module: string; name: string; type: string; value: boolean | number }> {
    return this.params.map((p) => ({ module: p.decl.module, name: p.decl.name, type: p.decl.type, value: p.value }));
  }

  /** ops->set (param_set_bool / param_set_uint); 0 or -errno */
  private set(p: ParamState, val: string | null): number {
    if (p.decl.type === 'bool') {
      // param_set_bool: "No equals means set"
      const b = parseBool(val ?? '1', this.rules);
      if (b === null) return -EINVAL;
      p.value = b;
      return 0;
    }
    // parse_one: a NULL value for a parameter whose ops lack KERNEL_PARAM_OPS_FL_NOARG
    if (val === null) return -EINVAL;
    const v = parseUint(val);
    if (v < 0) return v;
    p.value = v;
    return 0;
  }

  /**
   * start_kernel: pr_notice("Kernel command line: %s\n"), then parse_args("Booting kernel",
   * ...) over the built-in parameters with unknown_bootoption for the rest.
   */
  parseCommandLine(cmdline: string): void {
    this.commandLine = cmdline;
    this.log.log('notice', '', `Kernel command line: ${cmdline}`);
    const doing = 'Booting kernel';
    const unknown: string[] = [];
    const unknownEnv: string[] = [];
    let p = skipSpaces(cmdline, 0);
    while (p < cmdline.length) {
      const { arg, next } = nextArg(cmdline, p);
      p = next;
      if (this.rules === 'kstrtobool-all-errors' && arg.val === null && arg.param === '--') {
        this.afterDashes = splitCmdline(cmdline.slice(p)).map((a) => (a.val === null ? a.param : `${a.param}=${a.val}`));
        break;
      }
      const st = this.find(arg.param);
      let ret: number;
      if (st) {
        ret = this.set(st, arg.val);
      } else {
        // unknown_bootoption: an unused module parameter (a dot in the name) is ignored;
        // the rest would go to init's argv (no value) or envp (with a value)
        if (!arg.param.includes('.')) (arg.val === null ? unknown : unknownEnv).push(arg.val === null ? arg.param : `${arg.param}=${arg.val}`);
        ret = 0;
      }
      if (ret === 0) continue;
      const v = arg.val ?? '';
      // parse_args: any error other than -ENOENT/-ENOSPC (neither can happen here)
      this.log.err('', `${doing}: \`${v}' invalid for parameter \`${arg.param}'`);
      // 3.14 parse_args returns at the first error: the rest of the line is not parsed
      if (this.rules === 'strtobool-first-error') break;
    }
    const all = [...unknown, ...unknownEnv];
    if (this.rules === 'kstrtobool-all-errors' && all.length > 0) this.log.log('notice', '', `Unknown kernel command line parameters "${all.join(' ')}", will be passed to user space.`);
  }

  /**
   * param_sysfs_builtin: /sys/module/<module>/parameters/<name> for every parameter with a
   * permission; show as param_get_bool ("Y"/"N") or param_get_uint ("%u"), store through the
   * same setter as the command line (param_attr_store: the written bytes, newline included).
   */
  exposeSysfs(sysfs: Sysfs): void {
    for (const p of this.params) {
      if (p.decl.perm === 0) continue;
      const path = `module/${p.decl.module}/parameters/${p.decl.name}`;
      const writable = (p.decl.perm & 0o222) !== 0;
      sysfs.addFile(path, {
        mode: p.decl.perm,
        show: () => (p.decl.type === 'bool' ? `${p.value ? 'Y' : 'N'}\n` : `${p.value as number}\n`),
        store: writable
          ? (data) => {
              const r = this.set(p, data);
              return r < 0 ? r : data.length;
            }
          : undefined,
      });
    }
  }
}
