/**
 * Estimators of the encoder gradient of an SBN VAE, ĝ ≈ ∂E_q[f(b)]/∂θ per example and per logit
 * (θ [B, K] the encoder's logits), each with the parameters of its control variate:
 *
 * - NVIL (Mnih & Gregor 2014): (f(b) − c(x) − b̄)/max(1, √v) · ∇_θ log q(b|x), with an
 *   input-dependent baseline c(x) (a tanh MLP trained on (f − c(x) − b̄)²) and running mean b̄ and
 *   variance v of f − c(x) (decay α = 0.8). The running statistics are those from before the batch,
 *   so the estimator is exactly unbiased for ∇/max(1, √v) given them.
 * - REBAR (Tucker et al. 2017): z = θ + log(u/(1−u)), b = H(z), z̃ ~ z | b by the conditional
 *   reparameterization, and the control variate η·g(·) with g(z) = f(σ_λ(z)), σ_λ(z) = σ(z/λ):
 *   ĝ = [f(b) − η g(z̃)] ∇log q(b) + η ∇_θ g(z) − η ∇_θ g(z̃).
 * - RELAX (Grathwohl et al. 2018): the same with a learned surrogate c_φ(z) = η g(z) + r_ρ(z)
 *   (r_ρ a one-hidden-layer tanh MLP of σ(z); the REBAR term optional) in place of η g.
 *
 * No nested gradients: z and z̃ depend on θ elementwise, with closed-form dz/dθ = 1 and dz̃/dθ (b and v
 * held fixed), and ∂g/∂z, ∂r/∂z are written out (`SBNModel.elboAndGradB`, backpropagation through the
 * surrogate MLP by hand). So ĝ is an ordinary tensor expression of (η, λ, ρ), and the variance
 * objective Σ ĝ² is minimized with the first-order tape, as Tucker et al. and Grathwohl et al. do.
 */
import { stopGradient } from '../../core/autodiff.js';
import { ShapeError, ValueError, fmtShape } from '../../core/errors.js';
import type { Tensor } from '../../core/tensor.js';
import { mapLeaves } from '../../core/tree.js';
import { scalar } from '../../ops/creation.js';
import { add, cast, div, exp, greater, log, log1p, mul, neg, sigmoid, softplus, square, sub, tanh, where } from '../../ops/elementwise.js';
import { matmul } from '../../ops/linalg.js';
import { mean, sum } from '../../ops/reduce.js';
import { reshape } from '../../ops/shape.js';
import { MLP, type LinearParams } from '../../nn/linear.js';
import { split, type Key } from '../../random/key.js';
import { uniform } from '../../random/samplers.js';
import { clampUnit, logitOfUniform, type SBNModel, type SBNParams } from './sbn.js';
import { dense } from './terms.js';

/** The encoder-gradient estimators. */
export type SBNEstimator = 'nvil' | 'rebar' | 'relax';

/** The estimators' parameters; each uses its own fields. */
export interface EstimatorParams {
  /** NVIL: the baseline network c(x), x → tanh hidden → 1. */
  baseline?: LinearParams[];
  /** NVIL: the running mean b̄ and variance v of f − c(x), scalars set outside the gradient. */
  runMean?: Tensor;
  /** NVIL: the running variance v of f − c(x) (scalar). */
  runVar?: Tensor;
  /** REBAR and RELAX: the scale η of the relaxed control variate (scalar). */
  eta?: Tensor;
  /** REBAR and RELAX: log λ, the log-temperature of σ_λ (scalar). */
  logTemp?: Tensor;
  /** RELAX: the surrogate r_ρ(σ(z)), K → tanh hidden → 1. */
  surrogate?: LinearParams[];
}

/** Options of `initEstimator`. */
export interface EstimatorOptions {
  /** NVIL baseline hidden width; default 100 (Mnih & Gregor). */
  baselineHidden?: number;
  /** RELAX surrogate hidden width; default 50. */
  surrogateHidden?: number;
  /** Whether RELAX's surrogate includes the REBAR term η f(σ_λ(z)); default true (Grathwohl et al.). */
  rebarTerm?: boolean;
  /** Initial η; default 1. */
  eta?: number;
  /** Initial temperature λ; default 0.5. */
  temperature?: number;
}

/** The names `initEstimator` accepts. */
export const SBN_ESTIMATORS: readonly SBNEstimator[] = ['nvil', 'rebar', 'relax'];

/**
 * Fresh parameters of an estimator's control variate for `model`.
 * @example const ep = initEstimator(sbn, 'rebar', key(1)); // { eta: 1, logTemp: log 0.5 }
 */
export function initEstimator(model: SBNModel, estimator: SBNEstimator, k: Key, opts: EstimatorOptions = {}): EstimatorParams {
  checkEstimator('initEstimator', estimator);
  const { baselineHidden = 100, surrogateHidden = 50, rebarTerm = true, eta = 1, temperature = 0.5 } = opts;
  const dt = model.config.dtype;
  if (!(temperature > 0)) throw new ValueError(`initEstimator: temperature must be positive, got ${temperature}`);
  if (estimator === 'nvil') {
    positiveInt('initEstimator', 'baselineHidden', baselineHidden);
    const baseline = MLP([model.config.xDim, baselineHidden, 1], { dtype: dt }).init(k);
    return { baseline, runMean: scalar(0, dt), runVar: scalar(1, dt) };
  }
  const cv: EstimatorParams = { eta: scalar(eta, dt), logTemp: scalar(Math.log(temperature), dt) };
  if (estimator === 'relax') {
    positiveInt('initEstimator', 'surrogateHidden', surrogateHidden);
    cv.surrogate = MLP([model.config.latents, surrogateHidden, 1], { dtype: dt }).init(k);
    if (!rebarTerm) delete cv.eta;
  }
  return cv;
}

function positiveInt(fn: string, name: string, v: number): void {
  if (!Number.isInteger(v) || v < 1) throw new ValueError(`${fn}: ${name} must be a positive integer, got ${v}`);
}

/**
 * Throws a ValueError naming `fn` unless `estimator` is one of 'nvil', 'rebar', 'relax'.
 * @example checkEstimator('trainSBN', opts.estimator)
 */
export function checkEstimator(fn: string, estimator: string): asserts estimator is SBNEstimator {
  if (!(SBN_ESTIMATORS as readonly string[]).includes(estimator)) throw new ValueError(`${fn}: estimator must be 'nvil', 'rebar' or 'relax', got '${estimator}'`);
}

/** The noise of one estimate: u for z (and b), v for z̃ | b; both uniform [B, K]. */
export interface SBNNoise {
  /** Uniform noise [B, K] for z = θ + log u − log(1 − u) and b = H(z). */
  u: Tensor;
  /** Uniform noise [B, K] for the conditional z̃ | b. */
  v: Tensor;
}

/**
 * Uniform noise for the estimators, [B, K] each.
 * @example const noise = sbnNoise(key(3), 100, 200, 'float32')
 */
export function sbnNoise(k: Key, batch: number, latents: number, dtype: 'float32' | 'float64' = 'float32'): SBNNoise {
  const [ku, kv] = split(k, 2);
  return { u: uniform(ku, [batch, latents], { dtype }), v: uniform(kv, [batch, latents], { dtype }) };
}

/** z, b = H(z), the conditional z̃ | b, and dz̃/dθ at fixed b and v (dz/dθ = 1). */
export interface ConcreteSample {
  /** The logistic sample z = θ + log(u/(1 − u)), [B, K]. */
  z: Tensor;
  /** The hard sample b = H(z) ∈ {0, 1}, [B, K]. */
  b: Tensor;
  /** The conditional sample z̃ ~ p(z | b), [B, K]. */
  zTilde: Tensor;
  /** dz̃/dθ at fixed b and v, [B, K]. */
  dzTilde: Tensor;
}

/**
 * The concrete relaxation of Bernoulli(σ(θ)) (Maddison et al. 2017; Jang et al. 2017) and the
 * conditional sample of Tucker et al. (2017, appendix): z = θ + log(u/(1−u)), b = 1[z > 0], and with
 * p = σ(θ), u' = 1 − p(1 − v) if b = 1 else v(1 − p), z̃ = θ + log(u'/(1 − u')) — in stable form
 * z̃ = softplus(θ) + log1p(−p(1−v)) − log1p(−v) (b = 1) or log v − softplus(−θ) − log1p(−v(1−p))
 * (b = 0) — whose derivative at fixed b, v is dz̃/dθ = p − (1−v)p(1−p)/u' (b = 1) or
 * 1 − p − v p(1−p)/(1 − u') (b = 0).
 * @example const { b, zTilde } = concreteSample(theta, noise.u, noise.v)
 */
export function concreteSample(theta: Tensor, u: Tensor, v: Tensor): ConcreteSample {
  for (const [n, t] of [['u', u], ['v', v]] as const)
    if (t.shape.length !== theta.shape.length || t.shape.some((d, i) => d !== theta.shape[i]))
      throw new ShapeError(`concreteSample: ${n} ${fmtShape(t.shape)} must have the shape of theta ${fmtShape(theta.shape)}`);
  const z = add(theta, logitOfUniform(u));
  const b = cast(greater(z, 0), theta.dtype);
  const vc = clampUnit(v);
  const p = sigmoid(theta);
  const q = sub(1, p);
  const pq = mul(p, q);
  const u1 = sub(1, mul(p, sub(1, vc))); // u' when b = 1
  const w0 = sub(1, mul(vc, q)); // 1 − u' when b = 0
  const z1 = sub(add(softplus(theta), log(u1)), log1p(neg(vc)));
  const z0 = sub(sub(log(vc), softplus(neg(theta))), log(w0));
  const d1 = sub(p, div(mul(sub(1, vc), pq), u1));
  const d0 = sub(q, div(mul(vc, pq), w0));
  return { z, b, zTilde: where(b, z1, z0), dzTilde: where(b, d1, d0) };
}

/**
 * g(z) = f(σ_λ(z)) per example [B] and its gradient ∂g/∂z [B, K] = ∂f/∂b̃ ⊙ b̃(1 − b̃)/λ at
 * b̃ = σ(z/λ): the REBAR control variate. `temp` is λ (a scalar tensor; gradients flow to it, not to
 * the model's parameters).
 * @example const { value, dz } = relaxedElbo(sbn, params, x, theta, z, exp(ep.logTemp))
 */
export function relaxedElbo(model: SBNModel, params: SBNParams, x: Tensor, theta: Tensor, z: Tensor, temp: Tensor): {
  /** g(z) = f(σ(z/λ)) per example, [B]. */
  value: Tensor;
  /** ∂g/∂z, [B, K]. */
  dz: Tensor;
} {
  const bt = sigmoid(div(z, temp));
  const { value, grad } = model.elboAndGradB(params, x, bt, theta);
  return { value, dz: div(mul(grad, mul(bt, sub(1, bt))), temp) };
}

/**
 * The RELAX surrogate r_ρ(s), s = σ(z), an MLP with tanh hidden layers and a scalar output, [B],
 * and ∂r/∂z [B, K] by hand: g ← W_Lᵀ, then g ← (g ⊙ (1 − h²))·W for each hidden layer, times s(1 − s).
 * @example const { value, dz } = surrogateValueAndGrad(ep.surrogate, z)
 */
export function surrogateValueAndGrad(layers: LinearParams[], z: Tensor): {
  /** r_ρ(σ(z)) per example, [B]. */
  value: Tensor;
  /** ∂r/∂z, [B, K]. */
  dz: Tensor;
} {
  const s = sigmoid(z);
  const hs: Tensor[] = [];
  let h = s;
  layers.forEach((l, i) => {
    h = dense(h, l.weight, l.bias);
    if (i < layers.length - 1) {
      h = tanh(h);
      hs.push(h);
    }
  });
  let g = layers[layers.length - 1].weight; // [1, H] broadcasts over the batch
  for (let i = layers.length - 2; i >= 0; i--) g = matmul(mul(g, sub(1, square(hs[i]))), layers[i].weight);
  return { value: reshape(h, [h.shape[0]]), dz: mul(g, mul(s, sub(1, s))) };
}

/** What an estimator computes on a batch. */
export interface EncoderGradient {
  /** ĝ [B, K]: the estimate of ∂E_q[f]/∂θ; a function of the control variate's parameters. */
  ghat: Tensor;
  /** f(b) [B] at the sampled b (no gradient). */
  f: Tensor;
  /** The sample b [B, K]. */
  b: Tensor;
  /** The control variate's own objective: Σ ĝ² / B (REBAR, RELAX) or NVIL's mean (f − c(x) − b̄)². */
  controlLoss: Tensor;
  /** NVIL: the factor 1/max(1, √v) applied to ĝ (else 1). */
  scale: number;
  /** NVIL: the batch mean and variance of f − c(x), for the running statistics. */
  signalStats?: {
    /** Batch mean of f − c(x) (scalar). */
    mean: Tensor;
    /** Batch variance of f − c(x) (scalar). */
    variance: Tensor;
  };
}

/** Options of `encoderGradient`. */
export interface EncoderGradientOptions {
  /** f(b) [B] when already computed (saves a decoder pass). */
  f?: Tensor;
  /** NVIL: divide by max(1, √v); default true. */
  normalize?: boolean;
}

/**
 * The encoder-gradient estimate ĝ [B, K] of `estimator` for a batch x [B, D] with encoder logits θ
 * [B, K] and noise (u, v). The model parameters and θ are treated as constants; gradients reach only
 * the estimator's parameters, through `controlLoss`.
 * @example
 * const theta = stopGradient(sbn.encode(p, x));
 * const r = encoderGradient(sbn, p, ep, 'rebar', x, theta, sbnNoise(key(2), B, 200));
 * // loss for the encoder: −Σ stopGradient(r.ghat) ⊙ θ(W) / B; for η, λ: r.controlLoss
 */
export function encoderGradient(
  model: SBNModel,
  params: SBNParams,
  ep: EstimatorParams,
  estimator: SBNEstimator,
  x: Tensor,
  theta: Tensor,
  noise: SBNNoise,
  opts: EncoderGradientOptions = {},
): EncoderGradient {
  checkEstimator('encoderGradient', estimator);
  const mp = mapLeaves(params, (t) => stopGradient(t));
  const th = stopGradient(theta);
  const B = x.shape[0];
  const cs = concreteSample(th, noise.u, noise.v);
  const f = stopGradient(opts.f ?? model.elbo(mp, x, cs.b, th));
  const fCol = reshape(f, [B, 1]);
  const score = sub(cs.b, sigmoid(th)); // ∂ log q(b|θ)/∂θ
  if (estimator === 'nvil') {
    const { baseline, runMean, runVar } = need(ep, estimator, ['baseline', 'runMean', 'runVar']);
    const c = reshape(applyTanhMlp(baseline, x), [B]);
    const l = sub(f, stopGradient(c)); // the learning signal before centring
    const scale = (opts.normalize ?? true) ? 1 / Math.max(1, Math.sqrt(runVar.item())) : 1;
    const centred = sub(stopGradient(l), stopGradient(runMean));
    const ghat = mul(reshape(mul(centred, scale), [B, 1]), score);
    const controlLoss = mean(square(sub(sub(f, c), stopGradient(runMean))));
    const lm = mean(l);
    return { ghat, f, b: cs.b, controlLoss, scale, signalStats: { mean: lm, variance: mean(square(sub(l, lm))) } };
  }
  // REBAR / RELAX: c(z) = η f(σ_λ(z)) [+ r_ρ(z)], ĝ = [f(b) − c(z̃)] score + ∇_θ c(z) − ∇_θ c(z̃),
  // where ∇_θ c(z) = ∂c/∂z (dz/dθ = 1) and ∇_θ c(z̃) = ∂c/∂z̃ ⊙ dz̃/dθ.
  const parts: { czt: Tensor; dcz: Tensor; dczt: Tensor }[] = [];
  if (estimator === 'rebar' || ep.eta !== undefined) {
    const { eta, logTemp } = need(ep, estimator, ['eta', 'logTemp']);
    const temp = exp(logTemp);
    const dz = relaxedElbo(model, mp, x, th, cs.z, temp).dz;
    const gzt = relaxedElbo(model, mp, x, th, cs.zTilde, temp);
    parts.push({ czt: mul(eta, gzt.value), dcz: mul(eta, dz), dczt: mul(eta, gzt.dz) });
  }
  if (estimator === 'relax') {
    const { surrogate } = need(ep, estimator, ['surrogate']);
    const rzt = surrogateValueAndGrad(surrogate, cs.zTilde);
    parts.push({ czt: rzt.value, dcz: surrogateValueAndGrad(surrogate, cs.z).dz, dczt: rzt.dz });
  }
  const [p0, p1] = parts;
  const czt = p1 === undefined ? p0.czt : add(p0.czt, p1.czt);
  const dcz = p1 === undefined ? p0.dcz : add(p0.dcz, p1.dcz);
  const dczt = p1 === undefined ? p0.dczt : add(p0.dczt, p1.dczt);
  const ghat = add(mul(sub(fCol, reshape(czt, [B, 1])), score), sub(dcz, mul(dczt, cs.dzTilde)));
  return { ghat, f, b: cs.b, controlLoss: div(sum(square(ghat)), B), scale: 1 };
}

/**
 * x through a tanh MLP with a linear output layer (NVIL's baseline c(x)).
 * @example applyTanhMlp(ep.baseline, x) // [B, 1]
 */
export function applyTanhMlp(layers: LinearParams[], x: Tensor): Tensor {
  let h = x;
  layers.forEach((l, i) => {
    h = dense(h, l.weight, l.bias);
    if (i < layers.length - 1) h = tanh(h);
  });
  return h;
}

function need<K extends keyof EstimatorParams>(ep: EstimatorParams, estimator: SBNEstimator, keys: readonly K[]): Required<Pick<EstimatorParams, K>> {
  for (const k of keys)
    if (ep[k] === undefined) throw new ValueError(`encoderGradient: the ${estimator} estimator needs '${k}' in its parameters (made by initEstimator(model, '${estimator}', key))`);
  return ep as Required<Pick<EstimatorParams, K>>;
}

/** Mnih & Gregor's decay α of the running signal statistics. */
export const NVIL_DECAY = 0.8;

/**
 * NVIL's running statistics after a batch: b̄ ← α b̄ + (1 − α) mean, v ← α v + (1 − α) var.
 * @example const next = nvilRunningStats(ep, r.signalStats!)
 */
export function nvilRunningStats(ep: EstimatorParams, stats: { mean: Tensor; variance: Tensor }, decay = NVIL_DECAY): EstimatorParams {
  if (ep.runMean === undefined || ep.runVar === undefined) throw new ValueError('nvilRunningStats: the parameters have no runMean/runVar (not NVIL parameters)');
  const mix = (old: Tensor, now: Tensor): Tensor => add(mul(old, decay), mul(now, 1 - decay));
  return { ...ep, runMean: mix(ep.runMean, stats.mean), runVar: mix(ep.runVar, stats.variance) };
}
