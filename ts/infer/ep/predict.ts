/** What every EP fit predicts from its latent predictive: the shared part of `epGp` and `epLinear`. */
import type { Tensor } from '../../core/tensor.js';
import type { EpLikelihood } from './likelihoods.js';
import { hostVector, type MatrixLike } from './matrix.js';

/** The latent predictive at new inputs: mean and variance of f* per row. */
export interface LatentPredictive {
  /** E[f*] at each new input. */
  readonly mean: Float64Array;
  /** Var[f*] at each new input. */
  readonly variance: Float64Array;
}

/** Predictions of a fitted EP model at new inputs. */
export interface EpPredictor {
  /** The latent predictive of f* at new inputs x* (m × d). */
  predictLatent(xStar: MatrixLike): LatentPredictive;
  /** For a classifier, p(y* = 1 | data) at each new input; for regression, the predictive mean of y*. */
  predict(xStar: MatrixLike): Float64Array;
  /** log p(y*ᵢ | data) for observed targets at new inputs (test log-likelihood per point). */
  predictLogDensity(xStar: MatrixLike, yStar: ArrayLike<number> | Tensor): Float64Array;
}

/** `predict` and `predictLogDensity` from a fit's latent predictive and its likelihood; errors name `site`. */
export function epPredictor(likelihood: EpLikelihood, site: string, predictLatent: (xStar: MatrixLike) => LatentPredictive): EpPredictor {
  return {
    predictLatent,
    predict(xStar) {
      const p = predictLatent(xStar);
      return Float64Array.from(p.mean, (mu, r) => likelihood.predictMean(mu, p.variance[r]));
    },
    predictLogDensity(xStar, yStar) {
      const p = predictLatent(xStar);
      const ys = hostVector(yStar, p.mean.length, `${site}.predictLogDensity: yStar`);
      likelihood.checkTargets(ys, `${site}.predictLogDensity: yStar`);
      return Float64Array.from(p.mean, (mu, r) => likelihood.predictLogDensity(ys[r], mu, p.variance[r]));
    },
  };
}
