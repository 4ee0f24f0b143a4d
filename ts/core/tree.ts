/** Pytrees: nested plain objects and arrays whose leaves are tensors (other leaves pass through). */
import { Tensor } from './tensor.js';

/** A nested structure of tensors. */
export type Tree = Tensor | readonly Tree[] | { readonly [k: string]: Tree };

/** An object's keys in sorted order; they often come sorted already (trees built by mapLeaves), and then need no sort. */
function sortedKeys(o: object): string[] {
  const ks = Object.keys(o);
  for (let i = 1; i < ks.length; i++) if (ks[i - 1] > ks[i]) return ks.sort();
  return ks;
}

/** The leaves of a pytree, in a fixed order (object keys sorted). */
export function leaves(t: unknown, out: Tensor[] = []): Tensor[] {
  if (t instanceof Tensor) out.push(t);
  else if (Array.isArray(t)) for (const v of t) leaves(v, out);
  else if (t !== null && typeof t === 'object') for (const k of sortedKeys(t)) leaves((t as Record<string, unknown>)[k], out);
  return out;
}

/** Rebuilds `t`'s structure with its tensor leaves replaced, in `leaves` order, by `f(leaf, i)`. */
export function mapLeaves<T>(t: T, f: (x: Tensor, i: number) => Tensor): T {
  let i = 0;
  const go = (x: unknown): unknown => {
    if (x instanceof Tensor) return f(x, i++);
    if (Array.isArray(x)) return x.map(go);
    if (x !== null && typeof x === 'object') {
      const o: Record<string, unknown> = {};
      for (const k of sortedKeys(x)) o[k] = go((x as Record<string, unknown>)[k]);
      return o;
    }
    return x;
  };
  return go(t) as T;
}
