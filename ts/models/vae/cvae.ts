/**
 * The conditional VAE of Sohn, Lee & Yan (2015) for class labels: encoder q(z|x,y), decoder
 * p(x|z,y) and prior p(z|y), with y the one-hot label. The prior is N(0, I) by default (as most
 * CVAE uses take it) or, with `prior: 'learned'`, Sohn et al.'s conditional prior network
 * p(z|y) = N(μ(y), diag σ²(y)). The bound is the ELBO with closed-form KL:
 * log p(x|y) ≥ E_q(z|x,y)[log p(x|z,y)] − KL(q(z|x,y) ‖ p(z|y)).
 *
 * The class enters every network through its first layer: W·[h; onehot(y)] = W_h·h + W_y[:, y], so
 * the label costs one row lookup instead of a matrix product (`CondNetParams`; the M2 model of
 * Kingma et al. 2014 in m2.ts uses the same split to enumerate every class in one batched pass).
 */
import { DTypeError, ShapeError, ValueError, fmtShape } from '../../core/errors.js';
import type { Tensor } from '../../core/tensor.js';
import { ENGINE } from '../../core/engine.js';
import { add, cast, mul, sigmoid, sub } from '../../ops/elementwise.js';
import { tensor } from '../../ops/creation.js';
import { mean, sum } from '../../ops/reduce.js';
import { gather, slice, transpose } from '../../ops/shape.js';
import { activation, type Activation } from '../../nn/activations.js';
import { Linear, MLP, type LinearParams } from '../../nn/linear.js';
import type { MinibatchLoader } from '../../data/loader.js';
import { split, type Key } from '../../random/key.js';
import { normal, type FloatDType } from '../../random/samplers.js';
import type { TrainState } from './checkpoint.js';
import { trainLoop, type LoopOptions, type TrainResult } from './loop.js';
import { betaAt, checkWeight, weighted, type BetaSchedule, type Weight } from './objectives.js';
import { bernoulliLogLik, checkInt, clampLogVar, DEFAULT_LOGVAR_RANGE, dense, gaussianLogLik, klDiagNormalPerDim, klStdNormalPerDim, reparameterize } from './terms.js';
import { meanOverChunks } from './evaluate.js';

/**
 * Parameters of an MLP whose input is [h; onehot(y)]: the first layer's weight split into the part
 * on h (`inX`, with the bias) and the part on the class (`inY`, [hidden₁, C]); `rest` are the
 * remaining hidden layers.
 */
export interface CondNetParams {
  /** The first layer's part on h, with the bias: W_h [H₁, in], b [H₁]. */
  inX: LinearParams;
  /** The first layer's part on the class, W_y [H₁, C] (a column per class). */
  inY: Tensor;
  /** The remaining hidden layers. */
  rest: LinearParams[];
}

/** Parameters of a diagonal-Gaussian (or, without `logVar`, Bernoulli-logits) head on a conditional net. */
export interface CondHeadParams {
  /** The conditional hidden net on [h; onehot(y)]. */
  net: CondNetParams;
  /** The mean (or logits) head. */
  mu: LinearParams;
  /** The log-variance head; absent for Bernoulli logits. */
  logVar?: LinearParams;
}

/** The learned prior p(z|y): an MLP on onehot(y) with mean and log-variance heads. */
export interface PriorNetParams {
  /** The hidden layers on onehot(y) (none by default). */
  net: LinearParams[];
  /** The mean head of p(z|y). */
  mu: LinearParams;
  /** The log-variance head of p(z|y). */
  logVar: LinearParams;
}

/** Configuration of `CVAE`. */
export interface CVAEConfig {
  /** Data dimension, e.g. 784. */
  xDim: number;
  /** Latent dimension. */
  zDim: number;
  /** Hidden widths of the encoder (at least one layer); the decoder mirrors them. */
  hidden: readonly number[];
  /** Number of classes C (labels in [0, C)); default 10. */
  numClasses?: number;
  /** Hidden activation; default 'tanh'. */
  activation?: Activation;
  /** p(x|z,y): 'bernoulli' (logits) or 'gaussian' (learned per-pixel variance); default 'bernoulli'. */
  likelihood?: 'bernoulli' | 'gaussian';
  /** p(z|y): 'standard' = N(0, I) (default) or 'learned' (Sohn et al.'s conditional prior network). */
  prior?: 'standard' | 'learned';
  /** Hidden widths of the prior network (prior 'learned'); default [] (a per-class mean and log-variance). */
  priorHidden?: readonly number[];
  /** Clamp of every log-variance head; default [−10, 10]. */
  logVarRange?: readonly [number, number];
  /** Parameter dtype; default 'float32' (float64 for gradient checks). */
  dtype?: FloatDType;
}

/** Parameters of a `CVAE`. */
export interface CVAEParams {
  /** q(z | x, y). */
  enc: CondHeadParams;
  /** p(x | z, y). */
  dec: CondHeadParams;
  /** Present when the prior is learned. */
  prior?: PriorNetParams;
}

/** The terms of one pass: log p(x|z,y) per sample [k, B] and the closed-form KL per coordinate [B, zDim]. */
export interface CVAETerms {
  /** log p(x|z,y) per sample, [k, B]. */
  logPx: Tensor;
  /** KL(q(z|x,y) ‖ p(z|y)) per coordinate, in closed form, [B, zDim]. */
  kl: Tensor;
}

/** Labels: an int32 tensor [B] or plain integers. */
export type LabelsLike = Tensor | ArrayLike<number>;

/** A CVAE as a functional module. */
export interface CVAEModel {
  /** The configuration with every default filled in. */
  readonly config: Readonly<Required<CVAEConfig>>;
  /** Fresh parameters (PyTorch's default Linear initialization; the split first layers as one Linear on [h; onehot(y)]). */
  init(k: Key): CVAEParams;
  /** q(z|x,y): mean and clamped log-variance [B, zDim]. */
  encode(params: CVAEParams, x: Tensor, labels: LabelsLike): {
    /** The mean, [B, zDim]. */
    mu: Tensor;
    /** The clamped log-variance, [B, zDim]. */
    logVar: Tensor;
  };
  /** p(x|z,y) for z [..., B, zDim]: logits (Bernoulli) or mean and log-variance (Gaussian). */
  decode(params: CVAEParams, z: Tensor, labels: LabelsLike): {
    /** Logits (Bernoulli) or means (Gaussian), [..., B, xDim]. */
    mu: Tensor;
    /** The per-pixel log-variance (Gaussian only). */
    logVar?: Tensor;
  };
  /** p(z|y): mean and log-variance [B, zDim] (zeros for the standard prior). */
  prior(params: CVAEParams, labels: LabelsLike): {
    /** The prior mean, [B, zDim]. */
    mu: Tensor;
    /** The prior log-variance, [B, zDim]. */
    logVar: Tensor;
  };
  /** One pass with noise eps [k, B, zDim] (from `noise`). */
  forward(params: CVAEParams, x: Tensor, labels: LabelsLike, eps: Tensor): CVAETerms;
  /** Standard-normal noise [k, B, zDim] in the parameter dtype. */
  noise(k: Key, samples: number, batch: number): Tensor;
  /** Pixel means E[x|z,y] (probabilities for Bernoulli) of one sample z ~ p(z|y) per label: [n, xDim]. */
  sample(params: CVAEParams, k: Key, labels: LabelsLike): Tensor;
  /** Pixel means decoded from the posterior mean: x ↦ E[x | z = μ(x, y), y]. */
  reconstruct(params: CVAEParams, x: Tensor, labels: LabelsLike): Tensor;
}

/**
 * Validates labels against [0, numClasses) and returns them as an int32 tensor [B]; errors name
 * `op`, the offending value and its position, and the expected count. Labels that are inputs of a
 * step being compiled are checked for shape only (their values change from call to call; the
 * compiled gather checks its indices, and the training loops check the data set's labels).
 * @example checkClassLabels('CVAE.forward', [3, 7], 10, 2) // int32 tensor [2]
 */
export function checkClassLabels(op: string, labels: LabelsLike, numClasses: number, batch?: number): Tensor {
  const isT = typeof (labels as Tensor).dataSync === 'function';
  const t = labels as Tensor;
  if (isT && t.shape.length !== 1) throw new ShapeError(`${op}: labels must be a vector [B], got ${fmtShape(t.shape)}`);
  if (isT && ENGINE.recorder?.isTraced(t) === true) {
    if (batch !== undefined && t.shape[0] !== batch) throw new ShapeError(`${op}: ${t.shape[0]} labels for a batch of ${batch}`);
    return t.dtype === 'int32' ? t : cast(t, 'int32');
  }
  const vals: ArrayLike<number> = isT ? t.dataSync() : (labels as ArrayLike<number>);
  if (batch !== undefined && vals.length !== batch) throw new ShapeError(`${op}: ${vals.length} labels for a batch of ${batch}`);
  for (let i = 0; i < vals.length; i++) {
    const v = vals[i];
    if (!Number.isInteger(v) || v < 0 || v >= numClasses) throw new ValueError(`${op}: label ${v} at position ${i} is out of range [0, ${numClasses})`);
  }
  if (isT && t.dtype === 'int32') return t;
  return tensor(Int32Array.from(vals), [vals.length], 'int32');
}

/** Builds the split-first-layer MLP of `CondNetParams` (shared by CVAE and M2). */
export interface CondNet {
  /** Fresh parameters for the net. */
  init(k: Key): CondNetParams;
  /** The first layer's contribution of the data part, W_h·h + b: [..., H₁] (computed once, reused across classes). */
  dataTerm(p: CondNetParams, h: Tensor): Tensor;
  /** The rows W_y[:, c]ᵀ of every class: [C, H₁]. */
  classRows(p: CondNetParams): Tensor;
  /** The hidden output from the summed first-layer pre-activations: act(pre) through the remaining layers. */
  finish(p: CondNetParams, pre: Tensor): Tensor;
  /** The width of the output. */
  readonly outDim: number;
}

/**
 * An MLP on [h; onehot(y)] with its first layer split (see `CondNetParams`): widths
 * [inDim + C, ...hidden], activation after every layer.
 * @example
 * const net = condNet(784, 10, [200, 200], 'tanh', 'float32');
 * const p = net.init(key(0));
 * const h = net.finish(p, add(net.dataTerm(p, x), gather(net.classRows(p), labels))); // [B, 200]
 */
export function condNet(inDim: number, numClasses: number, hidden: readonly number[], act: Activation, dtype: FloatDType): CondNet {
  if (hidden.length === 0) throw new ValueError('condNet: hidden must list at least one layer (the class enters through the first)');
  const first = Linear(inDim + numClasses, hidden[0], { dtype });
  const rest = hidden.length > 1 ? MLP(hidden, { activation: act, finalActivation: act, dtype }) : null;
  const fn = activation(act);
  const h1 = hidden[0];
  return {
    outDim: hidden[hidden.length - 1],
    init(k: Key): CondNetParams {
      const [k1, k2] = split(k, 2);
      const p = first.init(k1);
      const inX = { weight: slice(p.weight, [0, 0], [h1, inDim]), bias: p.bias };
      return { inX, inY: slice(p.weight, [0, inDim], [h1, numClasses]), rest: rest === null ? [] : rest.init(k2) };
    },
    dataTerm: (p, h) => dense(h, p.inX.weight, p.inX.bias),
    classRows: (p) => transpose(p.inY),
    finish(p, pre) {
      let h = fn(pre);
      for (const layer of p.rest) h = fn(dense(h, layer.weight, layer.bias));
      return h;
    },
  };
}

/**
 * Builds a conditional VAE (Sohn et al. 2015) for labelled images.
 * @example
 * const cvae = CVAE({ xDim: 784, zDim: 20, hidden: [400] });
 * const params = cvae.init(key(0));
 * const t = cvae.forward(params, x, labels, cvae.noise(key(1), 1, x.shape[0])); // t.logPx [1, B]
 * const digits = cvae.sample(params, key(2), [0, 1, 2, 3]); // [4, 784]
 */
export function CVAE(config: CVAEConfig): CVAEModel {
  const cfg: Required<CVAEConfig> = {
    numClasses: 10,
    activation: 'tanh',
    likelihood: 'bernoulli',
    prior: 'standard',
    priorHidden: [],
    logVarRange: DEFAULT_LOGVAR_RANGE,
    dtype: 'float32',
    ...config,
  };
  checkInt('CVAE', 'xDim', cfg.xDim, 1);
  checkInt('CVAE', 'zDim', cfg.zDim, 1);
  checkInt('CVAE', 'numClasses', cfg.numClasses, 2);
  if (!Array.isArray(cfg.hidden as unknown) || cfg.hidden.length === 0) throw new ValueError('CVAE: hidden must list at least one hidden width');
  cfg.hidden.forEach((h, i) => checkInt('CVAE', `hidden[${i}]`, h, 1));
  cfg.priorHidden.forEach((h, i) => checkInt('CVAE', `priorHidden[${i}]`, h, 1));
  if (cfg.likelihood !== 'bernoulli' && cfg.likelihood !== 'gaussian') throw new ValueError(`CVAE: likelihood must be 'bernoulli' or 'gaussian', got '${String(cfg.likelihood)}'`);
  if (cfg.prior !== 'standard' && cfg.prior !== 'learned') throw new ValueError(`CVAE: prior must be 'standard' or 'learned', got '${String(cfg.prior)}'`);
  if (!(cfg.logVarRange[0] < cfg.logVarRange[1])) throw new ValueError(`CVAE: logVarRange must be [lo, hi] with lo < hi, got [${cfg.logVarRange.join(', ')}]`);
  const { xDim, zDim, numClasses: C, dtype } = cfg;
  const act = cfg.activation;
  const encNet = condNet(xDim, C, cfg.hidden, act, dtype);
  const decNet = condNet(zDim, C, [...cfg.hidden].reverse(), act, dtype);
  const encMu = Linear(encNet.outDim, zDim, { dtype });
  const encLv = Linear(encNet.outDim, zDim, { dtype });
  const decMu = Linear(decNet.outDim, xDim, { dtype });
  const decLv = Linear(decNet.outDim, xDim, { dtype });
  const priorNet = cfg.priorHidden.length > 0 ? MLP([C, ...cfg.priorHidden], { activation: act, finalActivation: act, dtype }) : null;
  const pOut = cfg.priorHidden.length > 0 ? cfg.priorHidden[cfg.priorHidden.length - 1] : C;
  const priorMu = Linear(pOut, zDim, { dtype });
  const priorLv = Linear(pOut, zDim, { dtype });
  const actFn = activation(act);
  const gaussianX = cfg.likelihood === 'gaussian';
  const head = (p: LinearParams, h: Tensor): Tensor => dense(h, p.weight, p.bias);
  const labelsOf = (op: string, labels: LabelsLike, batch?: number): Tensor => checkClassLabels(`CVAE.${op}`, labels, C, batch);

  const checkX = (op: string, x: Tensor): number => {
    if (x.shape.length !== 2 || x.shape[1] !== xDim) throw new ShapeError(`CVAE.${op}: x must be [batch, ${xDim}], got ${fmtShape(x.shape)}`);
    if (x.dtype !== dtype) throw new DTypeError(`CVAE.${op}: x must be ${dtype} like the parameters, got ${x.dtype}`);
    return x.shape[0];
  };

  const encode = (params: CVAEParams, x: Tensor, y: Tensor): { mu: Tensor; logVar: Tensor } => {
    const e = params.enc;
    const h = encNet.finish(e.net, add(encNet.dataTerm(e.net, x), gather(encNet.classRows(e.net), y)));
    return { mu: head(e.mu, h), logVar: clampLogVar(head(e.logVar as LinearParams, h), cfg.logVarRange) };
  };
  // z [..., B, zDim]; the class rows [B, H] broadcast over leading sample axes.
  const decode = (params: CVAEParams, z: Tensor, y: Tensor): { mu: Tensor; logVar?: Tensor } => {
    const d = params.dec;
    const h = decNet.finish(d.net, add(decNet.dataTerm(d.net, z), gather(decNet.classRows(d.net), y)));
    const mu = head(d.mu, h);
    return gaussianX ? { mu, logVar: clampLogVar(head(d.logVar as LinearParams, h), cfg.logVarRange) } : { mu };
  };
  const prior = (params: CVAEParams, y: Tensor): { mu: Tensor; logVar: Tensor } | null => {
    if (cfg.prior === 'standard') return null;
    const p = params.prior;
    if (p === undefined) throw new ValueError('CVAE: the model has a learned prior but the parameters have no `prior` entry');
    // The prior depends on the class only: evaluate it on the C one-hot vectors and look rows up.
    let h = eye(C, dtype);
    for (const layer of p.net) h = actFn(dense(h, layer.weight, layer.bias));
    return { mu: gather(head(p.mu, h), y), logVar: gather(clampLogVar(head(p.logVar, h), cfg.logVarRange), y) };
  };
  const pixelMean = (out: { mu: Tensor; logVar?: Tensor }): Tensor => (out.logVar === undefined ? sigmoid(out.mu) : out.mu);

  return {
    config: cfg,
    init(k: Key): CVAEParams {
      const ks = split(k, 9);
      const enc: CondHeadParams = { net: encNet.init(ks[0]), mu: encMu.init(ks[1]), logVar: encLv.init(ks[2]) };
      const dec: CondHeadParams = gaussianX ? { net: decNet.init(ks[3]), mu: decMu.init(ks[4]), logVar: decLv.init(ks[5]) } : { net: decNet.init(ks[3]), mu: decMu.init(ks[4]) };
      if (cfg.prior === 'standard') return { enc, dec };
      return { enc, dec, prior: { net: priorNet === null ? [] : priorNet.init(ks[6]), mu: priorMu.init(ks[7]), logVar: priorLv.init(ks[8]) } };
    },
    encode: (params, x, labels) => encode(params, x, labelsOf('encode', labels, checkX('encode', x))),
    decode(params, z, labels) {
      if (z.shape.length < 2 || z.shape[z.shape.length - 1] !== zDim) throw new ShapeError(`CVAE.decode: z must be [..., batch, ${zDim}], got ${fmtShape(z.shape)}`);
      return decode(params, z, labelsOf('decode', labels, z.shape[z.shape.length - 2]));
    },
    prior(params, labels) {
      const y = labelsOf('prior', labels);
      const p = prior(params, y);
      if (p !== null) return p;
      const zero = tensor(new (dtype === 'float32' ? Float32Array : Float64Array)(y.shape[0] * zDim), [y.shape[0], zDim], dtype);
      return { mu: zero, logVar: zero };
    },
    forward(params, x, labels, eps) {
      const B = checkX('forward', x);
      const y = labelsOf('forward', labels, B);
      if (eps.shape.length !== 3 || eps.shape[1] !== B || eps.shape[2] !== zDim) throw new ShapeError(`CVAE.forward: eps must be [k, ${B}, ${zDim}], got ${fmtShape(eps.shape)}`);
      const q = encode(params, x, y);
      const z = reparameterize(q.mu, q.logVar, eps); // [k, B, zDim]
      const out = decode(params, z, y);
      const logPx = out.logVar === undefined ? bernoulliLogLik(out.mu, x) : gaussianLogLik(out.mu, out.logVar, x);
      const p = prior(params, y);
      const kl = p === null ? klStdNormalPerDim(q.mu, q.logVar) : klDiagNormalPerDim(q.mu, q.logVar, p.mu, p.logVar);
      return { logPx, kl };
    },
    noise(k: Key, samples: number, batch: number): Tensor {
      checkInt('CVAE.noise', 'samples', samples, 1);
      checkInt('CVAE.noise', 'batch', batch, 1);
      return normal(k, [samples, batch, zDim], { dtype });
    },
    sample(params, k, labels) {
      const y = labelsOf('sample', labels);
      if (y.shape[0] === 0) throw new ValueError('CVAE.sample: needs at least one label');
      const eps = normal(k, [y.shape[0], zDim], { dtype });
      const p = prior(params, y);
      const z = p === null ? eps : reparameterize(p.mu, p.logVar, eps);
      return pixelMean(decode(params, z, y));
    },
    reconstruct(params, x, labels) {
      const y = labelsOf('reconstruct', labels, checkX('reconstruct', x));
      return pixelMean(decode(params, encode(params, x, y).mu, y));
    },
  };
}

/** The C×C identity in `dtype` (the one-hot vectors of every class). */
function eye(n: number, dtype: FloatDType): Tensor {
  const a = dtype === 'float32' ? new Float32Array(n * n) : new Float64Array(n * n);
  for (let i = 0; i < n; i++) a[i * n + i] = 1;
  return tensor(a, [n, n], dtype);
}

/** Options of `cvaeLoss`. */
export interface CVAELossOptions {
  /** KL weight β; default 1. */
  beta?: Weight;
}

/**
 * The negative ELBO of a batch (mean per example) for noise eps [k, B, zDim]: the reconstruction
 * term averaged over the k samples and the closed-form KL,
 * loss = (1/B) Σ_i β·KL(q(z|x_i,y_i) ‖ p(z|y_i)) − (1/k) Σ_s log p(x_i|z_s,y_i).
 * `bound` is the ELBO (β = 1) per example.
 * @example
 * const { loss, bound } = cvaeLoss(cvae, params, batch.x, batch.labels, cvae.noise(key(1), 1, batch.size));
 */
export function cvaeLoss(model: CVAEModel, params: CVAEParams, x: Tensor, labels: LabelsLike, eps: Tensor, opts: CVAELossOptions = {}): {
  /** The loss to minimize (scalar). */
  loss: Tensor;
  /** The ELBO per example (scalar). */
  bound: Tensor;
} {
  const beta = opts.beta ?? 1;
  checkWeight('cvaeLoss', 'beta', beta);
  const t = model.forward(params, x, labels, eps);
  const rec = mean(t.logPx);
  const kl = mul(sum(t.kl), 1 / t.kl.shape[0]);
  return { loss: sub(weighted(kl, beta), rec), bound: sub(rec, kl) };
}

/** Options of `trainCVAE`. */
export interface TrainCVAEOptions extends LoopOptions {
  /** Samples per example; default 1. */
  k?: number;
  /** KL weight, constant or a schedule of the step (`klWarmup`, …); default 1. */
  beta?: BetaSchedule;
}

/**
 * Trains a CVAE with `trainLoop`, the labels taken from `batch.labels`.
 * @example
 * const cvae = CVAE({ xDim: 784, zDim: 20, hidden: [400] });
 * const opt = adam(1e-3);
 * const params = cvae.init(key(0));
 * const r = await trainCVAE(cvae, { params, optState: opt.init(params), step: 0 }, loader, { steps: 1000, key: key(1), optimizer: opt });
 */
export async function trainCVAE(model: CVAEModel, state: TrainState<CVAEParams>, loader: MinibatchLoader, opts: TrainCVAEOptions): Promise<TrainResult<CVAEParams>> {
  const { k = 1, beta = 1 } = opts;
  checkInt('trainCVAE', 'k (samples per example)', k, 1);
  if (loader.maxLabel >= model.config.numClasses) throw new ValueError(`trainCVAE: the loader's data set has label ${loader.maxLabel} but the model has ${model.config.numClasses} classes`);
  return trainLoop(state, loader, {
    ...opts,
    name: 'trainCVAE',
    xDim: model.config.xDim,
    config: model.config,
    hyper: (s) => ({ beta: betaAt(beta, s, 'trainCVAE') }),
    loss: (p, batch, key: Key, _s, h) => cvaeLoss(model, p, castTo(batch.x, model.config.dtype), batch.labels, model.noise(key, k, batch.size), { beta: h.beta }),
  });
}

function castTo(x: Tensor, dtype: FloatDType): Tensor {
  return x.dtype === dtype ? x : tensor(dtype === 'float32' ? Float32Array.from(x.dataSync()) : Float64Array.from(x.dataSync()), x.shape, dtype);
}

/**
 * The mean test ELBO per example of a CVAE over x [n, xDim] with labels [n], one sample each,
 * closed-form KL, in chunks without gradients.
 * @example cvaeTestElbo(cvae, params, testX, testLabels, { key: key(7) }) // e.g. −95
 */
export function cvaeTestElbo(model: CVAEModel, params: CVAEParams, x: Tensor, labels: LabelsLike, opts: { key: Key; batchSize?: number }): number {
  if (x.shape.length !== 2 || x.shape[1] !== model.config.xDim) throw new ShapeError(`cvaeTestElbo: x must be [n, ${model.config.xDim}], got ${fmtShape(x.shape)}`);
  const n = x.shape[0];
  const y = checkClassLabels('cvaeTestElbo', labels, model.config.numClasses, n);
  const bs = opts.batchSize ?? 500;
  checkInt('cvaeTestElbo', 'batchSize', bs, 1);
  return meanOverChunks(x, bs, opts.key, (xb, k, start, m) => {
    const t = model.forward(params, castTo(xb, model.config.dtype), slice(y, [start], [m]), model.noise(k, 1, m));
    return sum(t.logPx).item() - sum(t.kl).item();
  });
}
