import type { Tensor } from '../core/tensor.js';
import type { KernelAttrs, KernelName } from '../kernels/spec.js';

/**
 * Maps output cotangents to input cotangents (null for inputs without one, e.g. int32 indices).
 * `needs[i]` says whether input i takes a cotangent at all (it is on the tape and float): a rule
 * of several inputs may return null for the others and skip their work, e.g. `mul(x, 0.5)`'s
 * constant 0.5.
 */
export type GradRule<N extends KernelName> = (
  dys: readonly Tensor[],
  inputs: readonly Tensor[],
  outputs: readonly Tensor[],
  attrs: KernelAttrs[N],
  needs: readonly boolean[],
) => (Tensor | null)[];

export type GradTable = { [N in KernelName]?: GradRule<N> };
