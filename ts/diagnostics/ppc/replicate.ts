/**
 * Replicated data y_rep from the posterior predictive of a model's observed sites: for each
 * posterior draw θ_s, the model runs with θ_s substituted and its observed sites drawn afresh
 * (their data ignored), so y_rep^s ~ p(y | θ_s).
 */
import { ShapeError, ValueError } from '../../core/errors.js';
import type { Tensor } from '../../core/tensor.js';
import { reshape, slice, stack } from '../../ops/shape.js';
import { seed, substitute, trace } from '../../ppl/handlers.js';
import { withHandler, type ModelFn } from '../../ppl/runtime.js';
import { split, type Key } from '../../random/key.js';

/** Options of {@link posteriorPredictiveSamples}. */
export interface ReplicateOptions {
  /** Observed sites to re-draw (default: every observed sample site). */
  sites?: string[];
}

/**
 * The model with its observed sites (those in `sites`, or all) turned into unobserved ones, so a
 * trace draws them from their distribution.
 * @example const free = unobserve(model); trace(seed(free, key(0))).getTrace(y) // 'obs' drawn, not observed
 */
export function unobserve<A extends unknown[], R>(model: ModelFn<A, R>, sites?: readonly string[]): ModelFn<A, R> {
  return (...args: A) =>
    withHandler(
      {
        process(msg) {
          if (msg.type !== 'sample' || !msg.isObserved || (sites !== undefined && !sites.includes(msg.name))) return;
          msg.value = null;
          msg.isObserved = false;
        },
      },
      () => model(...args),
    );
}

/**
 * y_rep for each posterior draw: `draws` hold each latent site with a leading axis S (e.g.
 * `fit(...).draws`); the result holds each re-drawn observed site as [S, ...site shape]. The draw
 * s uses key split(key, S)[s].
 * @example const rep = posteriorPredictiveSamples(model, key(1), [y, sigma], r.draws); rep.obs // [S, 8]
 */
export function posteriorPredictiveSamples<A extends unknown[]>(model: ModelFn<A>, key: Key, args: A, draws: Record<string, Tensor>, opts: ReplicateOptions = {}): Record<string, Tensor> {
  const names = Object.keys(draws);
  if (names.length === 0) throw new ValueError('posteriorPredictiveSamples: draws is empty');
  const S = draws[names[0]].shape[0];
  for (const n of names)
    if (draws[n].shape[0] !== S) throw new ShapeError(`posteriorPredictiveSamples: draws['${n}'] has ${draws[n].shape[0]} draws, '${names[0]}' has ${S}`);
  // Which sites are observed: a trace of the model as given, with the first draw substituted.
  const observed = new Set<string>();
  const first = trace(seed(substitute(model, rowOf(draws, 0)), key)).getTrace(...args);
  for (const s of first.values()) if (s.type === 'sample' && s.isObserved && (opts.sites === undefined || opts.sites.includes(s.name))) observed.add(s.name);
  if (observed.size === 0) throw new ValueError(`posteriorPredictiveSamples: the model has no observed sites${opts.sites ? ` named ${opts.sites.join(', ')}` : ''}`);
  const free = unobserve(model, [...observed]);
  const keys = split(key, S);
  const per: Record<string, Tensor[]> = {};
  for (let s = 0; s < S; s++) {
    const tr = trace(seed(substitute(free, rowOf(draws, s)), keys[s])).getTrace(...args);
    for (const name of observed) {
      const v = tr.get(name)?.value;
      if (v === null || v === undefined) throw new ValueError(`posteriorPredictiveSamples: site '${name}' was not drawn in run ${s}`);
      (per[name] ??= []).push(v);
    }
  }
  return Object.fromEntries(Object.entries(per).map(([k, v]) => [k, stack(v, 0)]));
}

/** Draw s of every site, without the leading axis. */
export function rowOf(draws: Record<string, Tensor>, s: number): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const [n, d] of Object.entries(draws)) out[n] = reshape(slice(d, [s, ...d.shape.slice(1).map(() => 0)], [1, ...d.shape.slice(1)]), d.shape.slice(1));
  return out;
}
