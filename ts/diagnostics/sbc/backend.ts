/**
 * SBC backends: anything that fits data and returns posterior draws. One small interface covers
 * every varinf method — `fit`, SVI with any guide, a CAVI routine, SVGD, or a closed-form
 * posterior — so the SBC runner need not know which one it checks.
 */
import { ValueError } from '../../core/errors.js';
import type { Tensor } from '../../core/tensor.js';
import type { ModelFn } from '../../ppl/runtime.js';
import type { Key } from '../../random/key.js';
import { fitSync } from '../../infer/fit/fit.js';
import type { FitOptions } from '../../infer/fit/options.js';
import type { SVI } from '../../infer/svi.js';
import { AutoGuide } from '../../infer/autoguide.js';
import { split } from '../../random/key.js';

/**
 * Posterior draws by parameter name, each with the draws on its leading axis: a tensor
 * [S, ...shape], S rows (arrays of the flattened parameter), or a Float64Array of S draws of a
 * scalar parameter.
 */
export type SbcDraws = Record<string, Tensor | readonly ArrayLike<number>[] | Float64Array>;

/** Fits one simulated data set and returns posterior draws of (at least) the generator's parameters. */
export interface SbcBackend<D> {
  /** Posterior draws given `data`; `key` is this simulation's fit key. */
  fit(key: Key, data: D, index: number): SbcDraws | Promise<SbcDraws>;
}

/**
 * A backend from a function (closed-form posteriors, CAVI routines, SVGD particles, SVI with a
 * hand-written guide: whatever returns draws).
 * @example
 * // the exact posterior of θ ~ N(0, 1), y_i ~ N(θ, 1)
 * const exact = functionBackend((k, y: Float64Array) => {
 *   const n = y.length, m = y.reduce((a, b) => a + b, 0) / (n + 1);
 *   return { theta: add(m, mul(1 / Math.sqrt(n + 1), normal(k, [1000]))) };
 * });
 */
export function functionBackend<D>(fn: (key: Key, data: D, index: number) => SbcDraws | Promise<SbcDraws>): SbcBackend<D> {
  return { fit: fn };
}

/** Options of {@link fitBackend}: `fit`'s options without the key (each simulation gets its own). */
export type FitBackendOptions = Omit<FitOptions, 'key'>;

/**
 * A backend that runs varinf's automatic `fit` on `model(...args(data))` and returns its guide
 * draws (`FitResult.draws`, `drawsPerFit` of them: `fit`'s `numDraws`, default 4000).
 * @example
 * const backend = fitBackend(eightSchools, (d) => [d.obs, sigma], { guide: 'normal', numDraws: 1000 });
 */
export function fitBackend<D, A extends unknown[]>(model: ModelFn<A>, args: (data: D) => A, opts: FitBackendOptions = {}): SbcBackend<D> {
  return {
    fit(key: Key, data: D): SbcDraws {
      const r = fitSync(model, args(data), { progressBar: false, ...opts, key });
      return r.draws;
    },
  };
}

/** Options of {@link sviBackend}. */
export interface SviBackendOptions {
  /** Optimizer steps per fit. */
  steps: number;
  /** Posterior draws returned per fit (default 1000). */
  draws?: number;
}

/**
 * A backend that runs `svi` from a fresh state for `steps` steps on `args(data)` and returns
 * `draws` draws of its autoguide (`samplePosterior`). The SVI object (its model, autoguide, optimizer
 * and ELBO) is reused across simulations; `init` resets the parameters for each.
 * @example
 * const svi = new SVI(model, new AutoNormal(model), adam(0.02), new TraceELBO());
 * const backend = sviBackend(svi, (d) => [d.obs], { steps: 3000 });
 */
export function sviBackend<D, A extends unknown[]>(svi: SVI<A>, args: (data: D) => A, opts: SviBackendOptions): SbcBackend<D> {
  const g = svi.guide;
  if (!(g instanceof AutoGuide)) throw new ValueError('sviBackend: the SVI guide must be an autoguide (it draws with samplePosterior); wrap other guides with functionBackend');
  return {
    fit(key: Key, data: D): SbcDraws {
      const [kRun, kDraw] = split(key);
      const a = args(data);
      const r = svi.runSync(kRun, opts.steps, a, { progressBar: false });
      return g.samplePosterior(kDraw, r.params, opts.draws ?? 1000, ...a);
    },
  };
}
