/**
 * SBC rank statistics. For a variable with true value θ* and L posterior draws θ_1..θ_L, the rank
 * is #{l : θ_l < θ*} ∈ {0, …, L}; ties are split uniformly at random (a tie of t draws adds a
 * uniform integer in 0..t), so discrete parameters get uniform ranks too. If the draws come from
 * the exact posterior, the rank is uniform on {0, …, L} (Talts et al. 2018, Theorem 1). The draws
 * are thinned first to L evenly spaced ones, which for autocorrelated (MCMC) draws should be about
 * the effective sample size; VI draws are independent and may be used whole.
 */
import { ShapeError, ValueError, fmtShape } from '../../core/errors.js';
import { Tensor } from '../../core/tensor.js';
import type { SbcDraws } from './backend.js';
import type { ParameterValue } from './generator.js';
import { mulberry32 } from '../../random/mulberry.js';

/** Where a flattened variable comes from. */
export interface VariableOrigin {
  /** The parameter's name. */
  parameter: string;
  /** The variable's offset in the parameter's flattened (row-major) value. */
  offset: number;
}

/** Variables flattened from parameters: names like `theta[3]` (or `mu` for scalars), and values. */
export interface FlatVariables {
  /** Variable names, in parameter order, then row-major within a parameter. */
  names: string[];
  /** The parameter each variable belongs to, and its offset in the parameter's flattened value. */
  of: VariableOrigin[];
  /** Values, one per variable. */
  values: Float64Array;
}

function flatValue(v: ParameterValue): { data: ArrayLike<number>; shape: number[] } {
  if (typeof v === 'number') return { data: [v], shape: [] };
  if (v instanceof Tensor) return { data: v.dataSync(), shape: v.shape.slice() };
  return { data: v, shape: [v.length] };
}

function indexName(name: string, shape: number[], i: number): string {
  if (shape.length === 0) return name;
  const idx: number[] = [];
  let r = i;
  for (let d = shape.length - 1; d >= 0; d--) {
    idx.unshift(r % shape[d]);
    r = Math.floor(r / shape[d]);
  }
  return `${name}[${idx.join(',')}]`;
}

/**
 * Flattens parameters into scalar variables (`theta[0]`, `theta[1]`, … row-major; `mu` for a
 * scalar; `Sigma[0,1]` for a matrix).
 * @example flattenParameters({ mu: 0.5, theta: [1, 2] }).names // ['mu', 'theta[0]', 'theta[1]']
 */
export function flattenParameters(parameters: Record<string, ParameterValue>): FlatVariables {
  const names: string[] = [];
  const of: VariableOrigin[] = [];
  const values: number[] = [];
  for (const [name, v] of Object.entries(parameters)) {
    const { data, shape } = flatValue(v);
    for (let i = 0; i < data.length; i++) {
      names.push(indexName(name, shape, i));
      of.push({ parameter: name, offset: i });
      values.push(data[i]);
    }
  }
  return { names, of, values: Float64Array.from(values) };
}

/**
 * The draws of one parameter as S rows of its flattened value.
 * Shapes: a tensor [S, ...shape] gives S rows of prod(shape); a Float64Array gives S rows of 1.
 */
export function drawRows(name: string, draws: SbcDraws): { rows: number; cols: number; data: Float64Array } {
  const d = draws[name];
  if (d === undefined) throw new ValueError(`sbc: the backend returned no draws of parameter '${name}' (it returned ${Object.keys(draws).join(', ') || 'nothing'})`);
  if (d instanceof Float64Array) return { rows: d.length, cols: 1, data: d };
  if (d instanceof Tensor) {
    if (d.rank === 0) throw new ShapeError(`sbc: draws of '${name}' have shape ${fmtShape(d.shape)}; the leading axis must be the draws`);
    const rows = d.shape[0];
    const cols = rows === 0 ? 0 : d.size / rows;
    return { rows, cols, data: Float64Array.from(d.dataSync()) };
  }
  const rows = d.length;
  const cols = rows === 0 ? 0 : d[0].length;
  const data = new Float64Array(rows * cols);
  d.forEach((row, s) => {
    if (row.length !== cols) throw new ShapeError(`sbc: draw ${s} of '${name}' has ${row.length} values, draw 0 has ${cols}`);
    for (let j = 0; j < cols; j++) data[s * cols + j] = row[j];
  });
  return { rows, cols, data };
}

/**
 * Indices of L evenly spaced draws out of S: ⌊l·S/L⌋ for l = 0..L−1 (all S when L ≥ S).
 * @example thinIndices(10, 5) // [0, 2, 4, 6, 8]
 */
export function thinIndices(S: number, L: number): Int32Array {
  if (!Number.isInteger(L) || L < 1) throw new ValueError(`sbc: rankDraws must be a positive integer, got ${L}`);
  if (L > S) throw new ValueError(`sbc: rankDraws is ${L} but the backend returned only ${S} draws`);
  const out = new Int32Array(L);
  for (let l = 0; l < L; l++) out[l] = Math.floor((l * S) / L);
  return out;
}

/** A small deterministic uniform generator (mulberry32) for splitting ties; seeded per simulation. */
export const tieUniforms = mulberry32;

/**
 * The rank of `truth` among `draws`: #{draws < truth} plus a uniform share of the ties.
 * A non-finite draw or truth is a ValueError naming `what`.
 * @example rankOf(0.5, [0.1, 0.7, 0.3], () => 0) // 2
 */
export function rankOf(truth: number, draws: ArrayLike<number>, u: () => number, what = 'variable'): number {
  if (!Number.isFinite(truth)) throw new ValueError(`sbc: the true value of ${what} is ${truth}`);
  let below = 0;
  let ties = 0;
  for (let l = 0; l < draws.length; l++) {
    const x = draws[l];
    if (!Number.isFinite(x)) throw new ValueError(`sbc: posterior draw ${l} of ${what} is ${x}`);
    if (x < truth) below++;
    else if (x === truth) ties++;
  }
  return ties === 0 ? below : below + Math.min(ties, Math.floor(u() * (ties + 1)));
}
