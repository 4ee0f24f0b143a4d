/**
 * Bayesian linear models fitted by EP in weight space: fᵢ = xᵢᵀ w with a Gaussian prior on w and a
 * probit, logistic or Student-t likelihood (probit/logistic regression, robust linear regression).
 */
import { ShapeError, ValueError } from '../../core/errors.js';
import type { Tensor } from '../../core/tensor.js';
import { runEp, type EpOptions, type EpRun } from './ep.js';
import { weightSpaceGaussian } from './gaussian-weight.js';
import type { EpLikelihood } from './likelihoods.js';
import { hostMatrix, hostVector, type MatrixLike } from './matrix.js';
import { epPredictor, type EpPredictor, type LatentPredictive } from './predict.js';

/** Options of {@link epLinear}. */
export interface EpLinearOptions extends EpOptions {
  /** The design matrix, n × d (add a column of ones for an intercept). */
  readonly x: MatrixLike;
  /** Targets, n. */
  readonly y: ArrayLike<number> | Tensor;
  /** The likelihood of each target given fᵢ = xᵢᵀ w. */
  readonly likelihood: EpLikelihood;
  /** The prior mean of w (zeros by default). */
  readonly priorMean?: ArrayLike<number>;
  /** The prior covariance of w, d × d; or give `priorScale`. */
  readonly priorCov?: MatrixLike;
  /** The prior standard deviation of each weight, w ~ N(m₀, s² I) (1 by default). */
  readonly priorScale?: number;
}

/** A linear model fitted by EP. */
export interface EpLinear extends EpRun, EpPredictor {
  /** q(w)'s mean, d. */
  readonly weightMean: Float64Array;
  /** q(w)'s covariance, d × d row-major. */
  readonly weightCov: Float64Array;
  /** The latent predictive of f* = x*ᵀ w at new rows. */
  predictLatent(xStar: MatrixLike): LatentPredictive;
}

/**
 * Fits a linear model with a Gaussian prior by expectation propagation.
 * @example
 * const r = epLinear({ x: [[1, 0.3], [1, -1.2]], y: [1, 0], likelihood: probitLikelihood(), priorScale: 2 });
 * console.log(r.weightMean, r.logMarginal);
 */
export function epLinear(options: EpLinearOptions): EpLinear {
  const site = `epLinear(${options.likelihood.name})`;
  const x = hostMatrix(options.x, `${site}: x`);
  const n = x.rows;
  const d = x.cols;
  const y = hostVector(options.y, n, `${site}: y`);
  options.likelihood.checkTargets(y, `${site}: y`);
  const m0 = options.priorMean === undefined ? new Float64Array(d) : Float64Array.from(options.priorMean);
  if (m0.length !== d) throw new ShapeError(`${site}: priorMean has ${m0.length} entries, x has ${d} columns`);
  let s0: Float64Array;
  if (options.priorCov !== undefined) {
    const c = hostMatrix(options.priorCov, `${site}: priorCov`);
    if (c.rows !== d || c.cols !== d) throw new ShapeError(`${site}: priorCov is ${c.rows} × ${c.cols}, x has ${d} columns`);
    s0 = c.data;
  } else {
    const s = options.priorScale ?? 1;
    if (!(s > 0) || !Number.isFinite(s)) throw new ValueError(`${site}: priorScale must be a finite number > 0, got ${s}`);
    s0 = new Float64Array(d * d);
    for (let i = 0; i < d; i++) s0[i * d + i] = s * s;
  }
  const q = weightSpaceGaussian(x.data, n, d, m0, s0);
  const run = runEp(q, options.likelihood, y, options, site);
  const predictLatent = (xStar: MatrixLike): LatentPredictive => {
    const xs = hostMatrix(xStar, `${site}.predict: xStar`);
    if (xs.cols !== d && xs.rows > 0) throw new ShapeError(`${site}.predict: xStar has ${xs.cols} columns, x has ${d}`);
    const mean = new Float64Array(xs.rows);
    const variance = new Float64Array(xs.rows);
    for (let r = 0; r < xs.rows; r++) {
      let mu = 0;
      let v = 0;
      for (let i = 0; i < d; i++) {
        const xi = xs.data[r * d + i];
        mu += xi * q.mean[i];
        let s = 0;
        for (let j = 0; j < d; j++) s += q.cov[i * d + j] * xs.data[r * d + j];
        v += xi * s;
      }
      mean[r] = mu;
      variance[r] = Math.max(v, 0);
    }
    return { mean, variance };
  };
  return { ...run, weightMean: Float64Array.from(q.mean), weightCov: Float64Array.from(q.cov), ...epPredictor(options.likelihood, site, predictLatent) };
}
