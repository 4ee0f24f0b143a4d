/**
 * Stan's built-in functions (math library) on interpreter values: elementwise functions vectorized
 * over every container, reductions, constructors and slicing of vectors and matrices, and linear
 * algebra. `callBuiltin` checks the argument count and types and names the call's position.
 */
import type { Tensor } from '../core/tensor.js';
import { full, scalar, tensor } from '../ops/creation.js';
import { cholesky, diagEmbed, diagonal, matmul, triangularSolve, logdet } from '../ops/linalg.js';
import { cumsum, logSoftmax, logsumexp, max, mean, min, prod, softmax, sum } from '../ops/reduce.js';
import { broadcastTo, concat, reshape, slice, transpose } from '../ops/shape.js';
import { StanRuntimeError, StanSemanticError, type Loc } from './errors.js';
import { MATRIX_FUNCTIONS } from './matrix-functions.js';
import {
  abs, add, ceil, cos, digamma, div, erf, exp, expm1, floor, lgamma, log, log1p, maximum, minimum, mul, neg, pow, sigmoid, sin,
  softplus, sqrt, square, sub, tanh, where, less,
} from './tensormath.js';
import { INT, MAT, REAL, ROWVEC, VEC, T, fmtTy, host, isScalar, rankOf, shapeOf, toNum, type Ty, type V } from './values.js';

type Fn = (a: V[], loc: Loc) => V;

const realOf = (t: Ty): Ty => (t.base === 'int' ? { base: 'real', arr: t.arr } : t);
const dep = (a: V[]): boolean => a.some((x) => x.dep);

function elementwise(js: (x: number) => number, ts: (x: Tensor) => Tensor, keepInt = false): Fn {
  return ([a]) => {
    const ty = keepInt ? a.ty : realOf(a.ty);
    if (typeof a.v === 'number') return { v: js(a.v), ty, dep: false };
    return { v: ts(a.v), ty, dep: a.dep };
  };
}

function elementwise2(js: (x: number, y: number) => number, ts: (x: Tensor, y: Tensor) => Tensor): Fn {
  return ([a, b]) => {
    const ty = isScalar(a.ty) ? realOf(b.ty) : realOf(a.ty);
    if (typeof a.v === 'number' && typeof b.v === 'number') return { v: js(a.v, b.v), ty, dep: false };
    return { v: ts(T(a.v), T(b.v)), ty, dep: a.dep || b.dep };
  };
}

const logit = (x: Tensor): Tensor => sub(log(x), log1p(neg(x)));
const lgam = (x: number): number => host(lgamma(scalar(x)))[0];
const jsErf = (x: number): number => host(erf(scalar(x)))[0];
const Phi = (x: Tensor): Tensor => mul(add(erf(mul(x, Math.SQRT1_2)), 1), 0.5);

function reduce(ts: (x: Tensor) => Tensor, js: ((xs: Float64Array) => number) | null = null, intOut = false): Fn {
  return ([a]) => {
    const ty = intOut && a.ty.base === 'int' ? INT : REAL;
    if (typeof a.v === 'number') return { v: a.v, ty, dep: false };
    if (!a.dep && js !== null) return { v: js(host(a.v)), ty, dep: false };
    return { v: ts(a.v), ty, dep: a.dep };
  };
}

function sizes(a: V): number[] {
  return shapeOf(a);
}

const vecOf = (t: Tensor, d: boolean): V => ({ v: t, ty: VEC, dep: d });

function need(name: string, a: V[], n: number | [number, number], loc: Loc): void {
  const [lo, hi] = typeof n === 'number' ? [n, n] : n;
  if (a.length < lo || a.length > hi) throw new StanSemanticError(loc, `${name} takes ${lo === hi ? lo : `${lo} to ${hi}`} argument(s), found ${a.length}`);
}

function int(a: V, what: string, loc: Loc): number {
  if (a.ty.base !== 'int' || a.ty.arr !== 0) throw new StanSemanticError(loc, `${what}: expected int, found ${fmtTy(a.ty)}`);
  return toNum(a);
}

const F: Record<string, Fn> = {
  exp: elementwise(Math.exp, exp),
  log: elementwise(Math.log, log),
  log2: elementwise(Math.log2, (x) => div(log(x), Math.LN2)),
  log10: elementwise(Math.log10, (x) => div(log(x), Math.LN10)),
  log1p: elementwise(Math.log1p, log1p),
  log1m: elementwise((x) => Math.log1p(-x), (x) => log1p(neg(x))),
  expm1: elementwise(Math.expm1, expm1),
  sqrt: elementwise(Math.sqrt, sqrt),
  cbrt: elementwise(Math.cbrt, (x) => pow(x, 1 / 3)),
  square: elementwise((x) => x * x, square),
  inv: elementwise((x) => 1 / x, (x) => div(1, x)),
  inv_sqrt: elementwise((x) => 1 / Math.sqrt(x), (x) => div(1, sqrt(x))),
  inv_square: elementwise((x) => 1 / (x * x), (x) => div(1, square(x))),
  inv_logit: elementwise((x) => 1 / (1 + Math.exp(-x)), sigmoid),
  logit: elementwise((x) => Math.log(x / (1 - x)), logit),
  log_inv_logit: elementwise((x) => -Math.log1p(Math.exp(-x)), (x) => neg(softplus(neg(x)))),
  log1m_inv_logit: elementwise((x) => -Math.log1p(Math.exp(x)), (x) => neg(softplus(x))),
  log1p_exp: elementwise((x) => Math.log1p(Math.exp(x)), softplus),
  inv_cloglog: elementwise((x) => 1 - Math.exp(-Math.exp(x)), (x) => sub(1, exp(neg(exp(x))))),
  lgamma: elementwise(lgam, lgamma),
  digamma: elementwise((x) => host(digamma(scalar(x)))[0], digamma),
  tgamma: elementwise((x) => Math.exp(lgam(x)), (x) => exp(lgamma(x))),
  erf: elementwise(jsErf, erf),
  erfc: elementwise((x) => 1 - jsErf(x), (x) => sub(1, erf(x))),
  Phi: elementwise((x) => 0.5 * (1 + jsErf(x * Math.SQRT1_2)), Phi),
  Phi_approx: elementwise((x) => 1 / (1 + Math.exp(-(0.07056 * x ** 3 + 1.5976 * x))), (x) => sigmoid(add(mul(pow(x, 3), 0.07056), mul(x, 1.5976)))),
  fabs: elementwise(Math.abs, abs),
  abs: elementwise(Math.abs, abs, true),
  floor: elementwise(Math.floor, floor),
  ceil: elementwise(Math.ceil, ceil),
  round: elementwise(Math.round, (x) => floor(add(x, 0.5))),
  trunc: elementwise(Math.trunc, (x) => mul(floor(abs(x)), where(less(x, 0), -1, 1))),
  sin: elementwise(Math.sin, sin),
  cos: elementwise(Math.cos, cos),
  tan: elementwise(Math.tan, (x) => div(sin(x), cos(x))),
  tanh: elementwise(Math.tanh, tanh),
  pow: elementwise2(Math.pow, pow),
  fmin: elementwise2(Math.min, minimum),
  fmax: elementwise2(Math.max, maximum),
  fdim: elementwise2((x, y) => Math.max(x - y, 0), (x, y) => maximum(sub(x, y), 0)),
  lbeta: elementwise2((a, b) => lgam(a) + lgam(b) - lgam(a + b), (a, b) => sub(add(lgamma(a), lgamma(b)), lgamma(add(a, b)))),
  lchoose: elementwise2((n, k) => lgam(n + 1) - lgam(k + 1) - lgam(n - k + 1), (n, k) => sub(sub(lgamma(add(n, 1)), lgamma(add(k, 1))), lgamma(add(sub(n, k), 1)))),
  binary_log_loss: elementwise2((y, p) => (y === 1 ? -Math.log(p) : -Math.log1p(-p)), (y, p) => neg(add(mul(y, log(p)), mul(sub(1, y), log1p(neg(p)))))),
  log_diff_exp: elementwise2((a, b) => a + Math.log1p(-Math.exp(b - a)), (a, b) => add(a, log1p(neg(exp(sub(b, a)))))),
  hypot: elementwise2(Math.hypot, (a, b) => sqrt(add(square(a), square(b)))),
  choose: ([n, k], loc) => ({ v: Math.round(Math.exp(lgam(int(n, 'choose', loc) + 1) - lgam(toNum(k) + 1) - lgam(toNum(n) - toNum(k) + 1))), ty: INT, dep: false }),
  fma: ([a, b, c]) => {
    const ty = [a, b, c].find((x) => !isScalar(x.ty))?.ty ?? REAL;
    if ([a, b, c].every((x) => typeof x.v === 'number')) return { v: toNum(a) * toNum(b) + toNum(c), ty: REAL, dep: false };
    return { v: add(mul(T(a.v), T(b.v)), T(c.v)), ty: realOf(ty), dep: dep([a, b, c]) };
  },
  step: ([a]) => ({ v: toNum(a) < 0 ? 0 : 1, ty: REAL, dep: false }),
  int_step: ([a]) => ({ v: toNum(a) > 0 ? 1 : 0, ty: INT, dep: false }),
  is_inf: ([a]) => ({ v: Math.abs(toNum(a)) === Infinity ? 1 : 0, ty: INT, dep: false }),
  is_nan: ([a]) => ({ v: Number.isNaN(toNum(a)) ? 1 : 0, ty: INT, dep: false }),
  to_int: ([a]) => ({ v: Math.trunc(toNum(a)), ty: INT, dep: false }),
  pi: () => ({ v: Math.PI, ty: REAL, dep: false }),
  e: () => ({ v: Math.E, ty: REAL, dep: false }),
  sqrt2: () => ({ v: Math.SQRT2, ty: REAL, dep: false }),
  not_a_number: () => ({ v: NaN, ty: REAL, dep: false }),
  positive_infinity: () => ({ v: Infinity, ty: REAL, dep: false }),
  negative_infinity: () => ({ v: -Infinity, ty: REAL, dep: false }),
  machine_precision: () => ({ v: 2.220446049250313e-16, ty: REAL, dep: false }),
  // ---- reductions ----
  sum: reduce((x) => sum(x), (h) => h.reduce((s, v) => s + v, 0), true),
  prod: reduce((x) => prod(x), (h) => h.reduce((s, v) => s * v, 1), true),
  mean: reduce((x) => mean(x), (h) => h.reduce((s, v) => s + v, 0) / h.length),
  log_sum_exp: (a) => {
    if (a.length === 2) {
      const [x, y] = a;
      if (typeof x.v === 'number' && typeof y.v === 'number') {
        const m = Math.max(x.v, y.v);
        return { v: m === -Infinity ? -Infinity : m + Math.log(Math.exp(x.v - m) + Math.exp(y.v - m)), ty: REAL, dep: false };
      }
      return { v: logsumexp(concat([reshape(T(x.v), [1]), reshape(T(y.v), [1])])), ty: REAL, dep: dep(a) };
    }
    return { v: logsumexp(T(a[0].v)), ty: REAL, dep: a[0].dep };
  },
  max: (a) => minmax(a, true),
  min: (a) => minmax(a, false),
  sd: ([a]) => ({ v: sqrt(variance(T(a.v))), ty: REAL, dep: a.dep }),
  variance: ([a]) => ({ v: variance(T(a.v)), ty: REAL, dep: a.dep }),
  dot_product: ([a, b]) => ({ v: sum(mul(T(a.v), T(b.v))), ty: REAL, dep: dep([a, b]) }),
  dot_self: ([a]) => ({ v: sum(square(T(a.v))), ty: REAL, dep: a.dep }),
  columns_dot_self: ([a]) => ({ v: reshape(sum(square(T(a.v)), 0), [1, T(a.v).shape[1]]), ty: ROWVEC, dep: a.dep }),
  squared_distance: ([a, b]) => ({ v: sum(square(sub(T(a.v), T(b.v)))), ty: REAL, dep: dep([a, b]) }),
  distance: ([a, b]) => ({ v: sqrt(sum(square(sub(T(a.v), T(b.v))))), ty: REAL, dep: dep([a, b]) }),
  cumulative_sum: ([a]) => ({ v: cumsum(T(a.v), 0), ty: realOf(a.ty), dep: a.dep }),
  log_softmax: ([a]) => ({ v: logSoftmax(T(a.v)), ty: VEC, dep: a.dep }),
  softmax: ([a]) => ({ v: softmax(T(a.v)), ty: VEC, dep: a.dep }),
  log_mix: ([th, l1, l2], loc) => {
    if (l2 === undefined) throw new StanSemanticError(loc, 'not supported yet: log_mix(vector, ...) with two arguments');
    const t = T(th.v);
    const v = logsumexp(concat([reshape(add(log(t), T(l1.v)), [1]), reshape(add(log(sub(1, t)), T(l2.v)), [1])]));
    return { v, ty: REAL, dep: dep([th, l1, l2]) };
  },
  // ---- sizes ----
  num_elements: ([a]) => ({ v: typeof a.v === 'number' ? 1 : a.v.size, ty: INT, dep: false }),
  size: ([a]) => ({ v: typeof a.v === 'number' ? 1 : a.v.shape[0], ty: INT, dep: false }),
  rows: ([a]) => ({ v: a.ty.base === 'row_vector' ? 1 : sizes(a)[0], ty: INT, dep: false }),
  cols: ([a]) => ({ v: a.ty.base === 'vector' ? 1 : a.ty.base === 'row_vector' ? sizes(a)[0] : sizes(a)[1], ty: INT, dep: false }),
  // ---- constructors ----
  rep_vector: ([x, n]) => ({ v: broadcastTo(T(x.v), [toNum(n)]), ty: VEC, dep: x.dep }),
  rep_row_vector: ([x, n]) => ({ v: broadcastTo(T(x.v), [toNum(n)]), ty: ROWVEC, dep: x.dep }),
  rep_matrix: ([x, m, n], loc) => {
    if (n !== undefined) {
      if (!isScalar(x.ty)) throw new StanSemanticError(loc, `rep_matrix(x, m, n): expected a scalar x, found ${fmtTy(x.ty)}`);
      return { v: broadcastTo(T(x.v), [toNum(m), toNum(n)]), ty: MAT, dep: x.dep };
    }
    const t = T(x.v);
    const k = toNum(m);
    if (x.ty.base === 'vector') return { v: broadcastTo(reshape(t, [t.shape[0], 1]), [t.shape[0], k]), ty: MAT, dep: x.dep };
    return { v: broadcastTo(reshape(t, [1, t.shape[0]]), [k, t.shape[0]]), ty: MAT, dep: x.dep };
  },
  rep_array: (a) => {
    const x = a[0];
    const dims = a.slice(1).map(toNum);
    const inner = shapeOf(x);
    const ty = { base: x.ty.base, arr: x.ty.arr + dims.length };
    if (typeof x.v === 'number' && !x.dep) return { v: full([...dims, ...inner], x.v), ty, dep: false };
    return { v: broadcastTo(T(x.v), [...dims, ...inner]), ty, dep: x.dep };
  },
  zeros_vector: ([n]) => vecOf(full([toNum(n)], 0), false),
  ones_vector: ([n]) => vecOf(full([toNum(n)], 1), false),
  zeros_row_vector: ([n]) => ({ v: full([toNum(n)], 0), ty: ROWVEC, dep: false }),
  ones_row_vector: ([n]) => ({ v: full([toNum(n)], 1), ty: ROWVEC, dep: false }),
  zeros_array: ([n]) => ({ v: full([toNum(n)], 0), ty: { base: 'real', arr: 1 }, dep: false }),
  linspaced_vector: ([n, lo, hi]) => {
    const k = toNum(n);
    const a = toNum(lo);
    const b = toNum(hi);
    return vecOf(tensor(Array.from({ length: k }, (_, i) => (k === 1 ? b : a + ((b - a) * i) / (k - 1))), [k]), false);
  },
  linspaced_array: ([n, lo, hi]) => ({ ...F.linspaced_vector([n, lo, hi], { line: 0, col: 0 }), ty: { base: 'real', arr: 1 } }),
  one_hot_vector: ([n, k]) => {
    const d = new Float64Array(toNum(n));
    d[toNum(k) - 1] = 1;
    return vecOf(tensor(d, [d.length]), false);
  },
  diag_matrix: ([v]) => ({ v: diagEmbed(T(v.v)), ty: MAT, dep: v.dep }),
  identity_matrix: ([n]) => {
    const k = toNum(n);
    const d = new Float64Array(k * k);
    for (let i = 0; i < k; i++) d[i * k + i] = 1;
    return { v: tensor(d, [k, k]), ty: MAT, dep: false };
  },
  diagonal: ([m]) => vecOf(diagonal(T(m.v)), m.dep),
  to_vector: ([a]) => vecOf(flatten(a), a.dep),
  to_row_vector: ([a]) => ({ v: flatten(a), ty: ROWVEC, dep: a.dep }),
  to_array_1d: ([a]) => ({ v: flatten(a), ty: { base: a.ty.base === 'int' ? 'int' : 'real', arr: 1 }, dep: a.dep }),
  to_matrix: (a, loc) => {
    const x = a[0];
    if (a.length === 1) {
      if (x.ty.base === 'matrix' && x.ty.arr === 0) return x;
      if (x.ty.arr === 2) return { v: T(x.v), ty: MAT, dep: x.dep };
      if (x.ty.base === 'vector') return { v: reshape(T(x.v), [sizes(x)[0], 1]), ty: MAT, dep: x.dep };
      if (x.ty.base === 'row_vector') return { v: reshape(T(x.v), [1, sizes(x)[0]]), ty: MAT, dep: x.dep };
      throw new StanSemanticError(loc, `to_matrix: not supported yet for ${fmtTy(x.ty)}`);
    }
    // Column-major fill, as Stan's to_matrix(v, m, n).
    const m = toNum(a[1]);
    const n = toNum(a[2]);
    return { v: transpose(reshape(flatten(x), [n, m])), ty: MAT, dep: x.dep };
  },
  to_array_2d: ([a]) => ({ v: T(a.v), ty: { base: 'real', arr: 2 }, dep: a.dep }),
  transpose: ([a]) => (a.ty.base === 'matrix' ? { v: transpose(T(a.v)), ty: MAT, dep: a.dep } : { v: a.v, ty: a.ty.base === 'vector' ? ROWVEC : VEC, dep: a.dep }),
  // ---- slicing ----
  head: ([a, n]) => ({ v: slice(T(a.v), [0], [toNum(n)]), ty: a.ty, dep: a.dep }),
  tail: ([a, n]) => {
    const t = T(a.v);
    const k = toNum(n);
    return { v: slice(T(a.v), [t.shape[0] - k], [k]), ty: a.ty, dep: a.dep };
  },
  segment: ([a, i, n]) => ({ v: sliceFirst(T(a.v), toNum(i) - 1, toNum(n)), ty: a.ty, dep: a.dep }),
  sub_col: ([m, i, j, n]) => vecOf(reshape(slice(T(m.v), [toNum(i) - 1, toNum(j) - 1], [toNum(n), 1]), [toNum(n)]), m.dep),
  sub_row: ([m, i, j, n]) => ({ v: reshape(slice(T(m.v), [toNum(i) - 1, toNum(j) - 1], [1, toNum(n)]), [toNum(n)]), ty: ROWVEC, dep: m.dep }),
  col: ([m, j]) => {
    const t = T(m.v);
    return vecOf(reshape(slice(t, [0, toNum(j) - 1], [t.shape[0], 1]), [t.shape[0]]), m.dep);
  },
  row: ([m, i]) => {
    const t = T(m.v);
    return { v: reshape(slice(t, [toNum(i) - 1, 0], [1, t.shape[1]]), [t.shape[1]]), ty: ROWVEC, dep: m.dep };
  },
  block: ([m, i, j, r, c]) => ({ v: slice(T(m.v), [toNum(i) - 1, toNum(j) - 1], [toNum(r), toNum(c)]), ty: MAT, dep: m.dep }),
  append_row: ([a, b]) => {
    const ta = isScalar(a.ty) ? reshape(T(a.v), [1]) : T(a.v);
    const tb = isScalar(b.ty) ? reshape(T(b.v), [1]) : T(b.v);
    const ty = a.ty.base === 'matrix' || b.ty.base === 'matrix' ? MAT : VEC;
    const fix = (t: Tensor, v: V): Tensor => (ty === MAT && v.ty.base === 'row_vector' ? reshape(t, [1, t.shape[0]]) : t);
    return { v: concat([fix(ta, a), fix(tb, b)], 0), ty, dep: dep([a, b]) };
  },
  append_col: ([a, b]) => {
    if (a.ty.base === 'matrix' || b.ty.base === 'matrix') {
      const fix = (v: V): Tensor => (v.ty.base === 'vector' ? reshape(T(v.v), [sizes(v)[0], 1]) : T(v.v));
      return { v: concat([fix(a), fix(b)], 1), ty: MAT, dep: dep([a, b]) };
    }
    const ta = isScalar(a.ty) ? reshape(T(a.v), [1]) : T(a.v);
    const tb = isScalar(b.ty) ? reshape(T(b.v), [1]) : T(b.v);
    return { v: concat([ta, tb], 0), ty: ROWVEC, dep: dep([a, b]) };
  },
  append_array: ([a, b]) => ({ v: concat([T(a.v), T(b.v)], 0), ty: a.ty, dep: dep([a, b]) }),
  reverse: ([a]) => {
    const t = T(a.v);
    const n = t.shape[0];
    const parts = Array.from({ length: n }, (_, i) => sliceFirst(t, n - 1 - i, 1));
    return { v: concat(parts, 0), ty: a.ty, dep: a.dep };
  },
  // ---- linear algebra ----
  cholesky_decompose: ([m]) => ({ v: cholesky(T(m.v)), ty: MAT, dep: m.dep }),
  log_determinant: ([m]) => ({ v: logdet(T(m.v)), ty: REAL, dep: m.dep }),
  multiply_lower_tri_self_transpose: ([m]) => {
    const t = tril(T(m.v));
    return { v: matmul(t, t, { transB: true }), ty: MAT, dep: m.dep };
  },
  tcrossprod: ([m]) => ({ v: matmul(T(m.v), T(m.v), { transB: true }), ty: MAT, dep: m.dep }),
  crossprod: ([m]) => ({ v: matmul(T(m.v), T(m.v), { transA: true }), ty: MAT, dep: m.dep }),
  diag_pre_multiply: ([v, m]) => ({ v: mul(reshape(T(v.v), [sizes(v)[0], 1]), T(m.v)), ty: MAT, dep: dep([v, m]) }),
  diag_post_multiply: ([m, v]) => ({ v: mul(T(m.v), reshape(T(v.v), [1, sizes(v)[0]])), ty: MAT, dep: dep([v, m]) }),
  quad_form_diag: ([m, v]) => {
    const n = sizes(v)[0];
    const t = T(v.v);
    return { v: mul(mul(T(m.v), reshape(t, [n, 1])), reshape(t, [1, n])), ty: MAT, dep: dep([v, m]) };
  },
  add_diag: ([m, d]) => {
    const n = sizes(m)[0];
    const dd = isScalar(d.ty) ? broadcastTo(T(d.v), [n]) : T(d.v);
    return { v: add(T(m.v), diagEmbed(dd)), ty: MAT, dep: dep([m, d]) };
  },
  mdivide_left_tri_low: ([l, b]) => {
    const bt = T(b.v);
    const isVec = b.ty.base === 'vector';
    const r = triangularSolve(tril(T(l.v)), isVec ? reshape(bt, [bt.shape[0], 1]) : bt, { lower: true });
    return { v: isVec ? reshape(r, [bt.shape[0]]) : r, ty: b.ty, dep: dep([l, b]) };
  },
  mdivide_right_tri_low: ([b, l]) => {
    // b L⁻¹ = (L⁻ᵀ bᵀ)ᵀ
    const bt = T(b.v);
    const isRow = b.ty.base === 'row_vector';
    const bT = isRow ? reshape(bt, [bt.shape[0], 1]) : transpose(bt);
    const r = triangularSolve(tril(T(l.v)), bT, { lower: true, transA: true });
    return { v: isRow ? reshape(r, [bt.shape[0]]) : transpose(r), ty: b.ty, dep: dep([l, b]) };
  },
  gp_exp_quad_cov: ([x, a, r], loc) => expQuad(x, a, r, loc),
  cov_exp_quad: ([x, a, r], loc) => expQuad(x, a, r, loc),
  ...MATRIX_FUNCTIONS,
};

function tril(t: Tensor): Tensor {
  const n = t.shape[0];
  const m = t.shape[1];
  const d = new Float64Array(n * m);
  for (let i = 0; i < n; i++) for (let j = 0; j <= Math.min(i, m - 1); j++) d[i * m + j] = 1;
  return mul(t, tensor(d, [n, m]));
}

function expQuad(x: V, a: V, r: V, loc: Loc): V {
  if (x.ty.arr !== 1 || rankOf(x.ty) !== 1) throw new StanSemanticError(loc, `gp_exp_quad_cov: not supported yet for x of type ${fmtTy(x.ty)} (only array[] real)`);
  const t = T(x.v);
  const n = t.shape[0];
  const d2 = square(sub(reshape(t, [n, 1]), reshape(t, [1, n])));
  const v = mul(square(T(a.v)), exp(div(mul(d2, -0.5), square(T(r.v)))));
  return { v, ty: MAT, dep: x.dep || a.dep || r.dep };
}

function sliceFirst(t: Tensor, start: number, n: number): Tensor {
  const rest = t.shape.slice(1);
  return slice(t, [start, ...rest.map(() => 0)], [n, ...rest]);
}

/** Column-major flattening for matrices (Stan's to_vector), row-major for arrays. */
function flatten(a: V): Tensor {
  const t = T(a.v);
  if (a.ty.base === 'matrix' && a.ty.arr === 0) return reshape(transpose(t), [t.size]);
  return reshape(t, [t.size]);
}

function variance(t: Tensor): Tensor {
  const m = mean(t);
  return div(sum(square(sub(t, m))), t.size - 1);
}

function minmax(a: V[], isMax: boolean): V {
  if (a.length === 2) {
    const [x, y] = a;
    const ty = x.ty.base === 'int' && y.ty.base === 'int' ? INT : REAL;
    if (typeof x.v === 'number' && typeof y.v === 'number') return { v: isMax ? Math.max(x.v, y.v) : Math.min(x.v, y.v), ty, dep: false };
    return { v: isMax ? maximum(T(x.v), T(y.v)) : minimum(T(x.v), T(y.v)), ty, dep: dep(a) };
  }
  const x = a[0];
  const ty = x.ty.base === 'int' ? INT : REAL;
  if (!x.dep) {
    const h = typeof x.v === 'number' ? [x.v] : Array.from(host(x.v));
    return { v: isMax ? Math.max(...h) : Math.min(...h), ty, dep: false };
  }
  return { v: isMax ? max(T(x.v)) : min(T(x.v)), ty, dep: x.dep };
}

/** Every built-in function name (distributions' `_lpdf` forms are handled by the interpreter). */
export function hasBuiltin(name: string): boolean {
  return Object.prototype.hasOwnProperty.call(F, name);
}

/**
 * Calls Stan's built-in `name` on `args`.
 * @throws StanSemanticError (unknown function, wrong arguments) naming `loc`.
 */
export function callBuiltin(name: string, args: V[], loc: Loc): V {
  const f = F[name];
  if (f === undefined) throw new StanSemanticError(loc, `unknown function '${name}'`);
  if (name in ARITY) need(name, args, ARITY[name], loc);
  try {
    return f(args, loc);
  } catch (e) {
    if (e instanceof StanSemanticError || e instanceof StanRuntimeError) throw e;
    throw new StanSemanticError(loc, `${name}(${args.map((x) => fmtTy(x.ty)).join(', ')}): ${(e as Error).message}`);
  }
}

const ARITY: Record<string, number | [number, number]> = { exp: 1, log: 1, sqrt: 1, square: 1, pow: 2, rep_vector: 2, rep_row_vector: 2, dot_product: 2, rep_matrix: [2, 3], sum: 1, mean: 1 };
