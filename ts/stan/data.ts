/**
 * Stan data in Stan's JSON format, checked against a declaration: presence, shape (arrays of
 * rows for matrices, nested arrays for arrays), integer values for `int`, and the declared bounds.
 */
import type { Tensor } from '../core/tensor.js';
import { tensor } from '../ops/creation.js';
import { StanDataError } from './errors.js';

/** JSON's stand-ins for non-finite numbers in Stan's format. */
function jsonNumber(x: unknown): number | null {
  if (typeof x === 'number') return x;
  if (x === 'Inf' || x === 'Infinity' || x === '+Inf') return Infinity;
  if (x === '-Inf' || x === '-Infinity') return -Infinity;
  if (x === 'NaN') return NaN;
  return null;
}

/**
 * Reads data variable `name` of the given full shape (array dims then vector/matrix sizes) from
 * `json`, checking shape, integrality and bounds. Scalars come back as numbers.
 * @example readData({ N: 3 }, 'N', [], true, 0, null) // 3
 */
export function readData(json: Record<string, unknown>, name: string, shape: number[], isInt: boolean, lower: number | null, upper: number | null): number | Tensor {
  if (!(name in json)) throw new StanDataError(name, `a value of shape [${shape.join(', ')}]`, 'no such variable in the data');
  const flat: number[] = [];
  const walk = (v: unknown, d: number, path: string): void => {
    if (d === shape.length) {
      const x = jsonNumber(Array.isArray(v) && v.length === 1 && shape.length === 0 ? v[0] : v);
      if (x === null) throw new StanDataError(name, `a number at ${path || 'the top level'}`, JSON.stringify(v)?.slice(0, 40) ?? String(v));
      if (isInt && !Number.isInteger(x)) throw new StanDataError(name + path, 'an integer', String(x));
      if (lower !== null && !(x >= lower)) throw new StanDataError(name + path, `a value >= ${lower}`, String(x));
      if (upper !== null && !(x <= upper)) throw new StanDataError(name + path, `a value <= ${upper}`, String(x));
      flat.push(x);
      return;
    }
    if (!Array.isArray(v)) {
      // A size-1 dimension may be given as a bare number.
      if (shape[d] === 1 && jsonNumber(v) !== null) return walk([v], d, path);
      throw new StanDataError(name, `an array of length ${shape[d]} at ${path || 'the top level'} (shape [${shape.join(', ')}])`, JSON.stringify(v)?.slice(0, 40) ?? String(v));
    }
    if (v.length !== shape[d]) throw new StanDataError(name, `length ${shape[d]} at ${path || 'the top level'} (shape [${shape.join(', ')}])`, `length ${v.length}`);
    v.forEach((x, i) => walk(x, d + 1, `${path}[${i + 1}]`));
  };
  walk(json[name], 0, '');
  if (shape.length === 0) return flat[0];
  return tensor(Float64Array.from(flat), shape);
}
