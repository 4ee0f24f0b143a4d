/**
 * `fitMany`: many independent fits (or tasks) on a pool of `worker_threads`, for the server job of
 * fitting one model to thousands of groups or data sets. Results stream back as they finish; a
 * job that fails returns its error with its index and the others go on.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { AbortError, BackendError, ValueError } from '../core/errors.js';
import { listBackends } from '../backends/registry.js';
import type { Job, JobResult } from './jobs.js';
import { fromWireError, runJob, toWireError, type WireError } from './run-job.js';

/** How far a {@link fitMany} run has got. */
export interface FitManyProgress {
  /** Jobs finished (succeeded or failed). */
  done: number;
  /** Jobs that failed. */
  failed: number;
  /** Jobs in all. */
  total: number;
}

/** Options of {@link fitMany}. */
export interface FitManyOptions {
  /**
   * Worker threads (default: the machine's available parallelism, at most the number of jobs).
   * 0 runs the jobs one after another on this thread (the serial reference; no workers).
   */
  workers?: number;
  /** Called with each result as it arrives (in the order jobs finish, not their index order). */
  onResult?: (r: JobResult) => void;
  /** Called after each result. */
  onProgress?: (p: FitManyProgress) => void;
  /**
   * Stops the run: running jobs are cut off (their workers terminated), no more start, and the
   * iterator (or `results()`) rejects with an `AbortError` whose `partial` is the results so far.
   */
  signal?: AbortSignal;
  /** The backend each worker uses (`setBackend` in the worker; default: the worker's default). */
  backend?: string;
}

type Wire = { ready: true } | { index: number; ok: true; value: unknown; ms: number } | { index: number; ok: false; error: WireError; ms: number };

/** The worker's entry: beside this file, as .ts under tsx or vitest (through tsx's loader) or as .js once compiled. */
function spawn(backend: string | undefined): Worker {
  const here = import.meta.url;
  const ts = here.endsWith('.ts');
  const url = new URL(ts ? './worker.ts' : './worker.js', here);
  const workerData = { backend };
  if (!ts) return new Worker(url, { workerData });
  // Node hands no loader to a worker: register tsx's in it first, then import the entry.
  const bootCode = `import('tsx/esm/api').then((t) => { t.register(); return import(${JSON.stringify(url.href)}); })`;
  return new Worker(bootCode, { eval: true, workerData });
}

/**
 * A running {@link fitMany}: iterate it (`for await`) to take results as they finish, or await
 * `results()` for all of them in job order.
 */
export class FitManyRun implements AsyncIterable<JobResult> {
  private readonly queue: JobResult[] = [];
  private readonly all: JobResult[] = [];
  private waiter: (() => void) | null = null;
  private failure: Error | null = null;
  private finished = false;
  private readonly settled: Promise<void>;
  /** Progress so far. */
  readonly progress: FitManyProgress;

  /** @internal use {@link fitMany}. */
  constructor(
    private readonly jobs: Job[],
    private readonly opts: FitManyOptions,
  ) {
    this.progress = { done: 0, failed: 0, total: jobs.length };
    this.settled = this.start().then(
      () => this.finish(null),
      (e: unknown) => this.finish(e as Error),
    );
    // the caller may only use the callbacks; a rejection is still reported by results()/the iterator
    this.settled.catch(() => undefined);
  }

  private finish(e: Error | null): void {
    this.failure = e;
    this.finished = true;
    this.wake();
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  private deliver(r: JobResult): void {
    this.progress.done++;
    if (!r.ok) this.progress.failed++;
    this.all.push(r);
    this.queue.push(r);
    this.opts.onResult?.(r);
    this.opts.onProgress?.({ ...this.progress });
    this.wake();
  }

  private aborted(): AbortError<JobResult[]> {
    const partial = [...this.all].sort((a, b) => a.index - b.index);
    return new AbortError<JobResult[]>(`fitMany: aborted after ${this.progress.done} of ${this.progress.total} jobs`, partial, { cause: this.opts.signal?.reason });
  }

  private async start(): Promise<void> {
    const { signal } = this.opts;
    const n = this.jobs.length;
    const W = this.opts.workers ?? Math.min(availableParallelism(), n);
    if (signal?.aborted) throw this.aborted();
    if (W === 0) {
      for (let i = 0; i < n; i++) {
        if (signal?.aborted) throw this.aborted();
        const t0 = performance.now();
        try {
          const value = structuredClone(await runJob(this.jobs[i], i));
          this.deliver({ index: i, ok: true, value, ms: performance.now() - t0, worker: -1 });
        } catch (e) {
          this.deliver({ index: i, ok: false, error: fromWireError(toWireError(e)), ms: performance.now() - t0, worker: -1 });
        }
        // let callbacks and the event loop run between jobs
        await new Promise((r) => setImmediate(r));
      }
      return;
    }
    await this.runPool(Math.min(W, Math.max(n, 1)));
  }

  private runPool(W: number): Promise<void> {
    const { signal, backend } = this.opts;
    const n = this.jobs.length;
    return new Promise<void>((resolvePool, rejectPool) => {
      let next = 0;
      let live = 0;
      let bootFailures = 0;
      const workers = new Set<Worker>();
      const stopAll = (): void => {
        for (const w of workers) void w.terminate();
        workers.clear();
      };
      const onAbort = (): void => {
        stopAll();
        rejectPool(this.aborted());
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const done = (): void => {
        if (this.progress.done < n) return;
        signal?.removeEventListener('abort', onAbort);
        stopAll();
        resolvePool();
      };
      const launch = (slot: number): void => {
        const w = spawn(backend);
        workers.add(w);
        live++;
        let current = -1;
        let started = 0;
        let ready = false;
        const feed = (): void => {
          if (signal?.aborted || next >= n) {
            current = -1;
            workers.delete(w);
            void w.terminate();
            return;
          }
          current = next++;
          started = performance.now();
          // a worker thread shares this process's directory, so relative module paths resolve alike
          w.postMessage({ index: current, job: this.jobs[current] });
        };
        w.on('message', (m: Wire) => {
          if ('ready' in m) {
            ready = true;
            return feed();
          }
          current = -1;
          if (m.ok) this.deliver({ index: m.index, ok: true, value: m.value, ms: m.ms, worker: slot });
          else this.deliver({ index: m.index, ok: false, error: fromWireError(m.error), ms: m.ms, worker: slot });
          feed();
          done();
        });
        const lost = (why: string): void => {
          if (!workers.has(w)) return;
          workers.delete(w);
          live--;
          if (signal?.aborted) return;
          // workers that die before they are ready would be replaced forever: give up after three
          if (!ready && ++bootFailures >= 3) {
            signal?.removeEventListener('abort', onAbort);
            stopAll();
            rejectPool(new BackendError(`fitMany: worker threads fail to start (${why}); workers: 0 runs the jobs on this thread`));
            return;
          }
          // the job that was running fails alone; a fresh worker takes the rest
          if (current >= 0) {
            const i = current;
            current = -1;
            this.deliver({ index: i, ok: false, error: new Error(`fitMany: job ${i}: its worker ${why}`), ms: performance.now() - started, worker: slot });
          }
          if (next < n) launch(slot);
          else if (live === 0 || this.progress.done >= n) done();
        };
        w.on('error', (e) => lost(`failed: ${e.message}`));
        w.on('exit', (code) => lost(`exited with code ${code}`));
      };
      if (n === 0) return resolvePool();
      for (let s = 0; s < W; s++) launch(s);
    });
  }

  /** The results as they finish (each once); rejects at the end if the run was aborted. */
  async *[Symbol.asyncIterator](): AsyncIterator<JobResult> {
    for (;;) {
      const r = this.queue.shift();
      if (r !== undefined) {
        yield r;
        continue;
      }
      if (this.finished) {
        if (this.failure !== null) throw this.failure;
        return;
      }
      await new Promise<void>((res) => (this.waiter = res));
    }
  }

  /**
   * Every result, in job order, once all jobs are done (failed jobs included, with their error).
   * Rejects with the `AbortError` where the run was aborted.
   */
  async results(): Promise<JobResult[]> {
    await this.settled;
    if (this.failure !== null) throw this.failure;
    return [...this.all].sort((a, b) => a.index - b.index);
  }
}

/**
 * Runs independent jobs (fits of one model to many data sets, or any task) on `workers`
 * worker threads, each with its own varinf and backend state; see {@link Job} for what a job is.
 * Results are the same as a serial run (`workers: 0`) with the same keys: a job's numbers depend
 * on its key and data only.
 * @example
 * const jobs = datasets.map((y, i) => ({ kind: 'svi', module: './eight.ts', args: [y, sigma], options: { key: i, steps: 2000, lr: 0.05 } }) as const);
 * for await (const r of fitMany(jobs, { workers: 2 })) {
 *   if (r.ok) console.log(r.index, (r.value as SviJobValue).params['mu_loc'].data[0]);
 *   else console.error(`job ${r.index}: ${r.error.message}`);
 * }
 */
export function fitMany(jobs: readonly Job[], opts: FitManyOptions = {}): FitManyRun {
  if (!Array.isArray(jobs)) throw new ValueError(`fitMany: jobs must be an array of jobs, got ${typeof jobs}`);
  const w = opts.workers;
  if (w !== undefined && (!Number.isInteger(w) || w < 0)) throw new ValueError(`fitMany: workers must be a non-negative integer, got ${w}`);
  const b = opts.backend;
  if (b !== undefined && !listBackends().available.includes(b)) {
    const why = listBackends().missing[b];
    throw new BackendError(`fitMany: backend '${b}' is not available${why ? `: ${why}` : ''} (available: ${listBackends().available.join(', ')})`);
  }
  return new FitManyRun([...jobs], opts);
}
