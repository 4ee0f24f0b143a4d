/**
 * Householder flows (Tomczak & Welling 2016) and Householder–Sylvester flows (van den Berg,
 * Hasenclever, Tomczak & Welling 2018): orthogonal maps built from K reflections, and the
 * Sylvester residual map y = x + Q R̃ tanh(R Qᵀ x + b) whose determinant is that of a triangular matrix,
 * with shared parameters or amortized ones computed from a context (one flow per data point, as in
 * their VAEs).
 */
import { allocArray } from '../core/dtype.js';
import { keep } from '../core/memory.js';
import type { Tensor } from '../core/tensor.js';
import { ShapeError, ValueError, fmtShape } from '../core/errors.js';
import { add, div, log1p, mul, square, sub, tanh } from '../ops/elementwise.js';
import { eye, tensor, zeros } from '../ops/creation.js';
import { sum } from '../ops/reduce.js';
import { concat, expandDims, reshape, slice, transpose } from '../ops/shape.js';
import { diagEmbed, matmul, tril } from '../ops/linalg.js';
import { sliceLast } from '../bijectors/transform.js';
import { defaultWeightInit } from '../nn/init.js';
import { linear, type LinearParams } from '../nn/linear.js';
import { split, type Key } from '../random/key.js';
import { normal, type FloatDType } from '../random/samplers.js';
import { checkFeatures } from './conditioner.js';
import { checkContext, FlowTransform, NotInvertibleError, zeroLadj, type FlowLayer } from './core.js';

/** Q = H_1 ⋯ H_K, H_k = I − 2 v_k v_kᵀ / ‖v_k‖², from vs [K, d]. */
function householderMatrix(vs: Tensor): Tensor {
  const [K, d] = vs.shape;
  let q = eye(d, vs.dtype as FloatDType);
  for (let k = 0; k < K; k++) {
    const v = reshape(slice(vs, [k, 0], [1, d]), [d]);
    // Q ← Q·H_k = Q − 2 (Q v) vᵀ / ‖v‖².
    const qv = matmul(q, expandDims(v, -1));
    q = sub(q, mul(matmul(qv, expandDims(v, 0)), div(2, sum(square(v)))));
  }
  return q;
}

/** Parameters of {@link householder}: the K reflection vectors [K, d]. */
export interface HouseholderParams {
  /** The K reflection vectors v_k, [K, d]: Q = H_1 ⋯ H_K with H_k = I − 2 v_k v_kᵀ / ‖v_k‖². */
  vs: Tensor;
}

class HouseholderTransform extends FlowTransform {
  private readonly q: Tensor;
  constructor(d: number, p: HouseholderParams) {
    super('householder', d);
    this.q = householderMatrix(p.vs);
  }
  private apply(x: Tensor, q: Tensor, transB: boolean): Tensor {
    return reshape(matmul(reshape(x, [-1, this.features]), q, { transB }), x.shape);
  }
  protected callForward(x: Tensor): [Tensor, Tensor] {
    // y = Q x for each row: rows times Qᵀ.
    return [this.apply(x, this.q, true), zeroLadj(x)];
  }
  protected callInverse(y: Tensor): [Tensor, Tensor] {
    return [this.apply(y, this.q, false), zeroLadj(y)];
  }
}

/**
 * A Householder flow: y = Q x with Q = H_1 ⋯ H_K a product of K reflections (orthogonal, volume
 * preserving: log|det J| = 0; inverse Qᵀ). Shapes: [..., d] → [..., d], ladj [...].
 * @example
 * const h = householder(4, { reflections: 2 });
 * const [y, ladj] = h.bind(h.init(key(0), 'float64')).forwardAndLadj(x); // ladj = 0
 */
export function householder(features: number, opts: { reflections?: number } = {}): FlowLayer<HouseholderParams> {
  checkFeatures('householder', features);
  const K = opts.reflections ?? 1;
  if (!Number.isInteger(K) || K < 1) throw new ValueError(`householder: reflections must be a positive integer, got ${K}`);
  return {
    name: 'householder',
    features,
    contextFeatures: 0,
    init: (k: Key, dtype: FloatDType) => ({ vs: normal(k, [K, features], { dtype }) }),
    bind: (p: HouseholderParams) => new HouseholderTransform(features, p),
  };
}

/** Parameters of {@link sylvester}: reflections vs [K, d], R and R̃ (strict upper parts), their raw diagonals, and b. */
export interface SylvesterParams {
  /** The K reflection vectors of Q, [K, d]. */
  vs: Tensor;
  /** R's strict upper part, [d, d] (the diagonal and lower entries are ignored). */
  r: Tensor;
  /** R̃'s strict upper part, [d, d] (the diagonal and lower entries are ignored). */
  rTilde: Tensor;
  /** The raw diagonal of R, [d]: r_ii = tanh(rDiag_i). */
  rDiag: Tensor;
  /** The raw diagonal of R̃, [d]: r̃_ii = tanh(rTildeDiag_i). */
  rTildeDiag: Tensor;
  /** The shift b inside tanh(R Qᵀ x + b), [d]. */
  b: Tensor;
}

/** Upper-triangular matrix from the strict upper part of `a` and the diagonal `diag`. */
function upper(a: Tensor, diag: Tensor): Tensor {
  return add(transpose(tril(transpose(a), -1)), diagEmbed(diag));
}

class SylvesterTransform extends FlowTransform {
  constructor(
    d: number,
    private readonly p: SylvesterParams,
  ) {
    super('sylvester', d);
  }
  protected callForward(x: Tensor): [Tensor, Tensor] {
    const d = this.features;
    const q = householderMatrix(this.p.vs);
    // tanh on the diagonals keeps r_ii·r̃_ii > −1, so 1 + r̃_ii r_ii h′ > 0 with h′ = 1 − tanh² ∈ (0, 1].
    const rd = tanh(this.p.rDiag);
    const rtd = tanh(this.p.rTildeDiag);
    const R = upper(this.p.r, rd);
    const Rt = upper(this.p.rTilde, rtd);
    const flat = reshape(x, [-1, d]);
    // Row form: (R Qᵀ x)ᵀ = xᵀ Q Rᵀ, and (Q R̃ h)ᵀ = hᵀ R̃ᵀ Qᵀ.
    const h = tanh(add(matmul(matmul(flat, q), R, { transB: true }), this.p.b));
    const y = add(flat, matmul(matmul(h, Rt, { transB: true }), q, { transB: true }));
    const ladj = sum(log1p(mul(mul(rd, rtd), sub(1, square(h)))), -1);
    return [reshape(y, x.shape), reshape(ladj, x.shape.slice(0, -1))];
  }
  protected callInverse(): [Tensor, Tensor] {
    throw new NotInvertibleError('sylvester: the inverse has no closed form; sylvester is cheap in the forward (sampling) direction: score its own draws with FlowDistribution.rsampleWithLogProb');
  }
}

/**
 * A Householder–Sylvester flow: y = x + Q R̃ tanh(R Qᵀ x + b) with Q a product of K Householder
 * reflections and R, R̃ upper triangular whose diagonals are tanh of free parameters (so the map is
 * invertible); log|det J| = Σ_i log|1 + r̃_ii r_ii (1 − tanh²((R Qᵀ x + b)_i))|. Forward only.
 * Shapes: [..., d] → [..., d], ladj [...].
 * @example
 * const s = sylvester(4, { reflections: 4 });
 * const [y, ladj] = s.bind(s.init(key(0), 'float64')).forwardAndLadj(z);
 */
export function sylvester(features: number, opts: { reflections?: number } = {}): FlowLayer<SylvesterParams> {
  checkFeatures('sylvester', features);
  const K = opts.reflections ?? features;
  if (!Number.isInteger(K) || K < 1) throw new ValueError(`sylvester: reflections must be a positive integer, got ${K}`);
  return {
    name: 'sylvester',
    features,
    contextFeatures: 0,
    init(k: Key, dtype: FloatDType): SylvesterParams {
      const [a, b, c] = split(k, 3);
      return {
        vs: normal(a, [K, features], { dtype }),
        r: normal(b, [features, features], { dtype, scale: 0.01 }),
        rTilde: normal(c, [features, features], { dtype, scale: 0.01 }),
        rDiag: zeros([features], dtype),
        rTildeDiag: zeros([features], dtype),
        b: zeros([features], dtype),
      };
    },
    bind: (p: SylvesterParams) => new SylvesterTransform(features, p),
  };
}


/** Parameters of {@link conditionalSylvester}: the linear map from the context to every per-row parameter. */
export interface ConditionalSylvesterParams {
  /**
   * context [..., c] ↦ θ [..., K·d + 2d² + 3d]: K reflection vectors, R's and R̃'s strict upper
   * parts (row-major d×d), the raw diagonals of R and R̃, and b, in that order.
   */
  head: LinearParams;
}

/** x reflected in the hyperplane orthogonal to v, per row: H x = x − 2 v (vᵀx)/‖v‖², v and x [..., d] broadcasting. */
function reflect(x: Tensor, v: Tensor): Tensor {
  const c = div(mul(sum(mul(x, v), -1, true), 2), sum(square(v), -1, true));
  return sub(x, mul(v, c));
}

/** (U u)_i = Σ_{j>i} a_ij u_j + diag_i u_i for U's strict upper part a [..., d, d] (masked) and u [..., d]. */
function upperTimes(a: Tensor, mask: Tensor, diag: Tensor, u: Tensor): Tensor {
  return add(sum(mul(mul(a, mask), expandDims(u, -2)), -1), mul(diag, u));
}

class ConditionalSylvesterTransform extends FlowTransform {
  constructor(
    d: number,
    private readonly reflections: number,
    private readonly theta: Tensor,
    private readonly mask: Tensor,
  ) {
    super('conditionalSylvester', d);
  }
  protected callForward(x: Tensor): [Tensor, Tensor] {
    const d = this.features;
    const K = this.reflections;
    const th = this.theta;
    const vs = Array.from({ length: K }, (_, k) => sliceLast(th, k * d, d));
    const lead = th.shape.slice(0, -1);
    const r = reshape(sliceLast(th, K * d, d * d), [...lead, d, d]);
    const rt = reshape(sliceLast(th, K * d + d * d, d * d), [...lead, d, d]);
    const o = K * d + 2 * d * d;
    // tanh on the diagonals keeps r_ii·r̃_ii > −1, so every 1 + r̃_ii r_ii h′ > 0 (h′ ∈ (0, 1]).
    const rd = tanh(sliceLast(th, o, d));
    const rtd = tanh(sliceLast(th, o + d, d));
    const b = sliceLast(th, o + 2 * d, d);
    // Qᵀx = H_K ⋯ H_1 x and Q w = H_1 ⋯ H_K w, one reflection at a time (no d×d matrix per row).
    let u = x;
    for (const v of vs) u = reflect(u, v);
    const h = tanh(add(upperTimes(r, this.mask, rd, u), b));
    let w = upperTimes(rt, this.mask, rtd, h);
    for (let k = K - 1; k >= 0; k--) w = reflect(w, vs[k]);
    const ladj = sum(log1p(mul(mul(rd, rtd), sub(1, square(h)))), -1);
    return [add(x, w), ladj];
  }
  protected callInverse(): [Tensor, Tensor] {
    throw new NotInvertibleError('conditionalSylvester: the inverse has no closed form; conditionalSylvester is cheap in the forward (sampling) direction: score its own draws with FlowDistribution.rsampleWithLogProb');
  }
}

/** Options of {@link conditionalSylvester}. */
export interface ConditionalSylvesterOptions {
  /** Width c of the context (≥ 1) that every parameter is computed from. */
  contextFeatures: number;
  /** Householder reflections K in Q; default 4. */
  reflections?: number;
}

/**
 * An amortized Householder–Sylvester flow (van den Berg et al. 2018, §3 and the Householder variant
 * of their VAE experiments): the map of {@link sylvester}, y = x + Q R̃ tanh(R Qᵀ x + b), with every
 * parameter (K reflection vectors, R, R̃ upper triangular with tanh diagonals, b) a linear function
 * of the context, so each row of a batch (each data point's encoder output) gets its own flow.
 * log|det J| = Σ_i log(1 + r̃_ii r_ii (1 − tanh²((R Qᵀ x + b)_i))). Forward only.
 * Shapes: x [..., d] and context [..., c] broadcasting (x [k, B, d] with context [B, c]) → y [..., d], ladj [...].
 * At `init` the map is close to the identity (small weights, zero diagonals and shift).
 * @example
 * const s = conditionalSylvester(4, { contextFeatures: 8, reflections: 2 });
 * const [y, ladj] = s.bind(s.init(key(0), 'float32'), h).forwardAndLadj(z0); // h [B, 8], z0 [k, B, 4]
 */
export function conditionalSylvester(features: number, opts: ConditionalSylvesterOptions): FlowLayer<ConditionalSylvesterParams> {
  const layer = 'conditionalSylvester';
  checkFeatures(layer, features);
  const c = opts.contextFeatures;
  if (!Number.isInteger(c) || c < 1) throw new ValueError(`${layer}: contextFeatures must be an integer ≥ 1, got ${c}`);
  const K = opts.reflections ?? 4;
  if (!Number.isInteger(K) || K < 1) throw new ValueError(`${layer}: reflections must be a positive integer, got ${K}`);
  const d = features;
  const P = K * d + 2 * d * d + 3 * d;
  const masks = new Map<string, Tensor>();
  const maskOf = (dtype: FloatDType): Tensor => {
    let m = masks.get(dtype);
    if (m === undefined) {
      const a = allocArray(dtype, d * d);
      for (let i = 0; i < d; i++) for (let j = i + 1; j < d; j++) a[i * d + j] = 1;
      // A module constant: it outlives the tidy scope it was first made in.
      m = keep(tensor(a, [d, d]));
      masks.set(dtype, m);
    }
    return m;
  };
  return {
    name: layer,
    features,
    contextFeatures: c,
    init(k: Key, dtype: FloatDType): ConditionalSylvesterParams {
      const [kw, kv] = split(k, 2);
      // Small weights and a zero bias except the reflections' (non-zero vectors): near the identity.
      const weight = mul(defaultWeightInit(kw, [P, c], dtype), 0.01);
      const bias = concat([normal(kv, [K * d], { dtype }), zeros([P - K * d], dtype)], 0);
      return { head: { weight, bias } };
    },
    bind(p: ConditionalSylvesterParams, context?: Tensor): FlowTransform {
      checkContext(layer, c, context);
      const ctx = context as Tensor;
      const w = p.head.weight;
      if (w.rank !== 2 || w.shape[0] !== P || w.shape[1] !== c) throw new ShapeError(`${layer}: head.weight must be [${P}, ${c}] for ${d} features, ${K} reflections and context ${c}, got ${fmtShape(w.shape)}`);
      return new ConditionalSylvesterTransform(d, K, linear(ctx, w, p.head.bias, layer), maskOf(w.dtype as FloatDType));
    },
  };
}
