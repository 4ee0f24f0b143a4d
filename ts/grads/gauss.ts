/**
 * Gradient rules of the fused Gaussian kernels. Both are reparameterized: the cotangents follow
 * from the outputs and inputs alone (ε is never drawn again), and `unbroadcast` sums them back
 * over the axes along which loc or logScale was broadcast.
 */
import { expm1, mul, sub } from '../ops/elementwise.js';
import { unbroadcast } from '../ops/shape.js';
import type { GradTable } from './rule.js';

/** Rules of normalReparam and diagNormalKL. */
export const GAUSS_GRADS: GradTable = {
  // z = loc + σε and log q = −½ε² − logScale − c at fixed ε: ∂z/∂loc = 1, ∂z/∂logScale = σε = z − loc,
  // ∂log q/∂logScale = −1 (ε, not z, is held fixed, so log q does not depend on loc).
  normalReparam: ([dz, dlogq], [loc, logScale], [z]) => [
    unbroadcast(dz, loc.shape),
    unbroadcast(sub(mul(dz, sub(z, loc)), dlogq), logScale.shape),
  ],
  // ∂KL/∂loc = loc, ∂KL/∂logScale = σ² − 1 = expm1(2·logScale).
  diagNormalKL: ([dy], [loc, logScale]) => [
    unbroadcast(mul(dy, loc), loc.shape),
    unbroadcast(mul(dy, expm1(mul(logScale, 2))), logScale.shape),
  ],
};
