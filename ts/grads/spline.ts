/**
 * Gradient rule of the rational-quadratic spline: one dedicated backward kernel, `rqSplineGrad`,
 * gives dx and per-element cotangents of the three unnormalized parameter rows (through the
 * softmax of widths and heights and the softplus of derivatives); `unbroadcast` sums each back
 * over the axes along which its input was broadcast.
 */
import { ENGINE } from '../core/engine.js';
import { unbroadcast } from '../ops/shape.js';
import type { GradTable } from './rule.js';

/** Rule of rqSpline. */
export const SPLINE_GRADS: GradTable = {
  rqSpline: ([dy, dlogdet], [x, widths, heights, derivatives], _outs, attrs) => {
    const [dx, dw, dh, dd] = ENGINE.runKernel('rqSplineGrad', [x, widths, heights, derivatives, dy, dlogdet], attrs);
    return [unbroadcast(dx, x.shape), unbroadcast(dw, widths.shape), unbroadcast(dh, heights.shape), unbroadcast(dd, derivatives.shape)];
  },
};
