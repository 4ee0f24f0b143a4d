/**
 * Training objectives of amortized VI for `VAE` models, as losses to minimize (mean over the
 * batch), and the KL schedules that fight posterior collapse:
 * - ELBO (Kingma & Welling 2014): E_q[log p(x|z)] − β·KL(q(z|x) ‖ p(z)), closed-form or sampled KL,
 *   with optional free bits (Kingma et al. 2016): KL replaced by Σ_j max(λ, E_batch KL_j).
 * - IWAE (Burda et al. 2016): L_k = E[log (1/k) Σ_i w_i], w_i = p(x, z_i) / q(z_i|x).
 * - DReG (Tucker et al. 2019): the same bound and the same decoder gradient Σ_i w̃_i ∇_θ log w_i,
 *   with the doubly reparameterized encoder gradient Σ_i w̃_i² (∂ log w_i/∂z_i)(∂z_i/∂φ), where
 *   w̃ = softmax(log w) and log q is evaluated at stopped encoder parameters.
 */
import { stopGradient } from '../../core/autodiff.js';
import { ValueError } from '../../core/errors.js';
import type { Tensor } from '../../core/tensor.js';
import { add, maximum, mul, neg, sub } from '../../ops/elementwise.js';
import { logsumexp, mean, softmax, sum } from '../../ops/reduce.js';
import { reshape } from '../../ops/shape.js';
import type { ForwardTerms, VAEModel, VAEParams } from './model.js';
import type { ScaleHolder } from './terms.js';

/** Which bound a loss optimizes. */
export type Objective = 'elbo' | 'iwae' | 'dreg';

/** A KL weight: a constant or a function of the 0-based step. */
export type BetaSchedule = number | ((step: number) => number);

/**
 * A weight in a loss: a number, or a 0-d tensor where a compiled training step passes a schedule's
 * value as an input (trainLoop's `hyper`).
 */
export type Weight = number | Tensor;

/**
 * Checks a numeric weight is finite and ≥ 0 (> 0 with `positive`); a tensor weight is the caller's.
 * @example checkWeight('myLoss', 'beta', beta) // throws a ValueError for NaN, ±∞ or a negative number
 */
export function checkWeight(op: string, name: string, w: Weight, positive = false): void {
  if (typeof w === 'number' && (!Number.isFinite(w) || (positive ? !(w > 0) : !(w >= 0))))
    throw new ValueError(`${op}: ${name} must be a finite number ${positive ? '>' : '≥'} 0, got ${w}`);
}

/**
 * x·w, or x itself for the number 1.
 * @example weighted(kl, beta) // kl·β (kl itself when β is the number 1)
 */
export function weighted(x: Tensor, w: Weight): Tensor {
  return w === 1 ? x : mul(x, w);
}

/** Options of `vaeLoss`. */
export interface LossOptions {
  /** 'elbo' (default), 'iwae' or 'dreg'. */
  objective?: Objective;
  /** KL weight β (ELBO), or the weight of log p(z) − log q(z) inside the importance weights; default 1. */
  beta?: Weight;
  /** Free bits λ in nats per latent coordinate (ELBO only); default 0 (off). */
  freeBits?: number;
  /** Closed-form KL for the top layer (ELBO only); default true. */
  analyticKL?: boolean;
}

/** A loss and the bound it came from (β = 1, no free bits), both mean per example. */
export interface LossResult {
  /** The scalar to minimize. */
  loss: Tensor;
  /** The ELBO (objective 'elbo') or L_k, per example: a value to report, not to differentiate. */
  bound: Tensor;
}

/**
 * Sum of every layer's per-coordinate KL term over the latent axis: [k, B] (or [B] when the only
 * layer's KL is closed form).
 */
function klPerExample(t: ForwardTerms): Tensor {
  let acc: Tensor | null = null;
  for (const k of t.kl) {
    const s = sum(k, -1);
    acc = acc === null ? s : add(acc, s);
  }
  return acc as Tensor;
}

/**
 * The loss of objective `opts.objective` for a batch x [B, D] with noise `eps` (from
 * `model.noise(key, k, B)`; k samples per example, k = 1 for the plain ELBO).
 * @example
 * const eps = vae.noise(key(1), 50, x.shape[0]);
 * const { loss } = vaeLoss(vae, params, x, eps, { objective: 'dreg' });
 */
export function vaeLoss(model: VAEModel, params: VAEParams, x: Tensor, eps: readonly Tensor[], opts: LossOptions = {}): LossResult {
  const { objective = 'elbo', beta = 1, freeBits = 0, analyticKL = true } = opts;
  checkWeight('vaeLoss', 'beta', beta);
  if (!(freeBits >= 0)) throw new ValueError(`vaeLoss: freeBits must be ≥ 0, got ${freeBits}`);
  if (objective === 'elbo') return elboLoss(model, params, x, eps, beta, freeBits, analyticKL);
  if (objective !== 'iwae' && objective !== 'dreg') throw new ValueError(`vaeLoss: objective must be 'elbo', 'iwae' or 'dreg', got '${String(objective)}'`);
  if (freeBits > 0) throw new ValueError(`vaeLoss: free bits apply to the ELBO only, not to '${objective}'`);
  const k = eps[0].shape[0];
  const holder: ScaleHolder = { weight: null };
  const t = model.forward(params, x, eps, objective === 'dreg' ? { dreg: holder } : {});
  const kl = klPerExample(t); // [k, B]
  const logW = sub(t.logPx, weighted(kl, beta));
  const logW1 = beta === 1 ? logW : sub(t.logPx, kl);
  const bound = sub(mean(logsumexp(logW1, 0)), Math.log(k));
  if (objective === 'iwae') return { loss: neg(sub(mean(logsumexp(logW, 0)), Math.log(k))), bound };
  // DReG: w̃ (stopped) scales the decoder's gradient; gradScale on the samples adds the second w̃.
  const wt = stopGradient(softmax(stopGradient(logW), 0)); // [k, B]
  holder.weight = reshape(wt, [...wt.shape, 1]);
  const surrogate = mean(sum(mul(wt, logW), 0));
  return { loss: neg(surrogate), bound };
}

function elboLoss(model: VAEModel, params: VAEParams, x: Tensor, eps: readonly Tensor[], beta: Weight, freeBits: number, analyticKL: boolean): LossResult {
  const t = model.forward(params, x, eps, { analyticKL });
  const rec = mean(t.logPx);
  const klMean = mean(klPerExample(t));
  const bound = sub(rec, klMean);
  let klTerm = klMean;
  if (freeBits > 0) {
    // Kingma et al. (2016): each coordinate's batch-mean KL counts at least λ nats.
    let acc: Tensor | null = null;
    for (const kl of t.kl) {
      const perDim = mean(reshape(kl, [-1, kl.shape[kl.shape.length - 1]]), 0);
      const s = sum(maximum(perDim, freeBits));
      acc = acc === null ? s : add(acc, s);
    }
    klTerm = acc as Tensor;
  }
  const loss = sub(weighted(klTerm, beta), rec);
  return { loss, bound };
}

/**
 * A constant KL weight.
 * @example constantBeta(4) // β-VAE with β = 4
 */
export function constantBeta(beta: number): (step: number) => number {
  return () => beta;
}

/**
 * Linear KL warm-up (Bowman et al. 2016; Sønderby et al. 2016): β rises from `start` to `end`
 * over `steps` steps, then stays at `end`.
 * @example klWarmup(10000)(5000) // 0.5
 */
export function klWarmup(steps: number, start = 0, end = 1): (step: number) => number {
  if (!(steps >= 0)) throw new ValueError(`klWarmup: steps must be ≥ 0, got ${steps}`);
  return (step) => (steps === 0 || step >= steps ? end : start + ((end - start) * step) / steps);
}

/**
 * Cyclical KL annealing (Fu et al., NAACL 2019): training is cut into `cycles` cycles of
 * `period` steps; within each, β rises linearly from 0 to `max` over the first `ratio` of the
 * cycle and then stays at `max`. After the last cycle β = `max`.
 * @example klCyclical(1000, { cycles: 4, ratio: 0.5 })(250) // 0.5
 */
export function klCyclical(period: number, opts: { cycles?: number; ratio?: number; max?: number } = {}): (step: number) => number {
  const { cycles = Infinity, ratio = 0.5, max = 1 } = opts;
  if (!(period >= 1)) throw new ValueError(`klCyclical: period must be ≥ 1, got ${period}`);
  if (!(ratio > 0 && ratio <= 1)) throw new ValueError(`klCyclical: ratio must be in (0, 1], got ${ratio}`);
  return (step) => {
    if (step >= cycles * period) return max;
    const tau = (step % period) / period;
    return tau >= ratio ? max : (max * tau) / ratio;
  };
}

/**
 * The value of a β schedule at `step`, checked (finite, ≥ 0): a compiled step receives it as an
 * input, past the losses' own checks of numeric weights.
 * @example betaAt(klWarmup(1000), 250) // 0.25
 */
export function betaAt(s: BetaSchedule, step: number, op = 'betaAt'): number {
  const b = typeof s === 'number' ? s : s(step);
  if (!Number.isFinite(b) || b < 0) throw new ValueError(`${op}: beta must be a finite number ≥ 0, got ${b}${typeof s === 'number' ? '' : ` from the schedule at step ${step}`}`);
  return b;
}
