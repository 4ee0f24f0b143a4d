import type { Tensor } from '../core/tensor.js';
import type { KernelAttrs, KernelName } from '../kernels/spec.js';

/** Maps output cotangents to input cotangents (null for inputs without one, e.g. int32 indices). */
export type GradRule<N extends KernelName> = (
  dys: readonly Tensor[],
  inputs: readonly Tensor[],
  outputs: readonly Tensor[],
  attrs: KernelAttrs[N],
) => (Tensor | null)[];

export type GradTable = { [N in KernelName]?: GradRule<N> };
