/**
 * The fused Gaussian ops of variational inference: the reparameterized sample of a diagonal
 * Gaussian with its log-density, and its closed-form KL to N(0, I). Each is one kernel with its
 * own gradient, in place of a chain of elementwise ops.
 */
import { ENGINE } from '../core/engine.js';
import { ValueError } from '../core/errors.js';
import type { Tensor } from '../core/tensor.js';
import { Key } from '../random/key.js';
import { asTensor, type TensorLike } from './creation.js';

/** Both parameters as tensors; a number takes the other parameter's dtype (float64 if both are numbers). */
function params(loc: TensorLike, logScale: TensorLike): [Tensor, Tensor] {
  const l = typeof loc === 'number' ? asTensor(loc, typeof logScale === 'number' ? undefined : logScale) : loc;
  return [l, asTensor(logScale, l)];
}

/**
 * A reparameterized draw z ~ N(loc, σ²), σ = exp(logScale), with its log-density:
 * z = loc + σ·ε and log q(z) = −½ε² − logScale − ½ log 2π, where ε are the standard normals
 * `normal(k, shape, { dtype })` draws for the broadcast shape of loc and logScale and their dtype.
 * loc and logScale broadcast NumPy-style; both outputs have the broadcast shape. Gradients are
 * pathwise: ∂z/∂loc = 1, ∂z/∂logScale = σε, ∂log q/∂logScale = −1, at fixed ε.
 * @example const [z, logq] = normalReparam(loc, logScale, key(0)) // loc, logScale [B, d] → two [B, d]
 */
export function normalReparam(loc: TensorLike, logScale: TensorLike, k: Key): [Tensor, Tensor] {
  if (!(k instanceof Key)) throw new ValueError(`normalReparam: key must be a Key (from key(seed), split or foldIn), got ${String(k)}`);
  const [z, logq] = ENGINE.runKernel('normalReparam', params(loc, logScale), { key: k.words });
  return [z, logq];
}

/**
 * KL(N(loc, σ²) ‖ N(0, 1)) elementwise, σ = exp(logScale), in closed form:
 * ½(loc² + σ² − 1) − logScale. loc and logScale broadcast NumPy-style. Sum over the latent axis
 * for the KL term of a mean-field Gaussian posterior against a standard-normal prior.
 * @example diagNormalKL(tensor([0, 1]), tensor([0, 0])) // [0, 0.5]
 */
export function diagNormalKL(loc: TensorLike, logScale: TensorLike): Tensor {
  return ENGINE.runKernel('diagNormalKL', params(loc, logScale), {})[0];
}
