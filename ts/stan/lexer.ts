/**
 * The Stan lexer: program text → tokens with 1-based line and column. Comments (`//`, `#`,
 * `/* … *\/`) and whitespace are skipped; `#include` is not supported (a posteriordb program is
 * one file).
 */
import { StanSyntaxError, type Loc } from './errors.js';

export type TokKind = 'ident' | 'int' | 'real' | 'string' | 'op' | 'eof';

export interface Token {
  readonly kind: TokKind;
  readonly text: string;
  readonly loc: Loc;
}

// Longest first, so `.*=` wins over `.*` and `.`.
const OPS = [
  '.*=', './=', '%/%',
  '<-', '+=', '-=', '*=', '/=', '.*', './', '.^', '==', '!=', '<=', '>=', '&&', '||',
  '+', '-', '*', '/', '%', '\\', '^', "'", '!', '<', '>', '=', '~', '?', ':', ',', ';', '|',
  '(', ')', '[', ']', '{', '}',
];

/**
 * Splits Stan source into tokens; the last is `eof`.
 * @example tokenize('real x;').map((t) => t.text) // ['real', 'x', ';', '']
 */
export function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  const loc = (): Loc => ({ line, col: i - lineStart + 1 });
  const n = src.length;
  while (i < n) {
    const c = src[i];
    if (c === '\n') {
      i++;
      line++;
      lineStart = i;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r') {
      i++;
      continue;
    }
    if ((c === '/' && src[i + 1] === '/') || c === '#') {
      if (c === '#' && src.startsWith('#include', i)) throw new StanSyntaxError(loc(), 'a statement (#include is not supported)', '#include');
      while (i < n && src[i] !== '\n') i++;
      continue;
    }
    if (c === '/' && src[i + 1] === '*') {
      const start = loc();
      i += 2;
      while (i < n && !(src[i] === '*' && src[i + 1] === '/')) {
        if (src[i] === '\n') {
          line++;
          lineStart = i + 1;
        }
        i++;
      }
      if (i >= n) throw new StanSyntaxError(start, "'*/' closing the comment", 'end of input');
      i += 2;
      continue;
    }
    const start = loc();
    if (/[A-Za-z]/.test(c)) {
      let j = i + 1;
      while (j < n && /[A-Za-z0-9_]/.test(src[j])) j++;
      out.push({ kind: 'ident', text: src.slice(i, j), loc: start });
      i = j;
      continue;
    }
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(src[i + 1] ?? ''))) {
      const m = /^(?:[0-9]+(?:_[0-9]+)*)?(\.[0-9]*)?([eE][+-]?[0-9]+)?/.exec(src.slice(i, i + 64));
      let text = m === null ? c : m[0];
      if (text === '') text = c;
      const isReal = text.includes('.') || /[eE]/.test(text);
      if (src[i + text.length] === 'i') throw new StanSyntaxError(start, 'a real or integer literal (complex literals are not supported)', `${text}i`);
      out.push({ kind: isReal ? 'real' : 'int', text: text.replace(/_/g, ''), loc: start });
      i += text.length;
      continue;
    }
    if (c === '"') {
      let j = i + 1;
      while (j < n && src[j] !== '"' && src[j] !== '\n') j++;
      if (src[j] !== '"') throw new StanSyntaxError(start, 'a closing \'"\'', 'end of line');
      out.push({ kind: 'string', text: src.slice(i + 1, j), loc: start });
      i = j + 1;
      continue;
    }
    const op = OPS.find((o) => src.startsWith(o, i));
    if (op === undefined) throw new StanSyntaxError(start, 'a token', JSON.stringify(c));
    out.push({ kind: 'op', text: op, loc: start });
    i += op.length;
  }
  out.push({ kind: 'eof', text: '', loc: loc() });
  return out;
}
