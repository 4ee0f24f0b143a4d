/**
 * Bayesian linear regression on scikit-learn's diabetes data, fitted two ways:
 *
 *   y ~ N(b + Xs w, σ²),   w ~ N(0, τ² I),   b ~ N(0, τ_b²)
 *
 * with Xs the ten features rescaled to unit standard deviation and σ fixed to the OLS residual
 * standard deviation. The posterior is Gaussian, so its mean has a closed form,
 *
 *   (AᵀA/σ² + diag(1/τ_b², 1/τ², …)) m = Aᵀy/σ²,   A = [1 | Xs],
 *
 * solved here with a Cholesky factor; and it is also the maximum of the log posterior, found by
 * gradient ascent with `valueAndGrad` and Nesterov momentum. The two must agree.
 */
import { readFileSync } from 'node:fs';
import {
  add,
  cholesky,
  choleskySolve,
  concat,
  diagEmbed,
  diagonal,
  div,
  eye,
  getBackend,
  matmul,
  mul,
  ones,
  reshape,
  sqrt,
  sub,
  sum,
  tensor,
  type Tensor,
  tidy,
  valueAndGrad,
} from 'varinf';

/** The dataset as stored in examples/data/diabetes.json (written by scripts/fixtures/diabetes.py). */
export interface Diabetes {
  readonly featureNames: string[];
  readonly n: number;
  readonly p: number;
  /** Rows of the standardized features (each column centred, unit Euclidean norm). */
  readonly X: number[][];
  /** Disease progression one year after baseline. */
  readonly y: number[];
  /** NumPy's answer for the same model, for the test. */
  readonly reference: { tau: number; tauB: number; sigma: number; mean: number[]; sd: number[] };
}

/** Reads the diabetes fixture shipped with the examples. */
export function loadDiabetes(): Diabetes {
  return JSON.parse(readFileSync(new URL('./data/diabetes.json', import.meta.url), 'utf8')) as Diabetes;
}

export interface BlrOptions {
  /** Prior standard deviation of each slope (in units of y per standard deviation of a feature). */
  tau?: number;
  /** Prior standard deviation of the intercept. */
  tauB?: number;
  /** Most gradient steps. */
  maxSteps?: number;
  /** Stops when no parameter moved more than this in one step. */
  tol?: number;
  /** Momentum of the Nesterov steps. */
  momentum?: number;
}

export interface BlrFit {
  /** 'intercept' then the feature names. */
  names: string[];
  /** The posterior mean found by gradient ascent, intercept first. */
  ascentMean: number[];
  /** The closed-form posterior mean, intercept first. */
  exactMean: number[];
  /** The closed-form posterior standard deviations, intercept first. */
  exactSd: number[];
  /** max |ascentMean − exactMean|. */
  maxAbsDiff: number;
  sigma: number;
  tau: number;
  tauB: number;
  /** Gradient steps taken, and the log posterior (up to a constant) at the end. */
  steps: number;
  logPosterior: number;
  backend: string;
  /** Wall time of the gradient ascent and of the closed form, in milliseconds. */
  ascentMs: number;
  exactMs: number;
}

type Params = { b: Tensor; w: Tensor };

/** The design pieces both fits share, as float64 tensors. */
function design(data: Diabetes): { xs: Tensor; y: Tensor; a: Tensor } {
  const xs = mul(tensor(data.X), Math.sqrt(data.n)); // unit-norm columns → unit standard deviation
  const y = tensor(data.y);
  const a = concat([ones([data.n, 1]), xs], 1);
  return { xs, y, a };
}

/** The OLS residual standard deviation √(RSS / (n − p − 1)). */
function olsSigma(a: Tensor, y: Tensor, n: number, p: number): number {
  const yc = reshape(y, [n, 1]);
  const coef = choleskySolve(cholesky(matmul(a, a, { transA: true })), matmul(a, yc, { transA: true }));
  const r = sub(yc, matmul(a, coef));
  return Math.sqrt(sum(mul(r, r)).item() / (n - p - 1));
}

/** The closed-form posterior mean and standard deviations, intercept first. */
export function exactPosterior(a: Tensor, y: Tensor, sigma: number, priorPrecision: number[]): { mean: number[]; sd: number[] } {
  return tidy(() => {
    const [n, d] = a.shape;
    const s2 = sigma * sigma;
    const h = add(div(matmul(a, a, { transA: true }), s2), diagEmbed(tensor(priorPrecision)));
    const l = cholesky(h);
    const mean = choleskySolve(l, div(matmul(a, reshape(y, [n, 1]), { transA: true }), s2));
    const cov = choleskySolve(l, eye(d));
    return { mean: Array.from(mean.dataSync()), sd: Array.from(sqrt(diagonal(cov)).dataSync()) };
  });
}

/** log p(b, w | y) up to a constant. */
function logPosterior(params: Params, xs: Tensor, y: Tensor, sigma: number, tau: number, tauB: number): Tensor {
  const r = sub(y, add(matmul(xs, params.w), params.b));
  const lik = mul(sum(mul(r, r)), -0.5 / (sigma * sigma));
  const prior = add(mul(sum(mul(params.w, params.w)), -0.5 / (tau * tau)), mul(mul(params.b, params.b), -0.5 / (tauB * tauB)));
  return add(lik, prior);
}

/**
 * Fits the model by gradient ascent and in closed form and compares them.
 * The step size is 1/trace(H), H the negative Hessian of the log posterior: trace(H) bounds
 * H's largest eigenvalue, so the steps are stable without knowing the spectrum.
 */
export function fitDiabetes(data: Diabetes = loadDiabetes(), opts: BlrOptions = {}): BlrFit {
  const tau = opts.tau ?? 20;
  const tauB = opts.tauB ?? 1000;
  const maxSteps = opts.maxSteps ?? 5000;
  const tol = opts.tol ?? 1e-12;
  const beta = opts.momentum ?? 0.9;
  const { n, p } = data;
  const { xs, y, a } = design(data);

  const t0 = performance.now();
  const sigma = olsSigma(a, y, n, p);
  const precision = [1 / (tauB * tauB), ...new Array<number>(p).fill(1 / (tau * tau))];
  const exact = exactPosterior(a, y, sigma, precision);
  const exactMs = performance.now() - t0;

  // trace(H) = Σ_ij A_ij² / σ² + Σ prior precisions; with unit-variance columns Σ A² = n(p + 1).
  const traceH = (n * (p + 1)) / (sigma * sigma) + precision.reduce((s, v) => s + v, 0);
  const eta = 1 / traceH;
  const vg = valueAndGrad((q: Params) => logPosterior(q, xs, y, sigma, tau, tauB));

  const t1 = performance.now();
  let theta: Params = { b: tensor(0), w: tensor(new Float64Array(p)) };
  let vel: Params = { b: tensor(0), w: tensor(new Float64Array(p)) };
  let steps = 0;
  let lp = NaN;
  while (steps < maxSteps) {
    steps++;
    const next = tidy(() => {
      // Nesterov: the gradient at the look-ahead point θ + βv.
      const look = { b: add(theta.b, mul(vel.b, beta)), w: add(theta.w, mul(vel.w, beta)) };
      const [value, g] = vg(look);
      const v = { b: add(mul(vel.b, beta), mul(g.b, eta)), w: add(mul(vel.w, beta), mul(g.w, eta)) };
      return { theta: { b: add(theta.b, v.b), w: add(theta.w, v.w) }, vel: v, value };
    });
    theta = next.theta;
    vel = next.vel;
    lp = next.value.item();
    const moved = Math.max(Math.abs(vel.b.item()), ...Array.from(vel.w.dataSync(), Math.abs));
    if (moved < tol) break;
  }
  const ascentMean = [theta.b.item(), ...Array.from(theta.w.dataSync())];
  const ascentMs = performance.now() - t1;

  let maxAbsDiff = 0;
  for (let i = 0; i <= p; i++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(ascentMean[i] - exact.mean[i]));
  return {
    names: ['intercept', ...data.featureNames],
    ascentMean,
    exactMean: exact.mean,
    exactSd: exact.sd,
    maxAbsDiff,
    sigma,
    tau,
    tauB,
    steps,
    logPosterior: lp,
    backend: getBackend(),
    ascentMs,
    exactMs,
  };
}
