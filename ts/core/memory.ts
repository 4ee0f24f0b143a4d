/** Memory scopes for native and device tensors (cpu tensors are also reclaimed by the GC). */
import { collectTensors, ENGINE } from './engine.js';
import { Tensor } from './tensor.js';

/**
 * Runs `fn` and disposes every tensor created inside it, except those it returns (anywhere in a
 * pytree) and those passed to `keep`.
 * @example const y = tidy(() => sum(exp(x)))
 */
export function tidy<T>(fn: () => T): T {
  return ENGINE.tidy(fn);
}

/**
 * Keeps `t` alive past the enclosing `tidy` scopes.
 * @example const kept = tidy(() => { const t = keep(exp(x)); return sum(t); }); // t survives the scope
 */
export function keep<T extends Tensor>(t: T): T {
  return ENGINE.keep(t);
}

/**
 * Disposes every tensor in a pytree.
 * @example dispose({ w, b }); // frees both now
 */
export function dispose(tree: unknown): void {
  const s = new Set<Tensor>();
  collectTensors(tree, s);
  for (const t of s) t.dispose();
}
