/**
 * Pointwise log-likelihoods of a model under posterior draws, the input of PSIS-LOO:
 * entry [s, n] is log p(y_n | θ_s) for the observed elements y_n of the model's data sites.
 */
import { ShapeError, ValueError } from '../core/errors.js';
import type { Tensor } from '../core/tensor.js';
import { reshape, slice } from '../ops/shape.js';
import { seed, substitute, trace } from '../ppl/handlers.js';
import { siteLogProb } from '../ppl/logdensity.js';
import type { ModelFn } from '../ppl/runtime.js';
import { key as makeKey, type Key } from '../random/key.js';
import { loo, type LooOptions, type LooResult } from './loo.js';

/** Options of {@link pointwiseLogLikelihood} and {@link modelLoo}. */
export interface PointwiseOptions {
  /** Observed sites to include (default: every observed sample site). */
  sites?: string[];
  /** Key for any random choices the model makes beyond the substituted latents. */
  key?: Key;
}

/**
 * log p(y_n | θ_s) as S rows (one per draw) of N columns (the elements of the observed sites'
 * batch shapes, concatenated in site order). `draws` hold each latent site with a leading axis S,
 * e.g. from `guide.samplePosterior` or `fit(...).draws`.
 * @example const ll = pointwiseLogLikelihood(model, [y], draws); const r = loo(ll);
 */
export function pointwiseLogLikelihood<A extends unknown[]>(model: ModelFn<A>, args: A, draws: Record<string, Tensor>, opts: PointwiseOptions = {}): Float64Array[] {
  const names = Object.keys(draws);
  if (names.length === 0) throw new ValueError('pointwiseLogLikelihood: draws is empty');
  const S = draws[names[0]].shape[0];
  for (const n of names)
    if (draws[n].shape[0] !== S) throw new ShapeError(`pointwiseLogLikelihood: draws['${n}'] has ${draws[n].shape[0]} draws, '${names[0]}' has ${S}`);
  const rows: Float64Array[] = [];
  const k = opts.key ?? makeKey(0);
  for (let s = 0; s < S; s++) {
    const values: Record<string, Tensor> = {};
    for (const n of names) {
      const d = draws[n];
      values[n] = reshape(slice(d, [s, ...d.shape.slice(1).map(() => 0)], [1, ...d.shape.slice(1)]), d.shape.slice(1));
    }
    const tr = trace(seed(substitute(model, values), k)).getTrace(...args);
    const parts: number[] = [];
    for (const site of tr.values()) {
      if (site.type !== 'sample' || !site.isObserved) continue;
      if (opts.sites !== undefined && !opts.sites.includes(site.name)) continue;
      for (const v of siteLogProb(site).dataSync()) parts.push(v);
    }
    if (parts.length === 0) throw new ValueError('pointwiseLogLikelihood: the model has no observed sites (or none of those named)');
    rows.push(Float64Array.from(parts));
  }
  return rows;
}

/**
 * PSIS-LOO of a model from posterior draws: `loo(pointwiseLogLikelihood(...))`.
 * @example const r = modelLoo(model, [y], fitResult.draws); r.elpdLoo
 */
export function modelLoo<A extends unknown[]>(model: ModelFn<A>, args: A, draws: Record<string, Tensor>, opts: PointwiseOptions & LooOptions = {}): LooResult {
  return loo(pointwiseLogLikelihood(model, args, draws, opts), opts);
}
