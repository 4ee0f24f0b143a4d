/**
 * Gaussian-process models fitted by EP with fixed kernel hyperparameters: classification with a
 * probit or logistic likelihood, robust regression with Student-t noise (Rasmussen & Williams
 * 2006, §3.6; Minka 2001).
 */
import { ShapeError } from '../../core/errors.js';
import type { Tensor } from '../../core/tensor.js';
import { runEp, type EpOptions, type EpRun } from './ep.js';
import { functionSpaceGaussian } from './gaussian-function.js';
import type { Kernel } from './kernel.js';
import type { EpLikelihood } from './likelihoods.js';
import { hostMatrix, hostVector, type MatrixLike } from './matrix.js';
import { epPredictor, type EpPredictor, type LatentPredictive } from './predict.js';

/** Options of {@link epGp}. */
export interface EpGpOptions extends EpOptions {
  /** Training inputs, n × d. */
  readonly x: MatrixLike;
  /** Training targets (labels 0/1 or ±1 for classifiers), n. */
  readonly y: ArrayLike<number> | Tensor;
  /** The covariance function, hyperparameters fixed. */
  readonly kernel: Kernel;
  /** The likelihood of each target given its latent. */
  readonly likelihood: EpLikelihood;
  /** Added to K's diagonal (0 by default: EP never inverts K). */
  readonly jitter?: number;
}

/** A GP fitted by EP. */
export interface EpGp extends EpRun, EpPredictor {
  /** The latent predictive at new inputs x* (m × d): mean k*ᵀ(ν̃ − T̃μ), variance k** − k*ᵀ(T̃ − T̃ΣT̃)k*. */
  predictLatent(xStar: MatrixLike): LatentPredictive;
}

/**
 * Fits a Gaussian process with a non-Gaussian likelihood by expectation propagation.
 * The result carries EP's log marginal likelihood (`logMarginal`), whether it converged, and
 * `warnings` for skipped or damped site updates.
 * @example
 * const gp = epGp({ x, y, kernel: rbfKernel({ variance: 4, lengthscale: 3 }), likelihood: probitLikelihood() });
 * console.log(gp.logMarginal, gp.converged, gp.predict(xTest));
 */
export function epGp(options: EpGpOptions): EpGp {
  const site = `epGp(${options.likelihood.name})`;
  const x = hostMatrix(options.x, `${site}: x`);
  const n = x.rows;
  const d = x.cols;
  const y = hostVector(options.y, n, `${site}: y`);
  options.likelihood.checkTargets(y, `${site}: y`);
  const k = options.kernel.matrix(x.data, n, x.data, n, d);
  const jitter = options.jitter ?? 0;
  for (let i = 0; i < n; i++) k[i * n + i] += jitter;
  const q = functionSpaceGaussian(k, n);
  const run = runEp(q, options.likelihood, y, options, site);
  const tau = run.siteTau;
  const a = Float64Array.from(run.siteNu, (v, i) => v - tau[i] * q.mean[i]);
  const w = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) w[i * n + j] = (i === j ? tau[i] : 0) - tau[i] * q.cov[i * n + j] * tau[j];
  const predictLatent = (xStar: MatrixLike): LatentPredictive => {
    const xs = hostMatrix(xStar, `${site}.predict: xStar`);
    if (xs.cols !== d && xs.rows > 0) throw new ShapeError(`${site}.predict: xStar has ${xs.cols} columns, the training inputs ${d}`);
    const m = xs.rows;
    const ks = options.kernel.matrix(xs.data, m, x.data, n, d);
    const kss = options.kernel.diag(xs.data, m, d);
    const mean = new Float64Array(m);
    const variance = new Float64Array(m);
    const wk = new Float64Array(n);
    for (let r = 0; r < m; r++) {
      const kr = ks.subarray(r * n, (r + 1) * n);
      let mu = 0;
      for (let i = 0; i < n; i++) mu += kr[i] * a[i];
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let j = 0; j < n; j++) s += w[i * n + j] * kr[j];
        wk[i] = s;
      }
      let quad = 0;
      for (let i = 0; i < n; i++) quad += kr[i] * wk[i];
      mean[r] = mu;
      variance[r] = Math.max(kss[r] - quad, 0);
    }
    return { mean, variance };
  };
  return { ...run, ...epPredictor(options.likelihood, site, predictLatent) };
}
