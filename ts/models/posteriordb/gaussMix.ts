/**
 * A two-component Gaussian mixture, `low_dim_gauss_mix-low_dim_gauss_mix`:
 * y_n ~ θ N(μ₁, σ₁) + (1 − θ) N(μ₂, σ₂), μ ordered with μ_k ~ N(0, 2) restricted to μ₁ < μ₂,
 * σ_k ~ half-normal(2), θ ~ Beta(5, 5).
 */
import type { Tensor } from '../../core/tensor.js';
import { HalfNormal, Normal } from '../../distributions/continuous.js';
import { ordered } from '../../distributions/constraints.js';
import { Beta } from '../../distributions/gamma.js';
import { tensor } from '../../ops/creation.js';
import { add, log, log1p, neg } from '../../ops/elementwise.js';
import { logsumexp } from '../../ops/reduce.js';
import { stack } from '../../ops/shape.js';
import { factor, plate, sample } from '../../ppl/primitives.js';
import { OnSupport, col, columns, num, vec, type Posterior } from './common.js';

/** The data of {@link gaussMix}, built by {@link loadGaussMix}. */
export interface GaussMixData {
  /** The observations, [N]. */
  y: Tensor;
}

/**
 * Reads posteriordb's `low_dim_gauss_mix` data.json (`N`, `y`).
 * @example const data = models.loadGaussMix(JSON.parse(readFileSync('data.json', 'utf8'))); // posteriordb's data.json
 */
export function loadGaussMix(json: Record<string, unknown>): GaussMixData {
  return { y: tensor(vec(json, 'y', num(json, 'N'))) };
}

/**
 * Latent `mu` [2] (ordered), `sigma` [2], `theta`.
 * @example const r = await fit(models.gaussMix, [data], { key: key(0) });
 */
export function gaussMix(d: GaussMixData): void {
  const mu = sample('mu', new OnSupport(ordered, new Normal(0, 2).expand([2]).toEvent(1)));
  const sigma = sample('sigma', new HalfNormal(2).expand([2]).toEvent(1));
  const theta = sample('theta', new Beta(5, 5));
  plate('data', d.y.shape[0], () => {
    const a = add(log(theta), new Normal(col(mu, 0), col(sigma, 0), { validateArgs: false }).logProb(d.y));
    const b = add(log1p(neg(theta)), new Normal(col(mu, 1), col(sigma, 1), { validateArgs: false }).logProb(d.y));
    factor('y', logsumexp(stack([a, b], -1), -1));
  });
}

/**
 * posteriordb's `low_dim_gauss_mix-low_dim_gauss_mix`: the model {@link gaussMix}, its data loader and
 * reference quantities `mu[k]`, `sigma[k]`, `theta`.
 */
export const gaussMixPosterior: Posterior<GaussMixData> = {
  name: 'low_dim_gauss_mix-low_dim_gauss_mix',
  model: gaussMix,
  loadData: loadGaussMix,
  quantities: (draws) => columns('theta', draws.theta, columns('sigma', draws.sigma, columns('mu', draws.mu))),
};
