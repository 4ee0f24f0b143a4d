/**
 * Gradient rule of the affine flow step, written with existing ops. Where a mask is given, its
 * zero entries passed x through (∂y/∂x = 1, nothing from shift or s); `unbroadcast` sums each
 * cotangent back over the axes along which its input was broadcast. The mask gets none.
 */
import type { Tensor } from '../core/tensor.js';
import { add, exp, mul, neg, sigmoid, sub, where } from '../ops/elementwise.js';
import { expandDims, unbroadcast } from '../ops/shape.js';
import type { GradTable } from './rule.js';

/** Rule of affineFlow. */
export const FLOW_GRADS: GradTable = {
  affineFlow: ([dy, dlogdet], [x, shift, s, mask], [y], { gate, inverse }) => {
    // On transformed entries `t`, elsewhere `passed` (the pass-through value).
    const sel = (t: Tensor, passed: number): Tensor => (mask === undefined ? t : where(mask, t, passed));
    // logdet's cotangent, one per row, reaches every s of the row.
    const dl = expandDims(dlogdet, -1);
    let dx: Tensor;
    let dshift: Tensor;
    let ds: Tensor;
    if (gate === 'sigmoid') {
      // y = σx + (1 − σ)shift: ∂y/∂x = σ, ∂y/∂shift = 1 − σ, ∂y/∂s = σ(1 − σ)(x − shift), ∂log σ/∂s = 1 − σ.
      const sg = sigmoid(s);
      const sc = sigmoid(neg(s));
      dx = mul(dy, sel(sg, 1));
      dshift = sel(mul(dy, sc), 0);
      ds = sel(mul(sc, add(mul(mul(dy, sg), sub(x, shift)), dl)), 0);
    } else if (inverse) {
      // y = (x − shift)e^−s: ∂y/∂x = e^−s = −∂y/∂shift, ∂y/∂s = −y; logdet = −Σs.
      const e = exp(neg(s));
      dx = mul(dy, sel(e, 1));
      dshift = sel(neg(mul(dy, e)), 0);
      ds = sel(neg(add(mul(dy, y), dl)), 0);
    } else {
      // y = x·e^s + shift: ∂y/∂x = e^s, ∂y/∂shift = 1, ∂y/∂s = x·e^s; logdet = Σs.
      const e = exp(s);
      dx = mul(dy, sel(e, 1));
      dshift = sel(dy, 0);
      ds = sel(add(mul(dy, mul(x, e)), dl), 0);
    }
    const grads: (Tensor | null)[] = [unbroadcast(dx, x.shape), unbroadcast(dshift, shift.shape), unbroadcast(ds, s.shape)];
    if (mask !== undefined) grads.push(null);
    return grads;
  },
};
