/**
 * Fits on worker threads, so the thread that answers requests never waits on them: the pattern
 * for a server that runs long CPU work (several fits at once, or one large one). `fitMany` runs
 * each job on a `node:worker_threads` Worker with its own varinf; a job names its model by module
 * path and export (examples/server/eight-schools.ts) and carries its data as plain numbers, and
 * its result comes back as plain data. The main thread stays free — measured here with
 * `monitorEventLoopDelay` while two fits run.
 *
 * (Without workers, `await fit(...)` also keeps a server answering: it yields to the event loop
 * every ~10 ms. Workers add parallelism across cores and isolate a fit that misbehaves.)
 *
 * Run: npx tsx examples/server/fits-in-workers.ts
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { fitMany, type FitJobValue, type Job } from 'varinf';

const module = fileURLToPath(new URL('./eight-schools.ts', import.meta.url));
const y = [28, 8, -3, 7, -1, 1, 18, 12];
const sigma = [15, 10, 16, 11, 9, 11, 10, 18];
const guides = ['normal', 'mvn'] as const;
const jobs: Job[] = guides.map((guide) => ({ module, args: [y, sigma], options: { guide, key: 0, numDraws: 2000 } }));

const lag = monitorEventLoopDelay({ resolution: 5 });
lag.enable();
const t0 = performance.now();
for await (const r of fitMany(jobs, { workers: 2 })) {
  if (!r.ok) throw r.error;
  const v = r.value as FitJobValue;
  console.log(`${guides[r.index].padEnd(6)} mu ${v.summary.mu.mean[0].toFixed(2)}  tau ${v.summary.tau.mean[0].toFixed(2)}  k̂ ${v.khat.toFixed(2)}  ${r.ms.toFixed(0)} ms in worker ${r.worker}`);
}
lag.disable();
console.log(`two fits in ${(performance.now() - t0).toFixed(0)} ms; the main thread's longest stall meanwhile: ${(lag.max / 1e6).toFixed(1)} ms`);
