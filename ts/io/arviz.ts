/**
 * Posterior draws in a layout ArviZ reads: `{posterior: {name: nested [chain][draw][...]}}` as
 * `arviz.from_dict(**json.load(open(path)))` takes it (arviz.from_dict's `posterior` and
 * `sample_stats` groups), plus `observed_data` when given.
 */
import { writeFileAtomic } from './atomic.js';
import { ValueError } from '../core/errors.js';
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
}

function byChain(name: string, t: Tensor, chains: number): NestedArray {
  const n = t.shape[0];
  if (n === undefined || n % chains !== 0) throw new ValueError(`toArviz: '${name}' has ${n ?? 0} draws, not divisible into ${chains} chains`);
  return reshape(t, [chains, n / chains, ...t.shape.slice(1)]).toArray();
}

/**
 * Draws (each with leading axis = draws) as an ArviZ-readable object.
 * @example const idata = toArviz(r.draws, { chains: 4 }); // { posterior: { mu: [[...], ...], ... } }
 */
export function toArviz(draws: Record<string, Tensor>, opts: ArvizOptions = {}): Record<string, Record<string, NestedArray>> {
  const chains = opts.chains ?? 1;
  const out: Record<string, Record<string, NestedArray>> = { posterior: {} };
  for (const [k, v] of Object.entries(draws)) out.posterior[k] = byChain(k, v, chains);
  if (opts.sampleStats) {
    out.sample_stats = {};
    for (const [k, v] of Object.entries(opts.sampleStats)) out.sample_stats[k] = byChain(k, v, chains);
  }
  if (opts.observedData) {
    out.observed_data = {};
    for (const [k, v] of Object.entries(opts.observedData)) out.observed_data[k] = v.toArray();
  }
  return out;
}

/**
 * Writes `toArviz(draws, opts)` as JSON; in Python: `az.from_dict(**json.load(open(path)))`.
 * @example saveArviz('posterior.json', r.draws) // then az.from_dict(**json.load(open('posterior.json')))
 */
export function saveArviz(path: string, draws: Record<string, Tensor>, opts: ArvizOptions = {}): void {
  writeFileAtomic(path, JSON.stringify(toArviz(draws, opts)));
}
