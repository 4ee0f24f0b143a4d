/**
 * The engine: kernel dispatch, backend selection, the autodiff tape and memory scopes.
 * Every op goes through `runKernel`, which validates with the spec, allocates outputs, runs the
 * kernel on the inputs' backend and records a tape entry when a gradient is being taken.
 */
import type { Backend, Device, View } from '../backends/backend.js';
import { KERNELS, type KernelAttrs, type KernelName, type TensorInfo } from '../kernels/spec.js';
import { byteSize, dtypeOf, type DType, type TypedArray } from './dtype.js';
import { BackendError, allocationError } from './errors.js';
import { sizeOf, type Shape } from './shape.js';
import { Buffer, Tensor } from './tensor.js';
import { scopedSettings } from './settings.js';

/** A recorded op: enough to apply its gradient rule. */
export interface TapeEntry {
  readonly name: KernelName | 'custom';
  readonly inputs: readonly Tensor[];
  readonly outputs: readonly Tensor[];
  readonly attrs: unknown;
  /** For `customGradient`: maps output cotangents to input cotangents. */
  readonly custom?: (dys: readonly Tensor[]) => readonly (Tensor | null)[];
}

/**
 * @internal What `compile` installs while it traces a function: told of every kernel run and every
 * view made, so it can build the graph. Null outside tracing (one null check on the hot path).
 */
export interface KernelRecorder {
  kernel(name: KernelName, inputs: readonly Tensor[], outputs: readonly Tensor[], attrs: unknown): void;
  alias(src: Tensor, view: Tensor): void;
  /** Whether the tensor's value depends on the traced function's inputs (host reads of it fail). */
  isTraced(t: Tensor): boolean;
}

/** The ops recorded while a gradient is taken. */
export class Tape {
  private static next = 1;
  readonly id = Tape.next++;
  readonly entries: TapeEntry[] = [];
}

const deviceFinalizer = new FinalizationRegistry<Buffer>((b) => {
  if (b.refs > 0) {
    b.refs = 0;
    b.backend.free(b.data);
  }
});

class Engine {
  private readonly backends = new Map<string, Backend>();
  /** The backend that new tensors and cpu-device ops use. */
  private active: Backend | null = null;
  private cpuCompute: Backend | null = null;
  /** Kernels that ran on js because the chosen backend lacks them: `backend:kernel`. */
  readonly fallbackLog = new Set<string>();
  /** The tape being recorded, or null. */
  tape: Tape | null = null;
  /** @internal the graph recorder of `compile`, or null. */
  recorder: KernelRecorder | null = null;
  private scopes: Tensor[][] = [];

  register(b: Backend): void {
    this.backends.set(b.name, b);
  }

  backendNames(): string[] {
    return [...this.backends.keys()];
  }

  getBackend(name: string): Backend {
    const b = this.backends.get(name);
    if (!b) throw new BackendError(`backend '${name}' is not available (have: ${this.backendNames().join(', ')})`);
    return b;
  }

  setBackend(name: string): void {
    const b = this.getBackend(name);
    this.active = b;
    if (b.device === 'cpu') this.cpuCompute = b;
  }

  get backend(): Backend {
    const scoped = scopedSettings()?.backend;
    if (scoped !== undefined) return scoped;
    if (this.active === null) throw new BackendError('no backend is registered');
    return this.active;
  }

  /** The backend that runs ops on tensors of `device`. */
  computeFor(device: Device): Backend {
    if (device === 'cpu') {
      const scoped = scopedSettings()?.backend;
      if (scoped !== undefined && scoped.device === 'cpu') return scoped;
      if (this.cpuCompute === null) this.cpuCompute = this.getBackend('js');
      return this.cpuCompute;
    }
    return this.getBackend(device);
  }

  /** Wraps storage in a tensor, tracking it in the innermost `tidy` scope. */
  makeTensor(shape: Shape, dtype: DType, data: unknown, backend: Backend): Tensor {
    const buf = new Buffer(backend, data);
    const t = new Tensor(shape, dtype, buf, sizeOf(shape));
    if (backend.device !== 'cpu') deviceFinalizer.register(t, buf, t);
    const n = this.scopes.length;
    if (n > 0) this.scopes[n - 1].push(t);
    return t;
  }

  /** A tensor holding `data` (taken as is on the cpu device) on `backend` (default: active). */
  fromArray(data: TypedArray, shape: Shape, backend: Backend = this.backend): Tensor {
    return this.makeTensor(shape, dtypeOf(data), backend.upload(data), backend);
  }

  /** Runs a kernel on tensors, returning its outputs. */
  runKernel<N extends KernelName>(name: N, inputs: readonly Tensor[], attrs: KernelAttrs[N]): Tensor[] {
    const spec = KERNELS[name];
    const infos: TensorInfo[] = spec.infer(inputs, attrs);
    let backend: Backend;
    if (inputs.length === 0) {
      const active = this.backend;
      backend = active.device === 'cpu' ? this.computeFor('cpu') : active;
    } else {
      const dev = inputs[0].live().backend.device;
      for (let i = 1; i < inputs.length; i++)
        if (inputs[i].live().backend.device !== dev)
          throw new BackendError(`${name}: inputs live on different devices (${dev} and ${inputs[i].backend.device}); move them with toDevice first`);
      backend = this.computeFor(dev);
    }
    const outputs = name === 'reshape' ? [this.view(inputs[0], infos[0].shape)] : this.execute(backend, name, inputs, infos, attrs);
    if (this.recorder !== null) this.recorder.kernel(name, inputs, outputs, attrs);
    const tape = this.tape;
    if (tape !== null && spec.differentiable) {
      let tracked = false;
      for (let i = 0; i < inputs.length; i++) if (inputs[i].tape === tape.id) tracked = true;
      if (tracked) {
        for (const o of outputs) o.tape = tape.id;
        tape.entries.push({ name, inputs, outputs, attrs });
      }
    }
    return outputs;
  }

  private view(x: Tensor, shape: Shape): Tensor {
    const buf = x.live();
    buf.refs++;
    const t = new Tensor(shape, x.dtype, buf, x.size);
    const n = this.scopes.length;
    if (n > 0) this.scopes[n - 1].push(t);
    return t;
  }

  private execute<N extends KernelName>(
    backend: Backend,
    name: N,
    inputs: readonly Tensor[],
    infos: readonly TensorInfo[],
    attrs: KernelAttrs[N],
  ): Tensor[] {
    let run = backend;
    if (!backend.has(name)) {
      const js = this.getBackend('js');
      this.fallbackLog.add(`${backend.name}:${name}`);
      if (backend.device !== 'cpu') return this.hostFallback(backend, js, name, inputs, infos, attrs);
      run = js;
    }
    // Plain loops: this is the per-op hot path, and closures cost measurable time on tiny tensors.
    const ins: View<unknown>[] = new Array(inputs.length);
    for (let i = 0; i < inputs.length; i++) {
      const t = inputs[i];
      ins[i] = { data: t.live().data, shape: t.shape, dtype: t.dtype };
    }
    const outs: View<unknown>[] = new Array(infos.length);
    for (let i = 0; i < infos.length; i++) {
      const o = infos[i];
      let data: unknown;
      try {
        data = backend.alloc(o.dtype, sizeOf(o.shape));
      } catch (e) {
        throw allocationError(name, o.shape, o.dtype, byteSize(o.dtype), e);
      }
      outs[i] = { data, shape: o.shape, dtype: o.dtype };
    }
    run.run(name, ins, outs, attrs);
    const res: Tensor[] = new Array(outs.length);
    for (let i = 0; i < outs.length; i++) res[i] = this.makeTensor(outs[i].shape, outs[i].dtype, outs[i].data, backend);
    return res;
  }

  /** Runs a kernel a device backend lacks on the js backend, copying through the host. */
  private hostFallback<N extends KernelName>(
    dev: Backend,
    js: Backend,
    name: N,
    inputs: readonly Tensor[],
    infos: readonly TensorInfo[],
    attrs: KernelAttrs[N],
  ): Tensor[] {
    const ins = inputs.map((t) => ({ data: dev.readSync(t.live().data, t.dtype, t.size), shape: t.shape, dtype: t.dtype }));
    const outs = infos.map((o) => ({ data: js.alloc(o.dtype, sizeOf(o.shape)), shape: o.shape, dtype: o.dtype }));
    js.run(name, ins, outs, attrs);
    return outs.map((o) => this.makeTensor(o.shape, o.dtype, dev.upload(o.data as TypedArray), dev));
  }

  /** Copies a tensor to another backend's device (a no-op view between cpu backends). */
  toBackend(x: Tensor, target: Backend): Tensor {
    const src = x.live().backend;
    if (src.device === target.device) {
      const v = this.view(x, x.shape);
      if (this.recorder !== null) this.recorder.alias(x, v);
      return v;
    }
    const host = src.readSync(x.live().data, x.dtype, x.size);
    return this.makeTensor(x.shape, x.dtype, target.upload(host), target);
  }

  // ---- memory scopes ----

  /** Runs `fn`, disposing every tensor it created except those in its result or kept. */
  tidy<T>(fn: () => T): T {
    this.scopes.push([]);
    let result: T;
    try {
      result = fn();
    } catch (e) {
      this.endScope(new Set());
      throw e;
    }
    const keep = new Set<Tensor>();
    collectTensors(result, keep);
    this.endScope(keep);
    return result;
  }

  private endScope(keep: Set<Tensor>): void {
    const scope = this.scopes.pop() ?? [];
    const parent = this.scopes.length > 0 ? this.scopes[this.scopes.length - 1] : null;
    for (const t of scope) {
      if (keep.has(t)) {
        if (parent !== null) parent.push(t);
      } else if (!keptTensors.has(t)) t.dispose();
    }
  }

  /** Marks a tensor to survive the enclosing `tidy` scopes. */
  keep<T extends Tensor>(t: T): T {
    keptTensors.add(t);
    return t;
  }

}

const keptTensors = new WeakSet<Tensor>();

/** Collects the tensors in a pytree (objects, arrays, Maps of tensors). */
export function collectTensors(x: unknown, out: Set<Tensor>): void {
  if (x instanceof Tensor) out.add(x);
  else if (Array.isArray(x)) for (const v of x) collectTensors(v, out);
  else if (x instanceof Map) for (const v of x.values()) collectTensors(v, out);
  else if (x !== null && typeof x === 'object') for (const v of Object.values(x)) collectTensors(v, out);
}

/** The one engine of this process. */
export const ENGINE = new Engine();
