/** Shared pieces of the distributions: standard draws on the parameters' device and dtype. */
import type { DType } from '../core/dtype.js';
import { ENGINE } from '../core/engine.js';
import type { Shape } from '../core/shape.js';
import type { Tensor } from '../core/tensor.js';
import type { Key } from '../random/key.js';

/** Standard normal draws of `shape` in `dtype`. */
export function stdNormal(key: Key, shape: Shape, dtype: DType): Tensor {
  return ENGINE.runKernel('randomNormal', [], { key: key.words, shape: shape.slice(), dtype })[0];
}

/** Uniform draws on [0, 1) of `shape` in `dtype`. */
export function stdUniform(key: Key, shape: Shape, dtype: DType): Tensor {
  return ENGINE.runKernel('randomUniform', [], { key: key.words, shape: shape.slice(), dtype })[0];
}

/** Uniform draws strictly inside (0, 1): the [0, 1) draw mapped by u ↦ u + ε/2 where ε is the dtype's spacing at 0.5. */
export function openUniform(key: Key, shape: Shape, dtype: DType): Tensor {
  const u = stdUniform(key, shape, dtype);
  const half = dtype === 'float32' ? 2 ** -25 : 2 ** -54;
  return ENGINE.runKernel('add', [u, scalarLike(half, u)], {})[0];
}

function scalarLike(v: number, like: Tensor): Tensor {
  const t = ENGINE.fromArray(like.dtype === 'float32' ? new Float32Array([v]) : new Float64Array([v]), [], ENGINE.computeFor('cpu'));
  return like.backend.device === 'cpu' ? t : ENGINE.toBackend(t, like.backend);
}

export const LOG_2PI = Math.log(2 * Math.PI);
export const LOG_PI = Math.log(Math.PI);
export const LOG_2 = Math.LN2;
/** The Euler–Mascheroni constant. */
export const EULER_GAMMA = 0.5772156649015329;
