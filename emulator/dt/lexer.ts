/**
 * The device-tree source scanner (parser.ts Parser is the end of its class chain: DtLexer <-
 * DtValueParser <- DtTreeBuilder <- Parser): the position (line and column count characters,
 * from 1), whitespace and comments, runs of a character class, the file:line:col errors, and
 * the text of a `&label` / `&{/path}` reference.
 */
import { DtsError, type DtRef, type SrcLoc } from './types.js';

export const LABEL_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
/* character classes of readWhile: module constants, so its per-class tables are built once */
const PATH_REF_CHARS = /[^}\s]/;
const LABEL_CHARS = /[A-Za-z0-9_]/;

export class DtLexer {
  protected pos = 0;
  protected line = 1;
  protected col = 1;
  /** position just after the last consumed token (for "missing ';'" errors) */
  protected endLine = 1;
  protected endCol = 1;

  constructor(
    protected readonly text: string,
    protected readonly file: string,
  ) {}

  // ---------------------------------------------------------------- scanning

  protected loc(): SrcLoc {
    return { file: this.file, line: this.line, col: this.col };
  }

  /** step back over `n` characters just read on this line (no newline among them) */
  protected rewind(line: number, col: number, n: number): void {
    this.pos -= n;
    this.line = line;
    this.col = col;
  }

  /** a location from saved line/column numbers (hot paths keep numbers, not objects) */
  protected at(line: number, col: number): SrcLoc {
    return { file: this.file, line, col };
  }

  protected err(loc: SrcLoc, msg: string): never {
    throw new DtsError(loc, msg);
  }

  protected eof(): boolean {
    return this.pos >= this.text.length;
  }

  protected peek(o = 0): string {
    return this.text.charAt(this.pos + o);
  }

  protected startsWith(s: string): boolean {
    return this.text.startsWith(s, this.pos);
  }

  protected advance(n = 1): void {
    const text = this.text;
    const end = Math.min(this.pos + n, text.length);
    for (let p = this.pos; p < end; p++) {
      if (text.charCodeAt(p) === 10) {
        this.line++;
        this.col = 1;
      } else {
        this.col++;
      }
    }
    this.pos = end;
    this.endLine = this.line;
    this.endCol = this.col;
  }

  /** location just after the last consumed token */
  protected get lastEnd(): SrcLoc {
    return { file: this.file, line: this.endLine, col: this.endCol };
  }

  protected set lastEnd(l: SrcLoc) {
    this.endLine = l.line;
    this.endCol = l.col;
  }

  /** skip whitespace and comments (does not move lastEnd) */
  protected skipWs(): void {
    const saveLine = this.endLine;
    const saveCol = this.endCol;
    const text = this.text;
    for (;;) {
      const c = text.charCodeAt(this.pos);
      if (c === 32 || c === 9 || c === 13 || c === 12 || c === 11) {
        this.pos++;
        this.col++;
      } else if (c === 10) {
        this.pos++;
        this.line++;
        this.col = 1;
      } else if (c === 47 /* / */ && text.charCodeAt(this.pos + 1) === 47) {
        let e = text.indexOf('\n', this.pos);
        if (e < 0) e = text.length;
        this.col += e - this.pos;
        this.pos = e;
      } else if (c === 47 && text.charCodeAt(this.pos + 1) === 42 /* * */) {
        const start = this.loc();
        const e = text.indexOf('*/', this.pos + 2);
        if (e < 0) {
          this.advance(text.length - this.pos);
          this.err(start, "unterminated comment (missing '*/')");
        }
        this.advance(e + 2 - this.pos);
      } else {
        break;
      }
    }
    this.endLine = saveLine;
    this.endCol = saveCol;
  }

  /** ASCII membership tables of the character classes readWhile is called with (module constants: a fixed set) */
  protected static readonly tables = new Map<RegExp, Uint8Array>();

  /** consume the longest run of characters of class `re` (a one-character class) */
  protected readWhile(re: RegExp): string {
    let t = DtLexer.tables.get(re);
    if (t === undefined) {
      t = new Uint8Array(128);
      for (let c = 0; c < 128; c++) t[c] = re.test(String.fromCharCode(c)) ? 1 : 0;
      DtLexer.tables.set(re, t);
    }
    const text = this.text;
    const start = this.pos;
    let p = start;
    let nl = false;
    for (; p < text.length; p++) {
      const c = text.charCodeAt(p);
      if (c < 128 ? t[c] === 0 : !re.test(text.charAt(p))) break;
      if (c === 10) nl = true;
    }
    if (p === start) return '';
    if (nl) this.advance(p - start);
    else {
      this.pos = p;
      this.col += p - start;
      this.endLine = this.line;
      this.endCol = this.col;
    }
    return text.slice(start, p);
  }

  /** a short description of what is at the current position, for messages */
  protected describeHere(): string {
    if (this.eof()) return 'end of file';
    const m = /^[A-Za-z0-9,._+?#@-]+/.exec(this.text.slice(this.pos, this.pos + 40));
    if (m) return `'${m[0]}'`;
    return `'${this.peek()}'`;
  }

  protected expectSemicolon(after: string): void {
    this.skipWs();
    if (this.peek() === ';') {
      this.advance();
      return;
    }
    this.err(this.lastEnd, `missing ';' after ${after} (found ${this.describeHere()})`);
  }

  /** parse `&label` or `&{/path}` (at '&') */
  protected parseRefText(): DtRef {
    const loc = this.loc();
    this.advance(); // '&'
    if (this.peek() === '{') {
      this.advance();
      const path = this.readWhile(PATH_REF_CHARS);
      if (this.peek() !== '}') this.err(loc, "unterminated path reference (missing '}')");
      this.advance();
      if (!path.startsWith('/')) this.err(loc, `bad path reference '&{${path}}' (a path starts with '/')`);
      return { ref: path, loc };
    }
    const name = this.readWhile(LABEL_CHARS);
    if (!LABEL_RE.test(name)) this.err(loc, `bad reference '&${name}${this.eof() ? '' : this.peek()}' (expected &label or &{/path})`);
    return { ref: name, loc };
  }
}
