/**
 * Settings scoped to a call tree, for servers that run several fits at once: `withSettings`
 * (exported from backends/registry.ts) runs a function — synchronous or async, across its awaits —
 * with its own backend, argument validation and CUDA-graph default, while the process-wide
 * switches (`setBackend`, `setValidateArgs`, `setCudaGraphs`) stay what they were for everyone else.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Backend } from '../backends/backend.js';

/** What a scope may override. */
export interface ScopedSettings {
  /** The backend that new tensors and host ops use. */
  backend?: Backend;
  /** Whether distributions made in the scope check their arguments. */
  validateArgs?: boolean;
  /** The default of compile's `graphs` option in the scope. */
  cudaGraphs?: boolean;
}

const storage = new AsyncLocalStorage<ScopedSettings>();
/** Whether any scope was ever entered: until then the store lookup (on every op) is skipped. */
let entered = false;

/** The settings of the innermost scope, or undefined outside every scope. */
export function scopedSettings(): ScopedSettings | undefined {
  return entered ? storage.getStore() : undefined;
}

/** Runs `fn` with `settings` over the enclosing scope's (or the process's) settings. */
export function runScoped<T>(settings: ScopedSettings, fn: () => T): T {
  entered = true;
  return storage.run({ ...storage.getStore(), ...settings }, fn);
}
