/**
 * Hierarchical radon regression with county intercepts, non-centered,
 * `radon_mn-radon_hierarchical_intercept_noncentered` (Minnesota, 919 homes, 85 counties):
 * log_radon_n ~ N(α_{c[n]} + β₁ log_uppm_n + β₂ floor_n, σ_y), α = μ_α + σ_α α_raw,
 * α_raw ~ N(0, 1), β ~ N(0, 10), μ_α ~ N(0, 10), σ_α, σ_y ~ half-normal(1).
 */
import type { Tensor } from '../../core/tensor.js';
import { HalfNormal, Normal } from '../../distributions/continuous.js';
import { tensor } from '../../ops/creation.js';
import { add, mul } from '../../ops/elementwise.js';
import { gather, reshape } from '../../ops/shape.js';
import { deterministic, plate, sample } from '../../ppl/primitives.js';
import { col, columns, num, vec, type Posterior } from './common.js';

/** The data of {@link radon}, built by {@link loadRadon}. */
export interface RadonData {
  /** The number of counties J. */
  J: number;
  /** 0-based county of each home, int32 [N]. */
  county: Tensor;
  /** Log uranium of each home's county, [N]. */
  logUppm: Tensor;
  /** Floor of each measurement (0 basement, 1 first floor), [N]. */
  floor: Tensor;
  /** Log radon of each home, [N]. */
  logRadon: Tensor;
}

/**
 * Reads posteriordb's `radon_mn` data.json (`J`, `N`, `county_idx` 1-based, `log_uppm`, `floor_measure`,
 * `log_radon`).
 * @example const data = models.loadRadon(JSON.parse(readFileSync('data.json', 'utf8'))); // posteriordb's data.json
 */
export function loadRadon(json: Record<string, unknown>): RadonData {
  const J = num(json, 'J');
  const N = num(json, 'N');
  const idx = vec(json, 'county_idx', N);
  return {
    J,
    county: tensor(Int32Array.from(idx, (c) => c - 1), [N], 'int32'),
    logUppm: tensor(vec(json, 'log_uppm', N)),
    floor: tensor(vec(json, 'floor_measure', N)),
    logRadon: tensor(vec(json, 'log_radon', N)),
  };
}

/**
 * Latent `alpha_raw` [J], `beta` [2] (one event), `mu_alpha`, `sigma_alpha`, `sigma_y`.
 * @example const r = await fit(models.radon, [data], { key: key(0) });
 */
export function radon(d: RadonData): void {
  const alphaRaw = plate('county', d.J, () => sample('alpha_raw', new Normal(0, 1)));
  const beta = sample('beta', new Normal(0, 10).expand([2]).toEvent(1));
  const muAlpha = sample('mu_alpha', new Normal(0, 10));
  const sigmaAlpha = sample('sigma_alpha', new HalfNormal(1));
  const sigmaY = sample('sigma_y', new HalfNormal(1));
  const alpha = deterministic('alpha', add(muAlpha, mul(sigmaAlpha, alphaRaw)));
  const mu = add(add(gather(alpha, d.county, -1), mul(d.logUppm, col(beta, 0))), mul(d.floor, col(beta, 1)));
  plate('data', d.logRadon.shape[0], () => sample('log_radon', new Normal(mu, sigmaY), { obs: d.logRadon }));
}

/**
 * posteriordb's `radon_mn-radon_hierarchical_intercept_noncentered`: the model {@link radon}, its data loader
 * and reference quantities.
 */
export const radonPosterior: Posterior<RadonData> = {
  name: 'radon_mn-radon_hierarchical_intercept_noncentered',
  model: radon,
  loadData: loadRadon,
  quantities: (draws, d) => {
    const n = draws.mu_alpha.shape[0];
    const alpha = add(reshape(draws.mu_alpha, [n, 1]), mul(reshape(draws.sigma_alpha, [n, 1]), reshape(draws.alpha_raw, [n, d.J])));
    const out = columns('alpha', alpha);
    columns('beta', draws.beta, out);
    columns('mu_alpha', draws.mu_alpha, out);
    columns('sigma_alpha', draws.sigma_alpha, out);
    return columns('sigma_y', draws.sigma_y, out);
  },
};
