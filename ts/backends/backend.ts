/**
 * The backend contract. A backend owns a storage type (typed arrays for the cpu device, device
 * pointers for cuda) and implements kernels of the spec over it. The engine allocates outputs
 * from the spec's `infer` and hands them to `run`.
 */
import type { DType, TypedArray } from '../core/dtype.js';
import type { Shape } from '../core/shape.js';
import type { KernelAttrs, KernelName } from '../kernels/spec.js';

/** Where a tensor's storage lives: host memory ('cpu', the js and cpu backends) or a GPU ('cuda'). */
export type Device = 'cpu' | 'cuda';

/** A tensor as a backend sees it: storage, shape and dtype. */
export interface View<S> {
  /** The storage: a typed array on the cpu device, a device buffer on cuda. */
  readonly data: S;
  /** The tensor's shape (row-major, contiguous). */
  readonly shape: Shape;
  /** The element type. */
  readonly dtype: DType;
}

/** A cpu-device view: the storage is the typed array itself. */
export type CpuView = View<TypedArray>;

/** One kernel on a cpu-device backend: reads `ins`, writes every element of `outs`. */
export type CpuKernel<N extends KernelName> = (ins: readonly CpuView[], outs: readonly CpuView[], attrs: KernelAttrs[N]) => void;

/** The kernels a cpu-device backend implements. */
export type CpuKernelTable = { [N in KernelName]?: CpuKernel<N> };

/**
 * The backend contract: storage management and kernels of the spec (see ts/kernels/spec.ts) over a storage
 * type `S`. Users pick one with {@link setBackend}; implementing one is for backend authors.
 */
export interface Backend<S = unknown> {
  /** 'js', 'cpu' or 'cuda'. */
  readonly name: string;
  /** Which storage the backend uses: backends of one device share tensors. */
  readonly device: Device;
  /** Allocates storage for `size` elements of `dtype` (contents unspecified). */
  alloc(dtype: DType, size: number): S;
  /** Storage holding a copy of `data` (the cpu device may take `data` as is). */
  upload(data: TypedArray): S;
  /** Reads storage back to the host, synchronously. */
  readSync(data: S, dtype: DType, size: number): TypedArray;
  /** Reads storage back to the host, waiting on queued work without blocking the event loop. */
  read(data: S, dtype: DType, size: number): Promise<TypedArray>;
  /** Frees storage (a no-op where the garbage collector owns it). */
  free(data: S): void;
  /** Whether the backend implements kernel `name` itself. */
  has(name: KernelName): boolean;
  /** Runs kernel `name`; `outs` are allocated by the engine. */
  run<N extends KernelName>(name: N, ins: readonly View<S>[], outs: readonly View<S>[], attrs: KernelAttrs[N]): void;
  /** Capture and replay of a compiled step as one launch (CUDA graphs on the cuda backend). */
  graphs?: DeviceGraphs<S>;
  /** Bytes of device memory in use, where the backend tracks it. */
  memory?(): {
    /** Bytes currently allocated. */
    bytesInUse: number;
  };
  /**
   * Runs a fused elementwise loop of a compiled step (cpu device; the program format is in
   * native/src/fused.rs, built by ts/compile/native-loop.ts).
   */
  fusedLoop?(prog: Int32Array, scalars: Float64Array, arrays: TypedArray[], n: number, acc: Float64Array): void;
  /**
   * Dynamic binarization of a minibatch in one pass (cpu device; the data loader's fast path):
   * `out[b·dim + p] = u·255 < images[starts[b] + p]`, u the float32 uniform stream of key (k0, k1).
   */
  binarizeBatch?(images: Uint8Array, starts: Int32Array, dim: number, k0: number, k1: number, out: Float32Array): void;
  /**
   * The full-covariance mixture's E-step quadratic forms (cpu device; native/src/mixture.rs):
   * `out[i·k + j] = ‖A_j (x_i − m_j)‖²` for x (N × d), m (k × d), lower-triangular A (k × d × d).
   */
  mixtureQuad?(x: Float64Array, m: Float64Array, a: Float64Array, out: Float64Array, d: number, k: number): void;
  /**
   * The full-covariance mixture's M-step scatter matrices (cpu device; native/src/mixture.rs):
   * `out[j] = Σ_i r_ij (x_i − c_j)(x_i − c_j)ᵀ` (k × d × d, symmetric) for r (N × k), c (k × d).
   */
  mixtureScatter?(x: Float64Array, r: Float64Array, c: Float64Array, out: Float64Array, d: number, k: number): void;
  /** Diagonal E-step (cpu device): `out[i·k + j] = Σ_e w_je (x_ie − m_je)²` for m, w (k × d). */
  mixtureDiagQuad?(x: Float64Array, m: Float64Array, w: Float64Array, out: Float64Array, d: number, k: number): void;
  /**
   * Diagonal M-step moments (cpu device): `out` = [N (k) | F (k × d) | S (k × d)] with
   * N_j = Σ_i r_ij, F_j = Σ_i r_ij (x_i − s), S_j = Σ_i r_ij (x_i − s)² for a shift s (d).
   */
  mixtureDiagMoments?(x: Float64Array, r: Float64Array, shift: Float64Array, out: Float64Array, d: number, k: number): void;
}

/**
 * Stream capture of a device backend (CUDA graphs): between `begin` and `end`, kernels the backend
 * runs are recorded instead of executed, and `end` returns the recording, which `launch` replays
 * with the same arguments. Memory a kernel allocates while recording belongs to the graph until
 * `free`. A kernel that must wait for the device (a host read) fails while recording; `abort`
 * then leaves recording mode. A random kernel replays with fresh keys only if it reads them
 * through `deviceKey` (its attrs), from storage rewritten with `write` before each launch.
 */
export interface DeviceGraphs<S> {
  /** Starts recording: kernels run after this are captured, not executed. */
  begin(): void;
  /** The recorded graph; throws, saying why, if recording failed. */
  end(): unknown;
  /** Leaves recording mode, discarding the capture. */
  abort(): void;
  /** Replays a recorded graph. */
  launch(graph: unknown): void;
  /** Frees a recorded graph and the memory it owns. */
  free(graph: unknown): void;
  /** Queues a copy of `data` into existing storage (at most its size). */
  write(data: S, words: TypedArray): void;
}

/** Where a random kernel replayed from a graph reads its key: words 2·index and 2·index + 1 of `data`. */
export interface DeviceKey<S = unknown> {
  /** Device storage holding the key words. */
  readonly data: S;
  /** The key slot: words 2·index and 2·index + 1. */
  readonly index: number;
}
