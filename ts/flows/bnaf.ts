/**
 * Block neural autoregressive flow (BNAF; De Cao, Aziz & Titov 2019): one monotone neural network
 * per coordinate, packed into block-triangular weight matrices, whose Jacobian's diagonal is
 * tracked in log space through the layers (log-matrix products by logsumexp).
 */
import type { Tensor } from '../core/tensor.js';
import { ValueError } from '../core/errors.js';
import { add, exp, log, mul, neg, sigmoid, softplus, square, sub, tanh } from '../ops/elementwise.js';
import { tensor, zeros, zerosLike } from '../ops/creation.js';
import { logsumexp, sum } from '../ops/reduce.js';
import { expandDims, reshape, stack } from '../ops/shape.js';
import { linear } from '../nn/linear.js';
import { split, type Key } from '../random/key.js';
import { uniform, type FloatDType } from '../random/samplers.js';
import { checkFeatures } from './conditioner.js';
import { FlowTransform, NotInvertibleError, type FlowLayer } from './core.js';

/** One masked layer of a BNAF: raw weights v [d·out, d·in], bias [d·out], log weight-norm scale g [d·out]. */
export interface BNAFLayerParams {
  /** Raw weights, [d·out, d·in]: diagonal blocks enter as e^v (positive), strictly lower blocks as v, upper blocks are masked to 0. */
  v: Tensor;
  /** The layer's bias, [d·out]. */
  bias: Tensor;
  /** Log of each weight row's norm after weight normalization, [d·out]. */
  g: Tensor;
}

/** Parameters of {@link bnaf}: its layers, input to output, and the raw residual gate a (y = σ(a)·f(x) + (1 − σ(a))·x). */
export interface BNAFParams {
  /** The masked layers, input to output (one per entry of `hidden`, plus the output layer). */
  layers: BNAFLayerParams[];
  /** Present with the gated residual (the default). */
  gate?: Tensor;
}

/** 0/1 masks [d·out, d·in]: the diagonal blocks and the strictly lower blocks. */
function blockMasks(d: number, out: number, inp: number, dtype: FloatDType): { diag: Tensor; lower: Tensor; eye: Tensor } {
  const n = d * out * d * inp;
  const a = new Float64Array(n);
  const b = new Float64Array(n);
  for (let r = 0; r < d * out; r++)
    for (let c = 0; c < d * inp; c++) {
      const br = Math.floor(r / out);
      const bc = Math.floor(c / inp);
      a[r * d * inp + c] = br === bc ? 1 : 0;
      b[r * d * inp + c] = br > bc ? 1 : 0;
    }
  const e = new Float64Array(d * d);
  for (let i = 0; i < d; i++) e[i * d + i] = 1;
  return { diag: tensor(a, [d * out, d * inp], dtype), lower: tensor(b, [d * out, d * inp], dtype), eye: tensor(e, [d, 1, d, 1], dtype) };
}

const LOG4 = Math.log(4);

class BNAFTransform extends FlowTransform {
  constructor(
    d: number,
    private readonly widths: readonly number[],
    private readonly p: BNAFParams,
  ) {
    super('bnaf', d);
  }
  protected callForward(x: Tensor): [Tensor, Tensor] {
    const d = this.features;
    const dtype = x.dtype as FloatDType;
    const lead = x.shape.slice(0, -1);
    const flat = reshape(x, [-1, d]);
    let h = flat;
    const layers = this.p.layers;
    let logJ: Tensor | null = null; // [B, d, out, 1]: log of ∂h_(i, o)/∂x_i
    for (let l = 0; l < layers.length; l++) {
      const inp = this.widths[l];
      const out = this.widths[l + 1];
      const { v, bias, g } = layers[l];
      const m = blockMasks(d, out, inp, dtype);
      // Diagonal blocks positive (e^v), lower blocks free, upper blocks zero; then weight-normalized rows.
      const wt = add(mul(m.diag, exp(v)), mul(m.lower, v));
      const logNorm = mul(log(sum(square(wt), 1, true)), 0.5);
      const w = mul(wt, exp(sub(expandDims(g, -1), logNorm)));
      const logW = sub(add(v, expandDims(g, -1)), logNorm); // log of the diagonal-block entries
      const logDiag = sum(mul(reshape(logW, [d, out, d, inp]), m.eye), 2); // [d, out, in]
      const pre = linear(h, w, bias, 'bnaf');
      logJ = logJ === null ? expandDims(logDiag, 0) : logsumexp(add(expandDims(expandDims(logDiag, 0), -1), expandDims(logJ, 2)), 3);
      if (l < layers.length - 1) {
        h = tanh(pre);
        // log(1 − tanh² u) = log 4 − 2u − 2·softplus(−2u), stable for large |u|.
        const ld = sub(sub(LOG4, mul(pre, 2)), mul(softplus(mul(pre, -2)), 2));
        logJ = add(logJ, reshape(ld, [-1, d, out, 1]));
      } else h = pre;
    }
    let logDiag = reshape(logJ as Tensor, [-1, d]);
    if (this.p.gate !== undefined) {
      // Gated residual: y = σ(a)·f(x) + (1 − σ(a))·x has linear tails (f alone is bounded: tanh
      // then a linear layer), and ∂y_i/∂x_i = σ(a)·f′_ii + 1 − σ(a), summed in log space.
      const a = this.p.gate;
      const sa = sigmoid(a);
      h = add(mul(h, sa), mul(flat, sub(1, sa)));
      const lsa = neg(softplus(neg(a)));
      const l1sa = neg(softplus(a));
      logDiag = logsumexp(stack([add(logDiag, lsa), add(zerosLike(logDiag), l1sa)], -1), -1);
    }
    return [reshape(h, x.shape), reshape(sum(logDiag, -1), lead)];
  }
  protected callInverse(): [Tensor, Tensor] {
    throw new NotInvertibleError('bnaf: the inverse has no closed form; bnaf is cheap in the forward (sampling) direction: score its own draws with FlowDistribution.rsampleWithLogProb');
  }
}

/**
 * A BNAF layer: for each coordinate i a monotone network x_i ↦ y_i over units of width
 * `hidden[l]` per coordinate, whose weights from coordinate j < i's units are free and from its own
 * units positive (e^v), weight-normalized (w = e^g·ŵ/‖ŵ_row‖), with tanh between layers; so y is
 * autoregressive with a positive triangular Jacobian, log|det J| = Σ_i log ∂y_i/∂x_i computed in
 * log space through the layers. f alone maps onto a bounded box (tanh, then a linear layer), so by
 * default the output is the gated residual y = σ(a)·f(x) + (1 − σ(a))·x (the paper's option),
 * which keeps the tails linear, as a guide's importance weights need; `residual: 'none'` gives f.
 * Forward only (NotInvertibleError on inverse).
 * Shapes: [..., d] → [..., d], ladj [...].
 * @example
 * const b = bnaf(4, { hidden: [8, 8] });
 * const [y, ladj] = b.bind(b.init(key(0), 'float64')).forwardAndLadj(z);
 */
export function bnaf(features: number, opts: { hidden?: readonly number[]; residual?: 'gated' | 'none' } = {}): FlowLayer<BNAFParams> {
  checkFeatures('bnaf', features);
  const res = opts.residual ?? 'gated';
  if (res !== 'gated' && res !== 'none') throw new ValueError(`bnaf: residual must be 'gated' or 'none', got ${String(res)}`);
  const residual = res === 'gated';
  const hidden = opts.hidden ?? [8];
  if (hidden.length === 0 || hidden.some((h) => !Number.isInteger(h) || h < 1)) throw new ValueError(`bnaf: hidden must be positive integers (units per coordinate), got [${hidden.join(', ')}]`);
  const widths = [1, ...hidden, 1];
  return {
    name: 'bnaf',
    features,
    contextFeatures: 0,
    init(k: Key, dtype: FloatDType): BNAFParams {
      const ks = split(k, widths.length - 1);
      const layers = widths.slice(1).map((out, l) => {
        const inp = widths[l];
        const bound = 1 / Math.sqrt(features * inp);
        return {
          v: uniform(ks[l], [features * out, features * inp], { low: -bound, high: bound, dtype }),
          bias: zeros([features * out], dtype),
          g: zeros([features * out], dtype),
        };
      });
      return residual ? { layers, gate: zeros([], dtype) } : { layers };
    },
    bind: (p: BNAFParams) => new BNAFTransform(features, widths, p),
  };
}

