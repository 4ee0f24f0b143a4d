/**
 * A convolutional VAE (Kingma & Welling 2014) for small greyscale images such as Fashion-MNIST
 * (Xiao et al. 2017), in the common DCGAN-like shape (Radford et al. 2016) of stride-2 convolutions:
 *
 *   encoder  x [N, 1, H, W] → conv(1→c₁, 4, s2, p1) → ReLU → conv(c₁→c₂, 4, s2, p1) → ReLU → flatten
 *            → linear heads μ, log σ² (clamped) of a latent z of size `z` (default 16)
 *   decoder  z → linear → ReLU → reshape [c₂, H/4, W/4] → convTranspose(c₂→c₁, 4, s2, p1) → ReLU
 *            → convTranspose(c₁→1, 4, s2, p1) → one output per pixel [N, 1, H, W]
 *
 * with c₁ = 32, c₂ = 64 by default; H and W must be multiples of 4 (28 × 28 for (Fashion-)MNIST).
 * The pixel likelihood is a Bernoulli with logits (dynamically binarized pixels, the default), or
 * for grey levels a Gaussian whose mean is sigmoid(decoder output) and whose log-variance is a
 * learned per-pixel parameter vector [H·W] shared by all images, clamped from below: pixels that
 * are constant over the data set (Fashion-MNIST's black border) would otherwise drive their
 * variance, and the density, to infinity. The Gaussian rather than the continuous Bernoulli
 * (Loaiza-Ganem & Cunningham 2019): its mean is the pixel mean (the continuous Bernoulli's λ is not),
 * so samples and reconstructions read directly, and it reuses the library's `gaussianLogLik`; its
 * ELBO is a density on [0, 1]-valued pixels, comparable only between Gaussian models.
 *
 * The objective is the ELBO with the closed-form KL to N(0, I), optionally with k samples per image
 * and a KL weight β: loss = β·KL − (1/k)Σ_i log p(x|z_i), mean over the batch.
 */
import { ShapeError, ValueError, fmtShape } from '../../core/errors.js';
import type { Tensor } from '../../core/tensor.js';
import { relu, sigmoid, sub } from '../../ops/elementwise.js';
import { mean, sum } from '../../ops/reduce.js';
import { reshape } from '../../ops/shape.js';
import { full } from '../../ops/creation.js';
import { Conv2d, ConvTranspose2d, type ConvParams } from '../../nn/conv.js';
import { Linear, type LinearParams } from '../../nn/linear.js';
import { split, type Key } from '../../random/key.js';
import { normal, type FloatDType } from '../../random/samplers.js';
import type { MinibatchLoader } from '../../data/loader.js';
import type { TrainState } from './checkpoint.js';
import { trainLoop, type LoopOptions, type TrainResult } from './loop.js';
import { betaAt, checkWeight, weighted, type BetaSchedule, type Weight } from './objectives.js';
import { bernoulliLogLik, checkInt, clampLogVar, DEFAULT_LOGVAR_RANGE, dense, gaussianLogLik, klStdNormalPerDim, reparameterize } from './terms.js';
import { meanOverChunks } from './evaluate.js';

/** Configuration of `ConvVAE`. */
export interface ConvVAEConfig {
  /** Image height and width, multiples of 4; default 28 × 28. */
  height?: number;
  /** Image width, a multiple of 4; default 28. */
  width?: number;
  /** Channels of the two convolutions (the decoder mirrors them); default [32, 64]. */
  channels?: readonly [number, number];
  /** Latent dimension; default 16. */
  z?: number;
  /** p(x|z): 'bernoulli' (logits; binary pixels, default) or 'gaussian' (grey levels, learned per-pixel variance). */
  likelihood?: 'bernoulli' | 'gaussian';
  /** Clamp of the encoder's log σ²; default [−10, 10]. */
  logVarRange?: readonly [number, number];
  /** Clamp of the Gaussian likelihood's per-pixel log σ²; default [−6, 2] (σ ≥ 0.05, about 13 grey levels). */
  pixelLogVarRange?: readonly [number, number];
  /** Parameter dtype; default float32. */
  dtype?: FloatDType;
}

/** Parameters of a `ConvVAE`. `pixelLogVar` [H·W] exists for the Gaussian likelihood only. */
export interface ConvVAEParams {
  /** First encoder convolution, 1 → channels[0], kernel 4, stride 2 (H → H/2). */
  enc1: ConvParams;
  /** Second encoder convolution, channels[0] → channels[1], kernel 4, stride 2 (H/2 → H/4). */
  enc2: ConvParams;
  /** The mean head: flattened features → z. */
  mu: LinearParams;
  /** The log-variance head: flattened features → z. */
  logVar: LinearParams;
  /** The decoder's input layer: z → channels[1]·(H/4)·(W/4). */
  dec: LinearParams;
  /** First transposed convolution, channels[1] → channels[0] (H/4 → H/2). */
  dec1: ConvParams;
  /** Second transposed convolution, channels[0] → 1 (H/2 → H). */
  dec2: ConvParams;
  /** Per-pixel log σ² [H·W] (Gaussian likelihood only). */
  pixelLogVar?: Tensor;
}

/** The terms of one pass: log p(x|z) per sample [k, B], the closed-form KL per image [B], and q's parameters [B, z]. */
export interface ConvForwardTerms {
  /** log p(x|z) per sample, [k, B]. */
  logPx: Tensor;
  /** KL(q(z|x) ‖ N(0, I)) per image in closed form, [B]. */
  kl: Tensor;
  /** q's mean, [B, z]. */
  mu: Tensor;
  /** q's log-variance, [B, z]. */
  logVar: Tensor;
}

/** A convolutional VAE as a functional module. */
export interface ConvVAEModel {
  /** The configuration with every default filled in. */
  readonly config: Readonly<Required<ConvVAEConfig>>;
  /** Pixels per image, H·W. */
  readonly xDim: number;
  /** Fresh parameters (PyTorch's default initialization of every layer; pixel log σ² = −3). */
  init(k: Key): ConvVAEParams;
  /** q(z|x): μ and the clamped log σ², each [B, z]. x is [B, H·W] or [B, 1, H, W]. */
  encode(params: ConvVAEParams, x: Tensor): {
    /** The mean, [B, z]. */
    mu: Tensor;
    /** The clamped log-variance, [B, z]. */
    logVar: Tensor;
  };
  /** The decoder's output per pixel (logits for Bernoulli, pre-sigmoid means for Gaussian): z [..., z] → [..., H·W]. */
  decode(params: ConvVAEParams, z: Tensor): Tensor;
  /** One pass with noise `eps` [k, B, z] (see `noise`). */
  forward(params: ConvVAEParams, x: Tensor, eps: Tensor): ConvForwardTerms;
  /** Standard-normal noise [k, B, z] in the model's dtype. */
  noise(k: Key, samples: number, batch: number): Tensor;
  /** Pixel means E[x|z] [n, H·W] of `n` samples z ~ N(0, I). */
  sample(params: ConvVAEParams, k: Key, n: number): Tensor;
  /** Pixel means decoded from the posterior means: x ↦ E[x | z = μ(x)], [B, H·W]. */
  reconstruct(params: ConvVAEParams, x: Tensor): Tensor;
}

/** Initial per-pixel log σ² of the Gaussian likelihood. */
const PIXEL_LOGVAR_INIT = -3;

function checkRange(name: string, r: readonly [number, number]): void {
  if (!(r[0] < r[1])) throw new ValueError(`ConvVAE: ${name} must be [lo, hi] with lo < hi, got [${r[0]}, ${r[1]}]`);
}

/**
 * Builds a convolutional VAE (see the module comment for the architecture).
 * @example
 * const vae = ConvVAE({ z: 16 });
 * const params = vae.init(key(0));
 * const t = vae.forward(params, x, vae.noise(key(1), 1, x.shape[0])); // x [B, 784]; t.logPx [1, B]
 */
export function ConvVAE(config: ConvVAEConfig = {}): ConvVAEModel {
  const cfg: Required<ConvVAEConfig> = {
    height: 28,
    width: 28,
    channels: [32, 64],
    z: 16,
    likelihood: 'bernoulli',
    logVarRange: DEFAULT_LOGVAR_RANGE,
    pixelLogVarRange: [-6, 2],
    dtype: 'float32',
    ...config,
  };
  const { height: H, width: W, z: Z, dtype } = cfg;
  checkInt('ConvVAE', 'height', H, 4);
  checkInt('ConvVAE', 'width', W, 4);
  if (H % 4 !== 0 || W % 4 !== 0) throw new ValueError(`ConvVAE: height and width must be multiples of 4 (two stride-2 convolutions), got ${H}×${W}`);
  if (!Array.isArray(cfg.channels as unknown) || cfg.channels.length !== 2) throw new ValueError(`ConvVAE: channels must be [c1, c2], got ${String(cfg.channels)}`);
  const [c1, c2] = cfg.channels;
  checkInt('ConvVAE', 'channels[0]', c1, 1);
  checkInt('ConvVAE', 'channels[1]', c2, 1);
  checkInt('ConvVAE', 'z (the latent size)', Z, 1);
  if (cfg.likelihood !== 'bernoulli' && cfg.likelihood !== 'gaussian') throw new ValueError(`ConvVAE: likelihood must be 'bernoulli' or 'gaussian', got '${String(cfg.likelihood)}'`);
  if (dtype !== 'float32' && dtype !== 'float64') throw new ValueError(`ConvVAE: dtype must be 'float32' or 'float64', got '${String(dtype)}'`);
  checkRange('logVarRange', cfg.logVarRange);
  checkRange('pixelLogVarRange', cfg.pixelLogVarRange);
  const D = H * W;
  const h4 = H / 4;
  const w4 = W / 4;
  const flat = c2 * h4 * w4;
  const geo = { stride: 2, padding: 1, dtype } as const;
  const enc1 = Conv2d(1, c1, 4, geo);
  const enc2 = Conv2d(c1, c2, 4, geo);
  const headMu = Linear(flat, Z, { dtype });
  const headLv = Linear(flat, Z, { dtype });
  const decIn = Linear(Z, flat, { dtype });
  const dec1 = ConvTranspose2d(c2, c1, 4, geo);
  const dec2 = ConvTranspose2d(c1, 1, 4, geo);
  const gaussian = cfg.likelihood === 'gaussian';

  /** x as [B, 1, H, W], or a ShapeError naming the expected sizes. */
  const asImages = (x: Tensor, op: string): Tensor => {
    const s = x.shape;
    const ok = (s.length === 2 && s[1] === D) || (s.length === 4 && s[1] === 1 && s[2] === H && s[3] === W);
    if (!ok) throw new ShapeError(`ConvVAE.${op}: x must be [N, 1, ${H}, ${W}] or [N, ${D}], got ${fmtShape(s)} (images of the wrong size?)`);
    if (x.dtype !== dtype) throw new ShapeError(`ConvVAE.${op}: x must be ${dtype} like the parameters, got ${x.dtype}`);
    return s.length === 4 ? x : reshape(x, [s[0], 1, H, W]);
  };

  const encode = (p: ConvVAEParams, x: Tensor): { mu: Tensor; logVar: Tensor } => {
    const img = asImages(x, 'encode');
    const h1 = relu(enc1.apply(p.enc1, img));
    const h2 = relu(enc2.apply(p.enc2, h1));
    const f = reshape(h2, [img.shape[0], flat]);
    return { mu: dense(f, p.mu.weight, p.mu.bias), logVar: clampLogVar(dense(f, p.logVar.weight, p.logVar.bias), cfg.logVarRange) };
  };

  const decode = (p: ConvVAEParams, z: Tensor): Tensor => {
    if (z.shape.length < 1 || z.shape[z.shape.length - 1] !== Z) throw new ShapeError(`ConvVAE.decode: z must end in ${Z} latent dimensions, got ${fmtShape(z.shape)}`);
    const lead = z.shape.slice(0, -1);
    const zf = reshape(z, [-1, Z]);
    const n = zf.shape[0];
    const h = reshape(relu(dense(zf, p.dec.weight, p.dec.bias)), [n, c2, h4, w4]);
    const g = relu(dec1.apply(p.dec1, h));
    return reshape(dec2.apply(p.dec2, g), [...lead, D]);
  };

  const logLik = (p: ConvVAEParams, out: Tensor, x: Tensor): Tensor => {
    if (!gaussian) return bernoulliLogLik(out, x);
    if (p.pixelLogVar === undefined) throw new ValueError('ConvVAE: the Gaussian likelihood needs params.pixelLogVar (use init of a gaussian model)');
    return gaussianLogLik(sigmoid(out), clampLogVar(p.pixelLogVar, cfg.pixelLogVarRange), x);
  };

  const pixelMean = (out: Tensor): Tensor => sigmoid(out);

  return {
    config: cfg,
    xDim: D,
    init(k: Key): ConvVAEParams {
      const ks = split(k, 7);
      const p: ConvVAEParams = {
        enc1: enc1.init(ks[0]),
        enc2: enc2.init(ks[1]),
        mu: headMu.init(ks[2]),
        logVar: headLv.init(ks[3]),
        dec: decIn.init(ks[4]),
        dec1: dec1.init(ks[5]),
        dec2: dec2.init(ks[6]),
      };
      // σ = e^{−1.5} ≈ 0.22, about the spread of grey levels: Adam moves log σ² by ~lr per step, so a
      // start at σ = 1 would leave the likelihood flat for thousands of steps.
      if (gaussian) p.pixelLogVar = full([D], PIXEL_LOGVAR_INIT, dtype);
      return p;
    },
    encode,
    decode,
    forward(p: ConvVAEParams, x: Tensor, eps: Tensor): ConvForwardTerms {
      const img = asImages(x, 'forward');
      const B = img.shape[0];
      if (eps.shape.length !== 3 || eps.shape[1] !== B || eps.shape[2] !== Z || eps.shape[0] < 1)
        throw new ShapeError(`ConvVAE.forward: eps must be [k, ${B}, ${Z}], got ${fmtShape(eps.shape)}`);
      const q = encode(p, img);
      const z = reparameterize(q.mu, q.logVar, eps); // [k, B, z]
      const out = decode(p, z); // [k, B, D]
      const logPx = logLik(p, out, reshape(img, [B, D]));
      return { logPx, kl: sum(klStdNormalPerDim(q.mu, q.logVar), -1), mu: q.mu, logVar: q.logVar };
    },
    noise(k: Key, samples: number, batch: number): Tensor {
      checkInt('ConvVAE', 'noise samples', samples, 1);
      checkInt('ConvVAE', 'noise batch', batch, 1);
      return normal(k, [samples, batch, Z], { dtype });
    },
    sample(p: ConvVAEParams, k: Key, n: number): Tensor {
      checkInt('ConvVAE', 'sample n', n, 1);
      return pixelMean(decode(p, normal(k, [n, Z], { dtype })));
    },
    reconstruct(p: ConvVAEParams, x: Tensor): Tensor {
      const img = asImages(x, 'reconstruct');
      return pixelMean(decode(p, encode(p, img).mu));
    },
  };
}

/** Options of `convVaeLoss`. */
export interface ConvLossOptions {
  /** KL weight β; default 1. */
  beta?: Weight;
}

/**
 * The negative ELBO of a batch, mean per image: β·KL(q(z|x) ‖ N(0, I)) − (1/k)Σ_i log p(x|z_i) with
 * z_i = μ + σ ε_i (Kingma & Welling 2014), and the ELBO itself (β = 1) as `bound`.
 * x [B, H·W] or [B, 1, H, W]; eps [k, B, z] from `model.noise`.
 * @example
 * const { loss, bound } = convVaeLoss(vae, params, batch.x, vae.noise(key(1), 1, batch.size));
 */
export function convVaeLoss(model: ConvVAEModel, params: ConvVAEParams, x: Tensor, eps: Tensor, opts: ConvLossOptions = {}): {
  /** The loss to minimize (scalar). */
  loss: Tensor;
  /** The ELBO per example (scalar). */
  bound: Tensor;
} {
  const { beta = 1 } = opts;
  checkWeight('convVaeLoss', 'beta', beta);
  const t = model.forward(params, x, eps);
  const rec = mean(t.logPx);
  const kl = mean(t.kl);
  return { loss: sub(weighted(kl, beta), rec), bound: sub(rec, kl) };
}

/** Options of `trainConvVAE`. */
export interface ConvTrainOptions extends LoopOptions {
  /** Samples per image; default 1. */
  k?: number;
  /** KL weight β, constant or a schedule of the step (see `klWarmup`); default 1. */
  beta?: BetaSchedule;
}

/**
 * Trains a `ConvVAE` from `state` until `opts.steps` steps on batches of `loader` (a
 * `MinibatchLoader` or a `PrefetchLoader`), with `trainLoop`.
 * @example
 * const vae = ConvVAE();
 * const opt = adam(1e-3);
 * const params = vae.init(key(0));
 * const loader = new MinibatchLoader(loadFashionMnist('train'), { batchSize: 100, key: key(1), binarize: 'dynamic' });
 * const r = await trainConvVAE(vae, { params, optState: opt.init(params), step: 0 }, loader, { steps: 600, key: key(2), optimizer: opt });
 */
export async function trainConvVAE(model: ConvVAEModel, state: TrainState<ConvVAEParams>, loader: MinibatchLoader, opts: ConvTrainOptions): Promise<TrainResult<ConvVAEParams>> {
  const { k = 1, beta = 1 } = opts;
  if (!Number.isInteger(k) || k < 1) throw new ValueError(`trainConvVAE: k (samples per image) must be a positive integer, got ${k}`);
  return trainLoop(state, loader, {
    ...opts,
    name: 'trainConvVAE',
    xDim: model.xDim,
    config: model.config,
    hyper: (s) => ({ beta: betaAt(beta, s, 'trainConvVAE') }),
    loss: (p, batch, key: Key, _s, h) => convVaeLoss(model, p, batch.x, model.noise(key, k, batch.size), { beta: h.beta }),
  });
}

/**
 * The mean ELBO per image over the rows of x [n, H·W] (or [n, 1, H, W]), one sample per image and
 * the closed-form KL, in chunks without gradients: (1/n) Σ_i E_q[log p(x_i|z)] − KL(q(z|x_i) ‖ p(z)).
 * @example convTestElbo(vae, params, testX, { key: key(7) }) // e.g. −240 on binarized Fashion-MNIST
 */
export function convTestElbo(model: ConvVAEModel, params: ConvVAEParams, x: Tensor, opts: { key: Key; batchSize?: number }): number {
  const n = x.shape[0];
  if (!(n >= 1)) throw new ShapeError(`convTestElbo: x must hold at least one image, got ${fmtShape(x.shape)}`);
  if (x.shape.length !== 2 && x.shape.length !== 4) throw new ShapeError(`convTestElbo: x must be [n, ${model.xDim}] or [n, 1, ${model.config.height}, ${model.config.width}], got ${fmtShape(x.shape)}`);
  return meanOverChunks(x, opts.batchSize ?? 500, opts.key, (xb, k, _s, m) => {
    const t = model.forward(params, xb, model.noise(k, 1, m));
    return sum(t.logPx).item() - sum(t.kl).item();
  });
}
