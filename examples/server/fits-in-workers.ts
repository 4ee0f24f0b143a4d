/**
 * Fits on worker threads, so the thread that answers requests never waits on them: the pattern
 * for a server that runs long CPU work (several fits at once, or one large one). Each fit runs in
 * a `node:worker_threads` Worker (examples/server/fit-worker.ts, which imports 'varinf' itself:
 * tensors and models do not cross threads, plain numbers do), and the main thread stays free —
 * measured here with `monitorEventLoopDelay` while two fits run.
 *
 * (Without workers, `await fit(...)` also keeps a server answering: it yields to the event loop
 * every ~10 ms. Workers add parallelism across cores and isolate a fit that misbehaves.)
 *
 * Run: npx tsx examples/server/fits-in-workers.ts
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import type { FitAnswer, FitRequest } from './fit-worker.js';

/** Runs one fit on a new worker thread and resolves with its answer. */
function fitInWorker(req: FitRequest): Promise<FitAnswer> {
  return new Promise((resolve, reject) => {
    // Compiled, the worker is the .js file beside this one; run as TypeScript (tsx), the worker
    // registers tsx's loader first (Node does not pass a loader to workers).
    const ts = import.meta.url.endsWith('.ts');
    const url = new URL(ts ? './fit-worker.ts' : './fit-worker.js', import.meta.url);
    const boot = `import('tsx/esm/api').then((t) => t.tsImport(${JSON.stringify(url.href)}, ${JSON.stringify(import.meta.url)}))`;
    const w = ts ? new Worker(boot, { eval: true, workerData: req }) : new Worker(url, { workerData: req });
    w.once('message', (m: FitAnswer) => resolve(m));
    w.once('error', reject);
    w.once('exit', (code) => (code !== 0 ? reject(new Error(`fit worker exited with code ${code}`)) : undefined));
  });
}

async function main(): Promise<void> {
  const lag = monitorEventLoopDelay({ resolution: 5 });
  lag.enable();
  const t0 = performance.now();
  const answers = await Promise.all([fitInWorker({ guide: 'normal', seed: 0 }), fitInWorker({ guide: 'mvn', seed: 0 })]);
  lag.disable();
  for (const a of answers) console.log(`${a.guide.padEnd(6)} mu ${a.mu.toFixed(2)}  tau ${a.tau.toFixed(2)}  k̂ ${a.khat.toFixed(2)}  ${a.ms.toFixed(0)} ms in its worker`);
  console.log(`two fits in ${(performance.now() - t0).toFixed(0)} ms; the main thread's longest stall meanwhile: ${(lag.max / 1e6).toFixed(1)} ms`);
}

void main();
