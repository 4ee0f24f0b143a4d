/** Exponentially scaled modified Bessel functions of the first kind (as torch.special.i0e/i1e). */
import { ENGINE } from '../core/engine.js';
import type { Tensor } from '../core/tensor.js';

/**
 * i0e(x) = e^(−|x|) I₀(x), elementwise; finite for every real x (I₀ itself overflows past ~713).
 * @example besselI0e(tensor([0, 1])) // [1, 0.4657596075936404]
 */
export const besselI0e = (x: Tensor): Tensor => ENGINE.runKernel('besselI0e', [x], {})[0];

/**
 * i1e(x) = e^(−|x|) I₁(x), elementwise (odd in x).
 * @example besselI1e(tensor([0, 1])) // [0, 0.2079104153497085]
 */
export const besselI1e = (x: Tensor): Tensor => ENGINE.runKernel('besselI1e', [x], {})[0];
