/**
 * Bayesian linear regression y = X w + ε, ε ~ N(0, σ² I), with the conjugate normal–inverse-gamma
 * prior w | σ² ~ N(m₀, σ² Λ₀⁻¹), σ² ~ InvGamma(a₀, b₀), fitted by mean-field CAVI q(w) q(σ²).
 * The exact posterior couples w and σ²; the factorized q cannot, so the ELBO sits strictly below
 * the exact log evidence, which is computed beside it in closed form.
 */
import { ShapeError, ValueError } from '../../core/errors.js';
import { type CaviFactor, type CaviOptions, type CaviTrace, type ConjugateModel, runCavi } from './conjugate.js';
import { asMatrix, checkFinite, cholesky, cholInverse, cholLogdet, cholSolve, digamma, lgamma, quadForm, traceProd } from './dense.js';

const LOG_2PI = Math.log(2 * Math.PI);

/** Prior of `bayesLinReg`. */
export interface BlrPrior {
  /** m₀, length D (default zeros). */
  priorMean?: ArrayLike<number>;
  /** Λ₀: a scalar (times I) or a D × D row-major matrix (default 1). */
  priorPrecision?: number | ArrayLike<number>;
  /** a₀ of InvGamma(a₀, b₀) on σ² (default 1). */
  a0?: number;
  /** b₀ (default 1). */
  b0?: number;
}

/** Options of `bayesLinReg`: the prior, the number of columns when X is flat, and CAVI's options. */
export interface BlrOptions extends BlrPrior, CaviOptions {
  /** Columns of X when it is a flat row-major Float64Array. */
  d?: number;
}

/** A fitted q(w) q(σ²) with its ELBO and the exact evidence and posterior beside it. */
export interface BlrResult {
  /** q(w) = N(mean, cov). */
  mean: Float64Array;
  /** D × D row-major. */
  cov: Float64Array;
  /** q(σ²) = InvGamma(a, b). */
  a: number;
  /** The rate b of q(σ²). */
  b: number;
  /** The final ELBO. */
  elbo: number;
  /** log p(y | X), exact (multivariate Student-t). */
  logEvidence: number;
  /** The exact posterior: w | σ², y ~ N(mean, σ² Λₙ⁻¹), σ² | y ~ InvGamma(aₙ, bₙ). */
  exact: {
    /** Posterior mean of w. */
    mean: Float64Array;
    /** Λₙ (D × D row-major): w | σ², y has covariance σ² Λₙ⁻¹. */
    precision: Float64Array;
    /** aₙ, the shape of the exact σ² | y. */
    a: number;
    /** bₙ, the rate of the exact σ² | y. */
    b: number;
  };
  /** The sweeps' ELBO trace and convergence. */
  trace: CaviTrace;
}

/** The model as CAVI sees it: two factors, each held by natural parameters. @internal */
export class BayesLinRegModel implements ConjugateModel {
  readonly d: number;
  readonly n: number;
  /** q(w) natural parameters: h = Λm (η₁) and the precision Λ (η₂ = −Λ/2). */
  h: Float64Array;
  prec: Float64Array;
  /** q(σ²) = InvGamma(a, b): natural parameters (−a − 1, −b). */
  a: number;
  b: number;
  private readonly xtx: Float64Array;
  private readonly xty: Float64Array;
  private readonly yty: number;
  readonly m0: Float64Array;
  readonly lam0: Float64Array;
  readonly a0: number;
  readonly b0: number;
  private readonly g: Float64Array; // XᵀX + Λ₀
  private readonly gRhs: Float64Array; // Xᵀy + Λ₀ m₀
  private readonly logdetLam0: number;
  readonly factors: readonly CaviFactor[];

  constructor(x: Float64Array, n: number, d: number, y: Float64Array, prior: BlrPrior) {
    this.n = n;
    this.d = d;
    const { a0 = 1, b0 = 1 } = prior;
    if (!(a0 > 0 && b0 > 0 && Number.isFinite(a0) && Number.isFinite(b0)))
      throw new ValueError(`bayesLinReg: a0 and b0 must be positive and finite, got a0 = ${a0}, b0 = ${b0}`);
    this.a0 = a0;
    this.b0 = b0;
    this.m0 = new Float64Array(d);
    if (prior.priorMean !== undefined) {
      if (prior.priorMean.length !== d) throw new ShapeError(`bayesLinReg: priorMean has ${prior.priorMean.length} entries, X has ${d} columns`);
      this.m0.set(Array.from(prior.priorMean));
    }
    this.lam0 = new Float64Array(d * d);
    const p = prior.priorPrecision ?? 1;
    if (typeof p === 'number') {
      if (!(p > 0 && Number.isFinite(p))) throw new ValueError(`bayesLinReg: priorPrecision must be positive, got ${p}`);
      for (let i = 0; i < d; i++) this.lam0[i * d + i] = p;
    } else {
      if (p.length !== d * d) throw new ShapeError(`bayesLinReg: priorPrecision has ${p.length} entries, expected ${d} × ${d}`);
      this.lam0.set(Array.from(p));
    }
    checkFinite('bayesLinReg: priorPrecision', this.lam0);
    this.logdetLam0 = cholLogdet(cholesky(this.lam0, d, 'bayesLinReg: priorPrecision'), d);
    ({ xtx: this.xtx, xty: this.xty, yty: this.yty } = regressionStats(x, y, n, d));
    this.g = new Float64Array(d * d);
    for (let i = 0; i < d * d; i++) this.g[i] = this.xtx[i] + this.lam0[i];
    cholesky(this.g, d, 'bayesLinReg: XᵀX + Λ₀'); // fail early, naming the matrix
    this.gRhs = new Float64Array(d);
    for (let i = 0; i < d; i++) {
      let s = this.xty[i];
      for (let j = 0; j < d; j++) s += this.lam0[i * d + j] * this.m0[j];
      this.gRhs[i] = s;
    }
    // Start from the prior: q(σ²) = InvGamma(a₀, b₀), q(w) = N(m₀, Λ₀⁻¹ b₀/a₀).
    this.a = a0;
    this.b = b0;
    const tau0 = a0 / b0;
    this.prec = this.lam0.map((v) => v * tau0);
    this.h = new Float64Array(d);
    for (let i = 0; i < d; i++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += this.prec[i * d + j] * this.m0[j];
      this.h[i] = s;
    }
    this.factors = [
      { name: 'q(w)', update: () => this.updateW() },
      { name: 'q(σ²)', update: () => this.updateSigma2() },
    ];
  }

  /** log q(w) ∝ E[log p]: precision E[1/σ²](XᵀX + Λ₀), h = E[1/σ²](Xᵀy + Λ₀ m₀). */
  private updateW(): void {
    const tau = this.a / this.b;
    for (let i = 0; i < this.g.length; i++) this.prec[i] = tau * this.g[i];
    for (let i = 0; i < this.d; i++) this.h[i] = tau * this.gRhs[i];
  }

  /** log q(σ²) ∝ E[log p]: a = a₀ + (N + D)/2, b = b₀ + ½ E‖y − Xw‖² + ½ E[(w − m₀)ᵀΛ₀(w − m₀)]. */
  private updateSigma2(): void {
    const { mean, cov } = this.moments();
    this.a = this.a0 + (this.n + this.d) / 2;
    this.b = this.b0 + 0.5 * this.expectedResidual(mean, cov);
  }

  /** E_q(w)[‖y − Xw‖² + (w − m₀)ᵀΛ₀(w − m₀)] = yᵀy − 2mᵀXᵀy + mᵀXᵀXm + (m − m₀)ᵀΛ₀(m − m₀) + tr((XᵀX + Λ₀)S). */
  private expectedResidual(m: Float64Array, s: Float64Array): number {
    let mxty = 0;
    for (let i = 0; i < this.d; i++) mxty += m[i] * this.xty[i];
    return this.yty - 2 * mxty + quadForm(this.xtx, this.d, m) + quadForm(this.lam0, this.d, m, this.m0) + traceProd(this.g, s, this.d);
  }

  /** Mean and covariance of q(w) from its natural parameters. */
  moments(): { mean: Float64Array; cov: Float64Array; logdetCov: number } {
    const l = cholesky(this.prec, this.d, 'bayesLinReg: q(w) precision');
    return { mean: cholSolve(l, this.d, this.h.slice()), cov: cholInverse(l, this.d), logdetCov: -cholLogdet(l, this.d) };
  }

  elbo(): number {
    const { n, d, a, b, a0, b0 } = this;
    const { mean, cov, logdetCov } = this.moments();
    const eLogS2 = Math.log(b) - digamma(a); // E[log σ²]
    const eInvS2 = a / b; // E[1/σ²]
    const ll = -0.5 * (n + d) * (LOG_2PI + eLogS2) + 0.5 * this.logdetLam0 - 0.5 * eInvS2 * this.expectedResidual(mean, cov);
    const lpS2 = a0 * Math.log(b0) - lgamma(a0) - (a0 + 1) * eLogS2 - b0 * eInvS2;
    const hW = 0.5 * d * (1 + LOG_2PI) + 0.5 * logdetCov;
    const hS2 = a + Math.log(b) + lgamma(a) - (1 + a) * digamma(a);
    return ll + lpS2 + hW + hS2;
  }

  /** The exact posterior and log evidence. */
  exact(): { mean: Float64Array; precision: Float64Array; a: number; b: number; logEvidence: number } {
    const { n, d, a0, b0 } = this;
    const lg = cholesky(this.g, d, 'bayesLinReg: XᵀX + Λ₀');
    const mean = cholSolve(lg, d, this.gRhs.slice());
    const an = a0 + n / 2;
    const bn = b0 + 0.5 * (this.yty + quadForm(this.lam0, d, this.m0) - quadForm(this.g, d, mean));
    const logEvidence =
      -0.5 * n * LOG_2PI + 0.5 * this.logdetLam0 - 0.5 * cholLogdet(lg, d) + a0 * Math.log(b0) - an * Math.log(bn) + lgamma(an) - lgamma(a0);
    return { mean, precision: this.g.slice(), a: an, b: bn, logEvidence };
  }
}

/**
 * Fits q(w) q(σ²) by CAVI. X is N × D (rows of number[] or a flat Float64Array with `d`), y has N
 * entries. At the fixed point q(w) = N(mₙ, Λₙ⁻¹ bₙ/aₙ) and q(σ²) = InvGamma(aₙ + D/2, (aₙ + D/2) bₙ/aₙ),
 * where (mₙ, Λₙ, aₙ, bₙ) is the exact posterior. Throws ValueError on NaN/Inf input, ShapeError on
 * mismatched lengths.
 * @example const fit = bayesLinReg([[1, 0.5], [1, -0.2], [1, 1.3]], [0.9, 0.1, 1.8]); fit.logEvidence - fit.elbo // the gap, >= 0
 */
export function bayesLinReg(x: Float64Array | readonly (readonly number[])[], y: ArrayLike<number>, opts: BlrOptions = {}): BlrResult {
  const m = asMatrix('bayesLinReg: X', x, opts.d);
  if (y.length !== m.n) throw new ShapeError(`bayesLinReg: X has ${m.n} rows but y has ${y.length} entries`);
  const yy = Float64Array.from(y as ArrayLike<number>);
  checkFinite('bayesLinReg: y', yy);
  const model = new BayesLinRegModel(m.data, m.n, m.d, yy, opts);
  const trace = runCavi(model, opts);
  const { mean, cov } = model.moments();
  const ex = model.exact();
  return {
    mean,
    cov,
    a: model.a,
    b: model.b,
    elbo: trace.elbo,
    logEvidence: ex.logEvidence,
    exact: { mean: ex.mean, precision: ex.precision, a: ex.a, b: ex.b },
    trace,
  };
}

/**
 * @internal The sufficient statistics of a linear-Gaussian regression on rows x (n × d, row-major)
 * and targets y: XᵀX (d × d, symmetric), Xᵀy and yᵀy.
 */
export function regressionStats(x: Float64Array, y: Float64Array, n: number, d: number): { xtx: Float64Array; xty: Float64Array; yty: number } {
  const xtx = new Float64Array(d * d);
  const xty = new Float64Array(d);
  let yty = 0;
  for (let r = 0; r < n; r++) {
    const yr = y[r];
    yty += yr * yr;
    const o = r * d;
    for (let i = 0; i < d; i++) {
      const xi = x[o + i];
      xty[i] += xi * yr;
      for (let j = 0; j <= i; j++) xtx[i * d + j] += xi * x[o + j];
    }
  }
  for (let i = 0; i < d; i++) for (let j = 0; j < i; j++) xtx[j * d + i] = xtx[i * d + j];
  return { xtx, xty, yty };
}
