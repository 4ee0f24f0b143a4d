/**
 * The MPI communicator: the system MPI through the optional binding mpi/build/Release/varinf_mpi.node
 * (node-addon-api over MPI's C API; `npm run build:mpi`). The main addon does not depend on it; a
 * process without it still has the {@link LocalCommunicator}.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { BackendError, ValueError } from '../core/errors.js';
import { BaseCommunicator, LocalCommunicator, type CommBuffer, type Communicator, type FloatBuffer, type CollectiveOp } from './communicator.js';

/** The binding's functions (mpi/varinf_mpi.cc). */
interface MpiBinding {
  init(): { rank: number; size: number; threadLevel: number };
  allReduce(buf: CommBuffer, op: number): void;
  broadcast(buf: CommBuffer, root: number): void;
  allGather(send: CommBuffer, recv: CommBuffer): void;
  barrier(): void;
  abort(code: number): void;
  finalize(): void;
  version(): string;
}

const INSTALL = 'install MPI (Debian/Ubuntu: apt-get update && apt-get install -y openmpi-bin libopenmpi-dev), then build the binding with `npm run build:mpi`';

/**
 * Where the binding is looked for: `$VARINF_MPI_ADDON`, else mpi/build/Release/varinf_mpi.node in
 * the package (beside ts/ and dist/).
 * @example console.log(mpiAddonPath());
 */
export function mpiAddonPath(): string {
  return process.env.VARINF_MPI_ADDON ?? fileURLToPath(new URL('../../mpi/build/Release/varinf_mpi.node', import.meta.url));
}

let binding: MpiBinding | null = null;

function loadBinding(): MpiBinding {
  if (binding !== null) return binding;
  const path = mpiAddonPath();
  if (!existsSync(path)) throw new BackendError(`MPI communicator: the MPI binding is not built (no ${path}); ${INSTALL}. Without MPI, LocalCommunicator runs the same script as one rank.`);
  try {
    binding = createRequire(import.meta.url)(path) as MpiBinding;
  } catch (e) {
    const msg = (e as Error).message;
    const why = /libmpi|cannot open shared object/.test(msg) ? `the MPI library it was built against is missing (${msg}); ${INSTALL}` : `it does not load (${msg}); rebuild it with \`npm run build:mpi\``;
    throw new BackendError(`MPI communicator: ${path}: ${why}`, { cause: e });
  }
  return binding;
}

/**
 * Whether this process was started by an MPI launcher (`mpirun`/`mpiexec`/`srun`): the environment
 * variables Open MPI, MPICH/PMI and PMIx set for each rank.
 * @example if (launchedByMpi()) console.log('rank', process.env.OMPI_COMM_WORLD_RANK);
 */
export function launchedByMpi(): boolean {
  const e = process.env;
  return e.OMPI_COMM_WORLD_SIZE !== undefined || e.PMI_SIZE !== undefined || e.PMIX_RANK !== undefined;
}

const OPS: Record<Exclude<CollectiveOp, 'mean'>, number> = { sum: 0, max: 1, min: 2 };

/** The communicator over MPI_COMM_WORLD. Get it with {@link mpiCommunicator}. */
export class MpiCommunicator extends BaseCommunicator {
  /** 'mpi'. */
  readonly kind = 'mpi';
  private readonly onExit = (): void => this.close();

  /** @internal use {@link mpiCommunicator}. */
  constructor(
    private readonly b: MpiBinding,
    /** This process's rank in MPI_COMM_WORLD. */
    readonly rank: number,
    /** The size of MPI_COMM_WORLD. */
    readonly size: number,
  ) {
    super();
    // a rank that leaves without MPI_Finalize makes mpirun report the whole job as failed
    process.once('exit', this.onExit);
  }

  /** The MPI library's own version string (MPI_Get_library_version). */
  get version(): string {
    return this.b.version();
  }

  /** MPI_Allreduce in place; 'mean' is the sum divided by `size`. */
  allReduce<T extends FloatBuffer>(buf: T, op: CollectiveOp = 'sum'): T {
    this.check('allReduce', buf, true);
    this.checkOp(op);
    this.b.allReduce(buf, OPS[op === 'mean' ? 'sum' : op]);
    if (op === 'mean') for (let i = 0; i < buf.length; i++) buf[i] /= this.size;
    return buf;
  }

  /** MPI_Bcast in place from `root` (default 0). */
  broadcast<T extends CommBuffer>(buf: T, root = 0): T {
    this.check('broadcast', buf, false);
    this.checkRoot('broadcast', root);
    this.b.broadcast(buf, root);
    return buf;
  }

  /** MPI_Allgather into a new buffer of size × buf.length. */
  allGather<T extends CommBuffer>(buf: T): T {
    this.check('allGather', buf, false);
    const out = new (buf.constructor as new (n: number) => T)(buf.length * this.size);
    this.b.allGather(buf, out);
    return out;
  }

  /** MPI_Barrier. */
  barrier(): void {
    this.open('barrier');
    this.b.barrier();
  }

  /** Writes `message` to stderr, then MPI_Abort: mpirun ends every rank. */
  abort(message: string, code = 1): never {
    process.stderr.write(`varinf: rank ${this.rank} of ${this.size} aborts the job: ${message}\n`);
    this.b.abort(code);
    process.exit(code);
  }

  /** MPI_Finalize (once; MPI cannot be initialized again in this process). */
  override close(): void {
    if (this.closed) return;
    process.removeListener('exit', this.onExit);
    super.close();
    this.b.finalize();
  }
}

let world: MpiCommunicator | null = null;

/**
 * The MPI communicator over all ranks of the job (MPI_Init on the first call). Raises a
 * `BackendError` saying how to install MPI and build the binding when either is missing.
 * @example
 * // mpirun -np 2 node train.js   (as root: mpirun --allow-run-as-root -np 2 node train.js)
 * const comm = mpiCommunicator();
 * console.log(`rank ${comm.rank} of ${comm.size}`);
 */
export function mpiCommunicator(): MpiCommunicator {
  if (world !== null) {
    if (world.closed) throw new ValueError('mpiCommunicator: MPI was finalized by close(); a process gets one MPI communicator');
    return world;
  }
  const b = loadBinding();
  const { rank, size } = b.init();
  world = new MpiCommunicator(b, rank, size);
  return world;
}

/**
 * The communicator a script should use: MPI's when the process was started by an MPI launcher
 * (and a `BackendError` if the binding is missing there, rather than N unaware copies), the
 * {@link LocalCommunicator} otherwise. `kind` forces one.
 * @example const comm = communicator(); // the same script under `node` and `mpirun -np 4 node`
 */
export function communicator(kind?: 'local' | 'mpi'): Communicator {
  if (kind === 'local') return new LocalCommunicator();
  if (kind === 'mpi' || launchedByMpi()) return mpiCommunicator();
  return new LocalCommunicator();
}
