/**
 * The module contract, in the functional style of Flax and Equinox: a module holds only its
 * configuration (and constants such as masks); `init(key)` makes its parameters as a pytree of
 * tensors and `apply(params, x, opts)` is a pure function of them, so `valueAndGrad` over the
 * parameters and any optimizer from `optim` work on it directly.
 */
import { ShapeError, ValueError, fmtShape } from '../core/errors.js';
import type { Tensor } from '../core/tensor.js';
import { leaves } from '../core/tree.js';
import { reshape } from '../ops/shape.js';
import { foldIn, split, type Key } from '../random/key.js';

/** Options every `apply` takes. */
export interface ApplyOptions {
  /** Training mode: dropout is active (and needs `key`). Default false. */
  training?: boolean;
  /** Randomness for stochastic layers (dropout); containers derive one key per child. */
  key?: Key;
}

/**
 * A functional module: `init` creates parameters, `apply` maps (params, input) to output.
 * @example
 * const lin = Linear(3, 2);
 * const p = lin.init(key(0));
 * const y = lin.apply(p, x); // x: [batch, 3] → y: [batch, 2]
 */
export interface Module<P = unknown, X = Tensor, Y = Tensor, O extends ApplyOptions = ApplyOptions> {
  /** Fresh parameters drawn with key `k`. */
  init(k: Key): P;
  /** The output for input `x` under parameters `params` (pure: no state changes). */
  apply(params: P, x: X, opts?: O): Y;
}

/** Parameters of a module that has none. */
export type NoParams = Record<string, never>;

/**
 * Total number of scalar parameters: Σ over the tensor leaves of the pytree of their sizes.
 * @example paramCount(Linear(784, 400).init(key(0))) // 314000
 */
export function paramCount(params: unknown): number {
  let n = 0;
  for (const t of leaves(params)) n += t.size;
  return n;
}

/**
 * Chains modules: y = fₙ(… f₂(f₁(x))). Parameters are the array of the children's parameters;
 * with `opts.key`, child i gets `foldIn(key, i)`.
 * @example const net = Sequential([Linear(4, 8), Lambda(relu), Linear(8, 1)])
 */
export function Sequential(layers: readonly Module[]): Module<unknown[]> & {
  /** The child modules, in application order. */
  readonly layers: readonly Module[];
} {
  return {
    layers,
    init(k: Key): unknown[] {
      const ks = layers.length > 0 ? split(k, layers.length) : [];
      return layers.map((m, i) => m.init(ks[i]));
    },
    apply(params: unknown[], x: Tensor, opts: ApplyOptions = {}): Tensor {
      if (!Array.isArray(params) || params.length !== layers.length)
        throw new ValueError(`Sequential: expected ${layers.length} parameter entries, got ${Array.isArray(params) ? params.length : typeof params}`);
      let y = x;
      for (let i = 0; i < layers.length; i++) {
        const o = opts.key === undefined ? opts : { ...opts, key: foldIn(opts.key, i) };
        y = layers[i].apply(params[i], y, o);
      }
      return y;
    },
  };
}

/**
 * A parameter-free module from a function, e.g. an activation inside `Sequential`.
 * @example Sequential([Linear(4, 8), Lambda(tanh)])
 */
export function Lambda(fn: (x: Tensor) => Tensor): Module<NoParams> {
  return {
    init: () => ({}),
    apply: (_p, x) => fn(x),
  };
}

/**
 * Flattens axes `startAxis` onward: [d₀, …, d_{s−1}, d_s, …] → [d₀, …, d_{s−1}, Π d_{s:}].
 * @example Flatten().apply({}, x) // [N, C, H, W] → [N, C·H·W]
 */
export function Flatten(startAxis = 1): Module<NoParams> {
  return {
    init: () => ({}),
    apply: (_p, x) => {
      if (startAxis < 0 || startAxis >= x.shape.length) throw new ShapeError(`Flatten: startAxis ${startAxis} is out of range for shape ${fmtShape(x.shape)}`);
      return reshape(x, [...x.shape.slice(0, startAxis), -1]);
    },
  };
}
