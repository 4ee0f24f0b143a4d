/**
 * Builders of the discrete and mixture nodes (Dirichlet, categorical, Gaussian–Wishart
 * components, the gated Gaussian mixture); `FactorGraph`'s methods of the same names call these.
 */
import { ShapeError, ValueError } from '../../core/errors.js';
import { CategoricalFactor } from './categorical-factor.js';
import { CategoricalGateFactor } from './categorical-gate.js';
import { MarkovChainFactor } from './markov-chain-factor.js';
import { MarkovChainVariable } from './markov-chain.js';
import { CategoricalVariable } from './categorical.js';
import { DirichletPriorFactor } from './dirichlet-factor.js';
import { DirichletVariable } from './dirichlet.js';
import { GaussianMixtureFactor } from './gaussian-mixture.js';
import { GaussianWishartPriorFactor } from './gaussian-wishart-prior.js';
import { GaussianWishartVariable } from './gaussian-wishart.js';
import type { FactorGraph } from './graph.js';
import { NonConjugateError, VmpVariable, describe } from './node.js';
import { checkValues, constants, observed, scalarParam } from './params.js';
import { GammaVariable } from './gamma.js';
import { GaussianGateFactor } from './gaussian-gate.js';
import { GaussianVariable } from './gaussian.js';

function plate(name: string, size: number | undefined): number {
  const s = size ?? 1;
  if (!(Number.isInteger(s) && s >= 1)) throw new ValueError(`vmp: the plate size of '${name}' must be a positive integer, got ${s}`);
  return s;
}

/** @internal */
export function addDirichlet(g: FactorGraph, name: string, p: { concentration: ArrayLike<number>; k?: number; size?: number }): DirichletVariable {
  const index = g.claim(name);
  const size = plate(name, p.size);
  const k = p.k ?? p.concentration.length;
  if (!(k >= 2)) throw new ShapeError(`vmp: Dirichlet '${name}' needs at least 2 categories, got ${k}`);
  const a0 = constants(name, 'concentration', p.concentration, size, k, 'positive');
  const v = new DirichletVariable(name, k, size, index);
  return g.addLatent(v, new DirichletPriorFactor(name, v, a0));
}

/** Parameters of `FactorGraph.categorical`. */
export interface CategoricalParams {
  /** A constant probability vector (K, summing to 1) or a Dirichlet variable. */
  probs: ArrayLike<number> | DirichletVariable;
  /** Plate size (default 1); ignored when `observed` is given. */
  size?: number;
  /** Observed categories, integers in [0, K). */
  observed?: ArrayLike<number>;
  /** Initial q for a latent variable: one label per element, or size × K probabilities. */
  init?: ArrayLike<number>;
  /**
   * Which element of a Dirichlet `probs` each element draws from (integers below its plate size):
   * a document's tokens from that document's topic proportions. Default: element n from π_n, or
   * from the one π when its plate size is 1.
   */
  group?: ArrayLike<number>;
  /**
   * How many i.i.d. copies each element of a latent variable stands for (positive; default 1 each):
   * copies share one q and the messages they send are weighted by their number. LDA's word counts
   * (a term occurring n times in a document is n tokens with one posterior).
   */
  copies?: ArrayLike<number>;
}

/** @internal */
export function addCategorical(g: FactorGraph, name: string, p: CategoricalParams): CategoricalVariable | null {
  const index = g.claim(name);
  let pi: Float64Array | DirichletVariable;
  let k: number;
  if (p.probs instanceof DirichletVariable) {
    pi = p.probs;
    k = p.probs.k;
  } else if (p.probs instanceof VmpVariable)
    throw new NonConjugateError(`vmp: the probs of '${name}' are ${describe(p.probs)}, which is not conjugate to a categorical; VMP needs a constant vector or a Dirichlet variable there`);
  else {
    k = p.probs.length;
    const c = constants(name, 'probs', p.probs, 1, k, 'positive');
    let s = 0;
    for (const v of c) s += v;
    if (Math.abs(s - 1) > 1e-9) throw new ValueError(`vmp: the probs of '${name}' sum to ${s}, not 1`);
    pi = c.map(Math.log);
  }
  const obs = p.observed === undefined ? null : Int32Array.from(observed(name, p.observed, k));
  const size = obs ? obs.length : plate(name, p.size);
  const what = obs ? `${size} observations` : `plate size ${size}`;
  let group: Int32Array | null = null;
  if (p.group !== undefined) {
    if (!(pi instanceof DirichletVariable)) throw new ValueError(`vmp: '${name}' has a group but constant probs; group picks an element of a Dirichlet variable`);
    group = Int32Array.from(observed(`${name}'s group`, p.group, pi.size));
    if (group.length !== size) throw new ShapeError(`vmp: '${name}' has ${what} but ${group.length} group indices`);
  } else if (pi instanceof DirichletVariable && pi.size !== 1 && pi.size !== size)
    throw new ShapeError(`vmp: '${name}' has ${what} but its probs '${pi.name}' have plate size ${pi.size} (give group to map elements to them)`);
  if (obs) {
    if (p.copies !== undefined) throw new ValueError(`vmp: '${name}' is observed; copies applies to a latent variable (repeat observations instead)`);
    g.addFactor(new CategoricalFactor(name, obs, pi, k, group));
    return null;
  }
  let copies: Float64Array | null = null;
  if (p.copies !== undefined) copies = constants(name, 'copies', p.copies, size, 1, 'positive');
  const z = new CategoricalVariable(name, k, size, index, copies);
  g.addLatent(z, new CategoricalFactor(name, z, pi, k, group));
  if (p.init !== undefined) z.initialize(p.init);
  return z;
}

/** Parameters of `FactorGraph.gaussianWishart`: the prior N(μ | m₀, (β₀Λ)⁻¹) Wishart(Λ | W₀, ν₀). */
export interface GaussianWishartParams {
  /** m₀ (D). */
  mean: ArrayLike<number>;
  /** β₀ > 0. */
  meanPrecision: number;
  /** ν₀ > D − 1. */
  dof: number;
  /** W₀⁻¹: D × D (full) or D (with `diag`). */
  scaleInverse: ArrayLike<number>;
  /** Diagonal Λ: per-dimension Gaussian–Gamma, λ_d ~ Gamma(ν₀/2, W₀⁻¹_d/2). */
  diag?: boolean;
  /** Plate size: the number of components (default 1). */
  size?: number;
}

/** @internal */
export function addGaussianWishart(g: FactorGraph, name: string, p: GaussianWishartParams): GaussianWishartVariable {
  const index = g.claim(name);
  const size = plate(name, p.size);
  const d = p.mean.length;
  if (d === 0) throw new ShapeError(`vmp: the mean of '${name}' is empty`);
  const m0 = constants(name, 'mean', p.mean, 1, d, 'real');
  const diag = p.diag === true;
  const dd = diag ? d : d * d;
  if (p.scaleInverse.length !== dd)
    throw new ShapeError(`vmp: the scaleInverse of '${name}' has ${p.scaleInverse.length} entries; the mean has ${d}, so expected ${diag ? d : `${d} × ${d} = ${dd}`}`);
  const w0inv = constants(name, 'scaleInverse', p.scaleInverse, 1, dd, diag ? 'positive' : 'real');
  checkValues(name, 'meanPrecision', [p.meanPrecision], 'positive');
  if (!(Number.isFinite(p.dof) && p.dof > d - 1)) throw new ValueError(`vmp: the dof of '${name}' is ${p.dof}; it must exceed D − 1 = ${d - 1}`);
  const q = new GaussianWishartVariable(name, d, diag, size, index);
  return g.addLatent(q, new GaussianWishartPriorFactor(name, q, p.meanPrecision, m0, p.dof, w0inv));
}

/** Parameters of `FactorGraph.gaussianMixture`. */
export interface GaussianMixtureParams {
  /** The selector z (plate N, K categories): which component each row comes from. */
  selector: CategoricalVariable;
  /** The components (μ_k, Λ_k): a Gaussian–Wishart variable of plate K. */
  components: GaussianWishartVariable;
  /** Observed rows, N × D row-major (flat) or N arrays of D. */
  observed: ArrayLike<number> | readonly (readonly number[])[];
}

/** @internal */
export function addGaussianMixture(g: FactorGraph, name: string, p: GaussianMixtureParams): void {
  g.claim(name);
  const { selector: z, components: th } = p;
  if (!(z instanceof CategoricalVariable))
    throw new NonConjugateError(`vmp: the selector of mixture '${name}' is ${describe(z)}; a gate needs a categorical variable as its switch`);
  if (!(th instanceof GaussianWishartVariable))
    throw new NonConjugateError(`vmp: the components of mixture '${name}' are ${describe(th)}; VMP needs a Gaussian–Wishart variable (conjugate to a Gaussian with unknown mean and precision) there`);
  if (z.k !== th.size) throw new ShapeError(`vmp: mixture '${name}': selector '${z.name}' has ${z.k} categories but components '${th.name}' has plate size ${th.size}`);
  const flat = Array.isArray(p.observed) && Array.isArray(p.observed[0]) ? (p.observed as number[][]).flat() : (p.observed as ArrayLike<number>);
  const x = observed(name, flat, 'real');
  const d = th.dim;
  if (x.length !== z.size * d)
    throw new ShapeError(`vmp: mixture '${name}' has ${x.length} numbers observed; selector '${z.name}' has ${z.size} rows × components of dimension ${d} = ${z.size * d}`);
  g.addFactor(new GaussianMixtureFactor(name, x, z.size, d, z, th));
}

/** Parameters of `FactorGraph.gaussianGate`. */
export interface GaussianGateParams {
  /** The selector: a categorical variable of plate N, or observed labels (N integers < K). */
  selector: CategoricalVariable | ArrayLike<number>;
  /** The components' means: K constants or a Gaussian variable of plate K. */
  mean: ArrayLike<number> | GaussianVariable;
  /** The components' precisions: K positive constants or a Gamma variable of plate K. */
  precision: ArrayLike<number> | GammaVariable;
  /** The observed values (N). */
  observed: ArrayLike<number>;
  /** K, needed when the selector is observed labels (default: the selector's K). */
  k?: number;
}

/** @internal */
export function addGaussianGate(g: FactorGraph, name: string, p: GaussianGateParams): void {
  g.claim(name);
  const x = observed(name, p.observed, 'real');
  let z: CategoricalVariable | Int32Array;
  let k: number;
  if (p.selector instanceof CategoricalVariable) {
    z = p.selector;
    k = z.k;
    if (z.size !== x.length) throw new ShapeError(`vmp: gate '${name}' has ${x.length} observations but its selector '${z.name}' has plate size ${z.size}`);
  } else if (p.selector instanceof VmpVariable)
    throw new NonConjugateError(`vmp: the selector of gate '${name}' is ${describe(p.selector)}; a gate needs a categorical variable (or observed labels) as its switch`);
  else {
    if (p.k === undefined) throw new ValueError(`vmp: gate '${name}' with observed labels needs k`);
    k = p.k;
    z = Int32Array.from(observed(`${name}'s selector`, p.selector, k));
    if (z.length !== x.length) throw new ShapeError(`vmp: gate '${name}' has ${x.length} observations but ${z.length} labels`);
  }
  if (p.k !== undefined && p.k !== k) throw new ShapeError(`vmp: gate '${name}' has k = ${p.k} but its selector has ${k} categories`);
  const mu = scalarParam(name, 'mean', p.mean, k, 'real', GaussianVariable, 'a Gaussian variable of plate K');
  const tau = scalarParam(name, 'precision', p.precision, k, 'positive', GammaVariable, 'a Gamma variable of plate K');
  for (const v of [mu.v, tau.v]) if (v && v.size !== k) throw new ShapeError(`vmp: gate '${name}' has ${k} components but '${v.name}' has plate size ${v.size}`);
  g.addFactor(new GaussianGateFactor(name, x, z, k, mu, tau));
}

/** Parameters of `FactorGraph.categoricalGate`. */
export interface CategoricalGateParams {
  /** The selector: a categorical variable of plate N over K, or observed labels (N integers < K). */
  selector: CategoricalVariable | ArrayLike<number>;
  /** The K probability vectors over V categories: a Dirichlet variable of plate K. */
  probs: DirichletVariable;
  /** The observed categories (N integers < V). */
  observed: ArrayLike<number>;
  /** Which selector element each observation belongs to (N integers < the selector's plate); default one each. */
  group?: ArrayLike<number>;
}

/** @internal */
export function addCategoricalGate(g: FactorGraph, name: string, p: CategoricalGateParams): void {
  g.claim(name);
  const beta = p.probs;
  if (!(beta instanceof DirichletVariable))
    throw new NonConjugateError(`vmp: the probs of gate '${name}' are ${describe(beta)}; VMP needs a Dirichlet variable (of plate K) there`);
  const k = beta.size;
  const x = Int32Array.from(observed(name, p.observed, beta.k));
  let z: CategoricalVariable | Int32Array;
  if (p.selector instanceof CategoricalVariable) {
    z = p.selector;
    if (z.k !== k) throw new ShapeError(`vmp: gate '${name}': selector '${z.name}' has ${z.k} categories but probs '${beta.name}' has plate size ${k}`);
  } else if (p.selector instanceof VmpVariable)
    throw new NonConjugateError(`vmp: the selector of gate '${name}' is ${describe(p.selector)}; a gate needs a categorical variable (or observed labels) as its switch`);
  else {
    z = Int32Array.from(observed(`${name}'s selector`, p.selector, k));
  }
  const m = z instanceof Int32Array ? z.length : z.size;
  let group: Int32Array | null = null;
  if (p.group !== undefined) {
    group = Int32Array.from(observed(`${name}'s group`, p.group, m));
    if (group.length !== x.length) throw new ShapeError(`vmp: gate '${name}' has ${x.length} observations but ${group.length} group indices`);
  } else if (m !== x.length) throw new ShapeError(`vmp: gate '${name}' has ${x.length} observations but its selector has ${m} elements (give group to share one among several)`);
  g.addFactor(new CategoricalGateFactor(name, x, z, beta, group));
}

/** Parameters of `FactorGraph.markovChain`. */
export interface MarkovChainParams {
  /** The initial-state distribution π: a Dirichlet variable of plate 1 over K. */
  start: DirichletVariable;
  /** The transition rows A_j·: a Dirichlet variable of plate K over K. */
  transition: DirichletVariable;
  /** Lengths of the sequences, laid end to end (their sum is the chain's plate size). */
  lengths: ArrayLike<number>;
  /** Initial hard states, one per step (the default schedule then updates the chain last). */
  init?: ArrayLike<number>;
}

/** @internal */
export function addMarkovChain(g: FactorGraph, name: string, p: MarkovChainParams): MarkovChainVariable {
  const index = g.claim(name);
  const { start, transition } = p;
  for (const [arg, v] of [['start', start], ['transition', transition]] as const)
    if (!(v instanceof DirichletVariable)) throw new NonConjugateError(`vmp: the ${arg} of chain '${name}' is ${describe(v)}; VMP needs a Dirichlet variable there`);
  const k = start.k;
  if (start.size !== 1) throw new ShapeError(`vmp: the start '${start.name}' of chain '${name}' has plate size ${start.size}; expected 1`);
  if (transition.k !== k || transition.size !== k)
    throw new ShapeError(`vmp: the transition '${transition.name}' of chain '${name}' is ${transition.size} rows over ${transition.k}; the start has K = ${k}, so expected ${k} × ${k}`);
  if (p.lengths.length === 0) throw new ValueError(`vmp: chain '${name}' has no sequences`);
  const starts = new Int32Array(p.lengths.length + 1);
  for (let s = 0; s < p.lengths.length; s++) {
    const t = p.lengths[s];
    if (!(Number.isInteger(t) && t >= 1)) throw new ValueError(`vmp: chain '${name}' has sequence ${s} of length ${t}; lengths are positive integers`);
    starts[s + 1] = starts[s] + t;
  }
  const z = new MarkovChainVariable(name, k, starts, index);
  if (p.init !== undefined) z.initialize(p.init);
  return g.addLatent(z, new MarkovChainFactor(name, z, start, transition));
}
