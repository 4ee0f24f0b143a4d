/**
 * The fused affine flow step of normalizing flows: RealNVP's affine coupling (with a binary
 * mask), MAF's and IAF's autoregressive steps (no mask), with the log-determinant of the
 * Jacobian in the same pass. One kernel with its own gradient, in place of a chain of
 * elementwise ops and a sum.
 */
import { ENGINE } from '../core/engine.js';
import { ValueError } from '../core/errors.js';
import type { Tensor } from '../core/tensor.js';
import { asTensor, tensor, type TensorLike } from './creation.js';
import { onDeviceOf } from './elementwise.js';

/** Options of {@link affineFlow}. */
export interface AffineFlowOptions {
  /** 'exp' (RealNVP, MAF: scale e^s) or 'sigmoid' (IAF's stable update); default 'exp'. */
  gate?: 'exp' | 'sigmoid';
  /** Run the 'exp' step backwards (MAF's density direction); default false. */
  inverse?: boolean;
  /** Shape `[d]`: non-zero entries are transformed, zeros pass x through (a coupling layer); default all transformed. */
  mask?: Tensor | readonly number[];
}

/**
 * One affine flow step with its log|det ∂y/∂x|, over the last axis d:
 * - gate 'exp': y = x·e^s + shift, logdet = Σ_j s_j;
 *   inverse: y = (x − shift)·e^−s, logdet = −Σ_j s_j;
 * - gate 'sigmoid' (IAF, Kingma et al. 2016, eq. 14): σ = sigmoid(s), y = σ·x + (1 − σ)·shift,
 *   logdet = Σ_j log σ_j, computed as −softplus(−s); forward only.
 * With a mask, the sums run over the transformed entries j (mask_j ≠ 0) and y_j = x_j elsewhere.
 * x, shift and s broadcast NumPy-style to the output shape [..., d] (d ≥ 1), of one float dtype;
 * the mask has shape [d] and that dtype. Returns y [..., d] and logdet [...]. Differentiable in x,
 * shift and s (not the mask), with the cotangents summed over broadcast axes.
 * @example
 * // A RealNVP coupling on [B, 4]: the first half conditions the second.
 * const [y, logdet] = affineFlow(x, shift, s, { mask: [0, 0, 1, 1] }) // y [B, 4], logdet [B]
 * const [x2] = affineFlow(y, shift, s, { mask: [0, 0, 1, 1], inverse: true }) // x2 = x
 */
export function affineFlow(x: TensorLike, shift: TensorLike, s: TensorLike, opts: AffineFlowOptions = {}): [Tensor, Tensor] {
  const { gate = 'exp', inverse = false, mask } = opts;
  // A number takes the dtype of the first tensor argument (float64 if none is a tensor).
  const like = [x, shift, s].find((t): t is Tensor => typeof t !== 'number');
  const ins = [asTensor(x, like), asTensor(shift, like), asTensor(s, like)];
  if (mask !== undefined) {
    if (Array.isArray(mask)) ins.push(onDeviceOf(tensor(mask, [mask.length], ins[0].dtype), ins[0]));
    else if (typeof mask === 'object' && 'shape' in mask) ins.push(mask as Tensor);
    else throw new ValueError(`affineFlow: mask must be a Tensor or an array of numbers, got ${String(mask)}`);
  }
  const [y, logdet] = ENGINE.runKernel('affineFlow', ins, { gate, inverse });
  return [y, logdet];
}
