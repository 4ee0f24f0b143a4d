/** Scale-out: many independent fits on worker threads, communicators and data-parallel training. */
export { fitMany, FitManyRun, type FitManyOptions, type FitManyProgress } from './fit-many.js';
export type { Job, JobBase, FitJob, SviJob, TaskJob, JobResult, FitJobValue, SviJobValue, PortableFitOptions } from './jobs.js';
export { toPortable, fromPortable, isPortableTensor, toKey, decodeArg, encodeResult, type PortableTensor, type PortableKey } from './portable.js';
export { runJob, resolveJobModule } from './run-job.js';
export { LocalCommunicator, BaseCommunicator, abortOnError, type Communicator, type CommBuffer, type FloatBuffer, type CollectiveOp } from './communicator.js';
export { MpiCommunicator, mpiCommunicator, communicator, launchedByMpi, mpiAddonPath } from './mpi.js';
export { DistributedError } from './errors.js';
export { DataParallelSVI, type DataParallelOptions } from './data-parallel.js';
export { agreeOnSignature, broadcastParams, gatherStrings } from './agree.js';
export { DataParallelTrainer, shardOf, type DataParallelTrainerOptions } from './trainer.js';
export { allReduceStep, type CompileStatus } from './reduce.js';
