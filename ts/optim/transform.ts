/**
 * Gradient transformations in the shape of Optax: an optimizer is an `{init, update}` pair over
 * pytrees, and optimizers are built by chaining small transformations, e.g.
 * `adam(lr) = chain(scaleByAdam(), scaleByLearningRate(lr))`. Updates are added to parameters
 * with `applyUpdates`. State is a plain pytree of tensors and numbers, so it saves and loads.
 */
import { ValueError } from '../core/errors.js';
import type { Tensor } from '../core/tensor.js';
import { leaves, mapLeaves } from '../core/tree.js';
import { add, mul } from '../ops/elementwise.js';

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

export function evalSchedule(s: Schedule, step: number): number {
  return typeof s === 'number' ? s : s(step);
}

/** Applies transformations in sequence; the state is the tuple of their states. */
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

/** params + updates, leaf by leaf. */
export function applyUpdates<P>(params: P, updates: P): P {
  const us = leaves(updates);
  return mapLeaves(params, (p, i) => add(p, us[i]));
}

/** Multiplies updates by a constant. */
export function scaleBy(factor: number): GradientTransformation<Record<string, never>> {
  return {
    init: () => ({}),
    update: (u, s) => [mapLeaves(u, (g) => mul(g, factor)), s],
  };
}

/** Multiplies updates by −lr(step): the last link of a descent optimizer. */
export function scaleByLearningRate(lr: Schedule): GradientTransformation<{ count: number }> {
  if (typeof lr === 'number' && !(lr >= 0)) throw new ValueError(`scaleByLearningRate: learning rate must be >= 0, got ${lr}`);
  return {
    init: () => ({ count: 0 }),
    update: (u, s) => {
      const r = evalSchedule(lr, s.count);
      return [mapLeaves(u, (g) => mul(g, -r)), { count: s.count + 1 }];
    },
  };
}

/** Map a pytree's leaves pairwise with another pytree of the same structure. */
export function zipLeaves<P>(a: P, b: unknown, f: (x: Tensor, y: Tensor) => Tensor): P {
  const bs = leaves(b);
  return mapLeaves(a, (x, i) => f(x, bs[i]));
}
