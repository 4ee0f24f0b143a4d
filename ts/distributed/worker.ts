/**
 * The entry of a {@link fitMany} worker thread: sets its backend, then runs the jobs the main
 * thread sends, one at a time, and answers each with its value or its error. Every worker has its
 * own copy of varinf (tensors, tape, compiled steps, backend state): nothing but plain data
 * crosses the boundary.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { setBackend } from '../backends/registry.js';
import type { Job } from './jobs.js';
import { runJob, toWireError } from './run-job.js';

/** What the main thread hands a worker at its start. */
interface Boot {
  backend?: string;
}

/** A job message from the main thread. */
interface JobMessage {
  index: number;
  job: Job;
}

const port = parentPort;
if (port === null) throw new Error('varinf fitMany worker: not started as a worker thread');
const boot = (workerData ?? {}) as Boot;
let bootError: unknown = null;
try {
  if (boot.backend !== undefined) setBackend(boot.backend);
} catch (e) {
  bootError = e;
}

port.on('message', (m: JobMessage) => {
  void (async () => {
    const t0 = performance.now();
    try {
      if (bootError !== null) throw bootError;
      const value = await runJob(m.job, m.index);
      port.postMessage({ index: m.index, ok: true, value, ms: performance.now() - t0 });
    } catch (e) {
      port.postMessage({ index: m.index, ok: false, error: toWireError(e), ms: performance.now() - t0 });
    }
  })();
});
port.postMessage({ ready: true });
