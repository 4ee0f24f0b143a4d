/** Activation functions for the nn modules, built from differentiable elementwise ops. */
import { ValueError } from '../core/errors.js';
import type { Tensor } from '../core/tensor.js';
import { add, erf, expm1, maximum, minimum, mul, relu, sigmoid, softplus, tanh } from '../ops/elementwise.js';

/** Activations that modules accept by name. */
export type ActivationName = 'identity' | 'relu' | 'tanh' | 'softplus' | 'sigmoid' | 'elu' | 'gelu' | 'silu' | 'leakyRelu';

/** An activation by name, or any elementwise function. */
export type Activation = ActivationName | ((x: Tensor) => Tensor);

/**
 * ELU (Clevert et al. 2016): x for x > 0, α(eˣ − 1) otherwise; computed as relu(x) + α·expm1(min(x, 0))
 * so that no branch overflows and the gradient has no NaN.
 * @example elu(tensor([-1, 2])) // [-0.632…, 2]
 */
export function elu(x: Tensor, alpha = 1): Tensor {
  const neg = expm1(minimum(x, 0));
  return add(relu(x), alpha === 1 ? neg : mul(neg, alpha));
}

/**
 * GELU (Hendrycks & Gimpel 2016), exact form: x·Φ(x) = ½x(1 + erf(x/√2)).
 * @example gelu(tensor([0, 1])) // [0, 0.841…]
 */
export function gelu(x: Tensor): Tensor {
  return mul(mul(x, 0.5), add(erf(mul(x, Math.SQRT1_2)), 1));
}

/**
 * SiLU / swish: x·σ(x).
 * @example silu(tensor([0, 1])) // [0, 0.731…]
 */
export function silu(x: Tensor): Tensor {
  return mul(x, sigmoid(x));
}

/**
 * Leaky ReLU: max(x, a·x) for slope 0 ≤ a ≤ 1 (default 0.01).
 * @example leakyRelu(tensor([-1, 2])) // [-0.01, 2]
 */
export function leakyRelu(x: Tensor, a = 0.01): Tensor {
  return maximum(x, mul(x, a));
}

const BY_NAME: Record<ActivationName, (x: Tensor) => Tensor> = {
  identity: (x) => x,
  relu,
  tanh,
  softplus,
  sigmoid,
  elu: (x) => elu(x),
  gelu,
  silu,
  leakyRelu: (x) => leakyRelu(x),
};

/**
 * The function for an activation name (a function passes through unchanged).
 * @example activation('gelu')(x)
 */
export function activation(a: Activation): (x: Tensor) => Tensor {
  if (typeof a === 'function') return a;
  const f = BY_NAME[a] as ((x: Tensor) => Tensor) | undefined;
  if (f === undefined) throw new ValueError(`activation: unknown activation '${String(a)}' (have: ${Object.keys(BY_NAME).join(', ')})`);
  return f;
}
