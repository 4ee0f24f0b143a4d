/**
 * The Stan interpreter: runs the statements of a program over interpreter values (`values.ts`),
 * accumulating `target`. Variables live in slots; a container assigned element by element (the
 * usual `for (n in 1:N) mu[n] = ...;`) keeps its elements as cells and is stacked into one tensor
 * only when read whole, so a loop costs one graph node per element rather than a copy per write.
 */
import type { Tensor } from '../core/tensor.js';
import { full, tensor } from '../ops/creation.js';
import { add, exp, log, log1p, maximum, neg, sub } from '../ops/elementwise.js';
import { broadcastTo, reshape, slice, gather, stack } from '../ops/shape.js';
import type { Decl, Expr, FunDef, Index, Stmt, BaseType } from './ast.js';
import { hasDistribution, lpdf } from './distributions.js';
import { StanRuntimeError, StanSemanticError, StanUnsupportedError, type Loc } from './errors.js';
import { callBuiltin, hasBuiltin } from './functions.js';
import { ODE_FUNCTION, odeCall } from './ode.js';
import { cdfCall, hasCdf, truncationTerm } from './cdfs.js';
import { binary, transposeV, unary } from './operators.js';
import { INT, NotVectorizable, REAL, ROWVEC, MAT, VEC, T, elem, elemTy, fmtTy, host, isScalar, rankOf, shapeOf, toIndices, toNum, type Base, type Ty, type V } from './values.js';

/** A variable: its declared type and shape, and its value (whole, or as cells along the first dimension). */
export interface Slot {
  readonly name: string;
  readonly ty: Ty;
  readonly shape: number[];
  /** The block that declared it (`data`, `parameters`, `local`, …): assignment rules depend on it. */
  readonly block: string;
  value: number | Tensor | null;
  cells: Slot[] | null;
  dep: boolean;
  /** Holds one value per iteration of the loop being vectorized. */
  b?: boolean;
}

/** State of a loop being run vectorized: the loop variable holds all iterations at once. */
interface VecLoop {
  readonly var: string;
  readonly n: number;
  /** `x[i, j, n] = …` assignments (fixed leading positions, then the loop variable), committed when the whole body has run. */
  readonly overlay: Map<string, { name: string; prefix: number[]; v: V }>;
  /** Variables declared inside the body. */
  readonly locals: Set<Slot>;
  /** Names assigned anywhere in the body: reading one before its write in this pass would see stale values. */
  readonly assigned: Set<string>;
}

/** The names assigned (as `x = …` or `x[…] = …`) anywhere in a statement. */
function assignedNames(s: Stmt, out: Set<string>): Set<string> {
  switch (s.kind) {
    case 'assign': out.add(s.lhs.name); break;
    case 'for': case 'foreach': case 'while': assignedNames(s.body, out); break;
    case 'if': assignedNames(s.then, out); if (s.else !== null) assignedNames(s.else, out); break;
    case 'block': case 'profile': s.body.forEach((x) => assignedNames(x, out)); break;
    default: break;
  }
  return out;
}

let vectorizeLoops = true;
/**
 * Turns loop vectorization on or off (on by default); off runs every loop element by element,
 * the reference the vectorized form is tested against.
 * @example setVectorizeLoops(false)
 */
export function setVectorizeLoops(on: boolean): void {
  vectorizeLoops = on;
}

/** Loops found not vectorizable once (the syntax tree outlives the interpreter). */
const scalarLoops = new WeakSet<object>();

/** Elementwise built-ins that may take per-iteration scalars. */
const VEC_SAFE = new Set([
  'exp', 'log', 'log2', 'log10', 'log1p', 'log1m', 'expm1', 'sqrt', 'cbrt', 'square', 'inv', 'inv_sqrt', 'inv_square', 'inv_logit', 'logit',
  'log_inv_logit', 'log1m_inv_logit', 'log1p_exp', 'inv_cloglog', 'lgamma', 'digamma', 'tgamma', 'erf', 'erfc', 'Phi', 'Phi_approx', 'fabs', 'abs',
  'sin', 'cos', 'tan', 'tanh', 'pow', 'fmin', 'fmax', 'fdim', 'lbeta', 'lchoose', 'binary_log_loss', 'log_diff_exp', 'hypot', 'fma',
]);

export function newSlot(name: string, ty: Ty, shape: number[], block: string, value: number | Tensor | null = null, dep = false): Slot {
  return { name, ty, shape, block, value, cells: null, dep };
}

/** The value type of a declared base type (`simplex` is a vector, `cov_matrix` a matrix). */
export function baseOf(b: BaseType, loc: Loc): Base {
  switch (b) {
    case 'int': return 'int';
    case 'real': return 'real';
    case 'vector': case 'simplex': case 'unit_vector': case 'sum_to_zero_vector': case 'ordered': case 'positive_ordered': return 'vector';
    case 'row_vector': return 'row_vector';
    case 'matrix': case 'cholesky_factor_corr': case 'cholesky_factor_cov': case 'corr_matrix': case 'cov_matrix': return 'matrix';
  }
  throw new StanUnsupportedError(loc, `type ${b}`);
}

/** Functions the front end does not implement yet (ODE solvers, eigendecompositions, ...). */
const UNSUPPORTED = /^(algebra_solver|solve_|map_rect|reduce_sum|integrate_1d|eigenvalues$|eigenvectors$|matrix_exp|svd_|qr_)/;

const BREAK = 1;
const CONTINUE = 2;
const RETURN = 3;

class ReturnValue {
  constructor(readonly value: V | null) {}
}

/** Options of one run of the interpreter. */
export interface RunContext {
  /** Draws for `_rng` functions (generated quantities); null where they are not allowed. */
  rng: (() => number) | null;
}

export class Interpreter {
  private scopes: Map<string, Slot>[] = [];
  target: number | Tensor = 0;
  /** Whether `_lupdf` calls drop constants here (inside a function called from `~`). */
  private propto = false;
  private returned: ReturnValue | null = null;
  rng: (() => number) | null = null;
  /** Blocks whose variables may be assigned now (the block being run). */
  readonly writable = new Set<string>();
  readonly functions = new Map<string, FunDef>();
  /** Random-number functions, installed by the generated-quantities runner. */
  rngFunctions: Record<string, (args: V[], loc: Loc) => V> = {};

  constructor(
    readonly globals: Map<string, Slot>,
    fns: FunDef[],
  ) {
    for (const f of fns) if (f.body !== null || !this.functions.has(f.name)) this.functions.set(f.name, f);
  }

  // ---- scopes ----
  withScope<R>(fn: () => R, fresh = false): R {
    const saved = this.scopes;
    if (fresh) this.scopes = [];
    this.scopes = [...this.scopes, new Map()];
    try {
      return fn();
    } finally {
      this.scopes = saved;
    }
  }

  declare(slot: Slot, loc: Loc): void {
    const top = this.scopes.length > 0 ? this.scopes[this.scopes.length - 1] : this.globals;
    if (top.has(slot.name)) throw new StanSemanticError(loc, `variable '${slot.name}' is already declared`);
    top.set(slot.name, slot);
  }

  lookup(name: string, loc: Loc): Slot {
    for (let i = this.scopes.length - 1; i >= 0; i--) {
      const s = this.scopes[i].get(name);
      if (s !== undefined) return s;
    }
    const g = this.isInFunction ? undefined : this.globals.get(name);
    if (g !== undefined) return g;
    throw new StanSemanticError(loc, `variable '${name}' is not declared${this.functions.has(name) ? ' (it is a function)' : ''}`);
  }
  private isInFunction = false;

  // ---- slots ----
  read(slot: Slot): V {
    if (slot.cells !== null && slot.value === null) {
      const vs = slot.cells.map((c) => this.read(c));
      const dep = vs.some((v) => v.dep);
      if (!dep && vs.every((v) => typeof v.v === 'number')) slot.value = tensor(Float64Array.from(vs, (v) => v.v as number), [vs.length]);
      else slot.value = vs.length === 0 ? full(slot.shape, 0) : stack(vs.map((v) => T(v.v)), 0);
      slot.dep = dep;
    }
    if (slot.value === null) {
      // Stan's uninitialized values are NaN.
      slot.value = slot.shape.length === 0 ? NaN : full(slot.shape, NaN);
    }
    return { v: slot.value, ty: slot.ty, dep: slot.dep, b: slot.b };
  }

  private cellsOf(slot: Slot, loc: Loc): Slot[] {
    if (slot.cells !== null) return slot.cells;
    const n = slot.shape[0];
    const ty = elemTy(slot.ty);
    const sub = slot.shape.slice(1);
    if (slot.value === null) slot.cells = Array.from({ length: n }, (_, i) => newSlot(`${slot.name}[${i + 1}]`, ty, sub, slot.block));
    else {
      const whole: V = { v: slot.value, ty: slot.ty, dep: slot.dep };
      slot.cells = Array.from({ length: n }, (_, i) => {
        const e = elem(whole, i, loc);
        return newSlot(`${slot.name}[${i + 1}]`, ty, sub, slot.block, e.v, e.dep);
      });
    }
    return slot.cells;
  }

  /** Writes `rhs` at `idx` (indices already evaluated to positions) into `slot`. */
  private assignAt(slot: Slot, idx: (number | Int32Array)[], rhs: V, loc: Loc): void {
    if (idx.length === 0) {
      const want = slot.shape;
      const got = shapeOf(rhs);
      if (want.length !== got.length || want.some((d, i) => d !== got[i]))
        throw new StanSemanticError(loc, `assigning to ${slot.name}: expected shape [${want.join(', ')}] (${fmtTy(slot.ty)}), found [${got.join(', ')}] (${fmtTy(rhs.ty)})`);
      if (slot.ty.base === 'int' && rhs.ty.base !== 'int') throw new StanSemanticError(loc, `assigning to ${slot.name}: expected ${fmtTy(slot.ty)}, found ${fmtTy(rhs.ty)}`);
      slot.value = rhs.v;
      slot.cells = null;
      slot.dep = rhs.dep;
      return;
    }
    const cells = this.cellsOf(slot, loc);
    slot.value = null;
    slot.dep = slot.dep || rhs.dep;
    const [first, ...rest] = idx;
    if (typeof first === 'number') {
      if (!(first >= 0 && first < cells.length)) throw new StanRuntimeError(loc, `index ${first + 1} out of range for ${slot.name}; expected 1..${cells.length}`);
      this.assignAt(cells[first], rest, rhs, loc);
      return;
    }
    for (let k = 0; k < first.length; k++) this.assignAt(cells[first[k]], rest, elem(rhs, k, loc), loc);
  }

  // ---- statements ----
  execAll(stmts: Stmt[]): number {
    for (const s of stmts) {
      const r = this.exec(s);
      if (r !== 0) return r;
    }
    return 0;
  }

  exec(s: Stmt): number {
    switch (s.kind) {
      case 'decl':
        this.execDecl(s, 'local');
        return 0;
      case 'assign':
        this.execAssign(s.lhs.name, s.lhs.indices, s.op, s.rhs, s.loc);
        return 0;
      case 'tilde': {
        const y = this.eval(s.lhs);
        const args = s.args.map((a) => this.eval(a));
        this.addTarget(this.density(s.dist, [y, ...args], true, s.distLoc));
        if (s.truncation !== null) {
          const lo = s.truncation.lo === null ? null : this.eval(s.truncation.lo);
          const hi = s.truncation.hi === null ? null : this.eval(s.truncation.hi);
          this.addTarget(truncationTerm(s.dist, y, args, lo, hi, s.loc));
        }
        return 0;
      }
      case 'target':
        this.addTarget(this.eval(s.expr));
        return 0;
      case 'for': {
        const lo = this.int(s.lo);
        const hi = this.int(s.hi);
        if (vectorizeLoops && this.vec === null && hi > lo && !scalarLoops.has(s)) {
          const saved = this.target;
          try {
            this.runVectorized(s, lo, hi);
            return 0;
          } catch (e) {
            if (!(e instanceof NotVectorizable)) throw e;
            scalarLoops.add(s);
            this.target = saved;
          } finally {
            this.vec = null;
          }
        }
        for (let i = lo; i <= hi; i++) {
          const r = this.withScope(() => {
            this.declare(newSlot(s.var, INT, [], 'loop', i), s.loc);
            return this.exec(s.body);
          });
          if (r === BREAK) break;
          if (r === RETURN) return r;
        }
        return 0;
      }
      case 'foreach': {
        const it = this.eval(s.iter);
        const n = typeof it.v === 'number' ? 0 : it.ty.base === 'matrix' && it.ty.arr === 0 ? it.v.size : it.v.shape[0];
        const flat: V = it.ty.base === 'matrix' && it.ty.arr === 0 ? { v: reshape(T(it.v), [n]), ty: VEC, dep: it.dep } : it;
        for (let i = 0; i < n; i++) {
          const e = elem(flat, i, s.loc);
          const r = this.withScope(() => {
            this.declare(newSlot(s.var, e.ty, shapeOf(e), 'loop', e.v, e.dep), s.loc);
            return this.exec(s.body);
          });
          if (r === BREAK) break;
          if (r === RETURN) return r;
        }
        return 0;
      }
      case 'while':
        for (;;) {
          if (toNum(this.eval(s.cond)) === 0) return 0;
          const r = this.withScope(() => this.exec(s.body));
          if (r === BREAK) return 0;
          if (r === RETURN) return r;
        }
      case 'if':
        if (toNum(this.eval(s.cond)) !== 0) return this.withScope(() => this.exec(s.then));
        return s.else === null ? 0 : this.withScope(() => this.exec(s.else as Stmt));
      case 'block':
      case 'profile':
        return this.withScope(() => this.execAll(s.body));
      case 'print':
        return 0;
      case 'reject': {
        if (this.vec !== null) throw new NotVectorizable('reject');
        const msg = s.args.map((a) => (a.kind === 'string' ? a.value : fmtValue(this.eval(a)))).join('');
        throw new StanRuntimeError(s.loc, `${s.fatal ? 'fatal_error' : 'reject'}: ${msg}`);
      }
      case 'return':
        this.returned = new ReturnValue(s.expr === null ? null : this.eval(s.expr));
        return RETURN;
      case 'break':
        return BREAK;
      case 'continue':
        return CONTINUE;
      case 'callstmt':
        this.call(s.name, s.args, false, s.loc);
        return 0;
      case 'empty':
        return 0;
    }
  }

  private vec: VecLoop | null = null;

  /**
   * Runs a `for` loop's body once with the loop variable holding every iteration: per-iteration
   * scalars become vectors, densities are summed over them, and `x[i] = …` writes all of `x` at
   * the end. Anything whose meaning would change (a branch on a per-iteration value, a reduction,
   * a recurrence, a user function) throws NotVectorizable and the loop runs element by element.
   */
  private runVectorized(s: Extract<Stmt, { kind: 'for' }>, lo: number, hi: number): void {
    const n = hi - lo + 1;
    const ctx: VecLoop = { var: s.var, n, overlay: new Map(), locals: new Set(), assigned: assignedNames(s.body, new Set()) };
    this.vec = ctx;
    this.withScope(() => {
      const iv = newSlot(s.var, INT, [], 'loop', tensor(Float64Array.from({ length: n }, (_, i) => lo + i), [n]));
      iv.b = true;
      this.declare(iv, s.loc);
      if (this.exec(s.body) !== 0) throw new NotVectorizable('break, continue or return');
    });
    this.vec = null;
    for (const { name, prefix, v } of ctx.overlay.values()) {
      const slot = this.lookup(name, s.loc);
      const full = v.b === true ? T(v.v) : broadcastTo(T(v.v), [n]);
      const val: V = { v: full, ty: { base: slot.ty.base === 'int' ? 'int' : 'real', arr: 1 }, dep: v.dep };
      if (prefix.length === 0 && lo === 1 && n === slot.shape[0]) this.assignAt(slot, [], { ...val, ty: slot.ty }, s.loc);
      else this.assignAt(slot, [...prefix, Int32Array.from({ length: n }, (_, i) => lo - 1 + i)], val, s.loc);
    }
  }

  /** The key of `x[i, j, n]` in the overlay: the fixed leading positions, or null when the form is not `[..., n]`. */
  private overlayKey(slot: Slot, idx: Index[], loc: Loc): { key: string; prefix: number[] } | null {
    const ctx = this.vec!;
    const last = idx[idx.length - 1];
    if (idx.length === 0 || idx.length !== slot.shape.length || last.kind !== 'single' || last.expr.kind !== 'var' || last.expr.name !== ctx.var) return null;
    const prefix: number[] = [];
    for (let d = 0; d < idx.length - 1; d++) {
      const ix = idx[d];
      if (ix.kind !== 'single') return null;
      const v = this.eval(ix.expr);
      if (v.b === true || v.ty.base !== 'int' || v.ty.arr !== 0) return null;
      const p = toNum(v);
      if (!(p >= 1 && p <= slot.shape[d])) throw new StanRuntimeError(loc, `index ${p} out of range; expected 1..${slot.shape[d]}`);
      prefix.push(p - 1);
    }
    return { key: `${slot.name}@${prefix.join(',')}`, prefix };
  }

  /** The 0-based positions of a per-iteration index (`g[n]`, `n`). */
  private batchedPositions(v: V, size: number, loc: Loc): Int32Array {
    if (v.ty.base !== 'int' || v.ty.arr !== 0 || typeof v.v === 'number') throw new NotVectorizable('index');
    const h = host(v.v);
    const out = new Int32Array(h.length);
    for (let i = 0; i < h.length; i++) {
      if (!(h[i] >= 1 && h[i] <= size)) throw new StanRuntimeError(loc, `index ${h[i]} out of range; expected 1..${size}`);
      out[i] = h[i] - 1;
    }
    return out;
  }

  /** `x[i, g[n], k]` with one per-iteration index and every dimension indexed: one scalar per iteration. */
  private batchedGather(x: V, idx: Index[], loc: Loc): V {
    if (x.b === true || typeof x.v === 'number') throw new NotVectorizable('indexing a per-iteration value');
    const t = x.v;
    if (idx.length !== t.rank || idx.some((ix) => ix.kind !== 'single')) throw new NotVectorizable('a per-iteration index that leaves a container');
    const vals = idx.map((ix) => this.eval((ix as { expr: Expr }).expr));
    const n = this.vec!.n;
    const offs = new Int32Array(n);
    let stride = 1;
    for (let d = t.rank - 1; d >= 0; d--) {
      const v = vals[d];
      if (v.b === true) {
        const p = this.batchedPositions(v, t.shape[d], loc);
        for (let i = 0; i < n; i++) offs[i] += p[i] * stride;
      } else {
        if (v.ty.base !== 'int' || v.ty.arr !== 0) throw new NotVectorizable('a multi-index beside a per-iteration index');
        const p = toNum(v) - 1;
        if (!(p >= 0 && p < t.shape[d])) throw new StanRuntimeError(loc, `index ${p + 1} out of range; expected 1..${t.shape[d]}`);
        for (let i = 0; i < n; i++) offs[i] += p * stride;
      }
      stride *= t.shape[d];
    }
    const ty: Ty = { base: x.ty.base === 'int' ? 'int' : 'real', arr: 0 };
    if (!x.dep) {
      const h = host(t);
      return { v: tensor(Float64Array.from(offs, (o) => h[o]), [n]), ty, dep: false, b: true };
    }
    return { v: gather(reshape(t, [t.size]), tensor(offs, [n], 'int32'), 0), ty, dep: true, b: true };
  }

  addTarget(v: V): void {
    const x = v.v;
    if (typeof x === 'number' && typeof this.target === 'number') this.target += x;
    else {
      const t = T(x);
      this.target = add(T(this.target), t.rank === 0 ? t : sumAll(t));
    }
  }

  int(e: Expr): number {
    const v = this.eval(e);
    if (v.ty.base !== 'int' || v.ty.arr !== 0) throw new StanSemanticError(e.loc, `expected int, found ${fmtTy(v.ty)}`);
    return toNum(v);
  }

  /** The full shape of a declared type: array dims, then vector/matrix sizes. */
  declShape(d: Decl): { ty: Ty; shape: number[] } {
    const t = d.type;
    const base = baseOf(t.base, t.loc);
    const dims = t.arrayDims.map((e) => this.int(e));
    const sizes = t.sizes.map((e) => this.int(e));
    let inner: number[] = [];
    switch (t.base) {
      case 'vector': case 'row_vector': case 'ordered': case 'positive_ordered': case 'unit_vector': case 'sum_to_zero_vector': case 'simplex':
        inner = [sizes[0]];
        break;
      case 'matrix':
        inner = [sizes[0], sizes[1]];
        break;
      case 'cholesky_factor_corr': case 'corr_matrix': case 'cov_matrix':
        inner = [sizes[0], sizes[0]];
        break;
      case 'cholesky_factor_cov':
        inner = [sizes[0], sizes[1] ?? sizes[0]];
        break;
    }
    for (const n of [...dims, ...inner]) if (!(n >= 0)) throw new StanSemanticError(d.loc, `size of '${d.name}' must be non-negative, found ${n}`);
    return { ty: { base, arr: dims.length }, shape: [...dims, ...inner] };
  }

  execDecl(d: Decl, block: string): Slot {
    const { ty, shape } = this.declShape(d);
    const slot = newSlot(d.name, ty, shape, block);
    if (this.vec !== null) {
      this.vec.locals.add(slot);
      if (d.init !== null) {
        const v = this.eval(d.init);
        if (v.b === true) {
          if (!isScalar(ty) || !isScalar(v.ty)) throw new NotVectorizable('a per-iteration container');
          this.declare(slot, d.loc);
          Object.assign(slot, { value: v.v, dep: v.dep, b: true });
          return slot;
        }
      }
    }
    if (d.init !== null) {
      const v = this.eval(d.init);
      this.declare(slot, d.loc);
      this.assignAt(slot, [], coerce(v, ty, shape, d.init.loc), d.init.loc);
    } else this.declare(slot, d.loc);
    return slot;
  }

  private execAssign(name: string, groups: Index[][], op: string, rhsE: Expr, loc: Loc): void {
    const slot = this.lookup(name, loc);
    if (slot.block !== 'local' && !this.writable.has(slot.block))
      throw new StanSemanticError(loc, `cannot assign to '${name}': it is declared in the ${slot.block} block${slot.block === 'loop' ? ' (a loop variable)' : ''}`);
    const idx = groups.flat();
    if (this.vec !== null) {
      this.vecAssign(slot, idx, op, rhsE, loc);
      return;
    }
    let rhs = this.eval(rhsE);
    if (op !== '=') {
      const cur = this.indexSlot(slot, idx, loc);
      rhs = binary(op.slice(0, -1), cur, rhs, loc);
    }
    const positions = this.positions(slot, idx, loc);
    const targetShape = this.indexedShape(slot.shape, positions);
    this.assignAt(slot, positions, coerce(rhs, null, targetShape, rhsE.loc), loc);
  }

  private vecAssign(slot: Slot, idx: Index[], op: string, rhsE: Expr, loc: Loc): void {
    const ctx = this.vec!;
    let rhs = this.eval(rhsE);
    if (idx.length === 0) {
      if (!ctx.locals.has(slot)) throw new NotVectorizable(`assignment to '${slot.name}' declared outside the loop`);
      if (op !== '=') rhs = binary(op.slice(0, -1), this.read(slot), rhs, loc);
      if (rhs.b !== true) {
        this.assignAt(slot, [], coerce(rhs, slot.ty, slot.shape, rhsE.loc), loc);
        slot.b = false;
        return;
      }
      if (!isScalar(slot.ty) || !isScalar(rhs.ty) || (slot.ty.base === 'int' && rhs.ty.base !== 'int')) throw new NotVectorizable('a per-iteration container');
      Object.assign(slot, { value: rhs.v, cells: null, dep: rhs.dep, b: true });
      return;
    }
    const ok = ctx.locals.has(slot) ? null : this.overlayKey(slot, idx, loc);
    if (ok === null) throw new NotVectorizable(`assignment to an element of '${slot.name}' not of the form [..., ${ctx.var}]`);
    if (op !== '=') rhs = binary(op.slice(0, -1), this.indexSlot(slot, idx, loc), rhs, loc);
    if (!isScalar(rhs.ty) || (slot.ty.base === 'int' && rhs.ty.base !== 'int')) throw new NotVectorizable('assigning a container');
    ctx.overlay.set(ok.key, { name: slot.name, prefix: ok.prefix, v: rhs });
  }

  private indexedShape(shape: number[], pos: (number | Int32Array)[]): number[] {
    const out: number[] = [];
    pos.forEach((p, i) => {
      if (typeof p !== 'number') out.push(p.length);
      void i;
    });
    return [...out, ...shape.slice(pos.length)];
  }

  /** Evaluates indices into 0-based positions along successive dimensions of `shape`. */
  private positions(slot: Slot, idx: Index[], loc: Loc): (number | Int32Array)[] {
    if (idx.length > slot.shape.length) throw new StanSemanticError(loc, `too many indexes for '${slot.name}' (${fmtTy(slot.ty)}): expected at most ${slot.shape.length}, found ${idx.length}`);
    return idx.map((ix, d) => this.position(ix, slot.shape[d], loc));
  }

  private position(ix: Index, n: number, loc: Loc): number | Int32Array {
    if (ix.kind === 'all') return Int32Array.from({ length: n }, (_, i) => i);
    if (ix.kind === 'slice') {
      const lo = ix.lo === null ? 1 : this.int(ix.lo);
      const hi = ix.hi === null ? n : this.int(ix.hi);
      const len = Math.max(0, hi - lo + 1);
      if (len > 0 && (lo < 1 || hi > n)) throw new StanRuntimeError(loc, `slice ${lo}:${hi} out of range; expected within 1..${n}`);
      return Int32Array.from({ length: len }, (_, i) => lo - 1 + i);
    }
    const v = this.eval(ix.expr);
    if (v.ty.base !== 'int') throw new StanSemanticError(ix.expr.loc, `an index must be int or array[] int, found ${fmtTy(v.ty)}`);
    if (v.ty.arr === 0) {
      const i = toNum(v);
      if (!(i >= 1 && i <= n)) throw new StanRuntimeError(ix.expr.loc, `index ${i} out of range; expected 1..${n}`);
      return i - 1;
    }
    return toIndices(v, n, ix.expr.loc);
  }

  /** `slot[idx]`, reading element cells where the slot has them. */
  private indexSlot(slot: Slot, idx: Index[], loc: Loc): V {
    if (this.vec !== null) {
      const ctx = this.vec;
      if ([...ctx.overlay.values()].some((o) => o.name === slot.name)) {
        const k = this.overlayKey(slot, idx, loc);
        const hit = k === null ? undefined : ctx.overlay.get(k.key);
        if (hit !== undefined) return hit.v;
        throw new NotVectorizable(`'${slot.name}' read at another element than it is written`);
      }
      if (slot.b === true) throw new NotVectorizable('indexing a per-iteration value');
      if (ctx.assigned.has(slot.name) && !ctx.locals.has(slot)) throw new NotVectorizable(`'${slot.name}' read before it is written in the loop`);
      if (this.hasBatchedIndex(idx)) {
        // Leading indices that do not depend on the loop variable pick cells first: reading the
        // whole array (a stack of all its cells) at every iteration of an outer sequential loop
        // (an HMM's forward pass, gamma[t - 1, j]) is quadratic in its length.
        let s = slot;
        let k = 0;
        while (k < idx.length - 1 && s.cells !== null && s.value === null && idx[k].kind === 'single' && !this.mentionsLoopVar((idx[k] as { expr: Expr }).expr)) {
          const p = this.position(idx[k], s.shape[0], loc);
          if (typeof p !== 'number') break;
          s = s.cells[p];
          k++;
        }
        return this.batchedGather(this.read(s), idx.slice(k), loc);
      }
    }
    let s = slot;
    let k = 0;
    const done: (number | Int32Array)[] = [];
    while (k < idx.length && s.cells !== null && s.value === null && idx[k].kind === 'single') {
      const p = this.position(idx[k], s.shape[0], loc);
      k++;
      if (typeof p !== 'number') {
        done.push(p);
        break;
      }
      s = s.cells[p];
    }
    if (done.length > 0) {
      // A multi-index into a slot held as cells: read it whole.
      const whole = this.read(s);
      const rest = idx.slice(k).map((ix, d) => this.position(ix, s.shape[d + 1], loc));
      return applyIndex(whole, [...done, ...rest], loc);
    }
    const base = this.read(s);
    if (k === idx.length) return base;
    const pos = idx.slice(k).map((ix, d) => {
      if (d >= s.shape.length) throw new StanSemanticError(loc, `too many indexes for '${slot.name}' (${fmtTy(slot.ty)})`);
      return this.position(ix, s.shape[d], loc);
    });
    return applyIndex(base, pos, loc);
  }

  /** Whether an index list holds a per-iteration index (evaluated cheaply: indices are small expressions). */
  private hasBatchedIndex(idx: Index[]): boolean {
    return idx.some((ix) => ix.kind === 'single' && this.mentionsLoopVar(ix.expr));
  }

  private mentionsLoopVar(e: Expr): boolean {
    const ctx = this.vec!;
    switch (e.kind) {
      case 'var': {
        if (e.name === ctx.var) return true;
        const sl = this.lookup(e.name, e.loc);
        return sl.b === true;
      }
      case 'index': return this.mentionsLoopVar(e.target) || e.indices.some((i) => i.kind === 'single' && this.mentionsLoopVar(i.expr));
      case 'binary': return this.mentionsLoopVar(e.left) || this.mentionsLoopVar(e.right);
      case 'unary': return this.mentionsLoopVar(e.operand);
      case 'call': return e.args.some((a) => this.mentionsLoopVar(a));
      case 'ternary': return this.mentionsLoopVar(e.cond) || this.mentionsLoopVar(e.then) || this.mentionsLoopVar(e.else);
      default: return false;
    }
  }

  // ---- expressions ----
  eval(e: Expr): V {
    switch (e.kind) {
      case 'int':
        return { v: e.value, ty: INT, dep: false };
      case 'real':
        return { v: e.value, ty: REAL, dep: false };
      case 'string':
        throw new StanSemanticError(e.loc, 'a string is only allowed in print, reject and fatal_error');
      case 'var':
        if (this.vec !== null && this.vec.assigned.has(e.name)) {
          const sl = this.lookup(e.name, e.loc);
          if (!this.vec.locals.has(sl)) throw new NotVectorizable(`'${e.name}' read whole while written in the loop`);
        }
        return this.read(this.lookup(e.name, e.loc));
      case 'call':
        return this.call(e.name, e.args, e.conditional, e.loc) ?? voidErr(e.name, e.loc);
      case 'binary':
        if (e.op === '&&' || e.op === '||') {
          const a = toNum(this.eval(e.left)) !== 0;
          if (e.op === '&&' ? !a : a) return { v: e.op === '&&' ? 0 : 1, ty: INT, dep: false };
          return { v: toNum(this.eval(e.right)) !== 0 ? 1 : 0, ty: INT, dep: false };
        }
        return binary(e.op, this.eval(e.left), this.eval(e.right), e.loc);
      case 'unary':
        return unary(e.op, this.eval(e.operand), e.loc);
      case 'ternary':
        return toNum(this.eval(e.cond)) !== 0 ? this.eval(e.then) : this.eval(e.else);
      case 'transpose':
        return transposeV(this.eval(e.operand), e.loc);
      case 'index': {
        if (e.target.kind === 'var') return this.indexSlot(this.lookup(e.target.name, e.target.loc), e.indices, e.loc);
        const base = this.eval(e.target);
        if (this.vec !== null && (base.b === true || this.hasBatchedIndex(e.indices))) return this.batchedGather(base, e.indices, e.loc);
        const shape = shapeOf(base);
        if (e.indices.length > shape.length) throw new StanSemanticError(e.loc, `too many indexes for ${fmtTy(base.ty)}`);
        return applyIndex(base, e.indices.map((ix, d) => this.position(ix, shape[d], e.loc)), e.loc);
      }
      case 'array': {
        const vs = e.elements.map((x) => this.eval(x));
        const isReal = vs.some((v) => v.ty.base === 'real');
        const ty0 = vs[0].ty;
        const ty: Ty = { base: ty0.base === 'int' && isReal ? 'real' : ty0.base, arr: ty0.arr + 1 };
        return stackValues(vs, ty);
      }
      case 'rowvec': {
        const vs = e.elements.map((x) => this.eval(x));
        if (vs.every((v) => isScalar(v.ty))) return stackValues(vs, ROWVEC);
        if (vs.every((v) => v.ty.base === 'row_vector' && v.ty.arr === 0)) return stackValues(vs, MAT);
        throw new StanSemanticError(e.loc, `[...] takes scalars (a row_vector) or row_vectors (a matrix), found ${vs.map((v) => fmtTy(v.ty)).join(', ')}`);
      }
    }
  }

  /** log density `dist` of args (the first is the outcome), as `~` (propto) or `_lpdf`. */
  density(dist: string, args: V[], propto: boolean, loc: Loc): V {
    for (const suffix of ['_lpdf', '_lpmf']) {
      const f = this.functions.get(dist + suffix);
      if (f !== undefined) return this.callUser(f, args, propto, loc) ?? voidErr(dist, loc);
    }
    if (!hasDistribution(dist)) throw new StanSemanticError(loc, `unknown distribution '${dist}'`);
    return lpdf(dist, args, propto, loc);
  }

  call(name: string, argEs: Expr[], conditional: boolean, loc: Loc): V | null {
    if (name === 'target' && argEs.length === 0) return { v: this.target, ty: REAL, dep: true };
    if (ODE_FUNCTION.test(name)) return odeCall(this, name, argEs, loc);
    if (UNSUPPORTED.test(name)) throw new StanUnsupportedError(loc, `function ${name}`);
    const args = argEs.map((a) => this.eval(a));
    const cdf = /^(.*)_(cdf|lcdf|lccdf)$/.exec(name);
    if (cdf !== null && !this.functions.has(name)) {
      if (!hasCdf(cdf[1])) throw new StanUnsupportedError(loc, `function ${name}`);
      return cdfCall(cdf[1], cdf[2] as 'cdf' | 'lcdf' | 'lccdf', args, loc);
    }
    if (args.some((a) => a.b === true)) {
      const r = this.batchedCall(name, args, loc);
      if (r !== null) return r;
    }
    const user = this.functions.get(name);
    if (user !== undefined) {
      const lu = /_lup[dm]f$/.test(name);
      return this.callUser(user, args, lu ? this.propto : false, loc);
    }
    const m = /^(.*)_(lpdf|lpmf|lupdf|lupmf)$/.exec(name);
    if (m !== null) {
      const lu = m[2].startsWith('lu');
      const userBase = this.functions.get(`${m[1]}_${lu ? m[2].replace('lu', 'l') : m[2]}`);
      if (userBase !== undefined) return this.callUser(userBase, args, lu ? this.propto : false, loc);
      if (!hasDistribution(m[1])) throw new StanSemanticError(loc, `unknown distribution '${m[1]}' in ${name}`);
      return lpdf(m[1], args, lu ? this.propto : false, loc);
    }
    if (conditional) throw new StanSemanticError(loc, `'|' is only allowed in a _lpdf/_lpmf/_lcdf/_lccdf call, found it in ${name}`);
    if (name.endsWith('_rng')) {
      const r = this.rngFunctions[name];
      if (this.rng === null) throw new StanSemanticError(loc, `${name}: random-number functions are only allowed in transformed data and generated quantities`);
      if (r === undefined) throw new StanUnsupportedError(loc, `function ${name}`);
      return r(args, loc);
    }
    if (!hasBuiltin(name)) throw new StanSemanticError(loc, `unknown function '${name}'`);
    return callBuiltin(name, args, loc);
  }

  /** A built-in on per-iteration scalars; null for densities (lpdf handles them); throws otherwise. */
  private batchedCall(name: string, args: V[], loc: Loc): V | null {
    if (this.functions.has(name) || name.endsWith('_rng')) throw new NotVectorizable(`function ${name}`);
    if (/_(lpdf|lpmf|lupdf|lupmf)$/.test(name)) return null;
    if (!args.every((a) => isScalar(a.ty))) throw new NotVectorizable(`${name} of a per-iteration container`);
    const dep = args.some((a) => a.dep);
    if (name === 'log_sum_exp' && args.length === 2) {
      const [a, b] = args.map((x) => T(x.v));
      const m = maximum(a, b);
      return { v: add(m, log(add(exp(sub(a, m)), exp(sub(b, m))))), ty: REAL, dep, b: true };
    }
    if (name === 'log_mix' && args.length === 3) {
      const [th, l1, l2] = args.map((x) => T(x.v));
      const a = add(log(th), l1);
      const b = add(log1p(neg(th)), l2);
      const m = maximum(a, b);
      return { v: add(m, log(add(exp(sub(a, m)), exp(sub(b, m))))), ty: REAL, dep, b: true };
    }
    if (!VEC_SAFE.has(name)) throw new NotVectorizable(`function ${name}`);
    return { ...callBuiltin(name, args, loc), b: true };
  }

  /** Runs a user-defined function that returns a value (the ODE solvers' right-hand sides). */
  callFunction(f: FunDef, args: V[], loc: Loc): V {
    return this.callUser(f, args, false, loc) ?? voidErr(f.name, loc);
  }

  private callUser(f: FunDef, args: V[], propto: boolean, loc: Loc): V | null {
    if (args.some((a) => a.b === true)) throw new NotVectorizable(`user function ${f.name}`);
    if (f.body === null) throw new StanSemanticError(loc, `function '${f.name}' is declared but never defined`);
    if (args.length !== f.args.length) throw new StanSemanticError(loc, `${f.name} takes ${f.args.length} argument(s), found ${args.length}`);
    const savedScopes = this.scopes;
    const savedProp = this.propto;
    const savedIn = this.isInFunction;
    this.scopes = [new Map()];
    this.propto = propto;
    this.isInFunction = true;
    try {
      f.args.forEach((a, i) => {
        const v = args[i];
        const want = a.type;
        if (want.base !== 'void' && (want.arrayRank !== v.ty.arr || (want.base === 'int' && v.ty.base !== 'int') || (rankOf({ base: baseOf(want.base as BaseType, want.loc), arr: 0 }) !== rankOf({ base: v.ty.base, arr: 0 }))))
          throw new StanSemanticError(loc, `argument ${i + 1} (${a.name}) of ${f.name}: expected ${want.arrayRank > 0 ? `array[${','.repeat(want.arrayRank - 1)}] ` : ''}${want.base}, found ${fmtTy(v.ty)}`);
        this.scopes[0].set(a.name, newSlot(a.name, v.ty, shapeOf(v), 'argument', v.v, v.dep));
      });
      this.returned = null;
      this.exec(f.body);
      const r = this.returned as ReturnValue | null;
      this.returned = null;
      if (f.returnType.base === 'void') return null;
      if (r === null || r.value === null) throw new StanRuntimeError(f.loc, `function '${f.name}' ended without returning a value`);
      return r.value;
    } finally {
      this.scopes = savedScopes;
      this.propto = savedProp;
      this.isInFunction = savedIn;
    }
  }
}

function voidErr(name: string, loc: Loc): never {
  throw new StanSemanticError(loc, `function '${name}' returns void; it cannot be used as a value`);
}

function sumAll(t: Tensor): Tensor {
  return reshape(t, [t.size]).size === 1 ? reshape(t, []) : sumFlat(t);
}
function sumFlat(t: Tensor): Tensor {
  // Local import-free sum over all axes.
  return callBuiltin('sum', [{ v: reshape(t, [t.size]), ty: VEC, dep: true }], { line: 0, col: 0 }).v as Tensor;
}

function stackValues(vs: V[], ty: Ty): V {
  if (vs.some((v) => v.b === true)) throw new NotVectorizable('a container of per-iteration values');
  const dep = vs.some((v) => v.dep);
  if (!dep && vs.every((v) => typeof v.v === 'number')) return { v: tensor(Float64Array.from(vs, (v) => v.v as number), [vs.length]), ty, dep };
  return { v: stack(vs.map((v) => T(v.v)), 0), ty, dep };
}

/** Checks (and widens int → real) a value for assignment to a declared type. */
function coerce(v: V, ty: Ty | null, shape: number[], loc: Loc): V {
  const got = shapeOf(v);
  if (got.length !== shape.length || got.some((d, i) => d !== shape[i]))
    throw new StanSemanticError(loc, `expected a value of shape [${shape.join(', ')}]${ty === null ? '' : ` (${fmtTy(ty)})`}, found shape [${got.join(', ')}] (${fmtTy(v.ty)})`);
  if (ty !== null && ty.base !== 'int' && v.ty.base === 'int') return { ...v, ty };
  return v;
}

/** The kind of each tensor dimension of a type, for the type of an indexed value. */
function dimKinds(t: Ty): string[] {
  const k: string[] = Array.from({ length: t.arr }, () => 'arr');
  if (t.base === 'matrix') k.push('row', 'col');
  else if (t.base === 'vector') k.push('vec');
  else if (t.base === 'row_vector') k.push('rvec');
  return k;
}

/** `x[pos...]` with evaluated positions: a number removes its dimension, a list keeps it. */
export function applyIndex(x: V, pos: (number | Int32Array)[], loc: Loc): V {
  const kinds = dimKinds(x.ty);
  const kept = kinds.filter((_, d) => d >= pos.length || typeof pos[d] !== 'number');
  const arr = kept.filter((k) => k === 'arr').length;
  const rest = kept.filter((k) => k !== 'arr');
  const scalarBase = x.ty.base === 'int' ? 'int' : 'real';
  const base: Base = rest.length === 2 ? 'matrix' : rest.length === 0 ? scalarBase : rest[0] === 'row' || rest[0] === 'vec' ? 'vector' : 'row_vector';
  const ty: Ty = { base, arr };
  if (typeof x.v === 'number') throw new StanSemanticError(loc, `cannot index a ${fmtTy(x.ty)}`);
  const t = x.v;
  // Data scalar read: straight from the host array.
  if (!x.dep && pos.length === t.rank && pos.every((p) => typeof p === 'number')) {
    let off = 0;
    for (let d = 0; d < t.rank; d++) off = off * t.shape[d] + (pos[d] as number);
    return { v: host(t)[off], ty, dep: false };
  }
  let r = t;
  for (let d = pos.length - 1; d >= 0; d--) {
    const p = pos[d];
    if (typeof p === 'number') {
      const begin = r.shape.map((_, i) => (i === d ? p : 0));
      const size = r.shape.map((n, i) => (i === d ? 1 : n));
      r = reshape(slice(r, begin, size), r.shape.filter((_, i) => i !== d));
    } else if (!(p.length === r.shape[d] && p.every((q, i) => q === i))) {
      let contiguous = p.length > 0;
      for (let k = 1; k < p.length && contiguous; k++) contiguous = p[k] === p[0] + k;
      if (contiguous) {
        const begin = r.shape.map((_, i) => (i === d ? p[0] : 0));
        const size = r.shape.map((n, i) => (i === d ? p.length : n));
        r = slice(r, begin, size);
      } else r = gather(r, tensor(p, [p.length], 'int32'), d);
    }
  }
  return { v: r, ty, dep: x.dep };
}

function fmtValue(v: V): string {
  if (typeof v.v === 'number') return String(v.v);
  const h = host(v.v);
  return `[${Array.from(h.slice(0, 10)).join(',')}${h.length > 10 ? ',…' : ''}]`;
}

