/**
 * fromStan against Stan's frozen log density and gradient (test/fixtures/stan/golden, from
 * scripts/golden/stan.py): shared by stan-golden.test.ts and bench/stan/coverage.ts.
 */
import { valueAndGrad } from '../../ts/core/autodiff.js';
import type { Tensor } from '../../ts/core/tensor.js';
import { tensor } from '../../ts/ops/creation.js';
import type { StanModel } from '../../ts/stan/model.js';

/** One program's frozen values: 20 unconstrained points with Stan's log density and gradient. */
export interface Golden {
  name: string;
  dim?: number;
  points?: number[][];
  log_prob?: (number | null)[];
  grad?: (number[] | null)[];
  error?: string;
}

/** Relative difference, scaled by the larger magnitude (at least 1). */
const rel = (a: number, b: number): number => Math.abs(a - b) / Math.max(1, Math.abs(a), Math.abs(b));

/**
 * The worst relative difference over the points where Stan's density is finite, of
 * log p(u) − c (c: the constant `~` drops, taken at the point of smallest |log p|, whose rounding
 * is smallest) and of every gradient component (unless `gradients` is false); at `points`
 * (indices) or at all of them.
 */
export function worstDifference(m: StanModel, g: Golden, points?: number[], gradients = true): number {
  const vg = valueAndGrad((u: Tensor) => m.logDensityUnconstrained(u));
  const at = (i: number): { lp: number; grad: number[] } => {
    const [v, gr] = vg(tensor(Float64Array.from(g.points![i])));
    return { lp: v.item(), grad: Array.from(gr.dataSync()) };
  };
  const finite = g.points!.map((_, i) => i).filter((i) => g.log_prob![i] !== null);
  const idx = points === undefined ? finite : points.filter((i) => g.log_prob![i] !== null);
  const ref = finite.reduce((b, i) => (Math.abs(g.log_prob![i]!) < Math.abs(g.log_prob![b]!) ? i : b), finite[0]);
  const c = at(ref).lp - g.log_prob![ref]!;
  let worst = 0;
  for (const i of idx) {
    const o = at(i);
    worst = Math.max(worst, rel(o.lp - c, g.log_prob![i]!));
    if (gradients) o.grad.forEach((x, j) => (worst = Math.max(worst, rel(x, g.grad![i]![j]))));
  }
  return worst;
}

/** 1e-8, or 1e-7 for programs that solve ODEs (the same steps as Stan's, with the rounding of a few hundred of them). */
export function goldenTolerance(code: string): number {
  return /\b(ode_|integrate_ode_)/.test(code) ? 1e-7 : 1e-8;
}

/**
 * Programs where Stan's own gradient is too inaccurate to test against: their values are compared
 * with Stan's, their gradients with central differences.
 */
export const STAN_GRADIENT_INACCURATE: Record<string, string> = {
  'synthetic_grid_RBF_kernels-kronecker_gp':
    "eigenvectors_sym of a jittered 30×30 RBF kernel whose eigenvalues cluster at the jitter; Stan's gradient is 6% off central differences at point 2, varinf's within 2e-7",
};
