/**
 * Test statistics T(y) for posterior predictive checks: min, max, mean, sd, median, quantiles
 * (linear interpolation, NumPy's default and R's type 7), and any user function of the data.
 */
import { ValueError } from '../../core/errors.js';

/** A named test statistic T of a data vector. */
export interface PpcStatistic {
  /** Its name in tables and plots. */
  name: string;
  /** T(y) for a flat data vector y. */
  fn: (y: Float64Array) => number;
}

function mean(y: Float64Array): number {
  let s = 0;
  for (let i = 0; i < y.length; i++) s += y[i];
  return s / y.length;
}

/**
 * The q-quantile of y by linear interpolation between order statistics at h = (n − 1) q
 * (`numpy.quantile`'s default, R's type 7).
 * @example quantile(Float64Array.from([1, 2, 3, 4]), 0.5) // 2.5
 */
export function quantile(y: Float64Array, q: number): number {
  if (!(q >= 0 && q <= 1)) throw new ValueError(`quantile: q must be in [0, 1], got ${q}`);
  if (y.length === 0) throw new ValueError('quantile: y is empty');
  const s = Float64Array.from(y).sort();
  const h = (s.length - 1) * q;
  const lo = Math.floor(h);
  return lo + 1 < s.length ? s[lo] + (h - lo) * (s[lo + 1] - s[lo]) : s[lo];
}

/** The built-in statistics by name: 'min', 'max', 'mean', 'sd' (n − 1 denominator), 'median'. */
export const ppcStatistics: Readonly<Record<'min' | 'max' | 'mean' | 'sd' | 'median', PpcStatistic>> = {
  min: { name: 'min', fn: (y) => y.reduce((a, b) => Math.min(a, b), Infinity) },
  max: { name: 'max', fn: (y) => y.reduce((a, b) => Math.max(a, b), -Infinity) },
  mean: { name: 'mean', fn: mean },
  sd: {
    name: 'sd',
    fn: (y) => {
      const m = mean(y);
      let ss = 0;
      for (let i = 0; i < y.length; i++) ss += (y[i] - m) ** 2;
      return Math.sqrt(ss / (y.length - 1));
    },
  },
  median: { name: 'median', fn: (y) => quantile(y, 0.5) },
};

/**
 * The q-quantile as a statistic, named `q<100q>` (e.g. `q90`).
 * @example quantileStatistic(0.9).fn(y)
 */
export function quantileStatistic(q: number): PpcStatistic {
  if (!(q >= 0 && q <= 1)) throw new ValueError(`quantileStatistic: q must be in [0, 1], got ${q}`);
  return { name: `q${+(q * 100).toPrecision(6)}`, fn: (y) => quantile(y, q) };
}

/** A statistic given by name ('min', 'max', 'mean', 'sd', 'median', 'q05', 'q97.5') or as an object. */
export type StatisticSpec = PpcStatistic | string;

/**
 * Resolves a statistic given by name or object.
 * @example resolveStatistic('q90').name // 'q90'
 */
export function resolveStatistic(s: StatisticSpec): PpcStatistic {
  if (typeof s !== 'string') return s;
  if (s in ppcStatistics) return ppcStatistics[s as keyof typeof ppcStatistics];
  const m = /^q(\d+(?:\.\d+)?)$/.exec(s);
  if (m) return quantileStatistic(Number(m[1]) / 100);
  throw new ValueError(`ppc: unknown statistic '${s}'; use min, max, mean, sd, median, q<percent> (e.g. q90) or { name, fn }`);
}
