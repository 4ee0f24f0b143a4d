/**
 * Conditional flow matching (Lipman, Chen, Ben-Hamu, Nickel & Le, ICLR 2023) with the straight
 * (optimal-transport / rectified-flow, Liu, Gong & Liu 2023) path: train a vector field v(x, t)
 * by regression on the velocity of x_t = (1 − (1 − σ_min)·t)·x₀ + t·x₁, x₀ ~ N(0, I), x₁ a data
 * row, whose velocity is u = x₁ − (1 − σ_min)·x₀. No ODE is solved in training; the trained field
 * is an FFJORD layer's field, so sampling integrates it from noise (t: 0 → 1) and the exact
 * log-likelihood is the instantaneous change of variables of that solve (`ffjord`'s inverse with
 * the exact trace).
 */
import { valueAndGrad } from '../core/autodiff.js';
import { ShapeError, ValueError, VarinfError, fmtShape } from '../core/errors.js';
import { tidy, keep } from '../core/memory.js';
import type { Tensor } from '../core/tensor.js';
import { leaves } from '../core/tree.js';
import { compile } from '../compile/compile.js';
import { add, mul, square, sub } from '../ops/elementwise.js';
import { mean, sum } from '../ops/reduce.js';
import { gather } from '../ops/shape.js';
import { indicesLike } from '../bijectors/transform.js';
import { adam } from '../optim/alias.js';
import { applyUpdates, type GradientTransformation } from '../optim/transform.js';
import { foldIn, key as makeKey, split, type Key } from '../random/key.js';
import { normal, uniform, type FloatDType } from '../random/samplers.js';
import { ffjord, type FFJORDLayer, type FFJORDOptions } from './ffjord.js';
import { Flow } from './flow.js';
import type { VectorField } from './vector-field.js';

/**
 * The straight conditional path between noise x₀ and data x₁ at times t [B, 1]:
 * x_t = (1 − (1 − σ_min)·t)·x₀ + t·x₁ and its velocity u = x₁ − (1 − σ_min)·x₀ (σ_min = 0 is
 * rectified flow's linear interpolant).
 * @example const { xt, ut } = straightPath(x0, x1, t); // [B, d], [B, d]
 */
export function straightPath(
  x0: Tensor,
  x1: Tensor,
  t: Tensor,
  sigmaMin = 0,
): {
  /** The point on the path at t, [B, d]. */
  xt: Tensor;
  /** Its velocity d x_t / dt, [B, d]. */
  ut: Tensor;
} {
  if (!(sigmaMin >= 0 && sigmaMin < 1)) throw new ValueError(`straightPath: sigmaMin must be in [0, 1), got ${sigmaMin}`);
  const a = 1 - sigmaMin;
  return { xt: add(mul(x0, sub(1, mul(t, a))), mul(x1, t)), ut: sub(x1, mul(x0, a)) };
}

/** Options of {@link cfmLoss}. */
export interface CFMLossOptions {
  /** σ_min of the path; default 0 (rectified flow). */
  sigmaMin?: number;
  /** Context rows [B, c] for a conditional field. */
  context?: Tensor;
}

/**
 * The conditional flow-matching loss of a batch x₁ [B, d]: with x₀ ~ N(0, I) and t ~ U(0, 1) per
 * row (both from `k`), the mean over rows of ‖v(x_t, t) − u‖² along {@link straightPath}.
 * @example const loss = cfmLoss(field, params, batch, foldIn(key(0), step));
 */
export function cfmLoss<P>(field: VectorField<P>, params: P, x1: Tensor, k: Key, opts: CFMLossOptions = {}): Tensor {
  if (x1.rank !== 2 || x1.shape[1] !== field.features) throw new ShapeError(`cfmLoss: data of shape ${fmtShape(x1.shape)} must be [B, ${field.features}]`);
  const [B] = x1.shape;
  const dtype = x1.dtype as FloatDType;
  const [k0, kt] = split(k, 2);
  const x0 = normal(k0, [B, field.features], { dtype });
  const t = uniform(kt, [B, 1], { dtype });
  const { xt, ut } = straightPath(x0, x1, t, opts.sigmaMin ?? 0);
  return mean(sum(square(sub(field.eval(params, xt, t, opts.context).f, ut)), -1));
}

/** Options of {@link fitFlowMatching}. */
export interface FitFlowMatchingOptions extends Omit<CFMLossOptions, 'context'> {
  /** Optimizer steps; default 2000. */
  steps?: number;
  /** Rows per step (drawn without replacement within a pass); default 256. */
  batchSize?: number;
  /** Adam's learning rate when no optimizer is given; default 1e-3. */
  lr?: number;
  /** The optimizer; default `adam(lr)`. */
  optimizer?: GradientTransformation;
  /** Randomness for initialization, batches, noise and times; default key(0). */
  key?: Key;
  /** Starting parameters; default `field.init` in the data's dtype. */
  params?: unknown;
  /** Compile the step (default true). */
  compile?: boolean;
}

/** What {@link fitFlowMatching} returns. */
export interface FitFlowMatchingResult<P> {
  /** The trained field's parameters. */
  params: P;
  /** The loss of every step. */
  losses: Float64Array;
  /** Whether the steps ran compiled. */
  compiled: boolean;
}

/**
 * Trains a vector field by conditional flow matching on the rows of `data` ([n, d]), with Adam
 * on {@link cfmLoss} over minibatches, the step compiled (keys are inputs of the compiled step, so
 * every step draws fresh noise and times). A non-finite loss raises a VarinfError naming the step.
 * @example
 * const field = concatSquashField(2, { hidden: [64, 64] });
 * const r = fitFlowMatching(field, data, { steps: 3000 });
 * const flow = flowMatchingFlow(field); // sample and score with r.params
 * flow.apply([r.params]).logProb(test);
 */
export function fitFlowMatching<P>(field: VectorField<P>, data: Tensor, opts: FitFlowMatchingOptions = {}): FitFlowMatchingResult<P> {
  if (data.rank !== 2 || data.shape[1] !== field.features) throw new ShapeError(`fitFlowMatching: data must be [n, ${field.features}], got ${fmtShape(data.shape)}`);
  if (field.contextFeatures > 0) throw new ValueError('fitFlowMatching: the field is conditional; train it with cfmLoss and its context');
  const { steps = 2000, batchSize = 256, lr = 1e-3 } = opts;
  for (const [n, v] of [['steps', steps], ['batchSize', batchSize]] as const) if (!Number.isInteger(v) || v < 1) throw new ValueError(`fitFlowMatching: ${n} must be a positive integer, got ${v}`);
  const k = opts.key ?? makeKey(0);
  const n = data.shape[0];
  const bs = Math.min(batchSize, n);
  const optim = opts.optimizer ?? adam(lr);
  let params = (opts.params as P | undefined) ?? field.init(foldIn(k, 1), data.dtype as FloatDType);
  let optState = optim.init(params);
  const sigmaMin = opts.sigmaMin ?? 0;
  type S = { params: P; optState: unknown };
  const stepFn = (s: S, x: Tensor, sk: Key): [S, Tensor] => {
    const [loss, g] = valueAndGrad((p: P) => cfmLoss(field, p, x, sk, { sigmaMin }))(s.params);
    const [u, o] = optim.update(g, s.optState, s.params);
    return [{ params: applyUpdates(s.params, u), optState: o }, loss];
  };
  const compiled = opts.compile === false ? null : compile(stepFn);
  let order: number[] = [];
  const losses = new Float64Array(steps);
  for (let s = 0; s < steps; s++) {
    if (order.length < bs) {
      const u = uniform(foldIn(k, 1_000_000 + s), [n], { dtype: 'float64' }).dataSync();
      order = Array.from({ length: n }, (_, i) => i).sort((a, b) => u[a] - u[b]);
    }
    const xb = gather(data, indicesLike(order.splice(0, bs), data), 0);
    const sk = foldIn(k, 2 + s);
    const out = compiled !== null ? compiled({ params, optState }, xb, sk) : tidy(() => keepAll(stepFn({ params, optState }, xb, sk)));
    const l = out[1].item();
    if (!Number.isFinite(l)) throw new VarinfError(`fitFlowMatching: the loss is ${l} at step ${s}; the parameters were not updated (lower lr)`);
    losses[s] = l;
    params = out[0].params;
    optState = out[0].optState;
  }
  return { params, losses, compiled: compiled !== null };
}

function keepAll<T>(o: T): T {
  for (const t of leaves(o)) keep(t);
  return o;
}

/**
 * The flow a flow-matching field defines: one FFJORD layer with that field over t ∈ [0, 1] (noise
 * at 0, data at 1), in eval mode with the exact trace, so `apply([params]).logProb(x)` is the
 * exact log-likelihood by the instantaneous change of variables (to the solver's tolerance) and
 * `rsample` integrates the ODE from noise. Its parameters are `[fieldParams]`.
 * @example const q = flowMatchingFlow(field).apply([r.params]); q.logProb(test); q.sample(key(1), [500]);
 */
export function flowMatchingFlow(
  field: VectorField,
  opts: Omit<FFJORDOptions, 'field' | 'T'> = {},
): Flow & {
  /** The FFJORD layer (its `lastNfe` counts the field evaluations of the last solve). */
  readonly cnf: FFJORDLayer;
} {
  const cnf = ffjord(field.features, { rtol: 1e-6, atol: 1e-6, trainTrace: 'exact', evalTrace: 'exact', ...opts, field, T: 1 });
  cnf.eval();
  return Object.assign(new Flow([cnf]), { cnf });
}
