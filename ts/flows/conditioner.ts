/**
 * The networks that give flow layers their parameters: an MLP over the conditioning half of a
 * coupling layer (plus the context), and a MADE for autoregressive layers. Their last layer
 * starts at zero, so every layer starts at (or near) the identity.
 */
import { ValueError } from '../core/errors.js';
import type { Tensor } from '../core/tensor.js';
import { zeros } from '../ops/creation.js';
import type { Key } from '../random/key.js';
import type { FloatDType } from '../random/samplers.js';
import type { Activation } from '../nn/activations.js';
import { MLP } from '../nn/linear.js';
import type { LinearParams } from '../nn/linear.js';
import { MADE, type MADEParams } from '../nn/made.js';

/** Options every conditioned flow layer takes. */
export interface ConditionerOptions {
  /** Hidden widths of the conditioner network; default [64, 64]. */
  hidden?: readonly number[];
  /** Hidden activation; default 'relu'. */
  activation?: Activation;
  /** Width of the context input (0: unconditional); default 0. */
  contextFeatures?: number;
}

/** Checks and fills {@link ConditionerOptions}. @internal */
export function conditionerOptions(layer: string, o: ConditionerOptions): { hidden: readonly number[]; activation: Activation; contextFeatures: number } {
  const hidden = o.hidden ?? [64, 64];
  const contextFeatures = o.contextFeatures ?? 0;
  if (hidden.some((h) => !Number.isInteger(h) || h < 1)) throw new ValueError(`${layer}: hidden widths must be positive integers, got [${hidden.join(', ')}]`);
  if (!Number.isInteger(contextFeatures) || contextFeatures < 0) throw new ValueError(`${layer}: contextFeatures must be a non-negative integer, got ${contextFeatures}`);
  return { hidden, activation: o.activation ?? 'relu', contextFeatures };
}

/** Checks the width d of a layer. @internal */
export function checkFeatures(layer: string, d: number, min = 1): void {
  if (!Number.isInteger(d) || d < min) throw new ValueError(`${layer}: features must be an integer ≥ ${min}, got ${d}`);
}

/** An MLP [in, ...hidden, out] whose last layer is initialized to zero. @internal */
export function zeroLastMLP(sizes: readonly number[], act: Activation): { init(k: Key, dtype: FloatDType): LinearParams[]; apply(p: LinearParams[], x: Tensor): Tensor } {
  return {
    init(k, dtype) {
      const ps = MLP(sizes, { activation: act, dtype }).init(k);
      const last = ps[ps.length - 1];
      ps[ps.length - 1] = { weight: zeros(last.weight.shape, dtype), bias: zeros([sizes[sizes.length - 1]], dtype) };
      return ps;
    },
    apply: (p, x) => MLP(sizes, { activation: act }).apply(p, x),
  };
}

/** A MADE with `outputs` values per input whose output layer starts at zero. @internal */
export function zeroLastMADE(
  d: number,
  hidden: readonly number[],
  outputs: number,
  o: { activation: Activation; contextFeatures: number; order?: readonly number[]; residualBlocks?: number },
): { made: ReturnType<typeof MADE>; init(k: Key, dtype: FloatDType): MADEParams } {
  const made = MADE(d, hidden, { outputsPerInput: outputs, activation: o.activation, contextFeatures: o.contextFeatures, order: o.order, residualBlocks: o.residualBlocks });
  return {
    made,
    init(k, dtype) {
      const p = MADE(d, hidden, { outputsPerInput: outputs, activation: o.activation, contextFeatures: o.contextFeatures, order: o.order, residualBlocks: o.residualBlocks, dtype }).init(k);
      const last = p.layers[p.layers.length - 1];
      p.layers[p.layers.length - 1] = { weight: zeros(last.weight.shape, dtype), bias: zeros(last.bias?.shape ?? [outputs * d], dtype) };
      return p;
    },
  };
}
