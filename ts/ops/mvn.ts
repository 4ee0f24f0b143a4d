/**
 * The fused Cholesky-guide sample: a reparameterized draw of a full-covariance Gaussian with its
 * log-density, one kernel with its own gradient in place of randomNormal, matmul and the log q chain.
 */
import { ENGINE } from '../core/engine.js';
import { ValueError } from '../core/errors.js';
import type { Tensor } from '../core/tensor.js';
import { Key } from '../random/key.js';
import { asTensor, type TensorLike } from './creation.js';

/**
 * A reparameterized draw z ~ N(loc, L Lᵀ) with its log-density, L = `scaleTril`:
 * z = loc + L ε and log q(z) = −½‖ε‖² − Σ_i log|L_ii| − (d/2) log 2π, where ε are the standard
 * normals `normal(k, [...batch, d], { dtype })` draws. Only L's lower triangle is read (a
 * Cholesky factor's; the strict upper triangle is ignored). Shapes: loc [..., d], scaleTril
 * [..., d, d] with d ≥ 1, their batch dims broadcasting NumPy-style to `batch`; z is [...batch, d]
 * and log q [...batch]; both float32 or both float64. Gradients are pathwise at fixed ε:
 * ∂z/∂loc = I, ∂z_i/∂L_ij = ε_j for i ≥ j, ∂log q/∂L_ii = −1/L_ii.
 * @example const [z, logq] = mvnReparam(loc, scaleTril, key(0)) // loc [B, d], scaleTril [d, d] → [B, d], [B]
 */
export function mvnReparam(loc: TensorLike, scaleTril: TensorLike, k: Key): [Tensor, Tensor] {
  if (!(k instanceof Key)) throw new ValueError(`mvnReparam: key must be a Key (from key(seed), split or foldIn), got ${String(k)}`);
  const m = asTensor(loc, typeof scaleTril === 'number' ? undefined : scaleTril);
  const [z, logq] = ENGINE.runKernel('mvnReparam', [m, asTensor(scaleTril, m)], { key: k.words });
  return [z, logq];
}
