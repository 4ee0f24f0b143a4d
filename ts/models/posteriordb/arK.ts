/**
 * AR(K) time series, posteriordb `arK-arK`:
 * y_t ~ N(α + Σ_k β_k y_{t−k}, σ) for t = K+1..T, α ~ N(0, 10), β_k ~ N(0, 10),
 * σ ~ half-Cauchy(2.5) (Stan's `cauchy(0, 2.5)` on `real<lower=0>`).
 */
import type { Tensor } from '../../core/tensor.js';
import { HalfCauchy, Normal } from '../../distributions/continuous.js';
import { tensor } from '../../ops/creation.js';
import { add, mul } from '../../ops/elementwise.js';
import { sum } from '../../ops/reduce.js';
import { plate, sample } from '../../ppl/primitives.js';
import { columns, num, vec, type Posterior } from './common.js';

/** The data of {@link arK}, built by {@link loadArK}. */
export interface ArKData {
  /** The lag order K. */
  K: number;
  /** Lagged design [T−K, K]: row t holds y_{t−1}, …, y_{t−K}. */
  lags: Tensor;
  /** Responses y_{K+1..T} [T−K]. */
  y: Tensor;
}

/**
 * Reads posteriordb's `arK` data.json (`K`, `T`, `y`) into lagged design and responses.
 * @example const data = models.loadArK(JSON.parse(readFileSync('data.json', 'utf8'))); // posteriordb's data.json
 */
export function loadArK(json: Record<string, unknown>): ArKData {
  const K = num(json, 'K');
  const T = num(json, 'T');
  const y = vec(json, 'y', T);
  const n = T - K;
  const lags = new Float64Array(n * K);
  for (let t = 0; t < n; t++) for (let k = 0; k < K; k++) lags[t * K + k] = y[t + K - 1 - k];
  return { K, lags: tensor(lags, [n, K]), y: tensor(y.subarray(K)) };
}

/**
 * Latent `alpha`, `beta` [K] (one event), `sigma`.
 * @example const r = await fit(models.arK, [data], { key: key(0) });
 */
export function arK(d: ArKData): void {
  const alpha = sample('alpha', new Normal(0, 10));
  const beta = sample('beta', new Normal(0, 10).expand([d.K]).toEvent(1));
  const sigma = sample('sigma', new HalfCauchy(2.5));
  // beta is [..., 1, K] under particles (or [K]): it broadcasts against the lags [T−K, K].
  const mu = add(alpha, sum(mul(d.lags, beta), -1));
  plate('time', d.y.shape[0], () => sample('y', new Normal(mu, sigma), { obs: d.y }));
}

/**
 * posteriordb's `arK-arK`: the model {@link arK}, its data loader and reference quantities `alpha`,
 * `beta[k]`, `sigma`.
 */
export const arKPosterior: Posterior<ArKData> = {
  name: 'arK-arK',
  model: arK,
  loadData: loadArK,
  quantities: (draws) => {
    const out = columns('alpha', draws.alpha);
    columns('beta', draws.beta, out);
    return columns('sigma', draws.sigma, out);
  },
};
