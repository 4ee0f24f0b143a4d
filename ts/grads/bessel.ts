/**
 * Gradient rules of the scaled Bessel kernels. With I₀′ = I₁ and I₁′ = I₀ − I₁/x
 * (Abramowitz & Stegun 9.6.27), the scaling e^(−|x|) adds −sign(x) times the function:
 * i0e′ = i1e − sign(x)·i0e and i1e′ = i0e − i1e·(sign(x) + 1/x), whose limit at x = 0 is ½.
 */
import { besselI0e, besselI1e } from '../ops/bessel.js';
import { add, div, equal, mul, sign, sub, where } from '../ops/elementwise.js';
import type { GradTable } from './rule.js';

/** Rules of besselI0e and besselI1e. */
export const BESSEL_GRADS: GradTable = {
  besselI0e: ([dy], [x], [y]) => [mul(dy, sub(besselI1e(x), mul(sign(x), y)))],
  besselI1e: ([dy], [x], [y]) => {
    const zero = equal(x, 0);
    // i1e(x)/x → ½ at 0; the guarded divisor keeps the unused branch finite.
    const overX = where(zero, 0.5, div(y, where(zero, 1, x)));
    return [mul(dy, sub(besselI0e(x), add(mul(y, sign(x)), overX)))];
  },
};
