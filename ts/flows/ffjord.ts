/**
 * FFJORD (Grathwohl, Chen, Bettencourt, Sutskever & Duvenaud, ICLR 2019): a continuous
 * normalizing flow. The layer integrates dz/dt = f(z, t) from 0 to T (forward, sampling) or from
 * T to 0 (inverse, density) together with dl/dt = tr(∂f/∂z), so that
 * log|det ∂z(T)/∂z(0)| = ∫₀ᵀ tr(∂f/∂z(t)) dt (the instantaneous change of variables, Chen et al.
 * 2018). The trace is Hutchinson's estimate εᵀ(∂f/∂z)ε with one probe ε per solve (Rademacher or
 * Gaussian) and one vector–Jacobian product per evaluation, or the exact trace (d products, one
 * pass with d stacked probes). The solver is the shared adaptive Dormand–Prince 5(4) (ts/ode) with
 * Hairer's step-size controller and initial step, or fixed-step RK4.
 *
 * Gradients: by differentiating through the solver's steps (discretize-then-optimize), not by the
 * adjoint method. The reasons: (1) the gradient is the exact gradient of the computed solution, so
 * it agrees with finite differences of what the layer returns and the loss cannot drift from its
 * gradient when tolerances are loose, where the adjoint's backward solve only approximates it
 * (Gholami et al. 2019; Onken & Ruthotto 2020); (2) the adjoint system needs ∂/∂z and ∂/∂θ of
 * the divergence term, a second vector–Jacobian product of the field, and varinf's tape has no
 * nested gradients, whereas here the divergence is a graph of ordinary ops (see vector-field.ts)
 * that the one tape differentiates; (3) the cost is memory: the tape keeps every stage of every
 * step, O(steps · 7 · batch · Σ hidden) values, where the adjoint keeps O(batch · d). The survey's
 * §24 names this trade for flows (store activations, or recompute); for the low-dimensional data
 * FFJORD is used on here (tens of steps, batches of hundreds) the stored stages are megabytes.
 * Step sizes are host numbers (constants to autodiff), so the adaptive solver runs eagerly and a
 * compiled step falls back to eager; RK4 with the exact trace traces and compiles.
 */
import { ValueError } from '../core/errors.js';
import type { Tensor } from '../core/tensor.js';
import { CompileError } from '../compile/errors.js';
import { isTracing } from '../compile/recorder.js';
import { abs, add, div, maximum, mul, neg, sub } from '../ops/elementwise.js';
import { eye, zeros } from '../ops/creation.js';
import { sum } from '../ops/reduce.js';
import { broadcastTo, concat, reshape } from '../ops/shape.js';
import { sliceLast } from '../bijectors/transform.js';
import { foldIn, key as makeKey, type Key } from '../random/key.js';
import { bernoulli, normal, type FloatDType } from '../random/samplers.js';
import { dopri5, hairerController, OdeStepError, rk4, type OdeAlgebra } from '../ode/dopri5.js';
import { checkFeatures } from './conditioner.js';
import { checkContext, FlowTransform, modeSwitch, type ModalFlowLayer } from './core.js';
import { concatSquashField, type ConcatSquashOptions, type VectorField } from './vector-field.js';

/** How the divergence tr(∂f/∂z) is computed. */
export type TraceEstimator = 'hutchinson' | 'exact';

/** Options of {@link ffjord}. */
export interface FFJORDOptions extends ConcatSquashOptions {
  /** The vector field (default: {@link concatSquashField} with `hidden`, `activation`, `contextFeatures`). */
  field?: VectorField;
  /** The integration time T; default 1. */
  T?: number;
  /** 'dopri5' (adaptive, the default) or 'rk4' (fixed steps, traceable). */
  solver?: 'dopri5' | 'rk4';
  /** Relative and absolute tolerances of dopri5; default 1e-5 each. */
  rtol?: number;
  /** Absolute tolerance of dopri5; default 1e-5. */
  atol?: number;
  /** dopri5's step budget: the most accepted steps per solve; default 1000. */
  maxSteps?: number;
  /** The most rejected trial steps in a row; default 100. */
  maxRejects?: number;
  /** RK4's number of steps; default 20. */
  steps?: number;
  /** The trace in training mode; default 'hutchinson'. */
  trainTrace?: TraceEstimator;
  /** The trace in evaluation mode; default 'exact'. */
  evalTrace?: TraceEstimator;
  /** Hutchinson's probe distribution; default 'rademacher'. */
  noise?: 'rademacher' | 'gaussian';
  /** Seed of the probe stream (each solve draws from the next key); default key(0). */
  key?: Key;
}

/** The layer object {@link ffjord} returns: a flow layer with a mode (which trace) and solver counts. */
export interface FFJORDLayer<P = unknown> extends ModalFlowLayer<P> {
  /** The vector field. */
  readonly field: VectorField<P>;
  /** Whether the layer is in training mode (the training trace estimator). */
  readonly training: boolean;
  /** Training mode (default on creation). Returns the layer. */
  train(mode?: boolean): FFJORDLayer<P>;
  /** Evaluation mode (the evaluation trace estimator). Returns the layer. */
  eval(): FFJORDLayer<P>;
  /** Evaluations of the field in the last solve (accepted and rejected stages). */
  readonly lastNfe: number;
}

interface Config {
  field: VectorField;
  T: number;
  solver: 'dopri5' | 'rk4';
  rtol: number;
  atol: number;
  maxSteps: number;
  maxRejects: number;
  steps: number;
  trainTrace: TraceEstimator;
  evalTrace: TraceEstimator;
  noise: 'rademacher' | 'gaussian';
  key: Key;
}

interface State {
  training: boolean;
  draws: number;
  nfe: number;
}

/** max over rows of the RMS over columns of x [B, k], read on the host; NaN reads as Infinity. */
function rowRmsMax(x: Tensor): number {
  const [B, k] = x.shape;
  const v = x.dataSync();
  let worst = 0;
  for (let b = 0; b < B; b++) {
    let s = 0;
    for (let j = 0; j < k; j++) s += v[b * k + j] * v[b * k + j];
    const r = Math.sqrt(s / k);
    if (!(r <= worst)) worst = Number.isNaN(r) ? Infinity : Math.max(worst, r);
  }
  return worst;
}

/** Tensor states [B, d + 1] (z and the accumulated log-determinant), the error as a max over rows of per-row RMS. */
function tensorAlgebra(rtol: number, atol: number): OdeAlgebra<Tensor> {
  const lin = (dt: number, as: readonly number[], ks: readonly Tensor[], base?: Tensor): Tensor => {
    let acc = base;
    as.forEach((a, j) => {
      if (a === 0) return;
      const term = mul(ks[j], dt * a);
      acc = acc === undefined ? term : add(acc, term);
    });
    return acc ?? mul(ks[0], 0);
  };
  return {
    comb: (x, dt, as, ks) => lin(dt, as, ks, x),
    errorRatio(x, xNew, _k1, dt, cs, ks) {
      const scale = add(mul(maximum(abs(x), abs(xNew)), rtol), atol);
      return rowRmsMax(div(lin(dt, cs, ks), scale));
    },
  };
}

class FFJORDTransform extends FlowTransform {
  constructor(
    d: number,
    private readonly p: unknown,
    private readonly context: Tensor | undefined,
    private readonly cfg: Config,
    private readonly state: State,
  ) {
    super('ffjord', d);
  }
  protected callForward(x: Tensor): [Tensor, Tensor] {
    return this.solve(x, false);
  }
  protected callInverse(y: Tensor): [Tensor, Tensor] {
    return this.solve(y, true);
  }

  private solve(x: Tensor, inverse: boolean): [Tensor, Tensor] {
    const { cfg, state } = this;
    const d = this.features;
    const lead = x.shape.slice(0, -1);
    const z0 = reshape(x, [-1, d]);
    const B = z0.shape[0];
    const dtype = x.dtype as FloatDType;
    let ctx: Tensor | undefined;
    if (this.context !== undefined) {
      const c = this.context.shape[this.context.rank - 1];
      ctx = reshape(broadcastTo(this.context, [...lead, c]), [B, c]);
    }
    const mode = state.training ? cfg.trainTrace : cfg.evalTrace;
    let probe: Tensor;
    if (mode === 'hutchinson') {
      if (isTracing())
        throw new CompileError("ffjord: Hutchinson's probes would be one constant inside a traced (compiled) step; train eagerly (compile: false) or use trainTrace 'exact' with solver 'rk4'");
      const k = foldIn(cfg.key, state.draws++);
      probe = cfg.noise === 'gaussian' ? normal(k, [B, d], { dtype }) : sub(mul(bernoulli(k, 0.5, [B, d], { dtype }), 2), 1);
    } else probe = reshape(eye(d, dtype), [d, 1, d]);
    const divergence = (v: Tensor): Tensor => (mode === 'hutchinson' ? sum(mul(v, probe), -1) : sum(sum(mul(v, probe), -1), 0));
    const T = cfg.T;
    state.nfe = 0;
    // Inverse: s = T − t runs 0 → T with ds-derivative −f(z, T − s).
    const rhs = (t: number, s: Tensor): Tensor => {
      state.nfe++;
      const tt = inverse ? T - t : t;
      const { f, vjp } = cfg.field.eval(this.p, sliceLast(s, 0, d), tt, ctx);
      // A field whose Jacobian is the same at every row gives the exact trace without the batch axis.
      const out = concat([f, reshape(broadcastTo(divergence(vjp(probe)), [B]), [B, 1])], -1);
      return inverse ? neg(out) : out;
    };
    const s0 = concat([z0, zeros([B, 1], dtype)], -1);
    const alg = tensorAlgebra(cfg.rtol, cfg.atol);
    let sT: Tensor;
    if (cfg.solver === 'rk4') sT = rk4(rhs, s0, 0, T, cfg.steps, alg);
    else {
      try {
        sT = dopri5(rhs, s0, 0, [T], alg, { controller: hairerController, firstStep: initialStep(rhs, alg, cfg), maxSteps: cfg.maxSteps, maxRejects: cfg.maxRejects, what: 'ffjord' })[0];
      } catch (e) {
        if (!(e instanceof OdeStepError)) throw e;
        const where = inverse ? T - e.t : e.t;
        const dir = inverse ? `inverse, t from ${T} to 0` : `forward, t from 0 to ${T}`;
        const why = e.reason === 'maxSteps' ? `did not converge within its step budget of ${cfg.maxSteps} steps` : `rejected ${cfg.maxRejects} trial steps in a row`;
        throw new OdeStepError(`ffjord: the ODE (${dir}) ${why}: stopped at t = ${where}, step size ${e.dt} (rtol ${cfg.rtol}, atol ${cfg.atol}); raise maxSteps, loosen the tolerances, or keep the dynamics smoother`, e.reason, where, e.dt, inverse ? 0 : T);
      }
    }
    return [reshape(sliceLast(sT, 0, d), x.shape), reshape(sliceLast(sT, d, 1), lead)];
  }
}

/** Hairer, Nørsett & Wanner's initial step (II.4, "starting step size"), in the solver's norm. */
function initialStep(rhs: (t: number, s: Tensor) => Tensor, alg: OdeAlgebra<Tensor>, cfg: Config): (t0: number, x0: Tensor, f0: Tensor) => number {
  return (t0, x0, f0) => {
    const scale = add(mul(abs(x0), cfg.rtol), cfg.atol);
    const norm = (v: Tensor): number => rowRmsMax(div(v, scale));
    const d0 = norm(x0);
    const d1 = norm(f0);
    const h0 = d0 < 1e-5 || d1 < 1e-5 ? 1e-6 : (0.01 * d0) / d1;
    const f1 = rhs(t0 + h0, alg.comb(x0, h0, [1], [f0]));
    const d2 = norm(sub(f1, f0)) / h0;
    const h1 = Math.max(d1, d2) <= 1e-15 ? Math.max(1e-6, h0 * 1e-3) : Math.pow(0.01 / Math.max(d1, d2), 1 / 5);
    return Math.min(100 * h0, h1, cfg.T);
  };
}

/**
 * A continuous normalizing flow layer (FFJORD): forward integrates dz/dt = f(z, t) from 0 to T,
 * inverse from T to 0, each with the log-determinant ∫ tr(∂f/∂z) dt (forward) or its negative
 * (inverse) from the same solve. In training mode (the default) the trace is Hutchinson's
 * estimate with one probe per solve (unbiased; `trainTrace`), in evaluation mode the exact trace
 * (`evalTrace`); `Flow.eval()` and `fitFlow` switch modes. The default field is
 * {@link concatSquashField}; any {@link VectorField} can be given. Adaptive dopri5 by default
 * (rtol = atol = 1e-5, at most `maxSteps` accepted steps: beyond that an OdeStepError names the
 * layer, the time reached and the step size), or fixed-step RK4. Gradients flow through the
 * solver's steps (see the file's comment for why not the adjoint). Shapes: [..., d] → [..., d],
 * ladj [...]; a conditional field takes a context [..., c].
 * @example
 * const cnf = ffjord(2, { hidden: [64, 64] });
 * const f = new Flow([cnf]);
 * const r = fitFlow(f, moons, { compile: false, epochs: 20 });
 * f.apply(r.params).logProb(test); // exact trace: f is in eval mode after fitFlow
 */
export function ffjord(features: number, opts: FFJORDOptions = {}): FFJORDLayer {
  checkFeatures('ffjord', features);
  const field = opts.field ?? concatSquashField(features, { hidden: opts.hidden, activation: opts.activation, contextFeatures: opts.contextFeatures });
  if (field.features !== features) throw new ValueError(`ffjord: the field has ${field.features} features, the layer ${features}`);
  const cfg: Config = {
    field,
    T: opts.T ?? 1,
    solver: opts.solver ?? 'dopri5',
    rtol: opts.rtol ?? 1e-5,
    atol: opts.atol ?? 1e-5,
    maxSteps: opts.maxSteps ?? 1000,
    maxRejects: opts.maxRejects ?? 100,
    steps: opts.steps ?? 20,
    trainTrace: opts.trainTrace ?? 'hutchinson',
    evalTrace: opts.evalTrace ?? 'exact',
    noise: opts.noise ?? 'rademacher',
    key: opts.key ?? makeKey(0),
  };
  if (!(cfg.T > 0) || !Number.isFinite(cfg.T)) throw new ValueError(`ffjord: T must be positive and finite, got ${cfg.T}`);
  if (cfg.solver !== 'dopri5' && cfg.solver !== 'rk4') throw new ValueError(`ffjord: solver must be 'dopri5' or 'rk4', got '${String(cfg.solver)}'`);
  if (!(cfg.rtol > 0) || !(cfg.atol > 0)) throw new ValueError(`ffjord: rtol and atol must be positive, got ${cfg.rtol} and ${cfg.atol}`);
  for (const [n, v] of [['maxSteps', cfg.maxSteps], ['maxRejects', cfg.maxRejects], ['steps', cfg.steps]] as const)
    if (!Number.isInteger(v) || v < 1) throw new ValueError(`ffjord: ${n} must be a positive integer, got ${v}`);
  for (const [n, v] of [['trainTrace', cfg.trainTrace], ['evalTrace', cfg.evalTrace]] as const)
    if (v !== 'hutchinson' && v !== 'exact') throw new ValueError(`ffjord: ${n} must be 'hutchinson' or 'exact', got '${String(v)}'`);
  if (cfg.noise !== 'rademacher' && cfg.noise !== 'gaussian') throw new ValueError(`ffjord: noise must be 'rademacher' or 'gaussian', got '${String(cfg.noise)}'`);
  const state: State = { training: true, draws: 0, nfe: 0 };
  const layer: FFJORDLayer = {
    name: 'ffjord',
    features,
    contextFeatures: field.contextFeatures,
    field,
    get training() {
      return state.training;
    },
    get lastNfe() {
      return state.nfe;
    },
    ...modeSwitch(state, () => layer),
    init: (k: Key, dtype: FloatDType) => field.init(k, dtype),
    bind(p: unknown, context?: Tensor): FlowTransform {
      checkContext('ffjord', field.contextFeatures, context);
      return new FFJORDTransform(features, p, context, cfg, state);
    },
  };
  return layer;
}
