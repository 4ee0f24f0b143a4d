/**
 * Records a traced run into a graph. While installed, the engine reports every kernel and view,
 * `split`/`foldIn` report every derived key, and host reads of traced tensors fail.
 *
 * A tensor is traced when it depends on an input tensor or on an input key. Kernels none of whose
 * inputs is traced (and whose key, if any, is not derived from an input key) are not recorded:
 * their eager results become constants of the graph (constant folding at record time), so
 * validation code that reads constant tensors still works while tracing.
 */
import { ENGINE, type KernelRecorder } from '../core/engine.js';
import { fmtShape } from '../core/errors.js';
import type { TypedArray } from '../core/dtype.js';
import { readHook, type Tensor } from '../core/tensor.js';
import type { KernelName } from '../kernels/spec.js';
import { keyHook, type Key } from '../random/key.js';
import { CompileError } from './errors.js';
import type { Graph, KeyDef, Value } from './graph.js';

const wordsOf = (k: Key): string => `${k.k0}:${k.k1}`;

export class Recorder implements KernelRecorder {
  readonly graph: Graph = { values: [], nodes: [], keys: [], outputs: [], outputKeys: [] };
  private readonly ids = new Map<Tensor, number>();
  private readonly producer = new Map<number, string>();
  private readonly constByData = new Map<unknown, number>();
  private readonly keySlots = new Map<string, number>();

  /** Registers an input tensor leaf (already a fresh view) and returns its value id. */
  input(t: Tensor, index: number): number {
    const id = this.newValue({ shape: t.shape, size: t.size, dtype: t.dtype, kind: 'input', input: index });
    this.ids.set(t, id);
    return id;
  }

  /** Registers an input key leaf. */
  inputKey(k: Key, index: number): void {
    const w = wordsOf(k);
    if (this.keySlots.has(w))
      throw new CompileError(`compile: input keys #${this.keySlots.get(w)} and #${index} are equal (${k}); pass distinct keys or split one`);
    this.keySlots.set(w, this.addKey({ kind: 'input', index }));
  }

  /** The key slot of a key derived from the inputs, or −1 for a constant key. */
  keySlot(k: Key): number {
    return this.keySlots.get(wordsOf(k)) ?? -1;
  }

  /** The value id of a tensor (a constant when it is not traced). */
  ref(t: Tensor): number {
    const id = this.ids.get(t);
    if (id !== undefined) return id;
    const buf = t.live();
    const k = buf.data;
    const prev = this.constByData.get(k);
    if (prev !== undefined) {
      const v = this.graph.values[prev];
      if (v.size === t.size && v.dtype === t.dtype && v.shape.length === t.shape.length && v.shape.every((d, i) => d === t.shape[i])) return prev;
    }
    // A device constant is read to the host once, at trace time: the plan uploads it again (and
    // the graph passes fold and hash constants on the host).
    const data = t.backend.device === 'cpu' ? (buf.data as TypedArray) : t.backend.readSync(buf.data, t.dtype, t.size);
    const id2 = this.newValue({ shape: t.shape, size: t.size, dtype: t.dtype, kind: 'const', data });
    this.constByData.set(k, id2);
    return id2;
  }

  isTraced(t: Tensor): boolean {
    return this.ids.has(t);
  }

  kernel(name: KernelName, inputs: readonly Tensor[], outputs: readonly Tensor[], attrs: unknown): void {
    let traced = false;
    for (let i = 0; i < inputs.length; i++) if (this.ids.has(inputs[i])) traced = true;
    let keySlot = -1;
    const key = (attrs as { key?: readonly [number, number] }).key;
    if (key !== undefined) {
      keySlot = this.keySlots.get(`${key[0]}:${key[1]}`) ?? -1;
      if (keySlot >= 0) traced = true;
    }
    if (!traced) return;
    const ins = inputs.map((t) => this.ref(t));
    const outs = outputs.map((o) => {
      const id = this.newValue({ shape: o.shape, size: o.size, dtype: o.dtype, kind: 'node' });
      this.ids.set(o, id);
      this.producer.set(id, name);
      return id;
    });
    // A symbolic key is replayed from its slot: its trace-time words are not part of the graph.
    const a = keySlot >= 0 ? { ...(attrs as object), key: [0, 0] } : attrs;
    this.graph.nodes.push({ op: name, ins, outs, attrs: a, keySlot });
  }

  alias(src: Tensor, view: Tensor): void {
    const id = this.ids.get(src);
    if (id !== undefined) this.ids.set(view, id);
  }

  private read(t: Tensor, how: string): void {
    const id = this.ids.get(t);
    if (id === undefined) return;
    const v = this.graph.values[id];
    const from = v.kind === 'input' ? `input tensor #${v.input}` : `op '${this.producer.get(id)}'`;
    throw new CompileError(
      `compile: ${how}() of a traced tensor of shape ${fmtShape(t.shape)} (the output of ${from}) while tracing: ` +
        'its value depends on the inputs, so host logic or control flow reading it cannot be compiled. ' +
        'Keep the computation in tensor ops (where, maximum, ...) or call the function uncompiled.',
    );
  }

  private derived(parent: Key, child: Key, how: 'split' | 'fold', arg: number): void {
    const p = this.keySlots.get(wordsOf(parent));
    if (p === undefined) return;
    this.keySlots.set(wordsOf(child), this.addKey({ kind: how, parent: p, arg }));
  }

  private addKey(d: KeyDef): number {
    this.graph.keys.push(d);
    return this.graph.keys.length - 1;
  }

  private newValue(v: Omit<Value, 'id'>): number {
    const id = this.graph.values.length;
    this.graph.values.push({ ...v, id, shape: v.shape.slice() });
    return id;
  }

  /** Runs `fn` with this recorder installed (tracing does not nest). */
  run<T>(fn: () => T): T {
    if (ENGINE.recorder !== null) throw new CompileError('compile: tracing does not nest');
    ENGINE.recorder = this;
    readHook.onRead = (t, how) => this.read(t, how);
    keyHook.derived = (p, c, how, arg) => this.derived(p, c, how, arg);
    try {
      return fn();
    } finally {
      ENGINE.recorder = null;
      readHook.onRead = null;
      keyHook.derived = null;
    }
  }
}

/**
 * Whether a function is being traced by `compile` right now.
 * @example if (!isTracing()) console.log(loss.item()); // host reads only outside a trace
 */
export function isTracing(): boolean {
  return ENGINE.recorder !== null;
}
