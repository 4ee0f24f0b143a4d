/**
 * Conformance cases: for every kernel of the spec, deterministic inputs (in the kernel's domain)
 * and attributes covering float64/float32 (int32 where allowed), broadcasting, empty and rank-0
 * shapes and at least one large input. Plus `runCase` (run one case on any backend) and
 * `compareOutputs` (per-dtype tolerances). Imports nothing from vitest, so plain node scripts
 * (the CUDA checks) can reuse it.
 */
import { allocArray, toBfloat16, type DType, type TypedArray } from '../../ts/core/dtype.js';
import { sizeOf } from '../../ts/core/shape.js';
import type { Backend } from '../../ts/backends/backend.js';
import {
  ARG_REDUCE_OPS,
  BINARY_OPS,
  COMPARE_OPS,
  INT_BINARY_OPS,
  INT_UNARY_OPS,
  KERNELS,
  REDUCE_OPS,
  UNARY_OPS,
  type KernelAttrs,
  type KernelName,
  type UnaryOp,
} from '../../ts/kernels/spec.js';

/** One input tensor of a case. */
export interface InputSpec {
  readonly dtype: DType;
  readonly shape: number[];
  readonly data: TypedArray;
}

/** Tolerance: |got − want| <= atol + rtol·|want|. */
export interface Tol {
  readonly rtol: number;
  readonly atol: number;
}

/** One conformance case: a kernel, its inputs and attributes, and an optional tolerance override. */
export interface KernelCase<N extends KernelName = KernelName> {
  readonly name: N;
  readonly label: string;
  readonly inputs: InputSpec[];
  readonly attrs: KernelAttrs[N];
  /** Overrides the dtype's default tolerance; `{rtol: 0, atol: 0}` demands bit-exact equality. */
  readonly tol?: Tol;
}

/** Default tolerances by output dtype. */
export const DEFAULT_TOL: Record<DType, Tol> = {
  float64: { rtol: 1e-10, atol: 1e-10 },
  float32: { rtol: 1e-4, atol: 1e-4 },
  int32: { rtol: 0, atol: 0 },
  bfloat16: { rtol: 0, atol: 0 },
};

/** Looser float32 tolerance for the special functions (native float32 versions may differ more). */
const SPECIAL_F32_TOL: Tol = { rtol: 1e-3, atol: 1e-4 };
const EXACT: Tol = { rtol: 0, atol: 0 };

// ---------------------------------------------------------------- deterministic inputs

/** xorshift32 (Marsaglia 2003) seeded by an FNV-1a hash of a label: same label, same numbers. */
export class Gen {
  private s: number;
  constructor(label: string) {
    let h = 0x811c9dc5;
    for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193);
    this.s = h >>> 0 || 1;
  }
  /** Uniform in [0, 1). */
  next(): number {
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return this.s / 4294967296;
  }
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }
  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  /** A tensor of `shape` whose elements come from `f`. */
  tensor(dtype: DType, shape: number[], f: (g: Gen, i: number) => number): InputSpec {
    // bfloat16 storage holds bits: the values are rounded into it.
    const values = dtype === 'bfloat16' ? new Float64Array(sizeOf(shape)) : allocArray(dtype, sizeOf(shape));
    for (let i = 0; i < values.length; i++) values[i] = f(this, i);
    return { dtype, shape, data: dtype === 'bfloat16' ? toBfloat16(values) : values };
  }
  /** Uniform floats in [lo, hi) (int32: integers in [lo, hi]). */
  range(dtype: DType, shape: number[], lo: number, hi: number): InputSpec {
    return this.tensor(dtype, shape, (g) => (dtype === 'int32' ? g.int(lo, hi) : g.uniform(lo, hi)));
  }
}

const FLOATS: readonly DType[] = ['float64', 'float32'];
const LARGE = [400, 256];

type Builder<N extends KernelName> = (g: Gen) => KernelCase<N>[];

function mk<N extends KernelName>(name: N, label: string, inputs: InputSpec[], attrs: KernelAttrs[N], tol?: Tol): KernelCase<N> {
  return { name, label, inputs, attrs, tol };
}

// ---------------------------------------------------------------- elementwise

/** Each unary op's domain [lo, hi), avoiding poles and branch cuts. */
const UNARY_DOMAIN: Record<UnaryOp, [number, number]> = {
  neg: [-10, 10], abs: [-10, 10], sign: [-3, 3], reciprocal: [0.1, 10], square: [-10, 10], sqrt: [0, 100],
  rsqrt: [0.01, 100], exp: [-20, 20], expm1: [-5, 5], log: [1e-3, 100], log1p: [-0.9, 10], sin: [-10, 10],
  cos: [-10, 10], tanh: [-20, 20], sigmoid: [-30, 30], softplus: [-30, 30], relu: [-5, 5], floor: [-10, 10],
  ceil: [-10, 10], erf: [-6, 6], erfinv: [-0.999, 0.999], lgamma: [0.05, 30], digamma: [0.05, 30], trigamma: [0.05, 30],
};
const SPECIAL: readonly UnaryOp[] = ['erf', 'erfinv', 'lgamma', 'digamma', 'trigamma'];

function unaryCases(op: UnaryOp): Builder<UnaryOp> {
  return (g) => {
    const [lo, hi] = UNARY_DOMAIN[op];
    const out: KernelCase<UnaryOp>[] = [];
    for (const dt of FLOATS) {
      const tol = dt === 'float32' && SPECIAL.includes(op) ? SPECIAL_F32_TOL : undefined;
      out.push(mk(op, `${dt} [3,4]`, [g.range(dt, [3, 4], lo, hi)], {}, tol));
      out.push(mk(op, `${dt} rank 0`, [g.range(dt, [], lo, hi)], {}, tol));
      out.push(mk(op, `${dt} empty [0,5]`, [g.range(dt, [0, 5], lo, hi)], {}, tol));
      out.push(mk(op, `${dt} large [400,256]`, [g.range(dt, LARGE, lo, hi)], {}, tol));
    }
    // reciprocal: negative values too; the gamma family: negative non-integers (float64).
    if (op === 'reciprocal') out.push(mk(op, 'float64 negative', [g.range('float64', [50], -10, -0.1)], {}));
    if (op === 'lgamma' || op === 'digamma' || op === 'trigamma')
      out.push(mk(op, 'float64 negative non-integers', [g.tensor('float64', [64], (r) => -r.int(0, 20) - r.uniform(0.05, 0.95))], {}));
    if (INT_UNARY_OPS.includes(op)) {
      out.push(mk(op, 'int32 [7,5]', [g.range('int32', [7, 5], -1000, 1000)], {}));
      // Wrap-around modulo 2³² (−2³¹ negated is itself; large squares wrap).
      out.push(mk(op, 'int32 extremes', [g.tensor('int32', [6], (r, i) => [-2147483648, 2147483647, 65536, 46341, r.int(-2e9, 2e9), 0][i])], {}));
    }
    return out;
  };
}

/** Shape pairs exercising equal shapes, broadcasting, rank 0, empty and large operands. */
const BINARY_SHAPES: [string, number[], number[]][] = [
  ['same [3,4]', [3, 4], [3, 4]],
  ['broadcast [2,1,4]x[3,1]', [2, 1, 4], [3, 1]],
  ['scalar x [5]', [], [5]],
  ['[5] x scalar', [5], []],
  ['empty [0,3]x[3]', [0, 3], [3]],
  ['large [400,256]x[256]', LARGE, [256]],
];

function binaryCases(op: (typeof BINARY_OPS)[number]): Builder<(typeof BINARY_OPS)[number]> {
  return (g) => {
    const out: KernelCase<(typeof BINARY_OPS)[number]>[] = [];
    const dts: DType[] = INT_BINARY_OPS.includes(op) ? ['float64', 'float32', 'int32'] : ['float64', 'float32'];
    for (const dt of dts)
      for (const [label, sa, sb] of BINARY_SHAPES) {
        const a = op === 'pow' ? g.range(dt, sa, 0.1, 5) : g.range(dt, sa, -100, 100);
        // Divisors stay away from zero; exponents moderate.
        const b =
          op === 'div'
            ? g.tensor(dt, sb, (r) => (r.next() < 0.5 ? -1 : 1) * (dt === 'int32' ? r.int(1, 50) : r.uniform(0.5, 50)))
            : op === 'pow'
              ? g.range(dt, sb, -3, 3)
              : g.range(dt, sb, -100, 100);
        out.push(mk(op, `${dt} ${label}`, [a, b], {}));
      }
    // int32 wraps modulo 2³²: large products and sums (division of −2³¹ by −1 wraps too).
    if (INT_BINARY_OPS.includes(op)) {
      const big = [2147483647, -2147483648, 123456789, -987654321, 65536, -2147483648];
      const other = [2, -1, 1000, 77, 65536, op === 'div' ? -1 : -2147483648];
      out.push(mk(op, 'int32 wrap-around', [g.tensor('int32', [6], (_, i) => big[i]), g.tensor('int32', [6], (_, i) => other[i])], {}));
    }
    return out;
  };
}

function compareCases(op: (typeof COMPARE_OPS)[number]): Builder<(typeof COMPARE_OPS)[number]> {
  // Small integer values so that ties (and so equal/lessEqual) actually occur.
  return (g) => {
    const out: KernelCase<(typeof COMPARE_OPS)[number]>[] = [];
    for (const dt of ['float64', 'float32', 'int32'] as DType[])
      for (const [label, sa, sb] of BINARY_SHAPES) out.push(mk(op, `${dt} ${label}`, [ints(g, dt, sa), ints(g, dt, sb)], {}));
    return out;
  };
}

function ints(g: Gen, dt: DType, shape: number[]): InputSpec {
  return g.tensor(dt, shape, (r) => r.int(-3, 3));
}

// ---------------------------------------------------------------- reductions

type ReduceName = (typeof REDUCE_OPS)[number];

/** Values for a reduction: near 1 for prod (no overflow), small integers for int32 (ties, wrap-around). */
function reduceInput(g: Gen, op: ReduceName, dt: DType, shape: number[]): InputSpec {
  if (dt === 'int32') return g.range(dt, shape, op === 'prod' ? -3 : -1000, op === 'prod' ? 3 : 1000);
  if (op === 'prod') return g.range(dt, shape, 0.8, 1.25);
  if (op === 'logsumexp') return g.range(dt, shape, 990, 1010);
  return g.range(dt, shape, -10, 10);
}

function reduceCases(op: ReduceName): Builder<ReduceName> {
  return (g) => {
    const out: KernelCase<ReduceName>[] = [];
    const dts: DType[] = op === 'logsumexp' ? ['float64', 'float32'] : ['float64', 'float32', 'int32'];
    const layouts: [string, number[], number[]][] = [
      ['[3,4,5] axes [1]', [3, 4, 5], [1]],
      ['[3,4,5] axes [0,2]', [3, 4, 5], [0, 2]],
      ['[3,4,5] all axes', [3, 4, 5], [0, 1, 2]],
      ['[3,4] no axes (copy)', [3, 4], []],
      ['rank 0', [], []],
      ['empty [0,4] axes [1]', [0, 4], [1]],
      ['large [400,256] axes [1]', LARGE, [1]],
    ];
    // Reducing an empty axis: sum → 0, prod → 1, logsumexp → −Inf (max/min reject it in the spec).
    if (op !== 'max' && op !== 'min') layouts.push(['empty axis [0,4] axes [0]', [0, 4], [0]]);
    if (op === 'sum') layouts.push(['large full [102400]', [102400], [0]]);
    for (const dt of dts)
      for (const [label, shape, axes] of layouts)
        for (const keepDims of [false, true]) out.push(mk(op, `${dt} ${label} keepDims=${keepDims}`, [reduceInput(g, op, dt, shape)], { axes, keepDims }));
    if (op !== 'sum' && op !== 'prod') {
      // Infinities and NaN: logsumexp's ±Inf rows, NaN propagation in max/min.
      const x = g.range('float64', [4, 3], -5, 5);
      x.data.set([-Infinity, -Infinity, -Infinity, Infinity, 1, 2, NaN, 0, 1], 0);
      out.push(mk(op, 'float64 with ±Inf and NaN', [x], { axes: [1], keepDims: false }));
    }
    return out;
  };
}

function argCases(op: (typeof ARG_REDUCE_OPS)[number]): Builder<(typeof ARG_REDUCE_OPS)[number]> {
  return (g) => {
    const out: KernelCase<(typeof ARG_REDUCE_OPS)[number]>[] = [];
    for (const dt of ['float64', 'float32', 'int32'] as DType[]) {
      // Small integers: ties, where the first index must win.
      out.push(mk(op, `${dt} [3,4,5] axis 1`, [ints(g, dt, [3, 4, 5])], { axis: 1, keepDims: false }));
      out.push(mk(op, `${dt} [3,4,5] axis 0 keepDims`, [ints(g, dt, [3, 4, 5])], { axis: 0, keepDims: true }));
      out.push(mk(op, `${dt} [6] axis 0`, [ints(g, dt, [6])], { axis: 0, keepDims: false }));
      out.push(mk(op, `${dt} empty [0,4] axis 1`, [ints(g, dt, [0, 4])], { axis: 1, keepDims: false }));
      out.push(mk(op, `${dt} large [400,256] axis 1`, [g.range(dt, LARGE, -1e6, 1e6)], { axis: 1, keepDims: false }));
    }
    const x = g.range('float64', [3, 4], -5, 5);
    x.data.set([NaN, 1, NaN, 2, 0, -Infinity, Infinity, 3], 0);
    out.push(mk(op, 'float64 NaN and ±Inf', [x], { axis: 1, keepDims: false }));
    return out;
  };
}

function softmaxCases<N extends 'softmax' | 'logSoftmax'>(op: N): Builder<N> {
  return (g) => {
    const out: KernelCase<N>[] = [];
    for (const dt of FLOATS) {
      out.push(mk(op, `${dt} [3,4,5] axis 2`, [g.range(dt, [3, 4, 5], -10, 10)], { axis: 2 } as KernelAttrs[N]));
      out.push(mk(op, `${dt} [3,4,5] axis 1`, [g.range(dt, [3, 4, 5], -10, 10)], { axis: 1 } as KernelAttrs[N]));
      out.push(mk(op, `${dt} large values [4,6] axis 1`, [g.range(dt, [4, 6], 500, 800)], { axis: 1 } as KernelAttrs[N]));
      out.push(mk(op, `${dt} empty [0,3] axis 1`, [g.range(dt, [0, 3], -1, 1)], { axis: 1 } as KernelAttrs[N]));
      out.push(mk(op, `${dt} large [400,256] axis 1`, [g.range(dt, LARGE, -10, 10)], { axis: 1 } as KernelAttrs[N]));
    }
    return out;
  };
}

const cumsumCases: Builder<'cumsum'> = (g) => {
  const out: KernelCase<'cumsum'>[] = [];
  for (const dt of ['float64', 'float32', 'int32'] as DType[])
    for (const reverse of [false, true]) {
      out.push(mk('cumsum', `${dt} [3,4,5] axis 1 reverse=${reverse}`, [g.range(dt, [3, 4, 5], -10, 10)], { axis: 1, reverse }));
      out.push(mk('cumsum', `${dt} [7] axis 0 reverse=${reverse}`, [g.range(dt, [7], -10, 10)], { axis: 0, reverse }));
      out.push(mk('cumsum', `${dt} empty [0,3] axis 1 reverse=${reverse}`, [g.range(dt, [0, 3], -1, 1)], { axis: 1, reverse }));
      out.push(mk('cumsum', `${dt} large [400,256] axis 1 reverse=${reverse}`, [g.range(dt, LARGE, 0, 1)], { axis: 1, reverse }));
    }
  return out;
};

// ---------------------------------------------------------------- other elementwise

const clampCases: Builder<'clamp'> = (g) =>
  (['float64', 'float32', 'int32'] as DType[]).flatMap((dt) => [
    mk('clamp', `${dt} [3,4]`, [g.range(dt, [3, 4], -10, 10)], { min: -3, max: 4 }),
    mk('clamp', `${dt} rank 0`, [g.range(dt, [], -10, 10)], { min: 0, max: 1 }),
    mk('clamp', `${dt} large`, [g.range(dt, LARGE, -10, 10)], { min: -1, max: 1 }),
  ]);

const whereCases: Builder<'where'> = (g) =>
  (['float64', 'float32', 'int32'] as DType[]).flatMap((dt) => [
    mk('where', `${dt} same [3,4]`, [g.range('int32', [3, 4], 0, 1), g.range(dt, [3, 4], -9, 9), g.range(dt, [3, 4], -9, 9)], {}),
    mk('where', `${dt} broadcast [3,1]/[4]/[]`, [g.range('int32', [3, 1], 0, 1), g.range(dt, [4], -9, 9), g.range(dt, [], -9, 9)], {}),
    mk('where', `${dt} float condition`, [g.tensor('float64', [5], (r) => r.int(0, 2) - 1), g.range(dt, [5], -9, 9), g.range(dt, [5], -9, 9)], {}),
    mk('where', `${dt} empty`, [g.range('int32', [0, 2], 0, 1), g.range(dt, [2], -9, 9), g.range(dt, [0, 2], -9, 9)], {}),
    mk('where', `${dt} large`, [g.range('int32', LARGE, 0, 1), g.range(dt, LARGE, -9, 9), g.range(dt, [256], -9, 9)], {}),
  ]);

const castCases: Builder<'cast'> = (g) => {
  const out: KernelCase<'cast'>[] = [];
  for (const from of ['float64', 'float32', 'int32'] as DType[])
    for (const to of ['float64', 'float32', 'int32'] as DType[]) {
      out.push(mk('cast', `${from}→${to} [3,4]`, [g.range(from, [3, 4], -100, 100)], { dtype: to }));
      out.push(mk('cast', `${from}→${to} empty`, [g.range(from, [0], -1, 1)], { dtype: to }));
    }
  out.push(mk('cast', 'float64→float32 large', [g.range('float64', LARGE, -1e6, 1e6)], { dtype: 'float32' }, EXACT));
  // float → int32 truncates toward zero, saturates out of range and maps NaN to 0.
  const edge = [2.5, -2.5, 0.99, -0.99, 1e10, -1e10, Infinity, -Infinity, NaN, 2147483647.5, -2147483648.5];
  for (const from of FLOATS) out.push(mk('cast', `${from}→int32 saturating`, [g.tensor(from, [edge.length], (_, i) => edge[i])], { dtype: 'int32' }));
  // bfloat16 storage: rounding to nearest even (ties, overflow, NaN) and back, exactly.
  const ties = [1 + 2 ** -8, 1 + 3 * 2 ** -8, -(1 + 2 ** -8), 3.39e38, 1e39, -1e39, 1e-40, Infinity, -Infinity, NaN, -0];
  for (const from of ['float64', 'float32', 'int32'] as DType[]) {
    out.push(mk('cast', `${from}→bfloat16 [3,4]`, [g.range(from, [3, 4], -100, 100)], { dtype: 'bfloat16' }));
    out.push(mk('cast', `bfloat16→${from} [3,4]`, [g.range('bfloat16', [3, 4], -100, 100)], { dtype: from }));
  }
  for (const from of FLOATS) out.push(mk('cast', `${from}→bfloat16 ties, overflow, NaN`, [g.tensor(from, [ties.length], (_, i) => ties[i])], { dtype: 'bfloat16' }));
  out.push(mk('cast', 'float32→bfloat16 large', [g.range('float32', LARGE, -1e6, 1e6)], { dtype: 'bfloat16' }));
  out.push(mk('cast', 'bfloat16→bfloat16 empty', [g.range('bfloat16', [0], -1, 1)], { dtype: 'bfloat16' }));
  return out;
};

const oneHotCases: Builder<'oneHot'> = (g) =>
  (['float64', 'float32', 'int32'] as DType[]).flatMap((dt) => [
    // −1 and depth are out of range: all-zero rows.
    mk('oneHot', `→${dt} [2,3] with out-of-range`, [g.range('int32', [2, 3], -1, 5)], { depth: 5, dtype: dt }),
    mk('oneHot', `→${dt} rank 0`, [g.range('int32', [], 0, 3)], { depth: 4, dtype: dt }),
    mk('oneHot', `→${dt} empty`, [g.range('int32', [0], 0, 3)], { depth: 4, dtype: dt }),
    mk('oneHot', `→${dt} depth 0`, [g.range('int32', [3], 0, 3)], { depth: 0, dtype: dt }),
    mk('oneHot', `→${dt} large`, [g.range('int32', [4096], 0, 31)], { depth: 32, dtype: dt }),
  ]);

const igammaCases = <N extends 'igamma' | 'gammaSampleGrad'>(op: N): Builder<N> => (g) =>
  FLOATS.flatMap((dt) => [
    mk(op, `${dt} [3,4]`, [g.range(dt, [3, 4], 0.2, 10), g.range(dt, [3, 4], 0.01, 20)], {} as KernelAttrs[N], dt === 'float32' ? SPECIAL_F32_TOL : undefined),
    mk(op, `${dt} broadcast [4,1]x[5]`, [g.range(dt, [4, 1], 0.2, 10), g.range(dt, [5], 0.01, 20)], {} as KernelAttrs[N], dt === 'float32' ? SPECIAL_F32_TOL : undefined),
    mk(op, `${dt} empty`, [g.range(dt, [0], 0.2, 10), g.range(dt, [0], 0.01, 20)], {} as KernelAttrs[N]),
  ]);

// ---------------------------------------------------------------- linear algebra

const matmulCases: Builder<'matmul'> = (g) => {
  const out: KernelCase<'matmul'>[] = [];
  const m = (dt: DType, s: number[]): InputSpec => g.range(dt, s, -1, 1);
  for (const dt of FLOATS) {
    for (const transA of [false, true])
      for (const transB of [false, true]) {
        const a = transA ? [4, 3] : [3, 4];
        const b = transB ? [5, 4] : [4, 5];
        out.push(mk('matmul', `${dt} [3,4]·[4,5] transA=${transA} transB=${transB}`, [m(dt, a), m(dt, b)], { transA, transB }));
        out.push(mk('matmul', `${dt} batch broadcast transA=${transA} transB=${transB}`, [m(dt, [2, 1, ...a]), m(dt, [3, ...b])], { transA, transB }));
      }
    out.push(mk('matmul', `${dt} inner dimension 0`, [m(dt, [3, 0]), m(dt, [0, 2])], { transA: false, transB: false }));
    out.push(mk('matmul', `${dt} empty batch`, [m(dt, [0, 2, 3]), m(dt, [3, 2])], { transA: false, transB: false }));
    out.push(mk('matmul', `${dt} vector-shaped [1,4]·[4,1]`, [m(dt, [1, 4]), m(dt, [4, 1])], { transA: false, transB: false }));
    out.push(mk('matmul', `${dt} large 256x256`, [m(dt, [256, 256]), m(dt, [256, 256])], { transA: false, transB: false }));
    // Odd sides across the blocked product's tiles (MR 6 or 8 rows, NR 8 to 32 columns), its
    // reduction slices (KC 256: k = 301, 513), its row blocks (MC ≤ 192: m = 257) and its
    // parallel threshold, in every layout; a reduction shorter than a vector (k = 5, a MADE's
    // first layer) and a batch broadcast over blocked products.
    const blocked: [number, number, number][] = [[65, 65, 67], [257, 40, 301], [9, 129, 513], [512, 64, 5]];
    for (const [mm, nn, kk] of blocked)
      for (const transA of [false, true])
        for (const transB of [false, true]) {
          const a = transA ? [kk, mm] : [mm, kk];
          const b = transB ? [nn, kk] : [kk, nn];
          out.push(mk('matmul', `${dt} blocked ${mm}x${nn}x${kk} transA=${transA} transB=${transB}`, [m(dt, a), m(dt, b)], { transA, transB }));
        }
    out.push(mk('matmul', `${dt} batch broadcast blocked [3,65,40]·[40,70]`, [m(dt, [3, 65, 40]), m(dt, [40, 70])], { transA: false, transB: false }));
  }
  // bfloat16 storage: float32 accumulation and result.
  for (const [transA, transB] of [[false, false], [true, false], [false, true], [true, true]]) {
    const a = transA ? [4, 3] : [3, 4];
    const b = transB ? [5, 4] : [4, 5];
    out.push(mk('matmul', `bfloat16 batch broadcast transA=${transA} transB=${transB}`, [m('bfloat16', [2, 1, ...a]), m('bfloat16', [3, ...b])], { transA, transB }));
  }
  out.push(mk('matmul', 'bfloat16 large 256x256', [m('bfloat16', [256, 256]), m('bfloat16', [256, 256])], { transA: false, transB: false }));
  return out;
};

/** Symmetric positive-definite matrices A Aᵀ + n I, as a batch of `shape` = [..., n, n]. */
function spd(g: Gen, dt: DType, shape: number[]): InputSpec {
  const n = shape[shape.length - 1];
  const batch = sizeOf(shape) / Math.max(1, n * n);
  const x = allocArray(dt, sizeOf(shape));
  for (let b = 0; b < batch; b++) {
    const a = Array.from({ length: n * n }, () => g.uniform(-1, 1));
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        let s = i === j ? n : 0;
        for (let k = 0; k < n; k++) s += a[i * n + k] * a[j * n + k];
        x[b * n * n + i * n + j] = s;
      }
  }
  return { dtype: dt, shape, data: x };
}

const choleskyCases: Builder<'cholesky'> = (g) =>
  FLOATS.flatMap((dt) => [
    mk('cholesky', `${dt} [4,4]`, [spd(g, dt, [4, 4])], {}),
    mk('cholesky', `${dt} batch [3,2,5,5]`, [spd(g, dt, [3, 2, 5, 5])], {}),
    mk('cholesky', `${dt} [1,1]`, [spd(g, dt, [1, 1])], {}),
    mk('cholesky', `${dt} empty batch [0,3,3]`, [spd(g, dt, [0, 3, 3])], {}),
    mk('cholesky', `${dt} large batch [64,16,16]`, [spd(g, dt, [64, 16, 16])], {}),
    mk('cholesky', `${dt} large [128,128]`, [spd(g, dt, [128, 128])], {}),
    // From 256 the cuda backend hands the factorization to cuSOLVER where it can load it.
    mk('cholesky', `${dt} large [2,300,300] (cuSOLVER on cuda)`, [spd(g, dt, [2, 300, 300])], {}),
  ]);

/**
 * Well-conditioned triangular matrices: diagonal in [1, 2], the held triangle in ±1/n, and the
 * other triangle filled with noise that the kernel must ignore.
 */
function triangular(g: Gen, dt: DType, shape: number[], lower: boolean): InputSpec {
  const n = shape[shape.length - 1];
  return g.tensor(dt, shape, (r, t) => {
    const i = Math.floor(t / n) % n;
    const j = t % n;
    if (i === j) return r.uniform(1, 2);
    return (i > j) === lower ? r.uniform(-1, 1) / n : r.uniform(-50, 50);
  });
}

const solveCases: Builder<'triangularSolve'> = (g) => {
  const out: KernelCase<'triangularSolve'>[] = [];
  for (const dt of FLOATS)
    for (const lower of [true, false])
      for (const transA of [false, true]) {
        const at = { lower, transA };
        const tag = `${dt} lower=${lower} transA=${transA}`;
        out.push(mk('triangularSolve', `${tag} [4,4]\\[4,3]`, [triangular(g, dt, [4, 4], lower), g.range(dt, [4, 3], -1, 1)], at));
        out.push(mk('triangularSolve', `${tag} batch broadcast`, [triangular(g, dt, [2, 1, 4, 4], lower), g.range(dt, [3, 4, 2], -1, 1)], at));
        out.push(mk('triangularSolve', `${tag} empty rhs`, [triangular(g, dt, [3, 3], lower), g.range(dt, [3, 0], -1, 1)], at));
        out.push(mk('triangularSolve', `${tag} large [128,128]\\[128,64]`, [triangular(g, dt, [128, 128], lower), g.range(dt, [128, 64], -1, 1)], at));
      }
  return out;
};

// ---------------------------------------------------------------- shape

/** Values that are exact in every dtype, for the pure data-movement kernels. */
function vals(g: Gen, dt: DType, shape: number[]): InputSpec {
  return g.range(dt, shape, -1000, 1000);
}

/** Shape kernels move data without arithmetic: every dtype, compared exactly. */
const ALL: readonly DType[] = ['float64', 'float32', 'int32'];

const shapeBuilders: { [N in 'reshape' | 'transpose' | 'slice' | 'pad' | 'concat' | 'broadcastTo' | 'diagonal' | 'diagEmbed' | 'tril']: Builder<N> } = {
  reshape: (g) =>
    ALL.flatMap((dt) => [
      mk('reshape', `${dt} [2,3,4]→[6,4]`, [vals(g, dt, [2, 3, 4])], { shape: [6, 4] }, EXACT),
      mk('reshape', `${dt} rank 0→[1]`, [vals(g, dt, [])], { shape: [1] }, EXACT),
      mk('reshape', `${dt} empty`, [vals(g, dt, [0, 3])], { shape: [3, 0] }, EXACT),
      mk('reshape', `${dt} large`, [vals(g, dt, LARGE)], { shape: [256, 400] }, EXACT),
    ]),
  transpose: (g) =>
    ALL.flatMap((dt) => [
      mk('transpose', `${dt} [3,4]`, [vals(g, dt, [3, 4])], { perm: [1, 0] }, EXACT),
      mk('transpose', `${dt} [2,3,4] perm [2,0,1]`, [vals(g, dt, [2, 3, 4])], { perm: [2, 0, 1] }, EXACT),
      mk('transpose', `${dt} rank 0`, [vals(g, dt, [])], { perm: [] }, EXACT),
      mk('transpose', `${dt} empty`, [vals(g, dt, [0, 3, 2])], { perm: [1, 2, 0] }, EXACT),
      mk('transpose', `${dt} large`, [vals(g, dt, LARGE)], { perm: [1, 0] }, EXACT),
    ]),
  slice: (g) =>
    ALL.flatMap((dt) => [
      mk('slice', `${dt} [4,5]`, [vals(g, dt, [4, 5])], { begin: [1, 2], size: [2, 3] }, EXACT),
      mk('slice', `${dt} [3,4,5]`, [vals(g, dt, [3, 4, 5])], { begin: [0, 1, 4], size: [3, 2, 1] }, EXACT),
      mk('slice', `${dt} to empty`, [vals(g, dt, [3, 4])], { begin: [3, 0], size: [0, 4] }, EXACT),
      mk('slice', `${dt} rank 0`, [vals(g, dt, [])], { begin: [], size: [] }, EXACT),
      mk('slice', `${dt} large`, [vals(g, dt, LARGE)], { begin: [10, 3], size: [380, 250] }, EXACT),
    ]),
  pad: (g) =>
    ALL.flatMap((dt) => [
      mk('pad', `${dt} [2,3]`, [vals(g, dt, [2, 3])], { before: [1, 0], after: [2, 3], value: 7 }, EXACT),
      mk('pad', `${dt} [2,3,2]`, [vals(g, dt, [2, 3, 2])], { before: [0, 2, 1], after: [1, 0, 1], value: -1 }, EXACT),
      mk('pad', `${dt} empty input`, [vals(g, dt, [0, 2])], { before: [1, 1], after: [1, 0], value: 3 }, EXACT),
      mk('pad', `${dt} rank 0`, [vals(g, dt, [])], { before: [], after: [], value: 0 }, EXACT),
      mk('pad', `${dt} large`, [vals(g, dt, LARGE)], { before: [2, 2], after: [2, 2], value: 0 }, EXACT),
    ]),
  concat: (g) =>
    ALL.flatMap((dt) => [
      mk('concat', `${dt} axis 1 of three`, [vals(g, dt, [2, 3]), vals(g, dt, [2, 1]), vals(g, dt, [2, 4])], { axis: 1 }, EXACT),
      mk('concat', `${dt} axis 0 with an empty part`, [vals(g, dt, [2, 3]), vals(g, dt, [0, 3]), vals(g, dt, [1, 3])], { axis: 0 }, EXACT),
      mk('concat', `${dt} single`, [vals(g, dt, [3])], { axis: 0 }, EXACT),
      mk('concat', `${dt} large`, [vals(g, dt, LARGE), vals(g, dt, [400, 100])], { axis: 1 }, EXACT),
    ]),
  broadcastTo: (g) =>
    ALL.flatMap((dt) => [
      mk('broadcastTo', `${dt} [3,1]→[2,3,4]`, [vals(g, dt, [3, 1])], { shape: [2, 3, 4] }, EXACT),
      mk('broadcastTo', `${dt} rank 0→[5]`, [vals(g, dt, [])], { shape: [5] }, EXACT),
      mk('broadcastTo', `${dt} →empty`, [vals(g, dt, [1, 3])], { shape: [0, 3] }, EXACT),
      mk('broadcastTo', `${dt} large`, [vals(g, dt, [256])], { shape: LARGE }, EXACT),
    ]),
  diagonal: (g) =>
    ALL.flatMap((dt) => [
      mk('diagonal', `${dt} [3,4]`, [vals(g, dt, [3, 4])], {}, EXACT),
      mk('diagonal', `${dt} [2,5,3]`, [vals(g, dt, [2, 5, 3])], {}, EXACT),
      mk('diagonal', `${dt} empty batch`, [vals(g, dt, [0, 2, 2])], {}, EXACT),
      mk('diagonal', `${dt} large`, [vals(g, dt, [8, 128, 128])], {}, EXACT),
    ]),
  diagEmbed: (g) =>
    ALL.flatMap((dt) => [
      mk('diagEmbed', `${dt} [3]`, [vals(g, dt, [3])], {}, EXACT),
      mk('diagEmbed', `${dt} [2,4]`, [vals(g, dt, [2, 4])], {}, EXACT),
      mk('diagEmbed', `${dt} empty`, [vals(g, dt, [0])], {}, EXACT),
      mk('diagEmbed', `${dt} large`, [vals(g, dt, [4, 200])], {}, EXACT),
    ]),
  tril: (g) =>
    ALL.flatMap((dt) =>
      [0, -1, 2].flatMap((k) => [
        mk('tril', `${dt} [4,5] k=${k}`, [vals(g, dt, [4, 5])], { k }, EXACT),
        mk('tril', `${dt} [2,3,3] k=${k}`, [vals(g, dt, [2, 3, 3])], { k }, EXACT),
        mk('tril', `${dt} empty k=${k}`, [vals(g, dt, [0, 3, 3])], { k }, EXACT),
        mk('tril', `${dt} large k=${k}`, [vals(g, dt, [4, 128, 200])], { k }, EXACT),
      ]),
    ),
};

const gatherCases: Builder<'gather'> = (g) =>
  ALL.flatMap((dt) => [
    mk('gather', `${dt} axis 0, [4] indices`, [vals(g, dt, [5, 3]), g.range('int32', [4], 0, 4)], { axis: 0 }, EXACT),
    mk('gather', `${dt} axis 1, [2,3] indices`, [vals(g, dt, [2, 5, 3]), g.range('int32', [2, 3], 0, 4)], { axis: 1 }, EXACT),
    mk('gather', `${dt} axis 1, rank-0 index`, [vals(g, dt, [2, 5]), g.range('int32', [], 0, 4)], { axis: 1 }, EXACT),
    mk('gather', `${dt} empty indices`, [vals(g, dt, [5, 3]), g.range('int32', [0], 0, 4)], { axis: 0 }, EXACT),
    mk('gather', `${dt} large`, [vals(g, dt, [1000, 128]), g.range('int32', [1000], 0, 999)], { axis: 0 }, EXACT),
  ]);

const scatterCases: Builder<'scatterAdd'> = (g) =>
  ALL.flatMap((dt) => [
    // Repeated indices accumulate; small integers keep float sums exact in any order.
    mk('scatterAdd', `${dt} axis 0 repeated`, [ints(g, dt, [6, 3]), g.range('int32', [6], 0, 3)], { axis: 0, size: 4 }, EXACT),
    mk('scatterAdd', `${dt} axis 1, [2,3] indices`, [ints(g, dt, [2, 2, 3, 4]), g.range('int32', [2, 3], 0, 4)], { axis: 1, size: 5 }, EXACT),
    mk('scatterAdd', `${dt} rank-0 index`, [ints(g, dt, [2]), g.range('int32', [], 0, 2)], { axis: 1, size: 3 } as KernelAttrs['scatterAdd'], EXACT),
    mk('scatterAdd', `${dt} empty indices`, [ints(g, dt, [0, 3]), g.range('int32', [0], 0, 2)], { axis: 0, size: 3 }, EXACT),
    mk('scatterAdd', `${dt} large`, [ints(g, dt, [4096, 64]), g.range('int32', [4096], 0, 99)], { axis: 0, size: 100 }, EXACT),
  ]);

// ---------------------------------------------------------------- random

const KEYS: [number, number][] = [
  [0, 0],
  [42, 0],
  [0xdeadbeef, 0x12345678],
];

/** Rejection samplers: an ulp of libm difference can move an accept/reject edge, so a touch looser. */
const RANDOM_TOL: Record<DType, Tol> = { float64: { rtol: 1e-8, atol: 1e-8 }, float32: { rtol: 1e-4, atol: 1e-4 }, int32: EXACT, bfloat16: EXACT };

const randomBuilders: { [N in 'randomBits' | 'randomUniform' | 'randomNormal' | 'randomSubset' | 'randomGamma' | 'randomPoisson']: Builder<N> } = {
  randomBits: () =>
    KEYS.flatMap((key) => [
      mk('randomBits', `key ${key} [3,5]`, [], { key, shape: [3, 5] }, EXACT),
      mk('randomBits', `key ${key} rank 0`, [], { key, shape: [] }, EXACT),
      mk('randomBits', `key ${key} empty`, [], { key, shape: [0] }, EXACT),
      mk('randomBits', `key ${key} large`, [], { key, shape: [102401] }, EXACT),
    ]),
  randomUniform: () =>
    KEYS.flatMap((key) =>
      FLOATS.flatMap((dtype) => [
        mk('randomUniform', `${dtype} key ${key} [7]`, [], { key, shape: [7], dtype }, EXACT),
        mk('randomUniform', `${dtype} key ${key} rank 0`, [], { key, shape: [], dtype }, EXACT),
        mk('randomUniform', `${dtype} key ${key} large`, [], { key, shape: [400, 257], dtype }, EXACT),
      ]),
    ),
  randomNormal: () =>
    KEYS.flatMap((key) =>
      FLOATS.flatMap((dtype) => [
        mk('randomNormal', `${dtype} key ${key} odd [7]`, [], { key, shape: [7], dtype }),
        mk('randomNormal', `${dtype} key ${key} rank 0`, [], { key, shape: [], dtype }),
        mk('randomNormal', `${dtype} key ${key} large`, [], { key, shape: [400, 257], dtype }),
      ]),
    ),
  randomSubset: () =>
    KEYS.flatMap((key) => [
      mk('randomSubset', `key ${key} 5 of 12`, [], { key, n: 12, shape: [5] }, EXACT),
      mk('randomSubset', `key ${key} all of 9`, [], { key, n: 9, shape: [9] }, EXACT),
      mk('randomSubset', `key ${key} none`, [], { key, n: 4, shape: [0] }, EXACT),
      mk('randomSubset', `key ${key} large`, [], { key, n: 1_000_000, shape: [10000] }, EXACT),
    ]),
  randomGamma: (g) =>
    KEYS.flatMap((key) =>
      FLOATS.flatMap((dt) => [
        mk('randomGamma', `${dt} key ${key} alpha in [0.1, 20)`, [g.range(dt, [4, 8], 0.1, 20)], { key }, RANDOM_TOL[dt]),
        mk('randomGamma', `${dt} key ${key} empty`, [g.range(dt, [0], 0.1, 20)], { key }),
        mk('randomGamma', `${dt} key ${key} large`, [g.range(dt, [20000], 0.1, 5)], { key }, RANDOM_TOL[dt]),
      ]),
    ),
  randomPoisson: (g) =>
    KEYS.flatMap((key) =>
      FLOATS.flatMap((dt) => [
        mk('randomPoisson', `${dt} key ${key} rates in [0, 40)`, [g.range(dt, [4, 8], 0, 40)], { key }, RANDOM_TOL[dt]),
        mk('randomPoisson', `${dt} key ${key} empty`, [g.range(dt, [0], 0.1, 20)], { key }),
        mk('randomPoisson', `${dt} key ${key} large`, [g.range(dt, [20000], 0.1, 30)], { key }, RANDOM_TOL[dt]),
      ]),
    ),
};


// ---------------------------------------------------------------- the table

const BUILDERS: { [N in KernelName]?: Builder<N> } = {
  ...shapeBuilders,
  ...randomBuilders,
  cumsum: cumsumCases,
  clamp: clampCases,
  where: whereCases,
  cast: castCases,
  oneHot: oneHotCases,
  softmax: softmaxCases('softmax'),
  logSoftmax: softmaxCases('logSoftmax'),
  matmul: matmulCases,
  cholesky: choleskyCases,
  triangularSolve: solveCases,
  gather: gatherCases,
  scatterAdd: scatterCases,
  igamma: igammaCases('igamma'),
  gammaSampleGrad: igammaCases('gammaSampleGrad'),
};
const table = BUILDERS as Record<string, Builder<KernelName> | undefined>;
for (const op of UNARY_OPS) table[op] = unaryCases(op) as Builder<KernelName>;
for (const op of BINARY_OPS) table[op] = binaryCases(op) as Builder<KernelName>;
for (const op of COMPARE_OPS) table[op] = compareCases(op) as Builder<KernelName>;
for (const op of REDUCE_OPS) table[op] = reduceCases(op) as Builder<KernelName>;
for (const op of ARG_REDUCE_OPS) table[op] = argCases(op) as Builder<KernelName>;

// ---------------------------------------------------------------- Bessel and von Mises

/** i0e/i1e across the series/asymptotic switch at |x| = 25, both signs, and the edges. */
const besselCases = <N extends 'besselI0e' | 'besselI1e'>(op: N): Builder<N> => (g) => [
  ...FLOATS.flatMap((dt) => {
    const tol = dt === 'float32' ? SPECIAL_F32_TOL : undefined;
    return [
      mk(op, `${dt} [3,4] in (−10, 10)`, [g.range(dt, [3, 4], -10, 10)], {} as KernelAttrs[N], tol),
      mk(op, `${dt} rank 0`, [g.range(dt, [], 0, 5)], {} as KernelAttrs[N], tol),
      mk(op, `${dt} empty`, [g.range(dt, [0, 3], 0, 5)], {} as KernelAttrs[N]),
      mk(op, `${dt} large, |x| up to 800`, [g.range(dt, LARGE, -800, 800)], {} as KernelAttrs[N], tol),
    ];
  }),
  mk(op, 'float64 around the switch and the edges', [g.tensor('float64', [10], (_, i) => [24.999, 25, 25.001, -25.001, 0, -0, 1e-300, Infinity, -Infinity, NaN][i])], {} as KernelAttrs[N]),
];

const vonMisesGradCases: Builder<'vonMisesSampleGrad'> = (g) =>
  FLOATS.flatMap((dt) => {
    const tol = dt === 'float32' ? SPECIAL_F32_TOL : undefined;
    return [
      // Concentrations on both sides of the series/normal-approximation switch at 50.
      mk('vonMisesSampleGrad', `${dt} [3,4]`, [g.range(dt, [3, 4], 0.05, 80), g.range(dt, [3, 4], -3, 3)], {}, tol),
      mk('vonMisesSampleGrad', `${dt} broadcast [4,1]x[5]`, [g.range(dt, [4, 1], 0.05, 20), g.range(dt, [5], -1, 1)], {}, tol),
      mk('vonMisesSampleGrad', `${dt} empty`, [g.range(dt, [0], 0.1, 5), g.range(dt, [0], -1, 1)], {}),
    ];
  });

const randomVonMisesCases: Builder<'randomVonMises'> = (g) =>
  KEYS.flatMap((key) =>
    FLOATS.flatMap((dt) => [
      mk('randomVonMises', `${dt} key ${key} kappa in [0, 50)`, [g.range(dt, [4, 8], 0, 50)], { key }, RANDOM_TOL[dt]),
      mk('randomVonMises', `${dt} key ${key} empty`, [g.range(dt, [0], 0.1, 5)], { key }),
      mk('randomVonMises', `${dt} key ${key} large`, [g.range(dt, [20000], 0, 10)], { key }, RANDOM_TOL[dt]),
    ]),
  );

table.besselI0e = besselCases('besselI0e') as Builder<KernelName>;
table.besselI1e = besselCases('besselI1e') as Builder<KernelName>;
table.vonMisesSampleGrad = vonMisesGradCases as Builder<KernelName>;
table.randomVonMises = randomVonMisesCases as Builder<KernelName>;

// ---------------------------------------------------------------- fused Gaussian kernels

/** loc and logScale shapes: odd sizes (a Box–Muller pair cut in half), broadcasts, scalars, empty, large. */
const GAUSS_SHAPES: [string, number[], number[]][] = [
  ['same odd [7]', [7], [7]],
  ['same [3,4]', [3, 4], [3, 4]],
  ['broadcast [2,1,4]x[3,1]', [2, 1, 4], [3, 1]],
  ['scalar loc x [5]', [], [5]],
  ['[2,3] x scalar logScale', [2, 3], []],
  ['rank 0', [], []],
  ['empty [0,3]x[3]', [0, 3], [3]],
  ['large [400,256]x[256]', LARGE, [256]],
];

// Every key on the first shape, one key on the rest: the keys matter to ε only.
const normalReparamCases: Builder<'normalReparam'> = (g) =>
  FLOATS.flatMap((dt) =>
    GAUSS_SHAPES.flatMap(([label, sl, ss], i) =>
      (i === 0 ? KEYS : [KEYS[2]]).map((key) =>
        mk('normalReparam', `${dt} key ${key} ${label}`, [g.range(dt, sl, -5, 5), g.range(dt, ss, -3, 3)], { key }),
      ),
    ),
  );

const diagNormalKLCases: Builder<'diagNormalKL'> = (g) =>
  FLOATS.flatMap((dt) => [
    ...GAUSS_SHAPES.map(([label, sl, ss]) => mk('diagNormalKL', `${dt} ${label}`, [g.range(dt, sl, -5, 5), g.range(dt, ss, -3, 3)], {})),
    // Near σ = 1, loc = 0, where σ² − 1 − 2·logScale cancels.
    mk('diagNormalKL', `${dt} near the minimum`, [g.range(dt, [16], -1e-3, 1e-3), g.range(dt, [16], -1e-3, 1e-3)], {}),
  ]);

table.normalReparam = normalReparamCases as Builder<KernelName>;
table.diagNormalKL = diagNormalKLCases as Builder<KernelName>;

// ---------------------------------------------------------------- Cholesky-guide sample

/**
 * mvnReparam: loc and scaleTril shapes (d = 1, odd d cutting a Box–Muller pair, broadcast batch
 * dims either way, an empty batch, large batches on the parallel and warp-per-row paths); L has a
 * diagonal away from 0 of either sign and an upper triangle that must be ignored (NaN and ∞ in it).
 */
const MVN_SHAPES: [string, number[], number[]][] = [
  ['d=1 no batch', [1], [1, 1]],
  ['d=3 no batch', [3], [3, 3]],
  ['[4,3] x shared [3,3]', [4, 3], [3, 3]],
  ['[2,1,3] x [4,3,3]', [2, 1, 3], [4, 3, 3]],
  ['shared [5] x [7,5,5]', [5], [7, 5, 5]],
  ['empty [0,3] x [3,3]', [0, 3], [3, 3]],
  ['[64,8] x [64,8,8]', [64, 8], [64, 8, 8]],
  ['large [2000,4] x [2000,4,4]', [2000, 4], [2000, 4, 4]],
  ['large d=48 [300,48] x [48,48]', [300, 48], [48, 48]],
];

const mvnReparamCases: Builder<'mvnReparam'> = (g) =>
  FLOATS.flatMap((dt) =>
    MVN_SHAPES.flatMap(([label, sl, sL], n) => {
      const d = sL[sL.length - 1];
      const tri = (): InputSpec =>
        g.tensor(dt, sL, (gg, i) => {
          const [r, c] = [Math.floor(i / d) % d, i % d];
          if (r === c) return (gg.uniform(0, 1) < 0.3 ? -1 : 1) * gg.uniform(0.3, 2);
          if (c > r) return i % 5 === 1 ? NaN : i % 5 === 2 ? Infinity : gg.uniform(-9, 9);
          return gg.uniform(-1, 1);
        });
      return (n === 2 ? KEYS : [KEYS[2]]).map((key) => mk('mvnReparam', `${dt} key ${key} ${label}`, [g.range(dt, sl, -3, 3), tri()], { key }));
    }),
  );

table.mvnReparam = mvnReparamCases as Builder<KernelName>;

// ---------------------------------------------------------------- SVGD

/**
 * svgdPhi: the median heuristic on odd and even n² (one and two middle values), its edge ranks
 * (n = 1, 2, 3), a fixed bandwidth, no coordinates (d = 0), coincident particles (median 0, h = 1),
 * particles far from the origin (where x xᵀ-based distances cancel unless centered), a NaN
 * (NaN everywhere), and large sizes.
 */
const svgdCases: Builder<'svgdPhi'> = (g) =>
  FLOATS.flatMap((dt) => {
    const pair = (n: number, d: number, lo = -1, hi = 1): InputSpec[] => [g.range(dt, [n, d], lo, hi), g.range(dt, [n, d], -1, 1)];
    const withNaN = pair(6, 3);
    withNaN[0].data[4] = NaN;
    const same = (n: number, d: number, v: number): InputSpec => g.tensor(dt, [n, d], () => v);
    const median = { bandwidth: 0 };
    return [
      mk('svgdPhi', `${dt} n=1 d=3 median`, pair(1, 3), median),
      mk('svgdPhi', `${dt} n=2 d=2 median`, pair(2, 2), median),
      mk('svgdPhi', `${dt} n=3 d=2 median`, pair(3, 2), median),
      mk('svgdPhi', `${dt} n=7 d=5 median (odd n²)`, pair(7, 5), median),
      mk('svgdPhi', `${dt} n=8 d=3 median (even n²)`, pair(8, 3, -2, 2), median),
      mk('svgdPhi', `${dt} n=40 d=9 median`, pair(40, 9), median),
      mk('svgdPhi', `${dt} n=33 d=4 bandwidth 0.7`, pair(33, 4), { bandwidth: 0.7 }),
      mk('svgdPhi', `${dt} n=5 d=0`, pair(5, 0), median),
      mk('svgdPhi', `${dt} n=6 coincident particles`, [same(6, 3, 0.5), g.range(dt, [6, 3], -1, 1)], median),
      mk('svgdPhi', `${dt} n=12 d=6 offset 50`, pair(12, 6, 49, 51), median),
      mk('svgdPhi', `${dt} n=6 NaN particle median`, withNaN, median),
      mk('svgdPhi', `${dt} n=6 NaN particle bandwidth 2`, withNaN, { bandwidth: 2 }),
      mk('svgdPhi', `${dt} large n=200 d=30 median`, pair(200, 30), median),
      mk('svgdPhi', `${dt} large n=129 d=64 bandwidth 5`, pair(129, 64), { bandwidth: 5 }),
    ];
  });

table.svgdPhi = svgdCases as Builder<KernelName>;

// ---------------------------------------------------------------- affine flow step

/** affineFlow shapes of x, shift, s: equal, broadcast batch and last axes, d = 1, rank 1, empty batch, large. */
const FLOW_SHAPES: [string, number[], number[], number[]][] = [
  ['same [3,4]', [3, 4], [3, 4], [3, 4]],
  ['broadcast [2,1,4],[3,4],[4]', [2, 1, 4], [3, 4], [4]],
  ['s [3,1] along the row', [3, 5], [5], [3, 1]],
  ['x [5] over s [2,5]', [5], [], [2, 5]],
  ['d = 1 [6,1]', [6, 1], [6, 1], [1]],
  ['rank 1 [7]', [7], [7], [7]],
  ['empty batch [0,3]', [0, 3], [3], [3]],
  ['large [400,256]', LARGE, [256], LARGE],
];

const FLOW_MODES: [string, KernelAttrs['affineFlow']][] = [
  ['exp', { gate: 'exp', inverse: false }],
  ['exp inverse', { gate: 'exp', inverse: true }],
  ['sigmoid', { gate: 'sigmoid', inverse: false }],
];

/** Every mode and dtype on every shape, with a mask [d] and [1] on some, and extreme s (overflow, saturated sigmoid). */
const affineFlowCases: Builder<'affineFlow'> = (g) =>
  FLOATS.flatMap((dt) =>
    FLOW_MODES.flatMap(([mode, attrs]) => {
      const three = (sx: number[], sh: number[], ss: number[], lo = -2, hi = 2): InputSpec[] => [
        g.range(dt, sx, -3, 3),
        g.range(dt, sh, -3, 3),
        g.range(dt, ss, lo, hi),
      ];
      const alt = (d: number): InputSpec => g.tensor(dt, [d], (_, i) => i % 2);
      return [
        ...FLOW_SHAPES.map(([label, sx, sh, ss]) => mk('affineFlow', `${dt} ${mode} ${label}`, three(sx, sh, ss), attrs)),
        mk('affineFlow', `${dt} ${mode} mask [4] on [3,4]`, [...three([3, 4], [3, 4], [3, 4]), alt(4)], attrs),
        mk('affineFlow', `${dt} ${mode} mask [5] broadcast`, [...three([2, 1, 5], [3, 5], [5]), alt(5)], attrs),
        mk('affineFlow', `${dt} ${mode} mask [1] zero`, [...three([2, 3], [3], [2, 3]), g.tensor(dt, [1], () => 0)], attrs),
        mk('affineFlow', `${dt} ${mode} large masked`, [...three(LARGE, LARGE, LARGE), alt(256)], attrs),
        mk('affineFlow', `${dt} ${mode} s in (−100, 100)`, three([8, 16], [16], [8, 16], -100, 100), attrs),
      ];
    }),
  );

table.affineFlow = affineFlowCases as Builder<KernelName>;

// ---------------------------------------------------------------- rational-quadratic spline

/** rqSpline shapes: x, the parameters' batch shape, K; equal, broadcast both ways, K = 1 and 2, rank 0, empty, large. */
const SPLINE_SHAPES: [string, number[], number[], number][] = [
  ['same [4,3] K=6', [4, 3], [4, 3], 6],
  ['x [5,3] over parameters [3] K=8', [5, 3], [3], 8],
  ['x [3] under parameters [2,3] K=4', [3], [2, 3], 4],
  ['K=1', [6, 2], [2], 1],
  ['K=2 rank 1', [7], [7], 2],
  ['rank 0 x and parameters [K=3]', [], [], 3],
  ['empty batch [0,3]', [0, 3], [3], 5],
  ['large [400,64] K=8', [400, 64], [64], 8],
];

/** Spline inputs: x in (−4, 4) (both tails, bound 3) and parameters in (lo, hi); the same draws for the kernel and its backward. */
function splineInputs(g: Gen, dt: DType, sx: number[], sp: number[], k: number, lo = -2, hi = 2): InputSpec[] {
  return [g.range(dt, sx, -4, 4), g.range(dt, [...sp, k], lo, hi), g.range(dt, [...sp, k], lo, hi), g.range(dt, [...sp, k - 1], lo, hi)];
}

/** Forward and inverse on every shape and dtype, sharp parameters (tiny bins), a NaN and the bound itself. */
const rqSplineCases: Builder<'rqSpline'> = (g) =>
  FLOATS.flatMap((dt) =>
    [false, true].flatMap((inverse) => {
      const attrs = { bound: 3, inverse };
      const mode = inverse ? 'inverse' : 'forward';
      const edge = splineInputs(g, dt, [8, 2], [2], 5);
      [NaN, 3, -3, 0, Infinity, -Infinity].forEach((v, i) => (edge[0].data[i] = v));
      return [
        ...SPLINE_SHAPES.map(([label, sx, sp, k]) => mk('rqSpline', `${dt} ${mode} ${label}`, splineInputs(g, dt, sx, sp, k), attrs)),
        mk('rqSpline', `${dt} ${mode} sharp parameters in (−12, 12)`, splineInputs(g, dt, [16, 3], [3], 10, -12, 12), attrs),
        mk('rqSpline', `${dt} ${mode} NaN, ±bound, 0, ±∞`, edge, attrs),
        mk('rqSpline', `${dt} ${mode} bound 0.5`, splineInputs(g, dt, [6, 4], [4], 3), { bound: 0.5, inverse }),
      ];
    }),
  );

/** The backward kernel on the same shapes, with cotangents dy and dlogdet. */
const rqSplineGradCases: Builder<'rqSplineGrad'> = (g) =>
  FLOATS.flatMap((dt) =>
    [false, true].flatMap((inverse) => {
      const attrs = { bound: 3, inverse };
      const mode = inverse ? 'inverse' : 'forward';
      const withCot = (sx: number[], sp: number[], k: number, lo = -2, hi = 2): InputSpec[] => {
        const ins = splineInputs(g, dt, sx, sp, k, lo, hi);
        const out = KERNELS.rqSpline.infer(ins, attrs)[0].shape as number[];
        return [...ins, g.range(dt, out, -1, 1), g.range(dt, out, -1, 1)];
      };
      return [
        ...SPLINE_SHAPES.map(([label, sx, sp, k]) => mk('rqSplineGrad', `${dt} ${mode} ${label}`, withCot(sx, sp, k), attrs)),
        mk('rqSplineGrad', `${dt} ${mode} sharp parameters in (−8, 8)`, withCot([16, 3], [3], 10, -8, 8), attrs, dt === 'float32' ? { rtol: 1e-3, atol: 1e-3 } : undefined),
      ];
    }),
  );

table.rqSpline = rqSplineCases as Builder<KernelName>;
table.rqSplineGrad = rqSplineGradCases as Builder<KernelName>;

/**
 * The conformance cases of kernel `name` (an empty list when it has none: the suite then fails).
 * Generated on demand and deterministic: the same name always gives the same inputs.
 * @example for (const c of kernelCases('matmul')) runCase(jsBackend, c)
 */
export function kernelCases<N extends KernelName>(name: N): KernelCase<N>[] {
  const b = table[name] as Builder<N> | undefined;
  return b === undefined ? [] : b(new Gen(name));
}

// ---------------------------------------------------------------- running and comparing

/** Runs a case on `backend` (upload, allocate outputs from the spec, run, read back) and returns the outputs. */
export function runCase<S>(backend: Backend<S>, c: KernelCase): TypedArray[] {
  const infos = KERNELS[c.name].infer(c.inputs, c.attrs as never);
  // Copies, so that a backend that takes arrays as-is cannot disturb the case for the next run.
  const ins = c.inputs.map((x) => ({ data: backend.upload(x.data.slice()), shape: x.shape, dtype: x.dtype }));
  const outs = infos.map((o) => ({ data: backend.alloc(o.dtype, sizeOf(o.shape)), shape: o.shape, dtype: o.dtype }));
  try {
    backend.run(c.name, ins, outs, c.attrs as never);
    return outs.map((o) => backend.readSync(o.data, o.dtype, sizeOf(o.shape)).slice());
  } finally {
    for (const t of [...ins, ...outs]) backend.free(t.data);
  }
}

/**
 * Compares `got` with `want` elementwise: |got − want| <= atol + rtol·|want|, NaN only against
 * NaN, infinities exactly. Returns null when they agree, else a line naming the first mismatch
 * and how many elements disagree.
 */
export function compareOutputs(got: TypedArray, want: TypedArray, tol: Tol): string | null {
  if (got.length !== want.length) return `length ${got.length}, expected ${want.length}`;
  let bad = 0;
  let first = '';
  for (let i = 0; i < want.length; i++) {
    const g = got[i];
    const w = want[i];
    const ok = w !== w ? g !== g : w === g || (Number.isFinite(w) && Math.abs(g - w) <= tol.atol + tol.rtol * Math.abs(w));
    if (!ok) {
      if (bad === 0) first = `element ${i}: got ${g}, expected ${w}`;
      bad++;
    }
  }
  return bad === 0 ? null : `${bad} of ${want.length} elements differ beyond rtol ${tol.rtol}, atol ${tol.atol}; first at ${first}`;
}

/** The tolerance for an output of `dtype` in case `c`: its override, else the dtype default. */
export function toleranceFor(c: KernelCase, dtype: DType): Tol {
  return c.tol ?? DEFAULT_TOL[dtype];
}
