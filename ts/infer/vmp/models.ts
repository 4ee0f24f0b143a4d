/**
 * Three classic conjugate-exponential models written as VMP factor graphs, with the priors and
 * starting points of the hand-written CAVI fits (`bayesLinReg`, `bayesGmm`, `ldaCavi`) so the two
 * can be compared like for like: the graph is all there is to write; messages, schedule and ELBO
 * come from the nodes.
 */
import { ShapeError, ValueError } from '../../core/errors.js';
import { type DocTermMatrix, checkDocTerm } from '../../data/docterm.js';
import { type Key, key as makeKey } from '../../random/key.js';
import { initLambda } from '../cavi/lda-state.js';
import type { CategoricalVariable } from './categorical.js';
import type { DirichletVariable } from './dirichlet.js';
import type { GammaVariable } from './gamma.js';
import type { GaussianWishartVariable } from './gaussian-wishart.js';
import { FactorGraph } from './graph.js';
import type { VectorGaussianVariable } from './vector-gaussian.js';

/** The graph of `linearRegressionGraph` and its latent nodes. */
export interface LinearRegressionGraph {
  /** The factor graph; call `run`. */
  graph: FactorGraph;
  /** q(w) = N(mean, cov). */
  w: VectorGaussianVariable;
  /** q(τ) = Gamma(shape, rate), τ = 1/σ² the noise precision. */
  tau: GammaVariable;
}

/**
 * Bayesian linear regression y = Xw + ε, ε ~ N(0, 1/τ), with w | τ ~ N(m₀, (τΛ₀)⁻¹) and
 * τ ~ Gamma(a₀, b₀) — `bayesLinReg`'s normal–inverse-gamma prior on σ² = 1/τ. X is N × D row-major.
 * @example const { graph, w } = linearRegressionGraph(x, y, { d: 3 }); graph.run(); w.mean
 */
export function linearRegressionGraph(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  opts: { d: number; priorMean?: ArrayLike<number>; priorPrecision?: number | ArrayLike<number>; a0?: number; b0?: number },
): LinearRegressionGraph {
  const { d } = opts;
  if (!(Number.isInteger(d) && d >= 1)) throw new ValueError(`linearRegressionGraph: d must be a positive integer, got ${d}`);
  const lam0 = new Float64Array(d * d);
  const p = opts.priorPrecision ?? 1;
  if (typeof p === 'number') for (let i = 0; i < d; i++) lam0[i * d + i] = p;
  else if (p.length === d * d) lam0.set(Array.from(p));
  else throw new ShapeError(`linearRegressionGraph: priorPrecision has ${p.length} entries, expected ${d} × ${d}`);
  const graph = new FactorGraph();
  const tau = graph.gamma('tau', { shape: opts.a0 ?? 1, rate: opts.b0 ?? 1 });
  const w = graph.vectorGaussian('w', { mean: opts.priorMean ?? new Float64Array(d), precision: lam0, precisionScale: tau });
  graph.linearGaussian('y', { design: x, weights: w, precision: tau, observed: y });
  return { graph, w, tau };
}

/** The graph of `gaussianMixtureGraph` and its latent nodes. */
export interface GaussianMixtureGraph {
  /** The factor graph; call `run`. */
  graph: FactorGraph;
  /** q(π) = Dirichlet(α). */
  pi: DirichletVariable;
  /** q(μ_k, Λ_k), k < K. */
  theta: GaussianWishartVariable;
  /** q(z_n) = Categorical(r_n), the responsibilities. */
  z: CategoricalVariable;
}

/**
 * The Bayesian Gaussian mixture of Bishop §10.2 (and `bayesGmm` with a Dirichlet weight prior):
 * π ~ Dirichlet(α₀), (μ_k, Λ_k) ~ Gaussian–Wishart(m₀, β₀, W₀, ν₀) (or Gaussian–Gamma with
 * `diag`), z_n ~ Categorical(π), x_n ~ N(μ_{z_n}, Λ_{z_n}⁻¹). `labels` (N integers < K) set the
 * first q(z), as `bayesGmm` does from k-means++; the default schedule is then π, θ, z.
 * @example const { graph, z } = gaussianMixtureGraph(x, { d: 2, k: 3, ...prior, labels }); graph.run()
 */
export function gaussianMixtureGraph(
  x: ArrayLike<number>,
  opts: { d: number; k: number; alpha0: number; beta0: number; m0: ArrayLike<number>; nu0: number; w0inv: ArrayLike<number>; diag?: boolean; labels: ArrayLike<number> },
): GaussianMixtureGraph {
  const { d, k } = opts;
  if (!(Number.isInteger(d) && d >= 1 && x.length % d === 0)) throw new ShapeError(`gaussianMixtureGraph: ${x.length} numbers are not rows of d = ${d}`);
  const n = x.length / d;
  const graph = new FactorGraph();
  const pi = graph.dirichlet('pi', { concentration: new Float64Array(k).fill(opts.alpha0) });
  const theta = graph.gaussianWishart('theta', { mean: opts.m0, meanPrecision: opts.beta0, dof: opts.nu0, scaleInverse: opts.w0inv, diag: opts.diag, size: k });
  const z = graph.categorical('z', { probs: pi, size: n, init: opts.labels });
  graph.gaussianMixture('x', { selector: z, components: theta, observed: x });
  return { graph, pi, theta, z };
}

/** The graph of `ldaGraph` and its latent nodes. */
export interface LdaGraph {
  /** The factor graph; run it with `schedule: ['beta', 'theta', 'z']` for `ldaCavi`'s 'once' order. */
  graph: FactorGraph;
  /** q(θ_d) = Dirichlet(γ_d): plate D over K topics. */
  theta: DirichletVariable;
  /** q(β_k) = Dirichlet(λ_k): plate K over V terms (topics × terms, the transpose of `ldaCavi`'s λ). */
  beta: DirichletVariable;
  /** q(z) over the non-zeros of `docs` (document-major), each standing for its count of tokens. */
  z: CategoricalVariable;
}

/**
 * Latent Dirichlet allocation as a factor graph: θ_d ~ Dirichlet(α), β_k ~ Dirichlet(η),
 * z_dn ~ Categorical(θ_d), w_dn ~ Categorical(β_{z_dn}). One selector per non-zero of the
 * document–term matrix stands for its count of tokens (`copies`), drawn from its document's θ
 * (`group`); the words gate the topics. q(β) starts at `ldaCavi`'s random λ for the same `key`
 * and q(θ_d) at γ_d = α + N_d/K, so with the schedule β, θ, z the run follows
 * `ldaCavi(docs, { localUpdates: 'once' })` sweep for sweep.
 * @example const { graph, beta } = ldaGraph(docs, { k: 10 }); graph.run({ schedule: ['beta', 'theta', 'z'] })
 */
export function ldaGraph(docs: DocTermMatrix, opts: { k: number; alpha?: number; eta?: number; key?: Key }): LdaGraph {
  checkDocTerm('ldaGraph', docs);
  const { k } = opts;
  if (!(Number.isInteger(k) && k >= 2)) throw new ValueError(`ldaGraph: k must be an integer >= 2, got ${k}`);
  const { alpha = 1 / k, eta = 1 / k } = opts;
  const { nDocs, nTerms, indptr, indices, counts } = docs;
  if (nDocs === 0 || indices.length === 0) throw new ValueError(`ldaGraph: the documents contain no tokens (${nDocs} documents)`);
  const doc = new Int32Array(indices.length);
  const gamma0 = new Float64Array(nDocs * k);
  for (let d = 0; d < nDocs; d++) {
    let tokens = 0;
    for (let p = indptr[d]; p < indptr[d + 1]; p++) {
      doc[p] = d;
      tokens += counts[p];
    }
    gamma0.fill(alpha + tokens / k, d * k, (d + 1) * k);
  }
  const lambda = initLambda(nTerms, k, opts.key ?? makeKey(0));
  const lambdaT = new Float64Array(k * nTerms);
  for (let w = 0; w < nTerms; w++) for (let t = 0; t < k; t++) lambdaT[t * nTerms + w] = lambda[w * k + t];
  const graph = new FactorGraph();
  const theta = graph.dirichlet('theta', { concentration: new Float64Array(k).fill(alpha), size: nDocs });
  const beta = graph.dirichlet('beta', { concentration: new Float64Array(nTerms).fill(eta), size: k });
  theta.initialize(gamma0);
  beta.initialize(lambdaT);
  const z = graph.categorical('z', { probs: theta, size: indices.length, group: doc, copies: counts });
  graph.categoricalGate('w', { selector: z, probs: beta, observed: indices });
  return { graph, theta, beta, z };
}
