/**
 * Gradient transformations in the shape of Optax: an optimizer is an `{init, update}` pair over
 * pytrees, and optimizers are built by chaining small transformations, e.g.
 * `adam(lr) = chain(scaleByAdam(), scaleByLearningRate(lr))`. Updates are added to parameters
 * with `applyUpdates`. State is a plain pytree of tensors and numbers, so it saves and loads.
 * Step counters are float64 scalar tensors (not JS numbers), so that an update traced by
 * `compile` reads the count from the state instead of baking it in.
 */
import { ShapeError, ValueError, fmtShape } from '../core/errors.js';
import type { DType } from '../core/dtype.js';
import type { Tensor } from '../core/tensor.js';
import { leaves, mapLeaves } from '../core/tree.js';
import { scalar } from '../ops/creation.js';
import { add, cast, mul, neg } from '../ops/elementwise.js';
import { CompileError } from '../compile/errors.js';
import { isTracing } from '../compile/recorder.js';
import type { ScheduleFn } from './schedules.js';

/** Optimizer state: nested records of tensors, numbers and arrays. */
export type OptState = unknown;

/** A gradient transformation: `update` maps gradients (or updates) to new updates. */
export interface GradientTransformation<S = OptState> {
  /** The initial state for parameters `params`. */
  init(params: unknown): S;
  /** Transforms `updates` (gradients at first) given the state and, optionally, the parameters. */
  update<P>(updates: P, state: S, params?: P): [P, S];
}

/** A learning rate that may depend on the step count (0-based). */
export type Schedule = number | ((step: number) => number);

/**
 * The learning rate of `s` at `step` (0-based): `s` itself when it is a number, else `s(step)`.
 * @example evalSchedule((t) => 0.1 / (1 + t), 9) // 0.01
 */
export function evalSchedule(s: Schedule, step: number): number {
  return typeof s === 'number' ? s : s(step);
}

/**
 * Applies transformations in sequence; the state is the tuple of their states.
 * @example const opt = chain(scaleByAdam(), scaleByLearningRate(1e-3)); // = adam(1e-3)
 */
export function chain(...ts: GradientTransformation[]): GradientTransformation<OptState[]> {
  return {
    init: (params) => ts.map((t) => t.init(params)),
    update<P>(updates: P, state: OptState[], params?: P): [P, OptState[]] {
      const next: OptState[] = [];
      let u = updates;
      for (let i = 0; i < ts.length; i++) {
        const [nu, ns] = ts[i].update(u, state[i], params);
        u = nu;
        next.push(ns);
      }
      return [u, next];
    },
  };
}

/**
 * The leaves of `tree` (gradients or updates), checked against `ref` (the optimizer's state or the
 * parameters, in `leaves` order): the same number and the same shapes, so a state made for another
 * model, or gradients of another tree, raise a ShapeError naming `op` instead of broadcasting.
 */
export function checkLeaves(op: string, tree: unknown, ref: readonly Tensor[], refName: string): Tensor[] {
  const ls = leaves(tree);
  if (ls.length !== ref.length) throw new ShapeError(`${op}: the gradients/updates have ${ls.length} tensors but ${refName} has ${ref.length}; was it made for another model?`);
  for (let i = 0; i < ls.length; i++) {
    const a = ls[i].shape;
    const b = ref[i].shape;
    if (a.length !== b.length || a.some((d, j) => d !== b[j]))
      throw new ShapeError(`${op}: tensor ${i} of the gradients/updates has shape ${fmtShape(a)}, but its counterpart in ${refName} has ${fmtShape(b)}`);
  }
  return ls;
}

/** params + updates, leaf by leaf (the trees must match in leaves and shapes). */
export function applyUpdates<P>(params: P, updates: P): P {
  const us = checkLeaves('applyUpdates', updates, leaves(params), 'the parameters');
  return mapLeaves(params, (p, i) => add(p, us[i]));
}

/**
 * Multiplies updates by a constant.
 * @example chain(scaleByAdam(), scaleBy(-1e-3))
 */
export function scaleBy(factor: number): GradientTransformation<Record<string, never>> {
  return {
    init: () => ({}),
    update: (u, s) => [mapLeaves(u, (g) => mul(g, factor)), s],
  };
}

/**
 * A new step counter: a float64 scalar tensor holding 0.
 * @example zeroCount().item() // 0
 */
export function zeroCount(): Tensor {
  return scalar(0, 'float64');
}

/**
 * `x` (a float64 scalar) in `dtype`, cast once per dtype.
 * @example const c = castCached(scalar(0.5)); c('float32') // the same float32 scalar on every call
 */
export function castCached(x: Tensor): (dtype: DType) => Tensor {
  const byDtype = new Map<DType, Tensor>();
  return (dtype) => {
    let t = byDtype.get(dtype);
    if (t === undefined) {
      t = dtype === x.dtype ? x : cast(x, dtype);
      byDtype.set(dtype, t);
    }
    return t;
  };
}

/** The state of `scaleByLearningRate`: the number of updates so far (float64 scalar). */
/** The state of {@link scaleByLearningRate}. */
export interface CountState {
  /** Updates so far, a float64 scalar tensor (the step a schedule is evaluated at). */
  count: Tensor;
}

/**
 * Multiplies updates by −lr(step): the last link of a descent optimizer. A schedule with a tensor
 * form (every built-in schedule, or one made with `tensorSchedule`) is evaluated with tensor ops
 * from the count in the state, so it compiles; a plain `(step) => number` callback reads the
 * count back to the host, which works eagerly but raises a `CompileError` naming it under
 * `compile` (wrap it with `tensorSchedule` to compile it).
 * @example chain(scaleByAdam(), scaleByLearningRate(cosineDecay(1e-3, 10000)))
 */
export function scaleByLearningRate(lr: Schedule): GradientTransformation<CountState> {
  if (typeof lr === 'number' && !(lr >= 0)) throw new ValueError(`scaleByLearningRate: learning rate must be >= 0, got ${lr}`);
  return {
    init: () => ({ count: zeroCount() }),
    update: (u, s) => {
      const next = add(s.count, 1);
      if (typeof lr === 'number') return [mapLeaves(u, (g) => mul(g, -lr)), { count: next }];
      const tf = (lr as ScheduleFn).tensor;
      if (tf === undefined) {
        if (isTracing())
          throw new CompileError(
            `scaleByLearningRate: the learning-rate schedule '${lr.name || 'anonymous'}' is a plain (step: number) => number function, ` +
              'which compile cannot trace; use a built-in schedule or wrap it with tensorSchedule(fn, (count) => tensorExpr)',
          );
        const r = -lr(s.count.item());
        return [mapLeaves(u, (g) => mul(g, r)), { count: next }];
      }
      const rate = castCached(neg(tf(s.count)));
      return [mapLeaves(u, (g) => mul(g, rate(g.dtype))), { count: next }];
    },
  };
}

/**
 * Map a pytree's leaves pairwise with another pytree of the same structure.
 * @example zipLeaves(params, grads, (p, g) => mul(p, g))
 */
export function zipLeaves<P>(a: P, b: unknown, f: (x: Tensor, y: Tensor) => Tensor): P {
  const bs = leaves(b);
  return mapLeaves(a, (x, i) => f(x, bs[i]));
}
