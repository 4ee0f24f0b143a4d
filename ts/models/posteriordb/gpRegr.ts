/**
 * Gaussian-process regression by its marginal likelihood, `gp_pois_regr-gp_regr`:
 * y ~ N(0, K + σ I) with K_ij = α² exp(−(x_i − x_j)² / (2ρ²)) (Stan's gp_exp_quad_cov; note the
 * diagonal adds σ, not σ², as the Stan program does), ρ ~ Gamma(25, 4), α ~ half-normal(2),
 * σ ~ half-normal(1).
 */
import type { Tensor } from '../../core/tensor.js';
import { HalfNormal } from '../../distributions/continuous.js';
import { Gamma } from '../../distributions/gamma.js';
import { MultivariateNormal } from '../../distributions/multivariate.js';
import { eye, tensor, zeros } from '../../ops/creation.js';
import { add, div, exp, mul, square } from '../../ops/elementwise.js';
import { reshape } from '../../ops/shape.js';
import { sample } from '../../ppl/primitives.js';
import { columns, num, vec, type Posterior } from './common.js';

/** The data of {@link gpRegr}, built by {@link loadGpRegr}. */
export interface GpRegrData {
  /** The number of observations N. */
  N: number;
  /** −½ (x_i − x_j)² [N, N]. */
  negHalfSqDist: Tensor;
  /** The responses, [N]. */
  y: Tensor;
}

/**
 * Reads posteriordb's `gp_pois_regr` data.json (`N`, `x`, `y`) and precomputes −½(x_i − x_j)².
 * @example const data = models.loadGpRegr(JSON.parse(readFileSync('data.json', 'utf8'))); // posteriordb's data.json
 */
export function loadGpRegr(json: Record<string, unknown>): GpRegrData {
  const N = num(json, 'N');
  const x = vec(json, 'x', N);
  const d = new Float64Array(N * N);
  for (let i = 0; i < N; i++) for (let j = 0; j < N; j++) d[i * N + j] = -0.5 * (x[i] - x[j]) ** 2;
  return { N, negHalfSqDist: tensor(d, [N, N]), y: tensor(vec(json, 'y', N)) };
}

/**
 * Latent `rho`, `alpha`, `sigma` (no plates: particles take the leading axis).
 * @example const r = await fit(models.gpRegr, [data], { key: key(0) });
 */
export function gpRegr(d: GpRegrData): void {
  const rho = sample('rho', new Gamma(25, 4));
  const alpha = sample('alpha', new HalfNormal(2));
  const sigma = sample('sigma', new HalfNormal(1));
  const m = (t: Tensor): Tensor => reshape(t, [...t.shape, 1, 1]);
  const k = mul(square(m(alpha)), exp(div(d.negHalfSqDist, square(m(rho)))));
  const cov = add(k, mul(m(sigma), eye(d.N)));
  sample('y', new MultivariateNormal(zeros([d.N]), { covariance: cov }, { validateArgs: false }), { obs: d.y });
}

/**
 * posteriordb's `gp_pois_regr-gp_regr`: the model {@link gpRegr}, its data loader and reference quantities
 * `rho`, `alpha`, `sigma`.
 */
export const gpRegrPosterior: Posterior<GpRegrData> = {
  name: 'gp_pois_regr-gp_regr',
  model: gpRegr,
  loadData: loadGpRegr,
  quantities: (draws) => columns('sigma', draws.sigma, columns('alpha', draws.alpha, columns('rho', draws.rho))),
};
