/**
 * Column standardization with a training split's statistics, as the UCI protocol prescribes:
 * z = (x − mean) / sd per column (sd with divisor n, as NumPy's default), and back.
 */
import { ValueError } from '../../core/errors.js';

/** Options of `fitStandardizer`. */
export interface StandardizerOptions {
  /** What a column with zero variance does: 'error' (default) or 'unit' (sd taken as 1, the protocol's choice). */
  onZeroVariance?: 'error' | 'unit';
  /** Named in errors, e.g. 'concrete split 3'. */
  name?: string;
}

/** Per-column statistics and the maps they define. */
export interface Standardizer {
  /** Mean of each column. */
  readonly mean: Float64Array;
  /** Standard deviation of each column (divisor n; 1 for a constant column under 'unit'). */
  readonly sd: Float64Array;
  /** Standardizes rows [m, d] (row-major) into a new array of the same length. */
  apply(rows: ArrayLike<number>): Float64Array;
  /** The inverse map. */
  invert(rows: ArrayLike<number>): Float64Array;
}

/**
 * The standardizer of `cols` columns fitted on row-major `rows`.
 * @example
 * const s = fitStandardizer(xTrain, 8);
 * const z = s.apply(xTest); // standardized with the training statistics
 */
export function fitStandardizer(rows: ArrayLike<number>, cols: number, opts: StandardizerOptions = {}): Standardizer {
  const who = opts.name !== undefined ? `fitStandardizer (${opts.name})` : 'fitStandardizer';
  if (!(Number.isInteger(cols) && cols >= 1)) throw new ValueError(`${who}: cols must be a positive integer, got ${cols}`);
  if (rows.length === 0 || rows.length % cols !== 0) throw new ValueError(`${who}: ${rows.length} values are not a whole, non-zero number of rows of ${cols} columns`);
  const n = rows.length / cols;
  const mean = new Float64Array(cols);
  const sd = new Float64Array(cols);
  for (let i = 0; i < n; i++) for (let j = 0; j < cols; j++) mean[j] += rows[i * cols + j] / n;
  for (let i = 0; i < n; i++) for (let j = 0; j < cols; j++) sd[j] += (rows[i * cols + j] - mean[j]) ** 2 / n;
  for (let j = 0; j < cols; j++) {
    sd[j] = Math.sqrt(sd[j]);
    if (!Number.isFinite(sd[j])) throw new ValueError(`${who}: column ${j} has a non-finite value`);
    if (sd[j] === 0) {
      if (opts.onZeroVariance === 'unit') sd[j] = 1;
      else throw new ValueError(`${who}: column ${j} has zero variance over the ${n} rows (constant ${mean[j]}); drop it or pass onZeroVariance: 'unit'`);
    }
  }
  const map = (r: ArrayLike<number>, f: (v: number, j: number) => number): Float64Array => {
    if (r.length % cols !== 0) throw new ValueError(`${who}: ${r.length} values are not whole rows of ${cols} columns`);
    const out = new Float64Array(r.length);
    for (let i = 0; i < r.length; i++) out[i] = f(r[i], i % cols);
    return out;
  };
  return { mean, sd, apply: (r) => map(r, (v, j) => (v - mean[j]) / sd[j]), invert: (r) => map(r, (v, j) => v * sd[j] + mean[j]) };
}
