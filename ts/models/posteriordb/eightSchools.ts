/**
 * Eight schools (Rubin 1981), posteriordb `eight_schools-eight_schools_noncentered` and
 * `eight_schools-eight_schools_centered`: y_j ~ N(θ_j, σ_j), θ_j ~ N(μ, τ), μ ~ N(0, 5),
 * τ ~ half-Cauchy(5). The non-centered form samples θ̃_j ~ N(0, 1) and sets θ = μ + τ θ̃.
 */
import type { Tensor } from '../../core/tensor.js';
import { HalfCauchy, Normal } from '../../distributions/continuous.js';
import { tensor } from '../../ops/creation.js';
import { add, mul } from '../../ops/elementwise.js';
import { reshape } from '../../ops/shape.js';
import { deterministic, plate, sample } from '../../ppl/primitives.js';
import { columns, num, vec, type Posterior, type Quantities } from './common.js';

/** The data of the eight-schools models, built by {@link loadEightSchools}. */
export interface EightSchoolsData {
  /** The number of schools J. */
  J: number;
  /** Estimated effects [J]. */
  y: Tensor;
  /** Their standard errors [J]. */
  sigma: Tensor;
}

/**
 * Reads posteriordb's `eight_schools` data.json (`J`, `y`, `sigma`).
 * @example const data = models.loadEightSchools({ J: 8, y: [28, 8, -3, 7, -1, 1, 18, 12], sigma: [15, 10, 16, 11, 9, 11, 10, 18] });
 */
export function loadEightSchools(json: Record<string, unknown>): EightSchoolsData {
  const J = num(json, 'J');
  return { J, y: tensor(vec(json, 'y', J)), sigma: tensor(vec(json, 'sigma', J)) };
}

/**
 * Non-centered: latent `theta_trans` [J], `mu`, `tau`; `theta` is deterministic.
 * @example const r = await fit(models.eightSchoolsNoncentered, [data], { guide: 'mvn', key: key(0) });
 */
export function eightSchoolsNoncentered(d: EightSchoolsData): void {
  const mu = sample('mu', new Normal(0, 5));
  const tau = sample('tau', new HalfCauchy(5));
  plate('schools', d.J, () => {
    const tt = sample('theta_trans', new Normal(0, 1));
    const theta = deterministic('theta', add(mu, mul(tau, tt)));
    sample('y', new Normal(theta, d.sigma), { obs: d.y });
  });
}

/**
 * Centered: latent `theta` [J], `mu`, `tau` (the funnel).
 * @example const r = await fit(models.eightSchoolsCentered, [data], { key: key(0) }); // the funnel: expect a high k̂
 */
export function eightSchoolsCentered(d: EightSchoolsData): void {
  const mu = sample('mu', new Normal(0, 5));
  const tau = sample('tau', new HalfCauchy(5));
  plate('schools', d.J, () => {
    const theta = sample('theta', new Normal(mu, tau));
    sample('y', new Normal(theta, d.sigma), { obs: d.y });
  });
}

function muTau(draws: Record<string, Tensor>, out: Quantities): Quantities {
  columns('mu', draws.mu, out);
  return columns('tau', draws.tau, out);
}

/**
 * posteriordb's `eight_schools-eight_schools_noncentered`: {@link eightSchoolsNoncentered}, its data loader
 * and reference quantities `mu`, `tau`, `theta[j]`.
 */
export const eightSchoolsNoncenteredPosterior: Posterior<EightSchoolsData> = {
  name: 'eight_schools-eight_schools_noncentered',
  model: eightSchoolsNoncentered,
  loadData: loadEightSchools,
  quantities: (draws, d) => {
    const n = draws.mu.shape[0];
    const theta = add(reshape(draws.mu, [n, 1]), mul(reshape(draws.tau, [n, 1]), reshape(draws.theta_trans, [n, d.J])));
    return muTau(draws, columns('theta', theta));
  },
};

/**
 * posteriordb's `eight_schools-eight_schools_centered`: {@link eightSchoolsCentered}, its data loader and
 * reference quantities `mu`, `tau`, `theta[j]`.
 */
export const eightSchoolsCenteredPosterior: Posterior<EightSchoolsData> = {
  name: 'eight_schools-eight_schools_centered',
  model: eightSchoolsCentered,
  loadData: loadEightSchools,
  quantities: (draws) => muTau(draws, columns('theta', draws.theta)),
};
