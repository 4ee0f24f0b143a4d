/**
 * TraceGraphELBO: the score-function (REINFORCE) estimator for non-reparameterizable guide sites,
 * with variance reduction as in Pyro's TraceGraph_ELBO and Mnih & Gregor's NVIL (2014):
 * - Rao–Blackwellization: a site's score log q(z) multiplies only its *downstream* cost — the
 *   log p − log q terms at or after it in program order — and, inside a plate, only the cost of
 *   the same plate slice (conditional independence keeps the plate's dimension apart);
 * - baselines: a decaying average of the downstream cost (default, decay 0.9), or a learned
 *   baseline: in the guide, `sample(name, dist, { infer: { baseline: { value: b } } })` with b a
 *   tensor computed from guide parameters (e.g. a small network of the data); b is trained to
 *   regress the downstream cost by an added squared-error term.
 * The decaying averages are state of the estimator object (one per site name); compiled SVI steps
 * carry them as step state (`initState`, `evaluateWithState`, `setState`) and hand them back.
 */
import { stopGradient } from '../core/autodiff.js';
import type { Tensor } from '../core/tensor.js';
import { add, mul, neg, square, sub } from '../ops/elementwise.js';
import { mean, sum } from '../ops/reduce.js';
import { siteLogProb } from '../ppl/logdensity.js';
import type { Site, Trace } from '../ppl/handlers.js';
import { zerosLike } from '../ops/creation.js';
import { ELBO, getTraces, reduceParticles, type ElboInputs, type ElboOptions, type ElboResult, type ElboState, type ElboStep } from './elbo.js';

interface Cost {
  site: Site;
  /** +log p (model) or −log q (guide), with the site's batch shape. */
  value: Tensor;
  /** Position in the combined program order. */
  order: number;
}

/** Sums `t` over every axis except the particle axis and the dims of `keep` frames (kept as size-1 elsewhere). */
function sumExcept(t: Tensor, site: Site, keepNames: Set<string>, particleDim: number | null): Tensor {
  const r = t.shape.length;
  const keepAxes = new Set<number>();
  for (const f of site.cond) if (keepNames.has(f.name) && r + f.dim >= 0) keepAxes.add(r + f.dim);
  if (particleDim !== null && r + particleDim >= 0) keepAxes.add(r + particleDim);
  const axes: number[] = [];
  for (let i = 0; i < r; i++) if (!keepAxes.has(i)) axes.push(i);
  return axes.length === 0 ? t : sum(t, axes, true);
}

/**
 * The score-function (REINFORCE) ELBO for guides with non-reparameterizable sites (discrete
 * latents), with Pyro's TraceGraph_ELBO variance reduction: each site's score log q(z) multiplies
 * only its downstream cost (log p − log q terms at or after it in program order, and inside a
 * plate only the same slice), minus a baseline — a decaying average of that cost per site, or a
 * learned one given in the guide as `sample(name, d, { infer: { baseline: { value: b } } })`.
 * @example const loss = new TraceGraphELBO({ numParticles: 8, baselineDecay: 0.95 });
 */
export class TraceGraphELBO extends ELBO {
  /** Decay of the per-site moving-average baselines; default 0.9. */
  readonly decay: number;
  private averages: ElboState = {};

  constructor(opts: ElboOptions & { baselineDecay?: number } = {}) {
    super(opts);
    this.decay = opts.baselineDecay ?? 0.9;
  }

  /** One estimate (updates the moving-average baselines as a side effect). */
  evaluate<A extends unknown[]>(inp: ElboInputs<A>): ElboResult {
    const { result, state } = this.evaluateWithState(inp, this.averages);
    this.averages = state;
    return result;
  }

  /**
   * The moving averages for a run from here: the current ones, and zeros (what a first
   * evaluation uses as its baseline) for sites not seen yet or whose shape changed. One trial
   * evaluation on `inp` finds the sites and shapes.
   */
  override initState<A extends unknown[]>(inp: ElboInputs<A>): ElboState {
    const next = this.evaluateWithState(inp, {}).state;
    const out: ElboState = {};
    for (const [name, v] of Object.entries(next)) {
      const cur = this.averages[name];
      out[name] = cur !== undefined && sameShape(cur, v) ? cur : zerosLike(v);
    }
    return out;
  }

  /** As `evaluate`, with the moving averages taken from `state` and returned updated. */
  override evaluateWithState<A extends unknown[]>(inp: ElboInputs<A>, state: ElboState): ElboStep {
    const next: ElboState = { ...state };
    const P = this.numParticles;
    const { guideTr, modelTr } = getTraces(inp, P);
    const particleDim = P > 1 ? -(inp.maxPlateNesting + 1) : null;
    const costs = collectCosts(modelTr, guideTr);
    // The ELBO itself and the pathwise part of the surrogate.
    let w: Tensor | null = null;
    for (const c of costs) {
      const pp = reduceParticles(c.value, P);
      w = w === null ? pp : add(w, pp);
    }
    let surrogate = w as Tensor;
    let baselineLoss: Tensor | null = null;
    const guideOrder = new Map<string, number>();
    for (const c of costs) if (c.site.type === 'sample' && guideTr.get(c.site.name) === c.site) guideOrder.set(c.site.name, c.order);
    for (const g of guideTr.values()) {
      if (g.type !== 'sample' || g.isObserved || g.fn === null || g.fn.hasRsample) continue;
      const start = modelTr.get(g.name) !== undefined ? orderOf(costs, modelTr.get(g.name) as Site) : (guideOrder.get(g.name) ?? 0);
      const frames = new Set(g.cond.map((f) => f.name));
      let downstream: Tensor | null = null;
      for (const c of costs) {
        if (c.order < start) continue;
        const part = sumExcept(c.value, c.site, frames, particleDim);
        downstream = downstream === null ? part : add(downstream, part);
      }
      const ds = stopGradient(downstream as Tensor);
      const logq = siteLogProb(g);
      const learned = (g.infer.baseline as { value?: Tensor } | undefined)?.value;
      let b: Tensor;
      if (learned !== undefined) {
        b = stopGradient(learned);
        const l = mean(square(sub(ds, learned)));
        baselineLoss = baselineLoss === null ? l : add(baselineLoss, l);
      } else {
        const prev = state[g.name];
        b = prev !== undefined && sameShape(prev, ds) ? prev : mul(ds, 0);
        next[g.name] = stopGradient(add(mul(b, this.decay), mul(ds, 1 - this.decay)));
      }
      const score = mul(logq, sub(ds, b));
      surrogate = add(surrogate, reduceParticles(score, P));
    }
    const lossMain = neg(mean(surrogate));
    const result = { loss: baselineLoss === null ? lossMain : add(lossMain, baselineLoss), elbo: mean(w as Tensor), logWeights: w as Tensor };
    return { result, state: next };
  }

  /** Continues from `state` (the averages a compiled run ended with). */
  override setState(state: ElboState): void {
    this.averages = { ...state };
  }
}

function sameShape(a: Tensor, b: Tensor): boolean {
  return a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i]);
}

function orderOf(costs: Cost[], site: Site): number {
  return costs.find((c) => c.site === site)?.order ?? 0;
}

/** Model log p terms and guide −log q terms, in one program order: the guide's sites interleaved at the model position of the same name. */
function collectCosts(modelTr: Trace, guideTr: Trace): Cost[] {
  const out: Cost[] = [];
  let order = 0;
  const placed = new Set<string>();
  for (const s of modelTr.values()) {
    if (s.type !== 'sample') continue;
    out.push({ site: s, value: siteLogProb(s), order });
    const g = guideTr.get(s.name);
    if (g !== undefined && g.type === 'sample') {
      out.push({ site: g, value: neg(siteLogProb(g)), order });
      placed.add(s.name);
    }
    order++;
  }
  // Guide-only sites (auxiliary latents) come first: everything may depend on them.
  for (const g of guideTr.values()) if (g.type === 'sample' && !placed.has(g.name)) out.push({ site: g, value: neg(siteLogProb(g)), order: -1 });
  return out;
}
