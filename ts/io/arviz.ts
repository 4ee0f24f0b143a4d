/**
 * Posterior draws in a layout ArviZ reads: `{posterior: {name: nested [chain][draw][...]}, ...}`
 * as `arviz.from_dict(**json.load(open(path)))` takes it: the `posterior`, `posterior_predictive`,
 * `log_likelihood` and `sample_stats` groups (leading axes chain and draw), `observed_data` as is,
 * and `dims` (dimension names per variable, e.g. a plate's name) and `coords`.
 */
import { writeFileAtomic } from './atomic.js';
import { ShapeError, ValueError } from '../core/errors.js';
import type { Tensor, NestedArray } from '../core/tensor.js';
import { reshape } from '../ops/shape.js';

/** Options of {@link toArviz}: extra groups of the InferenceData JSON. */
export interface ArvizOptions {
  /** Number of chains the leading draw axis is split into (default 1). */
  chains?: number;
  /** Per-draw statistics (leading axis = draws), written to the `sample_stats` group. */
  sampleStats?: Record<string, Tensor>;
  /** Observed data, written to the `observed_data` group as is. */
  observedData?: Record<string, Tensor>;
  /** Replicated data y_rep (leading axis = draws), written to the `posterior_predictive` group. */
  posteriorPredictive?: Record<string, Tensor>;
  /** Pointwise log-likelihoods log p(y_i | θ_s) (leading axis = draws), written to the `log_likelihood` group. */
  logLikelihood?: Record<string, Tensor>;
  /** Dimension names of each variable's own axes (after chain and draw), e.g. `{ obs: ['school'] }`. */
  dims?: Record<string, string[]>;
  /** Coordinate values of named dimensions, e.g. `{ school: ['A', 'B', …] }`. */
  coords?: Record<string, (number | string)[]>;
}

/** The JSON object `arviz.from_dict(**obj)` takes: groups of nested arrays, plus `dims` and `coords`. */
export interface ArvizDict {
  /** Posterior draws, [chain][draw][...]. */
  posterior: Record<string, NestedArray>;
  /** Replicated data, [chain][draw][...]. */
  posterior_predictive?: Record<string, NestedArray>;
  /** Pointwise log-likelihoods, [chain][draw][...]. */
  log_likelihood?: Record<string, NestedArray>;
  /** Per-draw statistics, [chain][draw]. */
  sample_stats?: Record<string, NestedArray>;
  /** Observed data, as is. */
  observed_data?: Record<string, NestedArray>;
  /** Dimension names per variable. */
  dims?: Record<string, string[]>;
  /** Coordinates per dimension name. */
  coords?: Record<string, (number | string)[]>;
}

function byChain(name: string, t: Tensor, chains: number): NestedArray {
  const n = t.shape[0];
  if (n === undefined || n % chains !== 0) throw new ValueError(`toArviz: '${name}' has ${n ?? 0} draws, not divisible into ${chains} chains`);
  return reshape(t, [chains, n / chains, ...t.shape.slice(1)]).toArray();
}

function drawGroup(group: string, vars: Record<string, Tensor>, chains: number, draws: number | undefined): Record<string, NestedArray> {
  const out: Record<string, NestedArray> = {};
  for (const [k, v] of Object.entries(vars)) {
    if (draws !== undefined && v.shape[0] !== draws) throw new ShapeError(`toArviz: ${group} '${k}' has ${v.shape[0]} draws, the posterior has ${draws}`);
    out[k] = byChain(k, v, chains);
  }
  return out;
}

/**
 * Draws (each with leading axis = draws) as an ArviZ-readable object. Every draw-indexed group
 * must have the posterior's number of draws.
 * @example const idata = toArviz(r.draws, { chains: 4 }); // { posterior: { mu: [[...], ...], ... } }
 */
export function toArviz(draws: Record<string, Tensor>, opts: ArvizOptions = {}): ArvizDict {
  const chains = opts.chains ?? 1;
  const S = Object.values(draws)[0]?.shape[0];
  const out: ArvizDict = { posterior: drawGroup('posterior', draws, chains, S) };
  if (opts.posteriorPredictive) out.posterior_predictive = drawGroup('posterior_predictive', opts.posteriorPredictive, chains, S);
  if (opts.logLikelihood) out.log_likelihood = drawGroup('log_likelihood', opts.logLikelihood, chains, S);
  if (opts.sampleStats) out.sample_stats = drawGroup('sample_stats', opts.sampleStats, chains, S);
  if (opts.observedData) {
    out.observed_data = {};
    for (const [k, v] of Object.entries(opts.observedData)) out.observed_data[k] = v.toArray();
  }
  if (opts.dims) out.dims = opts.dims;
  if (opts.coords) out.coords = opts.coords;
  return out;
}

/**
 * Writes `toArviz(draws, opts)` as JSON; in Python: `az.from_dict(**json.load(open(path)))`.
 * @example saveArviz('posterior.json', r.draws) // then az.from_dict(**json.load(open('posterior.json')))
 */
export function saveArviz(path: string, draws: Record<string, Tensor>, opts: ArvizOptions = {}): void {
  writeFileAtomic(path, JSON.stringify(toArviz(draws, opts)));
}
