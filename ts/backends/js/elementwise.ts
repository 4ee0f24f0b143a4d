/** Elementwise kernels of the js reference backend: unary, binary with broadcasting, compare, where. */
import { fromBfloat16, toBfloat16, type TypedArray } from '../../core/dtype.js';
import { broadcastStrides, type Shape } from '../../core/shape.js';
import type { BinaryOp, CompareOp, UnaryOp } from '../../kernels/spec.js';
import type { CpuKernelTable, CpuView } from '../backend.js';
import { digamma, erf, erfinv, lgamma, trigamma } from './special.js';
import { gammaSampleGrad, igamma } from './igamma.js';

type F1 = (x: number) => number;
type F2 = (a: number, b: number) => number;

const UNARY: Record<UnaryOp, F1> = {
  neg: (x) => -x,
  abs: Math.abs,
  sign: (x) => (x > 0 ? 1 : x < 0 ? -1 : x),
  reciprocal: (x) => 1 / x,
  square: (x) => x * x,
  sqrt: Math.sqrt,
  rsqrt: (x) => 1 / Math.sqrt(x),
  exp: Math.exp,
  expm1: Math.expm1,
  log: Math.log,
  log1p: Math.log1p,
  sin: Math.sin,
  cos: Math.cos,
  tanh: Math.tanh,
  sigmoid: (x) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x))),
  // log(1 + e^x) without overflow: max(x, 0) + log1p(e^-|x|).
  softplus: (x) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x))),
  relu: (x) => (x > 0 ? x : 0),
  floor: Math.floor,
  ceil: Math.ceil,
  erf,
  erfinv,
  lgamma,
  digamma,
  trigamma,
};

/** Integer division truncating toward zero, as C does; division by zero gives 0. */
const idiv: F2 = (a, b) => (b === 0 ? 0 : Math.trunc(a / b));

const BINARY: Record<BinaryOp, F2> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  pow: Math.pow,
  // NaN-propagating, as NumPy's maximum/minimum.
  maximum: (a, b) => (a > b || a !== a ? a : b),
  minimum: (a, b) => (a < b || a !== a ? a : b),
};

const COMPARE: Record<CompareOp, F2> = {
  equal: (a, b) => (a === b ? 1 : 0),
  notEqual: (a, b) => (a !== b ? 1 : 0),
  less: (a, b) => (a < b ? 1 : 0),
  lessEqual: (a, b) => (a <= b ? 1 : 0),
  greater: (a, b) => (a > b ? 1 : 0),
  greaterEqual: (a, b) => (a >= b ? 1 : 0),
};

function mapUnary(f: F1, x: TypedArray, out: TypedArray): void {
  const n = out.length;
  for (let i = 0; i < n; i++) out[i] = f(x[i]);
}

/**
 * The ops that dominate small eager steps, written out in their loops. `mapUnary` and `mapBinary`
 * call each op's function through one call site shared by every op, which V8 cannot inline: a
 * call and a boxed double per element, more than the arithmetic on a few elements. Same results:
 * the expressions are those of `UNARY` and `BINARY`.
 */
type FastUnary = 'neg' | 'square' | 'sqrt' | 'exp' | 'log';
type FastBinary = 'add' | 'sub' | 'mul' | 'div';

function unaryInline(op: FastUnary, x: TypedArray, o: TypedArray): void {
  const n = o.length;
  switch (op) {
    case 'neg':
      for (let i = 0; i < n; i++) o[i] = -x[i];
      return;
    case 'square':
      for (let i = 0; i < n; i++) o[i] = x[i] * x[i];
      return;
    case 'sqrt':
      for (let i = 0; i < n; i++) o[i] = Math.sqrt(x[i]);
      return;
    case 'exp':
      for (let i = 0; i < n; i++) o[i] = Math.exp(x[i]);
      return;
    case 'log':
      for (let i = 0; i < n; i++) o[i] = Math.log(x[i]);
  }
}

/**
 * a ∘ b when each side has the output's length or a single element (read with stride 0);
 * false for the layouts that need `mapBinary`'s general broadcasting.
 */
function binaryInline(op: FastBinary, a: TypedArray, b: TypedArray, o: TypedArray): boolean {
  const n = o.length;
  const sa = a.length === n ? 1 : a.length === 1 ? 0 : -1;
  const sb = b.length === n ? 1 : b.length === 1 ? 0 : -1;
  if (sa < 0 || sb < 0) return false;
  switch (op) {
    case 'add':
      for (let i = 0; i < n; i++) o[i] = a[i * sa] + b[i * sb];
      break;
    case 'sub':
      for (let i = 0; i < n; i++) o[i] = a[i * sa] - b[i * sb];
      break;
    case 'mul':
      for (let i = 0; i < n; i++) o[i] = a[i * sa] * b[i * sb];
      break;
    case 'div':
      for (let i = 0; i < n; i++) o[i] = a[i * sa] / b[i * sb];
  }
  return true;
}

/** Calls `f(outIndex, offsetA, offsetB)` over `outShape` with broadcast strides. */
export function broadcastLoop2(outShape: Shape, sa: number[], sb: number[], f: (i: number, ia: number, ib: number) => void): void {
  const rank = outShape.length;
  const n = outShape.reduce((p, d) => p * d, 1);
  if (n === 0) return;
  const idx = new Array<number>(rank).fill(0);
  let ia = 0;
  let ib = 0;
  for (let i = 0; i < n; i++) {
    f(i, ia, ib);
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]++;
      ia += sa[d];
      ib += sb[d];
      if (idx[d] < outShape[d]) break;
      ia -= sa[d] * outShape[d];
      ib -= sb[d] * outShape[d];
      idx[d] = 0;
    }
  }
}

/** Applies `f` elementwise with NumPy broadcasting; the fast paths cover equal shapes and scalars. */
export function mapBinary(f: F2, a: CpuView, b: CpuView, out: CpuView): void {
  const x = a.data;
  const y = b.data;
  const o = out.data;
  const n = o.length;
  if (x.length === n && y.length === n) {
    for (let i = 0; i < n; i++) o[i] = f(x[i], y[i]);
  } else if (y.length === 1 && x.length === n) {
    const v = y[0];
    for (let i = 0; i < n; i++) o[i] = f(x[i], v);
  } else if (x.length === 1 && y.length === n) {
    const v = x[0];
    for (let i = 0; i < n; i++) o[i] = f(v, y[i]);
  } else {
    const sa = broadcastStrides(a.shape, out.shape);
    const sb = broadcastStrides(b.shape, out.shape);
    broadcastLoop2(out.shape, sa, sb, (i, ia, ib) => {
      o[i] = f(x[ia], y[ib]);
    });
  }
}

/**
 * int32 variants where float64 arithmetic would not wrap modulo 2³² exactly (products can exceed
 * 2⁵³): the native backends use wrapping integer arithmetic, so js must too.
 */
const INT_BINARY: Partial<Record<BinaryOp, F2>> = { div: idiv, mul: Math.imul };

/** float → int32 as Rust's `as i32` and CUDA's __double2int_rz: truncate, saturate, NaN → 0. */
function toInt32(v: number): number {
  if (v !== v) return 0;
  return v >= 2147483647 ? 2147483647 : v <= -2147483648 ? -2147483648 : Math.trunc(v);
}

export const ELEMENTWISE: CpuKernelTable = {};

for (const op of Object.keys(UNARY) as UnaryOp[]) {
  const f = UNARY[op];
  ELEMENTWISE[op] = ([x], [out]) => mapUnary(f, x.data, out.data);
}
for (const op of ['neg', 'square', 'sqrt', 'exp', 'log'] as const) {
  const f = UNARY[op];
  // int32 negation and squares (those take int32) wrap modulo 2³², as the native backends do.
  ELEMENTWISE[op] = ([x], [out]) => (x.dtype === 'int32' ? mapUnary(op === 'square' ? (v) => Math.imul(v, v) : f, x.data, out.data) : unaryInline(op, x.data, out.data));
}

for (const op of Object.keys(BINARY) as BinaryOp[]) {
  const f = BINARY[op];
  const inline = op === 'add' || op === 'sub' || op === 'mul' || op === 'div' ? op : null;
  ELEMENTWISE[op] = ([a, b], [out]) => {
    if (out.dtype === 'int32') mapBinary(INT_BINARY[op] ?? f, a, b, out);
    else if (inline === null || !binaryInline(inline, a.data, b.data, out.data)) mapBinary(f, a, b, out);
  };
}

for (const op of Object.keys(COMPARE) as CompareOp[]) {
  const f = COMPARE[op];
  ELEMENTWISE[op] = ([a, b], [out]) => mapBinary(f, a, b, out);
}

ELEMENTWISE.clamp = ([x], [out], { min, max }) => mapUnary((v) => (v < min ? min : v > max ? max : v), x.data, out.data);

ELEMENTWISE.cast = ([x], [out]) => {
  const o = out.data;
  // bfloat16 storage holds bits: read its values; write bits (float64 rounds to float32 first, as PyTorch's cast).
  const v = x.data instanceof Uint16Array ? fromBfloat16(x.data) : x.data;
  if (o instanceof Uint16Array) toBfloat16(v, o);
  else if (out.dtype === 'int32') for (let i = 0; i < o.length; i++) o[i] = toInt32(v[i]);
  else o.set(v);
};

ELEMENTWISE.where = ([c, a, b], [out]) => {
  const o = out.data;
  const sc = broadcastStrides(c.shape, out.shape);
  const sa = broadcastStrides(a.shape, out.shape);
  const sb = broadcastStrides(b.shape, out.shape);
  const rank = out.shape.length;
  const idx = new Array<number>(rank).fill(0);
  let ic = 0;
  let ia = 0;
  let ib = 0;
  for (let i = 0; i < o.length; i++) {
    o[i] = c.data[ic] !== 0 ? a.data[ia] : b.data[ib];
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]++;
      ic += sc[d];
      ia += sa[d];
      ib += sb[d];
      if (idx[d] < out.shape[d]) break;
      ic -= sc[d] * out.shape[d];
      ia -= sa[d] * out.shape[d];
      ib -= sb[d] * out.shape[d];
      idx[d] = 0;
    }
  }
};

ELEMENTWISE.igamma = ([a, x], [out]) => mapBinary(igamma, a, x, out);
ELEMENTWISE.gammaSampleGrad = ([a, x], [out]) => mapBinary(gammaSampleGrad, a, x, out);
// KL(N(loc, e^(2·logScale)) ‖ N(0, 1)) in float64, rounded once: expm1 keeps σ² − 1 accurate near σ = 1.
ELEMENTWISE.diagNormalKL = ([loc, logScale], [out]) =>
  mapBinary((m, s) => 0.5 * m * m + 0.5 * Math.expm1(2 * s) - s, loc, logScale, out);
