/**
 * PPC figures: the density of the observed data over the densities of replicated data sets (as
 * `az.plot_ppc` draws it), and each test statistic's replicated distribution with T(y) marked.
 */
import { ShapeError, ValueError, fmtShape } from '../../core/errors.js';
import { writeFileAtomic } from '../../io/atomic.js';
import { panelsSvg, type Panel, type PanelElement, type PanelsOptions } from '../../io/svg-panels.js';
import { toFloat64, toMatrix, type DrawMatrix, type DrawVector } from '../psis.js';
import type { PpcResult } from './pvalues.js';
import { quantile } from './statistics.js';

/**
 * A Gaussian kernel density estimate of y on `grid`, with Silverman's bandwidth
 * h = 0.9 min(sd, IQR/1.34) n^(−1/5) (or `bandwidth`).
 * @example kde(y, grid) // density at each grid point
 */
export function kde(y: Float64Array, grid: ArrayLike<number>, bandwidth?: number): Float64Array {
  const n = y.length;
  if (n === 0) throw new ValueError('kde: y is empty');
  let h = bandwidth;
  if (h === undefined) {
    const m = y.reduce((a, b) => a + b, 0) / n;
    const sd = Math.sqrt(y.reduce((a, b) => a + (b - m) ** 2, 0) / Math.max(1, n - 1));
    const iqr = quantile(y, 0.75) - quantile(y, 0.25);
    const spread = Math.min(sd, iqr / 1.34) || sd || 1;
    h = 0.9 * spread * Math.pow(n, -0.2);
  }
  if (!(h > 0)) throw new ValueError(`kde: bandwidth must be positive, got ${h}`);
  const out = new Float64Array(grid.length);
  const c = 1 / (n * h * Math.sqrt(2 * Math.PI));
  for (let g = 0; g < grid.length; g++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += Math.exp(-0.5 * ((grid[g] - y[i]) / h) ** 2);
    out[g] = c * s;
  }
  return out;
}

/** Options of {@link ppcDensitySvg}. */
export interface PpcDensityOptions extends PanelsOptions {
  /** Replicated data sets drawn (default 50; evenly spaced over the S rows). */
  replications?: number;
  /** Grid points of the densities (default 128). */
  gridPoints?: number;
}

/**
 * The observed data's density (black) over `replications` replicated data sets' densities (thin
 * blue) and their pointwise mean (dashed).
 *
 * Shapes: `yRep` [S, N]; `y` [N].
 * @example writeFileSync('ppc.svg', ppcDensitySvg(yRep, y, { title: 'eight schools' }));
 */
export function ppcDensitySvg(yRep: DrawMatrix, y: DrawVector, opts: PpcDensityOptions = {}): string {
  const yy = toFloat64(y, 'ppcDensitySvg', 'y');
  const { data, rows: S, cols: N } = toMatrix(yRep, 'ppcDensitySvg', 'yRep');
  if (N !== yy.length) throw new ShapeError(`ppcDensitySvg: yRep has shape ${fmtShape([S, N])} but y has ${yy.length} observations`);
  const R = Math.min(S, opts.replications ?? 50);
  const G = opts.gridPoints ?? 128;
  let lo = Infinity;
  let hi = -Infinity;
  const rows = Array.from({ length: R }, (_, r) => data.subarray(Math.floor((r * S) / R) * N, (Math.floor((r * S) / R) + 1) * N));
  for (const v of [...yy, ...rows.flatMap((row) => Array.from(row))]) {
    if (!Number.isFinite(v)) continue;
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  const grid = Float64Array.from({ length: G }, (_, g) => lo + ((hi - lo) * g) / (G - 1));
  const elements: PanelElement[] = [];
  const mean = new Float64Array(G);
  for (const row of rows) {
    const d = kde(Float64Array.from(row), grid);
    d.forEach((v, g) => (mean[g] += v / R));
    elements.push({ kind: 'line', x: grid, y: d, color: '#4c72b0', width: 1, opacity: 0.25 });
  }
  elements.push({ kind: 'line', x: grid, y: mean, color: '#dd8452', dashed: true });
  elements.push({ kind: 'line', x: grid, y: kde(yy, grid), color: '#000', width: 2 });
  const panel: Panel = { title: `observed (black), ${R} replications (blue), their mean (dashed)`, xLabel: 'y', elements };
  return panelsSvg([panel], { panelWidth: 640, panelHeight: 360, title: opts.title ?? 'Posterior predictive check', ...opts });
}

/**
 * One panel per statistic: a histogram of T(y_rep) with T(y) marked and the p-value in the title.
 * @example writeFileSync('ppc-stats.svg', ppcStatisticsSvg(ppcTest(yRep, y, ['mean', 'sd', 'max'])));
 */
export function ppcStatisticsSvg(r: PpcResult, opts: PanelsOptions & { bins?: number } = {}): string {
  const B = opts.bins ?? 30;
  const panels: Panel[] = r.checks.map((c) => {
    let lo = c.observed;
    let hi = c.observed;
    for (const t of c.replicated) {
      lo = Math.min(lo, t);
      hi = Math.max(hi, t);
    }
    if (hi === lo) hi = lo + 1;
    const width = (hi - lo) / B;
    const counts = new Float64Array(B);
    for (const t of c.replicated) counts[Math.min(B - 1, Math.floor((t - lo) / width))]++;
    return {
      title: `${c.name}: p = ${c.pValue.toFixed(3)}`,
      xLabel: `T = ${c.name}`,
      elements: [
        { kind: 'bars', left: Array.from({ length: B }, (_, b) => lo + b * width), right: Array.from({ length: B }, (_, b) => lo + (b + 1) * width), height: counts, color: '#4c72b0' },
        { kind: 'vline', x: c.observed, color: '#d62728', label: 'T(y)' },
      ],
    };
  });
  return panelsSvg(panels, { title: opts.title ?? `Test statistics over ${r.draws} replications`, ...opts });
}

/**
 * Writes {@link ppcDensitySvg} to `path`.
 * @example savePpcDensity('ppc.svg', rep.obs, y)
 */
export function savePpcDensity(path: string, yRep: DrawMatrix, y: DrawVector, opts: PpcDensityOptions = {}): void {
  writeFileAtomic(path, ppcDensitySvg(yRep, y, opts));
}

/**
 * Writes {@link ppcStatisticsSvg} to `path`.
 * @example savePpcStatistics('ppc-stats.svg', ppcTest(rep.obs, y))
 */
export function savePpcStatistics(path: string, r: PpcResult, opts: PanelsOptions & { bins?: number } = {}): void {
  writeFileAtomic(path, ppcStatisticsSvg(r, opts));
}
