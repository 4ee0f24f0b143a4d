/**
 * A varinf model's fit as ArviZ InferenceData: the posterior draws, the replicated data
 * (`posterior_predictive`), the observed data, the pointwise log-likelihood per observed site
 * (`log_likelihood`, which `az.loo` and `az.compare` read), and dims named after the model's
 * plates, so that `az.plot_ppc(idata)` and `az.loo(idata)` work on it as on a PyMC or NumPyro fit.
 */
import { ValueError } from '../core/errors.js';
import type { Tensor } from '../core/tensor.js';
import { stack } from '../ops/shape.js';
import { seed, substitute, trace, type Trace } from '../ppl/handlers.js';
import { siteLogProb } from '../ppl/logdensity.js';
import type { ModelFn } from '../ppl/runtime.js';
import { split, type Key } from '../random/key.js';
import { posteriorPredictiveSamples, rowOf } from '../diagnostics/ppc/replicate.js';
import { writeFileAtomic } from './atomic.js';
import { toArviz, type ArvizDict } from './arviz.js';

/** Options of {@link arvizFromModel}. */
export interface ArvizModelOptions {
  /** Key of the replicated data and of any other random choice (required for `posterior_predictive`). */
  key: Key;
  /** Chains the draws are split into (default 1). */
  chains?: number;
  /** Write `posterior_predictive` (default true). */
  posteriorPredictive?: boolean;
  /** Write `log_likelihood` (default true). */
  logLikelihood?: boolean;
  /** Coordinates of named dimensions (e.g. school names for the plate 'J'). */
  coords?: Record<string, (number | string)[]>;
}

/**
 * Names of a site's axes: a plate's name for the batch axis it indexes, `<site>_dim_<i>` (ArviZ's
 * own default) for the others. `batchOnly` names only the batch axes (a log-density's shape).
 */
function siteDims(tr: Trace, name: string, batchOnly: boolean): string[] | undefined {
  const site = tr.get(name);
  if (!site || site.value === null) return undefined;
  const eventRank = site.fn ? site.fn.eventShape.length : 0;
  const rank = batchOnly ? site.value.rank - eventRank : site.value.rank;
  if (rank === 0) return undefined;
  const batchEnd = site.value.rank - eventRank;
  const dims = Array.from({ length: rank }, (_, i) => `${name}_dim_${i}`);
  for (const frame of site.cond) {
    const axis = batchEnd + frame.dim;
    if (axis >= 0 && axis < rank) dims[axis] = frame.name;
  }
  return dims;
}

/**
 * The InferenceData of `model(...args)` under posterior `draws` (each latent site [S, ...shape],
 * e.g. `fit(...).draws`): groups `posterior`, `posterior_predictive` (observed sites re-drawn for
 * each draw), `observed_data`, `log_likelihood` (log p(y_site | θ_s), [S, ...batch shape] per
 * observed site), and `dims` from plate names. Write it with `JSON.stringify` or
 * {@link saveArvizFromModel}; read it with `az.from_dict(**json.load(open(path)))`.
 * @example
 * const r = await fit(model, [y, sigma], { key: key(0) });
 * const idata = arvizFromModel(model, [y, sigma], r.draws, { key: key(1) }); // idata.dims.obs = ['J']
 */
export function arvizFromModel<A extends unknown[]>(model: ModelFn<A>, args: A, draws: Record<string, Tensor>, opts: ArvizModelOptions): ArvizDict {
  const names = Object.keys(draws);
  if (names.length === 0) throw new ValueError('arvizFromModel: draws is empty');
  const S = draws[names[0]].shape[0];
  const [kTrace, kRep, kLik] = split(opts.key, 3);
  const tr = trace(seed(substitute(model, rowOf(draws, 0)), kTrace)).getTrace(...args);
  const observed = [...tr.values()].filter((s) => s.type === 'sample' && s.isObserved && s.value !== null);
  if (observed.length === 0) throw new ValueError('arvizFromModel: the model has no observed sites; pass the data in args');
  const dims: Record<string, string[]> = {};
  for (const n of names) {
    const d = siteDims(tr, n, false);
    if (d) dims[n] = d;
  }
  const observedData: Record<string, Tensor> = {};
  for (const s of observed) {
    observedData[s.name] = s.value as Tensor;
    const d = siteDims(tr, s.name, false);
    if (d) dims[s.name] = d;
  }
  let logLikelihood: Record<string, Tensor> | undefined;
  if (opts.logLikelihood ?? true) {
    const per: Record<string, Tensor[]> = {};
    for (let s = 0; s < S; s++) {
      const t = trace(seed(substitute(model, rowOf(draws, s)), kLik)).getTrace(...args);
      for (const o of observed) (per[o.name] ??= []).push(siteLogProb(t.get(o.name)!));
    }
    logLikelihood = Object.fromEntries(Object.entries(per).map(([k, v]) => [k, stack(v, 0)]));
    for (const o of observed) {
      // ArviZ's dims are per variable name across groups: a multivariate site's log-density has fewer axes.
      if ((o.fn?.eventShape.length ?? 0) > 0) delete dims[o.name];
    }
  }
  const posteriorPredictive = (opts.posteriorPredictive ?? true) ? posteriorPredictiveSamples(model, kRep, args, draws, { sites: observed.map((o) => o.name) }) : undefined;
  return toArviz(draws, { chains: opts.chains, observedData, posteriorPredictive, logLikelihood, dims, coords: opts.coords });
}

/**
 * Writes {@link arvizFromModel} as JSON; in Python `az.from_dict(**json.load(open(path)))`.
 * @example saveArvizFromModel('fit.json', model, [y, sigma], r.draws, { key: key(1) })
 */
export function saveArvizFromModel<A extends unknown[]>(path: string, model: ModelFn<A>, args: A, draws: Record<string, Tensor>, opts: ArvizModelOptions): void {
  writeFileAtomic(path, JSON.stringify(arvizFromModel(model, args, draws, opts)));
}
