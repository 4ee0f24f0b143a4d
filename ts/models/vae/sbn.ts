/**
 * The sigmoid belief network (SBN) VAE of Mnih & Gregor (2014) and Tucker et al. (2017) with one
 * layer of binary latents: q(b|x) = Bernoulli(σ(θ(x))), p(b) = Bernoulli(σ(a)) with learned a,
 * p(x|b) = Bernoulli(σ(l(b))). The "linear" SBN has θ(x) = W x + c and l(b) = V b + d; the
 * nonlinear variant puts tanh hidden layers in both maps. Everything here is the model; the
 * gradient estimators of the encoder (NVIL, REBAR, RELAX) are in sbn-estimators.ts.
 *
 * The per-example ELBO term at a sample b is f(b) = log p(x|b) + log p(b) − log q(b|x). It is also
 * evaluated at relaxed b̃ ∈ (0, 1)^K (the REBAR control variate) with the same formulas, and its
 * derivative ∂f/∂b̃ is written in closed form (`elboAndGradB`), so the estimators need no nested
 * gradients.
 */
import { customGradient } from '../../core/autodiff.js';
import { DTypeError, ShapeError, ValueError, fmtShape } from '../../core/errors.js';
import type { Tensor } from '../../core/tensor.js';
import { add, cast, clamp, greater, log, log1p, mul, neg, sigmoid, softplus, square, sub, tanh } from '../../ops/elementwise.js';
import { zeros } from '../../ops/creation.js';
import { matmul } from '../../ops/linalg.js';
import { sum } from '../../ops/reduce.js';
import { Linear, type LinearParams } from '../../nn/linear.js';
import { split, type Key } from '../../random/key.js';
import { uniform, type FloatDType } from '../../random/samplers.js';
import { bernoulliLogLik, checkInt, dense } from './terms.js';
import { checkRows, importanceSampled, meanOverChunks } from './evaluate.js';

/** Configuration of `SBN`. */
export interface SBNConfig {
  /** Data dimension, e.g. 784. */
  xDim: number;
  /** Number of Bernoulli latents; default 200 (Tucker et al. 2017). */
  latents?: number;
  /** Widths of the tanh hidden layers of encoder and decoder (mirrored); default [] (the linear SBN). */
  hidden?: readonly number[];
  /** Parameter dtype; default float32. */
  dtype?: FloatDType;
}

/** Parameters of an SBN: encoder layers (x → θ), the prior logits a [K], decoder layers (b → l). */
export interface SBNParams {
  /** Encoder layers x → θ(x), the logits of q(b|x). */
  enc: LinearParams[];
  /** The prior logits a [K]: p(b) = Π_k Bernoulli(b_k; σ(a_k)). */
  prior: Tensor;
  /** Decoder layers b → l(b), the logits of p(x|b). */
  dec: LinearParams[];
}

/** An SBN as a functional module. Shapes: x [B, D], θ and b [B, K] (b may carry a leading sample axis). */
export interface SBNModel {
  /** The configuration with every default filled in. */
  readonly config: Readonly<Required<SBNConfig>>;
  /** Fresh parameters (PyTorch's Linear initialization, prior logits 0). */
  init(k: Key): SBNParams;
  /** Encoder logits θ(x) [B, K]. */
  encode(params: SBNParams, x: Tensor): Tensor;
  /** Decoder logits l(b) [..., D] for b [..., K] (binary or relaxed). */
  decode(params: SBNParams, b: Tensor): Tensor;
  /** f(b) = log p(x|b) + log p(b) − log q(b|x) per example, [..., B], given θ = encode(x). */
  elbo(params: SBNParams, x: Tensor, b: Tensor, theta: Tensor): Tensor;
  /**
   * f(b̃) [B] and ∂f/∂b̃ [B, K] at relaxed b̃ [B, K] from one decoder pass, the derivative in closed
   * form: (x − σ(l))·∂l/∂b̃ + a − θ. The decoder weights are constants here: on a tape, gradients
   * reach b̃, θ and a but not the decoder (the estimators' control variates need exactly that).
   */
  elboAndGradB(params: SBNParams, x: Tensor, bt: Tensor, theta: Tensor): {
    /** f(b̃) per example, [B]. */
    value: Tensor;
    /** ∂f/∂b̃, [B, K]. */
    grad: Tensor;
  };
  /** b ~ q(b|x): `samples` draws [samples, B, K] (float, 0/1) from θ [B, K]. */
  sampleLatents(k: Key, theta: Tensor, samples: number): Tensor;
  /** Pixel probabilities of `n` ancestral samples b ~ p(b), x ~ p(x|b): [n, D]. */
  sample(params: SBNParams, k: Key, n: number): Tensor;
  /** Pixel probabilities σ(l(b)) at b = 1[σ(θ(x)) > ½], the posterior mode: [B, D]. */
  reconstruct(params: SBNParams, x: Tensor): Tensor;
}

/** Clamp of uniforms away from 0 and 1 so logits of them stay finite in float32. */
export const UNIFORM_EPS = 1e-6;

/**
 * Builds a sigmoid belief network VAE with one layer of binary latents.
 * @example
 * const sbn = SBN({ xDim: 784, latents: 200 });           // the linear SBN of Tucker et al.
 * const p = sbn.init(key(0));
 * const theta = sbn.encode(p, x);                           // [B, 200]
 * const b = sbn.sampleLatents(key(1), theta, 1);            // [1, B, 200]
 * const f = sbn.elbo(p, x, b, theta);                        // [1, B]
 */
export function SBN(config: SBNConfig): SBNModel {
  const cfg: Required<SBNConfig> = { latents: 200, hidden: [], dtype: 'float32', ...config };
  checkInt('SBN', 'xDim', cfg.xDim, 1);
  checkInt('SBN', 'latents', cfg.latents, 1);
  cfg.hidden.forEach((h, i) => checkInt('SBN', `hidden[${i}]`, h, 1));
  if (cfg.dtype !== 'float32' && cfg.dtype !== 'float64') throw new ValueError(`SBN: dtype must be 'float32' or 'float64', got '${String(cfg.dtype)}'`);
  const D = cfg.xDim;
  const K = cfg.latents;
  const encSizes = [D, ...cfg.hidden, K];
  const decSizes = [K, ...[...cfg.hidden].reverse(), D];
  const encLayers = encSizes.slice(1).map((o, i) => Linear(encSizes[i], o, { dtype: cfg.dtype }));
  const decLayers = decSizes.slice(1).map((o, i) => Linear(decSizes[i], o, { dtype: cfg.dtype }));

  const mlp = (layers: LinearParams[], h0: Tensor): Tensor => {
    let h = h0;
    layers.forEach((l, i) => {
      h = dense(h, l.weight, l.bias);
      if (i < layers.length - 1) h = tanh(h);
    });
    return h;
  };
  const checkX = (fn: string, x: Tensor): void => {
    if (x.shape.length !== 2 || x.shape[1] !== D) throw new ShapeError(`SBN.${fn}: x must be [batch, ${D}], got ${fmtShape(x.shape)}`);
    if (x.dtype !== cfg.dtype) throw new DTypeError(`SBN.${fn}: x must be ${cfg.dtype} like the parameters, got ${x.dtype}`);
  };
  const checkLatent = (fn: string, name: string, t: Tensor, x: Tensor, rank2 = false): void => {
    const r = t.shape.length;
    if ((rank2 ? r !== 2 : r < 2) || t.shape[r - 1] !== K || t.shape[r - 2] !== x.shape[0])
      throw new ShapeError(`SBN.${fn}: ${name} must be [${rank2 ? '' : '..., '}${x.shape[0]}, ${K}] for x ${fmtShape(x.shape)}, got ${fmtShape(t.shape)}`);
  };

  const model: SBNModel = {
    config: cfg,
    init(k: Key): SBNParams {
      const ks = split(k, encLayers.length + decLayers.length);
      return {
        enc: encLayers.map((l, i) => l.init(ks[i])),
        prior: zeros([K], cfg.dtype),
        dec: decLayers.map((l, i) => l.init(ks[encLayers.length + i])),
      };
    },
    encode(params: SBNParams, x: Tensor): Tensor {
      checkX('encode', x);
      return mlp(params.enc, x);
    },
    decode(params: SBNParams, b: Tensor): Tensor {
      if (b.shape.length < 1 || b.shape[b.shape.length - 1] !== K) throw new ShapeError(`SBN.decode: b must end in ${K} latents, got ${fmtShape(b.shape)}`);
      return mlp(params.dec, b);
    },
    elbo(params: SBNParams, x: Tensor, b: Tensor, theta: Tensor): Tensor {
      checkX('elbo', x);
      checkLatent('elbo', 'b', b, x);
      checkLatent('elbo', 'theta', theta, x, true);
      const logPx = bernoulliLogLik(model.decode(params, b), x);
      return add(logPx, sub(bernoulliLogProb(b, params.prior), bernoulliLogProb(b, theta)));
    },
    elboAndGradB(params: SBNParams, x: Tensor, bt: Tensor, theta: Tensor): { value: Tensor; grad: Tensor } {
      checkX('elboAndGradB', x);
      checkLatent('elboAndGradB', 'b̃', bt, x, true);
      checkLatent('elboAndGradB', 'theta', theta, x, true);
      const hs: Tensor[] = [];
      let h = bt;
      params.dec.forEach((l, i) => {
        h = constantWeightLinear(h, l.weight, l.bias);
        if (i < params.dec.length - 1) {
          h = tanh(h);
          hs.push(h);
        }
      });
      // Backpropagation through the decoder written out: δ = x − σ(l), then through each tanh layer.
      let g = sub(x, sigmoid(h));
      for (let i = params.dec.length - 1; i >= 0; i--) {
        g = matmul(g, params.dec[i].weight);
        if (i > 0) g = mul(g, sub(1, square(hs[i - 1])));
      }
      const logPrior = sub(bernoulliLogProb(bt, params.prior), bernoulliLogProb(bt, theta));
      // log p(b̃) = Σ b̃ a − softplus(a) and log q(b̃|x) = Σ b̃ θ − softplus(θ) are linear in b̃.
      return { value: add(bernoulliLogLik(h, x), logPrior), grad: add(g, sub(params.prior, theta)) };
    },
    sampleLatents(k: Key, theta: Tensor, samples: number): Tensor {
      checkInt('SBN.sampleLatents', 'samples', samples, 1);
      const u = uniform(k, [samples, ...theta.shape], { dtype: cfg.dtype });
      return bernoulliFromUniform(theta, u);
    },
    sample(params: SBNParams, k: Key, n: number): Tensor {
      checkInt('SBN.sample', 'n', n, 1);
      const u = uniform(k, [n, K], { dtype: cfg.dtype });
      return sigmoid(model.decode(params, bernoulliFromUniform(params.prior, u)));
    },
    reconstruct(params: SBNParams, x: Tensor): Tensor {
      const b = cast(greater(model.encode(params, x), 0), cfg.dtype);
      return sigmoid(model.decode(params, b));
    },
  };
  return model;
}

/**
 * x·Wᵀ + b with W and b treated as constants: the backward pass gives x its cotangent dy·W and
 * skips the weight gradient (a wasted matrix product when the weights are not being trained).
 */
const constantWeightLinear = (x: Tensor, w: Tensor, bias?: Tensor): Tensor =>
  customGradient((xx: Tensor) => {
    const y = matmul(xx, w, { transB: true });
    return { value: bias === undefined ? y : add(y, bias), grad: (dy: Tensor) => [matmul(dy, w)] };
  })(x);

/**
 * Σ_k b_k·t_k − softplus(t_k) over the last axis: log Bernoulli(b | σ(t)) for binary b, extended
 * linearly to relaxed b ∈ (0, 1). Broadcasts b [..., K] against t.
 * @example bernoulliLogProb(tensor([[1, 0]]), tensor([[0, 0]])) // [2·log ½]
 */
export function bernoulliLogProb(b: Tensor, logits: Tensor): Tensor {
  return sum(sub(mul(b, logits), softplus(logits)), -1);
}

/**
 * The logistic noise log(u/(1 − u)) of uniforms u, with u clamped to [ε, 1 − ε].
 * @example logitOfUniform(uniform(key(0), [3])) // logistic draws
 */
export function logitOfUniform(u: Tensor): Tensor {
  const uc = clampUnit(u);
  return sub(log(uc), log1p(neg(uc)));
}

/**
 * u clamped into [ε, 1 − ε] (uniforms are data: no gradient is needed).
 * @example clampUnit(uniform(key(0), [3])) // no exact 0
 */
export function clampUnit(u: Tensor): Tensor {
  return clamp(u, UNIFORM_EPS, 1 - UNIFORM_EPS);
}

/**
 * b = H(θ + log(u/(1 − u))) = 1[u > 1 − σ(θ)] as a float tensor: a Bernoulli(σ(θ)) draw from u.
 * @example bernoulliFromUniform(theta, uniform(key(0), theta.shape)) // 0/1, same shape
 */
export function bernoulliFromUniform(theta: Tensor, u: Tensor): Tensor {
  return cast(greater(add(theta, logitOfUniform(u)), 0), u.dtype);
}

/** Options of the SBN evaluations. */
export interface SBNEvalOptions {
  /** Randomness of the samples. */
  key: Key;
  /** Examples per chunk; default 500 (ELBO) or 100 (log-likelihood). */
  batchSize?: number;
}


/**
 * The mean ELBO per example over the rows of x [n, D]: (1/n) Σ_i (1/S) Σ_s f_i(b_s), b_s ~ q(b|x_i),
 * with `samples` (default 1) draws per example.
 * @example sbnTestElbo(sbn, params, testX, { key: key(7) }) // e.g. −115
 */
export function sbnTestElbo(model: SBNModel, params: SBNParams, x: Tensor, opts: SBNEvalOptions & { samples?: number }): number {
  checkRows('sbnTestElbo', x, model.config.xDim);
  const S = opts.samples ?? 1;
  checkInt('sbnTestElbo', 'samples', S, 1);
  return meanOverChunks(x, opts.batchSize ?? 500, opts.key, (xb, k) => {
    const theta = model.encode(params, xb);
    return sum(model.elbo(params, xb, model.sampleLatents(k, theta, S), theta)).item() / S;
  });
}

/**
 * Importance-sampled log-likelihood with q as the proposal (Burda et al. 2016):
 * log p(x) ≈ log (1/k) Σ_j exp f(b_j), b_j ~ q(b|x), averaged over the rows of x; samples drawn in
 * chunks of `samplesPerChunk` (default 250) and combined by a running log-sum-exp.
 * @example sbnLogLikelihood(sbn, params, testX, { key: key(9), k: 1000 }).mean // ≤ 0
 */
export function sbnLogLikelihood(
  model: SBNModel,
  params: SBNParams,
  x: Tensor,
  opts: SBNEvalOptions & { k?: number; samplesPerChunk?: number },
): {
  /** The mean estimate of log p(x) over the rows (nats per example). */
  mean: number;
  /** The estimate for each row, [N]. */
  perExample: Float64Array;
} {
  checkRows('sbnLogLikelihood', x, model.config.xDim);
  const k = opts.k ?? 1000;
  checkInt('sbnLogLikelihood', 'k', k, 1);
  return importanceSampled(x, { key: opts.key, k, batchSize: opts.batchSize ?? 100, samplesPerChunk: opts.samplesPerChunk ?? 250 }, (xb, kk, samples) => {
    const theta = model.encode(params, xb);
    return model.elbo(params, xb, model.sampleLatents(kk, theta, samples), theta);
  });
}
