/** Dense layers: Linear and the multilayer perceptron. */
import { DTypeError, ShapeError, ValueError, fmtShape } from '../core/errors.js';
import type { Tensor } from '../core/tensor.js';
import { add } from '../ops/elementwise.js';
import { matmul } from '../ops/linalg.js';
import { reshape } from '../ops/shape.js';
import { split, type Key } from '../random/key.js';
import type { FloatDType } from '../random/samplers.js';
import { activation, type Activation } from './activations.js';
import { defaultBiasInit, defaultWeightInit, type Initializer } from './init.js';
import type { ApplyOptions, Module } from './module.js';

/** Parameters of `Linear`: weight [out, in] and, unless disabled, bias [out]. */
export interface LinearParams {
  /** The weight W, [out, in]: y = x Wᵀ + b. */
  weight: Tensor;
  /** The bias b, [out]; absent when the layer has no bias. */
  bias?: Tensor;
}

/** Options of `Linear`. */
export interface LinearOptions {
  /** Whether to add a bias; default true. */
  bias?: boolean;
  /** Parameter dtype; default float32. */
  dtype?: FloatDType;
  /** Weight initializer; default PyTorch's, U(±1/√in). */
  weightInit?: Initializer;
  /** Bias initializer; default PyTorch's, U(±1/√in). */
  biasInit?: Initializer;
}

/**
 * The affine map of `Linear` as a function: y = x·Wᵀ + b for W [out, in] and b [out] (optional);
 * x [..., in] → [..., out]. Errors name `op`.
 * @example linear(x, w, b) // x [n, 3], w [2, 3], b [2] → [n, 2]
 */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor, op = 'linear'): Tensor {
  const inF = weight.shape[1];
  if (weight.shape.length !== 2) throw new ShapeError(`${op}: weight must be [out, in], got ${fmtShape(weight.shape)}`);
  if (x.shape.length === 0 || x.shape[x.shape.length - 1] !== inF)
    throw new ShapeError(`${op}: input ${fmtShape(x.shape)} must end in ${inF} features (weight ${fmtShape(weight.shape)})`);
  if (x.dtype !== weight.dtype) throw new DTypeError(`${op}: input is ${x.dtype} but the weight is ${weight.dtype}`);
  // Fold every batch axis into one so the product is a single 2-D matmul (and its weight gradient too).
  const flat = x.shape.length > 2 ? reshape(x, [-1, inF]) : x;
  let y = matmul(flat, weight, { transB: true });
  if (bias !== undefined) y = add(y, bias);
  return flat === x ? y : reshape(y, [...x.shape.slice(0, -1), weight.shape[0]]);
}

/**
 * A fully connected layer, PyTorch's convention: y = x·Wᵀ + b with W of shape [out, in] and b of
 * shape [out]. Input [..., in] (any number of batch axes, or none) → output [..., out].
 * @example
 * const lin = Linear(3, 2);
 * const p = lin.init(key(0)); // { weight: [2, 3], bias: [2] }
 * lin.apply(p, zeros([5, 3], 'float32')); // [5, 2]
 */
export function Linear(inFeatures: number, outFeatures: number, opts: LinearOptions = {}): Module<LinearParams> & {
  /** Input width: the last axis of x. */
  readonly inFeatures: number;
  /** Output width: the last axis of y. */
  readonly outFeatures: number;
} {
  for (const [name, v] of [['inFeatures', inFeatures], ['outFeatures', outFeatures]] as const)
    if (!Number.isInteger(v) || v < 0) throw new ValueError(`Linear: ${name} must be a non-negative integer, got ${v}`);
  const { bias = true, dtype = 'float32', weightInit = defaultWeightInit, biasInit = defaultBiasInit(inFeatures) } = opts;
  return {
    inFeatures,
    outFeatures,
    init(k: Key): LinearParams {
      const [kw, kb] = split(k, 2);
      const weight = weightInit(kw, [outFeatures, inFeatures], dtype);
      return bias ? { weight, bias: biasInit(kb, [outFeatures], dtype) } : { weight };
    },
    apply: (p, x) => linear(x, p.weight, p.bias, 'Linear'),
  };
}

/** Options of `MLP`. */
export interface MLPOptions extends LinearOptions {
  /** Activation after every hidden layer; default 'relu'. */
  activation?: Activation;
  /** Activation after the last layer; default 'identity'. */
  finalActivation?: Activation;
}

/**
 * A multilayer perceptron with layer widths `sizes` = [in, h₁, …, out]:
 * h₀ = x, h_l = act(Linear_l(h_{l−1})) for hidden layers, y = finalAct(Linear_L(h_{L−1})).
 * Parameters are the array of the layers' `LinearParams`. Input [..., in] → [..., out].
 * @example
 * const net = MLP([2, 16, 1], { activation: 'tanh' });
 * const y = net.apply(net.init(key(0)), x); // x [n, 2] → y [n, 1]
 */
export function MLP(sizes: readonly number[], opts: MLPOptions = {}): Module<LinearParams[]> & {
  /** The layer widths [in, h₁, …, out]. */
  readonly sizes: readonly number[];
  /** The activation between layers. */
  readonly activation: Activation;
  /** The activation after the last layer. */
  readonly finalActivation: Activation;
  /** Whether the layers have biases. */
  readonly bias: boolean;
} {
  if (sizes.length < 2) throw new ValueError(`MLP: sizes needs at least [in, out], got [${sizes.join(', ')}]`);
  const layers = sizes.slice(1).map((out, i) => Linear(sizes[i], out, opts));
  const act = activation(opts.activation ?? 'relu');
  const fin = activation(opts.finalActivation ?? 'identity');
  return {
    sizes: sizes.slice(),
    activation: opts.activation ?? 'relu',
    finalActivation: opts.finalActivation ?? 'identity',
    bias: opts.bias ?? true,
    init(k: Key): LinearParams[] {
      const ks = split(k, layers.length);
      return layers.map((l, i) => l.init(ks[i]));
    },
    apply(params: LinearParams[], x: Tensor, _opts?: ApplyOptions): Tensor {
      if (!Array.isArray(params) || params.length !== layers.length)
        throw new ValueError(`MLP: expected ${layers.length} layer parameters, got ${Array.isArray(params) ? params.length : typeof params}`);
      let h = x;
      for (let i = 0; i < layers.length; i++) {
        h = layers[i].apply(params[i], h);
        h = i < layers.length - 1 ? act(h) : fin(h);
      }
      return h;
    },
  };
}
