/** Clipping and the non-finite guard. */
import { ValueError } from '../core/errors.js';
import type { Tensor } from '../core/tensor.js';
import { leaves, mapLeaves } from '../core/tree.js';
import { add, cast, clamp, div, maximum, mul, sqrt, square } from '../ops/elementwise.js';
import { sum } from '../ops/reduce.js';
import { zeros, zerosLike } from '../ops/creation.js';
import type { GradientTransformation, OptState } from './transform.js';

/**
 * √(Σ‖g‖²) over every leaf, as a scalar tensor.
 * @example globalNorm({ a: tensor([3]), b: tensor([4]) }).item() // 5
 */
export function globalNorm(tree: unknown): Tensor {
  const ls = leaves(tree);
  if (ls.length === 0) throw new ValueError('globalNorm: the tree has no tensors');
  let acc = sum(square(ls[0]));
  for (let i = 1; i < ls.length; i++) acc = add(acc, sum(square(ls[i])));
  return sqrt(acc);
}

/**
 * Rescales all updates together so their global norm is at most `maxNorm` (no host sync).
 * @example chain(clipByGlobalNorm(1), scaleByAdam(), scaleByLearningRate(1e-3))
 */
export function clipByGlobalNorm(maxNorm: number): GradientTransformation<Record<string, never>> {
  if (!(maxNorm > 0)) throw new ValueError(`clipByGlobalNorm: maxNorm must be > 0, got ${maxNorm}`);
  return {
    init: () => ({}),
    update(u, s) {
      const n = globalNorm(u);
      const factor = div(maxNorm, maximum(n, maxNorm));
      return [mapLeaves(u, (g) => mul(g, factor)), s];
    },
  };
}

/**
 * Clips each update element to [−maxDelta, maxDelta].
 * @example chain(clipByValue(0.5), scaleByLearningRate(0.1))
 */
export function clipByValue(maxDelta: number): GradientTransformation<Record<string, never>> {
  if (!(maxDelta > 0)) throw new ValueError(`clipByValue: maxDelta must be > 0, got ${maxDelta}`);
  return {
    init: () => ({}),
    update: (u, s) => [mapLeaves(u, (g) => clamp(g, -maxDelta, maxDelta)), s],
  };
}

/** The state of {@link skipNonFinite}: the wrapped transformation's state and skip bookkeeping. */
export interface GuardState {
  /** The wrapped transformation's state, left unchanged by a skipped update. */
  inner: OptState;
  /** Updates skipped so far because a gradient held NaN or ±Inf. */
  skipped: number;
  /** The step (0-based count of updates seen) of the last skip, or −1. */
  lastSkippedStep: number;
  /** Updates seen so far, skipped ones included. */
  step: number;
}

/**
 * 0 when every element of every leaf is finite, else NaN, as a float64 scalar tensor (x·0 is 0
 * for finite x and NaN for NaN or ±Inf, so one sum answers for a whole leaf). Traceable: compiled
 * steps return it as their acceptance flag.
 * @example finiteFlag([tensor([1, NaN])]).item() // NaN
 */
export function finiteFlag(tree: unknown): Tensor {
  let acc: Tensor | null = null;
  for (const l of leaves(tree)) {
    let z = sum(mul(l, 0));
    if (z.dtype !== 'float64') z = cast(z, 'float64');
    acc = acc === null ? z : add(acc, z);
  }
  return acc ?? zeros([]);
}

/**
 * Whether every element of every leaf is finite. Host tensors are scanned where they lie (no
 * kernels, no temporaries: eager SVI checks its gradients and parameters every step); with a
 * device or bfloat16 leaf, one scalar ({@link finiteFlag}) is read back instead.
 * @example allFinite({ w: tensor([1, Infinity]) }) // false
 */
export function allFinite(tree: unknown): boolean {
  const ls = leaves(tree);
  if (!ls.every((l) => l.device === 'cpu' && l.dtype !== 'bfloat16')) return Number.isFinite(finiteFlag(tree).item());
  for (const l of ls) {
    if (l.dtype === 'int32') continue;
    const d = l.dataSync();
    // x − x is 0 for finite x and NaN for NaN and ±Inf.
    for (let i = 0; i < d.length; i++) if (d[i] - d[i] !== 0) return false;
  }
  return true;
}

/**
 * Wraps a transformation so that an update whose gradients contain NaN or ±Inf is skipped: the
 * updates come out as zeros, the inner state is left as it was, and `onSkip` is told the step.
 * @example const opt = skipNonFinite(adam(1e-3), (step) => console.warn(`skipped step ${step}`));
 */
export function skipNonFinite(
  inner: GradientTransformation,
  onSkip?: (step: number) => void,
): GradientTransformation<GuardState> {
  return {
    init: (params) => ({ inner: inner.init(params), skipped: 0, lastSkippedStep: -1, step: 0 }),
    update(u, s, params) {
      if (!allFinite(u)) {
        onSkip?.(s.step);
        return [mapLeaves(u, (g) => zerosLike(g)), { ...s, skipped: s.skipped + 1, lastSkippedStep: s.step, step: s.step + 1 }];
      }
      const [nu, ns] = inner.update(u, s.inner, params);
      return [nu, { inner: ns, skipped: s.skipped, lastSkippedStep: s.lastSkippedStep, step: s.step + 1 }];
    },
  };
}
