/** The Weibull distribution (Stan's weibull(α, σ), NumPyro's and PyTorch's Weibull(scale, concentration)). */
import type { Shape } from '../core/shape.js';
import type { Tensor } from '../core/tensor.js';
import type { TensorLike } from '../ops/creation.js';
import { add, div, exp, expm1, lgamma, log, log1p, maximum, mul, neg, pow, square, sub } from '../ops/elementwise.js';
import { broadcastTo } from '../ops/shape.js';
import type { Key } from '../random/key.js';
import { nonnegative, positive, type Constraint } from './constraints.js';
import { batchOf, checkExpand, Distribution, params, type DistributionOptions } from './distribution.js';
import { EULER_GAMMA, openUniform } from './util.js';

/**
 * Weibull with scale σ and concentration (shape) k, on x ≥ 0:
 *
 *   log p(x) = log k − log σ + (k − 1) log(x/σ) − (x/σ)^k;  F(x) = 1 − exp(−(x/σ)^k);
 *   F⁻¹(p) = σ (−log(1 − p))^{1/k};  mean σ Γ(1 + 1/k);  variance σ² (Γ(1 + 2/k) − Γ(1 + 1/k)²).
 *
 * Stan's `weibull(alpha, sigma)` is `new Weibull(sigma, alpha)`. Reparameterized by inversion.
 * Shapes: batch = broadcast of scale and concentration; event scalar.
 * @example new Weibull(2, 1.5).logProb(1)
 */
export class Weibull extends Distribution {
  override readonly hasRsample = true;
  /** The scale σ > 0. */
  readonly scale: Tensor;
  /** The concentration (shape) k > 0. */
  readonly concentration: Tensor;
  constructor(scale: TensorLike, concentration: TensorLike, opts: DistributionOptions = {}) {
    const [s, k] = params(scale, concentration);
    super(batchOf('Weibull', s, k), [], opts);
    this.scale = s;
    this.concentration = k;
    this.checkParams([
      { name: 'scale', value: s, constraint: positive },
      { name: 'concentration', value: k, constraint: positive },
    ]);
  }
  get support(): Constraint {
    return nonnegative;
  }
  protected paramLike(): Tensor {
    return this.scale;
  }
  override rsample(key: Key, sampleShape: Shape = []): Tensor {
    return this.icdf(openUniform(key, this.shape(sampleShape), this.dtype));
  }
  protected logProbRaw(x: Tensor): Tensor {
    const k = this.concentration;
    const lz = sub(log(x), log(this.scale));
    return sub(add(sub(log(k), log(this.scale)), mul(sub(k, 1), lz)), exp(mul(k, lz)));
  }
  /** P(X ≤ x) = 1 − exp(−(x/σ)^k) (0 below 0). */
  cdf(x: TensorLike): Tensor {
    const v = maximum(params(x, this.scale)[0], 0);
    return neg(expm1(neg(pow(div(v, this.scale), this.concentration))));
  }
  /** The quantile σ (−log(1 − p))^{1/k}. */
  icdf(p: TensorLike): Tensor {
    return mul(this.scale, pow(neg(log1p(neg(params(p, this.scale)[0]))), div(1, this.concentration)));
  }
  override get mean(): Tensor {
    return broadcastTo(mul(this.scale, exp(lgamma(add(div(1, this.concentration), 1)))), this.batchShape);
  }
  override get variance(): Tensor {
    const k = this.concentration;
    const g1 = exp(lgamma(add(div(1, k), 1)));
    const g2 = exp(lgamma(add(div(2, k), 1)));
    return broadcastTo(mul(square(this.scale), sub(g2, square(g1))), this.batchShape);
  }
  /** γ (1 − 1/k) + log(σ/k) + 1. */
  override entropy(): Tensor {
    const k = this.concentration;
    return broadcastTo(add(add(mul(sub(1, div(1, k)), EULER_GAMMA), sub(log(this.scale), log(k))), 1), this.batchShape);
  }
  expand(batchShape: Shape): Weibull {
    checkExpand(this.name, this.batchShape, batchShape);
    return new Weibull(broadcastTo(this.scale, batchShape), broadcastTo(this.concentration, batchShape), { validateArgs: false });
  }
}
