/**
 * The von Mises distribution on the circle, with implicit reparameterization gradients in the
 * concentration (Figurnov, Mohamed & Mnih 2018) through the `vonMisesSampleGrad` kernel.
 */
import { customGradient, stopGradient } from '../core/autodiff.js';
import { ENGINE } from '../core/engine.js';
import type { Shape } from '../core/shape.js';
import type { Tensor } from '../core/tensor.js';
import { besselI0e, besselI1e } from '../ops/bessel.js';
import type { TensorLike } from '../ops/creation.js';
import { add, cos, div, floor, log, mul, sub } from '../ops/elementwise.js';
import { broadcastTo } from '../ops/shape.js';
import type { Key } from '../random/key.js';
import { interval, nonnegative, real, type Constraint } from './constraints.js';
import { batchOf, checkExpand, Distribution, params, type DistributionOptions } from './distribution.js';
import { LOG_2PI } from './util.js';

const vonMisesWithGrad = customGradient((k: Tensor, x: Tensor) => ({
  value: x,
  grad: (dy: Tensor) => [mul(dy, ENGINE.runKernel('vonMisesSampleGrad', [k, x], {})[0]), null],
}));

/**
 * Centered von Mises draws VM(0, κ) in [−π, π] of `shape` (κ broadcast to it), by Best & Fisher's
 * (1979) rejection sampler, carrying the implicit gradient dx/dκ = −(∂F/∂κ)/p(x; κ).
 * @example standardVonMises(key(0), tensor([4]), [100]) // [100] angles around 0
 */
export function standardVonMises(key: Key, concentration: Tensor, shape: Shape): Tensor {
  const k = broadcastTo(concentration, shape);
  const x = ENGINE.runKernel('randomVonMises', [stopGradient(k)], { key: key.words })[0];
  return vonMisesWithGrad(k, x);
}

/** The circle as the interval [−π, π]. */
export const circular: Constraint = { ...interval(-Math.PI, Math.PI), name: 'circular', toString: () => 'circular' };

/**
 * VM(μ, κ): log p(x) = κ cos(x − μ) − log(2π I₀(κ)), on [−π, π); draws are wrapped there.
 * Computed with i0e: log(2π I₀(κ)) = log 2π + log i0e(κ) + κ. The mean is the circular mean μ,
 * the variance the circular variance 1 − I₁(κ)/I₀(κ).
 * @example new VonMises(0, 2).rsample(key(0), [100])
 */
export class VonMises extends Distribution {
  override readonly hasRsample = true;
  /** The mean direction μ (radians). */
  readonly loc: Tensor;
  /** κ ≥ 0 (κ = 0 is uniform on the circle). */
  readonly concentration: Tensor;
  constructor(loc: TensorLike, concentration: TensorLike, opts: DistributionOptions = {}) {
    const [m, k] = params(loc, concentration);
    super(batchOf('VonMises', m, k), [], opts);
    this.loc = m;
    this.concentration = k;
    this.checkParams([
      { name: 'loc', value: m, constraint: real },
      { name: 'concentration', value: k, constraint: nonnegative },
    ]);
  }
  get support(): Constraint {
    return circular;
  }
  protected paramLike(): Tensor {
    return this.loc;
  }
  override rsample(key: Key, sampleShape: Shape = []): Tensor {
    const x = add(standardVonMises(key, this.concentration, this.shape(sampleShape)), this.loc);
    // Wrap to [−π, π): the subtracted whole turns are constants for the gradient.
    const turns = floor(div(add(stopGradient(x), Math.PI), 2 * Math.PI));
    return sub(x, mul(turns, 2 * Math.PI));
  }
  protected logProbRaw(x: Tensor): Tensor {
    const k = this.concentration;
    return sub(mul(k, cos(sub(x, this.loc))), add(add(log(besselI0e(k)), k), LOG_2PI));
  }
  override get mean(): Tensor {
    return broadcastTo(this.loc, this.batchShape);
  }
  /** The circular variance 1 − I₁(κ)/I₀(κ). */
  override get variance(): Tensor {
    const k = this.concentration;
    return broadcastTo(sub(1, div(besselI1e(k), besselI0e(k))), this.batchShape);
  }
  override entropy(): Tensor {
    const k = this.concentration;
    // log(2π I₀(κ)) − κ I₁(κ)/I₀(κ)
    const i0 = besselI0e(k);
    const h = sub(add(add(log(i0), k), LOG_2PI), mul(k, div(besselI1e(k), i0)));
    return broadcastTo(h, this.batchShape);
  }
  expand(batchShape: Shape): VonMises {
    checkExpand(this.name, this.batchShape, batchShape);
    return new VonMises(broadcastTo(this.loc, batchShape), broadcastTo(this.concentration, batchShape), { validateArgs: false });
  }
}
