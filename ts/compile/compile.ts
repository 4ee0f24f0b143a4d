/**
 * `compile(fn)`: trace once per input signature, replay as generated code.
 *
 * Tracing runs `fn` eagerly with a recorder installed, so whatever `fn` does with tensors (a
 * forward pass, `valueAndGrad`'s backward pass, an optimizer update) is recorded kernel by kernel
 * into one graph. The graph is optimized (identities, common subexpressions, dead code; constant
 * folding happened while recording) and turned into a JavaScript function over preallocated
 * buffers (ts/compile/codegen.ts). Later calls with the same signature only run that function.
 *
 * The contract, as with `jax.jit`:
 * - Tensors and keys in the arguments are inputs; everything else in the arguments (numbers,
 *   strings, other objects by identity) is part of the signature, and a change retraces.
 * - A different shape, dtype or device of any input tensor retraces (one graph per signature, in
 *   a bounded LRU cache).
 * - Tensors `fn` reads from its closure, and JavaScript numbers it computes, are baked in as
 *   constants at trace time. Keys derived from input keys by `split`/`foldIn` are re-derived
 *   from the actual input keys at every call, so random draws follow the keys passed in.
 * - Host reads of traced values (`item`, `dataSync`, `data`, `toString`) raise a `CompileError`
 *   naming the op: data-dependent control flow cannot be replayed.
 * - With `verify` (default), the second call of each signature traces again and compares the two
 *   graphs and output structures; a function that is not pure in its inputs (closure state,
 *   Math.random) raises a `CompileError` instead of replaying a stale graph.
 * - Outputs are fresh tensors at every call (intermediates are reused buffers).
 */
import { ENGINE } from '../core/engine.js';
import { allocArray, type DType } from '../core/dtype.js';
import { Tensor } from '../core/tensor.js';
import type { Backend } from '../backends/backend.js';
import { Key } from '../random/key.js';
import { buildPlan, type Plan, type PlanStats } from './codegen.js';
import { buildDevicePlan, cudaGraphsByDefault } from './device-plan.js';
import { CompileError } from './errors.js';
import { fingerprint, optimize, type Graph } from './graph.js';
import { Recorder } from './recorder.js';
import { flatten, mapTree, Marker, rebuild } from './tree.js';

/** Options of {@link compile}. */
export interface CompileOptions {
  /** Graphs kept (one per input signature), least recently used evicted first. Default 16. */
  maxCacheEntries?: number;
  /** Trace the second call of each signature again and check it records the same graph. Default true. */
  verify?: boolean;
  /**
   * Kernels with at least this much work (output elements; multiply-adds for matmul and solves)
   * run as calls into the backend (the Rust addon) instead of generated JavaScript; arithmetic
   * and data movement stay generated up to 16 times that, and matrix-vector products always do.
   * Default 16384 (see bench/vi/eight-schools.ts and bench/vi/svi-scale.ts).
   */
  largeThreshold?: number;
  /**
   * @internal Replay every kernel as a backend call over preallocated buffers (the device path,
   * ts/compile/device-plan.ts) also on the cpu device, so tests exercise it without a GPU.
   */
  backendCalls?: boolean;
  /**
   * On a device backend, record the step's kernel launches once and replay them as one launch
   * (CUDA graphs; ts/compile/device-plan.ts). `stats.graph` says whether it recorded. Default
   * {@link cudaGraphsByDefault} (off unless {@link setCudaGraphs} or VARINF_CUDA_GRAPHS=1).
   */
  graphs?: boolean;
}

/** One traced and generated graph, with what is needed to call it directly. */
export interface Lowered {
  /** Generated code over typed arrays on the cpu device; backend calls over device storage otherwise. */
  readonly plan: Plan<unknown>;
  /** The output pytree with `Marker`s for tensor and key leaves. */
  readonly template: unknown;
  /** Tensor inputs and key inputs the plan takes, in flatten order. */
  readonly numInputs: number;
  /** Key inputs the plan takes. */
  readonly numKeys: number;
  /** Key slot of each output key marker. */
  readonly outputKeys: readonly number[];
  /** The backend whose device holds the inputs and outputs. */
  readonly backend: Backend;
  /** A hash of the optimized graph and the output structure: equal fingerprints mean the same generated plan. */
  readonly fingerprint: string;
  /** The input signature (shapes, dtypes, devices and static values of the arguments) this graph was traced for. */
  readonly signature: string;
}

/** A compiled function: same contract as the function it compiles. */
export interface CompiledFunction<A extends unknown[], R> {
  (...args: A): R;
  /** Traces (if needed) and returns the graph for these arguments, without running it. */
  lower(...args: A): Lowered;
  /** How many traces have run (first traces, verification traces excluded). */
  readonly traces: number;
  /** Statistics of the most recently used graph. */
  readonly stats: PlanStats | null;
  /** Drops every cached graph. */
  clear(): void;
}

interface Entry {
  lowered: Lowered;
  calls: number;
}

/** The default size from which kernels run on the backend rather than generated code. */
export const DEFAULT_LARGE_THRESHOLD = 16384;

/** The backend the inputs' device computes on (the active backend's device when there are no inputs). */
function deviceBackend(tensors: readonly Tensor[]): Backend {
  const dev = tensors.length > 0 ? tensors[0].backend.device : ENGINE.backend.device;
  for (const t of tensors)
    if (t.backend.device !== dev)
      throw new CompileError(`compile: input tensors live on different devices (${dev} and ${t.backend.device}, shape [${t.shape.join(', ')}]); move them with toDevice first`);
  return ENGINE.computeFor(dev);
}

/** A traced and optimized graph, before code generation. */
interface Traced {
  g: Graph;
  template: unknown;
  flat: ReturnType<typeof flatten>;
  backend: Backend;
  fingerprint: string;
}

/** Traces `fn` on `args` and optimizes the graph. */
function trace<A extends unknown[], R>(fn: (...args: A) => R, args: A): Traced {
  const flat = flatten(args);
  const backend = deviceBackend(flat.tensors);
  const rec = new Recorder();
  let ti = 0;
  let ki = 0;
  const wrapped = (args as unknown[]).map((a) =>
    mapTree(a, (leaf) => {
      if (leaf instanceof Tensor) {
        const v = ENGINE.toBackend(leaf, leaf.backend);
        rec.input(v, ti++);
        return v;
      }
      rec.inputKey(leaf, ki++);
      return leaf;
    }),
  ) as A;
  // No tidy scope: tensors made while tracing may be cached by the caller's objects (an ELBO's
  // constants), and on the cpu device the garbage collector reclaims the rest.
  const out = rec.run(() => fn(...wrapped));
  const g = rec.graph;
  const template = mapTree(out, (leaf) => {
    if (leaf instanceof Tensor) {
      g.outputs.push(rec.ref(leaf));
      return new Marker('tensor', g.outputs.length - 1);
    }
    const slot = rec.keySlot(leaf);
    if (slot < 0) return leaf;
    g.outputKeys.push(slot);
    return new Marker('key', g.outputKeys.length - 1);
  });
  optimize(g);
  return { g, template, flat, backend, fingerprint: `${fingerprint(g)}|${flatten(template).sig}` };
}

/** Traces `fn` on `args` and generates its plan. */
function lowerOnce<A extends unknown[], R>(fn: (...args: A) => R, args: A, opts: { largeThreshold: number; backendCalls: boolean; graphs: boolean }): Lowered {
  const { g, template, flat, backend, fingerprint: fp } = trace(fn, args);
  // Generated code works on float and int32 arrays; a graph with bfloat16 storage replays as backend calls.
  const calls = backend.device !== 'cpu' || opts.backendCalls || g.values.some((v) => v.dtype === 'bfloat16');
  const plan = calls ? buildDevicePlan(g, backend, { graphs: opts.graphs }) : (buildPlan(g, { largeThreshold: opts.largeThreshold, backend }) as Plan<unknown>);
  return { plan, template, numInputs: flat.tensors.length, numKeys: flat.keys.length, outputKeys: g.outputKeys, backend, fingerprint: fp, signature: flat.sig };
}

/** Runs a lowered graph on flattened inputs and rebuilds the output pytree with fresh tensors. */
function execute(l: Lowered, tensors: readonly Tensor[], keys: readonly Key[]): unknown {
  const ins: unknown[] = new Array(tensors.length);
  for (let i = 0; i < tensors.length; i++) ins[i] = tensors[i].live().data;
  const kw = new Uint32Array(2 * Math.max(1, keys.length));
  for (let i = 0; i < keys.length; i++) {
    kw[2 * i] = keys[i].k0;
    kw[2 * i + 1] = keys[i].k1;
  }
  const infos = l.plan.outputs;
  const outs: unknown[] = new Array(infos.length);
  const dev = l.backend.device !== 'cpu';
  for (let i = 0; i < infos.length; i++) outs[i] = dev ? l.backend.alloc(infos[i].dtype, sizeOfShape(infos[i].shape)) : allocArray(infos[i].dtype, sizeOfShape(infos[i].shape));
  l.plan.run(ins, kw, outs);
  const ks = l.plan.keySlots;
  return rebuild(
    l.template,
    (i) => ENGINE.makeTensor(infos[i].shape, infos[i].dtype as DType, outs[i], l.backend),
    (j) => new Key(ks[2 * l.outputKeys[j]], ks[2 * l.outputKeys[j] + 1]),
  );
}

function sizeOfShape(s: readonly number[]): number {
  let n = 1;
  for (const d of s) n *= d;
  return n;
}

/**
 * Compiles `fn`, a function of pytrees of tensors and keys, into a function with the same
 * contract that replays a traced graph as generated code. The contract, as with `jax.jit`:
 * - Tensors and keys in the arguments are inputs; everything else in the arguments (numbers,
 *   strings, other objects by identity) is part of the signature, and a change retraces.
 * - A different shape, dtype or device of any input tensor retraces (one graph per signature, in
 *   a bounded LRU cache, `maxCacheEntries`).
 * - Tensors `fn` reads from its closure, and JavaScript numbers it computes, are baked in as
 *   constants at trace time. Keys derived from input keys by `split`/`foldIn` are re-derived
 *   from the actual input keys at every call, so random draws follow the keys passed in.
 * - Host reads of traced values (`item`, `dataSync`, `data`, `toString`) raise a `CompileError`
 *   naming the op: data-dependent control flow cannot be replayed.
 * - With `verify` (default), the second call of each signature traces again and compares the
 *   graphs; a function that is not pure in its inputs raises a `CompileError`.
 * - Outputs are fresh tensors at every call (intermediates are reused buffers).
 * @example
 * const step = compile((p: { w: Tensor }, x: Tensor) => {
 *   const [loss, g] = valueAndGrad((q: { w: Tensor }) => sum(square(sub(q.w, x))))(p);
 *   return { loss, w: sub(p.w, mul(g.w, 0.1)) };
 * });
 * const { loss, w } = step({ w }, x);
 */
export function compile<A extends unknown[], R>(fn: (...args: A) => R, opts: CompileOptions = {}): CompiledFunction<A, R> {
  const maxEntries = opts.maxCacheEntries ?? 16;
  const verify = opts.verify ?? true;
  const lowerOpts = { largeThreshold: opts.largeThreshold ?? DEFAULT_LARGE_THRESHOLD, backendCalls: opts.backendCalls ?? false, graphs: opts.graphs ?? cudaGraphsByDefault() };
  if (!(Number.isInteger(maxEntries) && maxEntries >= 1)) throw new CompileError(`compile: maxCacheEntries must be a positive integer, got ${maxEntries}`);
  const cache = new Map<string, Entry>();
  let traces = 0;
  let last: Entry | null = null;

  const lookup = (args: A, sig: string): Entry => {
    let e = cache.get(sig);
    if (e !== undefined) {
      cache.delete(sig);
      cache.set(sig, e);
      return e;
    }
    e = { lowered: lowerOnce(fn, args, lowerOpts), calls: 0 };
    traces++;
    cache.set(sig, e);
    if (cache.size > maxEntries) cache.delete(cache.keys().next().value as string);
    return e;
  };

  const check = (e: Entry, args: A): void => {
    // The graph is compared, not generated again.
    const again = trace(fn, args);
    if (again.fingerprint !== e.lowered.fingerprint)
      throw new CompileError(
        'compile: the function recorded a different graph or output structure on its second call with the same input signature; ' +
          'it is not a pure function of its tensor and key inputs (closure state, Math.random, JS values that change between calls). ' +
          'Pass what changes as a tensor input, or call it uncompiled.',
      );
  };

  const f = ((...args: A): R => {
    // Inside another trace or a gradient, run eagerly so the outer recorder or tape sees the ops.
    if (ENGINE.recorder !== null || ENGINE.tape !== null) return fn(...args);
    const flat = flatten(args);
    const e = lookup(args, flat.sig);
    if (verify && e.calls === 1) check(e, args);
    e.calls++;
    last = e;
    return execute(e.lowered, flat.tensors, flat.keys) as R;
  }) as CompiledFunction<A, R>;

  f.lower = (...args: A): Lowered => {
    const flat = flatten(args);
    const e = lookup(args, flat.sig);
    if (verify && e.calls === 0) check(e, args);
    e.calls = Math.max(e.calls, 2);
    last = e;
    return e.lowered;
  };
  f.clear = () => {
    cache.clear();
    last = null;
  };
  Object.defineProperty(f, 'traces', { get: () => traces });
  Object.defineProperty(f, 'stats', { get: () => (last === null ? null : last.lowered.plan.stats) });
  return f;
}
