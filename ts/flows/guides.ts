/**
 * Flow autoguides: the latent vector of all unconstrained coordinates (as AutoMultivariateNormal's)
 * drawn from a normalizing flow, z = loc + scale ⊙ f_K(…f_1(ε)), ε ~ N(0, I). The last layer is an
 * affine map starting at the guide's initial point with scale `initScale`, and every flow layer
 * starts at (or near) the identity, so the guide starts where AutoNormal does. Draws carry their
 * log-density, so IAF guides never invert.
 */
import { ValueError } from '../core/errors.js';
import { Tensor } from '../core/tensor.js';
import type { Distribution } from '../distributions/distribution.js';
import { AutoContinuous, type AutoGuideOptions } from '../infer/autoguide.js';
import { param } from '../ppl/primitives.js';
import { log } from '../ops/elementwise.js';
import { foldIn, key as makeKey, type Key } from '../random/key.js';
import type { FloatDType } from '../random/samplers.js';
import type { Activation } from '../nn/activations.js';
import { iaf } from './autoregressive.js';
import { affineCoupling, permute } from './coupling.js';
import type { FlowLayer } from './core.js';
import { Flow, type FlowDistribution } from './flow.js';
import { actNorm } from './glow.js';
import { splineAutoregressive } from './spline.js';
import { bnaf } from './bnaf.js';
import { ffjord, type FFJORDOptions } from './ffjord.js';
import type { FieldActivation } from './vector-field.js';

/** Options of the flow autoguides. */
export interface AutoFlowOptions extends AutoGuideOptions {
  /** Number of flow layers; default 2. */
  numFlows?: number;
  /** Hidden widths of each conditioner; default [d, d] for the latent width d (NumPyro's), at least 8. */
  hidden?: readonly number[];
  /** Hidden activation; default 'tanh'. */
  activation?: Activation;
}

/** Every tensor leaf of `tree` replaced by `param(prefix.path, leaf)`: the guide's learnable copy. @internal */
function paramTree(prefix: string, tree: unknown): unknown {
  if (tree instanceof Tensor) return param(prefix, tree);
  if (Array.isArray(tree)) return tree.map((t, i) => paramTree(`${prefix}.${i}`, t));
  if (tree !== null && typeof tree === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(tree as Record<string, unknown>)) out[k] = paramTree(`${prefix}.${k}`, v);
    return out;
  }
  return tree;
}

/**
 * The shared body of the flow guides: a Flow over the latent vector with an affine last layer.
 * Subclasses give the layers (`buildLayers(d)`).
 * @example
 * class AutoMAF extends AutoFlowGuide { protected buildLayers(d: number) { return [maf(d), permute(d), maf(d)]; } }
 */
export abstract class AutoFlowGuide<A extends unknown[] = unknown[]> extends AutoContinuous<A> {
  protected readonly numFlows: number;
  protected readonly hiddenOpt: readonly number[] | undefined;
  protected readonly activation: Activation;
  private flow: Flow | null = null;
  private flowInit: unknown[] | null = null;

  constructor(model: (...args: A) => unknown, opts: AutoFlowOptions = {}) {
    super(model, opts);
    this.numFlows = opts.numFlows ?? 2;
    if (!Number.isInteger(this.numFlows) || this.numFlows < 1) throw new ValueError(`${new.target.name}: numFlows must be a positive integer, got ${this.numFlows}`);
    this.hiddenOpt = opts.hidden;
    this.activation = opts.activation ?? 'tanh';
  }

  /** Conditioner widths for a latent of width d. */
  protected hidden(d: number): readonly number[] {
    return this.hiddenOpt ?? [Math.max(8, d), Math.max(8, d)];
  }

  /** The flow layers (before the affine last layer) for a latent of width d. */
  protected abstract buildLayers(d: number): FlowLayer[];

  override setup(key: Key, ...args: A): void {
    super.setup(key, ...args);
    const d = this.latentDim;
    const init = this.initLatent();
    const layers = [...this.buildLayers(d), actNorm(d, { shift: Array.from(init.dataSync()), logScale: Math.log(this.initScale) })];
    this.flow = new Flow(layers);
    this.flowInit = this.flow.init(foldIn(key, 0x5f10), init.dtype as FloatDType);
  }

  /** The guide's flow (after `setup`). */
  get latentFlow(): Flow {
    if (this.flow === null) void this.sites; // throws the "call setup" error
    return this.flow as Flow;
  }

  /**
   * The fitted flow distribution of the latent vector, from SVI's constrained parameters
   * (`getParams(state)` or `result.params`).
   * @example const q = guide.latentPosterior(result.params); const [z, lq] = q.rsampleWithLogProb(key(1), [1000]);
   */
  latentPosterior(params: Record<string, Tensor>): FlowDistribution {
    const f = this.latentFlow;
    const pick = (prefix: string, tree: unknown): unknown => {
      if (tree instanceof Tensor) {
        const v = params[prefix];
        if (v === undefined) throw new ValueError(`${this.name}.latentPosterior: params lack '${prefix}'; pass SVI's getParams(state)`);
        return v;
      }
      if (Array.isArray(tree)) return tree.map((t, i) => pick(`${prefix}.${i}`, t));
      if (tree !== null && typeof tree === 'object') return Object.fromEntries(Object.entries(tree as Record<string, unknown>).map(([k, v]) => [k, pick(`${prefix}.${k}`, v)]));
      return tree;
    };
    return f.apply(pick(`${this.prefix}_flow`, this.flowInit) as unknown[]);
  }

  /**
   * `params` (SVI's state params: the flow's are unconstrained, so either state or constrained
   * params) with the affine last layer moved to loc + scale ⊙ ·: how `fit` starts a flow guide
   * at the Laplace (or any Gaussian) fit. loc and scale are latent vectors [d].
   * @example svi state: { ...state, params: guide.startAt(state.params, mapPoint, laplaceSds) }
   */
  startAt(params: Record<string, Tensor>, loc: Tensor, scale: Tensor): Record<string, Tensor> {
    const f = this.latentFlow;
    const last = `${this.prefix}_flow.${f.layers.length - 1}`;
    const d = this.latentDim;
    if (loc.shape.join() !== `${d}` || scale.shape.join() !== `${d}`) throw new ValueError(`${this.name}.startAt: loc and scale must be [${d}], got [${loc.shape.join(', ')}] and [${scale.shape.join(', ')}]`);
    if (params[`${last}.shift`] === undefined) throw new ValueError(`${this.name}.startAt: params lack '${last}.shift'; pass SVI's state params`);
    return { ...params, [`${last}.shift`]: loc, [`${last}.logScale`]: log(scale) };
  }

  protected latentDistribution(): Distribution {
    const f = this.latentFlow;
    const p = paramTree(`${this.prefix}_flow`, this.flowInit) as unknown[];
    return f.apply(p);
  }
}

/**
 * An inverse-autoregressive-flow guide (NumPyro's `AutoIAFNormal`): `numFlows` IAF layers with the
 * sigmoid gate on MADEs, the coordinates reversed between layers, then loc + scale ⊙ ·.
 * @example
 * const guide = new AutoIAFNormal(model, { numFlows: 2, hidden: [20, 20] });
 * const svi = new SVI(model, guide, adam(1e-2), new TraceELBO());
 */
export class AutoIAFNormal<A extends unknown[] = unknown[]> extends AutoFlowGuide<A> {
  protected buildLayers(d: number): FlowLayer[] {
    const out: FlowLayer[] = [];
    for (let k = 0; k < this.numFlows; k++) {
      if (k > 0) out.push(permute(d));
      out.push(iaf(d, { hidden: this.hidden(d), activation: this.activation }));
    }
    return out;
  }
}

/**
 * A neural-spline-flow guide: `numFlows` rational-quadratic autoregressive spline layers that
 * are one MADE pass in the sampling direction (so draws carry their density), reversed between
 * layers, then loc + scale ⊙ ·.
 * @example const guide = new AutoNSF(model, { numFlows: 2, bins: 8 });
 */
export class AutoNSF<A extends unknown[] = unknown[]> extends AutoFlowGuide<A> {
  /** The number of spline bins per coordinate (default 8). */
  readonly bins: number;
  /** The splines act on [−bound, bound] and are the identity outside (default 4). */
  readonly bound: number;
  constructor(model: (...args: A) => unknown, opts: AutoFlowOptions & { bins?: number; bound?: number } = {}) {
    super(model, opts);
    this.bins = opts.bins ?? 8;
    this.bound = opts.bound ?? 4;
  }
  protected buildLayers(d: number): FlowLayer[] {
    const out: FlowLayer[] = [];
    for (let k = 0; k < this.numFlows; k++) {
      if (k > 0) out.push(permute(d));
      out.push(splineAutoregressive(d, { hidden: this.hidden(d), activation: this.activation, bins: this.bins, bound: this.bound, cheap: 'forward' }));
    }
    return out;
  }
}

/**
 * A RealNVP guide: `numFlows` affine coupling layers with alternating half masks (needs a latent
 * of width ≥ 2), then loc + scale ⊙ ·. Invertible in one pass, so it also scores outside draws.
 * @example const guide = new AutoRealNVP(model, { numFlows: 4 });
 */
export class AutoRealNVP<A extends unknown[] = unknown[]> extends AutoFlowGuide<A> {
  protected buildLayers(d: number): FlowLayer[] {
    if (d < 2) throw new ValueError(`AutoRealNVP: coupling layers need at least 2 latent coordinates, the model has ${d}; use AutoIAFNormal or AutoNSF`);
    const h = Math.floor(d / 2);
    return Array.from({ length: this.numFlows }, (_, k) => {
      const mask = Array.from({ length: d }, (_, i) => ((i < h) !== (k % 2 === 1) ? 0 : 1));
      return affineCoupling(d, { hidden: this.hidden(d), activation: this.activation, mask, scaleBound: 5 });
    });
  }
}

/**
 * A block-neural-autoregressive-flow guide (NumPyro's `AutoBNAFNormal`): `numFlows` BNAF layers
 * with `hidden` units per coordinate (default [8]), reversed between layers, then loc + scale ⊙ ·.
 * @example const guide = new AutoBNAFNormal(model, { numFlows: 2, hidden: [8] });
 */
export class AutoBNAFNormal<A extends unknown[] = unknown[]> extends AutoFlowGuide<A> {
  protected buildLayers(d: number): FlowLayer[] {
    const out: FlowLayer[] = [];
    for (let k = 0; k < this.numFlows; k++) {
      if (k > 0) out.push(permute(d));
      out.push(bnaf(d, { hidden: this.hiddenOpt ?? [8] }));
    }
    return out;
  }
}

/**
 * A continuous-flow guide (FFJORD): `numFlows` FFJORD layers (concat-squash fields with `hidden`
 * widths, tanh unless `activation` is another smooth one), then loc + scale ⊙ ·. Draws carry
 * their log-density from the same solve (Hutchinson's trace while training, the exact trace
 * after `latentFlow.eval()`). Solves adaptively (dopri5), so SVI's steps run eagerly.
 * @example const guide = new AutoFFJORD(model, { hidden: [32, 32] });
 */
export class AutoFFJORD<A extends unknown[] = unknown[]> extends AutoFlowGuide<A> {
  /** The options of each FFJORD layer (solver, tolerances, trace). */
  readonly ffjordOptions: FFJORDOptions;
  constructor(model: (...args: A) => unknown, opts: AutoFlowOptions & { ffjord?: FFJORDOptions } = {}) {
    super(model, { numFlows: 1, ...opts });
    this.ffjordOptions = opts.ffjord ?? {};
  }
  protected buildLayers(d: number): FlowLayer[] {
    const a = this.activation;
    const smooth: FieldActivation = a === 'softplus' || a === 'sigmoid' || a === 'silu' ? a : 'tanh';
    return Array.from({ length: this.numFlows }, (_, k) => ffjord(d, { hidden: this.hidden(d), activation: smooth, key: foldIn(makeKey(0x0de), k), ...this.ffjordOptions }));
  }
}

/** The flow guides by name, as `fit(model, args, { guide })` takes them. */
export type FlowGuideName = 'iaf' | 'nsf' | 'realnvp' | 'bnaf' | 'ffjord';

/**
 * A flow autoguide by name: 'iaf' → {@link AutoIAFNormal}, 'nsf' → {@link AutoNSF},
 * 'realnvp' → {@link AutoRealNVP}, 'bnaf' → {@link AutoBNAFNormal}, 'ffjord' → {@link AutoFFJORD}
 * (the hook `fit`'s `guide` option uses).
 * @example const guide = flowGuide('iaf', model, { numFlows: 3 });
 */
export function flowGuide<A extends unknown[]>(name: FlowGuideName, model: (...args: A) => unknown, opts: AutoFlowOptions & { bins?: number; bound?: number } = {}): AutoFlowGuide<A> {
  switch (name) {
    case 'iaf':
      return new AutoIAFNormal(model, opts);
    case 'nsf':
      return new AutoNSF(model, opts);
    case 'realnvp':
      return new AutoRealNVP(model, opts);
    case 'bnaf':
      return new AutoBNAFNormal(model, opts);
    case 'ffjord':
      return new AutoFFJORD(model, opts);
    default:
      throw new ValueError(`flowGuide: unknown flow guide '${String(name)}'; expected 'iaf', 'nsf', 'realnvp', 'bnaf' or 'ffjord'`);
  }
}
