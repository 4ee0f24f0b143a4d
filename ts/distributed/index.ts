/** Scale-out: many independent fits on worker threads, communicators and data-parallel training. */
export { fitMany, FitManyRun, type FitManyOptions, type FitManyProgress } from './fit-many.js';
export type { Job, JobBase, FitJob, SviJob, TaskJob, JobResult, FitJobValue, SviJobValue, PortableFitOptions } from './jobs.js';
export { toPortable, fromPortable, isPortableTensor, toKey, decodeArg, encodeResult, type PortableTensor, type PortableKey } from './portable.js';
export { runJob, resolveJobModule } from './run-job.js';
