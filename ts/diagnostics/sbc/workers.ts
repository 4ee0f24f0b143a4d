/**
 * SBC simulations on worker threads. Tensors and functions do not cross threads, so each worker
 * imports the module that exports the {@link SbcSpec} itself, then runs the simulation indices the
 * main thread hands it one at a time (the next index goes to whichever worker answers first).
 * Each simulation's keys come from foldIn(root, index) alone, so the results equal the serial run's.
 */
import { Worker } from 'node:worker_threads';
import { ValueError, VarinfError } from '../../core/errors.js';
import type { Key } from '../../random/key.js';
import type { SbcSimulation } from './replication.js';

/** Where a worker finds the spec: a module (a file path or URL) and the name of its export. */
export interface SbcModule {
  /** The module exporting the spec: a `file:` URL or an absolute path (`.js`, or `.ts` with tsx installed). */
  module: string | URL;
  /** The export's name (default 'spec'). */
  exportName?: string;
}

/** The module's URL as a string (absolute paths become file: URLs). */
export function moduleHref(m: SbcModule): string {
  if (m.module instanceof URL) return m.module.href;
  if (/^[a-z]+:/i.test(m.module) && !/^[a-z]:[\\/]/i.test(m.module)) return m.module;
  if (!m.module.startsWith('/') && !/^[a-z]:[\\/]/i.test(m.module)) throw new ValueError(`sbc: module must be a URL or an absolute path, got '${m.module}'`);
  return new URL(`file://${m.module.startsWith('/') ? '' : '/'}${m.module}`).href;
}

// CommonJS, as eval'd worker code is. TypeScript modules load through tsx's loader, registered
// once for the whole worker so that the spec module and varinf's own code share one module graph.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
(async () => {
  if (workerData.spec.endsWith('.ts') || workerData.replication.endsWith('.ts')) (await import('tsx/esm/api')).register();
  const mod = await import(workerData.spec);
  const rep = await import(workerData.replication);
  const spec = mod[workerData.exportName];
  if (spec === undefined) throw new Error('sbc worker: ' + workerData.spec + ' has no export ' + workerData.exportName);
  const root = rep.keyFromWords(workerData.k0, workerData.k1);
  parentPort.on('message', async (index) => {
    if (index === null) { parentPort.close(); return; }
    parentPort.postMessage(await rep.runSimulation(spec, root, index));
  });
  parentPort.postMessage('ready');
})();
`;

/**
 * Runs simulations `indices` on `count` worker threads and resolves with their results in index order.
 * A worker that fails to load the module (or dies) rejects with a VarinfError naming the module.
 */
export function runInWorkers(m: SbcModule, root: Key, indices: readonly number[], count: number, onResult?: (s: SbcSimulation) => void): Promise<SbcSimulation[]> {
  const spec = moduleHref(m);
  const ts = import.meta.url.endsWith('.ts');
  const replication = new URL(ts ? './replication.ts' : './replication.js', import.meta.url).href;
  const workerData = { spec, replication, exportName: m.exportName ?? 'spec', k0: root.k0, k1: root.k1 };
  const results: SbcSimulation[] = [];
  let next = 0;
  return new Promise((resolve, reject) => {
    const workers: Worker[] = [];
    let live = Math.min(count, indices.length);
    let failed = false;
    const fail = (e: unknown): void => {
      if (failed) return;
      failed = true;
      for (const w of workers) void w.terminate();
      reject(new VarinfError(`sbc: a worker failed running ${spec}: ${e instanceof Error ? e.message : String(e)}`, { cause: e }));
    };
    const feed = (w: Worker): void => {
      if (next < indices.length) w.postMessage(indices[next++]);
      else w.postMessage(null);
    };
    if (live === 0) resolve([]);
    for (let i = 0; i < live; i++) {
      const w = new Worker(WORKER_SOURCE, { eval: true, workerData });
      workers.push(w);
      w.on('message', (msg: SbcSimulation | 'ready') => {
        if (msg !== 'ready') {
          results.push(msg);
          onResult?.(msg);
        }
        feed(w);
      });
      w.once('error', fail);
      w.once('exit', (code) => {
        if (code !== 0) return fail(new Error(`worker exited with code ${code}`));
        if (--live === 0 && !failed) resolve(results.sort((a, b) => a.index - b.index));
      });
    }
  });
}
