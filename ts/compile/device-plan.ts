/**
 * Replay of a traced graph on a device backend (cuda): every kernel is one call into the backend
 * over buffers allocated once, when the plan is built. A replayed step creates no tensors, records
 * no tape and allocates nothing; constants are uploaded once; random kernels get their keys
 * derived from the input keys on the host. (Generated JavaScript is the cpu device's replay,
 * ts/compile/codegen.ts.)
 *
 * `run(inputs, keyWords, outputs)` takes the backend's storage for inputs and outputs. On a device,
 * an output passed as a host typed array (a training loop's loss and flags) is read back after the
 * run; a device output is written by the kernel that computes it, or copied when the value is an
 * input, a constant, or another output's too.
 *
 * With `graphs` on a backend that can record (CUDA graphs), the second run records the calls once
 * over fixed storage (the plan's own buffers, inputs copied into staging buffers, random kernels
 * reading their keys from a device buffer), and every later run is: copy the inputs in, write the
 * keys, one launch, copy the outputs out. The first run is an ordinary one, so what the backend
 * initializes lazily (cuBLAS) is ready before recording. A step that cannot be recorded (a kernel
 * that reads the device back, like cholesky's positive-definiteness check) runs call by call, and
 * `stats.graph` says why.
 */
import type { Backend, View } from '../backends/backend.js';
import type { TypedArray } from '../core/dtype.js';
import type { KernelName } from '../kernels/spec.js';
import type { Plan } from './codegen.js';
import { CompileError } from './errors.js';
import type { Graph } from './graph.js';
import { deriveKeys } from './rand.js';
import { scopedSettings } from '../core/settings.js';

/** A mutable view: the data of inputs and bound outputs changes from run to run. */
interface Slot {
  data: unknown;
  readonly shape: readonly number[];
  readonly dtype: View<unknown>['dtype'];
}

interface Call {
  readonly op: KernelName;
  readonly ins: Slot[];
  readonly outs: Slot[];
  readonly attrs: unknown;
  /** Key slot of a random kernel (its attrs' key is rewritten each run), or −1. */
  readonly keySlot: number;
  readonly key: number[] | null;
}

let graphsByDefault = process.env.VARINF_CUDA_GRAPHS === '1';

/**
 * Whether compiled steps on a device replay as CUDA graphs when `compile` is not told (SVI,
 * trainVAE and the other trainers compile with the default). Off by default until a GPU run has
 * verified it (bench/README-cuda.md); the environment variable VARINF_CUDA_GRAPHS=1 turns it on.
 * @example setCudaGraphs(true) // every compiled step on the cuda backend records once, then replays
 */
export function setCudaGraphs(on: boolean): void {
  graphsByDefault = on;
}

/**
 * The default of compile's `graphs` option (see {@link setCudaGraphs}).
 * @example cudaGraphsByDefault() // false unless VARINF_CUDA_GRAPHS=1 or setCudaGraphs(true)
 */
export function cudaGraphsByDefault(): boolean {
  return scopedSettings()?.cudaGraphs ?? graphsByDefault;
}

export interface DevicePlanOptions {
  /** Replay as one recorded launch where the backend can record (CUDA graphs). Default false. */
  graphs?: boolean;
}

/** Builds the replay of `g` as backend calls on `backend` (buffers allocated now, held by the plan). */
export function buildDevicePlan(g: Graph, backend: Backend, opts: DevicePlanOptions = {}): Plan<unknown> {
  const V = g.values;
  for (const n of g.nodes)
    if (n.op !== 'reshape' && !backend.has(n.op)) throw new CompileError(`compile: the ${backend.name} backend lacks kernel '${n.op}', so the step cannot replay there`);
  // A reshape shares its input's storage: one slot object per value, aliases read their storage's data.
  const storage = new Map<number, number>();
  const storageOf = (id: number): number => storage.get(id) ?? id;
  for (const n of g.nodes) if (n.op === 'reshape') storage.set(n.outs[0], storageOf(n.ins[0]));
  const own = new Map<number, unknown>();
  let bytes = 0;
  const slots: Slot[] = V.map((v) => ({ data: null, shape: v.shape, dtype: v.dtype }));
  for (const v of V) {
    if (storage.has(v.id)) continue;
    if (v.kind === 'const') own.set(v.id, backend.upload(v.data as TypedArray));
    else if (v.kind === 'node') own.set(v.id, backend.alloc(v.dtype, Math.max(1, v.size)));
    else continue;
    bytes += v.size * (v.dtype === 'float64' ? 8 : 4);
  }
  const aliasesOf = new Map<number, number[]>();
  for (const v of V) {
    const s = storageOf(v.id);
    if (!aliasesOf.has(s)) aliasesOf.set(s, []);
    (aliasesOf.get(s) as number[]).push(v.id);
  }
  const setStorage = (s: number, data: unknown): void => {
    for (const id of aliasesOf.get(s) as number[]) slots[id].data = data;
  };
  for (const [s, d] of own) setStorage(s, d);

  const calls: Call[] = [];
  for (const n of g.nodes) {
    if (n.op === 'reshape') continue;
    const key = n.keySlot >= 0 ? [0, 0] : null;
    const attrs = key !== null ? { ...(n.attrs as object), key } : n.attrs;
    calls.push({ op: n.op, ins: n.ins.map((i) => slots[i]), outs: n.outs.map((o) => slots[o]), attrs, keySlot: n.keySlot, key });
  }
  // The first output over each computed storage may be written in place by its kernel.
  const bindable = new Map<number, number>();
  g.outputs.forEach((o, j) => {
    const s = storageOf(o);
    if (V[s].kind === 'node' && !bindable.has(s)) bindable.set(s, j);
  });
  const inputStorages = V.filter((v) => v.kind === 'input' && !storage.has(v.id));
  const keySlots = new Uint32Array(2 * Math.max(1, g.keys.length));
  const outputs = g.outputs.map((o) => ({ shape: V[o].shape, dtype: V[o].dtype }));
  // Host typed arrays among the outputs are read back; on the cpu device they are the storage.
  const device = backend.device !== 'cpu';
  const isHost = (x: unknown): x is TypedArray => device && ArrayBuffer.isView(x);

  const copy = (from: Slot, to: unknown): void =>
    backend.run('broadcastTo', [from as View<unknown>], [{ data: to, shape: from.shape, dtype: from.dtype }], { shape: from.shape.slice() });
  const readOutputs = (O: readonly unknown[]): void => {
    g.outputs.forEach((o, j) => {
      const src = slots[o];
      const out = O[j];
      if (isHost(out)) out.set(backend.readSync(src.data, src.dtype, out.length));
      else if (out !== src.data) copy(src, out);
    });
  };

  const plain = (I: readonly unknown[], KW: Uint32Array, O: readonly unknown[]): void => {
    for (const v of inputStorages) setStorage(v.id, I[v.input as number]);
    for (const [s, j] of bindable) setStorage(s, isHost(O[j]) ? own.get(s) : O[j]);
    if (g.keys.length > 0) deriveKeys(g.keys, KW, keySlots);
    for (const c of calls) {
      if (c.key !== null) {
        c.key[0] = keySlots[2 * c.keySlot];
        c.key[1] = keySlots[2 * c.keySlot + 1];
      }
      backend.run(c.op, c.ins as View<unknown>[], c.outs as View<unknown>[], c.attrs as never);
    }
    readOutputs(O);
  };

  const stats: Plan<unknown>['stats'] = { nodes: g.nodes.length, loops: 0, fusedKernels: 0, calls: calls.length, backendCalls: calls.length, buffers: own.size, bufferBytes: bytes, naiveBytes: bytes };
  const dg = opts.graphs === true ? backend.graphs : undefined;
  if (opts.graphs === true) stats.graph = dg === undefined ? `off: the ${backend.name} backend cannot record graphs` : 'pending: recorded on the second run';
  if (dg === undefined) return { run: plain, outputs, keySlots, source: sourceOf(calls), stats };

  // Graph replay. `graph` is null before recording, false when recording failed.
  let graph: unknown = null;
  let runs = 0;
  const staging = new Map<number, unknown>();
  let keysDevice: unknown = null;
  const keyWords = new Int32Array(keySlots.buffer, keySlots.byteOffset, keySlots.length);
  const record = (): unknown => {
    for (const v of inputStorages) {
      const b = backend.alloc(v.dtype, Math.max(1, v.size));
      staging.set(v.id, b);
      setStorage(v.id, b);
    }
    for (const [s] of bindable) setStorage(s, own.get(s));
    keysDevice = backend.alloc('int32', keySlots.length);
    const recorded = calls.map((c) => (c.key === null ? c.attrs : { ...(c.attrs as object), deviceKey: { data: keysDevice, index: c.keySlot } }));
    try {
      dg.begin();
      calls.forEach((c, i) => backend.run(c.op, c.ins as View<unknown>[], c.outs as View<unknown>[], recorded[i] as never));
      const rec = dg.end();
      stats.graph = 'recorded: one launch per run';
      return rec;
    } catch (e) {
      dg.abort();
      for (const b of staging.values()) backend.free(b);
      backend.free(keysDevice);
      staging.clear();
      stats.graph = `off: the step could not be recorded (${(e as Error).message}); it runs call by call`;
      return false;
    }
  };
  const replay = (I: readonly unknown[], KW: Uint32Array, O: readonly unknown[], rec: unknown): void => {
    for (const v of inputStorages) copy({ data: I[v.input as number], shape: v.shape, dtype: v.dtype }, staging.get(v.id));
    if (g.keys.length > 0) {
      deriveKeys(g.keys, KW, keySlots);
      dg.write(keysDevice, keyWords);
    }
    dg.launch(rec);
    readOutputs(O);
  };
  const run = (I: readonly unknown[], KW: Uint32Array, O: readonly unknown[]): void => {
    runs++;
    if (graph === null && runs >= 2) graph = record();
    if (graph === null || graph === false) plain(I, KW, O);
    else replay(I, KW, O, graph);
  };
  return { run, outputs, keySlots, source: sourceOf(calls), stats };
}

function sourceOf(calls: readonly Call[]): string {
  return calls.map((c) => `${c.op}(${c.ins.map((s) => `[${s.shape.join(',')}]`).join(', ')})`).join('\n');
}
