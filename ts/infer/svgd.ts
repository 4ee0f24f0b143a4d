/**
 * Stein variational gradient descent (Liu & Wang 2016): n particles x_i move along
 *   φ(x_i) = (1/n) Σ_j [k(x_j, x_i) ∇log p(x_j) + ∇_{x_j} k(x_j, x_i)],   k(a, b) = exp(−‖a − b‖²/h),
 * the direction in the unit ball of k's RKHS that most decreases KL(q ‖ p) for the particles'
 * distribution q. The first term drives the particles toward high density, the second keeps them
 * apart. φ for all particles is the fused kernel `svgdPhi`; the particles move by a gradient
 * transformation fed −φ (a descent step along −φ is an ascent along φ), by default the step rule of
 * Liu & Wang's code (see {@link svgdAdagrad}).
 *
 * Targets: a log density of a batch of particles ([n, d] → [n], its gradient by autodiff), or a
 * probabilistic model, whose latent sites are moved to ℝ^d by `bijectTo` as the autoguides do: the
 * particles live in those unconstrained coordinates with target log p(x, T(z)) + log|det J_T(z)|,
 * and come back per site, constrained.
 */
import { valueAndGrad } from '../core/autodiff.js';
import { ENGINE } from '../core/engine.js';
import { compile } from '../compile/compile.js';
import { CompiledLoop, type LoopAccept } from '../compile/loop.js';
import { getValidateArgs, setValidateArgs } from '../distributions/distribution.js';
import { ShapeError, ValueError, VarinfError, fmtShape } from '../core/errors.js';
import { tidy } from '../core/memory.js';
import { leaves, mapLeaves } from '../core/tree.js';
import { Tensor } from '../core/tensor.js';
import { add, cast, div, minimum, mul, neg, sqrt, square, sub } from '../ops/elementwise.js';
import { zerosLike } from '../ops/creation.js';
import { sum } from '../ops/reduce.js';
import { concat, reshape } from '../ops/shape.js';
import { finiteFlag } from '../optim/clip.js';
import { applyUpdates, castCached, chain, scaleByLearningRate, zeroCount, type GradientTransformation, type OptState, type Schedule } from '../optim/transform.js';
import { key, split, type Key } from '../random/key.js';
import { normal, type FloatDType } from '../random/samplers.js';
import type { ModelFn } from '../ppl/runtime.js';
import { AutoLaplaceApproximation, summarize, type AutoGuideOptions, type LatentSite, type SiteSummary } from './autoguide.js';
import { potentialTensor } from './fit/potential.js';
import { ProgressBar } from './progress.js';

/** A bandwidth: 'median' (the median heuristic) or a fixed positive h. */
export type SVGDBandwidth = 'median' | number;

function bandwidthAttr(where: string, b: SVGDBandwidth | undefined): number {
  if (b === undefined || b === 'median') return 0;
  if (typeof b !== 'number' || !Number.isFinite(b) || !(b > 0)) throw new ValueError(`${where}: bandwidth must be 'median' or a positive number, got ${String(b)}`);
  return b;
}

/**
 * SVGD's update direction for particles x [n, d] given the scores g = ∇log p(x) [n, d]:
 * φ = (K g + (2/h)(x ⊙ rowsum(K) − K x)) / n with K_ij = exp(−‖x_i − x_j‖²/h). `bandwidth`
 * 'median' (the default) takes h = med(D)/log(n + 1) over all n² squared distances D, the
 * diagonal's zeros included as in Liu & Wang's code, an even count's median being the mean of the
 * two middle values (h = 1 where the median is 0, NaN where a particle is not finite). Returns φ
 * and the bandwidth used, a 0-d tensor. Not differentiable (SVGD applies φ, never differentiates it).
 * @example const { phi, bandwidth } = svgdPhi(x, grad((z) => sum(logp(z)))(x))
 */
export function svgdPhi(x: Tensor, g: Tensor, opts: { bandwidth?: SVGDBandwidth } = {}): {
  /** The update direction φ, [n, d]. */
  phi: Tensor;
  /** The bandwidth h used, a 0-d tensor. */
  bandwidth: Tensor;
} {
  const [phi, h] = ENGINE.runKernel('svgdPhi', [x, g], { bandwidth: bandwidthAttr('svgdPhi', opts.bandwidth) });
  return { phi, bandwidth: h };
}

/** The state of {@link scaleBySvgdAdagrad}. */
export interface SvgdAdagradState {
  /** Updates so far, a float64 scalar tensor. */
  count: Tensor;
  /** The running average v of squared gradients, one per leaf. */
  nu: Tensor[];
}

/**
 * The rescaling of Liu & Wang's SVGD code ("AdaGrad with momentum", an RMSProp whose average
 * starts at the first gradient): v ← g² at the first step, then v ← αv + (1 − α)g²;
 * update = g / (ε + √v).
 * @example chain(scaleBySvgdAdagrad({ alpha: 0.9 }), scaleByLearningRate(0.05)) // = svgdAdagrad(0.05)
 */
export function scaleBySvgdAdagrad(opts: { alpha?: number; eps?: number } = {}): GradientTransformation<SvgdAdagradState> {
  const alpha = opts.alpha ?? 0.9;
  const eps = opts.eps ?? 1e-6;
  if (!(alpha >= 0 && alpha < 1)) throw new ValueError(`scaleBySvgdAdagrad: alpha must be in [0, 1), got ${alpha}`);
  if (!(eps > 0)) throw new ValueError(`scaleBySvgdAdagrad: eps must be positive, got ${eps}`);
  return {
    init: (params) => ({ count: zeroCount(), nu: leaves(params).map((p) => zerosLike(p)) }),
    update(u, s) {
      // The average's weight on the past: 0 at the first step (v starts at g²), α after.
      const a = castCached(mul(minimum(s.count, 1), alpha));
      const nu: Tensor[] = [];
      const out = mapLeaves(u, (g, i) => {
        const w = a(g.dtype);
        const v = add(mul(s.nu[i], w), mul(square(g), sub(1, w)));
        nu.push(v);
        return div(g, add(sqrt(v), eps));
      });
      return [out, { count: add(s.count, 1), nu }];
    },
  };
}

/**
 * Liu & Wang's SVGD step rule: {@link scaleBySvgdAdagrad} then the learning rate.
 * @example svgd(logp, { particles, steps: 1000, optimizer: svgdAdagrad(0.1) })
 */
export function svgdAdagrad(lr: Schedule, opts: { alpha?: number; eps?: number } = {}): GradientTransformation<OptState[]> {
  return chain(scaleBySvgdAdagrad(opts), scaleByLearningRate(lr));
}

/** A log density of a batch of particles: x [n, d] → log p(x_i) [n]. */
export type LogDensityFn = (x: Tensor) => Tensor;

/** Options shared by both targets of {@link svgd}. */
export interface SVGDOptions {
  /** Number of updates. */
  steps: number;
  /** Learning rate of the default optimizer (default 0.05). */
  lr?: Schedule;
  /** The gradient transformation fed −φ (default `svgdAdagrad(lr)`, Liu & Wang's step rule). */
  optimizer?: GradientTransformation;
  /** 'median' (default) or a fixed kernel bandwidth h. */
  bandwidth?: SVGDBandwidth;
  /** Called every `progressEvery` steps (and at the end) with the step and the particles' mean log density. */
  onProgress?: (step: number, meanLogDensity: number) => void;
  /** Steps between `onProgress` calls; default steps/100 (at least 1). */
  progressEvery?: number;
  /** Print a progress bar on stderr (default: when stderr is a terminal and not in CI). */
  progressBar?: boolean;
  /** Stops the run (the result holds the steps done). */
  signal?: AbortSignal;
  /**
   * Compile the step (default true): the score, φ and the update are traced once and replayed
   * without allocation. Where tracing fails (a log density that reads values on the host) the
   * steps run eagerly and `result.compiled.reason` says why.
   */
  compile?: boolean;
}

/** {@link svgd} on a log density: the initial particles [n, d] are required. */
export interface SVGDDensityOptions extends SVGDOptions {
  /** The initial particles [n, d]. */
  particles: Tensor;
}

/** {@link svgd} on a model: its arguments (`[]` for none) and where the particles start. */
export interface SVGDModelOptions<A extends unknown[]> extends SVGDOptions {
  /** The model's arguments. */
  args: A;
  /** Initial particles in the unconstrained coordinates, [n, latent dim]; else `numParticles` drawn with `key`. */
  particles?: Tensor;
  /** Particles drawn around the guide's initial point (default 100). */
  numParticles?: number;
  /** Standard deviation of the initial particles around that point, per unconstrained coordinate (default 1). */
  initScale?: number;
  /** Sets up the latent sites (the init strategy draws from the prior) and draws the initial particles. */
  key: Key;
  /** Where the initial point is (the autoguides' `init` strategy, default the prior median). */
  guideOptions?: AutoGuideOptions;
}

/** What {@link svgd} returns. */
export interface SVGDResult {
  /** The final particles [n, d] (for a model: its unconstrained coordinates). */
  particles: Tensor;
  /** For a model: the particles per latent site, constrained, [n, ...site shape]. */
  samples?: Record<string, Tensor>;
  /** For a model: per-coordinate mean, sd and quantiles of `samples`. */
  summary?: Record<string, SiteSummary>;
  /** The particles' mean log density before each step. */
  meanLogDensity: Float64Array;
  /** The bandwidth h of each step. */
  bandwidths: Float64Array;
  /** Steps taken. */
  steps: number;
  /** Whether the signal stopped the run. */
  aborted: boolean;
  /** Whether the steps ran compiled, and if not (with `compile` on) why. */
  compiled: {
    /** True when the steps ran as compiled code. */
    used: boolean;
    /** Why the step was not compiled, when `compile` was on and it was not. */
    reason?: string;
  };
  /** Wall-clock timings of the run. */
  timings: {
    /** The whole run, in ms. */
    totalMs: number;
    /** Mean time per step, in µs. */
    perStepUs: number;
    /** The first step (tracing and compiling included), in ms. */
    firstStepMs: number;
  };
}

/** What the step loop needs of a target: the log density of [n, d] particles and where they start. */
interface Target {
  logDensity: LogDensityFn;
  particles: Tensor;
  /** Turns final particles into per-site samples (models). */
  finish?: (x: Tensor) => Pick<SVGDResult, 'samples' | 'summary'>;
}

function modelTarget<A extends unknown[]>(model: ModelFn<A>, opts: SVGDModelOptions<A>): Target {
  const [kSetup, kInit] = split(opts.key, 2);
  const lap = new AutoLaplaceApproximation<A>(model, opts.guideOptions ?? {});
  lap.setup(kSetup, ...opts.args);
  const d = lap.latentDim;
  let particles = opts.particles;
  if (particles === undefined) {
    const n = opts.numParticles ?? 100;
    if (!Number.isInteger(n) || n < 1) throw new ValueError(`svgd: numParticles must be a positive integer, got ${n}`);
    const scale = opts.initScale ?? 1;
    if (!(scale >= 0)) throw new ValueError(`svgd: initScale must be non-negative, got ${scale}`);
    const z0 = concat(lap.sites.map((s) => reshape(s.init, [1, -1])), 1);
    particles = add(z0, mul(normal(kInit, [n, d], { dtype: z0.dtype as FloatDType }), scale));
  } else if (particles.shape.length !== 2 || particles.shape[1] !== d)
    throw new ShapeError(`svgd: the model has ${d} unconstrained latent coordinates, so particles must be [n, ${d}], got ${fmtShape(particles.shape)}`);
  const u = potentialTensor(model, opts.args, lap);
  return {
    logDensity: (x) => neg(u(x)),
    particles,
    finish: (x) => {
      const n = x.shape[0];
      const parts = lap.unpack(reshape(x, [n, ...Array<number>(lap.maxPlateNesting).fill(1), d]));
      const samples: Record<string, Tensor> = {};
      const summary: Record<string, SiteSummary> = {};
      for (const s of lap.sites as readonly LatentSite[]) {
        samples[s.name] = reshape(parts[s.name].value, [n, ...s.batchShape, ...s.eventShape]);
        summary[s.name] = summarize(samples[s.name], n);
      }
      return { samples, summary };
    },
  };
}

function densityTarget(logDensity: LogDensityFn, opts: SVGDDensityOptions): Target {
  const x = opts.particles as Tensor | undefined;
  if (!(x instanceof Tensor)) throw new ValueError('svgd: a log-density target needs the initial particles [n, d] (`particles`); for a model pass its arguments as `args`');
  if (x.shape.length !== 2 || x.shape[0] < 1) throw new ShapeError(`svgd: particles must be [n, d] with n ≥ 1, got ${fmtShape(x.shape)}`);
  return { logDensity, particles: x };
}

/** A compiled step's scalars [total, h, flag]: accepted when the total is finite and the flag is 0. */
const ACCEPT: LoopAccept = { finite: [0], zero: [2] };
/** SVGD draws nothing: the loop's key input is unused. */
const NO_KEY = key(0);

/** The step compiled as a loop over ping-pong state buffers, or why it cannot be. */
function compiledLoop<S>(step: (s: S) => [S, Tensor, Tensor, Tensor], state: S): CompiledLoop<S, null> | string {
  const prev = getValidateArgs();
  // Host-side argument checks cannot be traced; a rejected step reruns eagerly, which checks.
  setValidateArgs(false);
  try {
    return new CompiledLoop(compile((s: S, _k: Key, _e: null) => step(s)), state, NO_KEY, null);
  } catch (e) {
    return `${(e as Error).name}: ${(e as Error).message}`;
  } finally {
    setValidateArgs(prev);
  }
}

/**
 * The run loop as a generator that yields whenever the event loop should breathe. A step whose
 * log density or score is not finite at some particle, or that would move a particle to a
 * non-finite value, raises an error naming the step and the particle.
 */
function* loop(target: Target, opts: SVGDOptions): Generator<void, SVGDResult, void> {
  const steps = opts.steps;
  if (!Number.isInteger(steps) || steps < 0) throw new ValueError(`svgd: steps must be a non-negative integer, got ${steps}`);
  const bandwidth = opts.bandwidth ?? 'median';
  bandwidthAttr('svgd', bandwidth);
  const optim = opts.optimizer ?? svgdAdagrad(opts.lr ?? 0.05);
  const every = opts.progressEvery ?? Math.max(1, Math.floor(steps / 100));
  const bar = (opts.progressBar ?? (process.stderr.isTTY === true && process.env.CI === undefined)) ? new ProgressBar('svgd', steps) : null;
  const n = target.particles.shape[0];
  const vg = valueAndGrad((z: Tensor) => {
    const lp = target.logDensity(z);
    if (!(lp instanceof Tensor) || lp.shape.length !== 1 || lp.shape[0] !== n)
      throw new ShapeError(`svgd: the log density must map particles ${fmtShape(z.shape)} to a tensor [${n}], got ${lp instanceof Tensor ? fmtShape(lp.shape) : typeof lp}`);
    return sum(lp);
  });
  type State = { x: Tensor; opt: OptState };
  // One step: [state', total log density, h, 0 or NaN where a score or a new particle is not finite].
  const step = (s: State): [State, Tensor, Tensor, Tensor] => {
    const [total, g] = vg(s.x);
    const { phi, bandwidth: h } = svgdPhi(s.x, g, { bandwidth });
    const [updates, opt] = optim.update(neg(phi), s.opt, s.x);
    const x = applyUpdates(s.x, updates);
    return [{ x, opt }, total, h, finiteFlag([g, x])];
  };
  let state: State = { x: target.particles, opt: optim.init(target.particles) };
  const compiled: SVGDResult['compiled'] = { used: false };
  let loop: CompiledLoop<State, null> | null = null;
  if (opts.compile !== false && steps > 0) {
    const l = compiledLoop(step, state);
    if (typeof l === 'string') compiled.reason = l;
    else [loop, compiled.used] = [l, true];
  }
  const meanLogDensity = new Float64Array(steps);
  const bandwidths = new Float64Array(steps);
  const t0 = performance.now();
  let firstStepMs = 0;
  let lastYield = t0;
  let done = 0;
  let aborted = false;
  while (done < steps) {
    if (opts.signal?.aborted === true) {
      aborted = true;
      break;
    }
    let total: number;
    if (loop !== null && loop.run(NO_KEY, 0, 1, ACCEPT, meanLogDensity, done) === 1) {
      total = loop.scalars[0];
      bandwidths[done] = loop.scalars[1];
    } else {
      // Eager (or a compiled step that was rejected: redone eagerly from the unchanged state, which
      // raises the error naming the step and the particle).
      if (loop !== null) state = loop.state();
      const r = tidy(() => {
        const [next, t, h, flag] = step(state);
        // One read back per step: the total log density, h, and whether anything went non-finite.
        const flags = concat([t, h, flag].map((v) => reshape(v.dtype === 'float64' ? v : cast(v, 'float64'), [1])));
        return { next, flags };
      });
      const [t, h, bad] = r.flags.dataSync();
      if (!Number.isFinite(t) || !Number.isFinite(bad)) explainNonFinite(done, target, state.x);
      state = r.next;
      if (loop !== null) loop.setState(state);
      total = t;
      bandwidths[done] = h;
    }
    meanLogDensity[done] = total / n;
    done++;
    const now = performance.now();
    if (done === 1) firstStepMs = now - t0;
    if (done % every === 0 || done === steps) {
      opts.onProgress?.(done, meanLogDensity[done - 1]);
      bar?.update(done, { 'mean log p': meanLogDensity[done - 1].toPrecision(6) });
    }
    if (now - lastYield > 20) {
      yield;
      lastYield = performance.now();
    }
  }
  if (loop !== null) state = loop.state();
  const x = state.x;
  bar?.finish(done > 0 ? { 'mean log p': meanLogDensity[done - 1].toPrecision(6) } : {});
  const totalMs = performance.now() - t0;
  return {
    particles: x,
    ...target.finish?.(x),
    compiled,
    meanLogDensity: meanLogDensity.slice(0, done),
    bandwidths: bandwidths.slice(0, done),
    steps: done,
    aborted,
    timings: { totalMs, perStepUs: done > 0 ? (totalMs * 1000) / done : 0, firstStepMs },
  };
}

/**
 * Raises the error of step `step` from `x`, the particles before it, evaluating the log density
 * and its gradient eagerly to name the first particle concerned.
 */
function explainNonFinite(step: number, target: Target, x: Tensor): never {
  const d = x.shape[1];
  const firstBad = (a: ArrayLike<number>, per: number): number => {
    for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return Math.floor(i / per);
    return -1;
  };
  let lp: Tensor | null = null;
  const [, g] = valueAndGrad((z: Tensor) => {
    lp = target.logDensity(z);
    return sum(lp);
  })(x);
  const lpv = (lp as unknown as Tensor).dataSync();
  const i = firstBad(lpv, 1);
  const j = i >= 0 ? -1 : firstBad(g.dataSync(), d);
  const what =
    i >= 0
      ? `the log density of particle ${i} is ${lpv[i]}`
      : j >= 0
        ? `the gradient of the log density at particle ${j} is not finite`
        : 'the update moves a particle to a non-finite value (lower the learning rate)';
  throw new VarinfError(`svgd step ${step}: ${what}; the particles keep their values from before the step.`);
}

function targetOf<A extends unknown[]>(fn: LogDensityFn | ModelFn<A>, opts: SVGDDensityOptions | SVGDModelOptions<A>): Target {
  return 'args' in opts && opts.args !== undefined ? modelTarget(fn as ModelFn<A>, opts) : densityTarget(fn as LogDensityFn, opts as SVGDDensityOptions);
}

/**
 * Stein variational gradient descent on a log density of a batch of particles ([n, d] → [n],
 * differentiated by autodiff) from `particles`, or on a model (with `args`) from particles around
 * the autoguides' initial point in its unconstrained coordinates. Yields to the event loop
 * regularly; `svgdSync` does not.
 * @example
 * const r = await svgd((x) => logp(x), { particles: normal(key(0), [200, 2]), steps: 1000 });
 * const post = await svgd(eightSchools, { args: [data], key: key(1), steps: 2000 }); post.summary
 */
export async function svgd(logDensity: LogDensityFn, opts: SVGDDensityOptions): Promise<SVGDResult>;
export async function svgd<A extends unknown[]>(model: ModelFn<A>, opts: SVGDModelOptions<A>): Promise<SVGDResult>;
export async function svgd<A extends unknown[]>(fn: LogDensityFn | ModelFn<A>, opts: SVGDDensityOptions | SVGDModelOptions<A>): Promise<SVGDResult> {
  const gen = loop(targetOf(fn, opts), opts);
  for (;;) {
    const r = gen.next();
    if (r.done) return r.value;
    await new Promise<void>((res) => setImmediate(res));
  }
}

/**
 * {@link svgd} without yielding to the event loop (for scripts and tests).
 * @example const post = svgdSync(model, { args: [data], key: key(1), steps: 500 }); // in a script
 */
export function svgdSync(logDensity: LogDensityFn, opts: SVGDDensityOptions): SVGDResult;
export function svgdSync<A extends unknown[]>(model: ModelFn<A>, opts: SVGDModelOptions<A>): SVGDResult;
export function svgdSync<A extends unknown[]>(fn: LogDensityFn | ModelFn<A>, opts: SVGDDensityOptions | SVGDModelOptions<A>): SVGDResult {
  const gen = loop(targetOf(fn, opts), opts);
  for (;;) {
    const r = gen.next();
    if (r.done) return r.value;
  }
}
