/**
 * Logistic regression, `wells_data-wells_daae_c_model` (Gelman & Hill's arsenic wells):
 * switched_n ~ Bernoulli(logit⁻¹(α + x_n β)) with centred distance/100, centred arsenic, their
 * product, association and education/4 as predictors; α and β have Stan's improper flat prior.
 */
import type { Tensor } from '../../core/tensor.js';
import { Bernoulli } from '../../distributions/discrete.js';
import { real, realVector } from '../../distributions/constraints.js';
import { tensor } from '../../ops/creation.js';
import { add, mul } from '../../ops/elementwise.js';
import { sum } from '../../ops/reduce.js';
import { plate, sample } from '../../ppl/primitives.js';
import { OnSupport, columns, num, vec, type Posterior } from './common.js';

/** The data of {@link wells}, built by {@link loadWells}. */
export interface WellsData {
  /** Predictors [N, 5]: c_dist100, c_arsenic, their product, assoc, educ/4. */
  x: Tensor;
  /** 0/1 outcomes [N]. */
  switched: Tensor;
}

/**
 * Reads posteriordb's `wells_data` data.json and builds the five centred predictors.
 * @example const data = models.loadWells(JSON.parse(readFileSync('data.json', 'utf8'))); // posteriordb's data.json
 */
export function loadWells(json: Record<string, unknown>): WellsData {
  const N = num(json, 'N');
  const dist = vec(json, 'dist', N);
  const arsenic = vec(json, 'arsenic', N);
  const assoc = vec(json, 'assoc', N);
  const educ = vec(json, 'educ', N);
  const mean = (a: Float64Array): number => a.reduce((s, v) => s + v, 0) / a.length;
  const md = mean(dist);
  const ma = mean(arsenic);
  const x = new Float64Array(N * 5);
  for (let n = 0; n < N; n++) {
    const cd = (dist[n] - md) / 100;
    const ca = arsenic[n] - ma;
    x.set([cd, ca, cd * ca, assoc[n], educ[n] / 4], n * 5);
  }
  return { x: tensor(x, [N, 5]), switched: tensor(vec(json, 'switched', N)) };
}

/**
 * Latent `alpha` and `beta` [5] (one event), both flat.
 * @example const r = await fit(models.wells, [data], { key: key(0) });
 */
export function wells(d: WellsData): void {
  const alpha = sample('alpha', new OnSupport(real));
  const beta = sample('beta', new OnSupport(realVector, null, { eventShape: [5] }));
  const logits = add(alpha, sum(mul(d.x, beta), -1));
  plate('data', d.switched.shape[0], () => sample('switched', new Bernoulli({ logits }), { obs: d.switched }));
}

/**
 * posteriordb's `wells_data-wells_daae_c_model`: the model {@link wells}, its data loader and reference
 * quantities `alpha`, `beta[k]`.
 */
export const wellsPosterior: Posterior<WellsData> = {
  name: 'wells_data-wells_daae_c_model',
  model: wells,
  loadData: loadWells,
  quantities: (draws) => columns('beta', draws.beta, columns('alpha', draws.alpha)),
};
