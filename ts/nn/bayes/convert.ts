/**
 * Bayesian versions of deterministic networks, in the manner of bayesian-torch's `dnn_to_bnn`:
 * `BayesMLP` and `BayesSequential` build them, `toBayesian` converts an `MLP`, a `Linear` or a
 * `Sequential` (its Linear children become `BayesLinear`, the rest stay), and `bayesParamsFrom`
 * turns trained deterministic parameters into posterior means to start from.
 */
import { ValueError } from '../../core/errors.js';
import type { Tensor } from '../../core/tensor.js';
import { leaves } from '../../core/tree.js';
import { add } from '../../ops/elementwise.js';
import { full, scalar } from '../../ops/creation.js';
import { foldIn, split, type Key } from '../../random/key.js';
import { activation as actFn, type Activation } from '../activations.js';
import type { LinearParams } from '../linear.js';
import type { Module } from '../module.js';
import { BayesLinear, inverseSoftplus, type BayesApplyOptions, type BayesLinearOptions, type BayesLinearParams, type BayesModule } from './linear.js';

/** Options of `BayesMLP`: those of its layers plus the activations. */
export interface BayesMLPOptions extends BayesLinearOptions {
  /** Activation after every hidden layer; default 'relu'. */
  activation?: Activation;
  /** Activation after the last layer; default 'identity'. */
  finalActivation?: Activation;
}

/** Sum of KL terms, 0 (float64) when there are none. */
function sumKL(terms: Tensor[]): Tensor {
  return terms.length === 0 ? scalar(0) : terms.reduce((a, b) => add(a, b));
}

/**
 * A multilayer perceptron of `BayesLinear` layers with widths `sizes` = [in, h₁, …, out].
 * Layer i samples with `foldIn(key, i)`; `kl` sums the layers' KLs.
 * @example
 * const net = BayesMLP([4, 50, 1], { estimator: 'local', prior: GaussianPrior(1) });
 * const p = net.init(key(0));
 * const y = net.apply(p, x, { key: key(1) }); // one draw of the network's output
 */
export function BayesMLP(sizes: readonly number[], opts: BayesMLPOptions = {}): BayesModule<BayesLinearParams[]> & {
  /** The layer widths [in, h₁, …, out]. */
  readonly sizes: readonly number[];
  /** The `BayesLinear` layers, one per consecutive pair of widths. */
  readonly layers: readonly ReturnType<typeof BayesLinear>[];
} {
  if (sizes.length < 2) throw new ValueError(`BayesMLP: sizes needs at least [in, out], got [${sizes.join(', ')}]`);
  const layers = sizes.slice(1).map((out, i) => BayesLinear(sizes[i], out, opts));
  const act = actFn(opts.activation ?? 'relu');
  const fin = actFn(opts.finalActivation ?? 'identity');
  const check = (params: BayesLinearParams[]): void => {
    if (!Array.isArray(params) || params.length !== layers.length)
      throw new ValueError(`BayesMLP: expected ${layers.length} layer parameters, got ${Array.isArray(params) ? params.length : typeof params}`);
  };
  return {
    sizes: sizes.slice(),
    layers,
    init(k: Key): BayesLinearParams[] {
      const ks = split(k, layers.length);
      return layers.map((l, i) => l.init(ks[i]));
    },
    apply(params: BayesLinearParams[], x: Tensor, o: BayesApplyOptions = {}): Tensor {
      check(params);
      let h = x;
      for (let i = 0; i < layers.length; i++) {
        h = layers[i].apply(params[i], h, o.key === undefined ? o : { ...o, key: foldIn(o.key, i) });
        h = i < layers.length - 1 ? act(h) : fin(h);
      }
      return h;
    },
    kl(params: BayesLinearParams[], k?: Key): Tensor {
      check(params);
      return sumKL(layers.map((l, i) => l.kl(params[i], k === undefined ? undefined : foldIn(k, i))));
    },
  };
}

function isBayes(m: Module): m is BayesModule {
  return typeof (m as Partial<BayesModule>).kl === 'function';
}

/**
 * Chains modules, some Bayesian: y = fₙ(… f₁(x)); child i gets `foldIn(key, i)`, and `kl` sums the
 * Bayesian children's KLs (deterministic children, e.g. dropout or an activation, add nothing).
 * @example const net = BayesSequential([BayesLinear(4, 8), Lambda(relu), BayesLinear(8, 1)])
 */
export function BayesSequential(layers: readonly Module[]): BayesModule<unknown[]> & {
  /** The modules applied in order. */
  readonly layers: readonly Module[];
} {
  const check = (params: unknown[]): void => {
    if (!Array.isArray(params) || params.length !== layers.length)
      throw new ValueError(`BayesSequential: expected ${layers.length} parameter entries, got ${Array.isArray(params) ? params.length : typeof params}`);
  };
  return {
    layers,
    init(k: Key): unknown[] {
      const ks = layers.length > 0 ? split(k, layers.length) : [];
      return layers.map((m, i) => m.init(ks[i]));
    },
    apply(params: unknown[], x: Tensor, o: BayesApplyOptions = {}): Tensor {
      check(params);
      let y = x;
      for (let i = 0; i < layers.length; i++) y = layers[i].apply(params[i], y, o.key === undefined ? o : { ...o, key: foldIn(o.key, i) });
      return y;
    },
    kl(params: unknown[], k?: Key): Tensor {
      check(params);
      const terms: Tensor[] = [];
      layers.forEach((m, i) => {
        if (isBayes(m)) terms.push(m.kl(params[i], k === undefined ? undefined : foldIn(k, i)));
      });
      return sumKL(terms);
    },
  };
}

/**
 * The Bayesian version of a deterministic module: an `MLP` becomes a `BayesMLP` with the same
 * sizes and activations, a `Linear` a `BayesLinear`, a `Sequential` a `BayesSequential` whose
 * Linear (and MLP) children are converted and whose other children are kept.
 * @example
 * const bnn = toBayesian(MLP([8, 50, 1]), { prior: GaussianPrior(1), estimator: 'flipout' });
 * const loss = negElbo(bnn, p, x, y, { key: k, datasetSize: n, logLik: gaussianLikelihood(0.5) });
 */
export function toBayesian(m: Module, opts: BayesLinearOptions = {}): BayesModule {
  const a = m as Partial<{ sizes: readonly number[]; activation: Activation; finalActivation: Activation; bias: boolean; inFeatures: number; outFeatures: number; layers: readonly Module[] }>;
  if (isBayes(m)) return m;
  if (Array.isArray(a.sizes) && a.activation !== undefined)
    return BayesMLP(a.sizes, { bias: a.bias, ...opts, activation: a.activation, finalActivation: a.finalActivation }) as BayesModule;
  if (typeof a.inFeatures === 'number' && typeof a.outFeatures === 'number' && a.layers === undefined) return BayesLinear(a.inFeatures, a.outFeatures, opts) as BayesModule;
  if (Array.isArray(a.layers)) {
    const conv = a.layers.map((c) => {
      const ca = c as Partial<{ inFeatures: number; sizes: readonly number[]; layers: unknown }>;
      return typeof ca.inFeatures === 'number' || Array.isArray(ca.sizes) || Array.isArray(ca.layers) ? toBayesian(c, opts) : c;
    });
    return BayesSequential(conv) as BayesModule;
  }
  throw new ValueError('toBayesian: the module is not an MLP, a Linear or a Sequential (it has no sizes, inFeatures/outFeatures or layers to convert)');
}

/**
 * Posterior parameters whose means are trained deterministic `Linear` parameters (a single layer's
 * `{ weight, bias }` or an MLP's array of them) and whose scales all start at `initScale`.
 * @example const p0 = bayesParamsFrom(mlp.init(key(0)), 1e-3) // BayesMLP parameters
 */
export function bayesParamsFrom(params: LinearParams | LinearParams[], initScale = 1e-2): BayesLinearParams | BayesLinearParams[] {
  const rho = inverseSoftplus(initScale);
  const one = (p: LinearParams): BayesLinearParams => {
    if (p.weight === undefined) throw new ValueError('bayesParamsFrom: expected Linear parameters { weight, bias? }');
    const r = (t: Tensor): Tensor => full(t.shape, rho, t.dtype);
    return p.bias !== undefined ? { weightMu: p.weight, weightRho: r(p.weight), biasMu: p.bias, biasRho: r(p.bias) } : { weightMu: p.weight, weightRho: r(p.weight) };
  };
  if (Array.isArray(params)) return params.map(one);
  if (leaves(params).length === 0) throw new ValueError('bayesParamsFrom: no parameters given');
  return one(params);
}
