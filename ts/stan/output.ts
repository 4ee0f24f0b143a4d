/**
 * Draws of a fitted Stan program as CmdStan writes them: one column per scalar of every parameter,
 * transformed parameter and generated quantity (`theta.1`, `Sigma.2.1`, first index fastest, as
 * CmdStan orders them), a summary table (mean, sd, 5/50/95%), and the CSV layout (`#` comments,
 * then a header line starting with `lp__`, one row per draw).
 */
import type { Tensor } from '../core/tensor.js';
import { reshape, slice } from '../ops/shape.js';
import type { StanModel, StanVariable } from './model.js';
import { host } from './values.js';

/** Named columns of draws, in output order. */
export interface DrawTable {
  readonly names: string[];
  readonly columns: Float64Array[];
}

/**
 * CmdStan's names for the scalars of a variable of `shape`, first index fastest, with each one's row-major offset.
 * @example columnNames('S', [2, 2]).map((c) => c.label) // ['S.1.1', 'S.2.1', 'S.1.2', 'S.2.2']
 */
export function columnNames(name: string, shape: number[]): { label: string; offset: number }[] {
  const n = shape.reduce((a, b) => a * b, 1);
  const out: { label: string; offset: number }[] = [];
  for (let k = 0; k < n; k++) {
    // k enumerates first-index-fastest; offset is the row-major position.
    const idx: number[] = [];
    let r = k;
    for (const d of shape) {
      idx.push(r % d);
      r = Math.floor(r / d);
    }
    let off = 0;
    for (let a = 0; a < shape.length; a++) off = off * shape[a] + idx[a];
    out.push({ label: shape.length === 0 ? name : `${name}.${idx.map((i) => i + 1).join('.')}`, offset: off });
  }
  return out;
}

/**
 * The draws of every reported variable: parameters from the guide's site draws ([S, ...shape]),
 * transformed parameters and generated quantities by running the program on each draw.
 * @example drawTable(m, res.draws, 7).names // ['mu', 'tau', 'theta_tilde.1', ...]
 */
export function drawTable(m: StanModel, siteDraws: Record<string, Tensor>, seed = 1): DrawTable {
  const S = siteDraws[m.sites[0]]?.shape[0] ?? 0;
  const vars: StanVariable[] = [...m.parameters, ...m.transformedParameters, ...m.generatedQuantities];
  const per = new Map<string, Float64Array[]>();
  for (const v of vars) per.set(v.name, []);
  for (let s = 0; s < S; s++) {
    const values: Record<string, Tensor> = {};
    for (const site of m.sites) {
      const t = siteDraws[site];
      const rest = t.shape.slice(1);
      values[site] = reshape(slice(t, [s, ...rest.map(() => 0)], [1, ...rest]), rest);
    }
    const gen = m.transformedParameters.length + m.generatedQuantities.length > 0 || m.sites.some((x) => x.endsWith('__unconstrained')) ? m.generate(values, seed + s) : {};
    for (const v of vars) {
      const x = v.block === 'parameters' ? (m.sites.includes(v.name) ? values[v.name] : (gen[v.name] ?? values[`${v.name}__unconstrained`])) : gen[v.name];
      per.get(v.name)!.push(x === undefined ? new Float64Array(0) : typeof x === 'number' ? Float64Array.of(x) : host(x));
    }
  }
  const names: string[] = [];
  const columns: Float64Array[] = [];
  for (const v of vars) {
    const rows = per.get(v.name)!;
    for (const { label, offset } of columnNames(v.name, v.shape)) {
      names.push(label);
      columns.push(Float64Array.from(rows, (r) => (offset < r.length ? r[offset] : NaN)));
    }
  }
  return { names, columns };
}

function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/**
 * One summary row per column: mean, sd (n − 1), and the 5/50/95% quantiles (linear interpolation).
 * @example summarize({ names: ['mu'], columns: [Float64Array.of(1, 2, 3)] })[0].mean // 2
 */
export function summarize(t: DrawTable): { name: string; mean: number; sd: number; q5: number; q50: number; q95: number }[] {
  return t.names.map((name, i) => {
    const c = t.columns[i];
    const n = c.length;
    const mean = c.reduce((a, b) => a + b, 0) / n;
    const sd = Math.sqrt(c.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, n - 1));
    const s = Float64Array.from(c).sort();
    return { name, mean, sd, q5: quantile(s, 0.05), q50: quantile(s, 0.5), q95: quantile(s, 0.95) };
  });
}

const fmt = (x: number): string => (Number.isFinite(x) ? (Math.abs(x) >= 1e5 || (Math.abs(x) < 1e-3 && x !== 0) ? x.toExponential(2) : x.toPrecision(4)) : String(x));

/**
 * The summary as an aligned text table, one row per column of draws.
 * @example console.log(summaryTable(drawTable(m, res.draws)))
 */
export function summaryTable(t: DrawTable): string {
  const rows = summarize(t);
  const head = ['', 'mean', 'sd', '5%', '50%', '95%'];
  const body = rows.map((r) => [r.name, fmt(r.mean), fmt(r.sd), fmt(r.q5), fmt(r.q50), fmt(r.q95)]);
  const w = head.map((h, j) => Math.max(h.length, ...body.map((b) => b[j].length)));
  const line = (cells: string[]): string => cells.map((c, j) => (j === 0 ? c.padEnd(w[j]) : c.padStart(w[j]))).join('  ');
  return [line(head), ...body.map(line)].join('\n');
}

/**
 * The CSV text in CmdStan's layout: `#` comment lines, header `lp__,...`, one row per draw.
 * @example cmdstanCsv({ names: ['mu'], columns: [Float64Array.of(0.5)] }, Float64Array.of(-1.2), ['seed = 0'])
 * // '# seed = 0\nlp__,mu\n-1.2,0.5\n'
 */
export function cmdstanCsv(t: DrawTable, lp: Float64Array, comments: string[]): string {
  const lines = comments.map((c) => `# ${c}`);
  lines.push(['lp__', ...t.names].join(','));
  for (let s = 0; s < lp.length; s++) lines.push([lp[s], ...t.columns.map((c) => c[s])].map((x) => String(x)).join(','));
  return lines.join('\n') + '\n';
}

/**
 * The loss trace as a one-line picture (eight levels, resampled to `width` columns).
 * @example sparkline(Float64Array.of(3, 2, 1)) // '█▅▁'
 */
export function sparkline(values: Float64Array, width = 60): string {
  if (values.length === 0) return '';
  const bars = '▁▂▃▄▅▆▇█';
  const n = Math.min(width, values.length);
  const pts = Array.from({ length: n }, (_, i) => {
    const a = Math.floor((i * values.length) / n);
    const b = Math.max(a + 1, Math.floor(((i + 1) * values.length) / n));
    let s = 0;
    for (let k = a; k < b; k++) s += values[k];
    return s / (b - a);
  });
  const fin = pts.filter(Number.isFinite);
  const lo = Math.min(...fin);
  const hi = Math.max(...fin);
  return pts.map((p) => (Number.isFinite(p) ? bars[hi === lo ? 0 : Math.round(((p - lo) / (hi - lo)) * 7)] : ' ')).join('');
}
