/**
 * Choosing `fit`'s answer: every candidate it tried (the Laplace start, each phase's end and its
 * iterate average) is scored by its ELBO on one fixed set of draws (common random numbers), so
 * that the comparison's noise is that of the candidates' differences, not of each estimate.
 */
import type { ModelFn } from '../../ppl/runtime.js';
import { VarinfError } from '../../core/errors.js';
import type { Tensor } from '../../core/tensor.js';
import { tensor } from '../../ops/creation.js';
import { normal } from '../../random/samplers.js';
import type { Key } from '../../random/key.js';
import { siteLogProb } from '../../ppl/logdensity.js';
import { AutoGuide, AutoLowRankMultivariateNormal, AutoMultivariateNormal, AutoNormal } from '../autoguide.js';
import { getTraces } from '../elbo.js';
import { evaluateGuideSteps } from './evaluate.js';
import { offsets } from './guideParams.js';
import { choleskyHost } from './linalg.js';

/** One point `fit` passed through, with its (unconstrained and constrained) guide parameters. */
export interface Candidate {
  /** 'laplace start', 'phase 1 end', 'phase 1 average', … */
  name: string;
  /** The step count at which it was taken. */
  step: number;
  params: Record<string, Tensor>;
  constrained: Record<string, Tensor>;
}

/** A candidate's ELBO on the common draws and its standard error (NaN where not finite). */
export interface CandidateScore {
  name: string;
  step: number;
  elbo: number;
  se: number;
}

/**
 * The guide's q = N(m, L Lᵀ) over the flat unconstrained latent vector, with L the Cholesky factor
 * of its covariance, for the mean-field, full-rank and low-rank autoguides (null for others).
 */
export function guideFactor(guide: AutoGuide<unknown[]>, params: Record<string, Tensor>): { m: Float64Array; l: Float64Array } | null {
  const pre = guide.prefix;
  const offs = offsets(guide);
  const d = offs.reduce((a, s) => a + s.n, 0);
  const m = new Float64Array(d);
  const l = new Float64Array(d * d);
  if (guide instanceof AutoNormal) {
    for (const s of offs) {
      m.set(params[`${pre}_${s.name}_loc`].dataSync(), s.off);
      const sc = params[`${pre}_${s.name}_scale`].dataSync();
      for (let i = 0; i < s.n; i++) l[(s.off + i) * (d + 1)] = sc[i];
    }
    return { m, l };
  }
  if (guide instanceof AutoMultivariateNormal) {
    m.set(params[`${pre}_loc`].dataSync());
    const t = params[`${pre}_scale_tril`].dataSync();
    const sc = params[`${pre}_scale`].dataSync();
    for (let k = 0; k < d * d; k++) l[k] = t[k] * sc[Math.floor(k / d)];
    return { m, l };
  }
  if (guide instanceof AutoLowRankMultivariateNormal) {
    m.set(params[`${pre}_loc`].dataSync());
    const w = params[`${pre}_cov_factor`];
    const r = w.shape[1];
    const wd = w.dataSync();
    const sc = params[`${pre}_scale`].dataSync();
    // Σ = (σ∘W)(σ∘W)ᵀ + diag(σ²).
    const cov = new Float64Array(d * d);
    for (let i = 0; i < d; i++)
      for (let j = 0; j < d; j++) {
        let v = i === j ? 1 : 0;
        for (let k = 0; k < r; k++) v += wd[i * r + k] * wd[j * r + k];
        cov[i * d + j] = v * sc[i] * sc[j];
      }
    const c = choleskyHost(cov, d);
    return c === null ? null : { m, l: c };
  }
  return null;
}

/** Fixed draws for {@link scoreCandidates}: n standard-normal vectors of the latent dimension d. */
export function commonDraws(key: Key, n: number, d: number): Float64Array {
  return Float64Array.from(normal(key, [n, d], { dtype: 'float64' }).dataSync());
}

/**
 * ELBO of a candidate on the common draws: for a Gaussian guide, z_s = m + L ε_s and
 * ELBO = mean_s(−U(z_s)) + H(q), H = d/2·log(2πe) + Σ log L_ii (U the potential in the
 * unconstrained space), evaluated `chunk` draws at a time with a yield between; for other guides,
 * the mean log weight of `n` guide draws under one key. A candidate whose value at any draw is not
 * finite scores NaN.
 */
export function* scoreCandidate<A extends unknown[]>(
  c: Candidate,
  env: { model: ModelFn<A>; args: A; guide: AutoGuide<A>; potential: (z: Tensor) => Tensor; eps: Float64Array; n: number; key: Key },
  chunk = 250,
): Generator<void, CandidateScore, void> {
  const { n, eps } = env;
  let vals: Float64Array;
  let entropy = 0;
  const q = guideFactor(env.guide as AutoGuide<unknown[]>, c.constrained);
  try {
    if (q !== null) {
      const d = q.m.length;
      vals = new Float64Array(n);
      for (let from = 0; from < n; from += chunk) {
        const P = Math.min(chunk, n - from);
        const z = new Float64Array(P * d);
        for (let s = 0; s < P; s++)
          for (let i = 0; i < d; i++) {
            let v = q.m[i];
            for (let j = 0; j <= i; j++) v += q.l[i * d + j] * eps[(from + s) * d + j];
            z[s * d + i] = v;
          }
        const u = env.potential(tensor(z, [P, d])).dataSync();
        for (let s = 0; s < P; s++) vals[from + s] = -u[s];
        yield;
      }
      entropy = 0.5 * d * Math.log(2 * Math.PI * Math.E);
      for (let i = 0; i < d; i++) entropy += Math.log(Math.abs(q.l[i * (d + 1)]));
    } else vals = (yield* evaluateGuideSteps(env.model, env.args, env.guide, c.constrained, n, env.key)).logWeights;
  } catch (e) {
    // A draw outside the density's domain (a validation error): the candidate is not finite there.
    if (!(e instanceof VarinfError)) throw e;
    vals = Float64Array.of(NaN);
  }
  if (!vals.every(Number.isFinite)) return { name: c.name, step: c.step, elbo: NaN, se: NaN };
  let mean = 0;
  for (const v of vals) mean += v;
  mean /= vals.length;
  let ss = 0;
  for (const v of vals) ss += (v - mean) ** 2;
  return { name: c.name, step: c.step, elbo: mean + entropy, se: Math.sqrt(ss / Math.max(1, vals.length - 1) / vals.length) };
}

/**
 * The first model or guide site whose log density is not finite at some of `P` draws of the guide
 * with `params` (constrained), for error messages; '' if every site is finite there.
 */
export function nonFiniteSite<A extends unknown[]>(model: ModelFn<A>, guide: AutoGuide<A>, args: A, params: Record<string, Tensor>, key: Key, P = 1000): string {
  try {
    const { guideTr, modelTr } = getTraces({ model, guide: guide.guide, args, params, key, maxPlateNesting: guide.maxPlateNesting }, P);
    for (const [label, tr] of [['model', modelTr], ['guide', guideTr]] as const)
      for (const s of tr.values())
        if (s.type === 'sample' && siteLogProb(s).dataSync().some((x) => !Number.isFinite(x))) return `${label} site '${s.name}'`;
    const bad = Object.entries(params).find(([, p]) => p.dataSync().some((x) => !Number.isFinite(x)));
    if (bad) return `parameter '${bad[0]}'`;
  } catch (e) {
    if (!(e instanceof VarinfError)) throw e;
    return `a site that raised: ${e.message}`;
  }
  return '';
}
