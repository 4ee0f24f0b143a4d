/**
 * The gamma family with implicit reparameterization (Figurnov et al. 2018): Gamma, Chi2,
 * InverseGamma, Beta, Dirichlet. A unit-rate gamma draw x carries the gradient
 * dx/dα = −(∂P/∂α)(α, x) / p(x; α) from the `gammaSampleGrad` kernel; Beta and Dirichlet are
 * normalized gamma draws and inherit it.
 */
import { customGradient, stopGradient } from '../core/autodiff.js';
import { ENGINE } from '../core/engine.js';
import type { Shape } from '../core/shape.js';
import { ShapeError, fmtShape } from '../core/errors.js';
import type { Tensor } from '../core/tensor.js';
import type { TensorLike } from '../ops/creation.js';
import { add, digamma, div, lgamma, log, log1p, mul, neg, square, sub } from '../ops/elementwise.js';
import { sum } from '../ops/reduce.js';
import { broadcastTo } from '../ops/shape.js';
import { split, type Key } from '../random/key.js';
import { regularizedGammaP } from './cdf.js';
import { positive, simplex, unitInterval, type Constraint } from './constraints.js';
import { batchOf, checkExpand, Distribution, params, type DistributionOptions } from './distribution.js';

/**
 * log B(a, b) = log Γ(a) + log Γ(b) − log Γ(a + b).
 * @example lbeta(tensor([1]), tensor([1])) // [0]: B(1, 1) = 1
 */
export function lbeta(a: Tensor, b: Tensor): Tensor {
  return sub(add(lgamma(a), lgamma(b)), lgamma(add(a, b)));
}

const gammaWithGrad = customGradient((alpha: Tensor, x: Tensor) => ({
  value: x,
  grad: (dy: Tensor) => [mul(dy, ENGINE.runKernel('gammaSampleGrad', [alpha, x], {})[0]), null],
}));

/**
 * Unit-rate gamma draws of `shape` (alpha broadcast to it) that carry the implicit gradient in
 * alpha.
 * @example standardGamma(key(0), tensor([0.5, 2]), [1000, 2]) // [1000, 2], differentiable in alpha
 */
export function standardGamma(key: Key, alpha: Tensor, shape: Shape): Tensor {
  const a = broadcastTo(alpha, shape);
  const x = ENGINE.runKernel('randomGamma', [stopGradient(a)], { key: key.words })[0];
  return gammaWithGrad(a, x);
}

/** Shared by Gamma and InverseGamma: a positive concentration α and a positive rate β. */
abstract class ConcentrationRate extends Distribution {
  override readonly hasRsample = true;
  /** The shape α > 0. */
  readonly concentration: Tensor;
  /** The rate β > 0. */
  readonly rate: Tensor;
  constructor(name: string, concentration: TensorLike, rate: TensorLike, opts: DistributionOptions) {
    const [a, b] = params(concentration, rate);
    super(batchOf(name, a, b), [], opts);
    this.concentration = a;
    this.rate = b;
    this.checkParams([
      { name: 'concentration', value: a, constraint: positive },
      { name: 'rate', value: b, constraint: positive },
    ]);
  }
  get support(): Constraint {
    return positive;
  }
  protected paramLike(): Tensor {
    return this.concentration;
  }
}

/**
 * Gamma(α, β) with rate β: log p(x) = α log β + (α−1) log x − βx − log Γ(α).
 * @example new Gamma(2, 3).mean // α/β = 2/3
 */
export class Gamma extends ConcentrationRate {
  constructor(concentration: TensorLike, rate: TensorLike = 1, opts: DistributionOptions = {}) {
    super('Gamma', concentration, rate, opts);
  }
  override rsample(key: Key, sampleShape: Shape = []): Tensor {
    return div(standardGamma(key, this.concentration, this.shape(sampleShape)), this.rate);
  }
  protected logProbRaw(x: Tensor): Tensor {
    const a = this.concentration;
    return sub(add(mul(a, log(this.rate)), mul(sub(a, 1), log(x))), add(mul(this.rate, x), lgamma(a)));
  }
  /** P(X ≤ x), the regularized incomplete gamma function P(α, βx), differentiable in α, β and x. */
  cdf(x: TensorLike): Tensor {
    const bx = mul(this.rate, params(x, this.rate)[0]);
    return regularizedGammaP(broadcastTo(this.concentration, this.batchShape), bx);
  }
  override get mean(): Tensor {
    return broadcastTo(div(this.concentration, this.rate), this.batchShape);
  }
  override get variance(): Tensor {
    return broadcastTo(div(this.concentration, square(this.rate)), this.batchShape);
  }
  override entropy(): Tensor {
    const a = this.concentration;
    // α − log β + log Γ(α) + (1 − α) ψ(α)
    return broadcastTo(add(sub(a, log(this.rate)), add(lgamma(a), mul(sub(1, a), digamma(a)))), this.batchShape);
  }
  expand(batchShape: Shape): Gamma {
    checkExpand(this.name, this.batchShape, batchShape);
    return new Gamma(broadcastTo(this.concentration, batchShape), broadcastTo(this.rate, batchShape), { validateArgs: false });
  }
}

/**
 * χ²(ν) = Gamma(ν/2, ½).
 * @example new Chi2(4).variance // 2ν = 8
 */
export class Chi2 extends Gamma {
  /** The degrees of freedom ν > 0. */
  readonly df: Tensor;
  constructor(df: TensorLike, opts: DistributionOptions = {}) {
    const [d] = params(df);
    super(mul(d, 0.5), 0.5, opts);
    this.df = d;
  }
  override expand(batchShape: Shape): Chi2 {
    checkExpand(this.name, this.batchShape, batchShape);
    return new Chi2(broadcastTo(this.df, batchShape), { validateArgs: false });
  }
}

/**
 * 1/X for X ~ Gamma(α, β): log p(x) = α log β − log Γ(α) − (α+1) log x − β/x.
 * @example sample('sigma2', new InverseGamma(3, 2)) // a conjugate prior on a variance
 */
export class InverseGamma extends ConcentrationRate {
  constructor(concentration: TensorLike, rate: TensorLike = 1, opts: DistributionOptions = {}) {
    super('InverseGamma', concentration, rate, opts);
  }
  override rsample(key: Key, sampleShape: Shape = []): Tensor {
    return div(this.rate, standardGamma(key, this.concentration, this.shape(sampleShape)));
  }
  protected logProbRaw(x: Tensor): Tensor {
    const a = this.concentration;
    return sub(sub(mul(a, log(this.rate)), lgamma(a)), add(mul(add(a, 1), log(x)), div(this.rate, x)));
  }
  override get mean(): Tensor {
    return broadcastTo(div(this.rate, sub(this.concentration, 1)), this.batchShape);
  }
  override get variance(): Tensor {
    const a = this.concentration;
    return broadcastTo(div(square(this.rate), mul(square(sub(a, 1)), sub(a, 2))), this.batchShape);
  }
  override entropy(): Tensor {
    const a = this.concentration;
    // α + log β + log Γ(α) − (1 + α) ψ(α)
    return broadcastTo(sub(add(add(a, log(this.rate)), lgamma(a)), mul(add(a, 1), digamma(a))), this.batchShape);
  }
  expand(batchShape: Shape): InverseGamma {
    checkExpand(this.name, this.batchShape, batchShape);
    return new InverseGamma(broadcastTo(this.concentration, batchShape), broadcastTo(this.rate, batchShape), { validateArgs: false });
  }
}

/**
 * Beta(a, b): log p(x) = (a−1) log x + (b−1) log(1−x) − log B(a, b).
 * @example new Beta(2, 5).rsample(key(0), [3]) // reparameterized draws in (0, 1)
 */
export class Beta extends Distribution {
  override readonly hasRsample = true;
  /** a > 0, the exponent of x. */
  readonly concentration1: Tensor;
  /** b > 0, the exponent of 1 − x. */
  readonly concentration0: Tensor;
  constructor(concentration1: TensorLike, concentration0: TensorLike, opts: DistributionOptions = {}) {
    const [a, b] = params(concentration1, concentration0);
    super(batchOf('Beta', a, b), [], opts);
    this.concentration1 = a;
    this.concentration0 = b;
    this.checkParams([
      { name: 'concentration1', value: a, constraint: positive },
      { name: 'concentration0', value: b, constraint: positive },
    ]);
  }
  get support(): Constraint {
    return unitInterval;
  }
  protected paramLike(): Tensor {
    return this.concentration1;
  }
  override rsample(key: Key, sampleShape: Shape = []): Tensor {
    const [k1, k2] = split(key);
    const s = this.shape(sampleShape);
    const x = standardGamma(k1, this.concentration1, s);
    const y = standardGamma(k2, this.concentration0, s);
    return div(x, add(x, y));
  }
  protected logProbRaw(x: Tensor): Tensor {
    const a = this.concentration1;
    const b = this.concentration0;
    return sub(add(mul(sub(a, 1), log(x)), mul(sub(b, 1), log1p(neg(x)))), lbeta(a, b));
  }
  override get mean(): Tensor {
    return broadcastTo(div(this.concentration1, add(this.concentration1, this.concentration0)), this.batchShape);
  }
  override get variance(): Tensor {
    const a = this.concentration1;
    const b = this.concentration0;
    const t = add(a, b);
    return broadcastTo(div(mul(a, b), mul(square(t), add(t, 1))), this.batchShape);
  }
  override entropy(): Tensor {
    const a = this.concentration1;
    const b = this.concentration0;
    // log B(a,b) − (a−1)ψ(a) − (b−1)ψ(b) + (a+b−2)ψ(a+b)
    const t = add(a, b);
    const r = add(sub(sub(lbeta(a, b), mul(sub(a, 1), digamma(a))), mul(sub(b, 1), digamma(b))), mul(sub(t, 2), digamma(t)));
    return broadcastTo(r, this.batchShape);
  }
  expand(batchShape: Shape): Beta {
    checkExpand(this.name, this.batchShape, batchShape);
    return new Beta(broadcastTo(this.concentration1, batchShape), broadcastTo(this.concentration0, batchShape), { validateArgs: false });
  }
}

/**
 * Dirichlet(α) on the simplex (last axis): log p(x) = Σ(αᵢ−1) log xᵢ + log Γ(Σα) − Σ log Γ(αᵢ).
 * @example new Dirichlet(ones([3])).sample(key(0)) // a point on the 3-simplex
 */
export class Dirichlet extends Distribution {
  override readonly hasRsample = true;
  /** α [..., K], every entry > 0. */
  readonly concentration: Tensor;
  constructor(concentration: TensorLike, opts: DistributionOptions = {}) {
    const [a] = params(concentration);
    if (a.shape.length < 1) throw new ShapeError(`Dirichlet: concentration must have at least one axis, got shape ${fmtShape(a.shape)}`);
    super(a.shape.slice(0, -1), a.shape.slice(-1), opts);
    this.concentration = a;
    this.checkParams([{ name: 'concentration', value: a, constraint: positive }]);
  }
  get support(): Constraint {
    return simplex;
  }
  protected paramLike(): Tensor {
    return this.concentration;
  }
  override rsample(key: Key, sampleShape: Shape = []): Tensor {
    const g = standardGamma(key, this.concentration, this.shape(sampleShape));
    return div(g, sum(g, -1, true));
  }
  protected logProbRaw(x: Tensor): Tensor {
    const a = this.concentration;
    return add(sum(mul(sub(a, 1), log(x)), -1), sub(lgamma(sum(a, -1)), sum(lgamma(a), -1)));
  }
  override get mean(): Tensor {
    const a = broadcastTo(this.concentration, this.shape());
    return div(a, sum(a, -1, true));
  }
  override get variance(): Tensor {
    const a = broadcastTo(this.concentration, this.shape());
    const a0 = sum(a, -1, true);
    return div(mul(a, sub(a0, a)), mul(square(a0), add(a0, 1)));
  }
  override entropy(): Tensor {
    const a = this.concentration;
    const k = a.shape[a.shape.length - 1];
    const a0 = sum(a, -1);
    // log B(α) + (α₀ − K) ψ(α₀) − Σ (αᵢ − 1) ψ(αᵢ)
    const logB = sub(sum(lgamma(a), -1), lgamma(a0));
    return add(logB, sub(mul(sub(a0, k), digamma(a0)), sum(mul(sub(a, 1), digamma(a)), -1)));
  }
  expand(batchShape: Shape): Dirichlet {
    checkExpand(this.name, this.batchShape, batchShape);
    return new Dirichlet(broadcastTo(this.concentration, [...batchShape, ...this.eventShape]), { validateArgs: false });
  }
}

