/**
 * The `Communicator`: the collective operations data-parallel training needs (all-reduce,
 * broadcast, all-gather, barrier), over host typed arrays, the same for every implementation:
 * {@link LocalCommunicator} (one process), `mpiCommunicator()` (the system MPI). The calls are
 * blocking and in place, as MPI's are; an NCCL implementation would add device buffers and run
 * them on the compute stream behind the same methods.
 */
import { DTypeError, ValueError } from '../core/errors.js';
import { DistributedError } from './errors.js';

/** A float buffer that `allReduce` accepts. */
export type FloatBuffer = Float32Array | Float64Array;
/** A buffer that `broadcast` and `allGather` accept. */
export type CommBuffer = Float32Array | Float64Array | Int32Array | Uint8Array;
/** How `allReduce` combines the ranks' buffers: elementwise sum, mean, max or min. */
export type CollectiveOp = 'sum' | 'mean' | 'max' | 'min';

/**
 * A group of `size` processes (ranks 0 … size−1) that call the same collectives in the same order.
 * Every method is a collective: all ranks must call it, with buffers of the same length and type.
 * @example
 * const comm = await communicator(); // MPI under mpirun, the local one otherwise
 * comm.allReduce(grads, 'mean');
 * comm.close();
 */
export interface Communicator {
  /** This process's rank, 0 … size−1. */
  readonly rank: number;
  /** The number of ranks. */
  readonly size: number;
  /** Which implementation: 'local', 'mpi', … */
  readonly kind: string;
  /** Whether `close` was called. */
  readonly closed: boolean;
  /** Combines `buf` over the ranks elementwise, in place, and returns it (every rank gets the result). */
  allReduce<T extends FloatBuffer>(buf: T, op?: CollectiveOp): T;
  /** Overwrites `buf` on every rank with `root`'s (default 0), in place, and returns it. */
  broadcast<T extends CommBuffer>(buf: T, root?: number): T;
  /** The ranks' buffers laid end to end in rank order: length size × buf.length, of buf's type. */
  allGather<T extends CommBuffer>(buf: T): T;
  /** Returns when every rank has called it. */
  barrier(): void;
  /**
   * Ends the job on every rank (MPI_Abort under MPI; the process exits with `code` locally) after
   * writing `message` to stderr. For a failure outside the collectives, where other ranks would
   * otherwise wait forever.
   */
  abort(message: string, code?: number): never;
  /** Releases the communicator (MPI_Finalize under MPI); any later call raises a `DistributedError`. */
  close(): void;
}

/** Checks shared by the implementations: open, a buffer of an accepted type, a valid root. @internal */
export abstract class BaseCommunicator implements Communicator {
  abstract readonly rank: number;
  abstract readonly size: number;
  abstract readonly kind: string;
  private isClosed = false;

  /** Whether `close` was called. */
  get closed(): boolean {
    return this.isClosed;
  }

  /** Raises unless the communicator is open. */
  protected open(op: string): void {
    if (this.isClosed) throw new DistributedError(`${this.kind} communicator: ${op} called after close() (rank ${this.rank} of ${this.size})`);
  }

  protected check(op: string, buf: unknown, floatOnly: boolean): void {
    this.open(op);
    const ok = floatOnly ? buf instanceof Float64Array || buf instanceof Float32Array : buf instanceof Float64Array || buf instanceof Float32Array || buf instanceof Int32Array || buf instanceof Uint8Array;
    if (!ok) {
      const got = ArrayBuffer.isView(buf) ? buf.constructor.name : typeof buf;
      throw new DTypeError(`${this.kind} communicator: ${op}: expected ${floatOnly ? 'a Float32Array or Float64Array' : 'a Float32Array, Float64Array, Int32Array or Uint8Array'}, got ${got}`);
    }
  }

  protected checkRoot(op: string, root: number): void {
    if (!Number.isInteger(root) || root < 0 || root >= this.size) throw new ValueError(`${this.kind} communicator: ${op}: root must be a rank in 0…${this.size - 1}, got ${root}`);
  }

  protected checkOp(op: string): void {
    if (op !== 'sum' && op !== 'mean' && op !== 'max' && op !== 'min') throw new ValueError(`${this.kind} communicator: allReduce: op must be 'sum', 'mean', 'max' or 'min', got '${op}'`);
  }

  abstract allReduce<T extends FloatBuffer>(buf: T, op?: CollectiveOp): T;
  abstract broadcast<T extends CommBuffer>(buf: T, root?: number): T;
  abstract allGather<T extends CommBuffer>(buf: T): T;
  abstract barrier(): void;
  abstract abort(message: string, code?: number): never;

  /** Marks the communicator closed; implementations release their resources first. */
  close(): void {
    this.isClosed = true;
  }
}

/**
 * The communicator of a job of one process (rank 0, size 1): every collective is the identity
 * (a mean over one rank is the value itself), so a script written for `mpirun -np N` runs
 * unchanged, and gives the same numbers, without MPI.
 * @example
 * const comm = new LocalCommunicator();
 * comm.allReduce(new Float64Array([1, 2]), 'mean'); // Float64Array [1, 2]
 */
export class LocalCommunicator extends BaseCommunicator {
  /** Always 0. */
  readonly rank = 0;
  /** Always 1. */
  readonly size = 1;
  /** 'local'. */
  readonly kind = 'local';

  /** The identity (one rank), after the checks every communicator makes. */
  allReduce<T extends FloatBuffer>(buf: T, op: CollectiveOp = 'sum'): T {
    this.check('allReduce', buf, true);
    this.checkOp(op);
    return buf;
  }

  /** The identity (root must be 0). */
  broadcast<T extends CommBuffer>(buf: T, root = 0): T {
    this.check('broadcast', buf, false);
    this.checkRoot('broadcast', root);
    return buf;
  }

  /** A copy of `buf` (one rank). */
  allGather<T extends CommBuffer>(buf: T): T {
    this.check('allGather', buf, false);
    return buf.slice() as T;
  }

  /** Returns at once. */
  barrier(): void {
    this.open('barrier');
  }

  /** Writes `message` to stderr and exits the process with `code` (default 1). */
  abort(message: string, code = 1): never {
    process.stderr.write(`varinf: rank 0 of 1 aborts the job: ${message}\n`);
    process.exit(code);
  }
}

/**
 * Runs `fn`, and if it throws on this rank, ends the job on every rank through `comm.abort` with
 * the error's name and message (the other ranks would otherwise wait in their next collective
 * forever). On one rank (size 1) the error is rethrown instead.
 * @example
 * await abortOnError(comm, async () => { ... training ... });
 */
export async function abortOnError<T>(comm: Communicator, fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (comm.size === 1 || comm.closed) throw e;
    const err = e as Error;
    return comm.abort(`${err.name}: ${err.message}`);
  }
}
