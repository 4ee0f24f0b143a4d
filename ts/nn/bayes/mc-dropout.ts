/**
 * MC dropout (Gal & Ghahramani 2016, "Dropout as a Bayesian Approximation"): a network trained
 * with dropout and weight decay is variational inference with a Bernoulli-masked posterior over
 * its weights; keeping dropout on at test time and averaging T passes approximates the posterior
 * predictive. With prior length-scale l, keep probability 1 − p, N training points and
 * observation precision τ, the weight decay that matches the prior is
 *   λ = l²(1 − p) / (2Nτ),   equivalently   τ = l²(1 − p) / (2Nλ),
 * for the loss mean (y − ŷ)² + λ Σ ‖W‖² (the convention of the paper's UCI code); the
 * predictive of a regression network is the mixture (1/T) Σ_t N(ŷ_t, τ⁻¹).
 */
import { ShapeError, ValueError, fmtShape } from '../../core/errors.js';
import type { Tensor } from '../../core/tensor.js';
import { add, mul, square, sub } from '../../ops/elementwise.js';
import { mean, sum } from '../../ops/reduce.js';
import { reshape } from '../../ops/shape.js';
import { foldIn, split, type Key } from '../../random/key.js';
import type { FloatDType } from '../../random/samplers.js';
import { activation as actFn, type Activation } from '../activations.js';
import type { Initializer } from '../init.js';
import { Dropout } from '../layers.js';
import { Linear, type LinearParams } from '../linear.js';
import type { ApplyOptions, Module } from '../module.js';
import { predictiveSamples, regressionPredictive, type RegressionPredictive } from './predictive.js';

/** Options of `McDropoutMLP`. */
export interface McDropoutMLPOptions {
  /** Dropout probability p in [0, 1). */
  p: number;
  /** Activation of the hidden layers; default 'relu'. */
  activation?: Activation;
  /** Parameter dtype; default float32. */
  dtype?: FloatDType;
  /** Drop the inputs too (as the paper's UCI networks do); default true. */
  dropInput?: boolean;
  /** Weight and bias initializers; default PyTorch's Linear ones (Keras, as in the paper's code: xavierUniform() and zerosInit()). */
  weightInit?: Initializer;
  /** Bias initializer of every Linear layer; default PyTorch's Linear one. */
  biasInit?: Initializer;
}

/**
 * An MLP with dropout before every Linear layer (the first one optional): widths `sizes` =
 * [in, h₁, …, out]. `apply(p, x, { key })` drops units with the key (training and MC passes);
 * without a key it is the deterministic network (dropout's expectation). Parameters are the
 * array of the layers' `LinearParams`.
 * @example
 * const net = McDropoutMLP([8, 50, 1], { p: 0.05 });
 * const y = net.apply(net.init(key(0)), x, { key: key(1) }); // one stochastic pass
 */
export function McDropoutMLP(sizes: readonly number[], opts: McDropoutMLPOptions): Module<LinearParams[]> & {
  /** The layer widths [in, h₁, …, out]. */
  readonly sizes: readonly number[];
  /** The dropout probability. */
  readonly p: number;
} {
  const { p, dtype = 'float32', dropInput = true } = opts;
  if (!(p >= 0 && p < 1)) throw new ValueError(`McDropoutMLP: p must be in [0, 1), got ${p}`);
  if (sizes.length < 2) throw new ValueError(`McDropoutMLP: sizes needs at least [in, out], got [${sizes.join(', ')}]`);
  const layers = sizes.slice(1).map((out, i) => Linear(sizes[i], out, { dtype, weightInit: opts.weightInit, biasInit: opts.biasInit }));
  const drop = Dropout(p);
  const act = actFn(opts.activation ?? 'relu');
  return {
    sizes: sizes.slice(),
    p,
    init(k: Key): LinearParams[] {
      const ks = split(k, layers.length);
      return layers.map((l, i) => l.init(ks[i]));
    },
    apply(params: LinearParams[], x: Tensor, o: ApplyOptions = {}): Tensor {
      if (!Array.isArray(params) || params.length !== layers.length) throw new ValueError(`McDropoutMLP: expected ${layers.length} layer parameters, got ${Array.isArray(params) ? params.length : typeof params}`);
      let h = x;
      for (let i = 0; i < layers.length; i++) {
        if (o.key !== undefined && (i > 0 || dropInput)) h = drop.apply({}, h, { training: true, key: foldIn(o.key, i) });
        h = layers[i].apply(params[i], h);
        if (i < layers.length - 1) h = act(h);
      }
      return h;
    },
  };
}

/** The quantities of Gal & Ghahramani's relation; all positive, p in [0, 1). */
export interface DropoutPriorArgs {
  /** Prior length-scale l. */
  lengthScale: number;
  /** Dropout probability p. */
  p: number;
  /** Training points N. */
  n: number;
}

function checkArgs(who: string, a: DropoutPriorArgs, extra: string, extraValue: number): void {
  for (const [k, v] of [['lengthScale', a.lengthScale], ['n', a.n], [extra, extraValue]] as const) if (!(Number.isFinite(v) && v > 0)) throw new ValueError(`${who}: ${k} must be a finite number > 0, got ${v}`);
  if (!(a.p >= 0 && a.p < 1)) throw new ValueError(`${who}: p must be in [0, 1), got ${a.p}`);
}

/**
 * The weight decay λ = l²(1 − p)/(2Nτ) that makes dropout training the variational objective
 * for prior length-scale l and observation precision τ.
 * @example dropoutWeightDecay({ lengthScale: 1e-2, p: 0.05, n: 455, tau: 0.15 }) // ≈ 6.96e−7
 */
export function dropoutWeightDecay(a: DropoutPriorArgs & { tau: number }): number {
  checkArgs('dropoutWeightDecay', a, 'tau', a.tau);
  return (a.lengthScale ** 2 * (1 - a.p)) / (2 * a.n * a.tau);
}

/**
 * The observation precision τ = l²(1 − p)/(2Nλ) implied by weight decay λ.
 * @example dropoutTau({ lengthScale: 1e-2, p: 0.05, n: 455, weightDecay: 6.96e-7 }) // ≈ 0.15
 */
export function dropoutTau(a: DropoutPriorArgs & { weightDecay: number }): number {
  checkArgs('dropoutTau', a, 'weightDecay', a.weightDecay);
  return (a.lengthScale ** 2 * (1 - a.p)) / (2 * a.n * a.weightDecay);
}

/**
 * The MC-dropout training loss: the mean squared error over all outputs plus λ Σ_layers ‖W‖²
 * (weights only, as Keras' W_regularizer), one stochastic pass with key `k`. y [B, d] (or [B] for d = 1).
 * @example
 * const lam = dropoutWeightDecay({ lengthScale: 1e-2, p: 0.05, n, tau: 0.15 });
 * fitMinibatch(net.init(key(0)), x, y, { loss: (p, xb, yb, k) => mcDropoutLoss(net, p, xb, yb, k, lam), epochs: 40, batchSize: 32, key: key(1) });
 */
export function mcDropoutLoss(net: Module<LinearParams[]>, params: LinearParams[], x: Tensor, y: Tensor, k: Key, weightDecay: number): Tensor {
  const out = net.apply(params, x, { key: k, training: true });
  const yy = y.shape.length === out.shape.length - 1 ? reshape(y, [...y.shape, 1]) : y;
  if (yy.shape.length !== out.shape.length || yy.shape.some((d, i) => d !== out.shape[i])) throw new ShapeError(`mcDropoutLoss: targets ${fmtShape(y.shape)} do not match outputs ${fmtShape(out.shape)}`);
  let l = mean(square(sub(yy, out)));
  if (weightDecay > 0) for (const p of params) l = add(l, mul(sum(square(p.weight)), weightDecay));
  return l;
}

/**
 * The MC-dropout predictive of a regression network on test inputs x [n, d_in] with targets y of
 * shape [n], from T passes with dropout on, scored by `regressionPredictive` (RMSE, log-likelihood of the
 * mixture (1/T) Σ N(ŷ_t, τ⁻¹), coverage), un-standardized by `scale` and `shift`.
 * @example const r = mcDropoutPredictive(net, p, xTest, yTest, { T: 10000, tau: 0.15, key: key(7) })
 */
export function mcDropoutPredictive(
  net: Module<LinearParams[]>,
  params: LinearParams[],
  x: Tensor,
  y: ArrayLike<number>,
  o: { T: number; tau: number; key: Key; scale?: number; shift?: number; pass?: (k: Key) => Tensor },
): RegressionPredictive {
  const pass = o.pass ?? ((k: Key): Tensor => net.apply(params, x, { key: k }));
  const { data } = predictiveSamples(pass, o.T, o.key);
  return regressionPredictive(data, y, { tau: o.tau, scale: o.scale, shift: o.shift });
}
