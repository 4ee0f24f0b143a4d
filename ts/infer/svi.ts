/**
 * Stochastic variational inference as a state machine: `init` finds the parameters of model and
 * guide and moves them to ℝ^d, `update` takes one optimizer step on the ELBO estimator's loss,
 * `run` takes many (with progress, cancellation and early stopping). Parameters live
 * unconstrained in the state; `getParams` maps them back through `bijectTo`.
 */
import { valueAndGrad } from '../core/autodiff.js';
import { NonFiniteError, VarinfError, ValueError } from '../core/errors.js';
import type { Tensor } from '../core/tensor.js';
import { compile, type CompiledFunction } from '../compile/compile.js';
import { CompiledLoop } from '../compile/loop.js';
import { getValidateArgs, setValidateArgs } from '../distributions/distribution.js';
import { bijectTo } from '../bijectors/bijectTo.js';
import type { Transform } from '../bijectors/transform.js';
import type { Constraint } from '../distributions/constraints.js';
import { applyUpdates, type GradientTransformation } from '../optim/transform.js';
import { allFinite, finiteFlag } from '../optim/clip.js';
import { foldIn, split, type Key } from '../random/key.js';
import { replay, seed, trace, type Trace } from '../ppl/handlers.js';
import type { ModelFn } from '../ppl/runtime.js';
import { siteLogProb } from '../ppl/logdensity.js';
import { AutoGuide } from './autoguide.js';
import { getTraces, type ELBO, type ElboInputs } from './elbo.js';
import { particleNesting } from './nesting.js';

import { type SVIResult, type SVIRunOptions, type SVIState } from './svi-state.js';
import { loopSteps, runLoop, type StepState } from './svi-run.js';

export * from './svi-state.js';

/**
 * Stochastic variational inference as a state machine: `init` finds the parameters of model and
 * guide and moves them to ℝ^d (through `bijectTo` of each param's constraint), `update` takes one
 * optimizer step on the ELBO estimator's loss (−ELBO), `run` takes many with progress,
 * cancellation and early stopping. Parameters live unconstrained in the state; `getParams` maps
 * them back. `A` is the tuple of the model's arguments; the guide takes the same arguments.
 * @example
 * const model = (y: Tensor) => {
 *   const mu = sample('mu', new Normal(0, 10));
 *   plate('data', y.shape[0], () => sample('y', new Normal(mu, 1), { obs: y }));
 * };
 * const guide = new AutoNormal(model);
 * const svi = new SVI(model, guide, adam(0.05), new TraceELBO());
 * const r = await svi.run(key(0), 2000, [y]);
 * guide.summary(key(1), r.params, 1000, y).mu.mean; // [posterior mean of mu]
 */
export class SVI<A extends unknown[]> {
  private readonly constraints = new Map<string, { constraint: Constraint; transform: Transform }>();
  private maxPlateNesting = 0;
  private compiledStep: CompiledFunction<[StepState, Key, A], unknown[]> | null = null;

  constructor(
    /** The model p(x, z): a function of `A` with `sample`, `param`, `plate` sites. */
    readonly model: ModelFn<A>,
    /** The guide q(z): a function of `A` whose sample sites match the model's latents, or an autoguide. */
    readonly guide: ModelFn<A> | AutoGuide<A>,
    /** The optimizer, e.g. `adam(1e-2)`. */
    readonly optim: GradientTransformation,
    /** The ELBO estimator whose `loss` is minimized, e.g. `new TraceELBO()`. */
    readonly loss: ELBO,
  ) {}

  private guideFn(): ModelFn<A> {
    return this.guide instanceof AutoGuide ? this.guide.guide : this.guide;
  }

  /** Finds the parameters, their constraints and initial values; returns the initial state. */
  init(key: Key, ...args: A): SVIState {
    const [kSetup, kParams, kRun] = split(key, 3);
    if (this.guide instanceof AutoGuide) {
      this.guide.setup(kSetup, ...args);
      this.maxPlateNesting = this.guide.maxPlateNesting;
    } else this.maxPlateNesting = particleNesting(trace(seed(this.model, kSetup)).getTrace(...args));
    const params: Record<string, Tensor> = {};
    const collect = (tr: Trace): void => {
      for (const s of tr.values()) {
        if (s.type !== 'param' || params[s.name] !== undefined) continue;
        const c = s.constraint as Constraint;
        const t = bijectTo(c);
        this.constraints.set(s.name, { constraint: c, transform: t });
        params[s.name] = t.inverse(s.value as Tensor);
      }
    };
    const guideTr = trace(seed(this.guideFn(), kParams)).getTrace(...args);
    collect(guideTr);
    // the model replays the guide's draws (as NumPyro's SVI.init), so latents with no sampler (ImproperUniform) never draw
    collect(trace(seed(replay(this.model, guideTr), kParams)).getTrace(...args));
    if (Object.keys(params).length === 0) throw new ValueError('SVI.init: neither the model nor the guide has a param site');
    return { params, optState: this.optim.init(params), step: 0, key: kRun };
  }

  /** Constrained parameter values of a state. */
  getParams(state: SVIState): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    for (const [name, u] of Object.entries(state.params)) out[name] = this.transformFor(name).forward(u);
    return out;
  }

  private transformFor(name: string): Transform {
    const c = this.constraints.get(name);
    if (c === undefined) throw new VarinfError(`SVI: unknown parameter '${name}'; call init first`);
    return c.transform;
  }

  private inputs(state: SVIState, params: Record<string, Tensor>, args: A, key = foldIn(state.key, state.step)): ElboInputs<A> {
    return { model: this.model, guide: this.guideFn(), args, params, key, maxPlateNesting: this.maxPlateNesting };
  }

  /**
   * The step as a function of tensors and the step key, for `compile`: returns
   * `[state', loss, gradFlag, paramFlag]` where the flags are 0 when the loss and gradients (resp.
   * the new parameters) are all finite and NaN otherwise.
   */
  private stepFunction(): CompiledFunction<[StepState, Key, A], unknown[]> {
    if (this.compiledStep === null)
      this.compiledStep = compile((s: StepState, key: Key, args: A): unknown[] => {
        let elbo = s.elbo;
        const lossFn = (u: Record<string, Tensor>): Tensor => {
          const constrained: Record<string, Tensor> = {};
          for (const [name, v] of Object.entries(u)) constrained[name] = this.transformFor(name).forward(v);
          const r = this.loss.evaluateWithState({ model: this.model, guide: this.guideFn(), args, params: constrained, key, maxPlateNesting: this.maxPlateNesting }, s.elbo);
          elbo = r.state;
          return r.result.loss;
        };
        const [lossT, grads] = valueAndGrad(lossFn)(s.params);
        const [updates, optState] = this.optim.update(grads, s.optState, s.params);
        const params = applyUpdates(s.params, updates);
        return [{ params, optState, elbo }, lossT, finiteFlag([lossT, grads]), finiteFlag(params)];
      });
    return this.compiledStep;
  }

  /** @internal a compiled loop starting at `state`, or the reason it cannot be compiled. */
  compiledLoop(state: SVIState, args: A): CompiledLoop<StepState, A> | string {
    const prev = getValidateArgs();
    // Host-side validation cannot be traced; a non-finite loss sends the step to the eager path, which validates.
    setValidateArgs(false);
    try {
      const elbo = this.loss.initState(this.stepInputs(state, args));
      return new CompiledLoop(this.stepFunction(), { params: state.params, optState: state.optState, elbo }, state.key, args);
    } catch (e) {
      return `${(e as Error).name}: ${(e as Error).message}`;
    } finally {
      setValidateArgs(prev);
    }
  }

  /** @internal the ELBO inputs of `state`'s next step (constrained parameters, the step's key). */
  stepInputs(state: SVIState, args: A): ElboInputs<A> {
    return this.inputs(state, this.getParams(state), args);
  }

  /** The ELBO estimate at the state's parameters (no gradient step). */
  evaluate(state: SVIState, ...args: A): number {
    return this.loss.evaluate(this.inputs(state, this.getParams(state), args)).elbo.item();
  }

  /**
   * One optimizer step. Returns the new state and the loss. A non-finite loss or gradient raises
   * an error naming the step and the first site whose log density is not finite; the state passed
   * in is left as it was.
   */
  update(state: SVIState, ...args: A): {
    /** The state after the step. */
    state: SVIState;
    /** The loss (−ELBO estimate) at the state passed in. */
    loss: number;
  } {
    const lossFn = (u: Record<string, Tensor>): Tensor => {
      const constrained: Record<string, Tensor> = {};
      for (const [name, v] of Object.entries(u)) constrained[name] = this.transformFor(name).forward(v);
      return this.loss.evaluate(this.inputs(state, constrained, args)).loss;
    };
    const [lossT, grads] = valueAndGrad(lossFn)(state.params);
    const loss = lossT.item();
    if (!Number.isFinite(loss) || !allFinite(grads)) this.explainNonFinite(state, loss, args);
    const [updates, optState] = this.optim.update(grads, state.optState, state.params);
    const params = applyUpdates(state.params, updates);
    if (!allFinite(params)) throw new NonFiniteError(`SVI step ${state.step}: the optimizer produced non-finite parameters; the state was not changed`);
    return { state: { params, optState, step: state.step + 1, key: state.key }, loss };
  }

  private explainNonFinite(state: SVIState, loss: number, args: A): never {
    const what = Number.isFinite(loss) ? 'a gradient is not finite' : `the loss is ${loss}`;
    let site = '';
    try {
      const { guideTr, modelTr } = getTraces(this.inputs(state, this.getParams(state), args), 1);
      for (const [label, tr] of [['model', modelTr], ['guide', guideTr]] as const)
        for (const s of tr.values()) {
          if (s.type !== 'sample' || site !== '') continue;
          const v = siteLogProb(s).dataSync();
          if (v.some((x) => !Number.isFinite(x))) site = `; the log density of ${label} site '${s.name}' is not finite`;
        }
      const bad = Object.entries(state.params).find(([, p]) => p.dataSync().some((x) => !Number.isFinite(x)));
      if (bad) site += `; parameter '${bad[0]}' is not finite`;
    } catch (e) {
      site = `; evaluating the sites failed: ${(e as Error).message}`;
    }
    throw new NonFiniteError(`SVI step ${state.step}: ${what}${site}. The parameters keep their last finite values.`);
  }

  /**
   * Runs `numSteps` updates (fewer if stopped early), yielding to the event loop regularly. An
   * abort rejects with an `AbortError` carrying the result so far; a non-finite step rejects with an
   * {@link SVIDivergenceError} carrying the last finite state and the losses.
   */
  async run(key: Key, numSteps: number, args: A, opts: SVIRunOptions = {}): Promise<SVIResult> {
    return runLoop(this, key, numSteps, args, opts);
  }

  /** `run` without yielding to the event loop (for scripts and tests). */
  runSync(key: Key, numSteps: number, args: A, opts: SVIRunOptions = {}): SVIResult {
    const gen = loopSteps(this, key, numSteps, args, opts);
    for (;;) {
      const r = gen.next();
      if (r.done) return r.value;
    }
  }
}
