/**
 * The χ² test of uniform ranks (Talts et al. 2018, §4.1): ranks 0..L are binned into B bins, and
 * X² = Σ_b (O_b − E_b)² / E_b with E_b = N · (ranks in bin b)/(L + 1), exact for any B ≤ L + 1,
 * is compared with χ²_{B−1}.
 */
import { ValueError } from '../../core/errors.js';
import { lgamma } from '../../backends/js/special.js';

/** Result of {@link rankChiSquare}. */
export interface ChiSquareTest {
  /** X² = Σ_b (O_b − E_b)² / E_b. */
  statistic: number;
  /** Degrees of freedom B − 1. */
  df: number;
  /** P(χ²_{B−1} ≥ X²). */
  pValue: number;
  /** Observed counts per bin, [B]. */
  counts: Float64Array;
  /** Expected counts per bin under uniform ranks, [B]. */
  expected: Float64Array;
}

/**
 * The regularized upper incomplete gamma function Q(a, x) = Γ(a, x)/Γ(a): by its power series for
 * x < a + 1 and by Lentz's continued fraction otherwise (both converge fast there).
 * @example gammaQ(1, 2) // e^{-2} ≈ 0.1353
 */
export function gammaQ(a: number, x: number): number {
  if (!(a > 0) || !(x >= 0)) throw new ValueError(`gammaQ: needs a > 0 and x ≥ 0, got a = ${a}, x = ${x}`);
  if (x === 0) return 1;
  const logPrefix = a * Math.log(x) - x - lgamma(a);
  if (x < a + 1) {
    // P(a, x) = e^{−x} x^a / Γ(a) · Σ_n x^n / (a (a+1) … (a+n))
    let term = 1 / a;
    let sum = term;
    for (let n = 1; n < 10000; n++) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * 1e-16) break;
    }
    return Math.max(0, 1 - Math.exp(logPrefix) * sum);
  }
  // Q(a, x) = e^{−x} x^a / Γ(a) · 1/(x + 1 − a − 1·(1−a)/(x + 3 − a − …)), by modified Lentz.
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 10000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.min(1, Math.exp(logPrefix) * h);
}

/** The default number of bins: at most 20, at most L + 1, and at least 5 expected ranks per bin where N allows. */
export function defaultBins(N: number, L: number): number {
  return Math.max(2, Math.min(L + 1, 20, Math.floor(N / 5)));
}

/**
 * χ² test of uniformity of `ranks` (each in 0..L) over `bins` bins; rank r falls in bin
 * ⌊r·B/(L+1)⌋.
 *
 * Shapes: `ranks` [N]; outputs `counts`, `expected` [B].
 * @example rankChiSquare([0, 1, 2, 3], 3, 2).pValue // 1: two ranks in each half
 */
export function rankChiSquare(ranks: ArrayLike<number>, L: number, bins = defaultBins(ranks.length, L)): ChiSquareTest {
  const N = ranks.length;
  if (N === 0) throw new ValueError('rankChiSquare: no ranks');
  if (!Number.isInteger(L) || L < 1) throw new ValueError(`rankChiSquare: L must be a positive integer, got ${L}`);
  if (!Number.isInteger(bins) || bins < 2 || bins > L + 1) throw new ValueError(`rankChiSquare: bins must be an integer in [2, L + 1 = ${L + 1}], got ${bins}`);
  const counts = new Float64Array(bins);
  const expected = new Float64Array(bins);
  for (let r = 0; r <= L; r++) expected[Math.floor((r * bins) / (L + 1))] += N / (L + 1);
  for (let i = 0; i < N; i++) {
    const r = ranks[i];
    if (!Number.isInteger(r) || r < 0 || r > L) throw new ValueError(`rankChiSquare: rank ${i} is ${r}, not an integer in [0, ${L}]`);
    counts[Math.floor((r * bins) / (L + 1))]++;
  }
  let statistic = 0;
  for (let b = 0; b < bins; b++) statistic += (counts[b] - expected[b]) ** 2 / expected[b];
  const df = bins - 1;
  return { statistic, df, pValue: gammaQ(df / 2, statistic / 2), counts, expected };
}
