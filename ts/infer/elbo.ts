/**
 * ELBO estimators built from traces (section 2, 6, 8 of the survey). Each returns a surrogate
 * loss whose gradient is an unbiased (or, for bounds, consistent) estimate of −∇ELBO, the ELBO
 * value, and per-particle log weights log p(x, z) − log q(z).
 *
 * Particles are vectorized: model and guide run once inside a `_particles` plate placed outside
 * the model's own plates, so every site gains a leading particle axis.
 */
import { stopGradient } from '../core/autodiff.js';
import { ValueError, VarinfError } from '../core/errors.js';
import type { Tensor } from '../core/tensor.js';
import { kl, hasKL } from '../distributions/kl.js';
import { add, div, exp, mul, neg, square, sub } from '../ops/elementwise.js';
import { logsumexp, mean, sum } from '../ops/reduce.js';
import { reshape } from '../ops/shape.js';
import { split, type Key } from '../random/key.js';
import type { ModelFn } from '../ppl/runtime.js';
import { replay, seed, substitute, trace, type Site, type Trace } from '../ppl/handlers.js';
import { siteLogProb } from '../ppl/logdensity.js';
import { mapLeaves } from '../core/tree.js';
import { withParticles } from './nesting.js';


/** What an estimator needs for one evaluation. */
export interface ElboInputs<A extends unknown[]> {
  /** The model p(x, z). */
  model: ModelFn<A>;
  /** The guide q(z) (an autoguide's `guide` function). */
  guide: ModelFn<A>;
  /** The arguments both are called with. */
  args: A;
  /** Constrained parameter values, substituted into model and guide by name. */
  params: Record<string, Tensor>;
  /** Randomness of this evaluation (split between guide and model). */
  key: Key;
  /** Plates the model nests (the particle plate goes outside them). */
  maxPlateNesting: number;
}

/** What an estimator's `evaluate` returns. */
export interface ElboResult {
  /** The surrogate loss to differentiate (−ELBO up to terms with zero expected gradient). */
  loss: Tensor;
  /** The ELBO estimate (or the bound, for Rényi/IWAE). */
  elbo: Tensor;
  /** log p(x, z_p) − log q(z_p) for each particle p. */
  logWeights: Tensor;
}

/** Options shared by the ELBO estimators. */
export interface ElboOptions {
  /** Particles per step (vectorized). Default 1. */
  numParticles?: number;
}

/**
 * Traces of guide and model (replayed on the guide) for `P` vectorized particles.
 * @example const { guideTr, modelTr } = getTraces(inp, 4); // inside a custom ELBO's evaluate
 */
export function getTraces<A extends unknown[]>(inp: ElboInputs<A>, P: number, params = inp.params): {
  /** The guide's trace. */
  guideTr: Trace;
  /** The model's trace, replayed on the guide's latent values. */
  modelTr: Trace;
} {
  const [kg, km] = split(inp.key);
  const wrap = (fn: ModelFn<A>): ModelFn<A> => withParticles(fn, P, inp.maxPlateNesting);
  const guideTr = trace(seed(substitute(wrap(inp.guide), params), kg)).getTrace(...inp.args);
  const modelTr = trace(seed(replay(substitute(wrap(inp.model), params), guideTr), km)).getTrace(...inp.args);
  for (const s of modelTr.values())
    if (s.type === 'sample' && !s.isObserved && !guideTr.has(s.name))
      throw new ValueError(`ELBO: the model's latent site '${s.name}' has no site in the guide (an improper or unguided latent)`);
  return { guideTr, modelTr };
}

/**
 * Σ log p over a site, kept per particle: shape [P] (or [] without particles).
 * @example perParticle(modelTr.get('y') as Site, 4) // [4]: log p(y | z_p) per particle
 */
export function perParticle(site: Site, P: number): Tensor {
  return reduceParticles(siteLogProb(site), P);
}

/**
 * Sums a per-site term over everything but the leading particle axis.
 * @example reduceParticles(siteLogProb(site), 4) // [4]
 */
export function reduceParticles(lp: Tensor, P: number): Tensor {
  if (P === 1) return lp.shape.length === 0 ? lp : sum(lp);
  return lp.shape.length === 0 ? mul(lp, 1) : sum(reshape(lp, [P, -1]), 1);
}

/** The mean over the particles of a per-particle term; one particle's (a scalar) is itself. */
function particleMean(t: Tensor): Tensor {
  return t.shape.length === 0 ? t : mean(t);
}

function sumSites(tr: Trace, P: number, keep: (s: Site) => boolean): Tensor | null {
  let t: Tensor | null = null;
  for (const s of tr.values()) {
    if (s.type !== 'sample' || !keep(s)) continue;
    const lp = perParticle(s, P);
    t = t === null ? lp : add(t, lp);
  }
  return t;
}

/** Guide log density with parameters held constant (sticking the landing): the sampled path keeps its gradient. */
function stlLogQ<A extends unknown[]>(inp: ElboInputs<A>, guideTr: Trace, P: number): Tensor {
  const frozen = mapLeaves(inp.params, (t) => stopGradient(t));
  const wrap = (fn: ModelFn<A>): ModelFn<A> => withParticles(fn, P, inp.maxPlateNesting);
  const [kg] = split(inp.key);
  const tr = trace(seed(replay(substitute(wrap(inp.guide), frozen), guideTr), kg)).getTrace(...inp.args);
  return sumSites(tr, P, () => true) as Tensor;
}

/**
 * A base for estimators: particle count and the log-weight computation. Each estimator returns a
 * surrogate loss whose gradient is an unbiased (or, for bounds, consistent) estimate of −∇ELBO,
 * the ELBO value, and per-particle log weights log p(x, z) − log q(z).
 *
 * Particles are vectorized: with numParticles P > 1, model and guide run once inside a
 * `_particles` plate of size P at dim −(maxPlateNesting + 1), just outside the model's own
 * plates, so every site gains a leading particle axis [P, ...plates, ...event] and all P
 * particles are evaluated by the same tensor ops.
 * @example class MyElbo extends ELBO {
 *   evaluate<A extends unknown[]>(inp: ElboInputs<A>): ElboResult {
 *     const { guideTr, modelTr } = getTraces(inp, this.numParticles);
 *     // … build logWeights [P] from the traces, then:
 *     return { loss: neg(mean(logWeights)), elbo: mean(logWeights), logWeights };
 *   }
 * }
 */
export abstract class ELBO {
  /** Particles P per evaluation (vectorized); the loss averages over them. */
  readonly numParticles: number;
  constructor(opts: ElboOptions = {}) {
    const n = opts.numParticles ?? 1;
    if (!Number.isInteger(n) || n < 1) throw new ValueError(`${new.target.name}: numParticles must be a positive integer, got ${n}`);
    this.numParticles = n;
  }
  /** One estimate: the surrogate loss, the ELBO (or bound) and the P log weights. */
  abstract evaluate<A extends unknown[]>(inp: ElboInputs<A>): ElboResult;

  /**
   * The estimator's state between steps, complete for evaluations on inputs like `inp` (every
   * entry the next evaluation reads or writes, with its shape), starting from the state `evaluate`
   * would continue from. A compiled step carries it as step state. Stateless estimators: `{}`.
   */
  initState<A extends unknown[]>(inp: ElboInputs<A>): ElboState {
    void inp;
    return {};
  }

  /**
   * One estimate from `state`, as a pure function of it: the result and the next state (what
   * `evaluate` does with its own state, made explicit for compiled steps). Default: `evaluate`,
   * the state unchanged.
   */
  evaluateWithState<A extends unknown[]>(inp: ElboInputs<A>, state: ElboState): ElboStep {
    return { result: this.evaluate(inp), state };
  }

  /** Makes `state` the state the next `evaluate` continues from (after a compiled run). Default: nothing to adopt. */
  setState(state: ElboState): void {
    void state;
  }
}

/** An ELBO estimator's state carried between steps (TraceGraphELBO's moving-average baselines), by name. */
export type ElboState = Record<string, Tensor>;

/** One estimate of {@link ELBO.evaluateWithState} and the state it leaves. */
export interface ElboStep {
  /** The estimate. */
  result: ElboResult;
  /** The estimator's state after it. */
  state: ElboState;
}

/**
 * The standard ELBO E_q[log p(x, z) − log q(z)]: reparameterized where the guide's sites allow it,
 * score-function terms (REINFORCE, surrogate log q · stop(f)) for the sites that do not.
 * `stickingTheLanding` drops the score term of reparameterized guides (Roeder et al. 2017).
 * @example const loss = new TraceELBO({ numParticles: 4 }); // for SVI or fit
 */
export class TraceELBO extends ELBO {
  /** Whether log q is evaluated at stopped parameters (the STL gradient). */
  readonly stickingTheLanding: boolean;
  constructor(opts: ElboOptions & { stickingTheLanding?: boolean } = {}) {
    super(opts);
    this.stickingTheLanding = opts.stickingTheLanding ?? false;
  }
  evaluate<A extends unknown[]>(inp: ElboInputs<A>): ElboResult {
    const P = this.numParticles;
    const { guideTr, modelTr } = getTraces(inp, P);
    const logP = sumSites(modelTr, P, () => true) as Tensor;
    const logQ = sumSites(guideTr, P, () => true);
    const w = logQ === null ? logP : sub(logP, logQ);
    let surrogate = this.stickingTheLanding && logQ !== null ? sub(logP, stlLogQ(inp, guideTr, P)) : w;
    const score = sumSites(guideTr, P, (s) => !s.isObserved && s.fn !== null && !s.fn.hasRsample);
    if (score !== null) surrogate = add(surrogate, mul(score, stopGradient(w)));
    return { loss: neg(particleMean(surrogate)), elbo: particleMean(w), logWeights: w };
  }
}

/**
 * As TraceELBO, but with KL(q ‖ p) in closed form for latent sites whose guide and prior pair
 * has one in the KL registry (Monte Carlo for the rest).
 * @example const loss = new TraceMeanFieldELBO(); // lower-variance gradients with AutoNormal
 */
export class TraceMeanFieldELBO extends ELBO {
  evaluate<A extends unknown[]>(inp: ElboInputs<A>): ElboResult {
    const P = this.numParticles;
    const { guideTr, modelTr } = getTraces(inp, P);
    let total: Tensor | null = null;
    const acc = (t: Tensor): void => {
      total = total === null ? t : add(total, t);
    };
    for (const s of modelTr.values()) {
      if (s.type !== 'sample') continue;
      const g = guideTr.get(s.name);
      if (s.isObserved || g === undefined) {
        acc(perParticle(s, P));
        continue;
      }
      const q = g.fn;
      const p = s.fn;
      if (q !== null && p !== null && hasKL(q, p) && g.scale === s.scale && s.mask === null) {
        // Per particle, like the Monte Carlo terms: the particle plate expands both batches.
        const k = kl(q, p);
        const kp = P === 1 || k.shape.length === 0 ? sum(k) : sum(reshape(k, [P, -1]), 1);
        acc(mul(neg(kp), s.scale));
      } else acc(sub(perParticle(s, P), perParticle(g, P)));
    }
    for (const g of guideTr.values()) if (g.type === 'sample' && !modelTr.has(g.name)) acc(neg(perParticle(g, P)));
    const w = total as unknown as Tensor;
    return { loss: neg(particleMean(w)), elbo: particleMean(w), logWeights: w };
  }
}

/** log (1/P) Σ exp(x_p) */
function logMeanExp(x: Tensor, P: number): Tensor {
  return sub(logsumexp(x), Math.log(P));
}

/**
 * The Rényi α bound (Li & Turner 2016): 1/(1−α) · log mean_p exp((1−α) w_p). α = 0 is the IWAE
 * bound; α → 1 recovers the ELBO. Needs numParticles > 1 (default 2).
 * @example const loss = new RenyiELBO({ alpha: 0.5, numParticles: 10 });
 */
export class RenyiELBO extends ELBO {
  /** α (≠ 1); default 0. */
  readonly alpha: number;
  constructor(opts: ElboOptions & { alpha?: number } = {}) {
    super({ numParticles: opts.numParticles ?? 2 });
    this.alpha = opts.alpha ?? 0;
    if (this.alpha === 1) throw new ValueError('RenyiELBO: alpha = 1 is the ELBO; use TraceELBO');
    if (this.numParticles < 2) throw new ValueError('RenyiELBO: needs numParticles >= 2');
  }
  evaluate<A extends unknown[]>(inp: ElboInputs<A>): ElboResult {
    const P = this.numParticles;
    const { guideTr, modelTr } = getTraces(inp, P);
    const w = sub(sumSites(modelTr, P, () => true) as Tensor, sumSites(guideTr, P, () => true) as Tensor);
    const a = 1 - this.alpha;
    const bound = div(logMeanExp(mul(w, a), P), a);
    return { loss: neg(bound), elbo: bound, logWeights: w };
  }
}

/**
 * The importance-weighted bound log mean_p w_p (Burda et al. 2016). With `dreg` (default), the
 * guide's gradient is the doubly-reparameterized estimator of Tucker et al. 2019:
 * Σ_p stop(w̃_p²) ∇ w_p with log q at frozen parameters (w̃ the normalized weights).
 * Needs numParticles > 1 (default 8).
 * @example const loss = new IWAE({ numParticles: 16 });
 */
export class IWAE extends ELBO {
  /** Whether the guide's gradient uses DReG. */
  readonly dreg: boolean;
  constructor(opts: ElboOptions & { dreg?: boolean } = {}) {
    super({ numParticles: opts.numParticles ?? 8 });
    this.dreg = opts.dreg ?? true;
    if (this.numParticles < 2) throw new ValueError('IWAE: needs numParticles >= 2');
  }
  evaluate<A extends unknown[]>(inp: ElboInputs<A>): ElboResult {
    const P = this.numParticles;
    const { guideTr, modelTr } = getTraces(inp, P);
    const logP = sumSites(modelTr, P, () => true) as Tensor;
    const w = sub(logP, sumSites(guideTr, P, () => true) as Tensor);
    const bound = logMeanExp(w, P);
    if (!this.dreg) return { loss: neg(bound), elbo: bound, logWeights: w };
    for (const s of guideTr.values())
      if (s.type === 'sample' && s.fn !== null && !s.fn.hasRsample)
        throw new VarinfError(`IWAE: DReG needs reparameterized guide sites, but '${s.name}' is not; pass {dreg: false}`);
    const wStl = sub(logP, stlLogQ(inp, guideTr, P));
    const wt = stopGradient(exp(sub(w, logsumexp(w))));
    return { loss: neg(sum(mul(square(wt), wStl))), elbo: bound, logWeights: w };
  }
}
