/**
 * The Stan parser: a hand-written recursive-descent parser over the tokens of `lexer.ts`.
 *
 * Hand-written rather than a parser library or generator because (1) varinf takes no runtime
 * dependency for it, (2) each failure can say exactly what this point of the grammar expected and
 * what it found, at a line and column, and (3) Stan's grammar is small and almost LL(1): the only
 * look-ahead is telling a declaration from a statement (a type keyword starts a declaration) and
 * the `>` that closes `<lower=…>` (bounds are parsed above the comparison operators, as stanc does).
 *
 * Operator precedence, loosest first (Stan reference manual): `?:` (right), `||`, `&&`, `== !=`,
 * `< <= > >=`, `+ -`, `* / % %/%`, `\`, `.* ./`, unary `! - +`, `^ .^` (right), postfix `'`,
 * indexing and calls.
 */
import type { BaseType, Bounds, Decl, Expr, FunArg, FunDef, Index, LValue, Program, SizedType, Stmt, UnsizedType } from './ast.js';
import { StanSyntaxError } from './errors.js';
import { tokenize, type Token } from './lexer.js';

const BASE_TYPES = new Set<string>([
  'int', 'real', 'complex', 'vector', 'row_vector', 'matrix', 'simplex', 'unit_vector', 'sum_to_zero_vector',
  'ordered', 'positive_ordered', 'cholesky_factor_corr', 'cholesky_factor_cov', 'corr_matrix', 'cov_matrix',
  'complex_vector', 'complex_row_vector', 'complex_matrix',
]);
/** How many sizes each sized type takes (`cholesky_factor_cov` takes 1 or 2). */
const N_SIZES: Record<string, [number, number]> = {
  int: [0, 0], real: [0, 0], complex: [0, 0], vector: [1, 1], row_vector: [1, 1], matrix: [2, 2], simplex: [1, 1],
  unit_vector: [1, 1], sum_to_zero_vector: [1, 1], ordered: [1, 1], positive_ordered: [1, 1], cholesky_factor_corr: [1, 1],
  cholesky_factor_cov: [1, 2], corr_matrix: [1, 1], cov_matrix: [1, 1], complex_vector: [1, 1], complex_row_vector: [1, 1],
  complex_matrix: [2, 2],
};
const BLOCKS: [string, keyof Program][] = [
  ['functions', 'functions'],
  ['data', 'data'],
  ['transformed data', 'transformedData'],
  ['parameters', 'parameters'],
  ['transformed parameters', 'transformedParameters'],
  ['model', 'model'],
  ['generated quantities', 'generatedQuantities'],
];
const ASSIGN_OPS = new Set(['=', '+=', '-=', '*=', '/=', '.*=', './=', '<-']);

/** Binary operators by precedence level, loosest first (the ternary and unary levels are separate). */
const LEVELS: string[][] = [['||'], ['&&'], ['==', '!='], ['<', '<=', '>', '>='], ['+', '-'], ['*', '/', '%', '%/%'], ['\\'], ['.*', './']];
const ADDITIVE = 4;

function describe(t: Token): string {
  if (t.kind === 'eof') return 'end of input';
  if (t.kind === 'string') return `"${t.text}"`;
  return `'${t.text}'`;
}

class Parser {
  private pos = 0;
  constructor(private readonly toks: Token[]) {}

  private get t(): Token {
    return this.toks[this.pos];
  }
  private peek(k = 1): Token {
    return this.toks[Math.min(this.pos + k, this.toks.length - 1)];
  }
  private is(text: string): boolean {
    const t = this.t;
    return (t.kind === 'op' || t.kind === 'ident') && t.text === text;
  }
  private fail(expected: string, t: Token = this.t): never {
    throw new StanSyntaxError(t.loc, expected, describe(t));
  }
  private expect(text: string, what = `'${text}'`): Token {
    if (!this.is(text)) this.fail(what);
    return this.toks[this.pos++];
  }
  private accept(text: string): boolean {
    if (this.is(text)) {
      this.pos++;
      return true;
    }
    return false;
  }
  private ident(what = 'an identifier'): Token {
    if (this.t.kind !== 'ident') this.fail(what);
    return this.toks[this.pos++];
  }

  program(): Program {
    const prog: Program = { functions: [], data: [], transformedData: [], parameters: [], transformedParameters: [], model: [], generatedQuantities: [] };
    let next = 0;
    while (this.t.kind !== 'eof') {
      const start = this.t;
      let found = -1;
      for (let b = next; b < BLOCKS.length; b++) {
        const words = BLOCKS[b][0].split(' ');
        if (words.every((w, k) => this.peek(k).kind === 'ident' && this.peek(k).text === w) && this.peek(words.length).text === '{') {
          found = b;
          this.pos += words.length;
          break;
        }
      }
      if (found < 0) this.fail(`a program block (${BLOCKS.slice(next).map((b) => `'${b[0]}'`).join(', ')})`, start);
      next = found + 1;
      this.expect('{');
      if (BLOCKS[found][1] === 'functions') {
        while (!this.is('}')) prog.functions.push(this.funDef());
      } else {
        const body = prog[BLOCKS[found][1]] as Stmt[];
        while (!this.is('}')) {
          if (this.peek(0).kind === 'eof') this.fail(`'}' closing the ${BLOCKS[found][0]} block`);
          body.push(...this.statementOrDecls());
        }
      }
      this.expect('}');
    }
    return prog;
  }

  // ---- functions ----
  private unsizedType(allowVoid: boolean): UnsizedType {
    const loc = this.t.loc;
    const dataOnly = this.accept('data');
    let arrayRank = 0;
    if (this.is('array') && this.peek().text === '[') {
      this.pos++;
      this.expect('[');
      arrayRank = 1;
      while (this.accept(',')) arrayRank++;
      this.expect(']', "',' or ']' of an unsized array type");
    }
    const tk = this.ident('a type');
    if (!(BASE_TYPES.has(tk.text) || (allowVoid && tk.text === 'void'))) this.fail(allowVoid ? 'a return type' : 'an argument type', tk);
    // Old syntax: `real[]`, `int[,]`.
    if (this.is('[') && this.peek().text === ']' || this.is('[') && this.peek().text === ',') {
      this.pos++;
      arrayRank = 1;
      while (this.accept(',')) arrayRank++;
      this.expect(']');
    }
    return { base: tk.text as BaseType | 'void', arrayRank, dataOnly, loc };
  }

  private funDef(): FunDef {
    const loc = this.t.loc;
    const returnType = this.unsizedType(true);
    const name = this.ident('a function name').text;
    this.expect('(');
    const args: FunArg[] = [];
    if (!this.is(')')) {
      do {
        const type = this.unsizedType(false);
        args.push({ type, name: this.ident('an argument name').text });
      } while (this.accept(','));
    }
    this.expect(')', "',' or ')' closing the argument list");
    if (this.accept(';')) return { returnType, name, args, body: null, loc };
    if (!this.is('{')) this.fail("'{' starting the function body or ';'");
    return { returnType, name, args, body: this.statement(), loc };
  }

  // ---- declarations ----
  private startsDecl(): boolean {
    const t = this.t;
    if (t.kind !== 'ident') return false;
    if (t.text === 'array' && this.peek().text === '[') return true;
    if (!BASE_TYPES.has(t.text)) return false;
    // `real x`, `vector[N] x`, `real<lower=0> x` — not `real(...)`-like calls (none exist) nor assignment.
    const n = this.peek();
    return n.kind === 'ident' || n.text === '<' || n.text === '[';
  }

  private bounds(base: string): Bounds {
    const b: Bounds = {};
    if (!this.accept('<')) return b;
    do {
      const key = this.ident("'lower', 'upper', 'offset' or 'multiplier'");
      if (!['lower', 'upper', 'offset', 'multiplier'].includes(key.text)) this.fail("'lower', 'upper', 'offset' or 'multiplier'", key);
      if (b[key.text as keyof Bounds] !== undefined) this.fail(`one '${key.text}' only`, key);
      this.expect('=');
      b[key.text as keyof Bounds] = this.binary(ADDITIVE);
    } while (this.accept(','));
    this.expect('>', `',' or '>' closing the bounds of ${base}`);
    return b;
  }

  private sizes(base: string): Expr[] {
    const [lo, hi] = N_SIZES[base];
    if (hi === 0) return [];
    this.expect('[', `'[' with the size of ${base}`);
    const out = [this.expr()];
    while (this.accept(',')) out.push(this.expr());
    if (out.length < lo || out.length > hi) throw new StanSyntaxError(out[out.length - 1].loc, `${lo === hi ? lo : `${lo} or ${hi}`} size(s) for ${base}`, `${out.length}`);
    this.expect(']');
    return out;
  }

  /** A declaration statement, possibly declaring several variables: `real a, b = 2;`. */
  private decls(): Decl[] {
    const loc = this.t.loc;
    let arrayDims: Expr[] = [];
    if (this.is('array')) {
      this.pos++;
      this.expect('[');
      arrayDims = [this.expr()];
      while (this.accept(',')) arrayDims.push(this.expr());
      this.expect(']', "',' or ']' closing the array dimensions");
    }
    const bt = this.ident('a type');
    if (!BASE_TYPES.has(bt.text)) this.fail('a type', bt);
    const base = bt.text as BaseType;
    const bounds = this.bounds(base);
    const sizes = this.sizes(base);
    const out: Decl[] = [];
    do {
      const nameTok = this.ident('a variable name');
      let dims = arrayDims;
      if (this.is('[')) {
        // Old array syntax: `real y[N];`.
        if (arrayDims.length > 0) this.fail("';' (array dimensions given twice)");
        this.pos++;
        dims = [this.expr()];
        while (this.accept(',')) dims.push(this.expr());
        this.expect(']');
      }
      const init = this.accept('=') ? this.expr() : null;
      out.push({ kind: 'decl', type: { base, sizes, arrayDims: dims, bounds, loc: bt.loc } as SizedType, name: nameTok.text, init, loc: nameTok.loc });
    } while (this.accept(','));
    this.expect(';', "';' ending the declaration");
    void loc;
    return out;
  }

  private statementOrDecls(): Stmt[] {
    return this.startsDecl() ? this.decls() : [this.statement()];
  }

  // ---- statements ----
  private statement(): Stmt {
    const t = this.t;
    const loc = t.loc;
    if (t.kind === 'op') {
      if (t.text === '{') {
        this.pos++;
        const body: Stmt[] = [];
        while (!this.is('}')) {
          if (this.t.kind === 'eof') this.fail("'}' closing the block");
          body.push(...this.statementOrDecls());
        }
        this.pos++;
        return { kind: 'block', body, loc };
      }
      if (t.text === ';') {
        this.pos++;
        return { kind: 'empty', loc };
      }
    }
    if (t.kind === 'ident') {
      switch (t.text) {
        case 'for': {
          this.pos++;
          this.expect('(');
          const v = this.ident('a loop variable').text;
          this.expect('in');
          const lo = this.expr();
          if (this.accept(':')) {
            const hi = this.expr();
            this.expect(')');
            return { kind: 'for', var: v, lo, hi, body: this.statement(), loc };
          }
          this.expect(')', "':' or ')'");
          return { kind: 'foreach', var: v, iter: lo, body: this.statement(), loc };
        }
        case 'while': {
          this.pos++;
          this.expect('(');
          const cond = this.expr();
          this.expect(')');
          return { kind: 'while', cond, body: this.statement(), loc };
        }
        case 'if': {
          this.pos++;
          this.expect('(');
          const cond = this.expr();
          this.expect(')');
          const then = this.statement();
          const els = this.accept('else') ? this.statement() : null;
          return { kind: 'if', cond, then, else: els, loc };
        }
        case 'break':
        case 'continue':
          this.pos++;
          this.expect(';');
          return { kind: t.text, loc };
        case 'return': {
          this.pos++;
          if (this.accept(';')) return { kind: 'return', expr: null, loc };
          const e = this.expr();
          this.expect(';');
          return { kind: 'return', expr: e, loc };
        }
        case 'print':
        case 'reject':
        case 'fatal_error': {
          if (this.peek().text !== '(') break;
          this.pos += 2;
          const args: Expr[] = [];
          if (!this.is(')')) {
            do args.push(this.printable());
            while (this.accept(','));
          }
          this.expect(')');
          this.expect(';');
          return t.text === 'print' ? { kind: 'print', args, loc } : { kind: 'reject', args, fatal: t.text === 'fatal_error', loc };
        }
        case 'profile': {
          if (this.peek().text !== '(') break;
          this.pos += 2;
          if (this.t.kind !== 'string') this.fail('a profile name (a string)');
          const name = this.t.text;
          this.pos++;
          this.expect(')');
          const b = this.statement();
          if (b.kind !== 'block') this.fail("'{' after profile(...)");
          return { kind: 'profile', name, body: b.body, loc };
        }
        case 'target':
          if (this.peek().text === '+=') {
            this.pos += 2;
            const e = this.expr();
            this.expect(';', "';' ending the target += statement");
            return { kind: 'target', expr: e, loc };
          }
          break;
        case 'increment_log_prob':
          this.fail("a statement ('increment_log_prob' was removed from Stan; write target += ...)");
      }
    }
    // Assignment, sampling, or a function-call statement: parse an expression, then look.
    const e = this.expr();
    if (this.is('~')) {
      this.pos++;
      const dist = this.ident('a distribution name');
      this.expect('(');
      const args: Expr[] = [];
      if (!this.is(')')) {
        do args.push(this.expr());
        while (this.accept(','));
      }
      this.expect(')', "',' or ')' closing the distribution's arguments");
      let truncation: { lo: Expr | null; hi: Expr | null } | null = null;
      if (this.is('T') && this.peek().text === '[') {
        this.pos += 2;
        const lo = this.is(',') ? null : this.expr();
        this.expect(',', "',' in the truncation T[lo, hi]");
        const hi = this.is(']') ? null : this.expr();
        this.expect(']');
        truncation = { lo, hi };
      }
      this.expect(';', "';' ending the ~ statement");
      return { kind: 'tilde', lhs: e, dist: dist.text, distLoc: dist.loc, args, truncation, loc };
    }
    if (this.t.kind === 'op' && ASSIGN_OPS.has(this.t.text)) {
      const opTok = this.t;
      this.pos++;
      const lhs = this.lvalue(e);
      const rhs = this.expr();
      this.expect(';', "';' ending the assignment");
      return { kind: 'assign', lhs, op: opTok.text === '<-' ? '=' : opTok.text, rhs, loc };
    }
    if (e.kind === 'call' && !e.conditional) {
      this.expect(';', "';' ending the function call");
      return { kind: 'callstmt', name: e.name, args: e.args, loc };
    }
    return this.fail("'=', '~', '+=' or another assignment operator after the expression");
  }

  private lvalue(e: Expr): LValue {
    const groups: Index[][] = [];
    let cur = e;
    while (cur.kind === 'index') {
      groups.unshift(cur.indices);
      cur = cur.target;
    }
    if (cur.kind !== 'var') throw new StanSyntaxError(e.loc, 'a variable (possibly indexed) on the left of an assignment', 'an expression');
    return { name: cur.name, indices: groups, loc: cur.loc };
  }

  private printable(): Expr {
    if (this.t.kind === 'string') {
      const t = this.t;
      this.pos++;
      return { kind: 'string', value: t.text, loc: t.loc };
    }
    return this.expr();
  }

  // ---- expressions ----
  expr(): Expr {
    const cond = this.binary(0);
    if (this.is('?')) {
      this.pos++;
      const a = this.expr();
      this.expect(':', "':' of the conditional operator");
      const b = this.expr();
      return { kind: 'ternary', cond, then: a, else: b, loc: cond.loc };
    }
    return cond;
  }

  private binary(level: number): Expr {
    if (level === LEVELS.length) return this.unary();
    let left = this.binary(level + 1);
    while (this.t.kind === 'op' && LEVELS[level].includes(this.t.text)) {
      const op = this.t;
      this.pos++;
      const right = this.binary(level + 1);
      left = { kind: 'binary', op: op.text, left, right, loc: op.loc };
    }
    return left;
  }

  private unary(): Expr {
    const t = this.t;
    if (t.kind === 'op' && (t.text === '-' || t.text === '!' || t.text === '+')) {
      this.pos++;
      const operand = this.unary();
      return t.text === '+' ? operand : { kind: 'unary', op: t.text, operand, loc: t.loc };
    }
    return this.power();
  }

  private power(): Expr {
    const base = this.postfix();
    if (this.is('^') || this.is('.^')) {
      const op = this.t;
      this.pos++;
      // Right-associative, and the exponent may carry a unary minus: 2^-1.
      const exp = this.unary();
      return { kind: 'binary', op: op.text, left: base, right: exp, loc: op.loc };
    }
    return base;
  }

  private postfix(): Expr {
    let e = this.primary();
    for (;;) {
      if (this.is('[')) {
        const loc = this.t.loc;
        this.pos++;
        const indices: Index[] = [];
        do indices.push(this.index());
        while (this.accept(','));
        this.expect(']', "',' or ']' closing the index");
        e = { kind: 'index', target: e, indices, loc };
      } else if (this.is("'")) {
        this.pos++;
        e = { kind: 'transpose', operand: e, loc: e.loc };
      } else return e;
    }
  }

  private index(): Index {
    if (this.is(',') || this.is(']')) return { kind: 'all' };
    if (this.is(':')) {
      this.pos++;
      if (this.is(',') || this.is(']')) return { kind: 'all' };
      return { kind: 'slice', lo: null, hi: this.expr() };
    }
    const lo = this.binary(0);
    if (this.accept(':')) {
      if (this.is(',') || this.is(']')) return { kind: 'slice', lo, hi: null };
      return { kind: 'slice', lo, hi: this.expr() };
    }
    // A ternary inside an index: i > 1 ? a : b.
    if (this.is('?')) {
      this.pos++;
      const a = this.expr();
      this.expect(':');
      const b = this.expr();
      return { kind: 'single', expr: { kind: 'ternary', cond: lo, then: a, else: b, loc: lo.loc } };
    }
    return { kind: 'single', expr: lo };
  }

  private primary(): Expr {
    const t = this.t;
    const loc = t.loc;
    if (t.kind === 'int') {
      this.pos++;
      return { kind: 'int', value: Number(t.text), loc };
    }
    if (t.kind === 'real') {
      this.pos++;
      return { kind: 'real', value: Number(t.text), loc };
    }
    if (t.kind === 'ident') {
      this.pos++;
      if (this.is('(')) {
        this.pos++;
        const args: Expr[] = [];
        let conditional = false;
        if (!this.is(')')) {
          args.push(this.expr());
          if (this.accept('|')) {
            conditional = true;
            if (!this.is(')')) args.push(this.expr());
            else return this.closeCall(t, args, conditional);
          }
          while (this.accept(',')) args.push(this.expr());
        }
        return this.closeCall(t, args, conditional);
      }
      return { kind: 'var', name: t.text, loc };
    }
    if (t.kind === 'op') {
      if (t.text === '(') {
        this.pos++;
        const e = this.expr();
        this.expect(')');
        return e;
      }
      if (t.text === '{' || t.text === '[') {
        this.pos++;
        const close = t.text === '{' ? '}' : ']';
        const elements: Expr[] = [];
        if (!this.is(close)) {
          do elements.push(this.expr());
          while (this.accept(','));
        }
        this.expect(close, `',' or '${close}'`);
        return { kind: t.text === '{' ? 'array' : 'rowvec', elements, loc };
      }
    }
    return this.fail('an expression');
  }

  private closeCall(name: Token, args: Expr[], conditional: boolean): Expr {
    this.expect(')', "',' or ')' closing the call");
    return { kind: 'call', name: name.text, args, conditional, loc: name.loc };
  }
}

/**
 * Parses a Stan program into its syntax tree.
 * @throws StanSyntaxError with the line:col, what was expected, and the text found.
 * @example
 * const prog = parseStan('parameters { real mu; } model { mu ~ normal(0, 1); }');
 * prog.parameters[0] // { kind: 'decl', name: 'mu', ... }
 */
export function parseStan(src: string): Program {
  return new Parser(tokenize(src)).program();
}
