/**
 * Property values of the device-tree source (parser.ts Parser; the class chain in lexer.ts):
 * `<cells>` (with `/bits/ N`), strings with C escapes, `[bytes]`, `&label` path references,
 * and the cell expressions (C integer expressions on unsigned 64-bit values).
 */
import type { DtChunk, DtRef, SrcLoc } from './types.js';
import { DtLexer } from './lexer.js';

const NUM_CHARS = /[A-Za-z0-9_]/;
/* character classes of readWhile: module constants, so its per-class tables are built once */
const CELL_WORD_CHARS = /[^\s<>;,]/;
const EXPR_WORD_CHARS = /[^\s<>;,()]/;
const BYTE_WORD_CHARS = /[^\s\]]/;

const U64_MASK = (1n << 64n) - 1n;

/** Deepest nesting of parentheses / unary operators / `?:` in a cell expression. */
export const MAX_EXPR_DEPTH = 256;

export class DtValueParser extends DtLexer {
  /** current nesting of cell expressions (bounded by MAX_EXPR_DEPTH) */
  protected exprDepth = 0;

  // ---------------------------------------------------------------- values

  protected parseValue(prop: string): DtChunk[] {
    const chunks: DtChunk[] = [];
    for (;;) {
      this.skipWs();
      const hereLine = this.line;
      const hereCol = this.col;
      const c = this.peek();
      if (c === '<') {
        chunks.push(this.parseCells(32));
      } else if (this.startsWith('/bits/')) {
        this.advance('/bits/'.length);
        this.skipWs();
        const bloc = this.loc();
        const w = this.readWhile(NUM_CHARS);
        const bits = Number(w);
        if (bits !== 8 && bits !== 16 && bits !== 32 && bits !== 64) this.err(bloc, `bad /bits/ size '${w}' (expected 8, 16, 32 or 64)`);
        this.skipWs();
        if (this.peek() !== '<') this.err(this.loc(), `expected '<' after /bits/ ${bits} (found ${this.describeHere()})`);
        chunks.push(this.parseCells(bits));
      } else if (c === '"') {
        chunks.push({ kind: 'string', value: this.parseString() });
      } else if (c === '[') {
        chunks.push(this.parseBytes());
      } else if (c === '&') {
        chunks.push({ kind: 'ref', ref: this.parseRefText() });
      } else {
        this.err(this.at(hereLine, hereCol), `unexpected ${this.describeHere()} in the value of property '${prop}' (expected <cells>, "string", [bytes] or &label)`);
      }
      this.skipWs();
      if (this.peek() === ',') {
        this.advance();
        continue;
      }
      return chunks.length === 1 ? [chunks[0]!] : chunks.slice();
    }
  }

  protected parseCells(bits: 8 | 16 | 32 | 64): DtChunk {
    const openLine = this.line;
    const openCol = this.col;
    this.advance(); // '<'
    const cells: (number | bigint | DtRef)[] = [];
    for (;;) {
      this.skipWs();
      if (this.eof()) this.err(this.at(openLine, openCol), "unterminated cell list (missing '>')");
      const c = this.peek();
      if (c === '>') {
        this.advance();
        return { kind: 'cells', bits, cells: cells.slice() };
      }
      const hereLine = this.line;
      const hereCol = this.col;
      if (c === '&') {
        if (bits !== 32) this.err(this.at(hereLine, hereCol), `phandle references are only allowed in 32-bit cells (this list is /bits/ ${bits})`);
        cells.push(this.parseRefText());
        continue;
      }
      const cc = c.charCodeAt(0);
      if (bits === 32 && cc >= 48 && cc <= 57) {
        // fast path: a plain decimal or hex literal that fits in 32 bits (no BigInt)
        const w = this.readWhile(NUM_CHARS);
        const v = /^(?:0[xX][0-9a-fA-F]{1,8}|[1-9][0-9]{0,9}|0)$/.test(w) ? Number(w) : -1;
        if (v >= 0 && v <= 0xffff_ffff) {
          cells.push(v);
          continue;
        }
        // anything else (octal, suffixes, too large, malformed): the general path
        this.rewind(hereLine, hereCol, w.length);
      }
      if (c === '(' || c === "'" || (cc >= 48 && cc <= 57)) {
        const v = this.parseIntegerPrim();
        cells.push(this.fitCell(v, bits, hereLine, hereCol));
        continue;
      }
      let w = this.readWhile(CELL_WORD_CHARS);
      if (w === '') w = c;
      this.err(this.at(hereLine, hereCol), `bad cell '${w}' (expected a number, a 'c' character, &label or a parenthesised expression)`);
    }
  }

  protected fitCell(v: bigint, bits: number, line: number, col: number): number | bigint {
    if (bits < 64) {
      const mask = (1n << BigInt(bits)) - 1n;
      // like dtc: values that are sign-extended negatives of the cell width are accepted
      if (v > mask && (v | mask) !== U64_MASK) this.err(this.at(line, col), `cell value 0x${v.toString(16)} does not fit in ${bits} bits`);
      return Number(v & mask);
    }
    return v & U64_MASK;
  }

  /** a number literal, a char literal or '(' expression ')' -> unsigned 64-bit value */
  protected parseIntegerPrim(): bigint {
    const hereLine = this.line;
    const hereCol = this.col;
    const c = this.peek();
    if (c === '(') {
      this.advance();
      const v = this.parseExpr();
      this.skipWs();
      if (this.peek() !== ')') this.err(this.loc(), `expected ')' in expression (found ${this.describeHere()})`);
      this.advance();
      return v;
    }
    if (c === "'") return this.parseCharLiteral();
    if (/[0-9]/.test(c)) {
      const w = this.readWhile(NUM_CHARS);
      const m = /^(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)(?:[uU]?[lL]{0,2}|[lL]{1,2}[uU])$/.exec(w);
      if (!m) this.err(this.at(hereLine, hereCol), `bad cell '${w}' (not a valid number)`);
      const digits = m[1]!;
      let v: bigint;
      if (/^0[xX]/.test(digits)) v = BigInt(digits);
      else if (digits.length > 1 && digits.startsWith('0')) v = BigInt('0o' + digits.slice(1));
      else v = BigInt(digits);
      if (v > U64_MASK) this.err(this.at(hereLine, hereCol), `number '${w}' does not fit in 64 bits`);
      return v;
    }
    let w = this.readWhile(EXPR_WORD_CHARS);
    if (w === '') w = this.eof() ? 'end of file' : c;
    this.err(this.at(hereLine, hereCol), `bad cell '${w}' (expected a number, a 'c' character or a parenthesised expression)`);
  }

  protected parseCharLiteral(): bigint {
    const open = this.loc();
    this.advance(); // '
    if (this.eof() || this.peek() === '\n' || this.peek() === "'") this.err(open, 'bad character literal');
    const code = this.peek() === '\\' ? this.parseEscape(open) : this.takeChar();
    if (this.peek() !== "'") this.err(open, "unterminated character literal (missing ')");
    this.advance();
    return BigInt(code);
  }

  protected takeChar(): number {
    const cp = this.text.codePointAt(this.pos)!;
    this.advance(cp > 0xffff ? 2 : 1);
    return cp;
  }

  /** at '\\': returns the code of the escaped character */
  protected parseEscape(strLoc: SrcLoc): number {
    this.advance(); // backslash
    if (this.eof()) this.err(strLoc, 'unterminated string');
    const c = this.peek();
    const simple: Record<string, number> = { n: 10, t: 9, r: 13, a: 7, b: 8, v: 11, f: 12, '\\': 92, '"': 34, "'": 39 };
    if (c in simple) {
      this.advance();
      return simple[c]!;
    }
    if (c === 'x') {
      this.advance();
      const h = this.readHex(2);
      if (h === '') this.err(this.loc(), "bad escape '\\x' (expected hex digits)");
      return parseInt(h, 16);
    }
    if (/[0-7]/.test(c)) {
      let o = '';
      while (o.length < 3 && /[0-7]/.test(this.peek())) {
        o += this.peek();
        this.advance();
      }
      return parseInt(o, 8) & 0xff;
    }
    if (c === '\n') this.err(strLoc, 'unterminated string');
    // unknown escape: the character itself (as dtc does)
    return this.takeChar();
  }

  protected readHex(max: number): string {
    let s = '';
    while (s.length < max && /[0-9a-fA-F]/.test(this.peek())) {
      s += this.peek();
      this.advance();
    }
    return s;
  }

  protected parseString(): string {
    const open = this.loc();
    this.advance(); // "
    let s = '';
    for (;;) {
      if (this.eof() || this.peek() === '\n') this.err(open, 'unterminated string (missing closing \'"\' on this line)');
      const c = this.peek();
      if (c === '"') {
        this.advance();
        return s;
      }
      if (c === '\\') s += String.fromCodePoint(this.parseEscape(open));
      else s += String.fromCodePoint(this.takeChar());
    }
  }

  protected parseBytes(): DtChunk {
    const open = this.loc();
    this.advance(); // [
    const out: number[] = [];
    for (;;) {
      this.skipWs();
      if (this.eof()) this.err(open, "unterminated byte string (missing ']')");
      if (this.peek() === ']') {
        this.advance();
        return { kind: 'bytes', bytes: Uint8Array.from(out) };
      }
      const here = this.loc();
      const w = this.readWhile(BYTE_WORD_CHARS);
      if (!/^(?:[0-9a-fA-F]{2})+$/.test(w)) this.err(here, `bad byte '${w}' in byte string (expected pairs of hex digits)`);
      for (let i = 0; i < w.length; i += 2) out.push(parseInt(w.slice(i, i + 2), 16));
    }
  }

  // ---------------------------------------------------------------- expressions

  /** binary operators by precedence (higher binds tighter) */
  protected static readonly BINOPS: [string, number][] = [
    ['||', 1], ['&&', 2], ['|', 3], ['^', 4], ['&', 5],
    ['==', 6], ['!=', 6], ['<=', 7], ['>=', 7], ['<<', 8], ['>>', 8], ['<', 7], ['>', 7],
    ['+', 9], ['-', 9], ['*', 10], ['/', 10], ['%', 10],
  ];

  protected peekBinop(): [string, number] | null {
    for (const op of DtValueParser.BINOPS) {
      if (this.startsWith(op[0])) {
        // '|' must not match '||', '&' not '&&', '<' not '<<' / '<='
        if ((op[0] === '|' || op[0] === '&') && this.peek(1) === op[0]) continue;
        return op;
      }
    }
    return null;
  }

  /** count one level of expression nesting; beyond MAX_EXPR_DEPTH a one-line error */
  protected enterExpr(): void {
    if (++this.exprDepth > MAX_EXPR_DEPTH) this.err(this.loc(), `expression nested more than ${MAX_EXPR_DEPTH} levels deep`);
  }

  /** conditional expression (lowest precedence, right associative) */
  protected parseExpr(): bigint {
    this.enterExpr();
    const v = this.parseCondExpr();
    this.exprDepth--;
    return v;
  }

  protected parseCondExpr(): bigint {
    const cond = this.parseBinary(1);
    this.skipWs();
    if (this.peek() !== '?') return cond;
    const qloc = this.loc();
    this.advance();
    const a = this.parseExpr();
    this.skipWs();
    if (this.peek() !== ':') this.err(qloc, "expected ':' in conditional expression");
    this.advance();
    const b = this.parseExpr();
    return cond !== 0n ? a : b;
  }

  /** precedence climbing over left-associative binary operators with precedence >= minPrec */
  protected parseBinary(minPrec: number): bigint {
    let lhs = this.parseUnary();
    for (;;) {
      this.skipWs();
      const op = this.peekBinop();
      if (op === null || op[1] < minPrec) return lhs;
      const oloc = this.loc();
      this.advance(op[0].length);
      const rhs = this.parseBinary(op[1] + 1);
      lhs = this.applyBinop(op[0], lhs, rhs, oloc);
    }
  }

  protected applyBinop(op: string, a: bigint, b: bigint, loc: SrcLoc): bigint {
    let r: bigint;
    switch (op) {
      case '+': r = a + b; break;
      case '-': r = a - b; break;
      case '*': r = a * b; break;
      case '/': if (b === 0n) this.err(loc, 'division by zero in expression'); r = a / b; break;
      case '%': if (b === 0n) this.err(loc, 'division by zero in expression'); r = a % b; break;
      case '<<': r = b >= 64n ? 0n : a << b; break;
      case '>>': r = b >= 64n ? 0n : a >> b; break;
      case '&': r = a & b; break;
      case '|': r = a | b; break;
      case '^': r = a ^ b; break;
      case '&&': r = a !== 0n && b !== 0n ? 1n : 0n; break;
      case '||': r = a !== 0n || b !== 0n ? 1n : 0n; break;
      case '==': r = a === b ? 1n : 0n; break;
      case '!=': r = a !== b ? 1n : 0n; break;
      // values are unsigned 64-bit (dtc's literals are unsigned long long): unsigned compare
      case '<': r = a < b ? 1n : 0n; break;
      case '>': r = a > b ? 1n : 0n; break;
      case '<=': r = a <= b ? 1n : 0n; break;
      case '>=': r = a >= b ? 1n : 0n; break;
      default: this.err(loc, `unknown operator '${op}'`);
    }
    return r & U64_MASK;
  }

  protected parseUnary(): bigint {
    this.enterExpr();
    const v = this.parseUnaryInner();
    this.exprDepth--;
    return v;
  }

  protected parseUnaryInner(): bigint {
    this.skipWs();
    const c = this.peek();
    if (c === '-') {
      this.advance();
      return -this.parseUnary() & U64_MASK;
    }
    if (c === '~') {
      this.advance();
      return ~this.parseUnary() & U64_MASK;
    }
    if (c === '!') {
      this.advance();
      return this.parseUnary() === 0n ? 1n : 0n;
    }
    if (c === '+') {
      this.advance();
      return this.parseUnary();
    }
    return this.parseIntegerPrim();
  }
}
