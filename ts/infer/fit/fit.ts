/**
 * `fit`: automatic variational inference with a recipe that converges, not just runs.
 *
 * 1. MAP in the unconstrained space by L-BFGS on U(z) = −log p(x, T(z)) − log|det J_T(z)|, and
 *    the Laplace approximation N(ẑ, H⁻¹) with H the Hessian of U (central differences of ∇U).
 *    Where the MAP does not exist or H is not positive definite (a funnel), the guide starts
 *    from its own initialization and a first plain-Adam phase, then (Gaussian guides) moves to
 *    the minimizer of the sample-average ELBO over fixed antithetic draws by L-BFGS (deterministic
 *    ADVI), and only the last phase follows: the funnel's flat directions make Adam's larger
 *    steps wander far from the optimum and its drift test stop early. A density that does not
 *    fall off along a coordinate ray (a flat prior without a likelihood) is an improper posterior.
 * 2. The guide starts at the Laplace fit: mean-field scales 1/√H_ii (the mean-field optimum for a
 *    Gaussian target), full-rank factor chol(H⁻¹).
 * 3. Phases of Adam with sticking-the-landing gradients (Roeder et al. 2017), the step size
 *    decreasing and the particles increasing from phase to phase. Location updates are whitened
 *    by the Laplace covariance and the other updates scaled by the marginal posterior sds, so a
 *    step size is in units of posterior sds and badly scaled posteriors (coefficients with sd
 *    0.001) converge as well-scaled ones do. A full-rank guide's scale factor L is stepped as
 *    M = A⁻¹L (A the Laplace factor) where the Laplace start is close to the posterior: stepped
 *    in its own entries, near-collinear coefficients (correlation ±0.999) made the first phase
 *    diverge (`whitenFactor`). A mean-field guide's location steps in units of its own sds
 *    1/√H_ii instead. Where there is no MAP (a funnel), the warm-up's steps are plain Adam.
 * 4. A phase ends when the noise dominates: over each window the iterates' net move is no larger
 *    than their random walk would give (a drift statistic t², see `driftCheck`) and the mean loss
 *    is within two standard errors of the previous window's.
 * 5. The final phase's iterates are averaged (Polyak–Ruppert), removing the optimizer's jitter.
 * 6. The answer is the best candidate: the Laplace start, each phase's last iterate and its iterate
 *    average, scored by the ELBO on one fixed set of draws (common random numbers). A phase whose
 *    loss jumps by many standard errors restarts from its best point with a smaller step.
 * 7. Diagnostics: S guide draws z_s ~ q, log ratios log p(x, z_s) − log q(z_s), PSIS k̂
 *    (Yao et al. 2018) with its reading from `describeKhat`, and per-site posterior summaries.
 */
import type { ModelFn } from '../../ppl/runtime.js';
import { AbortError, ImproperPosteriorError, ValueError, VarinfError } from '../../core/errors.js';
import type { Tensor } from '../../core/tensor.js';
import { mapLeaves } from '../../core/tree.js';
import { psis } from '../../diagnostics/psis.js';
import { describeKhat } from '../../diagnostics/summary.js';
import { zerosLike } from '../../ops/creation.js';
import { add } from '../../ops/elementwise.js';
import { adam } from '../../optim/index.js';
import { foldIn, split } from '../../random/key.js';
import { AutoGuide, AutoLaplaceApproximation, AutoLowRankMultivariateNormal, summarize, type SiteSummary } from '../autoguide.js';
import { TraceELBO } from '../elbo.js';
import { SVI } from '../svi.js';
import { commonDraws, nonFiniteSite, scoreCandidate, type Candidate, type CandidateScore } from './candidates.js';
import { evaluateGuideSteps } from './evaluate.js';
import { guideGaussian, guideSds, laplaceParams, makeGuide } from './guideParams.js';
import { invFromChol, latentSds } from './linalg.js';
import { concatInit, findBestMode, flatDirection, modeStarts, tracked, type ModeSearch } from './mode.js';
import { defaultPhases, type FitOptions, type FitPartial, type FitPhase, type FitProgress, type FitResult } from './options.js';
import { runPhase, type PhaseEnd } from './phase.js';
import { potential, potentialTensor } from './potential.js';
import { phaseOptimizer, preconditioner } from './precondition.js';
import { sampleAverageGaussian } from './sampleAverage.js';
import { AutoFlowGuide } from '../../flows/guides.js';

/**
 * Fits an autoguide to `model(...args)` with the recipe above and reports diagnostics. Runs on
 * the event loop in slices of about `yieldEveryMs` (10 ms) so that a server keeps answering;
 * `signal` aborts it (the promise rejects with an `AbortError` whose `partial` holds the steps
 * done; it is noticed between any two evaluations of the model, inside the MAP search's line
 * searches too), `onProgress` reports every evaluation of the MAP search and every stopping check
 * of the phases, and a terminal gets a progress line.
 * Raises `ImproperPosteriorError` where the posterior has no normalizing constant.
 * @example
 * const r = await fit(eightSchoolsNoncentered, [data], { guide: 'mvn', key: key(0) });
 * r.summary.tau.mean; r.khat; r.warnings; r.chosen.name
 */
export async function fit<A extends unknown[]>(model: ModelFn<A>, args: A, opts: FitOptions): Promise<FitResult<A>> {
  const gen = fitSteps(model, args, opts);
  const every = opts.yieldEveryMs ?? 10;
  let last = performance.now();
  for (;;) {
    const r = gen.next();
    if (r.done) return r.value;
    if (performance.now() - last >= every) {
      await new Promise<void>((res) => setImmediate(res));
      last = performance.now();
    }
  }
}

/**
 * {@link fit} without yielding to the event loop, for scripts and tests: the same steps and the
 * same result for the same key.
 * @example
 * const r = fitSync(eightSchoolsNoncentered, [data], { guide: 'mvn', key: key(0) });
 * r.summary.tau.mean; r.khatText
 */
export function fitSync<A extends unknown[]>(model: ModelFn<A>, args: A, opts: FitOptions): FitResult<A> {
  const gen = fitSteps(model, args, opts);
  for (;;) {
    const r = gen.next();
    if (r.done) return r.value;
  }
}

/** The recipe as a generator that yields between small pieces of work, so that a caller can let the event loop run. */
function* fitSteps<A extends unknown[]>(model: ModelFn<A>, args: A, opts: FitOptions): Generator<void, FitResult<A>, void> {
  const t0 = performance.now();
  const [kGuide, kLap, kRun, kEval] = split(opts.key, 4);
  const guide = makeGuide(model, opts.guide, opts.guideOptions ?? {});
  const driftTol = opts.driftTol ?? 2;
  const every = opts.checkEvery ?? 50;
  const nSel = opts.selectionDraws ?? 1000;
  if (!Number.isInteger(nSel) || nSel < 2) throw new ValueError(`fit: selectionDraws must be an integer >= 2, got ${nSel}`);
  const warnings: string[] = [];
  const losses: number[] = [];
  const phaseEnds: number[] = [];
  let current: { params: Record<string, Tensor>; svi: SVI<A> } | null = null;
  let step = 0;
  const search: ModeSearch = { evaluations: 0, lowest: Infinity, at: null };
  let laplaceDone = false;
  const bar = opts.progressBar ?? (process.stderr.isTTY === true && process.env.CI === undefined);
  let nPhases = 0;
  let drawn = 0;
  const onProgress = (info: FitProgress): void => {
    opts.onProgress?.(info);
    // The terminal line at most every 100 ms: the MAP search reports every evaluation.
    if (!bar || (info.stage === 'mode' && performance.now() - drawn < 100)) return;
    drawn = performance.now();
    const text =
      info.stage === 'mode'
        ? `fit: MAP search, ${info.evaluations} evaluations, lowest −log p ${info.loss.toPrecision(6)}`
        : `fit: phase ${info.phase + 1}/${nPhases} step ${info.step} loss ${info.loss.toPrecision(6)} drift ${info.drift.toFixed(2)}`;
    process.stderr.write(`\r${text.slice(0, (process.stderr.columns ?? 80) - 1)}\x1b[K`);
  };
  // Checked at every yield: an abort rejects with what was done so far.
  const checkAbort = (): void => {
    if (opts.signal?.aborted !== true) return;
    if (bar) process.stderr.write('\n');
    const partial: FitPartial = {
      params: current === null ? null : current.svi.getParams({ params: current.params, optState: null, step, key: kRun }),
      losses: Float64Array.from(losses),
      phaseEnds: phaseEnds.slice(),
      step,
      warnings: warnings.slice(),
      mode: { ...search, at: search.at?.slice() ?? null },
    };
    const where = laplaceDone ? `step ${step} (${phaseEnds.length} phases done)` : `step 0, in the MAP search after ${search.evaluations} evaluations of −log p`;
    throw new AbortError(`fit: aborted at ${where}`, partial, { cause: opts.signal.reason });
  };
  const pause = function* (): Generator<void, void, void> {
    checkAbort();
    yield;
    checkAbort();
  };
  checkAbort();

  // 1. MAP and Laplace.
  const lap = new AutoLaplaceApproximation<A>(model, opts.guideOptions ?? {});
  lap.setup(kLap, ...args);
  const laplace = { used: false, iterations: 0, converged: false, reason: 'laplaceInit is false' };
  let lapLoc: Float64Array | null = null;
  let lapCov: Float64Array | null = null;
  let lapHess: Float64Array | null = null;
  const uFlat = potentialTensor(model, args, lap);
  if (opts.laplaceInit ?? true) {
    const report = (): void => onProgress({ stage: 'mode', phase: -1, step: 0, loss: search.lowest, drift: NaN, evaluations: search.evaluations });
    const fns = tracked(potential(model, args, lap), search, report);
    const m = yield* checked(findBestMode(fns, modeStarts(Float64Array.from(concatInit(lap).dataSync()), opts.modeStarts ?? 1, foldIn(kLap, 0x5a)), 1e-4), checkAbort);
    if (m.modes.length > 1)
      warnings.push(
        `the MAP search reached ${m.modes.length} different modes from ${opts.modeStarts} starts (−log p ${m.modes.map((u) => u.toPrecision(6)).join(', ')}); the Laplace start is the lowest, from start ${m.best}: the posterior is multimodal and one Gaussian or flow fit covers one mode`,
      );
    laplace.iterations = m.iterations;
    laplace.converged = m.converged;
    laplace.reason = m.reason;
    if (m.converged) {
      lapLoc = m.x;
      lapHess = m.hess;
      lapCov = invFromChol(m.chol as Float64Array, m.x.length);
      laplace.used = true;
    } else {
      // No mode: either a funnel (proper, fit goes on) or a density that never falls off (improper).
      const flat = flatDirection(uFlat, m.x);
      if (flat !== null) {
        const site = siteOfCoord(guide, lap, flat.coord);
        throw new ImproperPosteriorError(
          `fit: the posterior is improper: −log p does not increase as site '${site.name}'${site.index} goes to ${flat.sign > 0 ? '+' : '−'}∞ in the unconstrained space ` +
            `(its largest change over 10, 100 and 1000 units is ${flat.rise.toPrecision(3)}), so it has no normalizing constant and no summary would mean anything. ` +
            `A flat (improper) prior needs a likelihood that pins the site down; give '${site.name}' a proper prior or more data.`,
          site.name,
        );
      }
      warnings.push(`no Laplace start: ${m.reason}; the guide started from its initialization and a warm-up phase`);
    }
  } else warnings.push('no Laplace start: laplaceInit is false');
  laplaceDone = true;
  const mapMs = performance.now() - t0;
  yield* pause();

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
  let params: Record<string, Tensor> | null = null;
  let key = kRun;
  const candidates: Candidate[] = [];
  // Every candidate is scored on the same draws ε (common random numbers); the start as soon as it exists.
  const dLatent = lap.latentDim;
  const scoreEnv = { model, args, guide, potential: uFlat, eps: commonDraws(foldIn(kEval, 0xc0), nSel, dLatent), n: nSel, key: foldIn(kEval, 0xc1) };
  let startScore: CandidateScore | null = null;
  nPhases = plan.length;
  const flow = guide instanceof AutoFlowGuide;
  const compiled: FitResult<A>['compiled'] = { used: opts.compile !== false };
  const onEager = (reason: string): void => {
    compiled.used = false;
    compiled.reason ??= reason;
  };
  const t1 = performance.now();
  for (let pi = 0; pi < plan.length; pi++) {
    const last = pi === plan.length - 1;
    // A flow guide runs plain Adam (the whitening is for Gaussian parameters) without sticking the landing (IAF cannot rescore draws).
    const plain = plan[pi].plain || flow;
    const phase = last && finalMin > 0 ? { ...plan[pi].phase, minSteps: finalMin, maxSteps: Math.max(plan[pi].phase.maxSteps, finalMin) } : plan[pi].phase;
    const elbo = new TraceELBO({ numParticles: phase.particles, stickingTheLanding: !flow });
    // A throwaway SVI finds the parameters and constraints; the optimizer needs their shapes.
    const probe = new SVI<A>(model, guide, adam(phase.lr), elbo);
    const st0 = probe.init(foldIn(kGuide, pi), ...args);
    yield* pause();
    const unc =
      params ?? (laplace.used ? laplaceParams(guide as AutoGuide<unknown[]>, st0.params, lapLoc as Float64Array, lapCov, lapHess) : st0.params);
    if (params === null) {
      candidates.push({ name: laplace.used ? 'laplace start' : 'initial guide', step: 0, params: unc, constrained: probe.getParams({ ...st0, params: unc }) });
      startScore = yield* checked(scoreCandidate(candidates[0], scoreEnv), checkAbort);
    }
    const constrainedNow = probe.getParams({ ...st0, params: unc });
    const sd = laplace.used && params === null ? latentSds(lapCov as Float64Array) : flow ? new Float64Array(dLatent).fill(1) : guideSds(guide as AutoGuide<unknown[]>, constrainedNow);
    const pre = plain ? mapLeaves(unc, (u) => add(zerosLike(u), 1)) : preconditioner(guide as AutoGuide<unknown[]>, unc, sd);
    // The Laplace factor is a trustworthy reference for the scale factor's steps only where the
    // Laplace approximation is close to the posterior: the sd of its log weights is under 3 nats.
    const nearGaussian = startScore !== null && startScore.se * Math.sqrt(nSel) < 3;
    const lapFit = laplace.used ? { cov: lapCov as Float64Array, hess: lapHess as Float64Array, whitenFactor: nearGaussian && opts.whitenFactor !== false } : null;
    const makeOptim = phaseOptimizer(guide as AutoGuide<unknown[]>, { plain, laplace: lapFit, sd, pre });
    const makeSvi = (lr: number): SVI<A> => {
      const svi = new SVI<A>(model, guide, makeOptim(lr), elbo);
      svi.init(foldIn(kGuide, pi), ...args);
      current = { params: unc, svi };
      return svi;
    };
    const state0 = { params: unc, optState: null, step, key };
    const end: PhaseEnd = yield* checked(
      runPhase(state0, args, { phase, index: pi, makeSvi, average: last, every, driftTol, pre, onProgress: (i) => onProgress({ ...i, stage: 'phases', evaluations: search.evaluations }), warnings, compile: opts.compile, onEager }, losses),
      checkAbort,
    );
    const svi: SVI<A> = (current as unknown as { svi: SVI<A> }).svi;
    const state = end.state;
    step = state.step;
    key = foldIn(state.key, pi + 1);
    params = end.params;
    current = { params, svi };
    phaseEnds.push(losses.length);
    const label = plain ? 'warm-up' : `phase ${pi + 1}`;
    candidates.push({ name: `${label} end`, step, params: end.last, constrained: svi.getParams({ params: end.last, optState: null, step, key }) });
    if (end.average !== null)
      candidates.push({ name: `${label} average`, step, params: end.average, constrained: svi.getParams({ params: end.average, optState: null, step, key }) });
    if (plain && !flow && saaDraws > 0 && !(guide instanceof AutoLowRankMultivariateNormal)) {
      // No MAP: the sample-average ELBO's minimizer takes the Laplace start's place. It is at the
      // optimum up to O(1/√N), so only the last (smallest-step) phase follows, to average that out;
      // larger steps would only shake the guide along the funnel's flat directions.
      const q = guideGaussian(guide as AutoGuide<unknown[]>, svi.getParams({ params, optState: null, step, key }));
      const saa = q === null ? null : yield* checked(sampleAverageGaussian(potential(model, args, lap).batch, q.m, q.l, q.fullRank, saaDraws, foldIn(kRun, 0x5aa)), checkAbort);
      if (saa !== null) {
        sampleAverage = { draws: saaDraws, iterations: saa.iterations };
        const d = saa.m.length;
        const cov = new Float64Array(d * d);
        for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) for (let k = 0; k <= Math.min(i, j); k++) cov[i * d + j] += saa.l[i * d + k] * saa.l[j * d + k];
        const hess = Float64Array.from(cov, (v, k) => (k % (d + 1) === 0 ? 1 / v : 0));
        params = laplaceParams(guide as AutoGuide<unknown[]>, params, saa.m, cov, hess);
        current = { params, svi };
        candidates.push({ name: 'sample-average fit', step, params, constrained: svi.getParams({ params, optState: null, step, key }) });
        // The last phase keeps the skipped phases' minimum steps: a longer Polyak average.
        finalMin = plan.slice(pi + 1).reduce((a, p) => a + p.phase.minSteps, 0);
        pi = Math.max(pi, plan.length - 2);
      }
    }
    yield* pause();
  }
  const sviMs = performance.now() - t1;
  if (bar) process.stderr.write('\n');

  // 6. The best candidate on common draws.
  const scores: CandidateScore[] = [];
  for (const c of candidates) {
    scores.push(c === candidates[0] && startScore !== null ? startScore : yield* checked(scoreCandidate(c, scoreEnv), checkAbort));
  }
  let best = -1;
  scores.forEach((s, i) => {
    if (Number.isFinite(s.elbo) && (best < 0 || s.elbo > scores[best].elbo)) best = i;
  });
  if (best < 0) {
    const c = candidates[candidates.length - 1];
    const site = nonFiniteSite(model, guide, args, c.constrained, foldIn(kEval, 0xc2));
    throw new VarinfError(
      `fit: every candidate (${candidates.map((x) => `${x.name} at step ${x.step}`).join(', ')}) has a non-finite ELBO; at the last, step ${c.step}, ` +
        `${site === '' ? 'no site is non-finite at 1000 guide draws, but some of the common draws are' : `${site} is not finite`}`,
    );
  }
  const chosenC = candidates[best];
  const start = scores[0];
  const laterBest = scores.slice(1).reduce((a, s) => (Number.isFinite(s.elbo) && s.elbo > a ? s.elbo : a), -Infinity);
  if (laplace.used && Number.isFinite(start.elbo) && !(laterBest > start.elbo))
    warnings.push(
      `the ELBO did not improve on the Laplace start (${start.elbo.toFixed(3)} ± ${start.se.toFixed(3)}; best phase candidate ${laterBest.toPrecision(7)}): the answer is the Laplace start`,
    );
  const constrained = chosenC.constrained;

  // 7. Draws, log weights, k̂, summaries.
  const t2 = performance.now();
  const S = opts.numDraws ?? 4000;
  const ev = yield* checked(evaluateGuideSteps(model, args, guide, constrained, S, kEval), checkAbort);
  const evalMs = performance.now() - t2;
  const ps = psis(ev.logWeights);
  if (ps.khat > 0.7) warnings.push(describeKhat(ps.khat, S));
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
    chosen: { name: chosenC.name, elbo: scores[best].elbo, candidates: scores },
    warnings,
    timings: { totalMs, mapMs, sviMs, evalMs, steps: losses.length, perStepUs: (sviMs * 1000) / Math.max(1, losses.length) },
    compiled,
  };
}

/** `gen`, checking for an abort at each of its yields. */
function* checked<R>(gen: Generator<void, R, void>, check: () => void): Generator<void, R, void> {
  for (;;) {
    const r = gen.next();
    if (r.done) return r.value;
    check();
    yield;
  }
}

/** The latent site (and the element, as `[i]`) of coordinate `k` of the flat unconstrained vector. */
function siteOfCoord<A extends unknown[]>(guide: AutoGuide<A>, lap: AutoLaplaceApproximation<A>, k: number): { name: string; index: string } {
  let off = 0;
  for (const s of lap.sites) {
    const n = s.uncShape.reduce((a, b) => a * b, 1);
    if (k < off + n) return { name: s.name, index: n > 1 ? `[${k - off}]` : '' };
    off += n;
  }
  void guide;
  return { name: '?', index: `[${k}]` };
}
