/**
 * Registers the backends present in this process: js always, cpu when the Rust addon loads, cuda
 * when the CUDA addon loads and sees a device. The default is cpu when present, else js; the
 * environment variable VARINF_BACKEND overrides it.
 */
import { ENGINE } from '../core/engine.js';
import { BackendError, ValueError } from '../core/errors.js';
import { runScoped, type ScopedSettings } from '../core/settings.js';
import type { Backend } from './backend.js';
import { loadCpuBackend } from './cpu/index.js';
import { loadCudaBackend } from './cuda/index.js';
import { jsBackend } from './js/index.js';

/** Why each optional backend is missing, by name. */
const missing = new Map<string, string>();

ENGINE.register(jsBackend);
const cpu = loadCpuBackend();
if (cpu.backend) ENGINE.register(cpu.backend);
else missing.set('cpu', cpu.reason ?? 'unknown');
const cuda = loadCudaBackend();
if (cuda.backend) ENGINE.register(cuda.backend);
else missing.set('cuda', cuda.reason ?? 'unknown');

const wanted = process.env.VARINF_BACKEND;
if (wanted !== undefined && wanted !== '') ENGINE.setBackend(wanted);
else ENGINE.setBackend(cpu.backend ? 'cpu' : 'js');
if (!cpu.backend && process.env.VARINF_QUIET === undefined)
  process.stderr.write(`varinf: native cpu backend unavailable (${missing.get('cpu')}); using the js backend.\n`);

/**
 * Chooses the backend for new tensors and for ops on cpu tensors: 'js', 'cpu' or 'cuda'.
 * @example setBackend('cuda')
 */
export function setBackend(name: string): void {
  if (!ENGINE.backendNames().includes(name)) {
    const why = missing.get(name);
    throw new BackendError(`setBackend: backend '${name}' is not available${why ? `: ${why}` : ''}`);
  }
  ENGINE.setBackend(name);
}

/** What {@link withSettings} may set for the functions it runs. */
export interface Settings {
  /** The backend for new tensors and host ops: 'js', 'cpu' or 'cuda' (as {@link setBackend}). */
  backend?: string;
  /** Whether distributions check their arguments and support (as `setValidateArgs`). */
  validateArgs?: boolean;
  /** Whether compiled steps on the GPU replay as CUDA graphs by default (as `setCudaGraphs`). */
  cudaGraphs?: boolean;
}

/**
 * Runs `fn` — synchronous or async, through all its awaits — with `settings` in force, over the
 * enclosing scope's or the process's: concurrent requests on a server can fit on different
 * backends or with validation off without touching the process-wide switches. Returns what `fn`
 * returns (its promise, for an async `fn`). Scopes nest; `setBackend` inside a scope still
 * changes the process-wide default, which the scope's own setting overrides.
 * @example
 * const r = await withSettings({ backend: 'js', validateArgs: false }, () => fit(model, args, { key: key(0) }));
 */
export function withSettings<T>(settings: Settings, fn: () => T): T {
  const scoped: ScopedSettings = {};
  if (settings.backend !== undefined) {
    if (!ENGINE.backendNames().includes(settings.backend)) {
      const why = missing.get(settings.backend);
      throw new BackendError(`withSettings: backend '${settings.backend}' is not available${why ? `: ${why}` : ` (have: ${ENGINE.backendNames().join(', ')})`}`);
    }
    scoped.backend = ENGINE.getBackend(settings.backend);
  }
  for (const name of ['validateArgs', 'cudaGraphs'] as const) {
    const v = settings[name];
    if (v !== undefined && typeof v !== 'boolean') throw new ValueError(`withSettings: ${name} must be a boolean, got ${String(v)}`);
    if (v !== undefined) scoped[name] = v;
  }
  return runScoped(scoped, fn);
}

/**
 * The name of the active backend (the innermost {@link withSettings} scope's, else the process's).
 * @example getBackend() // 'cpu' when the native addon loaded, else 'js'
 */
export function getBackend(): string {
  return ENGINE.backend.name;
}

/**
 * The registered backends, and why each missing optional one is missing.
 * @example listBackends().missing // e.g. { cuda: 'the CUDA addon is not built (…)' }
 */
export function listBackends(): {
  /** Names of the backends that loaded, e.g. ['js', 'cpu']. */
  available: string[];
  /** For each optional backend that did not load, the reason. */
  missing: Record<string, string>;
} {
  return { available: ENGINE.backendNames(), missing: Object.fromEntries(missing) };
}

/** Why optional backend `name` is missing (the addon's load error), if it is. */
export function whyMissing(name: string): string | undefined {
  return missing.get(name);
}

/** The backend object by name (for tests and benchmarks). */
export function backendByName(name: string): Backend {
  return ENGINE.getBackend(name);
}

/** How float32 matrix products may round on the GPU (CPU backends always compute in float32). */
export type MatmulPrecision = 'highest' | 'tf32' | 'bf16';
const PRECISIONS: readonly MatmulPrecision[] = ['highest', 'tf32', 'bf16'];
let matmulPrecision: MatmulPrecision = 'highest';

/**
 * Lets float32 matrix products on the cuda backend use tensor cores: 'tf32' (inputs rounded to
 * 10 mantissa bits, cuBLAS's TF32 math mode), 'bf16' (inputs rounded to bfloat16, 7 bits, float32
 * accumulation and output), or 'highest' (full float32, the default). The same trade as PyTorch's
 * `torch.set_float32_matmul_precision`; float64 products are never rounded.
 * @example setMatmulPrecision('tf32')
 */
export function setMatmulPrecision(precision: MatmulPrecision): void {
  const mode = PRECISIONS.indexOf(precision);
  if (mode < 0) throw new BackendError(`setMatmulPrecision: precision must be one of ${PRECISIONS.join(', ')}, got ${String(precision)}`);
  cuda.addon?.setMatmulPrecision(mode);
  matmulPrecision = precision;
}

/**
 * The current float32 matrix-product precision on the GPU (see setMatmulPrecision).
 * @example getMatmulPrecision() // 'highest' unless set
 */
export function getMatmulPrecision(): MatmulPrecision {
  return matmulPrecision;
}

/**
 * Kernels that ran on js because the chosen backend lacks them, as `backend:kernel`.
 * @example fallbacks() // e.g. ['cuda:besselI0e']
 */
export function fallbacks(): string[] {
  return [...ENGINE.fallbackLog].sort();
}
