/**
 * Planar and radial flows (Rezende & Mohamed 2015): one-unit residual maps with a closed-form
 * log-determinant and no closed-form inverse. Both are cheap in the forward (sampling) direction,
 * where a flow distribution scores its own draws.
 */
import type { Tensor } from '../core/tensor.js';
import { abs, add, div, log, log1p, mul, softplus, sqrt, square, sub, tanh } from '../ops/elementwise.js';
import { sum } from '../ops/reduce.js';
import { expandDims } from '../ops/shape.js';
import { zeros } from '../ops/creation.js';
import { split, type Key } from '../random/key.js';
import { normal, type FloatDType } from '../random/samplers.js';
import { checkFeatures } from './conditioner.js';
import { FlowTransform, NotInvertibleError, type FlowLayer } from './core.js';

/** Parameters of {@link planar}: w [d], u [d], b []. */
export interface PlanarParams {
  /** The direction w of the hyperplane wᵀx + b, [d]. */
  w: Tensor;
  /** The raw step direction u, [d], reparametrized to û (wᵀû ≥ −1) before use. */
  u: Tensor;
  /** The offset b of wᵀx + b, []. */
  b: Tensor;
}

class PlanarTransform extends FlowTransform {
  constructor(
    d: number,
    private readonly p: PlanarParams,
  ) {
    super('planar', d);
  }
  protected callForward(x: Tensor): [Tensor, Tensor] {
    const { w, u, b } = this.p;
    // û = u + (m(wᵀu) − wᵀu)·w/‖w‖², m(a) = −1 + softplus(a): wᵀû ≥ −1 keeps the map invertible.
    const wu = sum(mul(w, u));
    const wuHat = add(softplus(wu), -1);
    const uHat = add(u, mul(div(sub(wuHat, wu), sum(square(w))), w));
    const t = tanh(add(sum(mul(x, w), -1), b));
    const y = add(x, mul(expandDims(t, -1), uHat));
    const ladj = log(abs(add(mul(sub(1, square(t)), wuHat), 1)));
    return [y, ladj];
  }
  protected callInverse(): [Tensor, Tensor] {
    throw new NotInvertibleError('planar: the inverse has no closed form; planar is cheap in the forward (sampling) direction: score its own draws with FlowDistribution.rsampleWithLogProb');
  }
}

/**
 * A planar flow: y = x + û·tanh(wᵀx + b), log|det J| = log|1 + (1 − tanh²(wᵀx + b))·wᵀû|, with û
 * the reparametrization of u that keeps wᵀû ≥ −1 (invertible). Forward only; `inverse` throws a
 * NotInvertibleError. Shapes: [..., d] → [..., d], ladj [...].
 * @example
 * const pl = planar(2);
 * const [y, ladj] = pl.bind(pl.init(key(0), 'float64')).forwardAndLadj(z);
 */
export function planar(features: number): FlowLayer<PlanarParams> {
  checkFeatures('planar', features);
  return {
    name: 'planar',
    features,
    contextFeatures: 0,
    init(k: Key, dtype: FloatDType): PlanarParams {
      const [a, c] = split(k, 2);
      return { w: normal(a, [features], { dtype, scale: 0.1 }), u: normal(c, [features], { dtype, scale: 0.1 }), b: zeros([], dtype) };
    },
    bind: (p: PlanarParams) => new PlanarTransform(features, p),
  };
}

/** Parameters of {@link radial}: centre x0 [d], and the raw α̂, β̂ []. */
export interface RadialParams {
  /** The centre x0, [d]. */
  x0: Tensor;
  /** The raw α̂, []: α = softplus(α̂) > 0. */
  alpha: Tensor;
  /** The raw β̂, []: β = −α + softplus(β̂) > −α. */
  beta: Tensor;
}

class RadialTransform extends FlowTransform {
  constructor(
    d: number,
    private readonly p: RadialParams,
  ) {
    super('radial', d);
  }
  protected callForward(x: Tensor): [Tensor, Tensor] {
    const a = softplus(this.p.alpha);
    // β = −α + softplus(β̂) > −α keeps the map invertible.
    const bt = sub(softplus(this.p.beta), a);
    const diff = sub(x, this.p.x0);
    const r = sqrt(sum(square(diff), -1));
    const h = div(1, add(a, r));
    const bh = mul(bt, h);
    const y = add(x, mul(expandDims(bh, -1), diff));
    // (d − 1)·log(1 + βh) + log(1 + βh + β·h′·r), h′ = −h².
    const ladj = add(mul(log1p(bh), this.features - 1), log1p(sub(bh, mul(mul(bt, square(h)), r))));
    return [y, ladj];
  }
  protected callInverse(): [Tensor, Tensor] {
    throw new NotInvertibleError('radial: the inverse has no closed form; radial is cheap in the forward (sampling) direction: score its own draws with FlowDistribution.rsampleWithLogProb');
  }
}

/**
 * A radial flow: y = x + β·h(α, r)·(x − x0), r = ‖x − x0‖, h = 1/(α + r), with α = softplus(α̂)
 * and β = −α + softplus(β̂) (invertible); log|det J| = (d − 1)·log(1 + βh) + log(1 + βh − βr·h²).
 * Forward only. Shapes: [..., d] → [..., d], ladj [...].
 * @example
 * const rd = radial(2);
 * const [y, ladj] = rd.bind(rd.init(key(0), 'float64')).forwardAndLadj(z);
 */
export function radial(features: number): FlowLayer<RadialParams> {
  checkFeatures('radial', features);
  return {
    name: 'radial',
    features,
    contextFeatures: 0,
    init(k: Key, dtype: FloatDType): RadialParams {
      return { x0: normal(k, [features], { dtype, scale: 0.1 }), alpha: zeros([], dtype), beta: zeros([], dtype) };
    },
    bind: (p: RadialParams) => new RadialTransform(features, p),
  };
}

