/**
 * The ECDF-difference test of uniform ranks with simultaneous confidence bands (Säilynoja, Bürkner
 * & Vehtari, "Graphical test for discrete uniformity and its applications in goodness-of-fit
 * evaluation and multiple sample comparison", Statistics and Computing 2022).
 *
 * With N ranks on 0..L, the ECDF at the evaluation points z_i = i/K (i = 1..K−1) counts
 * c_i = #{ranks < ⌊z_i (L+1)⌋}; under uniform ranks c_i ~ Binomial(N, p_i), p_i = ⌊z_i (L+1)⌋/(L+1),
 * exactly. Each point's two-sided tail probability is t_i = min(1, 2 min(P(C ≤ c_i), P(C ≥ c_i))),
 * and the statistic is their minimum m = min_i t_i. The band is computed by SIMULATION (their §3.1
 * simulation method, not the optimization algorithm): M samples of N discrete uniform ranks give
 * M values of m; the adjusted level γ is their α-quantile, so the band {c : t_i(c) ≥ γ} at every
 * point holds all K−1 points at once with probability ≥ 1 − α. The test rejects when the ranks'
 * m < γ; the p-value is (1 + #{simulated m ≤ observed m})/(M + 1).
 */
import { ValueError } from '../../core/errors.js';
import { lgamma } from '../../backends/js/special.js';
import { uniform } from '../../random/samplers.js';
import type { Key } from '../../random/key.js';

/** Options of {@link ecdfBand} and {@link rankEcdfTest}. */
export interface EcdfBandOptions {
  /** Key of the simulation (the band is a deterministic function of it). */
  key: Key;
  /** The family-wise level α (default 0.05). */
  alpha?: number;
  /** Evaluation intervals K (default min(L + 1, N, 100)); points z_i = i/K, i = 1..K−1. */
  points?: number;
  /** Simulated rank samples M (default 2000). */
  simulations?: number;
}

/** A simultaneous band for the ECDF of N ranks on 0..L, on the ECDF-difference scale F(z) − p. */
export interface EcdfBand {
  /** Evaluation points z_i, [K−1]. */
  z: Float64Array;
  /** Expected ECDF p_i = ⌊z_i (L+1)⌋/(L+1), [K−1]. */
  expected: Float64Array;
  /** Lower edge of the band, (min c in band)/N − p_i, [K−1]. */
  lower: Float64Array;
  /** Upper edge of the band, (max c in band)/N − p_i, [K−1]. */
  upper: Float64Array;
  /** The adjusted pointwise level γ. */
  gamma: number;
  /** The family-wise level α. */
  alpha: number;
  /** The simulated minima m, sorted ascending, [M] (for p-values). */
  simulatedMinima: Float64Array;
  /** N and L. */
  n: number;
  /** The largest rank L. */
  maxRank: number;
  /** @internal tail[i][c]: t_i for count c, [K−1][N+1]. */
  tails: Float64Array[];
}

/** Result of {@link rankEcdfTest}. */
export interface EcdfTest {
  /** m = min_i t_i, the smallest pointwise two-sided tail probability. */
  statistic: number;
  /** Simulation p-value (1 + #{simulated m ≤ statistic})/(M + 1). */
  pValue: number;
  /** Whether m < γ: some point leaves the simultaneous band. */
  rejected: boolean;
  /** ECDF difference F(z_i) − p_i, [K−1]. */
  difference: Float64Array;
  /** The band it was tested against. */
  band: EcdfBand;
}

/**
 * The two-sided tail probabilities t(c) = min(1, 2 min(P(C ≤ c), P(C ≥ c))) of C ~ Binomial(N, p)
 * for c = 0..N, from the pmf summed in log space.
 * @example binomialTails(2, 0.5) // [0.5, 1, 0.5]
 */
export function binomialTails(N: number, p: number): Float64Array {
  const pmf = new Float64Array(N + 1);
  if (p <= 0) pmf[0] = 1;
  else if (p >= 1) pmf[N] = 1;
  else {
    const lp = Math.log(p);
    const lq = Math.log1p(-p);
    const lnf = lgamma(N + 1);
    for (let c = 0; c <= N; c++) pmf[c] = Math.exp(lnf - lgamma(c + 1) - lgamma(N - c + 1) + c * lp + (N - c) * lq);
  }
  const out = new Float64Array(N + 1);
  let below = 0;
  let total = 0;
  for (let c = 0; c <= N; c++) total += pmf[c];
  for (let c = 0; c <= N; c++) {
    const le = below + pmf[c];
    const ge = total - below;
    out[c] = Math.min(1, 2 * Math.min(le, ge) / total);
    below = le;
  }
  return out;
}

function minTail(sortedRanks: ArrayLike<number>, cuts: Int32Array, tails: Float64Array[]): number {
  let m = 1;
  let c = 0;
  for (let i = 0; i < cuts.length; i++) {
    while (c < sortedRanks.length && sortedRanks[c] < cuts[i]) c++;
    m = Math.min(m, tails[i][c]);
  }
  return m;
}

/**
 * The simultaneous 1 − α band for the ECDF of `n` ranks on 0..`maxRank`, by simulation.
 * @example const band = ecdfBand(200, 99, { key: key(0) }); band.gamma // ≈ 0.003 for K = 100
 */
export function ecdfBand(n: number, maxRank: number, opts: EcdfBandOptions): EcdfBand {
  const alpha = opts.alpha ?? 0.05;
  const M = opts.simulations ?? 2000;
  if (!Number.isInteger(n) || n < 1) throw new ValueError(`ecdfBand: n must be a positive integer, got ${n}`);
  if (!Number.isInteger(maxRank) || maxRank < 1) throw new ValueError(`ecdfBand: maxRank (L) must be a positive integer, got ${maxRank}`);
  if (!(alpha > 0 && alpha < 1)) throw new ValueError(`ecdfBand: alpha must be in (0, 1), got ${alpha}`);
  if (!Number.isInteger(M) || M < 1 / alpha) throw new ValueError(`ecdfBand: simulations must be an integer ≥ 1/alpha = ${Math.ceil(1 / alpha)}, got ${M}`);
  const K = opts.points ?? Math.min(maxRank + 1, n, 100);
  if (!Number.isInteger(K) || K < 2 || K > maxRank + 1) throw new ValueError(`ecdfBand: points must be an integer in [2, L + 1 = ${maxRank + 1}], got ${K}`);
  const cuts = new Int32Array(K - 1);
  const z = new Float64Array(K - 1);
  const expected = new Float64Array(K - 1);
  const tails: Float64Array[] = [];
  for (let i = 1; i < K; i++) {
    z[i - 1] = i / K;
    cuts[i - 1] = Math.floor(((maxRank + 1) * i) / K);
    expected[i - 1] = cuts[i - 1] / (maxRank + 1);
    tails.push(binomialTails(n, expected[i - 1]));
  }
  const u = uniform(opts.key, [M, n], { dtype: 'float64' }).dataSync();
  const minima = new Float64Array(M);
  const sample = new Float64Array(n);
  for (let s = 0; s < M; s++) {
    for (let j = 0; j < n; j++) sample[j] = Math.floor(u[s * n + j] * (maxRank + 1));
    sample.sort();
    minima[s] = minTail(sample, cuts, tails);
  }
  minima.sort();
  // γ: the largest simulated minimum with at most αM simulated minima below it.
  const gamma = minima[Math.floor(alpha * M)];
  const lower = new Float64Array(K - 1);
  const upper = new Float64Array(K - 1);
  for (let i = 0; i < K - 1; i++) {
    let lo = 0;
    while (lo < n && tails[i][lo] < gamma) lo++;
    let hi = n;
    while (hi > 0 && tails[i][hi] < gamma) hi--;
    lower[i] = lo / n - expected[i];
    upper[i] = hi / n - expected[i];
  }
  return { z, expected, lower, upper, gamma, alpha, simulatedMinima: minima, n, maxRank, tails };
}

/**
 * Tests N ranks on 0..L for uniformity against the simultaneous ECDF band (pass `band` to reuse
 * one band for several variables with the same N and L).
 *
 * Shapes: `ranks` [N]; outputs over the K−1 evaluation points.
 * @example const t = rankEcdfTest(ranks, 99, { key: key(1) }); t.rejected; t.pValue
 */
export function rankEcdfTest(ranks: ArrayLike<number>, maxRank: number, opts: EcdfBandOptions | { band: EcdfBand }): EcdfTest {
  const n = ranks.length;
  const band = 'band' in opts ? opts.band : ecdfBand(n, maxRank, opts);
  if (band.n !== n || band.maxRank !== maxRank) throw new ValueError(`rankEcdfTest: the band is for N = ${band.n}, L = ${band.maxRank}; the ranks have N = ${n}, L = ${maxRank}`);
  const sorted = Float64Array.from(ranks);
  for (let i = 0; i < n; i++) {
    const r = sorted[i];
    if (!Number.isInteger(r) || r < 0 || r > maxRank) throw new ValueError(`rankEcdfTest: rank ${i} is ${r}, not an integer in [0, ${maxRank}]`);
  }
  sorted.sort();
  const cuts = Int32Array.from(band.expected, (p) => Math.round(p * (maxRank + 1)));
  const statistic = minTail(sorted, cuts, band.tails);
  const difference = new Float64Array(cuts.length);
  let c = 0;
  for (let i = 0; i < cuts.length; i++) {
    while (c < n && sorted[c] < cuts[i]) c++;
    difference[i] = c / n - band.expected[i];
  }
  const M = band.simulatedMinima.length;
  let le = 0;
  while (le < M && band.simulatedMinima[le] <= statistic) le++;
  return { statistic, pValue: (1 + le) / (M + 1), rejected: statistic < band.gamma, difference, band };
}
