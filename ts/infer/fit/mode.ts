/** The MAP in the unconstrained space (L-BFGS, then Newton with the finite-difference Hessian): the Laplace start. */
import { VarinfError } from '../../core/errors.js';
import type { Tensor } from '../../core/tensor.js';
import { tensor } from '../../ops/creation.js';
import { lbfgs, type ValueGrad } from '../../optim/lbfgs.js';
import type { AutoLaplaceApproximation } from '../autoguide.js';
import { choleskyHost, invFromChol } from './linalg.js';
import { fdHessian, type BatchGrad } from './potential.js';

/**
 * The MAP by L-BFGS, polished by safeguarded Newton steps with the finite-difference Hessian;
 * converged when the Newton step is below `tol` posterior sds (√diag H⁻¹) in every coordinate.
 */
export function findMode(
  fns: { one: ValueGrad; batch: BatchGrad },
  x0: Float64Array,
  tol = 1e-4,
): { x: Float64Array; hess: Float64Array | null; chol: Float64Array | null; iterations: number; converged: boolean; reason: string } {
  const safe = backOff(fns.one);
  const r = lbfgs(safe, x0, { maxIter: 300 });
  let x = r.x;
  let { f, g } = fns.one(x);
  const d = x.length;
  let reason = '';
  for (let it = 0; it < 8; it++) {
    let h: Float64Array;
    try {
      h = fdHessian(fns.batch, x);
    } catch (e) {
      if (!(e instanceof VarinfError)) throw e;
      h = new Float64Array(d * d).fill(NaN);
    }
    const l = choleskyHost(h, d);
    if (l === null) {
      reason = `the Hessian of −log p is not positive definite after ${r.iterations} L-BFGS and ${it} Newton iterations: no MAP (a funnel or a boundary)`;
      return { x, hess: null, chol: null, iterations: r.iterations + it, converged: false, reason };
    }
    const inv = invFromChol(l, d);
    const step = new Float64Array(d);
    let worst = 0;
    for (let i = 0; i < d; i++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += inv[i * d + j] * g[j];
      step[i] = -s;
      worst = Math.max(worst, Math.abs(s) / Math.sqrt(inv[i * d + i]));
    }
    if (worst < tol) return { x, hess: h, chol: l, iterations: r.iterations + it, converged: true, reason: 'converged' };
    let t = 1;
    let moved = false;
    for (let ls = 0; ls < 30; ls++) {
      const xn = x.map((v, i) => v + t * step[i]);
      const nx = safe(xn);
      if (Number.isFinite(nx.f) && nx.f <= f + 1e-12 * Math.abs(f)) {
        x = xn;
        f = nx.f;
        g = nx.g;
        moved = true;
        break;
      }
      t *= 0.5;
    }
    if (!moved) {
      reason = `Newton steps stalled ${worst.toExponential(2)} sds from a mode`;
      return { x, hess: null, chol: null, iterations: r.iterations + it, converged: false, reason };
    }
  }
  return { x, hess: null, chol: null, iterations: r.iterations + 8, converged: false, reason: 'Newton did not converge in 8 iterations' };
}

/**
 * `fg`, with a point where the density is invalid (a scale underflowing to 0 in a funnel, a far
 * draw) scored +∞ with a zero gradient, so that a line search backs off instead of throwing.
 */
export function backOff(fg: ValueGrad): ValueGrad {
  return (z) => {
    try {
      return fg(z);
    } catch (e) {
      if (e instanceof VarinfError) return { f: Infinity, g: new Float64Array(z.length) };
      throw e;
    }
  };
}

export function concatInit<A extends unknown[]>(lap: AutoLaplaceApproximation<A>): Tensor {
  const parts = lap.sites.map((s) => Array.from(s.init.dataSync()));
  return tensor(Float64Array.from(parts.flat()), [parts.reduce((a, p) => a + p.length, 0)]);
}
