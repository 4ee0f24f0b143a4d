/**
 * `fit`: automatic variational inference with a recipe that converges, not just runs.
 *
 * 1. MAP in the unconstrained space by L-BFGS on U(z) = −log p(x, T(z)) − log|det J_T(z)|, and
 *    the Laplace approximation N(ẑ, H⁻¹) with H the Hessian of U (central differences of ∇U).
 *    Where the MAP does not exist or H is not positive definite (a funnel), the guide starts
 *    from its own initialization and a first plain-Adam phase, then (Gaussian guides) moves to
 *    the minimizer of the sample-average ELBO over fixed antithetic draws by L-BFGS (deterministic
 *    ADVI), and only the last phase follows: the funnel's flat directions make Adam's larger
 *    steps wander far from the optimum and its drift test stop early.
 * 2. The guide starts at the Laplace fit: mean-field scales 1/√H_ii (the mean-field optimum for a
 *    Gaussian target), full-rank factor chol(H⁻¹).
 * 3. Phases of Adam with sticking-the-landing gradients (Roeder et al. 2017), the step size
 *    decreasing and the particles increasing from phase to phase. Location updates are whitened
 *    by the Laplace covariance and the other updates scaled by the marginal posterior sds, so a
 *    step size is in units of posterior sds and badly scaled posteriors (coefficients with sd
 *    0.001) converge as well-scaled ones do.
 * 4. A phase ends when the noise dominates: over each window the iterates' net move is no larger
 *    than their random walk would give (a drift statistic t², see `driftCheck`) and the mean loss
 *    is within two standard errors of the previous window's.
 * 5. The final phase's iterates are averaged (Polyak–Ruppert), removing the optimizer's jitter.
 * 6. Diagnostics: S guide draws z_s ~ q, log ratios log p(x, z_s) − log q(z_s), PSIS k̂
 *    (Yao et al. 2018) with its reading from `describeKhat`, and per-site posterior summaries.
 */
import type { ModelFn } from '../../ppl/runtime.js';
import { ValueError } from '../../core/errors.js';
import type { Tensor } from '../../core/tensor.js';
import { mapLeaves } from '../../core/tree.js';
import { psis } from '../../diagnostics/psis.js';
import { describeKhat } from '../../diagnostics/summary.js';
import { tensor, zerosLike } from '../../ops/creation.js';
import { add } from '../../ops/elementwise.js';
import { adam, chain, scaleByAdam, scaleByLearningRate, type GradientTransformation } from '../../optim/index.js';
import { foldIn, split } from '../../random/key.js';
import { AutoGuide, AutoLaplaceApproximation, summarize, type SiteSummary } from '../autoguide.js';
import { TraceELBO } from '../elbo.js';
import { SVI, type SVIState } from '../svi.js';
import { evaluateGuide } from './evaluate.js';
import { guideGaussian, guideSds, laplaceParams, makeGuide } from './guideParams.js';
import { choleskyHost, diagTensor, invFromChol, latentSds } from './linalg.js';
import { concatInit, findMode } from './mode.js';
import { defaultPhases, type FitOptions, type FitPhase, type FitResult } from './options.js';
import { runPhase, type PhaseEnd } from './phase.js';
import { potential } from './potential.js';
import { ADAM_B1, locLeaves, preconditioner, whiten } from './precondition.js';
import { sampleAverageGaussian } from './sampleAverage.js';

/**
 * Fits an autoguide to `model(...args)` with the recipe above and reports diagnostics.
 * @example
 * const r = fit(eightSchoolsNoncentered, [data], { guide: 'mvn', key: key(0) });
 * r.summary.tau.mean; r.khat; r.khatText
 */
export function fit<A extends unknown[]>(model: ModelFn<A>, args: A, opts: FitOptions): FitResult<A> {
  const gen = fitSteps(model, args, opts);
  for (;;) {
    const r = gen.next();
    if (r.done) return r.value;
  }
}

/** The recipe as a generator that yields between steps' chunks, so that a caller can let the event loop run. */
function* fitSteps<A extends unknown[]>(model: ModelFn<A>, args: A, opts: FitOptions): Generator<void, FitResult<A>, void> {
  const t0 = performance.now();
  const [kGuide, kLap, kRun, kEval] = split(opts.key, 4);
  const guide = makeGuide(model, opts.guide, opts.guideOptions ?? {});
  const driftTol = opts.driftTol ?? 2;
  const every = opts.checkEvery ?? 50;

  // 1. MAP and Laplace.
  const lap = new AutoLaplaceApproximation<A>(model, opts.guideOptions ?? {});
  lap.setup(kLap, ...args);
  const laplace = { used: false, iterations: 0, converged: false, reason: 'laplaceInit is false' };
  let lapLoc: Float64Array | null = null;
  let lapCov: Float64Array | null = null;
  let lapHess: Float64Array | null = null;
  if (opts.laplaceInit ?? true) {
    const fns = potential(model, args, lap);
    const m = findMode(fns, Float64Array.from(concatInit(lap).dataSync()));
    laplace.iterations = m.iterations;
    laplace.converged = m.converged;
    laplace.reason = m.reason;
    if (m.converged) {
      lapLoc = m.x;
      lapHess = m.hess;
      lapCov = invFromChol(m.chol as Float64Array, m.x.length);
      laplace.used = true;
    }
  }
  const mapMs = performance.now() - t0;

  // 2.–5. Phases.
  const phases = (opts.phases ?? defaultPhases(lap.latentDim)).slice();
  const warm = opts.warmup ?? { lr: 0.05, particles: 2, minSteps: 300, maxSteps: 3000 };
  const plan: { phase: FitPhase; plain: boolean }[] = [];
  if (!laplace.used) plan.push({ phase: warm, plain: true });
  for (const p of phases) plan.push({ phase: p, plain: false });

  const saaDraws = opts.sampleAverageDraws ?? 1024;
  if (!Number.isInteger(saaDraws) || saaDraws < 0) throw new ValueError(`fit: sampleAverageDraws must be a non-negative integer, got ${saaDraws}`);
  let sampleAverage = { draws: 0, iterations: 0 };
  let finalMin = 0;
  const losses: number[] = [];
  const phaseEnds: number[] = [];
  let params: Record<string, Tensor> | null = null;
  let key = kRun;
  let step = 0;
  let lastSvi: SVI<A> | null = null;
  const t1 = performance.now();
  for (let pi = 0; pi < plan.length; pi++) {
    const last = pi === plan.length - 1;
    const { plain } = plan[pi];
    const phase = last && finalMin > 0 ? { ...plan[pi].phase, minSteps: finalMin, maxSteps: Math.max(plan[pi].phase.maxSteps, finalMin) } : plan[pi].phase;
    const elbo = new TraceELBO({ numParticles: phase.particles, stickingTheLanding: true });
    // A throwaway SVI finds the parameters and constraints; the optimizer needs their shapes.
    const probe = new SVI<A>(model, guide, adam(phase.lr), elbo);
    const st0 = probe.init(foldIn(kGuide, pi), ...args);
    const unc =
      params ?? (laplace.used ? laplaceParams(guide as AutoGuide<unknown[]>, st0.params, lapLoc as Float64Array, lapCov, lapHess) : st0.params);
    const constrainedNow = probe.getParams({ ...st0, params: unc });
    const sd = laplace.used && params === null ? latentSds(lapCov as Float64Array) : guideSds(guide as AutoGuide<unknown[]>, constrainedNow);
    const pre = plain ? mapLeaves(unc, (u) => add(zerosLike(u), 1)) : preconditioner(guide as AutoGuide<unknown[]>, unc, sd);
    let optim: GradientTransformation;
    if (plain) optim = chain(scaleByAdam({ b1: ADAM_B1 }), scaleByLearningRate(phase.lr));
    else {
      // The location's preconditioner: chol of the Laplace covariance, or the guide's sds.
      const dLat = sd.length;
      const lt = laplace.used ? tensor(choleskyHost(lapCov as Float64Array, dLat) as Float64Array, [dLat, dLat]) : diagTensor(sd);
      const locs = locLeaves(guide as AutoGuide<unknown[]>);
      optim = chain(whiten(locs, lt, 'in', pre), scaleByAdam({ b1: ADAM_B1 }), scaleByLearningRate(phase.lr), whiten(locs, lt, 'out', pre));
    }
    const svi = new SVI<A>(model, guide, optim, elbo);
    svi.init(foldIn(kGuide, pi), ...args);
    lastSvi = svi;
    const state0: SVIState = { params: unc, optState: optim.init(unc), step, key };
    const end: PhaseEnd = yield* runPhase(svi, state0, args, { phase, index: pi, average: last, every, driftTol, pre, onProgress: opts.onProgress }, losses);
    const state = end.state;
    step = state.step;
    key = foldIn(state.key, pi + 1);
    params = end.params;
    phaseEnds.push(losses.length);
    if (plain && saaDraws > 0) {
      // No MAP: the sample-average ELBO's minimizer takes the Laplace start's place. It is at the
      // optimum up to O(1/√N), so only the last (smallest-step) phase follows, to average that out;
      // larger steps would only shake the guide along the funnel's flat directions.
      const q = guideGaussian(guide as AutoGuide<unknown[]>, svi.getParams({ params, optState: null, step, key }));
      const saa = q === null ? null : sampleAverageGaussian(potential(model, args, lap).batch, q.m, q.l, q.fullRank, saaDraws, foldIn(kRun, 0x5aa));
      if (saa !== null) {
        sampleAverage = { draws: saaDraws, iterations: saa.iterations };
        const d = saa.m.length;
        const cov = new Float64Array(d * d);
        for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) for (let k = 0; k <= Math.min(i, j); k++) cov[i * d + j] += saa.l[i * d + k] * saa.l[j * d + k];
        const hess = Float64Array.from(cov, (v, k) => (k % (d + 1) === 0 ? 1 / v : 0));
        params = laplaceParams(guide as AutoGuide<unknown[]>, params, saa.m, cov, hess);
        // The last phase keeps the skipped phases' minimum steps: a longer Polyak average.
        finalMin = plan.slice(pi + 1).reduce((a, p) => a + p.phase.minSteps, 0);
        pi = Math.max(pi, plan.length - 2);
      }
    }
  }
  const sviMs = performance.now() - t1;
  const svi = lastSvi as SVI<A>;
  const constrained = svi.getParams({ params: params as Record<string, Tensor>, optState: null, step, key });

  // 6. Draws, log weights, k̂, summaries.
  const t2 = performance.now();
  const S = opts.numDraws ?? 4000;
  const ev = evaluateGuide(model, args, guide, constrained, S, kEval);
  const evalMs = performance.now() - t2;
  const ps = psis(ev.logWeights);
  const summary: Record<string, SiteSummary> = {};
  for (const [name, d] of Object.entries(ev.draws)) summary[name] = summarize(d, S);
  const totalMs = performance.now() - t0;
  return {
    guide,
    params: constrained,
    losses: Float64Array.from(losses),
    phaseEnds,
    laplace,
    sampleAverage,
    draws: ev.draws,
    logWeights: ev.logWeights,
    khat: ps.khat,
    khatText: describeKhat(ps.khat, S),
    elbo: ev.logWeights.reduce((a, b) => a + b, 0) / S,
    summary,
    timings: { totalMs, mapMs, sviMs, evalMs, steps: losses.length, perStepUs: (sviMs * 1000) / Math.max(1, losses.length) },
  };
}
