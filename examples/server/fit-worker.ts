/**
 * The worker side of examples/server/fits-in-workers.ts: one fit of eight schools (non-centered),
 * with the guide and key the main thread sent, answered as plain numbers (tensors stay here).
 * In a worker the synchronous `fitSync` is the right call: nothing else runs on this thread.
 */
import { readFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { fitSync, key, models } from 'varinf';

/** What the main thread asks for. */
export interface FitRequest {
  guide: 'normal' | 'mvn';
  seed: number;
}

/** What the worker answers. */
export interface FitAnswer {
  guide: string;
  mu: number;
  tau: number;
  khat: number;
  ms: number;
}

const req = workerData as FitRequest;
const p = models.eightSchoolsNoncenteredPosterior;
const dir = new URL('../../test/fixtures/posteriordb/eight_schools-eight_schools_noncentered/', import.meta.url);
const data = p.loadData(JSON.parse(readFileSync(new URL('data.json', dir), 'utf8')) as Record<string, unknown>);
const r = fitSync(p.model, [data], { guide: req.guide, key: key(req.seed), numDraws: 2000 });
const answer: FitAnswer = { guide: req.guide, mu: r.summary.mu.mean[0], tau: r.summary.tau.mean[0], khat: r.khat, ms: r.timings.totalMs };
parentPort?.postMessage(answer);
