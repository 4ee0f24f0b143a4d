/**
 * Variational simulation-based calibration (VSBC): Yao, Vehtari, Simpson & Gelman, "Yes, but did
 * it work?: Evaluating variational inference" (ICML 2018). Simulate θ* from the prior and data
 * from the model, fit the approximation q to the data, and record p_j = P_q(θ_j < θ*_j) for each
 * parameter. If q were the exact posterior, p_j would be uniform; VSBC checks the weaker property
 * that its distribution is symmetric about ½ (an asymmetry shows the point estimate is biased),
 * by a two-sample Kolmogorov–Smirnov test between {p_j} and {1 − p_j}.
 *
 * Independent of any inference algorithm: the caller supplies `simulate` and `fit`.
 */
import { ShapeError, ValueError, fmtShape } from '../core/errors.js';
import type { Tensor } from '../core/tensor.js';
import { foldIn, split, type Key } from '../random/key.js';
import { toFloat64, toMatrix, type DrawMatrix, type DrawVector } from './psis.js';

/** Marginal CDFs of a fitted approximation: given θ* [P], returns P_q(θ_j < θ*_j) for each j, [P]. */
export interface MarginalCdf {
  /** P_q(θ_j < θ*_j) for each coordinate j of `thetaTrue` [P]; returns [P] values in [0, 1]. */
  cdf(thetaTrue: Float64Array): ArrayLike<number>;
}

/**
 * What `fit` returns: posterior draws, [S, P] (a 2-D tensor or S rows of P; a 1-D tensor or a
 * Float64Array of S draws when P = 1), or the marginal CDFs of the approximation.
 */
export type Fitted = DrawMatrix | Tensor | Float64Array | MarginalCdf;

/** Result of a two-sample Kolmogorov–Smirnov test. */
export interface KsTest {
  /** D = sup_t |F_p(t) − F_{1−p}(t)|. */
  statistic: number;
  /** Exact two-sided p-value P(D_{n,n} ≥ D) under the null of equal distributions. */
  pValue: number;
}

/** Result of {@link vsbc} and {@link vsbcFromPairs}. */
export interface VsbcResult {
  /** Calibration quantiles, one Float64Array of length R (replications) per parameter j. */
  p: Float64Array[];
  /** The symmetry test of each parameter's p (KS between p and 1 − p). */
  tests: KsTest[];
  /** Number of replications R. */
  replications: number;
  /** Number of parameters P. */
  parameters: number;
}

/** Options of {@link vsbc}. `D` is the type of the simulated data. */
export interface VsbcOptions<D> {
  /** Root key; replication r uses foldIn(key, r), split into a simulation key and a fit key. */
  key: Key;
  /** Number of simulated data sets R. */
  replications: number;
  /** Draws θ* from the prior and data from the model given θ*; `theta` has length P. */
  simulate: (
    key: Key,
    replication: number,
  ) => {
    /** θ* drawn from the prior, length P. */
    theta: DrawVector;
    /** Data simulated from the model given θ*. */
    data: D;
  };
  /** Fits the approximation to `data`; returns draws [S, P] or marginal CDFs. */
  fit: (key: Key, data: D, replication: number) => Fitted;
}

function isCdf(x: Fitted): x is MarginalCdf {
  return typeof x === 'object' && x !== null && 'cdf' in x && typeof (x as MarginalCdf).cdf === 'function';
}

/**
 * The calibration quantiles of one fit: p_j = P_q(θ_j < θ*_j), estimated from draws as
 * (1/S) #{s : θ_sj < θ*_j}, or read from the marginal CDFs.
 *
 * Shapes: `thetaTrue` [P]; `fitted` draws [S, P] (or [S] when P = 1) or a {@link MarginalCdf};
 * output [P].
 * @example
 * calibrationQuantiles([0.3], Float64Array.from([0.1, 0.2, 0.5, 0.9])) // Float64Array [0.5]
 */
export function calibrationQuantiles(thetaTrue: DrawVector, fitted: Fitted): Float64Array {
  const theta = toFloat64(thetaTrue, 'calibrationQuantiles', 'thetaTrue');
  const P = theta.length;
  const out = new Float64Array(P);
  if (isCdf(fitted)) {
    const c = fitted.cdf(theta);
    if (c.length !== P) throw new ShapeError(`calibrationQuantiles: cdf returned ${c.length} values for ${P} parameters`);
    for (let j = 0; j < P; j++) {
      if (!(c[j] >= 0 && c[j] <= 1)) throw new ValueError(`calibrationQuantiles: cdf value ${j} is ${c[j]}, not in [0, 1]`);
      out[j] = c[j];
    }
    return out;
  }
  let data: ArrayLike<number>;
  let S: number;
  let cols: number;
  if (fitted instanceof Float64Array || (!Array.isArray(fitted) && (fitted as Tensor).rank === 1)) {
    data = fitted instanceof Float64Array ? fitted : (fitted as Tensor).dataSync();
    S = data.length;
    cols = 1;
  } else {
    const m = toMatrix(fitted as DrawMatrix, 'calibrationQuantiles', 'draws');
    data = m.data;
    S = m.rows;
    cols = m.cols;
  }
  if (cols !== P) throw new ShapeError(`calibrationQuantiles: draws have ${cols} columns (shape ${fmtShape([S, cols])}) for ${P} parameters`);
  if (S === 0) throw new ValueError('calibrationQuantiles: no draws');
  for (let j = 0; j < P; j++) {
    let below = 0;
    for (let s = 0; s < S; s++) if (data[s * P + j] < theta[j]) below++;
    out[j] = below / S;
  }
  return out;
}

/**
 * VSBC's symmetry test: the two-sample Kolmogorov–Smirnov test between p and 1 − p.
 * D = max_t |F_n(t) − G_n(t)| over the empirical CDFs of p and of 1 − p (ties handled). Both
 * samples have size n, so the exact two-sided p-value has the closed form
 * P(D_{n,n} ≥ h/n) = 2 Σ_{j≥1} (−1)^{j−1} C(2n, n − jh) / C(2n, n) (Gnedenko & Korolyuk 1951),
 * with h = round(nD); it matches `scipy.stats.ks_2samp(p, 1 − p, method="exact")`.
 * A small p-value says the p's are asymmetric about ½: q is biased for that parameter.
 *
 * Shapes: `p` [n] (n ≥ 1, values in [0, 1]); scalar outputs.
 * @example
 * ksSymmetryTest([0.1, 0.4, 0.55, 0.8]) // { statistic: 0.25, pValue: 1 }
 */
export function ksSymmetryTest(p: DrawVector): KsTest {
  const a = toFloat64(p, 'ksSymmetryTest', 'p');
  const n = a.length;
  if (n === 0) throw new ValueError('ksSymmetryTest: p is empty');
  for (let i = 0; i < n; i++) if (Number.isNaN(a[i])) throw new ValueError(`ksSymmetryTest: p[${i}] is NaN`);
  a.sort();
  // 1 − p, sorted ascending, is 1 − a read backwards.
  const b = new Float64Array(n);
  for (let i = 0; i < n; i++) b[i] = 1 - a[n - 1 - i];
  let i = 0;
  let j = 0;
  let maxGap = 0;
  while (i < n || j < n) {
    const t = Math.min(i < n ? a[i] : Infinity, j < n ? b[j] : Infinity);
    while (i < n && a[i] === t) i++;
    while (j < n && b[j] === t) j++;
    maxGap = Math.max(maxGap, Math.abs(i - j));
  }
  const statistic = maxGap / n;
  return { statistic, pValue: ksEqualSizePValue(n, maxGap) };
}

/** P(D_{n,n} ≥ h/n), the alternating series with terms t_j = C(2n, n − jh)/C(2n, n), built by ratios. */
function ksEqualSizePValue(n: number, h: number): number {
  if (h === 0) return 1;
  let term = 1;
  let sum = 0;
  for (let j = 1; j * h <= n; j++) {
    // t_j / t_{j−1} = Π_{i<h} (n − (j−1)h − i) / (n + (j−1)h + i + 1)
    const base = (j - 1) * h;
    for (let i = 0; i < h; i++) term *= (n - base - i) / (n + base + i + 1);
    if (term === 0) break;
    sum += j % 2 === 1 ? term : -term;
  }
  return Math.min(1, Math.max(0, 2 * sum));
}

/**
 * VSBC from already simulated pairs (θ*, fit): the quantiles of each pair by
 * {@link calibrationQuantiles}, gathered per parameter, and {@link ksSymmetryTest} on each.
 *
 * Shapes: every `theta` [P] (the same P); `fitted` as in {@link calibrationQuantiles}; output
 * `p[j]` [R] for R pairs.
 * @example
 * const r = vsbcFromPairs(sims.map((s) => ({ theta: s.theta, fitted: s.draws })));
 * r.tests[0].pValue // small: parameter 0 is miscalibrated
 */
export function vsbcFromPairs(pairs: readonly { theta: DrawVector; fitted: Fitted }[]): VsbcResult {
  const R = pairs.length;
  if (R === 0) throw new ValueError('vsbcFromPairs: no pairs');
  let P = -1;
  let p: Float64Array[] = [];
  pairs.forEach(({ theta, fitted }, r) => {
    const q = calibrationQuantiles(theta, fitted);
    if (P < 0) {
      P = q.length;
      p = Array.from({ length: P }, () => new Float64Array(R));
    } else if (q.length !== P) throw new ShapeError(`vsbcFromPairs: pair ${r} has ${q.length} parameters, pair 0 has ${P}`);
    for (let j = 0; j < P; j++) p[j][r] = q[j];
  });
  return { p, tests: p.map((pj) => ksSymmetryTest(pj)), replications: R, parameters: P };
}

/**
 * Runs VSBC: for r = 0..R−1, (θ*, y) = simulate(k_sim), fitted = fit(k_fit, y) with
 * [k_sim, k_fit] = split(foldIn(key, r)); then p_rj = P_q(θ_j < θ*_j) and the KS symmetry test of
 * each parameter. Yao et al. suggest R of a few hundred; the test has little power below ~50.
 *
 * Shapes: `theta` [P] per replication; output `p[j]` [R].
 * @example
 * const res = vsbc({
 *   key: key(0), replications: 200,
 *   simulate: (k) => { const mu = normal(k).item(); return { theta: [mu], data: mu }; },
 *   fit: (k, y) => normal(k, [1000, 1]), // a (bad) fixed approximation
 * });
 * res.tests[0].pValue
 */
export function vsbc<D>(opts: VsbcOptions<D>): VsbcResult {
  const R = opts.replications;
  if (!Number.isInteger(R) || R < 1) throw new ValueError(`vsbc: replications must be a positive integer, got ${R}`);
  const pairs: { theta: DrawVector; fitted: Fitted }[] = [];
  for (let r = 0; r < R; r++) {
    const [kSim, kFit] = split(foldIn(opts.key, r));
    const { theta, data } = opts.simulate(kSim, r);
    pairs.push({ theta, fitted: opts.fit(kFit, data, r) });
  }
  return vsbcFromPairs(pairs);
}
