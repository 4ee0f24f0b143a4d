/**
 * The minibatch ELBO of a Bayesian network (Blundell et al. 2015, eq. 8–9 with the KL spread
 * evenly over minibatches): for a batch B of a data set of N points,
 *   ELBO_B = Σ_{n∈B} E_q[log p(y_n | x_n, W)] − (|B|/N)·KL(q ‖ p),
 * whose sum over the N/|B| batches of an epoch is the full ELBO. `negElbo` returns −ELBO_B/|B|,
 * the per-example loss to minimize.
 */
import { ShapeError, ValueError, fmtShape } from '../../core/errors.js';
import type { Tensor } from '../../core/tensor.js';
import { div, exp, log, mul, oneHot, square, sub } from '../../ops/elementwise.js';
import { asTensor } from '../../ops/creation.js';
import { logSoftmax, mean, sum } from '../../ops/reduce.js';
import { reshape } from '../../ops/shape.js';
import { split, type Key } from '../../random/key.js';
import type { BayesModule } from './linear.js';

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/** A likelihood: per-example log p(y | output), shape [batch]. */
export type LogLikelihood = (output: Tensor, y: Tensor) => Tensor;

/**
 * Gaussian likelihood with standard deviation `scale` (a number, or a tensor such as exp of a
 * learned log-scale): log N(y; ŷ, s²) summed over each example's outputs. ŷ [B, d] and y [B, d]
 * (or [B] with d = 1) → [B].
 * @example const ll = gaussianLikelihood(0.5)(pred, y) // [B]
 */
export function gaussianLikelihood(scale: number | Tensor): LogLikelihood {
  if (typeof scale === 'number' && !(Number.isFinite(scale) && scale > 0)) throw new ValueError(`gaussianLikelihood: scale must be a finite number > 0, got ${scale}`);
  return (out, y) => {
    const yy = y.shape.length === out.shape.length - 1 ? reshape(y, [...y.shape, 1]) : y;
    if (yy.shape.length !== out.shape.length || yy.shape.some((d, i) => d !== out.shape[i])) throw new ShapeError(`gaussianLikelihood: targets ${fmtShape(y.shape)} do not match outputs ${fmtShape(out.shape)}`);
    const s = asTensor(scale, out);
    const lp = mul(square(div(sub(yy, out), s)), -0.5);
    // −log s − ½ log 2π, folded into one constant when s is a number.
    const perDim = typeof scale === 'number' ? sub(lp, Math.log(scale) + HALF_LOG_2PI) : sub(sub(lp, log(s)), HALF_LOG_2PI);
    return out.shape.length > 1 ? sum(perDim, out.shape.slice(1).map((_, i) => i + 1)) : perDim;
  };
}

/**
 * Categorical likelihood of int32 labels [B] under logits [B, C]: log softmax(logits)[label] → [B].
 * @example const ll = categoricalLikelihood(logits, labels)
 */
export const categoricalLikelihood: LogLikelihood = (logits: Tensor, labels: Tensor): Tensor => {
  if (logits.shape.length !== 2 || labels.shape.length !== 1 || labels.shape[0] !== logits.shape[0])
    throw new ShapeError(`categoricalLikelihood: logits must be [B, C] and labels [B], got ${fmtShape(logits.shape)} and ${fmtShape(labels.shape)}`);
  return sum(mul(logSoftmax(logits, -1), oneHot(labels, logits.shape[1], logits.dtype)), -1);
};

/**
 * The minibatch ELBO: Σ_batch log-likelihood − (batchSize/datasetSize)·KL.
 * @example minibatchElbo(sum(ll), net.kl(p), 128, 50000)
 */
export function minibatchElbo(logLikSum: Tensor, kl: Tensor, batchSize: number, datasetSize: number): Tensor {
  if (!(Number.isInteger(datasetSize) && datasetSize >= 1)) throw new ValueError(`minibatchElbo: datasetSize must be a positive integer, got ${datasetSize}`);
  if (!(batchSize >= 1 && batchSize <= datasetSize)) throw new ValueError(`minibatchElbo: batchSize must be in [1, datasetSize = ${datasetSize}], got ${batchSize}`);
  return sub(logLikSum, mul(kl, batchSize / datasetSize));
}

/** Options of `negElbo`. */
export interface NegElboOptions {
  /** Randomness of the forward pass and of a sampled KL (split in two). */
  key: Key;
  /** N, the number of training points the KL is spread over. */
  datasetSize: number;
  /** The likelihood of one example's targets. */
  logLik: LogLikelihood;
  /** Weight of the KL (1 for the ELBO; < 1 tempers it). Default 1. */
  klWeight?: number;
}

/** What `elboTerms` returns: the loss and its parts, as tensors under the gradient. */
export interface ElboTerms {
  /** −ELBO_B / |B|: the per-example loss. */
  loss: Tensor;
  /** Mean per-example log-likelihood of the batch (one draw). */
  logLik: Tensor;
  /** KL(q ‖ p) of the whole network. */
  kl: Tensor;
}

/**
 * The per-example negative minibatch ELBO of a Bayesian network and its parts:
 * loss = −(1/|B|) Σ_{n∈B} log p(y_n | f_W(x_n)) + KL(q ‖ p)/N, one draw of W.
 * @example
 * const { loss } = elboTerms(net, p, xb, yb, { key: k, datasetSize: n, logLik: gaussianLikelihood(0.1) });
 */
export function elboTerms<P>(model: BayesModule<P>, params: P, x: Tensor, y: Tensor, o: NegElboOptions): ElboTerms {
  const [kf, kk] = split(o.key, 2);
  const ll = mean(o.logLik(model.apply(params, x, { key: kf, training: true }), y));
  const kl = model.kl(params, kk);
  return { loss: sub(mul(kl, (o.klWeight ?? 1) / o.datasetSize), ll), logLik: ll, kl };
}

/**
 * The per-example negative minibatch ELBO (see `elboTerms`), the scalar to minimize.
 * @example const [loss, g] = valueAndGrad((p) => negElbo(net, p, xb, yb, opts))(params)
 */
export function negElbo<P>(model: BayesModule<P>, params: P, x: Tensor, y: Tensor, o: NegElboOptions): Tensor {
  if (!(Number.isInteger(o.datasetSize) && o.datasetSize >= 1)) throw new ValueError(`negElbo: datasetSize must be a positive integer, got ${o.datasetSize}`);
  return elboTerms(model, params, x, y, o).loss;
}

/**
 * e^x, for likelihoods with a learned log-scale.
 * @example gaussianLikelihood(expScale(params.logNoise))
 */
export const expScale = (logScale: Tensor): Tensor => exp(logScale);
