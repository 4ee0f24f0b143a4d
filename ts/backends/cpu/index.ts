/** The cpu backend: Rust kernels from native/ over the same typed arrays as the js backend. */
import type { Backend } from '../backend.js';

export interface LoadResult {
  backend?: Backend;
  /** Why the backend is unavailable. */
  reason?: string;
}

/** Loads the native addon; never throws. */
export function loadCpuBackend(): LoadResult {
  return { reason: 'the Rust addon is not built yet' };
}
