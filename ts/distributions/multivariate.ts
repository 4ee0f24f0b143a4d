/**
 * Multivariate normals: MultivariateNormal (by scale_tril, covariance or precision) and
 * LowRankMultivariateNormal (Σ = W Wᵀ + diag(D), evaluated in O(d r²) through the capacitance
 * matrix). Event shape [d].
 */
import { ShapeError, fmtShape } from '../core/errors.js';
import type { Shape } from '../core/shape.js';
import type { Tensor } from '../core/tensor.js';
import { eye, type TensorLike } from '../ops/creation.js';
import { add, div, log, mul, sqrt, square, sub } from '../ops/elementwise.js';
import { cholesky, diagonal, matmul, triangularSolve } from '../ops/linalg.js';
import { sum } from '../ops/reduce.js';
import { broadcastTo, expandDims, reshape, squeeze, transpose } from '../ops/shape.js';
import { split, type Key } from '../random/key.js';
import { lowerCholesky, positiveDefinite, positive, realVector, type Constraint } from './constraints.js';
import { checkExpand, Distribution, oneOf, params, type DistributionOptions } from './distribution.js';
import { LOG_2PI, stdNormal } from './util.js';
import { broadcastShapes } from '../core/shape.js';

/** Exactly one of the three parameterizations of the covariance. */
export type MvnScale =
  | {
      /** L [..., d, d], lower triangular with positive diagonal: Σ = L Lᵀ. */
      scaleTril: TensorLike;
    }
  | {
      /** Σ [..., d, d], symmetric positive definite. */
      covariance: TensorLike;
    }
  | {
      /** Λ = Σ⁻¹ [..., d, d], symmetric positive definite. */
      precision: TensorLike;
    };

/**
 * L⁻¹ v for batched lower-triangular L [..., d, d] and vectors v [..., d].
 * @example solveLowerVec(cholesky(cov), sub(x, mu)) // L⁻¹ (x − μ), [..., d]
 */
export function solveLowerVec(l: Tensor, v: Tensor): Tensor {
  return squeeze(triangularSolve(l, expandDims(v, -1), { lower: true }), [-1]);
}

/**
 * ‖L⁻¹ v‖² for lower-triangular L [...batch, d, d] and vectors v [...sample, ...batch, d], with
 * one triangular solve per batch member: the sample axes become the columns of its right-hand side.
 * @example mahalanobis(scaleTril, sub(x, loc), batchShape) // ‖L⁻¹(x − μ)‖², [...sample, ...batch]
 */
export function mahalanobis(l: Tensor, v: Tensor, batchShape: readonly number[]): Tensor {
  const d = l.shape[l.shape.length - 1];
  const lead = v.shape.slice(0, Math.max(0, v.shape.length - 1 - batchShape.length));
  const vb = broadcastTo(v, [...lead, ...batchShape, d]);
  const s = lead.reduce((a, b) => a * b, 1);
  const b = batchShape.length;
  const cols = transpose(reshape(vb, [s, ...batchShape, d]), [...Array.from({ length: b + 1 }, (_, i) => i + 1), 0]);
  const z = triangularSolve(broadcastTo(l, [...batchShape, d, d]), cols, { lower: true });
  const q = sum(square(z), -2); // [...batch, S]
  return reshape(transpose(q, [b, ...Array.from({ length: b }, (_, i) => i)]), [...lead, ...batchShape]);
}

/**
 * N(μ, Σ) with Σ = L Lᵀ: log p(x) = −½‖L⁻¹(x − μ)‖² − Σ log Lᵢᵢ − (d/2) log 2π.
 * @example new MultivariateNormal(zeros([3]), { covariance: eye(3) })
 */
export class MultivariateNormal extends Distribution {
  override readonly hasRsample = true;
  /** The mean μ [..., d]. */
  readonly loc: Tensor;
  /** The Cholesky factor L [..., d, d] of Σ (computed from `covariance` or `precision` when those were given). */
  readonly scaleTril: Tensor;

  constructor(loc: TensorLike, scale: MvnScale, opts: DistributionOptions = {}) {
    const [mu] = params(loc);
    if (mu.shape.length < 1) throw new ShapeError('MultivariateNormal: loc must have at least one axis');
    const d = mu.shape[mu.shape.length - 1];
    const form = oneOf('MultivariateNormal', 'scale', scale, ['scaleTril', 'covariance', 'precision']);
    const given = (scale as Record<string, TensorLike>)[form];
    const m = params(given, mu)[0];
    const r = m.shape.length;
    if (r < 2 || m.shape[r - 1] !== d || m.shape[r - 2] !== d)
      throw new ShapeError(`MultivariateNormal: the scale matrix has shape ${fmtShape(m.shape)}, expected [..., ${d}, ${d}] to match loc ${fmtShape(mu.shape)}`);
    const batch = broadcastShapes('MultivariateNormal', mu.shape.slice(0, -1), m.shape.slice(0, -2));
    super(batch, [d], opts);
    this.loc = mu;
    if (form === 'scaleTril') {
      this.checkParams([{ name: 'scaleTril', value: m, constraint: lowerCholesky }]);
      this.scaleTril = m;
    } else if (form === 'covariance') {
      this.checkParams([{ name: 'covariance', value: m, constraint: positiveDefinite }]);
      this.scaleTril = cholesky(m);
    } else {
      this.checkParams([{ name: 'precision', value: m, constraint: positiveDefinite }]);
      // Σ = P⁻¹ = Lp⁻ᵀ Lp⁻¹, then its own Cholesky factor.
      const lp = cholesky(m);
      const lpInv = triangularSolve(lp, eye(d, m.dtype), { lower: true });
      this.scaleTril = cholesky(matmul(lpInv, lpInv, { transA: true }));
    }
  }
  get support(): Constraint {
    return realVector;
  }
  protected paramLike(): Tensor {
    return this.loc;
  }
  override rsample(key: Key, sampleShape: Shape = []): Tensor {
    const eps = stdNormal(key, this.shape(sampleShape), this.dtype);
    return add(this.loc, squeeze(matmul(this.scaleTril, expandDims(eps, -1)), [-1]));
  }
  protected logProbRaw(x: Tensor): Tensor {
    const d = this.eventShape[0];
    const halfLogDet = sum(log(diagonal(this.scaleTril)), -1);
    return sub(mul(mahalanobis(this.scaleTril, sub(x, this.loc), this.batchShape), -0.5), add(halfLogDet, 0.5 * d * LOG_2PI));
  }
  /** Σ = L Lᵀ */
  get covariance(): Tensor {
    return matmul(this.scaleTril, this.scaleTril, { transB: true });
  }
  override get mean(): Tensor {
    return broadcastTo(this.loc, this.shape());
  }
  override get variance(): Tensor {
    return broadcastTo(sum(square(this.scaleTril), -1), this.shape());
  }
  override entropy(): Tensor {
    const d = this.eventShape[0];
    return broadcastTo(add(sum(log(diagonal(this.scaleTril)), -1), 0.5 * d * (1 + LOG_2PI)), this.batchShape);
  }
  expand(batchShape: Shape): MultivariateNormal {
    checkExpand(this.name, this.batchShape, batchShape);
    const d = this.eventShape[0];
    return new MultivariateNormal(broadcastTo(this.loc, [...batchShape, d]), { scaleTril: broadcastTo(this.scaleTril, [...batchShape, d, d]) }, { validateArgs: false });
  }
}

/**
 * N(μ, W Wᵀ + diag(D)) with W of shape [..., d, r]. With the capacitance C = I + Wᵀ D⁻¹ W,
 * log det Σ = log det C + Σ log D and (x−μ)ᵀΣ⁻¹(x−μ) = yᵀD⁻¹y − ‖L_C⁻¹ Wᵀ D⁻¹ y‖² (Woodbury).
 * @example new LowRankMultivariateNormal(zeros([4]), ones([4, 1]), ones([4])).sample(key(0), [10]) // [10, 4]
 */
export class LowRankMultivariateNormal extends Distribution {
  override readonly hasRsample = true;
  /** The mean μ [..., d]. */
  readonly loc: Tensor;
  /** W [..., d, rank]. */
  readonly covFactor: Tensor;
  /** D [..., d], positive. */
  readonly covDiag: Tensor;

  constructor(loc: TensorLike, covFactor: TensorLike, covDiag: TensorLike, opts: DistributionOptions = {}) {
    const [mu, w, dg] = params(loc, covFactor, covDiag);
    const d = mu.shape[mu.shape.length - 1];
    if (w.shape.length < 2 || w.shape[w.shape.length - 2] !== d || dg.shape[dg.shape.length - 1] !== d)
      throw new ShapeError(
        `LowRankMultivariateNormal: covFactor ${fmtShape(w.shape)} must be [..., ${d}, r] and covDiag ${fmtShape(dg.shape)} [..., ${d}] to match loc ${fmtShape(mu.shape)}`,
      );
    const batch = broadcastShapes('LowRankMultivariateNormal', broadcastShapes('LowRankMultivariateNormal', mu.shape.slice(0, -1), w.shape.slice(0, -2)), dg.shape.slice(0, -1));
    super(batch, [d], opts);
    this.loc = mu;
    this.covFactor = w;
    this.covDiag = dg;
    this.checkParams([{ name: 'covDiag', value: dg, constraint: positive }]);
  }
  /** The rank of W (its last axis). */
  get rank(): number {
    return this.covFactor.shape[this.covFactor.shape.length - 1];
  }
  get support(): Constraint {
    return realVector;
  }
  protected paramLike(): Tensor {
    return this.loc;
  }
  override rsample(key: Key, sampleShape: Shape = []): Tensor {
    const [k1, k2] = split(key);
    const s = this.shape(sampleShape);
    const epsW = stdNormal(k1, [...s.slice(0, -1), this.rank], this.dtype);
    const epsD = stdNormal(k2, s, this.dtype);
    const lowRank = squeeze(matmul(this.covFactor, expandDims(epsW, -1)), [-1]);
    return add(add(this.loc, lowRank), mul(sqrt(this.covDiag), epsD));
  }
  /** Cholesky factor of the capacitance I + Wᵀ D⁻¹ W. */
  private capacitanceTril(): Tensor {
    const wd = div(this.covFactor, expandDims(this.covDiag, -1));
    const c = add(matmul(this.covFactor, wd, { transA: true }), eye(this.rank, this.dtype));
    return cholesky(c);
  }
  protected logProbRaw(x: Tensor): Tensor {
    const d = this.eventShape[0];
    const y = sub(x, this.loc);
    const yd = div(y, this.covDiag);
    const lc = this.capacitanceTril();
    const wtyd = squeeze(matmul(this.covFactor, expandDims(yd, -1), { transA: true }), [-1]);
    const lcB = broadcastTo(lc, [...broadcastShapes('LowRankMultivariateNormal.logProb', wtyd.shape.slice(0, -1), lc.shape.slice(0, -2)), this.rank, this.rank]);
    const z = solveLowerVec(lcB, broadcastTo(wtyd, lcB.shape.slice(0, -1)));
    const maha = sub(sum(mul(y, yd), -1), sum(square(z), -1));
    const logDet = add(mul(sum(log(diagonal(lc)), -1), 2), sum(log(this.covDiag), -1));
    return mul(add(add(maha, logDet), d * LOG_2PI), -0.5);
  }
  /** Σ = W Wᵀ + diag(D), materialized (d × d). */
  get covariance(): Tensor {
    const d = this.eventShape[0];
    return add(matmul(this.covFactor, this.covFactor, { transB: true }), mul(eye(d, this.dtype), expandDims(this.covDiag, -1)));
  }
  override get mean(): Tensor {
    return broadcastTo(this.loc, this.shape());
  }
  override get variance(): Tensor {
    return broadcastTo(add(sum(square(this.covFactor), -1), this.covDiag), this.shape());
  }
  override entropy(): Tensor {
    const d = this.eventShape[0];
    const logDet = add(mul(sum(log(diagonal(this.capacitanceTril())), -1), 2), sum(log(this.covDiag), -1));
    return broadcastTo(mul(add(logDet, d * (1 + LOG_2PI)), 0.5), this.batchShape);
  }
  expand(batchShape: Shape): LowRankMultivariateNormal {
    checkExpand(this.name, this.batchShape, batchShape);
    const d = this.eventShape[0];
    return new LowRankMultivariateNormal(
      broadcastTo(this.loc, [...batchShape, d]),
      broadcastTo(this.covFactor, [...batchShape, d, this.rank]),
      broadcastTo(this.covDiag, [...batchShape, d]),
      { validateArgs: false },
    );
  }
}

