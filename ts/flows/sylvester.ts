/**
 * Householder flows (Tomczak & Welling 2016) and Householder–Sylvester flows (van den Berg,
 * Hasenclever, Tomczak & Welling 2018): orthogonal maps built from K reflections, and the
 * Sylvester residual map y = x + Q R̃ tanh(R Qᵀ x + b) whose determinant is that of a triangular matrix.
 */
import type { Tensor } from '../core/tensor.js';
import { ValueError } from '../core/errors.js';
import { add, div, log1p, mul, square, sub, tanh } from '../ops/elementwise.js';
import { eye, zeros } from '../ops/creation.js';
import { sum } from '../ops/reduce.js';
import { expandDims, reshape, slice, transpose } from '../ops/shape.js';
import { diagEmbed, matmul, tril } from '../ops/linalg.js';
import { split, type Key } from '../random/key.js';
import { normal, type FloatDType } from '../random/samplers.js';
import { checkFeatures } from './conditioner.js';
import { FlowTransform, NotInvertibleError, zeroLadj, type FlowLayer } from './core.js';

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

