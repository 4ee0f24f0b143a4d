/**
 * Predictive distributions: draws from the prior, from the posterior a guide represents, and
 * from the posterior predictive (the model's observed sites re-drawn given posterior latents).
 * Draws are vectorized over a `_num_samples` plate outside the model's own plates.
 */
import { ValueError } from '../core/errors.js';
import type { Tensor } from '../core/tensor.js';
import { reshape, slice, stack } from '../ops/shape.js';
import { split, type Key } from '../random/key.js';
import { plate } from '../ppl/primitives.js';
import type { Message, ModelFn } from '../ppl/runtime.js';
import { replay, seed, substitute, trace } from '../ppl/handlers.js';
import { AutoGuide } from './autoguide.js';
import { particleNesting } from './nesting.js';


/** Options of {@link predictive}. */
export interface PredictiveOptions<A extends unknown[]> {
  /** A guide (function or autoguide) to draw latents from; with `params`, its fitted parameters. */
  guide?: ModelFn<A> | AutoGuide<A>;
  /** The guide's fitted (constrained) parameters. */
  params?: Record<string, Tensor>;
  /** Posterior draws by site, each with leading axis numSamples (e.g. from MCMC or samplePosterior). */
  posteriorSamples?: Record<string, Tensor>;
  /** Joint samples to draw; default the leading axis of `posteriorSamples`. */
  numSamples?: number;
  /** Which sites to return (default: every sample and deterministic site). */
  returnSites?: string[];
  /** Plates the model nests (found by a trial run if not given). */
  maxPlateNesting?: number;
}

/**
 * Draws `numSamples` joint samples of the model's sites.
 * Without a guide or posterior samples this is the prior (predictive); with them, the posterior
 * (predictive): pass the observed arguments as undefined to re-draw the data sites.
 * @example const prior = predictive(model, key(0), [undefined], { numSamples: 1000 })
 */
export function predictive<A extends unknown[]>(model: ModelFn<A>, key: Key, args: A, opts: PredictiveOptions<A> = {}): Record<string, Tensor> {
  const [kTrial, kGuide, kModel] = split(key, 3);
  const given = opts.posteriorSamples;
  const n = opts.numSamples ?? (given ? Object.values(given)[0]?.shape[0] : undefined);
  if (n === undefined || !Number.isInteger(n) || n < 1) throw new ValueError('predictive: give numSamples (a positive integer) or posteriorSamples');
  const keep = (name: string, type: string): boolean =>
    (opts.returnSites ? opts.returnSites.includes(name) : type === 'sample' || type === 'deterministic') && !name.startsWith('_');
  if (given !== undefined) {
    // One model run per posterior draw: the draws may come from anywhere, so no plate alignment is assumed.
    const per: Record<string, Tensor[]> = {};
    const keys = split(kModel, n);
    for (let i = 0; i < n; i++) {
      const values: Record<string, Tensor> = {};
      for (const [name, v] of Object.entries(given)) {
        if (v.shape[0] !== n) throw new ValueError(`predictive: posteriorSamples['${name}'] has ${v.shape[0]} draws, expected ${n}`);
        values[name] = reshape(sliceRow(v, i), v.shape.slice(1));
      }
      const tr = trace(seed(substitute(model, values), keys[i])).getTrace(...args);
      for (const s of tr.values()) if (keep(s.name, s.type) && s.value !== null) (per[s.name] ??= []).push(s.value);
    }
    return Object.fromEntries(Object.entries(per).map(([k, v]) => [k, stack(v, 0)]));
  }
  const dimOf = opts.maxPlateNesting ?? particleNesting(trace(seed(model, kTrial)).getTrace(...args));
  const dim = -(dimOf + 1);
  let run: ModelFn<A> = model;
  if (opts.guide !== undefined) {
    const g = opts.guide instanceof AutoGuide ? opts.guide.guide : opts.guide;
    const gv = opts.params ? substitute(g, opts.params) : g;
    const gtr = trace(seed((...a: A) => plate('_num_samples', n, () => gv(...a), { dim }), kGuide)).getTrace(...args);
    run = replay(model, gtr);
  }
  const tr = trace(seed((...a: A) => plate('_num_samples', n, () => run(...a), { dim }), kModel)).getTrace(...args);
  const out: Record<string, Tensor> = {};
  for (const s of tr.values()) {
    if (!keep(s.name, s.type) || s.value === null) continue;
    out[s.name] = s.isObserved ? s.value : dropPadding(s, dimOf);
  }
  return out;
}

/**
 * A vectorized site's value without the size-1 axes that broadcasting against the plates put
 * between the draws axis and the site's own batch shape: a global scalar drawn beside a plate
 * comes out [n], not [n, 1] (as NumPyro's `Predictive` gives it); a site in a plate keeps it.
 */
function dropPadding(s: Message, nesting: number): Tensor {
  const v = s.value as Tensor;
  const batchEnd = v.shape.length - (s.fn?.eventShape.length ?? 0);
  const drawsAxis = batchEnd - (nesting + 1);
  if (drawsAxis < 0) return v;
  const plateDims = new Set(s.cond.map((f) => f.dim));
  let keepFrom = drawsAxis + 1;
  while (keepFrom < batchEnd && v.shape[keepFrom] === 1 && !plateDims.has(keepFrom - batchEnd)) keepFrom++;
  return keepFrom === drawsAxis + 1 ? v : reshape(v, [...v.shape.slice(0, drawsAxis + 1), ...v.shape.slice(keepFrom)]);
}

/** Row i of v along the leading axis (keeping it, size 1). */
function sliceRow(v: Tensor, i: number): Tensor {
  return slice(v, [i, ...v.shape.slice(1).map(() => 0)], [1, ...v.shape.slice(1)]);
}
