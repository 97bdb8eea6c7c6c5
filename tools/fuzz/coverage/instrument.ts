/**
 * Branch-coverage instrumenter of the coverage build (`npm run build:cov`, tools/build.mjs
 * --coverage): a pure source-to-source pass run at BUILD time from an esbuild onLoad plugin
 * over kernel-model/** and devices/**. It parses a TypeScript file with the TypeScript
 * compiler API (a devDependency, never in a bundle) and inserts one counter increment per
 * branch arm; the output is still TypeScript, which esbuild then compiles as usual.
 *
 * Arms counted (kind):
 *   if / else       the then and the else statement of an `if` (a missing else counts as an
 *                   arm too: `else { counter++ }` is added); `else if` is counted by the inner if
 *   ?: then/else    both operands of a conditional expression
 *   && || ??        the right operand (evaluated = the short-circuit was not taken)
 *   case / default  each clause of a switch (entered by a match or by fall-through)
 *   loop            the body of for / for-in / for-of / while / do (counted per iteration)
 *   catch           a catch block
 *
 * Counters only: the increment is `C[k]++` on a Uint32Array view (the file's slice of one
 * shared array); no clock, no allocation, no call. Site k's (line, column, kind) is returned
 * in `sites`, in source order, so the table is a function of the source text alone.
 */
import ts from 'typescript';

export const SITE_KINDS = ['if', 'else', 'cond-then', 'cond-else', 'and', 'or', 'nullish', 'case', 'default', 'loop', 'catch'] as const;
export type SiteKind = (typeof SITE_KINDS)[number];

export interface Site {
  /** 1-based line and column of the arm's first character */
  line: number;
  col: number;
  kind: SiteKind;
}

export interface Instrumented {
  code: string;
  sites: Site[];
}

interface Edit {
  pos: number;
  text: string;
  /** 0: a closing text (inner closes first), 1: an opening text (outer opens first) */
  open: boolean;
  seq: number;
}

/**
 * Instrument one TypeScript source. `counter` is the name of the Uint32Array the code
 * increments (declared by the caller's prologue, see coverageModule in build.mjs).
 */
export function instrumentSource(source: string, fileName: string, counter = '__vaeC'): Instrumented {
  const sf = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, true, fileName.endsWith('x') ? ts.ScriptKind.TSX : ts.ScriptKind.TS);
  const sites: Site[] = [];
  const edits: Edit[] = [];
  let seq = 0;
  const site = (node: ts.Node, kind: SiteKind): number => {
    const { line, character } = sf.getLineAndCharacterOfPosition(node.getStart(sf));
    sites.push({ line: line + 1, col: character + 1, kind });
    return sites.length - 1;
  };
  const inc = (k: number): string => `${counter}[${k}]++`;
  const insert = (pos: number, text: string, open: boolean): void => {
    edits.push({ pos, text, open, seq: seq++ });
  };
  /** `{ C[k]++; <stmt> }` around a statement */
  const wrapStatement = (s: ts.Statement, kind: SiteKind): void => {
    const k = site(s, kind);
    if (ts.isBlock(s)) {
      insert(s.getStart(sf) + 1, `${inc(k)};`, true);
    } else {
      insert(s.getStart(sf), `{${inc(k)};`, true);
      insert(s.getEnd(), '\n}', false);
    }
  };
  /** `(C[k]++, <expr>)` around an expression */
  const wrapExpression = (e: ts.Expression, kind: SiteKind): void => {
    const k = site(e, kind);
    insert(e.getStart(sf), `(${inc(k)}, `, true);
    insert(e.getEnd(), ')', false);
  };

  const visit = (node: ts.Node): void => {
    if (ts.isIfStatement(node)) {
      if (node.elseStatement === undefined) {
        // the implicit else arm: a site at the `if` keyword, counted when the test is false;
        // inserted before the then-arm's closing brace is (same position: applied after it)
        const k = site(node, 'else');
        insert(node.getEnd(), ` else {${inc(k)};}`, false);
        wrapStatement(node.thenStatement, 'if');
      } else {
        wrapStatement(node.thenStatement, 'if');
        if (!ts.isIfStatement(node.elseStatement)) wrapStatement(node.elseStatement, 'else');
      }
    } else if (ts.isConditionalExpression(node)) {
      wrapExpression(node.whenTrue, 'cond-then');
      wrapExpression(node.whenFalse, 'cond-else');
    } else if (ts.isBinaryExpression(node)) {
      const op = node.operatorToken.kind;
      if (op === ts.SyntaxKind.AmpersandAmpersandToken) wrapExpression(node.right, 'and');
      else if (op === ts.SyntaxKind.BarBarToken) wrapExpression(node.right, 'or');
      else if (op === ts.SyntaxKind.QuestionQuestionToken) wrapExpression(node.right, 'nullish');
    } else if (ts.isCaseClause(node) || ts.isDefaultClause(node)) {
      const k = site(node, ts.isCaseClause(node) ? 'case' : 'default');
      // right after the clause's colon: before its first statement, or at its end when empty
      const first = node.statements[0];
      insert(first ? first.getStart(sf) : node.getEnd(), `${inc(k)};`, true);
    } else if (ts.isForStatement(node) || ts.isForInStatement(node) || ts.isForOfStatement(node) || ts.isWhileStatement(node) || ts.isDoStatement(node)) {
      wrapStatement(node.statement, 'loop');
    } else if (ts.isCatchClause(node)) {
      const k = site(node.block, 'catch');
      insert(node.block.getStart(sf) + 1, `${inc(k)};`, true);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);

  // apply: by position; at one position closing texts before opening ones, inner closes
  // first (later visited) and outer opens first (earlier visited)
  edits.sort((a, b) => a.pos - b.pos || Number(a.open) - Number(b.open) || (a.open ? a.seq - b.seq : b.seq - a.seq));
  let out = '';
  let at = 0;
  for (const e of edits) {
    out += source.slice(at, e.pos) + e.text;
    at = e.pos;
  }
  out += source.slice(at);
  return { code: out, sites };
}

/** Sites flattened as [line, col, kindIndex, ...] (the table the coverage build embeds). */
export function flattenSites(sites: readonly Site[]): number[] {
  const out: number[] = [];
  for (const s of sites) out.push(s.line, s.col, SITE_KINDS.indexOf(s.kind));
  return out;
}
