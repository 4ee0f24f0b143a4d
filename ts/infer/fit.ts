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
import type { ModelFn } from '../ppl/runtime.js';
import { valueAndGrad } from '../core/autodiff.js';
import { ValueError, VarinfError } from '../core/errors.js';
import { sizeOf } from '../core/shape.js';
import type { Tensor } from '../core/tensor.js';
import { leaves, mapLeaves } from '../core/tree.js';
import { bijectTo } from '../bijectors/bijectTo.js';
import { lowerCholesky } from '../distributions/constraints.js';
import { psis } from '../diagnostics/psis.js';
import { describeKhat } from '../diagnostics/summary.js';
import { tensor, zerosLike } from '../ops/creation.js';
import { add, mul, neg, square, sub } from '../ops/elementwise.js';
import { sum } from '../ops/reduce.js';
import { concat, reshape, slice } from '../ops/shape.js';
import { matmul } from '../ops/linalg.js';
import { plate } from '../ppl/primitives.js';
import { substitute, trace } from '../ppl/handlers.js';
import { adam, chain, scaleByAdam, scaleByLearningRate, type GradientTransformation } from '../optim/index.js';
import { foldIn, split, type Key } from '../random/key.js';
import { normal } from '../random/samplers.js';
import { logDensity } from '../ppl/logdensity.js';
import {
  AutoGuide,
  AutoLaplaceApproximation,
  AutoLowRankMultivariateNormal,
  AutoMultivariateNormal,
  AutoNormal,
  summarize,
  type AutoGuideOptions,
  type SiteSummary,
} from './autoguide.js';
import { getTraces, perParticle, TraceELBO } from './elbo.js';
import { SVI, type SVIState } from './svi.js';


/** Adam's momentum: low, so that noise-driven steps decorrelate fast and the drift test is sharp. */
const ADAM_B1 = 0.5;
const KAPPA = (1 + ADAM_B1) / (1 - ADAM_B1);

/** One optimization phase of {@link fit}. */
export interface FitPhase {
  /** Step size, in units of the marginal posterior sd (plain Adam units where no scale is known). */
  lr: number;
  /** Vectorized particles per step. */
  particles: number;
  minSteps: number;
  maxSteps: number;
}

export interface FitOptions {
  /** The variational family (default 'normal'), or a guide made by the caller. */
  guide?: 'normal' | 'mvn' | 'lowrank' | AutoGuide;
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
  /** Options passed to the autoguide (init strategy, initScale). */
  guideOptions?: AutoGuideOptions;
  /** Called at each stopping check. */
  onProgress?: (info: { phase: number; step: number; loss: number; drift: number }) => void;
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

export interface FitResult<A extends unknown[]> {
  guide: AutoGuide<A>;
  /** Constrained guide parameters (Polyak-averaged over the final phase). */
  params: Record<string, Tensor>;
  /** The loss (−ELBO estimate) at every step, all phases. */
  losses: Float64Array;
  /** The last step of each phase (cumulative). */
  phaseEnds: number[];
  /** The MAP search: whether it converged and gave a positive-definite Hessian. */
  laplace: { used: boolean; iterations: number; converged: boolean; reason: string };
  /** The sample-average ELBO fit where there was no Laplace start (draws 0 where it did not run). */
  sampleAverage: { draws: number; iterations: number };
  /** Guide draws per site, [S, ...site shape] (constrained). */
  draws: Record<string, Tensor>;
  /** log p(x, z_s) − log q(z_s) for the S draws. */
  logWeights: Float64Array;
  khat: number;
  khatText: string;
  /** ELBO estimate from the S draws (mean log weight). */
  elbo: number;
  summary: Record<string, SiteSummary>;
  timings: { totalMs: number; mapMs: number; sviMs: number; evalMs: number; steps: number; perStepUs: number };
}

// ---------------------------------------------------------------------------------------------
// Dense linear algebra on the host (d is small: the latent dimension).

/** Cholesky factor of a symmetric d×d matrix (row-major), or null if not positive definite. */
export function choleskyHost(a: Float64Array, d: number): Float64Array | null {
  const l = new Float64Array(d * d);
  for (let i = 0; i < d; i++)
    for (let j = 0; j <= i; j++) {
      let s = a[i * d + j];
      for (let k = 0; k < j; k++) s -= l[i * d + k] * l[j * d + k];
      if (i === j) {
        if (!(s > 0)) return null;
        l[i * d + i] = Math.sqrt(s);
      } else l[i * d + j] = s / l[j * d + j];
    }
  return l;
}

/** A⁻¹ from the Cholesky factor L of A. */
function invFromChol(l: Float64Array, d: number): Float64Array {
  // L⁻¹ by forward substitution, then A⁻¹ = L⁻ᵀ L⁻¹.
  const li = new Float64Array(d * d);
  for (let c = 0; c < d; c++)
    for (let i = c; i < d; i++) {
      let s = i === c ? 1 : 0;
      for (let k = c; k < i; k++) s -= l[i * d + k] * li[k * d + c];
      li[i * d + c] = s / l[i * d + i];
    }
  const inv = new Float64Array(d * d);
  for (let i = 0; i < d; i++)
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let k = i; k < d; k++) s += li[k * d + i] * li[k * d + j];
      inv[i * d + j] = s;
      inv[j * d + i] = s;
    }
  return inv;
}

// ---------------------------------------------------------------------------------------------
// MAP by L-BFGS and the Laplace approximation.

type ValueGrad = (z: Float64Array) => { f: number; g: Float64Array };

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** L-BFGS (memory 10) with a backtracking Armijo line search. */
export function lbfgs(
  fg: ValueGrad,
  x0: Float64Array,
  opts: { maxIter?: number; gtol?: number; ftol?: number } = {},
): { x: Float64Array; f: number; g: Float64Array; iterations: number; converged: boolean } {
  const maxIter = opts.maxIter ?? 500;
  const gtol = opts.gtol ?? 1e-6;
  const ftol = opts.ftol ?? 1e-12;
  const m = 10;
  const d = x0.length;
  let x = x0.slice();
  let { f, g } = fg(x);
  const S: Float64Array[] = [];
  const Y: Float64Array[] = [];
  const gmax = (v: Float64Array): number => v.reduce((a, b) => Math.max(a, Math.abs(b)), 0);
  let it = 0;
  for (; it < maxIter; it++) {
    if (!Number.isFinite(f)) break;
    if (gmax(g) < gtol * Math.max(1, Math.abs(f) * 1e-3)) return { x, f, g, iterations: it, converged: true };
    // Two-loop recursion for the direction −H g.
    const q = g.slice();
    const alpha: number[] = [];
    for (let k = S.length - 1; k >= 0; k--) {
      const a = dot(S[k], q) / dot(Y[k], S[k]);
      alpha[k] = a;
      for (let i = 0; i < d; i++) q[i] -= a * Y[k][i];
    }
    const gamma = S.length > 0 ? dot(S[S.length - 1], Y[Y.length - 1]) / dot(Y[Y.length - 1], Y[Y.length - 1]) : 1 / Math.max(1, gmax(g));
    for (let i = 0; i < d; i++) q[i] *= gamma;
    for (let k = 0; k < S.length; k++) {
      const b = dot(Y[k], q) / dot(Y[k], S[k]);
      for (let i = 0; i < d; i++) q[i] += S[k][i] * (alpha[k] - b);
    }
    let dir = q.map((v) => -v);
    let slope = dot(dir, g);
    if (!(slope < 0)) {
      dir = g.map((v) => -v / Math.max(1, gmax(g)));
      slope = dot(dir, g);
      S.length = 0;
      Y.length = 0;
    }
    let t = 1;
    let xn = x;
    let next = { f: Infinity, g };
    for (let ls = 0; ls < 40; ls++) {
      xn = x.map((v, i) => v + t * dir[i]);
      next = fg(xn);
      if (Number.isFinite(next.f) && next.f <= f + 1e-4 * t * slope) break;
      t *= 0.5;
    }
    if (!(next.f <= f)) break;
    const s = xn.map((v, i) => v - x[i]);
    const y = next.g.map((v, i) => v - g[i]);
    if (dot(s, y) > 1e-12) {
      S.push(s);
      Y.push(y);
      if (S.length > m) {
        S.shift();
        Y.shift();
      }
    }
    const df = f - next.f;
    x = xn;
    f = next.f;
    g = next.g;
    // Stalled: the caller's Newton polish takes over.
    if (df <= ftol * Math.max(1, Math.abs(f))) break;
  }
  return { x, f, g, iterations: it, converged: gmax(g) < gtol * Math.max(1, Math.abs(f) * 1e-3) };
}

/** Gradients of U at many points at once: Z is [P, d] row-major; returns [P, d] and U [P]. */
type BatchGrad = (z: Float64Array, P: number) => { f: Float64Array; g: Float64Array };

/**
 * U(z) = −log p(x, T(z)) − log|det J_T(z)| as a tensor function of the flat unconstrained latent
 * vector: z [d] gives a scalar, z [P, d] the P values [P] in one vectorized pass (the model runs
 * inside a particle plate, as the ELBO's particles do). `lap` must be set up on `args`.
 */
export function potentialTensor<A extends unknown[]>(model: ModelFn<A>, args: A, lap: AutoLaplaceApproximation<A>): (z: Tensor) => Tensor {
  const nest = lap.maxPlateNesting;
  return (z) => {
    const P = z.shape.length === 1 ? 0 : z.shape[0];
    const parts = lap.unpack(P === 0 ? z : reshape(z, [P, ...Array<number>(nest).fill(1), z.shape[1]]));
    const values: Record<string, Tensor> = {};
    for (const [name, p] of Object.entries(parts)) values[name] = p.value;
    // Each part's logDensity is −log|det J| of its transform.
    let u: Tensor;
    if (P === 0) u = neg(logDensity(model, args, values));
    else {
      const wrapped = (...a: A): unknown => plate('_particles', P, () => model(...a), { dim: -(nest + 1) });
      const tr = trace(substitute(wrapped, values)).getTrace(...args);
      let lp: Tensor | null = null;
      for (const site of tr.values()) if (site.type === 'sample') lp = lp === null ? perParticle(site, P) : add(lp, perParticle(site, P));
      u = neg(lp as Tensor);
    }
    for (const p of Object.values(parts)) u = add(u, P === 0 ? sum(p.logDensity) : sum(reshape(p.logDensity, [P, -1]), 1));
    return u;
  };
}

/**
 * U(z) of {@link potentialTensor} over host vectors, with its gradient, for one point (`one`) or
 * for P points in one vectorized pass (`batch`).
 */
export function potential<A extends unknown[]>(model: ModelFn<A>, args: A, lap: AutoLaplaceApproximation<A>): { one: ValueGrad; batch: BatchGrad } {
  const total = potentialTensor(model, args, lap);
  const vgOne = valueAndGrad(total);
  let perPoint: Tensor | null = null;
  const vgBatch = valueAndGrad((z: Tensor) => {
    perPoint = total(z);
    return sum(perPoint);
  });
  return {
    one: (z) => {
      const [f, g] = vgOne(tensor(z, [z.length]));
      return { f: f.item(), g: Float64Array.from(g.dataSync()) };
    },
    batch: (z, P) => {
      const [, g] = vgBatch(tensor(z, [P, z.length / P]));
      return { f: Float64Array.from((perPoint as unknown as Tensor).dataSync()), g: Float64Array.from(g.dataSync()) };
    },
  };
}

/** Symmetric Hessian of U at x by central differences of the gradient (2d points, one batch). */
export function fdHessian(bg: BatchGrad, x: Float64Array): Float64Array {
  const d = x.length;
  const pts = new Float64Array(2 * d * d);
  const eps = Float64Array.from(x, (v) => 1e-5 * Math.max(1, Math.abs(v)));
  for (let i = 0; i < d; i++) {
    pts.set(x, 2 * i * d);
    pts.set(x, (2 * i + 1) * d);
    pts[2 * i * d + i] += eps[i];
    pts[(2 * i + 1) * d + i] -= eps[i];
  }
  const { g } = bg(pts, 2 * d);
  const h = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) h[j * d + i] = (g[2 * i * d + j] - g[(2 * i + 1) * d + j]) / (2 * eps[i]);
  for (let i = 0; i < d; i++)
    for (let j = 0; j < i; j++) {
      const v = 0.5 * (h[i * d + j] + h[j * d + i]);
      h[i * d + j] = v;
      h[j * d + i] = v;
    }
  return h;
}

/**
 * The MAP by L-BFGS, polished by safeguarded Newton steps with the finite-difference Hessian;
 * converged when the Newton step is below `tol` posterior sds (√diag H⁻¹) in every coordinate.
 */
function findMode(
  fns: { one: ValueGrad; batch: BatchGrad },
  x0: Float64Array,
  tol = 1e-4,
): { x: Float64Array; hess: Float64Array | null; chol: Float64Array | null; iterations: number; converged: boolean; reason: string } {
  const safe = backOff(fns.one);
  const r = lbfgs(safe, x0, { maxIter: 300 });
  let x = r.x;
  let { f, g } = fns.one(x);
  const d = x.length;
  let reason = '';
  for (let it = 0; it < 8; it++) {
    let h: Float64Array;
    try {
      h = fdHessian(fns.batch, x);
    } catch (e) {
      if (!(e instanceof VarinfError)) throw e;
      h = new Float64Array(d * d).fill(NaN);
    }
    const l = choleskyHost(h, d);
    if (l === null) {
      reason = `the Hessian of −log p is not positive definite after ${r.iterations} L-BFGS and ${it} Newton iterations: no MAP (a funnel or a boundary)`;
      return { x, hess: null, chol: null, iterations: r.iterations + it, converged: false, reason };
    }
    const inv = invFromChol(l, d);
    const step = new Float64Array(d);
    let worst = 0;
    for (let i = 0; i < d; i++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += inv[i * d + j] * g[j];
      step[i] = -s;
      worst = Math.max(worst, Math.abs(s) / Math.sqrt(inv[i * d + i]));
    }
    if (worst < tol) return { x, hess: h, chol: l, iterations: r.iterations + it, converged: true, reason: 'converged' };
    let t = 1;
    let moved = false;
    for (let ls = 0; ls < 30; ls++) {
      const xn = x.map((v, i) => v + t * step[i]);
      const nx = safe(xn);
      if (Number.isFinite(nx.f) && nx.f <= f + 1e-12 * Math.abs(f)) {
        x = xn;
        f = nx.f;
        g = nx.g;
        moved = true;
        break;
      }
      t *= 0.5;
    }
    if (!moved) {
      reason = `Newton steps stalled ${worst.toExponential(2)} sds from a mode`;
      return { x, hess: null, chol: null, iterations: r.iterations + it, converged: false, reason };
    }
  }
  return { x, hess: null, chol: null, iterations: r.iterations + 8, converged: false, reason: 'Newton did not converge in 8 iterations' };
}

// ---------------------------------------------------------------------------------------------
// Preconditioning of the updates: whitened locations, per-coordinate scales elsewhere.

/** The location leaves of a guide, in latent order: name, offset in the flat vector, size, shape. */
function locLeaves(guide: AutoGuide<unknown[]>): { name: string; off: number; n: number; shape: number[] }[] {
  const pre = guide.prefix;
  if (guide instanceof AutoNormal) return offsets(guide).map((s) => ({ ...s, name: `${pre}_${s.name}_loc` }));
  const d = offsets(guide).reduce((a, s) => a + s.n, 0);
  return [{ name: `${pre}_loc`, off: 0, n: d, shape: [d] }];
}

/**
 * Full-matrix preconditioning of the guide's location: with Σ = L Lᵀ the (Laplace) posterior
 * covariance, gradients go in as Lᵀg and updates come out as L u, so Adam works in whitened
 * coordinates where the curvature is about the identity and every direction converges at the
 * same rate. `side` 'in' or 'out'; other leaves pass through ('in') or are scaled by `diag` ('out').
 */
function whiten(
  locs: { name: string; off: number; n: number; shape: number[] }[],
  lTensor: Tensor,
  side: 'in' | 'out',
  diag: Record<string, Tensor>,
): GradientTransformation<Record<string, never>> {
  const d = lTensor.shape[0];
  const locNames = new Set(locs.map((l) => l.name));
  return {
    init: () => ({}),
    update: (u, s) => {
      const rec = u as unknown as Record<string, Tensor>;
      const flat = reshape(concat(locs.map((l) => reshape(rec[l.name], [l.n])), 0), [1, d]);
      // in: (Lᵀ g)ᵀ = gᵀ L;  out: (L u)ᵀ = uᵀ Lᵀ.
      const w = side === 'in' ? matmul(flat, lTensor) : matmul(flat, lTensor, { transB: true });
      const out: Record<string, Tensor> = {};
      for (const [name, t] of Object.entries(rec)) out[name] = locNames.has(name) || side === 'in' ? t : mul(t, diag[name]);
      for (const l of locs) out[l.name] = reshape(slice(w, [0, l.off], [1, l.n]), l.shape);
      return [out as unknown as typeof u, s];
    },
  };
}

// ---------------------------------------------------------------------------------------------

function makeGuide<A extends unknown[]>(model: ModelFn<A>, g: FitOptions['guide'], opts: AutoGuideOptions): AutoGuide<A> {
  if (g instanceof AutoGuide) return g as unknown as AutoGuide<A>;
  switch (g ?? 'normal') {
    case 'normal':
      return new AutoNormal<A>(model, opts);
    case 'mvn':
      return new AutoMultivariateNormal<A>(model, opts);
    case 'lowrank':
      return new AutoLowRankMultivariateNormal<A>(model, opts);
    default:
      throw new ValueError(`fit: unknown guide '${String(g)}'; use 'normal', 'mvn', 'lowrank' or an AutoGuide`);
  }
}

/** Site offsets in the flat latent vector. */
function offsets(guide: AutoGuide<unknown[]>): { name: string; off: number; n: number; shape: number[] }[] {
  let off = 0;
  return guide.sites.map((s) => {
    const n = sizeOf(s.uncShape);
    const r = { name: s.name, off, n, shape: s.uncShape };
    off += n;
    return r;
  });
}

/** Unconstrained guide parameters at N(loc, cov) (`current` unconstrained; others kept). */
function laplaceParams(
  guide: AutoGuide<unknown[]>,
  current: Record<string, Tensor>,
  loc: Float64Array,
  cov: Float64Array | null,
  hess: Float64Array | null,
): Record<string, Tensor> {
  const d = loc.length;
  const p = { ...current };
  const pre = guide.prefix;
  if (guide instanceof AutoNormal) {
    for (const s of offsets(guide)) {
      p[`${pre}_${s.name}_loc`] = tensor(loc.slice(s.off, s.off + s.n), s.shape);
      if (hess !== null) p[`${pre}_${s.name}_scale`] = tensor(Float64Array.from({ length: s.n }, (_, i) => -0.5 * Math.log(hess[(s.off + i) * (d + 1)])), s.shape);
    }
  } else {
    p[`${pre}_loc`] = tensor(loc, [d]);
    if (cov !== null && guide instanceof AutoMultivariateNormal) {
      // L = diag(σ)·T with σᵢ the row norms of chol(cov) (the marginal sds) and T = diag(σ)⁻¹ L.
      const l = choleskyHost(cov, d) as Float64Array;
      const sd = Float64Array.from({ length: d }, (_, i) => Math.sqrt(cov[i * (d + 1)]));
      const t = Float64Array.from(l, (v, k) => v / sd[Math.floor(k / d)]);
      p[`${pre}_scale`] = tensor(Float64Array.from(sd, (v) => Math.log(v)), [d]);
      p[`${pre}_scale_tril`] = bijectTo(lowerCholesky).inverse(tensor(t, [d, d]));
    } else if (cov !== null && guide instanceof AutoLowRankMultivariateNormal) {
      p[`${pre}_scale`] = tensor(Float64Array.from({ length: d }, (_, i) => 0.5 * Math.log(cov[i * (d + 1)])), [d]);
    }
  }
  return p;
}

/** Marginal sds of the guide's unconstrained latent coordinates, from constrained params. */
function guideSds(guide: AutoGuide<unknown[]>, params: Record<string, Tensor>): Float64Array {
  const pre = guide.prefix;
  const offs = offsets(guide);
  const d = offs.reduce((a, s) => a + s.n, 0);
  const sd = new Float64Array(d);
  if (guide instanceof AutoNormal) {
    for (const s of offs) sd.set(params[`${pre}_${s.name}_scale`].dataSync(), s.off);
  } else if (guide instanceof AutoMultivariateNormal) {
    const t = params[`${pre}_scale_tril`].dataSync();
    const sc = params[`${pre}_scale`].dataSync();
    for (let i = 0; i < d; i++) {
      let v = 0;
      for (let j = 0; j <= i; j++) v += t[i * d + j] ** 2;
      sd[i] = sc[i] * Math.sqrt(v);
    }
  } else if (guide instanceof AutoLowRankMultivariateNormal) {
    const w = params[`${pre}_cov_factor`];
    const r = w.shape[1];
    const wd = w.dataSync();
    const dg = params[`${pre}_scale`].dataSync();
    // The factor is relative to the scale: row i of the covariance factor is σᵢ·Wᵢ.
    for (let i = 0; i < d; i++) {
      let v = 1;
      for (let j = 0; j < r; j++) v += wd[i * r + j] ** 2;
      sd[i] = dg[i] * Math.sqrt(v);
    }
  } else sd.fill(1);
  return sd;
}

/** Per-leaf update scales: locations by the latent sds, log-scales by 1, factors by their row's sd. */
function preconditioner(guide: AutoGuide<unknown[]>, params: Record<string, Tensor>, sd: Float64Array): Record<string, Tensor> {
  const pre = guide.prefix;
  const d = sd.length;
  const out: Record<string, Tensor> = {};
  for (const [name, u] of Object.entries(params)) out[name] = mul(zerosLike(u), 0);
  const set = (name: string, v: Float64Array): void => {
    if (params[name] !== undefined) out[name] = tensor(v, params[name].shape);
  };
  if (guide instanceof AutoNormal) {
    for (const s of offsets(guide)) {
      set(`${pre}_${s.name}_loc`, sd.slice(s.off, s.off + s.n));
      set(`${pre}_${s.name}_scale`, new Float64Array(s.n).fill(1));
    }
  } else {
    set(`${pre}_loc`, sd.slice());
    if (guide instanceof AutoMultivariateNormal) {
      const v = new Float64Array((d * (d + 1)) / 2);
      let k = 0;
      // Adam's early steps are sign-like in every entry: a row's d − 1 entries would move its norm by
      // lr·sd·√d, so each entry gets sd/√d.
      // T's rows are already in units of their scale σᵢ.
      for (let i = 1; i < d; i++) for (let j = 0; j < i; j++) v[k++] = 1 / Math.sqrt(d);
      for (let i = 0; i < d; i++) v[k++] = 1;
      set(`${pre}_scale_tril`, v);
      set(`${pre}_scale`, new Float64Array(d).fill(1));
    } else if (guide instanceof AutoLowRankMultivariateNormal) {
      const r = params[`${pre}_cov_factor`].shape[1];
      // W is already in units of each row's scale.
      set(`${pre}_cov_factor`, new Float64Array(d * r).fill(1 / Math.sqrt(r)));
      set(`${pre}_scale`, new Float64Array(d).fill(1));
    }
  }
  // Any other parameter (a model param) keeps plain Adam units.
  for (const [name, u] of Object.entries(params)) if (leaves(out[name]).every((t) => t.dataSync().every((x) => x === 0))) out[name] = add(zerosLike(u), 1);
  return out;
}

/**
 * Whether the iterates still drift: per coordinate t² = (θ_end − θ_start)² / (κ Σ Δθ²) over a
 * window, with κ = (1 + β₁)/(1 − β₁) = 3 for Adam's momentum-correlated steps (β₁ = 0.5). A random walk
 * around the optimum gives mean t² ≤ 1; a drift gives t² of the order of the window length.
 * `moved` is the largest net move in units of the preconditioner (sds).
 */
function driftCheck(
  start: Record<string, Tensor>,
  end: Record<string, Tensor>,
  sq: Record<string, Tensor>,
  pre: Record<string, Tensor>,
): { t2: number; moved: number } {
  let acc = 0;
  let n = 0;
  let moved = 0;
  for (const name of Object.keys(end)) {
    const a = start[name].dataSync();
    const b = end[name].dataSync();
    const q = sq[name].dataSync();
    const s = pre[name].dataSync();
    for (let j = 0; j < b.length; j++) {
      const dlt = b[j] - a[j];
      acc += q[j] > 0 ? (dlt * dlt) / (KAPPA * q[j]) : 0;
      n++;
      moved = Math.max(moved, Math.abs(dlt) / (s[j] > 0 ? s[j] : 1));
    }
  }
  return { t2: acc / Math.max(1, n), moved };
}

/**
 * Fits an autoguide to `model(...args)` with the recipe above and reports diagnostics.
 * @example
 * const r = fit(eightSchoolsNoncentered, [data], { guide: 'mvn', key: key(0) });
 * r.summary.tau.mean; r.khat; r.khatText
 */
export function fit<A extends unknown[]>(model: ModelFn<A>, args: A, opts: FitOptions): FitResult<A> {
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
    let state: SVIState = { params: unc, optState: optim.init(unc), step, key };
    let avg: Record<string, Tensor> | null = null;
    let nAvg = 0;
    const avgFrom = Math.floor(phase.minSteps / 2);
    let failures = 0;
    // Drift test over each window: start point and Σ of squared steps, per coordinate.
    let winStart = state.params;
    let sq = mapLeaves(state.params, (t) => zerosLike(t));
    for (let i = 0; i < phase.maxSteps; i++) {
      let r: { state: SVIState; loss: number };
      try {
        r = svi.update(state, ...args);
        failures = 0;
      } catch (e) {
        // A non-finite draw (a far tail of q): skip it with a fresh key; give up if it persists.
        if (!(e instanceof VarinfError) || ++failures > 20) throw e;
        state = { ...state, step: state.step + 1 };
        continue;
      }
      const prev = state.params;
      state = r.state;
      losses.push(r.loss);
      const cur = state.params;
      sq = mapLeaves(sq, (a, j) => add(a, square(sub(leaves(cur)[j] as Tensor, leaves(prev)[j] as Tensor))));
      if (last && i >= avgFrom) {
        nAvg++;
        avg = avg === null ? { ...cur } : mapLeaves(avg, (a, j) => add(a, leaves(cur)[j] as Tensor));
      }
      if ((i + 1) % every === 0) {
        const { t2, moved } = driftCheck(winStart, cur, sq, pre);
        opts.onProgress?.({ phase: pi, step: state.step, loss: meanTail(losses, every), drift: t2 });
        winStart = cur;
        sq = mapLeaves(sq, (t) => zerosLike(t));
        // The loss must have stopped falling too: consecutive window means within 2 standard errors.
        const flat = lossFlat(losses, every);
        if (i + 1 >= phase.minSteps && flat && (t2 < driftTol || moved < 1e-3)) break;
      }
    }
    step = state.step;
    key = foldIn(state.key, pi + 1);
    params = avg !== null && nAvg > 0 ? mapLeaves(avg, (a) => mul(a, 1 / nAvg)) : state.params;
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

/**
 * `fg`, with a point where the density is invalid (a scale underflowing to 0 in a funnel, a far
 * draw) scored +∞ with a zero gradient, so that a line search backs off instead of throwing.
 */
function backOff(fg: ValueGrad): ValueGrad {
  return (z) => {
    try {
      return fg(z);
    } catch (e) {
      if (e instanceof VarinfError) return { f: Infinity, g: new Float64Array(z.length) };
      throw e;
    }
  };
}

/**
 * The Gaussian q = N(m, L Lᵀ) (L lower triangular, or diagonal for a mean-field guide) that
 * minimizes the sample-average loss over N fixed antithetic draws ±εₙ ~ N(0, I):
 *   F(m, L) = (1/N) Σₙ U(m + L εₙ) − log|det L|,
 * with ∂F/∂m = mean ∇U(zₙ) and ∂F/∂L = mean ∇U(zₙ) εₙᵀ − L⁻ᵀ, by L-BFGS over (m, the strict lower
 * triangle, log diag L). With the draws fixed the loss is deterministic (deterministic ADVI,
 * Giordano, Ingram & Broderick 2024); its minimizer is within O(1/√N) of the ELBO's, and the
 * antithetic pairs cancel the odd-order terms of that error.
 */
function sampleAverageGaussian(
  bg: BatchGrad,
  m0: Float64Array,
  l0: Float64Array,
  fullRank: boolean,
  draws: number,
  key: Key,
): { m: Float64Array; l: Float64Array; iterations: number } | null {
  const d = m0.length;
  const half = Math.max(1, Math.floor(draws / 2));
  const n = 2 * half;
  const e0 = normal(key, [half, d], { dtype: 'float64' }).dataSync();
  const eps = new Float64Array(n * d);
  for (let k = 0; k < half * d; k++) {
    eps[k] = e0[k];
    eps[half * d + k] = -e0[k];
  }
  // Free coordinates: m, then L's entries (row-major lower triangle, or the diagonal), the diagonal as its log.
  const cells: [number, number][] = [];
  for (let i = 0; i < d; i++) for (let j = fullRank ? 0 : i; j <= i; j++) cells.push([i, j]);
  const toL = (x: Float64Array): Float64Array => {
    const l = new Float64Array(d * d);
    cells.forEach(([i, j], k) => (l[i * d + j] = i === j ? Math.exp(x[d + k]) : x[d + k]));
    return l;
  };
  const z = new Float64Array(n * d);
  const fg: ValueGrad = (x) => {
    const l = toL(x);
    for (let s = 0; s < n; s++)
      for (let i = 0; i < d; i++) {
        let v = x[i];
        for (let j = 0; j <= i; j++) v += l[i * d + j] * eps[s * d + j];
        z[s * d + i] = v;
      }
    const grad = new Float64Array(x.length);
    const r = bg(z, n);
    let f = 0;
    for (let s = 0; s < n; s++) f += r.f[s];
    f /= n;
    for (let s = 0; s < n; s++) for (let i = 0; i < d; i++) grad[i] += r.g[s * d + i] / n;
    cells.forEach(([i, j], k) => {
      let v = 0;
      for (let s = 0; s < n; s++) v += r.g[s * d + i] * eps[s * d + j];
      v /= n;
      if (i === j) {
        f -= x[d + k];
        grad[d + k] = v * l[i * d + i] - 1;
      } else grad[d + k] = v;
    });
    return { f: Number.isFinite(f) && grad.every(Number.isFinite) ? f : Infinity, g: grad };
  };
  const x0 = new Float64Array(d + cells.length);
  x0.set(m0);
  cells.forEach(([i, j], k) => (x0[d + k] = i === j ? Math.log(l0[i * d + i]) : l0[i * d + j]));
  // A far draw with a non-finite density: the line search backs off.
  const safe = backOff(fg);
  if (!Number.isFinite(safe(x0).f)) return null;
  const r = lbfgs(safe, x0, { maxIter: 500, gtol: 1e-6 });
  return { m: r.x.slice(0, d), l: toL(r.x), iterations: r.iterations };
}

/** The guide's q = N(m, L Lᵀ) over the flat latent vector (constrained params), or null for other guides. */
function guideGaussian(guide: AutoGuide<unknown[]>, params: Record<string, Tensor>): { m: Float64Array; l: Float64Array; fullRank: boolean } | null {
  const pre = guide.prefix;
  const offs = offsets(guide);
  const d = offs.reduce((a, s) => a + s.n, 0);
  if (guide instanceof AutoNormal) {
    const m = new Float64Array(d);
    const l = new Float64Array(d * d);
    for (const s of offs) {
      m.set(params[`${pre}_${s.name}_loc`].dataSync(), s.off);
      const sc = params[`${pre}_${s.name}_scale`].dataSync();
      for (let i = 0; i < s.n; i++) l[(s.off + i) * (d + 1)] = sc[i];
    }
    return { m, l, fullRank: false };
  }
  if (guide instanceof AutoMultivariateNormal) {
    const t = params[`${pre}_scale_tril`].dataSync();
    const sc = params[`${pre}_scale`].dataSync();
    return { m: Float64Array.from(params[`${pre}_loc`].dataSync()), l: Float64Array.from(t, (v, k) => v * sc[Math.floor(k / d)]), fullRank: true };
  }
  return null;
}

function concatInit<A extends unknown[]>(lap: AutoLaplaceApproximation<A>): Tensor {
  const parts = lap.sites.map((s) => Array.from(s.init.dataSync()));
  return tensor(Float64Array.from(parts.flat()), [parts.reduce((a, p) => a + p.length, 0)]);
}

function diagTensor(v: Float64Array): Tensor {
  const d = v.length;
  const m = new Float64Array(d * d);
  for (let i = 0; i < d; i++) m[i * (d + 1)] = v[i];
  return tensor(m, [d, d]);
}

function latentSds(cov: Float64Array): Float64Array {
  const d = Math.round(Math.sqrt(cov.length));
  return Float64Array.from({ length: d }, (_, i) => Math.sqrt(cov[i * (d + 1)]));
}

/** Whether the mean loss of the last window is within 2 standard errors of the window before. */
function lossFlat(a: number[], w: number): boolean {
  if (a.length < 2 * w) return false;
  const stats = (from: number): [number, number] => {
    let m = 0;
    for (let i = from; i < from + w; i++) m += a[i];
    m /= w;
    let v = 0;
    for (let i = from; i < from + w; i++) v += (a[i] - m) ** 2;
    return [m, v / (w - 1)];
  };
  const [m1, v1] = stats(a.length - 2 * w);
  const [m2, v2] = stats(a.length - w);
  return Math.abs(m2 - m1) < 2 * Math.sqrt((v1 + v2) / w);
}

function meanTail(a: number[], n: number): number {
  const k = Math.min(n, a.length);
  let s = 0;
  for (let i = a.length - k; i < a.length; i++) s += a[i];
  return s / Math.max(1, k);
}

/**
 * S draws from the fitted guide (in chunks of vectorized particles) with their log ratios
 * log p(x, z) − log q(z). Draws come back per latent site as [S, ...batch, ...event].
 */
export function evaluateGuide<A extends unknown[]>(
  model: ModelFn<A>,
  args: A,
  guide: AutoGuide<A>,
  params: Record<string, Tensor>,
  S: number,
  key: Key,
  chunk = 500,
): { draws: Record<string, Tensor>; logWeights: Float64Array } {
  if (!Number.isInteger(S) || S < 2) throw new ValueError(`evaluateGuide: S must be an integer >= 2, got ${S}`);
  const logWeights = new Float64Array(S);
  const parts: Record<string, Float64Array[]> = {};
  let done = 0;
  let c = 0;
  while (done < S) {
    const P = Math.max(2, Math.min(chunk, S - done));
    const take = Math.min(P, S - done);
    const { guideTr, modelTr } = getTraces(
      { model, guide: guide.guide, args, params, key: foldIn(key, c++), maxPlateNesting: guide.maxPlateNesting },
      P,
    );
    let lw: Tensor | null = null;
    for (const s of modelTr.values()) if (s.type === 'sample') lw = lw === null ? perParticle(s, P) : add(lw, perParticle(s, P));
    for (const s of guideTr.values()) if (s.type === 'sample') lw = add(lw as Tensor, neg(perParticle(s, P)));
    logWeights.set((lw as Tensor).dataSync().subarray(0, take), done);
    for (const site of guide.sites) {
      const v = (guideTr.get(site.name) as { value: Tensor }).value.dataSync();
      const per = v.length / P;
      (parts[site.name] ??= []).push(Float64Array.from(v.subarray(0, take * per)));
    }
    done += take;
  }
  const draws: Record<string, Tensor> = {};
  for (const site of guide.sites) {
    const flat = new Float64Array(parts[site.name].reduce((a, p) => a + p.length, 0));
    let off = 0;
    for (const p of parts[site.name]) {
      flat.set(p, off);
      off += p.length;
    }
    draws[site.name] = tensor(flat, [S, ...site.batchShape, ...site.eventShape]);
  }
  return { draws, logWeights };
}
