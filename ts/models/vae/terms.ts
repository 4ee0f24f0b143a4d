/**
 * The per-example terms VAE objectives are made of, written directly with tensor ops (no trace
 * machinery) for speed: diagonal-Gaussian densities and KL, the Bernoulli-logits and Gaussian
 * pixel likelihoods, the reparameterized sample, and the gradient-scaling identity that DReG needs.
 * Shapes: a batch of B examples with k samples each is laid out as [k, B, d] (or [k·B, d]).
 */
import { customGradient } from '../../core/autodiff.js';
import { ShapeError, ValueError, fmtShape } from '../../core/errors.js';
import type { Tensor } from '../../core/tensor.js';
import { add, clamp, exp, mul, neg, softplus, square, sub } from '../../ops/elementwise.js';
import { matmul } from '../../ops/linalg.js';
import { sum } from '../../ops/reduce.js';
import { reshape } from '../../ops/shape.js';

/** log 2π. */
export const LOG_2PI = Math.log(2 * Math.PI);

/** The default clamp of encoder log-variances (survey §24: [−10, 10] avoids NaNs from saturated heads). */
export const DEFAULT_LOGVAR_RANGE: readonly [number, number] = [-10, 10];

/**
 * Throws a ValueError naming `op` and `name` unless v is an integer ≥ min (sizes, counts, k).
 * @example checkInt('VAE', 'xDim', 784, 1) // passes; checkInt('VAE', 'xDim', 0, 1) throws
 */
export function checkInt(op: string, name: string, v: number, min: number): void {
  if (!Number.isInteger(v) || v < min) throw new ValueError(`${op}: ${name} must be an integer ≥ ${min}, got ${v}`);
}

/**
 * Clamps a log-variance head's output to [lo, hi] (gradient zero outside, as the survey advises).
 * @example clampLogVar(h) // values in [−10, 10]
 */
export function clampLogVar(logVar: Tensor, range: readonly [number, number] = DEFAULT_LOGVAR_RANGE): Tensor {
  return clamp(logVar, range[0], range[1]);
}

/**
 * The reparameterized sample z = μ + exp(½ log σ²) ⊙ ε. `eps` may carry leading sample axes:
 * μ, log σ² [B, d] with ε [k, B, d] give z [k, B, d].
 * @example reparameterize(mu, logVar, normal(key(0), [5, ...mu.shape], { dtype: 'float32' }))
 */
export function reparameterize(mu: Tensor, logVar: Tensor, eps: Tensor): Tensor {
  return add(mu, mul(exp(mul(logVar, 0.5)), eps));
}

/**
 * log N(z; μ, diag σ²) per coordinate: −½(log 2π + log σ² + (z − μ)² / σ²), broadcasting.
 * @example diagNormalLogProbPerDim(z, mu, logVar) // same shape as z
 */
export function diagNormalLogProbPerDim(z: Tensor, mu: Tensor, logVar: Tensor): Tensor {
  return mul(add(add(logVar, LOG_2PI), mul(square(sub(z, mu)), exp(neg(logVar)))), -0.5);
}

/**
 * log N(z; μ, diag σ²) per coordinate at z = μ + σε, from ε: −½(log 2π + log σ² + ε²). The same
 * function of (μ, σ) as `diagNormalLogProbPerDim` at that z, so its total derivative is right.
 * @example diagNormalLogProbAtEps(eps, logVar) // [k, B, d]: log q(z) per coordinate at z = μ + σε
 */
export function diagNormalLogProbAtEps(eps: Tensor, logVar: Tensor): Tensor {
  return mul(add(add(logVar, LOG_2PI), square(eps)), -0.5);
}

/**
 * log N(z; 0, I) per coordinate: −½(log 2π + z²).
 * @example stdNormalLogProbPerDim(tensor([0])) // [−0.919]
 */
export function stdNormalLogProbPerDim(z: Tensor): Tensor {
  return mul(add(square(z), LOG_2PI), -0.5);
}

/**
 * KL(N(μ, σ²) ‖ N(0, 1)) per coordinate, closed form: ½(μ² + σ² − log σ² − 1).
 * @example klStdNormalPerDim(zeros([2]), zeros([2])) // [0, 0]
 */
export function klStdNormalPerDim(mu: Tensor, logVar: Tensor): Tensor {
  return mul(sub(add(square(mu), exp(logVar)), add(logVar, 1)), 0.5);
}

/**
 * KL(N(μ_q, σ²_q) ‖ N(μ_p, σ²_p)) per coordinate, closed form:
 * ½(log σ²_p − log σ²_q + (σ²_q + (μ_q − μ_p)²) / σ²_p − 1). Inputs broadcast.
 * @example klDiagNormalPerDim(mu, logVar, mu, logVar) // zeros
 */
export function klDiagNormalPerDim(muQ: Tensor, logVarQ: Tensor, muP: Tensor, logVarP: Tensor): Tensor {
  const ratio = mul(add(exp(logVarQ), square(sub(muQ, muP))), exp(neg(logVarP)));
  return mul(sub(add(sub(logVarP, logVarQ), ratio), 1), 0.5);
}

/**
 * Bernoulli log-likelihood with logits, summed over the last axis:
 * Σ_d x_d·l_d − softplus(l_d) (= −binary cross-entropy with logits). `logits` [..., B, D] and
 * `x` [B, D] (broadcast over leading sample axes) → [..., B].
 * @example bernoulliLogLik(decoderLogits, xBatch) // [B]
 */
export function bernoulliLogLik(logits: Tensor, x: Tensor): Tensor {
  checkPixels('bernoulliLogLik', logits, x);
  return bernoulliLogLikFused(logits, x);
}

// A hand-written gradient: ∂/∂l = x − σ(l) with σ(l) = exp(l − softplus(l)) from the forward pass
// (one exp instead of a sigmoid), and no cotangent for the data (autodiff would compute one).
const bernoulliLogLikFused = customGradient((logits: Tensor, x: Tensor) => {
  const sp = softplus(logits);
  return {
    value: sum(sub(mul(logits, x), sp), -1),
    grad: (dy: Tensor) => [mul(sub(x, exp(sub(logits, sp))), reshape(dy, [...dy.shape, 1])), null],
  };
});

/**
 * The affine map y = x·Wᵀ + b (W [out, in], b [out]; x [..., in] → [..., out]) with a hand-written
 * gradient that skips the input's cotangent when the input is a constant (the data): the encoder's
 * first layer then costs two matrix products in the backward pass instead of three.
 * @example dense(x, p.weight, p.bias) // x [B, 784], W [200, 784] → [B, 200]
 */
export function dense(x: Tensor, weight: Tensor, bias?: Tensor): Tensor {
  const inF = weight.shape[1];
  if (weight.shape.length !== 2 || x.shape[x.shape.length - 1] !== inF)
    throw new ShapeError(`dense: input ${fmtShape(x.shape)} must end in ${inF} features (weight ${fmtShape(weight.shape)})`);
  const flat = x.shape.length === 2 ? x : reshape(x, [-1, inF]);
  const y = bias === undefined ? denseFused(flat, weight) : denseFused(flat, weight, bias);
  return flat === x ? y : reshape(y, [...x.shape.slice(0, -1), weight.shape[0]]);
}

/**
 * A stack of dense layers with `act` between them (none after the last): the encoder or decoder
 * of the MLP models. `layers` [{ weight [out, in], bias [out] }].
 * @example denseStack(params.enc, x, activation('relu')) // [B, out of the last layer]
 */
export function denseStack(layers: readonly { weight: Tensor; bias?: Tensor }[], x: Tensor, act: (t: Tensor) => Tensor): Tensor {
  let h = x;
  layers.forEach((p, i) => {
    h = dense(h, p.weight, p.bias);
    if (i < layers.length - 1) h = act(h);
  });
  return h;
}

const denseFused = customGradient((x: Tensor, w: Tensor, b?: Tensor) => {
  const needX = x.tape !== 0; // tracked by the tape being recorded: the input is not data
  const y = matmul(x, w, { transB: true });
  return {
    value: b === undefined ? y : add(y, b),
    grad: (dy: Tensor) => {
      const dw = matmul(dy, x, { transA: true });
      const dx = needX ? matmul(dy, w) : null;
      return b === undefined ? [dx, dw] : [dx, dw, sum(dy, 0)];
    },
  };
});

/**
 * Gaussian log-likelihood with per-pixel mean and log-variance, summed over the last axis:
 * Σ_d −½(log 2π + log σ²_d + (x_d − μ_d)² / σ²_d). `mean`, `logVar` [..., B, D], `x` [B, D] → [..., B].
 * @example gaussianLogLik(mu, logVar, xBatch) // [B]
 */
export function gaussianLogLik(mean: Tensor, logVar: Tensor, x: Tensor): Tensor {
  checkPixels('gaussianLogLik', mean, x);
  return sum(diagNormalLogProbPerDim(x, mean, logVar), -1);
}

function checkPixels(op: string, out: Tensor, x: Tensor): void {
  const r = out.shape.length;
  const xr = x.shape.length;
  if (xr > r || x.shape.some((d, i) => d !== out.shape[r - xr + i]))
    throw new ShapeError(`${op}: data ${fmtShape(x.shape)} does not match the decoder output ${fmtShape(out.shape)}`);
}

/** A per-sample weight set after the forward pass, read by `gradScale` in the backward pass. */
export interface ScaleHolder {
  /** Multiplies the cotangent; broadcast against it (e.g. [k, B, 1] for z [k, B, d]). */
  weight: Tensor | null;
}

/**
 * The identity in the forward pass whose backward pass multiplies the cotangent by
 * `holder.weight`, which may be set after the forward pass (DReG needs weights that depend on the
 * forward result): ∂L/∂x = w ⊙ ∂L/∂y.
 * @example const h: ScaleHolder = { weight: null }; const z2 = gradScale(z, h); … h.weight = w;
 */
export function gradScale(x: Tensor, holder: ScaleHolder): Tensor {
  return customGradient((t: Tensor) => ({
    value: reshape(t, t.shape),
    grad: (dy: Tensor) => {
      if (holder.weight === null) throw new ValueError('gradScale: the weight was not set before the backward pass');
      return [mul(dy, holder.weight)];
    },
  }))(x);
}
