/**
 * SBC figures: per variable, the rank histogram with the 99% band of a bin's count under uniform
 * ranks (Talts et al. 2018, Fig. 1: pointwise, Binomial(N, p_b)), and the ECDF difference
 * F(z) − z with the simultaneous band the ECDF test uses (Säilynoja et al. 2022).
 */
import { ValueError } from '../../core/errors.js';
import { lgamma } from '../../backends/js/special.js';
import { writeFileAtomic } from '../../io/atomic.js';
import { panelsSvg, type Panel, type PanelsOptions } from '../../io/svg-panels.js';
import type { SbcResult } from './runner.js';

/** The q-quantile of Binomial(n, p): the smallest c with P(C ≤ c) ≥ q. */
function binomialQuantile(n: number, p: number, q: number): number {
  let cdf = 0;
  for (let c = 0; c <= n; c++) {
    cdf += Math.exp(lgamma(n + 1) - lgamma(c + 1) - lgamma(n - c + 1) + c * Math.log(p) + (n - c) * Math.log1p(-p));
    if (cdf >= q) return c;
  }
  return n;
}

/** Options of {@link sbcPlotSvg}. */
export interface SbcPlotOptions extends PanelsOptions {
  /** Variables to draw (default all, at most 12). */
  variables?: string[];
}

/**
 * Two panels per variable: the rank histogram (bins of the χ² test, grey band: 99% of a bin's
 * count under uniformity) and the ECDF difference with its simultaneous 1 − α band (blue).
 * @example writeFileSync('sbc.svg', sbcPlotSvg(result));
 */
export function sbcPlotSvg(r: SbcResult, opts: SbcPlotOptions = {}): string {
  const vars = opts.variables ?? r.variables.slice(0, 12);
  const panels: Panel[] = [];
  const N = r.simulations.length;
  const L = r.maxRank;
  for (const v of vars) {
    const t = r.tests[v];
    if (t === undefined) throw new ValueError(`sbcPlotSvg: no variable '${v}'; the result has ${r.variables.join(', ')}`);
    const B = t.chiSquare.counts.length;
    const left = Array.from({ length: B }, (_, b) => Math.ceil((b * (L + 1)) / B));
    const right = Array.from({ length: B }, (_, b) => Math.ceil(((b + 1) * (L + 1)) / B));
    const lo = Array.from(t.chiSquare.expected, (e) => binomialQuantile(N, e / N, 0.005));
    const hi = Array.from(t.chiSquare.expected, (e) => binomialQuantile(N, e / N, 0.995));
    const stepX = left.flatMap((a, b) => [a, right[b]]);
    panels.push({
      title: `${v}: ranks (χ² p = ${t.chiSquare.pValue.toPrecision(2)})`,
      xLabel: `rank (0..${L})`,
      elements: [
        { kind: 'band', x: stepX, lower: lo.flatMap((c) => [c, c]), upper: hi.flatMap((c) => [c, c]), color: '#888' },
        { kind: 'bars', left, right, height: t.chiSquare.counts, color: '#4c72b0' },
      ],
    });
    const z = [0, ...t.ecdf.band.z, 1];
    panels.push({
      title: `${v}: ECDF − uniform (p = ${t.ecdf.pValue.toPrecision(2)})`,
      xLabel: 'fractional rank',
      elements: [
        { kind: 'band', x: z, lower: [0, ...t.ecdf.band.lower, 0], upper: [0, ...t.ecdf.band.upper, 0], color: '#4c72b0' },
        { kind: 'line', x: [0, 1], y: [0, 0], color: '#999', width: 1 },
        { kind: 'line', x: z, y: [0, ...t.ecdf.difference, 0], color: t.ecdf.rejected ? '#d62728' : '#222' },
      ],
    });
  }
  return panelsSvg(panels, { columns: 2, title: opts.title ?? `SBC: ${N} simulations, band α = ${r.band.alpha}`, ...opts });
}

/**
 * Writes {@link sbcPlotSvg} to `path`.
 * @example saveSbcPlot('sbc.svg', result)
 */
export function saveSbcPlot(path: string, r: SbcResult, opts: SbcPlotOptions = {}): void {
  writeFileAtomic(path, sbcPlotSvg(r, opts));
}
