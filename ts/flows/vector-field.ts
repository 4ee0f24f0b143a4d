/**
 * Vector fields f(z, t) for continuous flows (FFJORD), with their vector–Jacobian products
 * vᵀ ∂f/∂z written as ordinary differentiable ops: the divergence tr(∂f/∂z) enters the
 * log-density, and training differentiates it in the parameters, a second derivative that
 * varinf's tape (no nested gradients) gets only when the inner derivative is itself a graph of ops.
 */
import { ShapeError, ValueError, fmtShape } from '../core/errors.js';
import type { Tensor } from '../core/tensor.js';
import { add, mul, sigmoid, softplus, square, sub, tanh } from '../ops/elementwise.js';
import { zeros } from '../ops/creation.js';
import { matmul } from '../ops/linalg.js';
import { reshape } from '../ops/shape.js';
import { split, type Key } from '../random/key.js';
import { normal, uniform, type FloatDType } from '../random/samplers.js';
import { linear } from '../nn/linear.js';
import { sliceLast } from '../bijectors/transform.js';
import { withContext } from './core.js';

/** f(z, t) at a point and its vector–Jacobian product there. */
export interface FieldEval {
  /** f(z, t), [B, d]. */
  f: Tensor;
  /** vᵀ ∂f/∂z for cotangents v [..., B, d] (extra leading axes: several probes at once) → [..., B, d], built from differentiable ops. */
  vjp(v: Tensor): Tensor;
}

/**
 * A time-dependent vector field on ℝ^d for a continuous flow: parameters from `init`, and at
 * (z [B, d], t) the value with a vector–Jacobian product made of differentiable ops (so that the
 * divergence can itself be differentiated in the parameters).
 * @example
 * const lin: VectorField<{ A: Tensor }> = {
 *   features: 2, contextFeatures: 0,
 *   init: () => ({ A: tensor([[0.1, 0.3], [-0.2, 0.4]], [2, 2], 'float64') }),
 *   eval: (p, z) => ({ f: matmul(z, p.A, { transB: true }), vjp: (v) => matmul(v, p.A) }),
 * };
 */
export interface VectorField<P = unknown> {
  /** d, the state width. */
  readonly features: number;
  /** Width of the context the field takes (0: unconditional). */
  readonly contextFeatures: number;
  /** Fresh parameters drawn with key `k`. */
  init(k: Key, dtype: FloatDType): P;
  /**
   * The field at (z [B, d], t) given the context [B, c] (when conditional), with its VJP. t is one
   * time for every row (the ODE solvers) or a time per row, [B, 1] (flow matching's training pairs).
   */
  eval(params: P, z: Tensor, t: number | Tensor, context?: Tensor): FieldEval;
}

/** One concat-squash layer: y = (W·h + b) ⊙ σ(gate·t + gateBias) + hyper·t (Grathwohl et al.'s ConcatSquashLinear). */
export interface ConcatSquashParams {
  /** W, [out, in]. */
  weight: Tensor;
  /** b, [out]. */
  bias: Tensor;
  /** The time gate's slope, [out]. */
  gate: Tensor;
  /** The time gate's offset, [out]. */
  gateBias: Tensor;
  /** The time shift's slope, [out]. */
  hyper: Tensor;
}

/** Smooth activations the field takes (its divergence is differentiated, so no ReLU). */
export type FieldActivation = 'tanh' | 'softplus' | 'sigmoid' | 'silu';

/** The activation and its derivative from (pre-activation a, value h). */
const ACTS: Record<FieldActivation, { f: (a: Tensor) => Tensor; df: (a: Tensor, h: Tensor) => Tensor }> = {
  tanh: { f: tanh, df: (_a, h) => sub(1, square(h)) },
  softplus: { f: softplus, df: (a) => sigmoid(a) },
  sigmoid: { f: sigmoid, df: (_a, h) => mul(h, sub(1, h)) },
  silu: {
    f: (a) => mul(a, sigmoid(a)),
    df: (a) => {
      const s = sigmoid(a);
      return mul(s, add(1, mul(a, sub(1, s))));
    },
  },
};

/** Options of {@link concatSquashField}. */
export interface ConcatSquashOptions {
  /** Hidden widths; default [64, 64]. */
  hidden?: readonly number[];
  /** Hidden activation (smooth); default 'tanh'. */
  activation?: FieldActivation;
  /** Width of a context concatenated to z at the input (conditional flows); default 0. */
  contextFeatures?: number;
}

/**
 * FFJORD's vector field: an MLP of concat-squash layers, each y = (W·h + b) ⊙ σ(g·t + g₀) + c·t,
 * with smooth activations between them; the input is z (and the context, concatenated). The last
 * layer starts at zero, so the flow starts at the identity. The VJP is the layers' backward pass
 * written out in ops (δ ← ((δ ⊙ σ_l) · W_l) ⊙ act′ layer by layer), one pass for any number of
 * probe vectors stacked on a leading axis.
 * @example
 * const field = concatSquashField(2, { hidden: [64, 64] });
 * const { f, vjp } = field.eval(field.init(key(0), 'float64'), z, 0.5); // z [B, 2]
 */
export function concatSquashField(features: number, opts: ConcatSquashOptions = {}): VectorField<ConcatSquashParams[]> {
  const hidden = opts.hidden ?? [64, 64];
  const actName = opts.activation ?? 'tanh';
  const contextFeatures = opts.contextFeatures ?? 0;
  if (!Number.isInteger(features) || features < 1) throw new ValueError(`concatSquashField: features must be a positive integer, got ${features}`);
  if (hidden.some((h) => !Number.isInteger(h) || h < 1)) throw new ValueError(`concatSquashField: hidden widths must be positive integers, got [${hidden.join(', ')}]`);
  if (!Number.isInteger(contextFeatures) || contextFeatures < 0) throw new ValueError(`concatSquashField: contextFeatures must be a non-negative integer, got ${contextFeatures}`);
  const act = ACTS[actName] as (typeof ACTS)[FieldActivation] | undefined;
  if (act === undefined) throw new ValueError(`concatSquashField: activation must be one of ${Object.keys(ACTS).join(', ')} (smooth: its derivative is differentiated), got '${String(actName)}'`);
  const sizes = [features + contextFeatures, ...hidden, features];
  return {
    features,
    contextFeatures,
    init(k, dtype) {
      const ks = split(k, sizes.length - 1);
      return sizes.slice(1).map((out, i) => {
        const [kw, kb, kg] = split(ks[i], 3);
        const last = i === sizes.length - 2;
        const bound = 1 / Math.sqrt(sizes[i]);
        return {
          weight: last ? zeros([out, sizes[i]], dtype) : uniform(kw, [out, sizes[i]], { dtype, low: -bound, high: bound }),
          bias: last ? zeros([out], dtype) : uniform(kb, [out], { dtype, low: -bound, high: bound }),
          gate: normal(kg, [out], { dtype, scale: 0.1 }),
          gateBias: zeros([out], dtype),
          hyper: zeros([out], dtype),
        };
      });
    },
    eval(p, z, t, context) {
      if (p.length !== sizes.length - 1) throw new ValueError(`concatSquashField: expected ${sizes.length - 1} layer parameters, got ${p.length}`);
      if (z.rank !== 2 || z.shape[1] !== features) throw new ShapeError(`concatSquashField: state of shape ${fmtShape(z.shape)} must be [B, ${features}]`);
      if (typeof t !== 'number' && (t.rank !== 2 || t.shape[0] !== z.shape[0] || t.shape[1] !== 1))
        throw new ShapeError(`concatSquashField: times of shape ${fmtShape(t.shape)} must be [${z.shape[0]}, 1] (one per row) or a number`);
      const gates: Tensor[] = [];
      const pre: Tensor[] = [];
      const post: Tensor[] = [];
      let h = withContext(z, context);
      for (let l = 0; l < p.length; l++) {
        const q = p[l];
        const g = sigmoid(add(mul(q.gate, t), q.gateBias));
        gates.push(g);
        const a = add(mul(linear(h, q.weight, q.bias, 'concatSquashField'), g), mul(q.hyper, t));
        if (l === p.length - 1) {
          h = a;
          break;
        }
        pre.push(a);
        h = act.f(a);
        post.push(h);
      }
      return {
        f: h,
        vjp(v: Tensor): Tensor {
          let d = v;
          for (let l = p.length - 1; l >= 0; l--) {
            const out = sizes[l + 1];
            const lead = d.shape.slice(0, -1);
            d = reshape(matmul(reshape(mul(d, gates[l]), [-1, out]), p[l].weight), [...lead, sizes[l]]);
            if (l > 0) d = mul(d, act.df(pre[l - 1], post[l - 1]));
          }
          return contextFeatures > 0 ? sliceLast(d, 0, features) : d;
        },
      };
    },
  };
}
