/** The negative binomial by its mean and dispersion (Stan's neg_binomial_2 and neg_binomial_2_log). */
import { ENGINE } from '../core/engine.js';
import { ValueError } from '../core/errors.js';
import type { Shape } from '../core/shape.js';
import type { Tensor } from '../core/tensor.js';
import type { TensorLike } from '../ops/creation.js';
import { add, div, exp, lgamma, log, mul, neg, softplus, square, sub } from '../ops/elementwise.js';
import { broadcastTo } from '../ops/shape.js';
import { split, type Key } from '../random/key.js';
import { nonnegativeInteger, positive, real, type Constraint } from './constraints.js';
import { batchOf, checkExpand, Distribution, params, type DistributionOptions } from './distribution.js';
import { standardGamma } from './gamma.js';

/** The mean μ, or its logarithm η = log μ (Stan's neg_binomial_2_log). */
export type MeanOrLogMean =
  | TensorLike
  | {
      /** The log mean η = log μ (any real). */
      logMean: TensorLike;
    };

/**
 * Negative binomial with mean μ and concentration (dispersion) φ, a Gamma(φ, φ/μ)–Poisson mixture
 * (NumPyro's NegativeBinomial2, Stan's neg_binomial_2(μ, φ)):
 *
 *   log p(k) = log Γ(k + φ) − log Γ(φ) − log k! + φ log(φ/(μ + φ)) + k log(μ/(μ + φ));
 *   mean μ, variance μ + μ²/φ.
 *
 * Give the mean, or `{ logMean: η }` (Stan's neg_binomial_2_log): the density is then computed from
 * η directly, log(μ/(μ + φ)) = −softplus(log φ − η), finite for any η.
 * Shapes: batch = broadcast of the mean and the concentration; event scalar.
 * @example new NegativeBinomial2({ logMean: eta }, phi).logProb(counts)
 */
export class NegativeBinomial2 extends Distribution {
  /** The concentration (dispersion) φ > 0: variance μ + μ²/φ. */
  readonly concentration: Tensor;
  private readonly givenMean: Tensor | null;
  private readonly givenLogMean: Tensor | null;
  constructor(mean: MeanOrLogMean, concentration: TensorLike, opts: DistributionOptions = {}) {
    const isLog = typeof mean === 'object' && 'logMean' in mean;
    const m = isLog ? (mean as { logMean: TensorLike }).logMean : (mean as TensorLike);
    if (m === undefined) throw new ValueError('NegativeBinomial2: give the mean or { logMean }');
    const [mu, phi] = params(m, concentration);
    super(batchOf('NegativeBinomial2', mu, phi), [], opts);
    this.concentration = phi;
    this.givenMean = isLog ? null : mu;
    this.givenLogMean = isLog ? mu : null;
    this.checkParams([
      isLog ? { name: 'logMean', value: mu, constraint: real } : { name: 'mean', value: mu, constraint: positive },
      { name: 'concentration', value: phi, constraint: positive },
    ]);
  }
  /** μ (e^η when made from a log-mean). */
  override get mean(): Tensor {
    return broadcastTo(this.givenMean ?? exp(this.givenLogMean as Tensor), this.batchShape);
  }
  /** log μ. */
  get logMean(): Tensor {
    return this.givenLogMean ?? log(this.givenMean as Tensor);
  }
  get support(): Constraint {
    return nonnegativeInteger;
  }
  protected paramLike(): Tensor {
    return this.givenMean ?? (this.givenLogMean as Tensor);
  }
  /** Poisson(λ) with λ ~ Gamma(φ, φ/μ). */
  override sample(key: Key, sampleShape: Shape = []): Tensor {
    const [k1, k2] = split(key);
    const shape = this.shape(sampleShape);
    const rate = mul(standardGamma(k1, this.concentration, shape), div(this.mean, this.concentration));
    return ENGINE.runKernel('randomPoisson', [broadcastTo(rate, shape)], { key: k2.words })[0];
  }
  protected logProbRaw(k: Tensor): Tensor {
    const phi = this.concentration;
    const eta = this.logMean;
    const lphi = log(phi);
    // log(μ/(μ+φ)) = −softplus(log φ − η),  log(φ/(μ+φ)) = −softplus(η − log φ)
    const logP = neg(softplus(sub(lphi, eta)));
    const logQ = neg(softplus(sub(eta, lphi)));
    const coef = sub(lgamma(add(k, phi)), add(lgamma(phi), lgamma(add(k, 1))));
    return add(coef, add(mul(phi, logQ), mul(k, logP)));
  }
  override get variance(): Tensor {
    const mu = this.mean;
    return add(mu, div(square(mu), this.concentration));
  }
  expand(batchShape: Shape): NegativeBinomial2 {
    checkExpand(this.name, this.batchShape, batchShape);
    const phi = broadcastTo(this.concentration, batchShape);
    if (this.givenLogMean !== null) return new NegativeBinomial2({ logMean: broadcastTo(this.givenLogMean, batchShape) }, phi, { validateArgs: false });
    return new NegativeBinomial2(broadcastTo(this.givenMean as Tensor, batchShape), phi, { validateArgs: false });
  }
}
