/**
 * The rational-quadratic spline flow step (Durkan, Bekasov, Murray & Papamakarios, "Neural Spline
 * Flows", NeurIPS 2019) as one kernel with its own backward kernel, in place of the chain of
 * softmax, cumsum, gather and elementwise ops a spline layer otherwise takes.
 */
import { ENGINE } from '../core/engine.js';
import type { Tensor } from '../core/tensor.js';

/** Options of {@link rqSpline}. */
export interface RqSplineOptions {
  /** The spline acts on [−bound, bound]; identity outside. Default 3 (Pyro's). */
  bound?: number;
  /** Run the inverse map (y → x, logdet = −log|dy/dx| at that x). Default false. */
  inverse?: boolean;
}

/**
 * A monotonic rational-quadratic spline with K bins on [−B, B], identity (y = x, logdet = 0)
 * outside, applied elementwise with per-element parameters. Parametrized as Pyro 1.9's `Spline`
 * (quadratic order): bin widths w = 2B·(m + (1 − K·m)·softmax(widths)) with m = 1e-3, the same for
 * heights h, knots x_k, y_k their cumulative sums from −B (the last exactly B); interior knot
 * derivatives d_k = 1e-3 + softplus(derivatives), the two boundary ones 1 − 1e-3 (Pyro's value,
 * not nflows' 1, so the tails meet the spline with slope 0.999 rather than 1).
 * In bin k, with θ = (x − x_k)/w_k, s = h_k/w_k (the paper's eq. 4 and 5):
 * y = y_k + h_k·(sθ² + d_k θ(1−θ)) / (s + (d_k + d_k+1 − 2s)θ(1−θ)) and
 * dy/dx = s²(d_k+1 θ² + 2sθ(1−θ) + d_k (1−θ)²) / (s + (d_k + d_k+1 − 2s)θ(1−θ))².
 * The inverse solves the quadratic for θ with the stable root 2c / (−b − √(b² − 4ac)).
 *
 * Shapes: x [..., d]; widths, heights [..., d, K]; derivatives [..., d, K − 1]; the parameters'
 * batch shapes (all but the last axis) broadcast with x's to the output shape. Returns y and the
 * elementwise log|dy/dx| (log|dx/dy| inverse), both of the output shape: sum logdet over d for
 * the flow's log-determinant. Differentiable in x and all three parameter arrays.
 * @example
 * const [y, logdet] = rqSpline(x, w, h, d, { bound: 3 }) // x [B, 2], w, h [2, 8], d [2, 7] → two [B, 2]
 * const [x2] = rqSpline(y, w, h, d, { bound: 3, inverse: true }) // x2 ≈ x
 */
export function rqSpline(x: Tensor, widths: Tensor, heights: Tensor, derivatives: Tensor, opts: RqSplineOptions = {}): [Tensor, Tensor] {
  const [y, logdet] = ENGINE.runKernel('rqSpline', [x, widths, heights, derivatives], { bound: opts.bound ?? 3, inverse: opts.inverse ?? false });
  return [y, logdet];
}
