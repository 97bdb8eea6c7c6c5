/**
 * A small, strict command-line option parser: unknown options, missing values and
 * malformed numbers are usage errors (exit 2), never silently ignored.
 */
export class UsageError extends Error {}

export type OptType = 'string' | 'int' | 'bool';

export interface OptSpec {
  type: OptType;
  /** allowed values for strings */
  choices?: readonly string[];
  /** may be given more than once (values collected) */
  multi?: boolean;
  min?: number;
  max?: number;
  help?: string;
  metavar?: string;
}

export interface Parsed {
  positionals: string[];
  opts: Record<string, string | number | boolean | string[] | undefined>;
}

/** Parse `--name value`, `--name=value`, `--flag`, and `--` (rest positional). */
export function parseArgs(argv: readonly string[], spec: Record<string, OptSpec>): Parsed {
  const positionals: string[] = [];
  const opts: Parsed['opts'] = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith('--') || a === '--') {
      if (a.startsWith('-') && a.length > 1 && !/^-\d/.test(a)) throw new UsageError(`unknown option '${a}'`);
      positionals.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
    const s = spec[name];
    if (!s) throw new UsageError(`unknown option '--${name}'`);
    let raw: string | undefined;
    if (s.type === 'bool') {
      if (eq >= 0) throw new UsageError(`option '--${name}' takes no value`);
      opts[name] = true;
      continue;
    }
    if (eq >= 0) raw = a.slice(eq + 1);
    else {
      raw = argv[i + 1];
      if (raw === undefined || (raw.startsWith('--') && raw.length > 2)) throw new UsageError(`option '--${name}' needs a value`);
      i++;
    }
    let v: string | number;
    if (s.type === 'int') {
      const n = parseIntStrict(raw);
      if (n === null) throw new UsageError(`option '--${name}' needs a whole number, got '${raw}'`);
      if (s.min !== undefined && n < s.min) throw new UsageError(`option '--${name}' must be at least ${s.min}, got ${n}`);
      if (s.max !== undefined && n > s.max) throw new UsageError(`option '--${name}' must be at most ${s.max}, got ${n}`);
      v = n;
    } else {
      if (s.choices && !s.choices.includes(raw)) {
        throw new UsageError(`option '--${name}' must be one of ${s.choices.join(', ')}; got '${raw}'`);
      }
      v = raw;
    }
    if (s.multi) {
      const prev = (opts[name] as string[] | undefined) ?? [];
      prev.push(String(v));
      opts[name] = prev;
    } else {
      opts[name] = v;
    }
  }
  return { positionals, opts };
}

/** decimal, 0x hex, with optional k/K/M/G (binary: 1024, 1024^2, 1024^3) suffix, optionally followed by i/B (KiB, MB); null when malformed */
export function parseIntStrict(s: string): number | null {
  const m = /^(0x[0-9a-fA-F]+|\d+)([kKMG]i?B?)?$/.exec(s.trim());
  if (!m) return null;
  let n = Number(m[1]);
  const suf = m[2]?.[0];
  if (suf === 'K' || suf === 'k') n *= 1024;
  else if (suf === 'M') n *= 1024 * 1024;
  else if (suf === 'G') n *= 1024 * 1024 * 1024;
  return Number.isSafeInteger(n) ? n : null;
}

export function formatOptions(spec: Record<string, OptSpec>): string {
  const rows = Object.entries(spec).map(([k, s]) => {
    const left = `  --${k}${s.type === 'bool' ? '' : ` ${s.metavar ?? (s.type === 'int' ? 'N' : 'VALUE')}`}`;
    return `${left.padEnd(30)} ${s.help ?? ''}${s.choices ? ` (${s.choices.join('|')})` : ''}`;
  });
  return rows.join('\n');
}
