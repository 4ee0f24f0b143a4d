/**
 * Bayesian linear regression, posteriordb `sblri-blr` (independent predictors) and `sblrc-blr`
 * (correlated predictors): y ~ N(X β, σ), β_d ~ N(0, 10), σ ~ half-normal(10) (Stan's
 * `normal_lpdf(sigma | 0, 10)` on `real<lower=0>`).
 */
import type { Tensor } from '../../core/tensor.js';
import { HalfNormal, Normal } from '../../distributions/continuous.js';
import { tensor } from '../../ops/creation.js';
import { mul } from '../../ops/elementwise.js';
import { sum } from '../../ops/reduce.js';
import { plate, sample } from '../../ppl/primitives.js';
import { columns, matrix, num, vec, type Posterior } from './common.js';

/** The data of {@link blr}, built by {@link loadBlr}. */
export interface BlrData {
  /** The number of predictors D. */
  D: number;
  /** Design [N, D]. */
  X: Tensor;
  /** Responses [N]. */
  y: Tensor;
}

/**
 * Reads posteriordb's `sblri`/`sblrc` data.json (`N`, `D`, `X`, `y`).
 * @example const data = models.loadBlr(JSON.parse(readFileSync('data.json', 'utf8'))); // posteriordb's data.json
 */
export function loadBlr(json: Record<string, unknown>): BlrData {
  const N = num(json, 'N');
  const D = num(json, 'D');
  return { D, X: matrix(json, 'X', N, D), y: tensor(vec(json, 'y', N)) };
}

/**
 * Latent `beta` [D] (one event) and `sigma`.
 * @example const r = await fit(models.blr, [data], { key: key(0) });
 */
export function blr(d: BlrData): void {
  const beta = sample('beta', new Normal(0, 10).expand([d.D]).toEvent(1));
  const sigma = sample('sigma', new HalfNormal(10));
  // beta is [..., 1, D] under particles (or [D]); X β as a broadcast product and a sum.
  const mu = sum(mul(d.X, beta), -1);
  plate('data', d.y.shape[0], () => sample('y', new Normal(mu, sigma), { obs: d.y }));
}

function blrPosterior(name: string): Posterior<BlrData> {
  return {
    name,
    model: blr,
    loadData: loadBlr,
    quantities: (draws) => columns('sigma', draws.sigma, columns('beta', draws.beta)),
  };
}

/**
 * posteriordb's `sblri-blr` (independent predictors): the model {@link blr}, its data loader and reference
 * quantities `beta[d]`, `sigma`.
 */
export const sblriPosterior = blrPosterior('sblri-blr');
/**
 * posteriordb's `sblrc-blr` (correlated predictors): the model {@link blr}, its data loader and reference
 * quantities `beta[d]`, `sigma`.
 */
export const sblrcPosterior = blrPosterior('sblrc-blr');
