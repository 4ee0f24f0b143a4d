/**
 * Checking a node's parameters: a constant (a number, or one per plate element) or a latent
 * variable of a conjugate family; anything else is a NonConjugateError naming both nodes.
 */
import { ShapeError, ValueError } from '../../core/errors.js';
import { NonConjugateError, VmpVariable, describe } from './node.js';

/** A checked scalar parameter: constants broadcast over the plate, or a variable. */
export type Checked<V extends VmpVariable> = { readonly c: Float64Array; readonly v: null } | { readonly c: null; readonly v: V };

/** Whether values must be positive, in (0, 1), or anything finite. */
export type Support = 'real' | 'positive' | 'unit';

/**
 * Checks `p`, the `arg` of node `site`: a number or `size` numbers in `support`, or a variable of
 * class `cls` (plate 1 or `size`). `conjugate` names the family expected, for the error.
 */
export function scalarParam<V extends VmpVariable>(
  site: string,
  arg: string,
  p: unknown,
  size: number,
  support: Support,
  cls: abstract new (...a: never[]) => V,
  conjugate: string,
): Checked<V> {
  if (p instanceof VmpVariable) {
    if (!(p instanceof cls))
      throw new NonConjugateError(
        `vmp: the ${arg} of '${site}' is ${describe(p)}, which is not conjugate to it; VMP needs a constant or ${conjugate} there (no closed-form message exists otherwise)`,
      );
    if (p.size !== 1 && p.size !== size)
      throw new ShapeError(`vmp: the ${arg} of '${site}' is '${p.name}' with plate size ${p.size}; '${site}' has plate size ${size} (need 1 or ${size})`);
    return { c: null, v: p };
  }
  return { c: constants(site, arg, p, size, 1, support), v: null };
}

/**
 * Checks constants: a number (broadcast) or `size · width` numbers, finite and in `support`.
 * Returns `size · width` values (a number is repeated).
 */
export function constants(site: string, arg: string, p: unknown, size: number, width: number, support: Support): Float64Array {
  let out: Float64Array;
  if (typeof p === 'number') out = new Float64Array(size * width).fill(p);
  else if (p !== null && typeof p === 'object' && 'length' in p) {
    const a = p as ArrayLike<number>;
    if (a.length === width && size !== 1) {
      out = new Float64Array(size * width);
      for (let i = 0; i < size; i++) for (let j = 0; j < width; j++) out[i * width + j] = a[j];
    } else if (a.length === size * width) out = Float64Array.from(a);
    else throw new ShapeError(`vmp: the ${arg} of '${site}' has ${a.length} entries; expected ${width}${size !== 1 ? ` or ${size} × ${width} = ${size * width}` : ''}`);
  } else throw new NonConjugateError(`vmp: the ${arg} of '${site}' is ${describe(p)}; expected a number, an array of numbers or a variable`);
  checkValues(site, arg, out, support);
  return out;
}

/** Throws ValueError naming the node and argument if a value is not finite or outside `support`. */
export function checkValues(site: string, arg: string, x: ArrayLike<number>, support: Support): void {
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    const ok = Number.isFinite(v) && (support === 'real' || (support === 'positive' ? v > 0 : v > 0 && v < 1));
    if (!ok) {
      const want = support === 'real' ? 'finite' : support === 'positive' ? 'positive and finite' : 'in (0, 1)';
      throw new ValueError(`vmp: the ${arg} of '${site}' has entry ${i} = ${v}; it must be ${want}`);
    }
  }
}

/** Checks observed data: a non-empty array of finite numbers, integers ≥ 0 (or in {0, 1}, or < k) where asked. */
export function observed(site: string, data: unknown, kind: 'real' | 'count' | 'binary' | number): Float64Array {
  if (data === null || typeof data !== 'object' || !('length' in data)) throw new ValueError(`vmp: the observed data of '${site}' must be an array of numbers, got ${describe(data)}`);
  // Data are read, never written: a Float64Array is used as given.
  const x = data instanceof Float64Array ? data : Float64Array.from(data as ArrayLike<number>);
  if (x.length === 0) throw new ValueError(`vmp: the observed data of '${site}' is empty`);
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    if (!Number.isFinite(v)) throw new ValueError(`vmp: the observed data of '${site}' has entry ${i} = ${v}; observations must be finite (no NaN or Inf)`);
    if (kind === 'count' && !(Number.isInteger(v) && v >= 0)) throw new ValueError(`vmp: the observed counts of '${site}' have entry ${i} = ${v}; a Poisson count is an integer >= 0`);
    if (kind === 'binary' && v !== 0 && v !== 1) throw new ValueError(`vmp: the observed data of '${site}' has entry ${i} = ${v}; a Bernoulli outcome is 0 or 1`);
    if (typeof kind === 'number' && !(Number.isInteger(v) && v >= 0 && v < kind))
      throw new ValueError(`vmp: the observed categories of '${site}' have entry ${i} = ${v}; expected an integer in [0, ${kind})`);
  }
  return x;
}

/** The value of a checked constant parameter at plate element i (broadcast when it has one entry). */
export function at(c: Float64Array, i: number): number {
  return c.length === 1 ? c[0] : c[i];
}
