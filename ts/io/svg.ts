/**
 * A small SVG line chart for training curves (ELBO traces): several series on shared axes, with
 * ticks, labels and a legend, written as a standalone .svg file.
 */
import { writeFileAtomic } from './atomic.js';
import { ValueError } from '../core/errors.js';

/** One line of a chart. */
export interface Series {
  /** The legend text. */
  label: string;
  /** y values at x = 1, 2, …, or explicit [x, y] pairs. */
  values: ArrayLike<number> | readonly [number, number][];
  /** A CSS colour; default from a fixed palette. */
  color?: string;
}

/** Options of the SVG line charts. */
export interface ChartOptions {
  /** The title above the plot. */
  title?: string;
  /** The x-axis label. */
  xLabel?: string;
  /** The y-axis label. */
  yLabel?: string;
  /** Width in pixels; default 720. */
  width?: number;
  /** Height in pixels; default 420. */
  height?: number;
  /** Average points into at most this many per series (default 600), so files stay small. */
  maxPoints?: number;
  /** Clip the y axis to these quantiles of all values (default [0.02, 1]) so early transients do not flatten the curve. */
  yQuantiles?: [number, number];
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf'];

function points(s: Series, maxPoints: number): [number, number][] {
  const raw: [number, number][] = Array.isArray(s.values) && Array.isArray(s.values[0])
    ? (s.values as [number, number][]).slice()
    : Array.from(s.values as ArrayLike<number>, (v, i) => [i + 1, v] as [number, number]);
  const finite = raw.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  if (finite.length <= maxPoints) return finite;
  const bin = Math.ceil(finite.length / maxPoints);
  const out: [number, number][] = [];
  for (let i = 0; i < finite.length; i += bin) {
    const chunk = finite.slice(i, i + bin);
    out.push([chunk.reduce((a, p) => a + p[0], 0) / chunk.length, chunk.reduce((a, p) => a + p[1], 0) / chunk.length]);
  }
  return out;
}

function niceTicks(lo: number, hi: number, n = 5): number[] {
  const span = hi - lo || Math.abs(hi) || 1;
  const step0 = span / n;
  const mag = Math.pow(10, Math.floor(Math.log10(step0)));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= step0) ?? 10 * mag;
  const out: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + 1e-9 * step; t += step) out.push(Number(t.toPrecision(12)));
  return out;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * The chart as SVG text.
 * @example const svg = lineChartSvg([{ label: 'ELBO', values: elbos }], { title: 'Training', xLabel: 'step' });
 */
export function lineChartSvg(series: readonly Series[], opts: ChartOptions = {}): string {
  if (series.length === 0) throw new ValueError('lineChartSvg: needs at least one series');
  const W = opts.width ?? 720;
  const H = opts.height ?? 420;
  const m = { l: 80, r: 20, t: opts.title ? 40 : 20, b: 55 };
  const pts = series.map((s) => points(s, opts.maxPoints ?? 600));
  const all = pts.flat();
  if (all.length === 0) throw new ValueError('lineChartSvg: no finite points to draw');
  const xs = all.map((p) => p[0]);
  const ys = all.map((p) => p[1]).sort((a, b) => a - b);
  const [qlo, qhi] = opts.yQuantiles ?? [0.02, 1];
  let y0 = ys[Math.floor(qlo * (ys.length - 1))];
  let y1 = ys[Math.floor(qhi * (ys.length - 1))];
  if (y0 === y1) {
    y0 -= 1;
    y1 += 1;
  }
  const x0 = Math.min(...xs);
  const x1 = Math.max(...xs) === x0 ? x0 + 1 : Math.max(...xs);
  const sx = (x: number): number => m.l + ((x - x0) / (x1 - x0)) * (W - m.l - m.r);
  const sy = (y: number): number => H - m.b - ((Math.min(Math.max(y, y0), y1) - y0) / (y1 - y0)) * (H - m.t - m.b);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
  ];
  if (opts.title) parts.push(`<text x="${W / 2}" y="24" text-anchor="middle" font-size="15">${esc(opts.title)}</text>`);
  for (const t of niceTicks(y0, y1)) {
    parts.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${sy(t)}" y2="${sy(t)}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${m.l - 6}" y="${sy(t) + 4}" text-anchor="end">${t}</text>`);
  }
  for (const t of niceTicks(x0, x1)) parts.push(`<text x="${sx(t)}" y="${H - m.b + 18}" text-anchor="middle">${t}</text>`);
  parts.push(`<rect x="${m.l}" y="${m.t}" width="${W - m.l - m.r}" height="${H - m.t - m.b}" fill="none" stroke="#444"/>`);
  if (opts.xLabel) parts.push(`<text x="${(m.l + W - m.r) / 2}" y="${H - 12}" text-anchor="middle">${esc(opts.xLabel)}</text>`);
  if (opts.yLabel) parts.push(`<text transform="translate(18 ${(m.t + H - m.b) / 2}) rotate(-90)" text-anchor="middle">${esc(opts.yLabel)}</text>`);
  pts.forEach((p, i) => {
    const color = series[i].color ?? PALETTE[i % PALETTE.length];
    const d = p.map(([x, y], j) => `${j === 0 ? 'M' : 'L'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join('');
    parts.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="1.5"/>`);
    const ly = m.t + 16 + i * 16;
    parts.push(`<line x1="${W - m.r - 150}" x2="${W - m.r - 130}" y1="${ly - 4}" y2="${ly - 4}" stroke="${color}" stroke-width="2"/>`);
    parts.push(`<text x="${W - m.r - 124}" y="${ly}">${esc(series[i].label)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

/**
 * Writes `lineChartSvg(series, opts)` to `path`.
 * @example saveLineChart('elbo.svg', [{ label: 'ELBO', values: Float64Array.from(r.losses, (l) => -l) }])
 */
export function saveLineChart(path: string, series: readonly Series[], opts: ChartOptions = {}): void {
  writeFileAtomic(path, lineChartSvg(series, opts));
}
