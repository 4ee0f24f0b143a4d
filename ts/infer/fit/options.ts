/** The options and the result of {@link fit}, and its default phases. */
import type { Tensor } from '../../core/tensor.js';
import type { Key } from '../../random/key.js';
import type { AutoGuide, AutoGuideOptions, SiteSummary } from '../autoguide.js';
import type { FlowGuideName } from '../../flows/guides.js';

/** One optimization phase of {@link fit}. */
export interface FitPhase {
  /** Step size, in units of the marginal posterior sd (plain Adam units where no scale is known). */
  lr: number;
  /** Vectorized particles per step. */
  particles: number;
  /** Steps the phase runs at least, before its stopping test may end it. */
  minSteps: number;
  /** Steps the phase runs at most. */
  maxSteps: number;
}

/**
 * What {@link fit} reports: after every evaluation of −log p in the MAP search (`stage` 'mode'),
 * then at each stopping check of the phases (every `checkEvery` steps, `stage` 'phases').
 * @example
 * await fit(model, args, { key: key(0), onProgress: (p) => console.log(p.stage, p.phase, p.step, p.loss) });
 */
export interface FitProgress {
  /** 'mode': the MAP search (L-BFGS, then Newton); 'phases': the Adam phases. */
  stage: 'mode' | 'phases';
  /** Index of the phase in the plan (the warm-up first where there is no Laplace start); −1 in the MAP search. */
  phase: number;
  /** Steps done, all phases (0 in the MAP search). */
  step: number;
  /**
   * Phases: mean loss (−ELBO estimate) of the last window. MAP search: the lowest potential found
   * so far, −log p(x, T(z)) − log|det J_T(z)| in the unconstrained space (Infinity before a finite one).
   */
  loss: number;
  /** The window's drift statistic t² (about 1 when the iterates only jitter); NaN in the MAP search. */
  drift: number;
  /** Evaluations of −log p and its gradient in the MAP search so far (a Hessian counts its 2d points). */
  evaluations: number;
}

/** How {@link fit} is called: the family, the key, and the recipe's knobs (all but `key` optional). */
export interface FitOptions {
  /** The variational family (default 'normal'; 'iaf', 'nsf', 'realnvp', 'bnaf', 'ffjord' are flow guides started at the Laplace fit), or a guide made by the caller. */
  guide?: 'normal' | 'mvn' | 'lowrank' | FlowGuideName | AutoGuide;
  /** The random key: the same key gives the same fit on the same backend. */
  key: Key;
  /** Start from the Laplace approximation at the MAP (default true). */
  laplaceInit?: boolean;
  /** The phases (default {@link defaultPhases}). */
  phases?: FitPhase[];
  /** Options of the plain-Adam phase used when there is no Laplace start. */
  warmup?: FitPhase;
  /**
   * Where there is no Laplace start: fixed draws of the sample-average ELBO minimized by L-BFGS
   * after the warm-up (default 1024; 0 skips it and runs every phase).
   */
  sampleAverageDraws?: number;
  /** Guide draws for the summary and k̂ (default 4000). */
  numDraws?: number;
  /** Steps between stopping checks (default 50). */
  checkEvery?: number;
  /** A phase ends when the mean drift statistic t² of a window falls below this (default 2). */
  driftTol?: number;
  /**
   * Starts of the MAP search (default 1: the guide's init strategy, the prior median). With n > 1,
   * n − 1 more start at uniform(−2, 2) draws in the unconstrained space (Stan's default inits) and
   * the lowest −log p among the converged searches is the Laplace start; when the starts reach
   * different modes, `result.warnings` says so. For multimodal posteriors (an HMM's label modes,
   * an ODE's local fits), where one start can stop in a minor mode.
   */
  modeStarts?: number;
  /** Options passed to the autoguide (init strategy, initScale). */
  guideOptions?: AutoGuideOptions;
  /** Called after every evaluation of −log p in the MAP search and at each stopping check of the phases. */
  onProgress?: (info: FitProgress) => void;
  /** Draw a progress line on stderr (default: when stderr is a terminal and not in CI). */
  progressBar?: boolean;
  /**
   * Stops the fit: the promise rejects with an `AbortError` carrying the {@link FitPartial}. It is
   * checked after every evaluation of −log p in the MAP search (inside its line searches), after
   * every optimization step and between the candidates' scorings.
   */
  signal?: AbortSignal;
  /** Common draws on which every candidate's ELBO is estimated to choose the answer (default 1000). */
  selectionDraws?: number;
  /**
   * Full-rank guides from a Laplace start that is close to the posterior (the sd of its log
   * weights on the common draws under 3 nats): take Adam's steps on M = A⁻¹L (A the Laplace factor)
   * rather than on the scale factor's own entries (default true; false is the old behaviour, whose
   * first phase diverges on near-collinear coefficients). Where the Laplace fit is poor (a
   * hierarchical scale), A is no reference and the factor's own entries are stepped.
   */
  whitenFactor?: boolean;
  /** Async `fit` yields to the event loop once this many milliseconds have passed (default 10). */
  yieldEveryMs?: number;
  /**
   * Take the optimization steps as compiled code (`compile`; default true). A model whose step does
   * not trace (data-dependent control flow on latent values, host reads) runs eagerly, and
   * `result.compiled.reason` says why; the trajectory is the same up to rounding either way.
   */
  compile?: boolean;
}

/**
 * A candidate's ELBO on the common draws (NaN where not finite), with its standard error.
 * @example
 * for (const c of r.chosen.candidates) console.log(c.name, c.elbo.toFixed(2), '±', c.se.toFixed(2));
 */
export interface CandidateElbo {
  /** Which candidate: 'laplace start', 'phase 2 end', 'phase 2 average', … */
  name: string;
  /** The step (all phases counted) at which it was taken. */
  step: number;
  /** Its ELBO on the common draws (NaN where not finite). */
  elbo: number;
  /** The standard error of that estimate. */
  se: number;
}

/**
 * What an aborted {@link fit} had when it stopped (`AbortError.partial`).
 * @example
 * try { await fit(model, args, { key: key(0), signal }); }
 * catch (e) { if (e instanceof AbortError) console.log((e.partial as FitPartial).losses.length); }
 */
export interface FitPartial {
  /** Constrained guide parameters at the abort (null before the first phase began). */
  params: Record<string, Tensor> | null;
  /** The losses of the steps done. */
  losses: Float64Array;
  /** The last step of each finished phase. */
  phaseEnds: number[];
  /** Steps done, all phases. */
  step: number;
  /** The warnings so far. */
  warnings: string[];
  /**
   * The MAP search: evaluations of −log p so far, the lowest potential seen (Infinity if none was
   * finite) and its point, the flat unconstrained latent vector (null before a finite one).
   */
  mode: {
    /** Evaluations of −log p so far. */
    evaluations: number;
    /** The lowest potential −log p seen (Infinity if none was finite). */
    lowest: number;
    /** Where: the flat unconstrained latent vector (null before a finite one). */
    at: Float64Array | null;
  };
}

/**
 * The default phases: step sizes 0.1, 0.03, 0.01 sd with 4, 8 and 16 particles. The first phase
 * runs at least max(500, 20·d) steps for a latent dimension d: slow directions (a hierarchical
 * scale coupled to many group effects) multiply with the dimension, and the drift test can miss
 * a drift spread thinly over many coordinates.
 */
export function defaultPhases(d = 0): FitPhase[] {
  return [
    { lr: 0.1, particles: 4, minSteps: Math.max(500, 20 * d), maxSteps: Math.max(3000, 40 * d) },
    { lr: 0.03, particles: 8, minSteps: 250, maxSteps: 1500 },
    { lr: 0.01, particles: 16, minSteps: 250, maxSteps: 1500 },
  ];
}

/** What {@link fit} returns: the fitted guide, its draws and diagnostics, and how it got there. */
export interface FitResult<A extends unknown[]> {
  /** The fitted autoguide (use it with `params` for more draws, `summary`, `predictive`). */
  guide: AutoGuide<A>;
  /** Constrained guide parameters of the chosen candidate (see `chosen`). */
  params: Record<string, Tensor>;
  /** The loss (−ELBO estimate) at every step, all phases. */
  losses: Float64Array;
  /** The last step of each phase (cumulative). */
  phaseEnds: number[];
  /** The MAP search: whether it converged and gave a positive-definite Hessian. */
  laplace: {
    /** Whether the guide started from the Laplace approximation. */
    used: boolean;
    /** L-BFGS iterations of the MAP search. */
    iterations: number;
    /** Whether the MAP search converged. */
    converged: boolean;
    /** Why the Laplace start was or was not used, in words. */
    reason: string;
  };
  /** The sample-average ELBO fit where there was no Laplace start (draws 0 where it did not run). */
  sampleAverage: {
    /** Fixed draws of the sample-average ELBO (0: it did not run). */
    draws: number;
    /** L-BFGS iterations on it. */
    iterations: number;
  };
  /** Guide draws per site, [S, ...site shape] (constrained). */
  draws: Record<string, Tensor>;
  /** log p(x, z_s) − log q(z_s) for the S draws. */
  logWeights: Float64Array;
  /** Pareto k̂ of the log weights (PSIS, Yao et al. 2018): below 0.7 the fit is trustworthy for importance sampling. */
  khat: number;
  /** k̂ and what it means, in words. */
  khatText: string;
  /** ELBO estimate from the S draws (mean log weight). */
  elbo: number;
  /** Per site (latent and deterministic): mean, sd and quantiles of the draws. */
  summary: Record<string, SiteSummary>;
  /**
   * Which candidate is the answer: the one with the highest ELBO on `selectionDraws` common draws,
   * among the Laplace start (or the guide's initialization and the sample-average fit where there
   * was none), each phase's last iterate and each phase's iterate average.
   */
  chosen: {
    /** The winning candidate's name. */
    name: string;
    /** Its ELBO on the common draws. */
    elbo: number;
    /** Every candidate with its ELBO. */
    candidates: CandidateElbo[];
  };
  /** What went wrong or looks doubtful, in words (k̂ > 0.7, a diverged phase, no Laplace start, …). */
  warnings: string[];
  /** Where the time went. */
  timings: {
    /** The whole fit, ms. */
    totalMs: number;
    /** The MAP search and Hessian, ms. */
    mapMs: number;
    /** The optimization phases, ms. */
    sviMs: number;
    /** Candidate scoring, draws, k̂ and summaries, ms. */
    evalMs: number;
    /** Optimization steps, all phases. */
    steps: number;
    /** Mean time per step, µs. */
    perStepUs: number;
  };
  /** Whether the optimization steps ran as compiled code, and if not (with `compile` on) why. */
  compiled: {
    /** True when every phase's steps ran compiled. */
    used: boolean;
    /** Why a phase's step was not compiled, when `compile` was on and it was not. */
    reason?: string;
  };
}
