/**
 * PSIS-LOO: approximate leave-one-out cross-validation from posterior (or variational) draws, by
 * Pareto-smoothed importance sampling with ratios 1 / p(y_i | θ_s) (Vehtari, Gelman & Gabry,
 * "Practical Bayesian model evaluation using leave-one-out cross-validation and WAIC",
 * Statistics and Computing 2017).
 */
import { ValueError } from '../core/errors.js';
import { khatThreshold, logSumExp, psis, toMatrix, type DrawMatrix, type PsisOptions } from './psis.js';

/** Options of {@link loo}. */
export type LooOptions = PsisOptions;

/** The result of {@link loo}. Sums are over the N observations. */
export interface LooResult {
  /** elpd_loo = Σ_i elpd_i, the estimated expected log pointwise predictive density. */
  elpdLoo: number;
  /** Standard error of elpd_loo, √(N · Var_i(elpd_i)) with the population variance (as ArviZ). */
  se: number;
  /** Effective number of parameters p_loo = lppd − elpd_loo. */
  pLoo: number;
  /** Log pointwise predictive density of the full posterior, Σ_i log((1/S) Σ_s p(y_i | θ_s)). */
  lppd: number;
  /** LOO information criterion on the deviance scale, −2 elpd_loo. */
  looic: number;
  /** Per-observation values, each of length N. */
  pointwise: {
    /** elpd_i = log Σ_s w̃_is p(y_i | θ_s). */
    elpd: Float64Array;
    /** p_loo,i = lppd_i − elpd_i. */
    pLoo: Float64Array;
    /** k̂ of observation i's ratios 1 / p(y_i | θ_s). */
    khat: Float64Array;
  };
  /** The k̂ threshold used, {@link khatThreshold}(S). */
  threshold: number;
  /** How many observations have k̂ > threshold (their elpd_i is unreliable). */
  nHighKhat: number;
  /** Number of draws S. */
  draws: number;
  /** Number of observations N. */
  observations: number;
}

/**
 * PSIS-LOO from a matrix of pointwise log-likelihoods ℓ_si = log p(y_i | θ_s), θ_s from the
 * posterior (or a variational approximation of it). For each observation i (each column, smoothed
 * separately), PSIS of the log ratios −ℓ_si gives normalized weights w̃_is, and
 * elpd_i = log Σ_s w̃_is exp(ℓ_si); lppd_i = log((1/S) Σ_s exp ℓ_si); p_loo,i = lppd_i − elpd_i.
 * Totals and SE as ArviZ `az.loo` (the R loo package's SE uses the N − 1 variance: larger by
 * √(N/(N−1))).
 *
 * Shapes: `logLik` [S draws, N observations] (a 2-D tensor or S rows of N). Pointwise outputs [N].
 * @example
 * // logLik[s][i] = normal log-density of y[i] under draw s
 * const r = loo(logLik);
 * console.log(r.elpdLoo, r.se, r.pLoo, `${r.nHighKhat} observations with k̂ > ${r.threshold.toFixed(2)}`);
 */
export function loo(logLik: DrawMatrix, opts: LooOptions = {}): LooResult {
  const reff = opts.reff ?? 1;
  if (!(reff > 0) || !Number.isFinite(reff)) throw new ValueError(`loo: reff must be a positive finite number, got ${reff}`);
  const { data, rows: S, cols: N } = toMatrix(logLik, 'loo', 'logLik');
  if (S < 2 || N < 1) throw new ValueError(`loo: logLik must have at least 2 draws and 1 observation, got [${S}, ${N}]`);
  const elpd = new Float64Array(N);
  const pLoo = new Float64Array(N);
  const khat = new Float64Array(N);
  const col = new Float64Array(S);
  const negLogLik = new Float64Array(S);
  const threshold = khatThreshold(S);
  let nHigh = 0;
  let lppd = 0;
  for (let i = 0; i < N; i++) {
    for (let s = 0; s < S; s++) {
      const v = data[s * N + i];
      if (!Number.isFinite(v)) throw new ValueError(`loo: logLik[${s}][${i}] is ${v}; pointwise log-likelihoods must be finite`);
      col[s] = v;
      negLogLik[s] = -v;
    }
    // The LOO ratio p(θ | y_{−i}) / p(θ | y) ∝ 1 / p(y_i | θ).
    const { logWeights: lw, khat: k } = psis(negLogLik, { reff });
    khat[i] = k;
    for (let s = 0; s < S; s++) lw[s] += col[s];
    elpd[i] = logSumExp(lw);
    const lppdI = logSumExp(col) - Math.log(S);
    pLoo[i] = lppdI - elpd[i];
    lppd += lppdI;
    if (k > threshold) nHigh++;
  }
  let sum = 0;
  for (let i = 0; i < N; i++) sum += elpd[i];
  const mean = sum / N;
  let ss = 0;
  for (let i = 0; i < N; i++) ss += (elpd[i] - mean) ** 2;
  return {
    elpdLoo: sum,
    se: Math.sqrt(ss), // √(N · (1/N) Σ (elpd_i − mean)²)
    pLoo: lppd - sum,
    lppd,
    looic: -2 * sum,
    pointwise: { elpd, pLoo, khat },
    threshold,
    nHighKhat: nHigh,
    draws: S,
    observations: N,
  };
}
