/**
 * Continuous relaxations of discrete distributions: the binary Concrete (RelaxedBernoulli) and
 * the Concrete / Gumbel-Softmax (RelaxedOneHotCategorical) of Maddison, Mnih & Teh (ICLR 2017)
 * and Jang, Gu & Poole (ICLR 2017). Both are reparameterized; with `straightThrough` the draws
 * are hard (a rounded value, a one-hot vector) in the forward pass while gradients flow through
 * the relaxed draw (Bengio, Léonard & Courville 2013).
 */
import { ValueError } from '../core/errors.js';
import { broadcastShapes, type Shape } from '../core/shape.js';
import type { Tensor } from '../core/tensor.js';
import { stopGradient } from '../core/autodiff.js';
import type { TensorLike } from '../ops/creation.js';
import { add, cast, div, exp, greater, log, log1p, mul, neg, oneHot, sigmoid, softplus, sub } from '../ops/elementwise.js';
import { argmax, logSoftmax, logsumexp, softmax, sum } from '../ops/reduce.js';
import { broadcastTo, expandDims } from '../ops/shape.js';
import type { Key } from '../random/key.js';
import { positive, simplex, unitInterval, type Constraint } from './constraints.js';
import { batchOf, checkExpand, Distribution, oneOf, params, type DistributionOptions } from './distribution.js';
import type { ProbsOrLogits } from './discrete.js';
import { openUniform } from './util.js';

/** Options of the relaxed distributions. */
export interface RelaxedOptions extends DistributionOptions {
  /** Forward pass hard (rounded / one-hot), backward pass through the relaxed draw. */
  straightThrough?: boolean;
}

/** The relaxed draw behind each straight-through draw, so that `logProb` can score it. */
const RELAXED_OF = new WeakMap<Tensor, Tensor>();

/** hard + (soft − stopGradient(soft)): exactly `hard` forward, the gradient of `soft` backward. */
function straightThrough(hard: Tensor, soft: Tensor): Tensor {
  const out = add(hard, sub(soft, stopGradient(soft)));
  RELAXED_OF.set(out, soft);
  return out;
}

function logitsFrom(name: string, p: ProbsOrLogits, binary: boolean): Tensor {
  if (oneOf(name, 'the probs/logits argument', p, ['probs', 'logits']) === 'logits') return params(p.logits as TensorLike)[0];
  const pr = params(p.probs as TensorLike)[0];
  return binary ? sub(log(pr), log1p(neg(pr))) : log(pr);
}

/**
 * RelaxedBernoulli(τ, ℓ), the binary Concrete: y = σ((ℓ + log u − log(1 − u)) / τ), u ~ U(0, 1).
 * Its logit x = log y − log(1 − y) is Logistic(ℓ/τ, 1/τ), so
 * log p(y) = log τ + ℓ − τx − 2 softplus(ℓ − τx) − log y − log(1 − y) on (0, 1).
 * @example new RelaxedBernoulli(0.5, { probs: 0.3 }).rsample(key(0), [4])
 */
export class RelaxedBernoulli extends Distribution {
  override readonly hasRsample = true;
  /** τ > 0; draws approach hard {0, 1} values as τ → 0. */
  readonly temperature: Tensor;
  /** ℓ = log(p/(1−p)). */
  readonly logits: Tensor;
  /** Whether draws are hard in the forward pass (gradients through the relaxed draw). */
  readonly straightThrough: boolean;
  constructor(temperature: TensorLike, p: ProbsOrLogits, opts: RelaxedOptions = {}) {
    const logits = logitsFrom('RelaxedBernoulli', p, true);
    const [t] = params(temperature, logits);
    super(batchOf('RelaxedBernoulli', t, logits), [], opts);
    this.temperature = t;
    this.logits = logits;
    this.straightThrough = opts.straightThrough ?? false;
    this.checkParams([{ name: 'temperature', value: t, constraint: positive }]);
    if (p.probs !== undefined) this.checkParams([{ name: 'probs', value: params(p.probs)[0], constraint: unitInterval }]);
  }
  /** p = σ(ℓ). */
  get probs(): Tensor {
    return sigmoid(this.logits);
  }
  get support(): Constraint {
    return unitInterval;
  }
  protected paramLike(): Tensor {
    return this.logits;
  }
  override rsample(key: Key, sampleShape: Shape = []): Tensor {
    const u = openUniform(key, this.shape(sampleShape), this.dtype);
    const soft = sigmoid(div(add(this.logits, sub(log(u), log1p(neg(u)))), this.temperature));
    return this.straightThrough ? straightThrough(cast(greater(soft, 0.5), soft.dtype), soft) : soft;
  }
  /** The relaxed density; a straight-through draw is scored by the relaxed draw behind it. */
  override logProb(value: TensorLike): Tensor {
    return super.logProb((typeof value !== 'number' && RELAXED_OF.get(value)) || value);
  }
  protected logProbRaw(y: Tensor): Tensor {
    const t = this.temperature;
    const ly = log(y);
    const l1y = log1p(neg(y));
    const tx = mul(t, sub(ly, l1y));
    const z = sub(this.logits, tx);
    return sub(sub(add(log(t), z), mul(softplus(z), 2)), add(ly, l1y));
  }
  expand(batchShape: Shape): RelaxedBernoulli {
    checkExpand(this.name, this.batchShape, batchShape);
    return new RelaxedBernoulli(broadcastTo(this.temperature, batchShape), { logits: broadcastTo(this.logits, batchShape) }, { validateArgs: false, straightThrough: this.straightThrough });
  }
}

/**
 * RelaxedOneHotCategorical(τ, ℓ), the Concrete / Gumbel-Softmax over the (K−1)-simplex (event
 * shape [K]): y = softmax((ℓ + G)/τ) with Gᵢ standard Gumbel. Its density (Maddison et al. 2017,
 * eq. 5) with respect to Lebesgue measure on the first K − 1 coordinates is
 * log p(y) = log (K−1)! + (K−1) log τ + Σₖ (ℓₖ − (τ + 1) log yₖ) − K logsumexpₖ(ℓₖ − τ log yₖ).
 * @example new RelaxedOneHotCategorical(0.5, { logits: tensor([0, 1, 2]) }).rsample(key(0))
 */
export class RelaxedOneHotCategorical extends Distribution {
  override readonly hasRsample = true;
  /** τ > 0; draws approach one-hot vectors as τ → 0. */
  readonly temperature: Tensor;
  /** Normalized logits (log-probabilities). */
  readonly logits: Tensor;
  /** Whether draws are one-hot in the forward pass (gradients through the relaxed draw). */
  readonly straightThrough: boolean;
  constructor(temperature: TensorLike, p: ProbsOrLogits, opts: RelaxedOptions = {}) {
    const raw = logitsFrom('RelaxedOneHotCategorical', p, false);
    if (raw.shape.length < 1) throw new ValueError('RelaxedOneHotCategorical: probs/logits need at least one axis');
    const [t] = params(temperature, raw);
    super(broadcastShapes('RelaxedOneHotCategorical', t.shape, raw.shape.slice(0, -1)), raw.shape.slice(-1), opts);
    this.temperature = t;
    this.logits = logSoftmax(raw, -1);
    this.straightThrough = opts.straightThrough ?? false;
    this.checkParams([{ name: 'temperature', value: t, constraint: positive }]);
    if (p.probs !== undefined) this.checkParams([{ name: 'probs', value: params(p.probs)[0], constraint: simplex }]);
  }
  /** K, the event size. */
  get numCategories(): number {
    return this.eventShape[0];
  }
  /** softmax(ℓ) [..., K]. */
  get probs(): Tensor {
    return softmax(this.logits, -1);
  }
  get support(): Constraint {
    return simplex;
  }
  protected paramLike(): Tensor {
    return this.logits;
  }
  /** The temperature with a trailing axis, to broadcast against the categories. */
  private tau(): Tensor {
    return expandDims(this.temperature, -1);
  }
  override rsample(key: Key, sampleShape: Shape = []): Tensor {
    const u = openUniform(key, this.shape(sampleShape), this.dtype);
    const g = neg(log(neg(log(u))));
    // log-space softmax, so small temperatures do not underflow to NaN.
    const soft = exp(logSoftmax(div(add(this.logits, g), this.tau()), -1));
    if (!this.straightThrough) return soft;
    return straightThrough(oneHot(argmax(soft, -1), this.numCategories, soft.dtype), soft);
  }
  /** The relaxed density; a straight-through draw is scored by the relaxed draw behind it. */
  override logProb(value: TensorLike): Tensor {
    return super.logProb((typeof value !== 'number' && RELAXED_OF.get(value)) || value);
  }
  protected logProbRaw(y: Tensor): Tensor {
    const k = this.numCategories;
    const t = this.tau();
    const ly = log(y);
    const logT = log(this.temperature);
    const s = sum(sub(this.logits, mul(add(t, 1), ly)), -1);
    const lse = logsumexp(sub(this.logits, mul(t, ly)), -1);
    let logFact = 0;
    for (let j = 2; j < k; j++) logFact += Math.log(j);
    return add(add(mul(logT, k - 1), logFact), sub(s, mul(lse, k)));
  }
  expand(batchShape: Shape): RelaxedOneHotCategorical {
    checkExpand(this.name, this.batchShape, batchShape);
    return new RelaxedOneHotCategorical(
      broadcastTo(this.temperature, batchShape),
      { logits: broadcastTo(this.logits, [...batchShape, this.numCategories]) },
      { validateArgs: false, straightThrough: this.straightThrough },
    );
  }
}
