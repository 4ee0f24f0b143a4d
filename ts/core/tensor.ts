import type { Backend, Device } from '../backends/backend.js';
import { DisposedError, ShapeError } from './errors.js';
import { fromBfloat16, type DType, type TypedArray } from './dtype.js';
import type { Shape } from './shape.js';

/** Storage shared by a tensor and its views (reshape), freed when the last holder disposes it. */
export class Buffer {
  refs = 1;
  constructor(
    readonly backend: Backend,
    public data: unknown,
  ) {}
}

let nextId = 1;

/**
 * @internal Called before a host read (`dataSync`, `data`, `item`) while `compile` traces, so that
 * reading a value that depends on the traced inputs fails with an error naming the op.
 */
export const readHook: { onRead: ((t: Tensor, how: string) => void) | null } = { onRead: null };

/** Nested number arrays, as `toArray` returns them. */
export type NestedArray = number | NestedArray[];

/**
 * An immutable n-dimensional array. Ops never change a tensor: they return new ones.
 * Row-major and contiguous; `shape` is `[]` for a scalar. Make one with the creation ops
 * (`tensor`, `zeros`, `full`, …), read it with `dataSync`, `data`, `item` or `toArray`.
 * @example
 * const x = tensor([[1, 2], [3, 4]]); // float64 [2, 2]
 * x.shape; // [2, 2]
 * sum(mul(x, x)).item(); // 30
 */
export class Tensor {
  /** A process-unique id (for messages and debugging). */
  readonly id: number;
  /** @internal the storage. */
  buf: Buffer | null;
  /** @internal id of the autodiff tape tracking this tensor, 0 when untracked. */
  tape = 0;
  /** Number of elements: the product of `shape` (1 for a scalar). */
  readonly size: number;

  /** @internal use the creation ops (`tensor`, `zeros`, ...) instead. */
  constructor(
    /** The size of each axis, outermost first; `[]` for a scalar. */
    readonly shape: Shape,
    /** The element type. */
    readonly dtype: DType,
    buf: Buffer,
    size: number,
  ) {
    this.id = nextId++;
    this.buf = buf;
    this.size = size;
  }

  /** The number of axes, `shape.length`. */
  get rank(): number {
    return this.shape.length;
  }

  /** The backend that holds this tensor's storage. */
  get backend(): Backend {
    return this.live().backend;
  }

  /** Where the storage lives: 'cpu' (host memory) or 'cuda'. */
  get device(): Device {
    return this.live().backend.device;
  }

  /** Whether `dispose` has released the storage (the tensor can no longer be read). */
  get isDisposed(): boolean {
    return this.buf === null;
  }

  /** @internal the buffer, or an error naming the tensor if it was disposed. */
  live(): Buffer {
    if (this.buf === null) throw new DisposedError(`tensor #${this.id} (${this.dtype} of shape [${this.shape.join(', ')}]) was disposed, or its tidy scope ended; keep() it to use it later`);
    return this.buf;
  }

  /**
   * A copy of the elements as a typed array (blocks until device work is done); a bfloat16
   * tensor's values come as a Float32Array (exact).
   */
  dataSync(): TypedArray {
    if (readHook.onRead !== null) readHook.onRead(this, 'dataSync');
    return valuesOf(this.storageSync());
  }

  /** @internal A copy of the storage: the elements, or a bfloat16 tensor's bits (Uint16Array). */
  storageSync(): TypedArray {
    const b = this.live();
    const a = b.backend.readSync(b.data, this.dtype, this.size);
    return b.backend.device === 'cpu' ? a.slice() : a;
  }

  /** A copy of the elements, awaiting device work without blocking the event loop (bfloat16: a Float32Array). */
  async data(): Promise<TypedArray> {
    if (readHook.onRead !== null) readHook.onRead(this, 'data');
    const b = this.live();
    const a = await b.backend.read(b.data, this.dtype, this.size);
    return valuesOf(b.backend.device === 'cpu' ? a.slice() : a);
  }

  /** The value of a one-element tensor as a number. */
  item(): number {
    if (this.size !== 1) throw new ShapeError(`item: tensor has shape [${this.shape.join(', ')}] (${this.size} elements), not one element`);
    if (readHook.onRead !== null) readHook.onRead(this, 'item');
    const b = this.live();
    return valuesOf(b.backend.readSync(b.data, this.dtype, 1))[0];
  }

  /** The elements as nested arrays of numbers. */
  toArray(): NestedArray {
    const flat = this.dataSync();
    const build = (dim: number, off: number): NestedArray => {
      if (dim === this.shape.length) return flat[off];
      const n = this.shape[dim];
      let stride = 1;
      for (let i = dim + 1; i < this.shape.length; i++) stride *= this.shape[i];
      const out: NestedArray[] = [];
      for (let i = 0; i < n; i++) out.push(build(dim + 1, off + i * stride));
      return out;
    };
    return build(0, 0);
  }

  /** Releases the storage now (device memory); later use of the tensor is an error. */
  dispose(): void {
    const b = this.buf;
    if (b === null) return;
    this.buf = null;
    if (--b.refs === 0) b.backend.free(b.data);
  }

  /** `dispose`, for `using` declarations: `using t = tensor([1]);`. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  /** `Tensor(dtype, [shape]) values` (the values read back; `<disposed>` after `dispose`). */
  toString(): string {
    const body = this.isDisposed ? '<disposed>' : JSON.stringify(this.toArray());
    return `Tensor(${this.dtype}, [${this.shape.join(', ')}]) ${body}`;
  }
}

/**
 * @internal A tensor's elements where they live on the host, without the copy `dataSync` makes:
 * the buffer itself on the cpu device (read it before the tensor is disposed), a copy elsewhere.
 */
export function hostView(t: Tensor): TypedArray {
  const b = t.live();
  return b.backend.readSync(b.data, t.dtype, t.size);
}

/** The values of host storage: bfloat16 bits become a Float32Array, other arrays are returned as they are. */
function valuesOf(a: TypedArray): TypedArray {
  return a instanceof Uint16Array ? fromBfloat16(a) : a;
}
