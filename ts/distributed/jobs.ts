/**
 * What one job of {@link fitMany} is (a module and export that name the model or task, plus its
 * data, all plain enough to cross a worker boundary) and what it returns.
 */
import type { FitPhase } from '../infer/fit/options.js';
import type { SiteSummary } from '../infer/autoguide.js';
import type { PortableKey, PortableTensor } from './portable.js';

/** The fields every job has: where its function lives and the arguments it is called with. */
export interface JobBase {
  /**
   * The module that exports the model (or task): an absolute path, a path relative to the
   * current directory (`./models/eight.ts`), a `file:` URL, or a package name. It must import
   * varinf from the same place as the program that calls `fitMany` (one copy of the library per
   * thread holds the model's handler stack).
   */
  module: string;
  /** The export's name (default `'model'`). */
  export?: string;
  /**
   * The arguments, as plain data: numbers and (nested) number arrays, typed arrays and
   * {@link PortableTensor}s become tensors in the worker (see `decodeArg`); other values pass as they are.
   */
  args?: unknown[];
}

/**
 * Options of a `fit` job: those of `fit` that can be cloned (no callbacks, no guide objects),
 * with the key as a {@link PortableKey}.
 */
export interface PortableFitOptions {
  /** The key of the fit. */
  key: PortableKey;
  /** The variational family (default 'normal'). */
  guide?: 'normal' | 'mvn' | 'lowrank' | 'iaf' | 'nsf' | 'realnvp' | 'bnaf';
  /** See `FitOptions.laplaceInit`. */
  laplaceInit?: boolean;
  /** See `FitOptions.phases`. */
  phases?: FitPhase[];
  /** See `FitOptions.sampleAverageDraws`. */
  sampleAverageDraws?: number;
  /** See `FitOptions.numDraws` (default 4000). */
  numDraws?: number;
  /** See `FitOptions.checkEvery`. */
  checkEvery?: number;
  /** See `FitOptions.driftTol`. */
  driftTol?: number;
  /** See `FitOptions.selectionDraws`. */
  selectionDraws?: number;
}

/**
 * A job that runs `fitSync(model, args, options)`: the automatic recipe (Laplace start, phases,
 * candidate selection, k̂).
 * @example { module: './eight.ts', args: [y, sigma], options: { key: 7 } }
 */
export interface FitJob extends JobBase {
  /** The job's kind (the default). */
  kind?: 'fit';
  /** The fit's options. */
  options: PortableFitOptions;
}

/**
 * A job that runs plain SVI for a fixed number of steps: an autoguide, Adam with step size `lr`,
 * `TraceELBO` with `particles` particles, compiled where the model allows. The same algorithm as
 * NumPyro's `SVI(model, AutoNormal(model), Adam(lr), Trace_ELBO()).run(key, steps)`.
 * @example { kind: 'svi', module: './eight.ts', args: [y, sigma], options: { key: 7, steps: 2000, lr: 0.05 } }
 */
export interface SviJob extends JobBase {
  /** The job's kind. */
  kind: 'svi';
  /** The run's options. */
  options: {
    /** The run key: `SVI.init` and `SVI.run` use it as `svi.runSync(key, …)` does. */
    key: PortableKey;
    /** Optimizer steps. */
    steps: number;
    /** Adam's step size (default 0.01). */
    lr?: number;
    /** The autoguide (default 'normal'). */
    guide?: 'normal' | 'mvn';
    /** ELBO particles per step (default 1). */
    particles?: number;
    /** Compile the step (default true). */
    compile?: boolean;
  };
}

/**
 * A job that calls the export itself, `fn(input, ...args)`, and returns what it returns (tensors in
 * it become {@link PortableTensor}s; the rest must be structured-cloneable). For anything the two
 * recipes above do not cover.
 * @example { kind: 'task', module: './tasks.ts', export: 'posteriorMean', input: { seed: 3 } }
 */
export interface TaskJob extends JobBase {
  /** The job's kind. */
  kind: 'task';
  /** The first argument of the task function (structured-cloneable). */
  input?: unknown;
}

/** One job of {@link fitMany}. */
export type Job = FitJob | SviJob | TaskJob;

/** What a `fit` job returns: the result of `fit` without its tensors' identity (all plain data). */
export interface FitJobValue {
  /** Constrained guide parameters of the chosen candidate. */
  params: Record<string, PortableTensor>;
  /** Per site: mean, sd and quantiles of the guide draws. */
  summary: Record<string, SiteSummary>;
  /** The ELBO estimate from the draws. */
  elbo: number;
  /** Pareto k̂ of the importance weights. */
  khat: number;
  /** The loss at every step, all phases. */
  losses: Float64Array;
  /** The warnings of the fit. */
  warnings: string[];
  /** Optimization steps, all phases. */
  steps: number;
}

/** What an `svi` job returns. */
export interface SviJobValue {
  /** Constrained parameters after the last step. */
  params: Record<string, PortableTensor>;
  /** The loss at every step. */
  losses: Float64Array;
  /** Whether the steps ran compiled (and if not, why). */
  compiled: {
    /** True when the steps ran as compiled code. */
    used: boolean;
    /** Why the step was not compiled, when it was not. */
    reason?: string;
  };
}

/**
 * A finished job: its index in the list handed to {@link fitMany}, and either its value or its
 * error (a failure stays with its job; the others go on).
 */
export type JobResult =
  | {
      /** The job's index in the input list. */
      index: number;
      /** Whether it succeeded. */
      ok: true;
      /** What the job returned ({@link FitJobValue}, {@link SviJobValue} or a task's value). */
      value: unknown;
      /** Wall-clock time of the job in its worker, ms. */
      ms: number;
      /** Which worker ran it (0-based; -1 in a serial run). */
      worker: number;
    }
  | {
      /** The job's index in the input list. */
      index: number;
      /** Whether it succeeded. */
      ok: false;
      /** The job's error, rebuilt on this thread (a `VarinfError` subclass keeps its class where varinf has it). */
      error: Error;
      /** Wall-clock time of the job in its worker, ms. */
      ms: number;
      /** Which worker ran it (0-based; -1 in a serial run). */
      worker: number;
    };
