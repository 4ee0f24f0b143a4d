/**
 * VAEs with flow posteriors and flow priors (survey §12): the encoder gives μ, σ and a context h;
 * z₀ = μ + σ ε, z_K = f_K ∘ … ∘ f_1(z₀; h) with conditional flow layers fed h, and
 *   log q(z_K | x) = log N(z₀; μ, σ²) − Σ_k log|det ∂f_k/∂z_{k−1}|,
 * computed in the sampling pass (no inverse). Posteriors: 'iaf' (Kingma et al. 2016: MADE layers
 * with the context added to their first hidden layer and the sigmoid gate, the order reversed
 * between layers), 'nsf' (autoregressive rational-quadratic splines, Durkan et al. 2019, sampling
 * direction in one pass), 'sylvester' (Householder–Sylvester with amortized parameters, van den
 * Berg et al. 2018), or 'gaussian' (no flow: the plain VAE, for comparison). The prior p(z) is
 * N(0, I) or a MAF / NSF over z with a standard normal base (density direction in one pass).
 * The encoder and decoder are those of a one-layer `VAE` (model.ts); the KL term enters as the
 * sampled log-ratio log q(z|x) − log p(z), so the ELBO and IWAE objectives apply unchanged.
 */
import { ShapeError, ValueError, fmtShape } from '../../core/errors.js';
import type { Tensor } from '../../core/tensor.js';
import { add, sigmoid, sub } from '../../ops/elementwise.js';
import { sum } from '../../ops/reduce.js';
import { reshape } from '../../ops/shape.js';
import type { MinibatchLoader } from '../../data/loader.js';
import { Flow } from '../../flows/flow.js';
import type { FlowLayer } from '../../flows/core.js';
import { iaf, maf } from '../../flows/autoregressive.js';
import { splineAutoregressive } from '../../flows/spline.js';
import { conditionalSylvester } from '../../flows/sylvester.js';
import { activation, type Activation } from '../../nn/activations.js';
import { Linear, type LinearParams } from '../../nn/linear.js';
import { split, type Key } from '../../random/key.js';
import { normal } from '../../random/samplers.js';
import type { TrainState } from './checkpoint.js';
import { checkLayers, lossFromTerms, trainWithBound, type BoundLossOptions, type BoundTrainOptions } from './ladder.js';
import type { TrainResult } from './loop.js';
import { VAE, type ForwardTerms, type VAEModel, type VAEParams } from './model.js';
import type { LossResult } from './objectives.js';
import { DEFAULT_LOGVAR_RANGE, bernoulliLogLik, clampLogVar, dense, diagNormalLogProbAtEps, gaussianLogLik, reparameterize, stdNormalLogProbPerDim } from './terms.js';

/** The flow after the Gaussian of q(z|x). */
export type PosteriorFlow = 'gaussian' | 'iaf' | 'nsf' | 'sylvester';

/** The prior p(z): N(0, I), or a MAF or an autoregressive NSF over z with an N(0, I) base. */
export type PriorFlow = 'normal' | 'maf' | 'nsf';

/** Configuration of `FlowVAE`. */
export interface FlowVAEConfig {
  /** Data dimension, e.g. 784 for 28×28 images. */
  xDim: number;
  /** Latent size d (≥ 1). */
  z: number;
  /** Hidden widths of the encoder MLP (the decoder mirrors them). */
  hidden: readonly number[];
  /** The posterior's flow; default 'iaf'. */
  posterior?: PosteriorFlow;
  /** Flow layers of the posterior; default 2. */
  flowLayers?: number;
  /** Hidden widths of each posterior layer's MADE (iaf, nsf); default [2d]. */
  flowHidden?: readonly number[];
  /** Width of the context h = act(W·hidden + b) the encoder gives the flow; default the last hidden width. */
  contextFeatures?: number;
  /** Spline bins (nsf posterior and prior); default 8. */
  bins?: number;
  /** Spline interval [−bound, bound], identity outside (nsf); default 3. */
  bound?: number;
  /** Householder reflections per Sylvester layer; default 4. */
  reflections?: number;
  /** The prior; default 'normal'. */
  prior?: PriorFlow;
  /** Layers of a flow prior; default 2. */
  priorLayers?: number;
  /** Hidden widths of each prior layer's MADE; default [2d]. */
  priorHidden?: readonly number[];
  /** Hidden activation of the encoder and decoder; default 'tanh' (the flows' MADEs use ReLU). */
  activation?: Activation;
  /** p(x|z): 'bernoulli' (logits) or 'gaussian' (learned variance); default 'bernoulli'. */
  likelihood?: 'bernoulli' | 'gaussian';
  /** Clamp of the log-variance heads; default [−10, 10]. */
  logVarRange?: readonly [number, number];
}

/** Parameters of a `FlowVAE`. */
export interface FlowVAEParams {
  /** The one-layer VAE's encoder and decoder. */
  vae: VAEParams;
  /** The context head (hidden → h), absent for the 'gaussian' posterior. */
  context?: LinearParams;
  /** The posterior flow's layer parameters (empty for 'gaussian'). */
  flow: unknown[];
  /** The prior flow's layer parameters (empty for the 'normal' prior). */
  prior: unknown[];
}

/** What the encoder gives for x [B, D]: μ, log σ² [B, d] and the context h [B, c] (absent for 'gaussian'). */
export interface FlowEncoding {
  /** The Gaussian's mean, [B, d]. */
  mu: Tensor;
  /** The Gaussian's clamped log-variance, [B, d]. */
  logVar: Tensor;
  /** The context every flow layer is conditioned on, [B, c]. */
  context?: Tensor;
}

/** A VAE with a flow posterior (and optionally a flow prior) as a functional module. */
export interface FlowVAEModel {
  /** The configuration with every default filled in. */
  readonly config: Readonly<Required<FlowVAEConfig>>;
  /** The one-layer `VAE` whose encoder and decoder this model uses. */
  readonly vae: VAEModel;
  /** The conditional posterior flow (null for 'gaussian'): `posteriorFlow.apply(params.flow, h)` is a distribution of z₀ ↦ z_K draws. */
  readonly posteriorFlow: Flow | null;
  /** The prior flow (null for the 'normal' prior). */
  readonly priorFlow: Flow | null;
  /** Fresh float32 parameters. */
  init(k: Key): FlowVAEParams;
  /** μ, log σ² and the context for x [B, D]. */
  encode(params: FlowVAEParams, x: Tensor): FlowEncoding;
  /**
   * Posterior draws from noise eps [k, B, d]: z₀ = μ + σ ε, z = z_K [k, B, d], and
   * log q(z | x) = log N(z₀; μ, σ²) − Σ log|det J| [k, B], from the same pass.
   */
  posterior(params: FlowVAEParams, x: Tensor, eps: Tensor): {
    /** The Gaussian draw μ + σ ε [k, B, d], before the flow. */
    z0: Tensor;
    /** The flow's output z_K [k, B, d]. */
    z: Tensor;
    /** log q(z_K | x) [k, B]. */
    logQ: Tensor;
  };
  /** log p(z) for z [..., d] → [...]. */
  logPrior(params: FlowVAEParams, z: Tensor): Tensor;
  /** One pass with noise eps[0] [k, B, d]: log p(x|z) [k, B] and kl[0] = log q(z|x) − log p(z) as [k, B, 1]. */
  forward(params: FlowVAEParams, x: Tensor, eps: readonly Tensor[], opts?: { analyticKL?: boolean }): ForwardTerms;
  /** Standard-normal noise for `forward`: [[k, B, d]] float32. */
  noise(k: Key, samples: number, batch: number): Tensor[];
  /** Pixel means of `n` draws z ~ p(z), decoded. */
  sample(params: FlowVAEParams, k: Key, n: number): Tensor;
  /** Pixel means decoded from the flow applied to the encoder's mean (ε = 0). */
  reconstruct(params: FlowVAEParams, x: Tensor): Tensor;
}

const POSTERIORS: readonly PosteriorFlow[] = ['gaussian', 'iaf', 'nsf', 'sylvester'];
const PRIORS: readonly PriorFlow[] = ['normal', 'maf', 'nsf'];

/** A MADE order: the identity for even layers, reversed for odd ones (Kingma et al. 2016). */
function orderOf(d: number, layer: number): number[] {
  return Array.from({ length: d }, (_, i) => (layer % 2 === 0 ? i : d - 1 - i));
}

function posteriorLayers(cfg: Required<FlowVAEConfig>): FlowLayer[] {
  const d = cfg.z;
  const c = cfg.contextFeatures;
  return Array.from({ length: cfg.flowLayers }, (_, l): FlowLayer => {
    if (cfg.posterior === 'iaf') return iaf(d, { hidden: cfg.flowHidden, contextFeatures: c, order: orderOf(d, l) }) as FlowLayer;
    if (cfg.posterior === 'nsf') return splineAutoregressive(d, { cheap: 'forward', bins: cfg.bins, bound: cfg.bound, hidden: cfg.flowHidden, contextFeatures: c, order: orderOf(d, l) }) as FlowLayer;
    return conditionalSylvester(d, { contextFeatures: c, reflections: cfg.reflections }) as FlowLayer;
  });
}

function priorLayers(cfg: Required<FlowVAEConfig>): FlowLayer[] {
  const d = cfg.z;
  return Array.from({ length: cfg.priorLayers }, (_, l): FlowLayer => {
    const o = { hidden: cfg.priorHidden, order: orderOf(d, l) };
    return (cfg.prior === 'maf' ? maf(d, o) : splineAutoregressive(d, { ...o, bins: cfg.bins, bound: cfg.bound })) as FlowLayer;
  });
}

/**
 * Builds a VAE whose q(z|x) is a Gaussian followed by a conditional flow (IAF-VAE, NSF-VAE,
 * Sylvester-VAE), with an N(0, I) or flow prior. Train it with `trainFlowVAE` (ELBO or IWAE,
 * compiled steps), evaluate it with `testElboOf` / `logLikelihoodOf`.
 * @example
 * const m = FlowVAE({ xDim: 784, z: 50, hidden: [200, 200], posterior: 'iaf', flowLayers: 2 });
 * const params = m.init(key(0));
 * const t = m.forward(params, x, m.noise(key(1), 1, x.shape[0])); // t.kl[0]: [1, B, 1]
 */
export function FlowVAE(config: FlowVAEConfig): FlowVAEModel {
  const last = config.hidden.length > 0 ? config.hidden[config.hidden.length - 1] : config.xDim;
  const cfg: Required<FlowVAEConfig> = {
    posterior: 'iaf',
    flowLayers: 2,
    flowHidden: [2 * config.z],
    contextFeatures: last,
    bins: 8,
    bound: 3,
    reflections: 4,
    prior: 'normal',
    priorLayers: 2,
    priorHidden: [2 * config.z],
    activation: 'tanh',
    likelihood: 'bernoulli',
    logVarRange: DEFAULT_LOGVAR_RANGE,
    ...config,
  };
  checkLayers('FlowVAE', cfg.xDim, [{ z: cfg.z, hidden: cfg.hidden }]);
  if (!POSTERIORS.includes(cfg.posterior)) throw new ValueError(`FlowVAE: posterior must be one of ${POSTERIORS.join(', ')}, got '${String(cfg.posterior)}'`);
  if (!PRIORS.includes(cfg.prior)) throw new ValueError(`FlowVAE: prior must be one of ${PRIORS.join(', ')}, got '${String(cfg.prior)}'`);
  for (const [name, v] of [['flowLayers', cfg.flowLayers], ['priorLayers', cfg.priorLayers], ['contextFeatures', cfg.contextFeatures]] as const)
    if (!Number.isInteger(v) || v < 1) throw new ValueError(`FlowVAE: ${name} must be an integer ≥ 1, got ${v}`);
  const vae = VAE({ xDim: cfg.xDim, layers: [{ z: cfg.z, hidden: cfg.hidden }], activation: cfg.activation, likelihood: cfg.likelihood, logVarRange: cfg.logVarRange });
  const d = cfg.z;
  const D = cfg.xDim;
  const act = activation(cfg.activation);
  const ctxHead = cfg.posterior === 'gaussian' ? null : Linear(last, cfg.contextFeatures);
  const posteriorFlow = cfg.posterior === 'gaussian' ? null : new Flow(posteriorLayers(cfg));
  const priorFlow = cfg.prior === 'normal' ? null : new Flow(priorLayers(cfg));

  const checkX = (x: Tensor, op: string): void => {
    if (x.shape.length !== 2 || x.shape[1] !== D) throw new ShapeError(`FlowVAE.${op}: x must be [batch, ${D}], got ${fmtShape(x.shape)} (images of the wrong size?)`);
    if (x.dtype === 'int32') throw new ShapeError(`FlowVAE.${op}: x must be float, got int32`);
  };
  const encode = (params: FlowVAEParams, x: Tensor): FlowEncoding => {
    const p = params.vae.enc[0];
    let h = x;
    for (const layer of p.net) h = act(dense(h, layer.weight, layer.bias));
    const mu = dense(h, p.mu.weight, p.mu.bias);
    const logVar = clampLogVar(dense(h, (p.logVar as LinearParams).weight, (p.logVar as LinearParams).bias), cfg.logVarRange);
    if (ctxHead === null) return { mu, logVar };
    if (params.context === undefined) throw new ValueError(`FlowVAE: the ${cfg.posterior} posterior needs params.context (the context head)`);
    return { mu, logVar, context: act(dense(h, params.context.weight, params.context.bias)) };
  };
  const flowForward = (params: FlowVAEParams, z0: Tensor, context: Tensor | undefined): [Tensor, Tensor | null] => {
    if (posteriorFlow === null) return [z0, null];
    let z = z0;
    let ladj: Tensor | null = null;
    for (const t of posteriorFlow.transforms(params.flow, context)) {
      const [y, l] = t.forwardAndLadj(z);
      ladj = ladj === null ? l : add(ladj, l);
      z = y;
    }
    return [z, ladj];
  };
  const posterior = (params: FlowVAEParams, x: Tensor, eps: Tensor): { z0: Tensor; z: Tensor; logQ: Tensor } => {
    checkX(x, 'posterior');
    const B = x.shape[0];
    if (eps.shape.length !== 3 || eps.shape[1] !== B || eps.shape[2] !== d) throw new ShapeError(`FlowVAE.posterior: eps must be [k, ${B}, ${d}], got ${fmtShape(eps.shape)}`);
    const q = encode(params, x);
    const z0 = reparameterize(q.mu, q.logVar, eps); // [k, B, d]
    const logQ0 = sum(diagNormalLogProbAtEps(eps, q.logVar), -1); // [k, B]
    const [z, ladj] = flowForward(params, z0, q.context);
    return { z0, z, logQ: ladj === null ? logQ0 : sub(logQ0, ladj) };
  };
  const logPrior = (params: FlowVAEParams, z: Tensor): Tensor => {
    if (z.rank === 0 || z.shape[z.rank - 1] !== d) throw new ShapeError(`FlowVAE.logPrior: z must end in the latent size ${d}, got ${fmtShape(z.shape)}`);
    return priorFlow === null ? sum(stdNormalLogProbPerDim(z), -1) : priorFlow.apply(params.prior).logProb(z);
  };
  const decodeMean = (params: FlowVAEParams, z: Tensor): Tensor => {
    const out = vae.decodeLayer(params.vae, 0, z);
    return out.logVar === undefined ? sigmoid(out.mu) : out.mu;
  };

  return {
    config: cfg,
    vae,
    posteriorFlow,
    priorFlow,
    init(k: Key): FlowVAEParams {
      const [kv, kc, kf, kp] = split(k, 4);
      const params: FlowVAEParams = { vae: vae.init(kv), flow: posteriorFlow?.init(kf, 'float32') ?? [], prior: priorFlow?.init(kp, 'float32') ?? [] };
      if (ctxHead !== null) params.context = ctxHead.init(kc);
      return params;
    },
    encode(params, x) {
      checkX(x, 'encode');
      return encode(params, x);
    },
    posterior,
    logPrior,
    forward(params: FlowVAEParams, x: Tensor, eps: readonly Tensor[]): ForwardTerms {
      if (eps.length !== 1) throw new ValueError(`FlowVAE.forward: expected noise for 1 layer, got ${eps.length}`);
      const { z, logQ } = posterior(params, x, eps[0]);
      const [k, B] = eps[0].shape;
      const kl = reshape(sub(logQ, logPrior(params, z)), [k, B, 1]);
      const out = vae.decodeLayer(params.vae, 0, z);
      const logPx = out.logVar === undefined ? bernoulliLogLik(out.mu, x) : gaussianLogLik(out.mu, out.logVar, x);
      return { logPx, kl: [kl], analytic: false };
    },
    noise: (k, samples, batch) => vae.noise(k, samples, batch),
    sample(params: FlowVAEParams, k: Key, n: number): Tensor {
      if (!Number.isInteger(n) || n < 1) throw new ValueError(`FlowVAE.sample: n must be an integer ≥ 1, got ${n}`);
      const z = priorFlow === null ? normal(k, [n, d], { dtype: 'float32' }) : priorFlow.apply(params.prior).rsample(k, [n]);
      return decodeMean(params, z);
    },
    reconstruct(params: FlowVAEParams, x: Tensor): Tensor {
      checkX(x, 'reconstruct');
      const q = encode(params, x);
      return decodeMean(params, flowForward(params, q.mu, q.context)[0]);
    },
  };
}

/**
 * The flow VAE's loss for a batch x [B, D] with noise from `model.noise(key, k, B)`: the ELBO
 * E_q[log p(x|z)] − β·E_q[log q(z|x) − log p(z)] (sampled KL) or the IWAE bound L_k.
 * @example const { loss } = flowVaeLoss(m, params, x, m.noise(key(1), 5, x.shape[0]), { objective: 'iwae' });
 */
export function flowVaeLoss(model: FlowVAEModel, params: FlowVAEParams, x: Tensor, eps: readonly Tensor[], opts: BoundLossOptions = {}): LossResult {
  return lossFromTerms(model.forward(params, x, eps), opts, 'flowVaeLoss');
}

/**
 * Trains a flow VAE with `trainLoop` (compiled steps by default) until `opts.steps` steps.
 * @example
 * const opt = adam(1e-3);
 * const p = m.init(key(0));
 * const r = await trainFlowVAE(m, { params: p, optState: opt.init(p), step: 0 }, loader,
 *   { steps: 2000, key: key(1), optimizer: opt, objective: 'iwae', k: 5 });
 */
export async function trainFlowVAE(model: FlowVAEModel, state: TrainState<FlowVAEParams>, loader: MinibatchLoader, opts: BoundTrainOptions): Promise<TrainResult<FlowVAEParams>> {
  return trainWithBound('trainFlowVAE', model, { flowVAE: model.config }, state, loader, opts, (p, x, eps, o) => flowVaeLoss(model, p, x, eps, o));
}
