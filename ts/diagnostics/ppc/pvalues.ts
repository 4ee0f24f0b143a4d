/**
 * Posterior predictive p-values (Gelman, Meng & Stern 1996; BDA3 §6.3): for each test statistic T,
 * p_B = Pr(T(y_rep) ≥ T(y) | y), estimated over the S replicated data sets y_rep^s drawn from the
 * posterior predictive. Values near 0 or 1 say the model does not reproduce that aspect of the data.
 */
import { ShapeError, ValueError, fmtShape } from '../../core/errors.js';
import { toFloat64, toMatrix, type DrawMatrix, type DrawVector } from '../psis.js';
import { resolveStatistic, type StatisticSpec } from './statistics.js';

/** One statistic's check. */
export interface PpcCheck {
  /** The statistic's name. */
  name: string;
  /** T(y). */
  observed: number;
  /** T(y_rep^s), [S]. */
  replicated: Float64Array;
  /** Pr(T(y_rep) ≥ T(y)) = #{s : T(y_rep^s) ≥ T(y)} / S. */
  pValue: number;
  /** Pr(T(y_rep) ≤ T(y)); for continuous T, 1 − pValue. */
  pValueBelow: number;
}

/** Result of {@link ppcTest}. */
export interface PpcResult {
  /** One check per statistic, in the order given. */
  checks: PpcCheck[];
  /** Number of replicated data sets S. */
  draws: number;
  /** Number of observations N. */
  observations: number;
  /** A text table: statistic, T(y), mean and sd of T(y_rep), p-value. */
  summary: string;
}

const DEFAULT_STATS: StatisticSpec[] = ['min', 'max', 'mean', 'sd', 'median'];

/**
 * Posterior predictive checks of flat data: every statistic on the observed y and on each
 * replicated row, and p_B = Pr(T(y_rep) ≥ T(y)). A non-finite y, y_rep or T is a ValueError.
 *
 * Shapes: `yRep` [S, N] (a 2-D tensor or S rows); `y` [N]. Outputs `replicated` [S].
 * @example
 * const r = ppcTest(yRep, y, ['mean', 'sd', 'q90', { name: 'zeros', fn: (v) => v.filter((x) => x === 0).length }]);
 * r.checks[1].pValue
 */
export function ppcTest(yRep: DrawMatrix, y: DrawVector, statistics: readonly StatisticSpec[] = DEFAULT_STATS): PpcResult {
  const yy = toFloat64(y, 'ppcTest', 'y');
  const { data, rows: S, cols: N } = toMatrix(yRep, 'ppcTest', 'yRep');
  if (N !== yy.length) throw new ShapeError(`ppcTest: yRep has shape ${fmtShape([S, N])} but y has ${yy.length} observations`);
  if (S < 1 || N < 1) throw new ValueError(`ppcTest: needs at least one replication and one observation, got yRep ${fmtShape([S, N])}`);
  for (let i = 0; i < N; i++) if (!Number.isFinite(yy[i])) throw new ValueError(`ppcTest: y[${i}] is ${yy[i]}`);
  for (let k = 0; k < data.length; k++) if (!Number.isFinite(data[k])) throw new ValueError(`ppcTest: yRep[${Math.floor(k / N)}][${k % N}] is ${data[k]}`);
  const checks = statistics.map((spec) => {
    const st = resolveStatistic(spec);
    const observed = st.fn(yy);
    if (!Number.isFinite(observed)) throw new ValueError(`ppcTest: statistic '${st.name}' of y is ${observed}`);
    const replicated = new Float64Array(S);
    let ge = 0;
    let le = 0;
    for (let s = 0; s < S; s++) {
      const t = st.fn(Float64Array.from(data.subarray(s * N, (s + 1) * N)));
      if (!Number.isFinite(t)) throw new ValueError(`ppcTest: statistic '${st.name}' of yRep[${s}] is ${t}`);
      replicated[s] = t;
      if (t >= observed) ge++;
      if (t <= observed) le++;
    }
    return { name: st.name, observed, replicated, pValue: ge / S, pValueBelow: le / S };
  });
  return { checks, draws: S, observations: N, summary: formatPpc(checks, S, N) };
}

function formatPpc(checks: PpcCheck[], S: number, N: number): string {
  const w = Math.max(9, ...checks.map((c) => c.name.length));
  const lines = [`Posterior predictive checks: ${S} replications of ${N} observations; p = Pr(T(y_rep) ≥ T(y))`, `${'statistic'.padEnd(w)}  ${'T(y)'.padStart(10)}  ${'mean T(rep)'.padStart(11)}  ${'sd T(rep)'.padStart(10)}  ${'p'.padStart(6)}`];
  for (const c of checks) {
    let m = 0;
    for (const t of c.replicated) m += t;
    m /= S;
    let v = 0;
    for (const t of c.replicated) v += (t - m) ** 2;
    const sd = Math.sqrt(v / Math.max(1, S - 1));
    const flag = c.pValue < 0.025 || c.pValue > 0.975 ? '  ← extreme' : '';
    lines.push(`${c.name.padEnd(w)}  ${c.observed.toPrecision(5).padStart(10)}  ${m.toPrecision(5).padStart(11)}  ${sd.toPrecision(3).padStart(10)}  ${c.pValue.toFixed(3).padStart(6)}${flag}`);
  }
  return lines.join('\n');
}
