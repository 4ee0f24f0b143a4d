/**
 * The VQ-VAE (van den Oord, Vinyals & Kavukcuoglu 2017) for flat images, with an MLP encoder and
 * decoder: the encoder maps x to M latent vectors z_e ∈ R^D, each is replaced by its nearest
 * codebook entry e_k (k = argmin_j ‖z_e − e_j‖², the distances by the matmul identity
 * ‖z‖² − 2 z·e + ‖e‖²), and the decoder sees z_q = z_e + sg(e_k − z_e) — the value e_k, the
 * gradient passed straight through to z_e. The loss per image (summed over the M vectors) is
 *   −log p(x|z_q) + β_c ‖z_e − sg(e)‖² (commitment, β_c = 0.25) [+ ‖sg(z_e) − e‖² (codebook)],
 * with the codebook term only when the codebook is learned by gradient. With the EMA codebook
 * (van den Oord et al. 2017, appendix A.1; decay γ = 0.99) the codebook is instead set after each
 * optimizer step from exponential moving averages of the assignment counts N_k and of the sums
 * m_k of the vectors assigned to each code, e_k = m_k / Ñ_k, with Laplace-smoothed counts
 * Ñ_k = (N_k + ε)/(n + Kε)·n, n = Σ_k N_k, ε = 1e−5.
 *
 * Design of the EMA state: the codebook and the EMA statistics `ema.count` [K], `ema.sum` [K, D]
 * live in the parameters, so checkpoints save them; under EMA the codebook enters the loss only
 * through stopGradient and the statistics not at all, so their gradients are exactly zero and
 * Adam's update of them is exactly zero (m = v = 0 ⇒ Δ = 0); `afterStep` of `trainLoop` then
 * overwrites them from the step's assignment statistics. (An optimizer with weight decay, such as
 * adamw, would shrink them: use one without.) The EMA starts at N_k = 1, m_k = e_k (the initial
 * codebook), so that e = m/N holds from the first step.
 *
 * The likelihood is Bernoulli (binary or grey-level pixels in [0, 1] as cross-entropy targets).
 * With a uniform prior over the K^M codes and the one-hot posterior, the ELBO is
 * log p(x|z_q) − M log K, reported as the bound. A learned prior over codes (PixelCNN in the
 * paper) is out of scope.
 */
import { stopGradient } from '../../core/autodiff.js';
import { ShapeError, ValueError, fmtShape } from '../../core/errors.js';
import { tidy } from '../../core/memory.js';
import type { Tensor } from '../../core/tensor.js';
import type { Batch, MinibatchLoader } from '../../data/loader.js';
import { activation, type Activation } from '../../nn/activations.js';
import { Linear, type LinearParams } from '../../nn/linear.js';
import { ones } from '../../ops/creation.js';
import { add, div, mul, sigmoid, square, sub } from '../../ops/elementwise.js';
import { matmul } from '../../ops/linalg.js';
import { argmin, mean, sum } from '../../ops/reduce.js';
import { gather, reshape, scatterAdd, slice } from '../../ops/shape.js';
import { split, type Key } from '../../random/key.js';
import { uniform } from '../../random/samplers.js';
import type { TrainState } from './checkpoint.js';
import { trainLoop, type LoopOptions, type StepLoss, type TrainResult } from './loop.js';
import { checkRows } from './evaluate.js';
import { bernoulliLogLik, checkInt, denseStack } from './terms.js';

// ---------------------------------------------------------------------------------------------
// Vector quantization.

function checkCodebook(op: string, z: Tensor, codebook: Tensor): void {
  if (codebook.shape.length !== 2 || codebook.shape[0] < 1) throw new ShapeError(`${op}: the codebook must be [K, D] with K ≥ 1, got ${fmtShape(codebook.shape)}`);
  const D = codebook.shape[1];
  if (z.shape.length < 1 || z.shape[z.shape.length - 1] !== D) throw new ShapeError(`${op}: the vectors ${fmtShape(z.shape)} must end in the codebook's dimension D = ${D} (codebook ${fmtShape(codebook.shape)})`);
}

/**
 * The index of the nearest codebook entry of each vector: argmin_k ‖z − e_k‖², computed as
 * argmin_k (‖e_k‖² − 2 z·e_k) with one matrix product (‖z‖² does not change the argmin).
 * z [..., D], codebook [K, D] → int32 indices [...].
 * @example nearestCode(zE, codebook) // zE [B, M, D] → [B, M]
 */
export function nearestCode(z: Tensor, codebook: Tensor): Tensor {
  checkCodebook('nearestCode', z, codebook);
  const D = codebook.shape[1];
  const flat = reshape(z, [-1, D]);
  const d = sub(sum(square(codebook), -1), mul(matmul(flat, codebook, { transB: true }), 2)); // [n, K]
  return reshape(argmin(d, -1), z.shape.slice(0, -1));
}

/** What `vectorQuantize` returns. */
export interface Quantized {
  /** z_q = z_e + sg(e − z_e): the codes' values, the gradient passed straight through to z_e. [..., D] */
  zq: Tensor;
  /** The selected codes e_k (differentiable with respect to the codebook). [..., D] */
  codes: Tensor;
  /** The codes' indices, int32 [...]. */
  indices: Tensor;
}

/**
 * Vector quantization with the straight-through estimator (van den Oord et al. 2017, eq. 2 and §3.2):
 * each vector of z [..., D] is replaced by its nearest codebook entry; the result's gradient is
 * copied to z unchanged.
 * @example const { zq, codes, indices } = vectorQuantize(zE, params.codebook)
 */
export function vectorQuantize(z: Tensor, codebook: Tensor): Quantized {
  const indices = nearestCode(z, codebook);
  const codes = gather(codebook, indices, 0);
  return { zq: add(z, stopGradient(sub(codes, z))), codes, indices };
}

// ---------------------------------------------------------------------------------------------
// The EMA codebook.

/** The EMA statistics of a codebook: N_k [K] and m_k [K, D]. */
export interface EmaState {
  /** N_k, the EMA of the number of vectors assigned to code k, [K]. */
  count: Tensor;
  /** m_k, the EMA of the sum of the vectors assigned to code k, [K, D]. */
  sum: Tensor;
}

/** One step's assignment statistics: n_k = #{i : k_i = k} [K] and s_k = Σ_{i: k_i = k} z_e,i [K, D]. */
export interface AssignmentStats {
  /** n_k, vectors assigned to code k this step, [K]. */
  counts: Tensor;
  /** s_k, the sum of the vectors assigned to code k this step, [K, D]. */
  sums: Tensor;
}

/**
 * Assignment statistics of vectors z [..., D] with indices [...] among K codes, by scatterAdd.
 * @example assignmentStats(zE, indices, 64) // { counts: [64], sums: [64, D] }
 */
export function assignmentStats(z: Tensor, indices: Tensor, K: number): AssignmentStats {
  const D = z.shape[z.shape.length - 1];
  const flatIdx = reshape(indices, [-1]);
  if (flatIdx.shape[0] * D !== z.size) throw new ShapeError(`assignmentStats: ${fmtShape(indices.shape)} indices do not match the vectors ${fmtShape(z.shape)}`);
  const flat = reshape(z, [-1, D]);
  return { counts: scatterAdd(ones([flatIdx.shape[0]], z.dtype), flatIdx, 0, K), sums: scatterAdd(flat, flatIdx, 0, K) };
}

/**
 * One EMA update of a codebook (van den Oord et al. 2017, appendix A.1):
 * N_k ← γN_k + (1−γ)n_k, m_k ← γm_k + (1−γ)s_k, e_k = m_k / Ñ_k with the Laplace-smoothed count
 * Ñ_k = (N_k + ε)/(n + Kε)·n, n = Σ_k N_k (so a code with N_k → 0 does not divide by zero).
 * @example const { ema, codebook } = emaCodebookUpdate(params.ema, stats, { decay: 0.99, epsilon: 1e-5 })
 */
export function emaCodebookUpdate(state: EmaState, stats: AssignmentStats, opts: { decay?: number; epsilon?: number } = {}): {
  /** The updated EMA statistics. */
  ema: EmaState;
  /** The new codebook E_k = m_k / N_k (N_k Laplace-smoothed), [K, D]. */
  codebook: Tensor;
} {
  const { decay = 0.99, epsilon = 1e-5 } = opts;
  if (!(decay >= 0 && decay < 1)) throw new ValueError(`emaCodebookUpdate: decay must be in [0, 1), got ${decay}`);
  if (!(epsilon > 0)) throw new ValueError(`emaCodebookUpdate: epsilon must be > 0, got ${epsilon}`);
  const K = state.count.shape[0];
  if (state.count.shape.length !== 1 || stats.counts.shape.length !== 1 || stats.counts.shape[0] !== K || state.sum.shape.length !== 2 || state.sum.shape[0] !== K || stats.sums.shape.join() !== state.sum.shape.join())
    throw new ShapeError(
      `emaCodebookUpdate: expected count [K], sum [K, D] and statistics of the same shapes, got count ${fmtShape(state.count.shape)}, sum ${fmtShape(state.sum.shape)}, counts ${fmtShape(stats.counts.shape)}, sums ${fmtShape(stats.sums.shape)}`,
    );
  const count = add(mul(state.count, decay), mul(stats.counts, 1 - decay));
  const s = add(mul(state.sum, decay), mul(stats.sums, 1 - decay));
  const n = sum(count);
  const smoothed = mul(div(add(count, epsilon), add(n, K * epsilon)), n);
  return { ema: { count, sum: s }, codebook: div(s, reshape(smoothed, [K, 1])) };
}

// ---------------------------------------------------------------------------------------------
// The model.

/** Configuration of `VQVAE`. */
export interface VQVAEConfig {
  /** Data dimension; default 784. */
  xDim?: number;
  /** Encoder hidden widths (decoder mirrored); default [400]. */
  hidden?: readonly number[];
  /** Latent vectors per image M; default 16. */
  latents?: number;
  /** Dimension D of each latent vector and code; default 8. */
  codeDim?: number;
  /** Codebook size K (≥ 2); default 64. */
  codes?: number;
  /** Commitment weight β_c; default 0.25 (van den Oord et al.). */
  commitment?: number;
  /** EMA codebook (true) or codebook loss (false); default true. */
  ema?: boolean;
  /** EMA decay γ; default 0.99. */
  decay?: number;
  /** Laplace smoothing ε of the EMA counts; default 1e−5. */
  epsilon?: number;
  /** Hidden activation; default 'relu'. */
  activation?: Activation;
}

/** Parameters of a `VQVAE`; `ema` is present when the codebook is an EMA. */
export interface VQVAEParams {
  /** Encoder layers x → z_e [D]. */
  enc: LinearParams[];
  /** Decoder layers z_q → pixel logits. */
  dec: LinearParams[];
  /** The codebook E [K, D]. */
  codebook: Tensor;
  /** The EMA statistics of the codebook (EMA codebooks only). */
  ema?: EmaState;
}

/** One pass of a `VQVAE` over a batch of B. */
export interface VQForward {
  /** log p(x|z_q): [B]. */
  logPx: Tensor;
  /** Encoder outputs z_e: [B, M, D]. */
  zE: Tensor;
  /** Quantized latents (straight-through), selected codes and their indices ([B, M]). */
  q: Quantized;
}

/** A VQ-VAE as a functional module. */
export interface VQVAEModel {
  /** The configuration with every default filled in. */
  readonly config: Readonly<Required<VQVAEConfig>>;
  /** Fresh parameters: PyTorch's Linear initialization, codebook U(−1/K, 1/K), EMA N = 1, m = E. */
  init(k: Key): VQVAEParams;
  /** z_e: x [B, xDim] → [B, M, D]. */
  encode(params: VQVAEParams, x: Tensor): Tensor;
  /** Bernoulli pixel logits from latents [..., M, D] → [..., xDim]. */
  decode(params: VQVAEParams, zq: Tensor): Tensor;
  /** Encode, quantize (the codebook stopped under EMA), decode. */
  forward(params: VQVAEParams, x: Tensor): VQForward;
  /** Pixel probabilities of x's quantized reconstruction. */
  reconstruct(params: VQVAEParams, x: Tensor): Tensor;
  /** Pixel probabilities decoded from code indices int32 [n, M]. */
  decodeIndices(params: VQVAEParams, indices: Tensor): Tensor;
}

/**
 * Builds a VQ-VAE with MLP encoder x → hidden → M·D and decoder M·D → hidden → x (Bernoulli logits).
 * @example
 * const vq = VQVAE({ latents: 16, codeDim: 8, codes: 64 });
 * const p = vq.init(key(0));
 * const { loss, aux } = vqvaeLoss(vq, p, x);
 */
export function VQVAE(config: VQVAEConfig = {}): VQVAEModel {
  const cfg: Required<VQVAEConfig> = {
    xDim: 784,
    hidden: [400],
    latents: 16,
    codeDim: 8,
    codes: 64,
    commitment: 0.25,
    ema: true,
    decay: 0.99,
    epsilon: 1e-5,
    activation: 'relu',
    ...config,
  };
  const fn = 'VQVAE';
  checkInt(fn, 'xDim', cfg.xDim, 1);
  checkInt(fn, 'latents (M)', cfg.latents, 1);
  checkInt(fn, 'codeDim (D)', cfg.codeDim, 1);
  checkInt(fn, 'codes (K)', cfg.codes, 2);
  cfg.hidden.forEach((h, i) => checkInt(fn, `hidden[${i}]`, h, 1));
  if (!(cfg.commitment >= 0) || !Number.isFinite(cfg.commitment)) throw new ValueError(`${fn}: commitment must be a finite number ≥ 0, got ${cfg.commitment}`);
  if (!(cfg.decay >= 0 && cfg.decay < 1)) throw new ValueError(`${fn}: decay must be in [0, 1), got ${cfg.decay}`);
  if (!(cfg.epsilon > 0)) throw new ValueError(`${fn}: epsilon must be > 0, got ${cfg.epsilon}`);
  const { xDim, latents: M, codeDim: D, codes: K } = cfg;
  const encSizes = [xDim, ...cfg.hidden, M * D];
  const decSizes = [M * D, ...[...cfg.hidden].reverse(), xDim];
  const encLayers = encSizes.slice(1).map((o, i) => Linear(encSizes[i], o));
  const decLayers = decSizes.slice(1).map((o, i) => Linear(decSizes[i], o));
  const act = activation(cfg.activation);
  const mlp = (ps: LinearParams[], h0: Tensor): Tensor => denseStack(ps, h0, act);
  const checkX = (x: Tensor, op: string): void => void checkRows(`${fn}.${op}`, x, xDim, 'B');
  const encode = (params: VQVAEParams, x: Tensor): Tensor => {
    checkX(x, 'encode');
    return reshape(mlp(params.enc, x), [x.shape[0], M, D]);
  };
  const decode = (params: VQVAEParams, zq: Tensor): Tensor => {
    const r = zq.shape.length;
    if (r < 2 || zq.shape[r - 1] !== D || zq.shape[r - 2] !== M) throw new ShapeError(`${fn}.decode: latents must be [..., ${M}, ${D}], got ${fmtShape(zq.shape)}`);
    return mlp(params.dec, reshape(zq, [...zq.shape.slice(0, -2), M * D]));
  };
  const forward = (params: VQVAEParams, x: Tensor): VQForward => {
    const zE = encode(params, x);
    // Under EMA the codebook takes no gradient: it is set by `afterStep`.
    const q = vectorQuantize(zE, cfg.ema ? stopGradient(params.codebook) : params.codebook);
    return { logPx: bernoulliLogLik(decode(params, q.zq), x), zE, q };
  };
  return {
    config: cfg,
    init(k: Key): VQVAEParams {
      const [ke, kd, kc] = split(k, 3);
      const kes = split(ke, encLayers.length);
      const kds = split(kd, decLayers.length);
      const codebook = uniform(kc, [K, D], { low: -1 / K, high: 1 / K, dtype: 'float32' });
      const p: VQVAEParams = { enc: encLayers.map((l, i) => l.init(kes[i])), dec: decLayers.map((l, i) => l.init(kds[i])), codebook };
      if (cfg.ema) p.ema = { count: ones([K], 'float32'), sum: mul(codebook, 1) };
      return p;
    },
    encode,
    decode,
    forward,
    reconstruct: (params, x) => sigmoid(decode(params, vectorQuantize(encode(params, x), params.codebook).codes)),
    decodeIndices(params, indices): Tensor {
      if (indices.dtype !== 'int32' || indices.shape.length !== 2 || indices.shape[1] !== M) throw new ShapeError(`${fn}.decodeIndices: indices must be int32 [n, ${M}], got ${indices.dtype} ${fmtShape(indices.shape)}`);
      return sigmoid(decode(params, gather(params.codebook, indices, 0)));
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Loss and training.

/** The terms of `vqvaeLoss`, each a mean over the batch (nats or squared distances per image). */
export interface VQLoss {
  /** The scalar to minimize. */
  loss: Tensor;
  /** The ELBO with a uniform prior over codes: log p(x|z_q) − M log K. */
  bound: Tensor;
  /** −log p(x|z_q). */
  reconstruction: Tensor;
  /** ‖z_e − sg(e)‖² summed over the M vectors (before β_c). */
  commitment: Tensor;
  /** The step's assignment statistics (for the EMA update), computed from sg(z_e). */
  aux: AssignmentStats;
}

/**
 * The VQ-VAE loss of van den Oord et al. (2017, eq. 3), mean over the batch x [B, xDim]:
 * −log p(x|z_q) + β_c Σ_m ‖z_e,m − sg(e_m)‖², plus Σ_m ‖sg(z_e,m) − e_m‖² when the codebook is not an EMA.
 * @example const { loss, aux } = vqvaeLoss(vq, params, xBatch)
 */
export function vqvaeLoss(model: VQVAEModel, params: VQVAEParams, x: Tensor): VQLoss {
  const { commitment: beta, ema, latents: M, codes: K } = model.config;
  const t = model.forward(params, x);
  const rec = mean(t.logPx);
  const commit = mean(sum(square(sub(t.zE, stopGradient(t.q.codes))), [-2, -1]));
  let loss = add(mul(rec, -1), mul(commit, beta));
  if (!ema) loss = add(loss, mean(sum(square(sub(stopGradient(t.zE), t.q.codes)), [-2, -1])));
  return { loss, bound: sub(rec, M * Math.log(K)), reconstruction: mul(rec, -1), commitment: commit, aux: assignmentStats(stopGradient(t.zE), t.q.indices, K) };
}

/**
 * The update `trainVQVAE` applies after each optimizer step when the codebook is an EMA: the new
 * EMA statistics and codebook from the step's assignment statistics (see `emaCodebookUpdate`).
 * @example const next = vqEmaAfterStep(vq, params, aux)
 */
export function vqEmaAfterStep(model: VQVAEModel, params: VQVAEParams, stats: AssignmentStats): VQVAEParams {
  if (params.ema === undefined) throw new ValueError('vqEmaAfterStep: the parameters have no EMA state (the model was built with ema: false)');
  const { ema, codebook } = emaCodebookUpdate(params.ema, stats, { decay: model.config.decay, epsilon: model.config.epsilon });
  return { ...params, codebook, ema };
}

/**
 * Trains a `VQVAE` with `trainLoop`; under EMA the codebook is updated by `afterStep`.
 * @example
 * const vq = VQVAE();
 * const opt = adam(1e-3);
 * const p = vq.init(key(0));
 * const r = await trainVQVAE(vq, { params: p, optState: opt.init(p), step: 0 }, loader, { steps: 2000, key: key(1), optimizer: opt });
 */
export async function trainVQVAE(model: VQVAEModel, state: TrainState<VQVAEParams>, loader: MinibatchLoader, opts: LoopOptions): Promise<TrainResult<VQVAEParams>> {
  if (model.config.ema !== (state.params.ema !== undefined)) throw new ValueError(`trainVQVAE: the model has ema: ${model.config.ema} but the parameters ${state.params.ema === undefined ? 'lack' : 'have'} EMA state`);
  return trainLoop(state, loader, {
    ...opts,
    name: 'trainVQVAE',
    xDim: model.config.xDim,
    config: model.config,
    loss: (p: VQVAEParams, batch: Batch): StepLoss => {
      const r = vqvaeLoss(model, p, batch.x);
      return { loss: r.loss, bound: r.bound, aux: r.aux };
    },
    afterStep: model.config.ema ? (p, aux) => vqEmaAfterStep(model, p, aux as AssignmentStats) : undefined,
  });
}

// ---------------------------------------------------------------------------------------------
// Evaluation.

/** What `vqEvaluate` reports. */
export interface VQMetrics {
  /** Mean −log p(x|z_q) per image (Bernoulli cross-entropy, nats). */
  reconstructionNll: number;
  /** Mean squared error per pixel between the reconstruction's probabilities and x. */
  mse: number;
  /** exp(−Σ_k p̄_k log p̄_k) of the average assignment p̄ over all latent vectors (K at uniform use). */
  perplexity: number;
  /** Codes used at least once. */
  codesUsed: number;
  /** Mean of log p(x|z_q) − M log K. */
  bound: number;
}

/**
 * Reconstruction error and codebook use of a `VQVAE` on the rows of x [n, xDim], in chunks.
 * @example vqEvaluate(vq, params, testX).perplexity // e.g. 40 of K = 64
 */
export function vqEvaluate(model: VQVAEModel, params: VQVAEParams, x: Tensor, opts: { batchSize?: number } = {}): VQMetrics {
  const { xDim, codes: K, latents: M } = model.config;
  const n = checkRows('vqEvaluate', x, xDim);
  const bs = opts.batchSize ?? 500;
  const counts = new Float64Array(K);
  let nll = 0;
  let se = 0;
  for (let s = 0; s < n; s += bs) {
    const m = Math.min(bs, n - s);
    const r = tidy(() => {
      const xb = slice(x, [s, 0], [m, xDim]);
      const t = model.forward(params, xb);
      const logits = model.decode(params, t.q.codes);
      return { nll: -sum(t.logPx).item(), se: sum(square(sub(sigmoid(logits), xb))).item(), idx: t.q.indices.dataSync() };
    });
    nll += r.nll;
    se += r.se;
    for (const i of r.idx) counts[i]++;
  }
  const total = n * M;
  let h = 0;
  let used = 0;
  for (const c of counts)
    if (c > 0) {
      used++;
      const p = c / total;
      h -= p * Math.log(p);
    }
  return { reconstructionNll: nll / n, mse: se / (n * xDim), perplexity: Math.exp(h), codesUsed: used, bound: -nll / n - M * Math.log(K) };
}
