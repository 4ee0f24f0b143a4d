/**
 * Pytrees for `compile`: nested arrays and plain objects whose leaves are tensors, keys, or static
 * values (numbers, strings, booleans, null, undefined, and other objects taken by identity).
 * Flattening yields the tensor and key leaves in a fixed order and a signature string: two calls
 * with the same signature have the same structure, shapes, dtypes, devices and static values.
 */
import { Tensor } from '../core/tensor.js';
import { Key } from '../random/key.js';

const objectIds = new WeakMap<object, number>();
let nextObjectId = 1;

function idOf(o: object): number {
  let id = objectIds.get(o);
  if (id === undefined) {
    id = nextObjectId++;
    objectIds.set(o, id);
  }
  return id;
}

function isPlain(x: object): boolean {
  const p: unknown = Object.getPrototypeOf(x);
  return p === Object.prototype || p === null;
}

/** The leaves of a flattened pytree and its signature. */
export interface Flat {
  tensors: Tensor[];
  keys: Key[];
  sig: string;
}

/** Flattens `x`, appending to `out` (object keys in sorted order, as `leaves` does). */
export function flatten(x: unknown, out: Flat = { tensors: [], keys: [], sig: '' }): Flat {
  const parts: string[] = [];
  const go = (v: unknown): void => {
    if (v instanceof Tensor) {
      out.tensors.push(v);
      parts.push(`T${v.dtype}[${v.shape.join(',')}]${v.backend.device}`);
    } else if (v instanceof Key) {
      out.keys.push(v);
      parts.push('K');
    } else if (v instanceof Marker) {
      parts.push(`M${v.kind[0]}${v.index}`);
    } else if (Array.isArray(v)) {
      parts.push('[');
      for (const e of v) go(e);
      parts.push(']');
    } else if (v !== null && typeof v === 'object') {
      if (!isPlain(v)) {
        parts.push(`o${idOf(v)}`);
        return;
      }
      parts.push('{');
      for (const k of Object.keys(v).sort()) {
        parts.push(`${JSON.stringify(k)}:`);
        go((v as Record<string, unknown>)[k]);
      }
      parts.push('}');
    } else if (typeof v === 'function') parts.push(`f${idOf(v)}`);
    else if (typeof v === 'number') parts.push(`n${Object.is(v, -0) ? '-0' : String(v)}`);
    else if (typeof v === 'string') parts.push(`s${JSON.stringify(v)}`);
    else parts.push(String(v));
    parts.push(',');
  };
  go(x);
  out.sig += parts.join('');
  return out;
}

/** A leaf marker in an output template. */
export type TemplateLeaf = { readonly tensor: number } | { readonly key: number };

/** Rebuilds a pytree from a template, mapping tensor and key markers. */
export function rebuild(template: unknown, tensorAt: (i: number) => unknown, keyAt: (i: number) => unknown): unknown {
  const go = (v: unknown): unknown => {
    if (v instanceof Marker) return v.kind === 'tensor' ? tensorAt(v.index) : keyAt(v.index);
    if (Array.isArray(v)) return v.map(go);
    if (v !== null && typeof v === 'object' && isPlain(v)) {
      const o: Record<string, unknown> = {};
      for (const k of Object.keys(v)) o[k] = go((v as Record<string, unknown>)[k]);
      return o;
    }
    return v;
  };
  return go(template);
}

/** A placeholder for a tensor or key leaf in a template. */
export class Marker {
  constructor(
    readonly kind: 'tensor' | 'key',
    readonly index: number,
  ) {}
}

/** `x` with its tensor and key leaves replaced, in flatten order, by `f`'s results. */
export function mapTree(x: unknown, f: (leaf: Tensor | Key) => unknown): unknown {
  const go = (v: unknown): unknown => {
    if (v instanceof Tensor || v instanceof Key) return f(v);
    if (Array.isArray(v)) return v.map(go);
    if (v !== null && typeof v === 'object' && isPlain(v)) {
      const o: Record<string, unknown> = {};
      for (const k of Object.keys(v).sort()) o[k] = go((v as Record<string, unknown>)[k]);
      return o;
    }
    return v;
  };
  return go(x);
}
