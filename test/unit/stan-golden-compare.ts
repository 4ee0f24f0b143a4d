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

/** The log density and gradient of `m` at frozen point `i`. */
function at(m: StanModel, g: Golden, i: number): { lp: number; grad: number[] } {
  const [v, gr] = valueAndGrad((u: Tensor) => m.logDensityUnconstrained(u))(tensor(Float64Array.from(g.points![i])));
  return { lp: v.item(), grad: Array.from(gr.dataSync()) };
}

/**
 * The constant `~` drops, varinf's log density minus Stan's at the point of smallest |log p|
 * (whose rounding is smallest).
 */
export function droppedConstant(m: StanModel, g: Golden): number {
  const finite = g.points!.map((_, i) => i).filter((i) => g.log_prob![i] !== null);
  const ref = finite.reduce((b, i) => (Math.abs(g.log_prob![i]!) < Math.abs(g.log_prob![b]!) ? i : b), finite[0]);
  return at(m, g, ref).lp - g.log_prob![ref]!;
}

/**
 * The worst relative difference at frozen point `i` (0 where Stan's density is not finite) of
 * log p(u) − c and of every gradient component (unless `gradients` is false).
 */
export function pointDifference(m: StanModel, g: Golden, i: number, c: number, gradients = true): number {
  if (g.log_prob![i] === null) return 0;
  const o = at(m, g, i);
  let worst = rel(o.lp - c, g.log_prob![i]!);
  if (gradients) o.grad.forEach((x, j) => (worst = Math.max(worst, rel(x, g.grad![i]![j]))));
  return worst;
}

/**
 * The worst {@link pointDifference} over the points where Stan's density is finite, at `points`
 * (indices) or at all of them.
 */
export function worstDifference(m: StanModel, g: Golden, points?: number[], gradients = true): number {
  const c = droppedConstant(m, g);
  return (points ?? g.points!.map((_, i) => i)).reduce((w, i) => Math.max(w, pointDifference(m, g, i, c, gradients)), 0);
}

/**
 * Programs where Stan's gradient is an approximation that varinf does not make, with the tolerance
 * their gradients are compared at and why. Stan's `bernoulli_logit_glm_lpmf` (and
 * `bernoulli_logit_lpmf`) take d log p / dθ as ±1 (y's sign) below y·θ = −20 and as −exp(−y·θ)
 * above 20 (stan/math/prim/prob/bernoulli_logit_glm_lpmf.hpp, `cutoff = 20.0`), off the exact one by up
 * to exp(−20) = 2e-9 per observation; with a thousand predictors at U(−1.5, 1.5) many observations
 * are past the cutoff. `bench/stan/glm-cutoff.ts` adds Stan's error as a linear term to varinf's
 * program and then agrees with Stan's gradient to 1e-13.
 */
export const STAN_GRADIENT_CUTOFF: Record<string, { tolerance: number; why: string }> = {
  'ovarian-logistic_regression_rhs': { tolerance: 1e-7, why: "Stan's bernoulli_logit_glm cutoff at y·θ = ±20, gradient off by up to 1.9e-8 (bench/stan/glm-cutoff.ts)" },
  'prostate-logistic_regression_rhs': { tolerance: 1e-7, why: "Stan's bernoulli_logit_glm cutoff at y·θ = ±20, gradient off by up to 9.8e-9 (bench/stan/glm-cutoff.ts)" },
};

/**
 * 1e-8, or 1e-7 for programs that solve ODEs (the same steps as Stan's, with the rounding of a few
 * hundred of them) and for those of {@link STAN_GRADIENT_CUTOFF} (`name`).
 */
export function goldenTolerance(code: string, name = ''): number {
  return STAN_GRADIENT_CUTOFF[name]?.tolerance ?? (/\b(ode_|integrate_ode_)/.test(code) ? 1e-7 : 1e-8);
}

/**
 * Programs where Stan's own gradient is too inaccurate to test against: their values are compared
 * with Stan's, their gradients with central differences.
 */
export const STAN_GRADIENT_INACCURATE: Record<string, string> = {
  'synthetic_grid_RBF_kernels-kronecker_gp':
    "eigenvectors_sym of a jittered 30×30 RBF kernel whose eigenvalues cluster at the jitter; Stan's gradient is 6% off central differences at point 2, varinf's within 2e-7",
};

/**
 * Programs whose frozen values the test leaves to bench/stan/coverage.ts: one gradient takes
 * longer than a test may block its worker (~5 s under load), with varinf's ms per gradient
 * (bench/stan/README.md).
 */
export const TOO_SLOW_FOR_THE_TEST: Record<string, string> = {
  'bball_drive_event_0-hmm_drive_0': '7,300 ms per gradient: a forward algorithm over 1,000+ steps, element by element',
  'ecdc0401-covid19imperial_v2': '11,000 ms per gradient: nested recurrences, element by element',
  'ecdc0401-covid19imperial_v3': '8,600 ms per gradient: nested recurrences, element by element',
  'ecdc0501-covid19imperial_v2': '6,300 ms per gradient: nested recurrences, element by element',
  'ecdc0501-covid19imperial_v3': '9,500 ms per gradient: nested recurrences, element by element',
  'prideprejudice_chapter-ldaK5': '12,800 ms per gradient: a mixture per word, element by element',
  'prideprejudice_paragraph-ldaK5': '56,000 ms per gradient: a mixture per word, element by element',
};

/**
 * Programs of about a second per gradient (varinf's ms per gradient): the test checks their first
 * 3 points, bench/stan/coverage.ts all 20, so the test file stays within a minute or two.
 */
export const FEW_POINTS_IN_THE_TEST: Record<string, string> = {
  'Mb_data-Mb_model': '1,160 ms per gradient',
  'Mth_data-Mth_model': '800 ms per gradient',
  'three_men1-ldaK2': '1,330 ms per gradient',
  'three_men2-ldaK2': '950 ms per gradient',
  'three_men3-ldaK2': '800 ms per gradient',
  'science_irt-grsm_latent_reg_irt': '1,640 ms per gradient',
  'timssAusTwn_irt-gpcm_latent_reg_irt': '840 ms per gradient',
};

