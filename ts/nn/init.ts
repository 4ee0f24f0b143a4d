/**
 * Parameter initializers, as in PyTorch's `torch.nn.init`. An initializer maps a key, a shape and
 * a dtype to a fresh tensor; fans are read from the shape in PyTorch's layout
 * (`[out, in, ...kernel]`), and gains follow `torch.nn.init.calculate_gain`.
 */
import { ValueError, fmtShape } from '../core/errors.js';
import type { Shape } from '../core/shape.js';
import type { Tensor } from '../core/tensor.js';
import { full } from '../ops/creation.js';
import type { Key } from '../random/key.js';
import { normal, uniform, type FloatDType } from '../random/samplers.js';

/**
 * A parameter initializer: a tensor of `shape` drawn with key `k` (ignored by the deterministic
 * ones), dtype float32 unless given.
 * @example const w = xavierUniform()(key(0), [64, 32])
 */
export type Initializer = (k: Key, shape: Shape, dtype?: FloatDType) => Tensor;

/** Nonlinearities that `calculateGain` knows. */
export type GainNonlinearity = 'linear' | 'identity' | 'conv' | 'sigmoid' | 'tanh' | 'relu' | 'leakyRelu' | 'selu';

/** Whether Kaiming initialization preserves the variance of the forward (`fanIn`) or backward (`fanOut`) pass. */
export type FanMode = 'fanIn' | 'fanOut';

/**
 * Fan-in and fan-out of a weight of `shape` in PyTorch's layout: for rank ≥ 2,
 * fanIn = shape[1]·r and fanOut = shape[0]·r with r = Π shape[2:] (the receptive field);
 * for rank 1, both are shape[0].
 * @example computeFans([32, 16, 3, 3]) // { fanIn: 144, fanOut: 288 }
 */
export function computeFans(shape: Shape): {
  /** in-channels × receptive field: shape[1]·r. */
  fanIn: number;
  /** out-channels × receptive field: shape[0]·r. */
  fanOut: number;
} {
  if (shape.length === 0) throw new ValueError('computeFans: a scalar has no fan-in or fan-out (shape [])');
  if (shape.length === 1) return { fanIn: shape[0], fanOut: shape[0] };
  let r = 1;
  for (let i = 2; i < shape.length; i++) r *= shape[i];
  return { fanIn: shape[1] * r, fanOut: shape[0] * r };
}

/**
 * The recommended gain for a nonlinearity (PyTorch's `calculate_gain`): 1 for linear, identity,
 * conv and sigmoid; 5/3 for tanh; √2 for relu; √(2 / (1 + a²)) for leakyRelu with negative slope
 * `a` (default 0.01); 3/4 for selu.
 * @example calculateGain('relu') // Math.SQRT2
 */
export function calculateGain(nonlinearity: GainNonlinearity, param?: number): number {
  switch (nonlinearity) {
    case 'linear':
    case 'identity':
    case 'conv':
    case 'sigmoid':
      return 1;
    case 'tanh':
      return 5 / 3;
    case 'relu':
      return Math.SQRT2;
    case 'leakyRelu': {
      const a = param ?? 0.01;
      return Math.sqrt(2 / (1 + a * a));
    }
    case 'selu':
      return 3 / 4;
    default:
      throw new ValueError(`calculateGain: unknown nonlinearity '${String(nonlinearity)}'`);
  }
}

function fanOf(fn: string, shape: Shape, mode: FanMode): number {
  const { fanIn, fanOut } = computeFans(shape);
  const f = mode === 'fanIn' ? fanIn : fanOut;
  if (!(f > 0)) throw new ValueError(`${fn}: the ${mode} of shape ${fmtShape(shape)} is 0`);
  return f;
}

/**
 * Uniform on [low, high).
 * @example uniformInit(-0.1, 0.1)(key(0), [10])
 */
export function uniformInit(low: number, high: number): Initializer {
  if (!(low < high)) throw new ValueError(`uniformInit: low must be less than high, got ${low} and ${high}`);
  return (k, shape, dtype = 'float32') => uniform(k, shape, { low, high, dtype });
}

/**
 * Normal with mean `mean` and standard deviation `std`.
 * @example normalInit(0.02)(key(0), [100, 10])
 */
export function normalInit(std = 1, mean = 0): Initializer {
  if (!(std >= 0)) throw new ValueError(`normalInit: std must be >= 0, got ${std}`);
  return (k, shape, dtype = 'float32') => normal(k, shape, { loc: mean, scale: std, dtype });
}

/**
 * Every entry `value`.
 * @example constantInit(1)(key(0), [4]) // [1, 1, 1, 1]
 */
export function constantInit(value: number): Initializer {
  return (_k, shape, dtype = 'float32') => full(shape, value, dtype);
}

/**
 * Every entry 0.
 * @example zerosInit()(key(0), [4])
 */
export function zerosInit(): Initializer {
  return constantInit(0);
}

/**
 * Glorot & Bengio (2010) uniform: U(−b, b) with b = gain·√(6 / (fanIn + fanOut)), so
 * Var = gain²·2 / (fanIn + fanOut).
 * @example xavierUniform({ gain: calculateGain('tanh') })(key(0), [256, 128])
 */
export function xavierUniform(opts: { gain?: number } = {}): Initializer {
  const gain = opts.gain ?? 1;
  return (k, shape, dtype = 'float32') => {
    const { fanIn, fanOut } = computeFans(shape);
    const b = gain * Math.sqrt(6 / (fanIn + fanOut));
    return uniform(k, shape, { low: -b, high: b, dtype });
  };
}

/**
 * Glorot & Bengio (2010) normal: N(0, σ²) with σ = gain·√(2 / (fanIn + fanOut)).
 * @example xavierNormal()(key(0), [256, 128])
 */
export function xavierNormal(opts: { gain?: number } = {}): Initializer {
  const gain = opts.gain ?? 1;
  return (k, shape, dtype = 'float32') => {
    const { fanIn, fanOut } = computeFans(shape);
    return normal(k, shape, { scale: gain * Math.sqrt(2 / (fanIn + fanOut)), dtype });
  };
}

/** Options of the Kaiming initializers. */
export interface KaimingOptions {
  /** Negative slope of a leaky ReLU (the gain's parameter); default 0. */
  a?: number;
  /** Which fan to normalize by; default 'fanIn'. */
  mode?: FanMode;
  /** Nonlinearity for the gain; default 'leakyRelu' (with slope `a`, so √2 when a = 0). */
  nonlinearity?: GainNonlinearity;
}

/**
 * He et al. (2015) uniform: U(−b, b) with b = √3·gain / √fan, so Var = gain² / fan.
 * PyTorch's default for Linear and Conv weights is `kaimingUniform({ a: Math.sqrt(5) })`, i.e.
 * b = 1/√fanIn.
 * @example kaimingUniform({ nonlinearity: 'relu' })(key(0), [128, 784])
 */
export function kaimingUniform(opts: KaimingOptions = {}): Initializer {
  const { a = 0, mode = 'fanIn', nonlinearity = 'leakyRelu' } = opts;
  const gain = calculateGain(nonlinearity, a);
  return (k, shape, dtype = 'float32') => {
    const b = (Math.sqrt(3) * gain) / Math.sqrt(fanOf('kaimingUniform', shape, mode));
    return uniform(k, shape, { low: -b, high: b, dtype });
  };
}

/**
 * He et al. (2015) normal: N(0, σ²) with σ = gain / √fan.
 * @example kaimingNormal({ nonlinearity: 'relu', mode: 'fanOut' })(key(0), [64, 32, 3, 3])
 */
export function kaimingNormal(opts: KaimingOptions = {}): Initializer {
  const { a = 0, mode = 'fanIn', nonlinearity = 'leakyRelu' } = opts;
  const gain = calculateGain(nonlinearity, a);
  return (k, shape, dtype = 'float32') => normal(k, shape, { scale: gain / Math.sqrt(fanOf('kaimingNormal', shape, mode)), dtype });
}

/**
 * PyTorch's default weight initializer for Linear and Conv layers, `kaimingUniform({ a: √5 })`:
 * U(±1/√fanIn).
 * @example defaultWeightInit(key(0), [400, 784]) // entries in ±1/28
 */
export const defaultWeightInit: Initializer = kaimingUniform({ a: Math.sqrt(5) });

/**
 * PyTorch's default bias initializer: U(±1/√fanIn) with `fanIn` that of the layer's weight
 * (zeros when fanIn is 0).
 * @example defaultBiasInit(784)(key(1), [400])
 */
export function defaultBiasInit(fanIn: number): Initializer {
  const b = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
  return b > 0 ? uniformInit(-b, b) : zerosInit();
}
