/**
 * A grid of small SVG plot panels on shared drawing primitives (axes with ticks, polylines, bars,
 * shaded bands, vertical markers), for the diagnostics' figures: SBC rank histograms and ECDF
 * differences, posterior predictive densities and test statistics.
 */
import { ValueError } from '../core/errors.js';

/** One drawing element of a panel, in data coordinates. */
export type PanelElement =
  | {
      /** A polyline through (x[i], y[i]). */
      kind: 'line';
      /** x coordinates. */
      x: ArrayLike<number>;
      /** y coordinates. */
      y: ArrayLike<number>;
      /** CSS colour. */
      color: string;
      /** Stroke width (default 1.5). */
      width?: number;
      /** Stroke opacity (default 1). */
      opacity?: number;
      /** Dashed. */
      dashed?: boolean;
    }
  | {
      /** Bars from y = 0 over [left[i], right[i]]. */
      kind: 'bars';
      /** Left edges. */
      left: ArrayLike<number>;
      /** Right edges. */
      right: ArrayLike<number>;
      /** Heights. */
      height: ArrayLike<number>;
      /** CSS colour. */
      color: string;
    }
  | {
      /** The region between lower[i] and upper[i] over x[i] (a step band when `steps`). */
      kind: 'band';
      /** x coordinates. */
      x: ArrayLike<number>;
      /** Lower edge. */
      lower: ArrayLike<number>;
      /** Upper edge. */
      upper: ArrayLike<number>;
      /** CSS colour (drawn at 25% opacity). */
      color: string;
    }
  | {
      /** A vertical line at x. */
      kind: 'vline';
      /** Its x. */
      x: number;
      /** CSS colour. */
      color: string;
      /** Legend-free label drawn at its top. */
      label?: string;
    };

/** One panel: a title, axis labels and its elements. */
export interface Panel {
  /** The panel's title. */
  title: string;
  /** x-axis label. */
  xLabel?: string;
  /** The elements, drawn in order. */
  elements: PanelElement[];
  /** Fixed y range (default: the elements' range, with 0 included where bars are). */
  yRange?: [number, number];
}

/** Options of {@link panelsSvg}. */
export interface PanelsOptions {
  /** The figure's title. */
  title?: string;
  /** Panels per row (default min(3, panels)). */
  columns?: number;
  /** Width of one panel in pixels (default 300). */
  panelWidth?: number;
  /** Height of one panel in pixels (default 200). */
  panelHeight?: number;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function ticks(lo: number, hi: number, n = 4): number[] {
  const span = hi - lo || 1;
  const mag = Math.pow(10, Math.floor(Math.log10(span / n)));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= span / n) ?? 10 * mag;
  const out: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + 1e-9 * step; t += step) out.push(Number(t.toPrecision(10)));
  return out;
}

function extent(p: Panel): { x0: number; x1: number; y0: number; y1: number } {
  let x0 = Infinity;
  let x1 = -Infinity;
  let y0 = Infinity;
  let y1 = -Infinity;
  const xs = (v: number): void => {
    if (!Number.isFinite(v)) return;
    x0 = Math.min(x0, v);
    x1 = Math.max(x1, v);
  };
  const ys = (v: number): void => {
    if (!Number.isFinite(v)) return;
    y0 = Math.min(y0, v);
    y1 = Math.max(y1, v);
  };
  const each = (a: ArrayLike<number>, f: (v: number) => void): void => {
    for (let i = 0; i < a.length; i++) f(a[i]);
  };
  for (const e of p.elements) {
    if (e.kind === 'line') {
      each(e.x, xs);
      each(e.y, ys);
    } else if (e.kind === 'bars') {
      each(e.left, xs);
      each(e.right, xs);
      each(e.height, ys);
      ys(0);
    } else if (e.kind === 'band') {
      each(e.x, xs);
      each(e.lower, ys);
      each(e.upper, ys);
    } else xs(e.x);
  }
  if (p.yRange) [y0, y1] = p.yRange;
  if (!Number.isFinite(x0)) throw new ValueError(`panelsSvg: panel '${p.title}' has nothing finite to draw`);
  if (!Number.isFinite(y0)) {
    y0 = 0;
    y1 = 1;
  }
  if (x1 === x0) {
    x0 -= 0.5;
    x1 += 0.5;
  }
  if (y1 === y0) {
    y0 -= 0.5;
    y1 += 0.5;
  }
  const pad = 0.04 * (y1 - y0);
  return { x0, x1, y0: p.yRange ? y0 : y0 - pad, y1: p.yRange ? y1 : y1 + pad };
}

function path(xs: number[], ys: number[]): string {
  return xs.map((x, i) => `${i === 0 ? 'M' : 'L'}${x.toFixed(1)},${ys[i].toFixed(1)}`).join('');
}

function drawPanel(p: Panel, ox: number, oy: number, W: number, H: number): string[] {
  const m = { l: 46, r: 10, t: 22, b: p.xLabel ? 34 : 22 };
  const { x0, x1, y0, y1 } = extent(p);
  const sx = (x: number): number => ox + m.l + ((x - x0) / (x1 - x0)) * (W - m.l - m.r);
  const sy = (y: number): number => oy + H - m.b - ((Math.min(Math.max(y, y0), y1) - y0) / (y1 - y0)) * (H - m.t - m.b);
  const out = [`<text x="${ox + W / 2}" y="${oy + 15}" text-anchor="middle" font-size="12">${esc(p.title)}</text>`];
  for (const t of ticks(y0, y1)) out.push(`<line x1="${ox + m.l}" x2="${ox + W - m.r}" y1="${sy(t).toFixed(1)}" y2="${sy(t).toFixed(1)}" stroke="#eee"/><text x="${ox + m.l - 4}" y="${(sy(t) + 3).toFixed(1)}" text-anchor="end" font-size="9">${t}</text>`);
  for (const t of ticks(x0, x1)) out.push(`<text x="${sx(t).toFixed(1)}" y="${oy + H - m.b + 12}" text-anchor="middle" font-size="9">${t}</text>`);
  if (p.xLabel) out.push(`<text x="${ox + (m.l + W - m.r) / 2}" y="${oy + H - 6}" text-anchor="middle" font-size="10">${esc(p.xLabel)}</text>`);
  for (const e of p.elements) {
    if (e.kind === 'band') {
      const xs = Array.from(e.x, sx);
      const top = path(xs, Array.from(e.upper, sy));
      const bottom = Array.from(e.lower, sy).map((y, i) => `L${xs[i].toFixed(1)},${y.toFixed(1)}`).reverse().join('');
      out.push(`<path d="${top}${bottom}Z" fill="${e.color}" fill-opacity="0.25" stroke="none"/>`);
    } else if (e.kind === 'bars') {
      for (let i = 0; i < e.height.length; i++) {
        const a = sx(e.left[i]);
        const top = sy(Math.max(0, e.height[i]));
        out.push(`<rect x="${a.toFixed(1)}" y="${top.toFixed(1)}" width="${Math.max(0.5, sx(e.right[i]) - a - 0.5).toFixed(1)}" height="${(sy(0) - top).toFixed(1)}" fill="${e.color}"/>`);
      }
    } else if (e.kind === 'line') {
      const pts = Array.from(e.x, (x, i) => [x, e.y[i]]).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
      out.push(`<path d="${path(pts.map((q) => sx(q[0])), pts.map((q) => sy(q[1])))}" fill="none" stroke="${e.color}" stroke-width="${e.width ?? 1.5}" stroke-opacity="${e.opacity ?? 1}"${e.dashed ? ' stroke-dasharray="4 3"' : ''}/>`);
    } else {
      out.push(`<line x1="${sx(e.x).toFixed(1)}" x2="${sx(e.x).toFixed(1)}" y1="${oy + m.t}" y2="${oy + H - m.b}" stroke="${e.color}" stroke-width="2"/>`);
      if (e.label) out.push(`<text x="${(sx(e.x) + 3).toFixed(1)}" y="${oy + m.t + 10}" font-size="9" fill="${e.color}">${esc(e.label)}</text>`);
    }
  }
  out.push(`<rect x="${ox + m.l}" y="${oy + m.t}" width="${W - m.l - m.r}" height="${H - m.t - m.b}" fill="none" stroke="#666"/>`);
  return out;
}

/**
 * The panels as one SVG document, laid out in a grid.
 * @example const svg = panelsSvg([{ title: 'mu', elements: [{ kind: 'line', x: [0, 1], y: [0, 1], color: 'black' }] }]);
 */
export function panelsSvg(panels: readonly Panel[], opts: PanelsOptions = {}): string {
  if (panels.length === 0) throw new ValueError('panelsSvg: no panels');
  const cols = opts.columns ?? Math.min(3, panels.length);
  const rows = Math.ceil(panels.length / cols);
  const W = opts.panelWidth ?? 300;
  const H = opts.panelHeight ?? 200;
  const top = opts.title ? 28 : 0;
  const width = cols * W;
  const height = rows * H + top;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
  ];
  if (opts.title) out.push(`<text x="${width / 2}" y="19" text-anchor="middle" font-size="15">${esc(opts.title)}</text>`);
  panels.forEach((p, i) => out.push(...drawPanel(p, (i % cols) * W, top + Math.floor(i / cols) * H, W, H)));
  out.push('</svg>');
  return out.join('\n');
}
