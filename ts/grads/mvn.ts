/**
 * Gradient rule of the fused Cholesky-guide sample `mvnReparam`. Pathwise at fixed ε: ε is drawn
 * again from the kernel's key (the randomNormal draws the forward pass used), never differentiated;
 * `unbroadcast` sums the cotangents back over the batch dims along which loc or L was broadcast.
 */
import { ENGINE } from '../core/engine.js';
import { div, mul, sub } from '../ops/elementwise.js';
import { diagEmbed, diagonal, tril } from '../ops/linalg.js';
import { expandDims, unbroadcast } from '../ops/shape.js';
import type { GradTable } from './rule.js';

/** The rule of mvnReparam. */
export const MVN_GRADS: GradTable = {
  // z = loc + tril(L) ε, log q = −½‖ε‖² − Σ log|L_ii| − c: ∂z/∂loc = I, ∂z_i/∂L_ij = ε_j (i ≥ j),
  // ∂log q/∂L_ii = −1/L_ii; log q does not depend on loc (ε, not z, is held fixed).
  mvnReparam: ([dz, dlogq], [loc, l], [z], { key }) => {
    const eps = ENGINE.runKernel('randomNormal', [], { key, shape: z.shape.slice(), dtype: z.dtype })[0];
    const dL = sub(tril(mul(expandDims(dz, -1), expandDims(eps, -2))), diagEmbed(div(expandDims(dlogq, -1), diagonal(l))));
    return [unbroadcast(dz, loc.shape), unbroadcast(dL, l.shape)];
  },
};
