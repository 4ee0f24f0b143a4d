import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { AbortError, ValueError, fitMany, type FitJobValue, type Job, type JobResult, type SviJobValue } from '../../ts/index.js';

const models = fileURLToPath(new URL('../fixtures/distributed/models.ts', import.meta.url));
const y = [28, 8, -3, 7, -1, 1, 18, 12];
const sigma = [15, 10, 16, 11, 9, 11, 10, 18];

/** Eight schools with the data shifted per job, so every job's answer differs. */
function sviJobs(n: number, steps: number): Job[] {
  return Array.from({ length: n }, (_, i) => ({ kind: 'svi', module: models, args: [y.map((v) => v + i), sigma], options: { key: 100 + i, steps, lr: 0.05 } }));
}

function values<T>(rs: JobResult[]): T[] {
  return rs.map((r) => {
    if (!r.ok) throw r.error;
    return r.value as T;
  });
}

describe('fitMany', () => {
  it('gives, on two workers, bit-identical SVI results to a serial run with the same keys, streamed as they finish', async () => {
    const jobs = sviJobs(4, 300);
    const seen: number[] = [];
    const progress: number[] = [];
    const run = fitMany(jobs, { workers: 2, onResult: (r) => seen.push(r.index), onProgress: (p) => progress.push(p.done) });
    const streamed: number[] = [];
    for await (const r of run) streamed.push(r.index);
    expect(streamed).toEqual(seen);
    const par = await run.results();
    const ser = await fitMany(jobs, { workers: 0 }).results();
    expect(par.map((r) => r.index)).toEqual([0, 1, 2, 3]);
    expect([...seen].sort()).toEqual([0, 1, 2, 3]);
    expect(progress).toEqual([1, 2, 3, 4]);
    expect(new Set(par.map((r) => r.worker))).toEqual(new Set([0, 1]));
    const a = values<SviJobValue>(par);
    const b = values<SviJobValue>(ser);
    for (let i = 0; i < 4; i++) {
      expect(a[i].compiled.used).toBe(true);
      expect(Object.keys(a[i].params).sort()).toEqual(Object.keys(b[i].params).sort());
      for (const k of Object.keys(a[i].params)) expect(Array.from(a[i].params[k].data)).toEqual(Array.from(b[i].params[k].data));
      expect(Array.from(a[i].losses)).toEqual(Array.from(b[i].losses));
    }
    // different data and keys give different fits (the comparison above is not vacuous)
    expect(a[0].params.auto_mu_loc.data[0]).not.toBe(a[1].params.auto_mu_loc.data[0]);
  });

  it('runs the fit recipe in a worker with the same answer as the serial run', async () => {
    const job: Job = { module: models, args: [y, sigma], options: { key: 3, numDraws: 300, selectionDraws: 100, phases: [{ lr: 0.1, particles: 4, minSteps: 200, maxSteps: 300 }] } };
    const [par] = values<FitJobValue>(await fitMany([job], { workers: 1 }).results());
    const [ser] = values<FitJobValue>(await fitMany([job], { workers: 0 }).results());
    expect(par.summary.mu.mean).toEqual(ser.summary.mu.mean);
    expect(par.elbo).toBe(ser.elbo);
    // eight schools: the posterior mean of mu is about 4.4 (posteriordb's reference draws)
    expect(par.summary.mu.mean[0]).toBeGreaterThan(3);
    expect(par.summary.mu.mean[0]).toBeLessThan(6);
  });

  it('keeps a failure to its job (an error with its class, or a worker that dies), and the others go on', async () => {
    const jobs: Job[] = [
      ...sviJobs(2, 50),
      { kind: 'svi', module: models, export: 'broken', args: [y], options: { key: 0, steps: 5 } },
      { kind: 'task', module: models, export: 'nothing' },
      { kind: 'task', module: './no/such/module.ts' },
      { kind: 'task', module: models, export: 'sumTimes', input: { xs: [1, 2, 3] }, args: [10] },
    ];
    // a worker that dies fails only the job it was running; a fresh worker takes the rest
    const withCrash: Job[] = [{ kind: 'task', module: models, export: 'crash' }, ...jobs];
    const crashed = await fitMany(withCrash, { workers: 2 }).results();
    expect(crashed.map((r) => r.ok)).toEqual([false, true, true, false, false, false, true]);
    expect((crashed[0] as { error: Error }).error.message).toBe('fitMany: job 0: its worker exited with code 7');
    for (const workers of [2, 0]) {
      const rs = await fitMany(jobs, { workers }).results();
      expect(rs.map((r) => r.ok)).toEqual([true, true, false, false, false, true]);
      const err = (i: number): Error => (rs[i] as { error: Error }).error;
      expect(err(2)).toBeInstanceOf(ValueError);
      expect(err(2).message).toMatch(/Normal: parameter scale must be positive, got -1/);
      expect(err(3).message).toMatch(/job 3: module .* has no function export 'nothing'/);
      expect(err(4).message).toMatch(/job 4: cannot import module '\.\/no\/such\/module\.ts'/);
      expect((rs[5] as { value: number }).value).toBe(60);
    }
  });

  it('stops on abort: running jobs are cut off and the AbortError carries the results so far', async () => {
    const ac = new AbortController();
    const jobs: Job[] = [{ kind: 'task', module: models, export: 'sumTimes', input: { xs: [1] }, args: [2] }, { kind: 'task', module: models, export: 'spin' }, { kind: 'task', module: models, export: 'spin' }];
    const run = fitMany(jobs, { workers: 2, signal: ac.signal, onResult: () => setTimeout(() => ac.abort(new Error('enough')), 50) });
    const e = await run.results().then(
      () => null,
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(AbortError);
    const partial = (e as AbortError<JobResult[]>).partial;
    expect(partial.map((r) => r.index)).toEqual([0]);
    expect(((e as AbortError).cause as Error).message).toBe('enough');
  });

  it('rejects bad options by name', () => {
    expect(() => fitMany(sviJobs(1, 1), { workers: -1 })).toThrow(/fitMany: workers must be a non-negative integer, got -1/);
    expect(() => fitMany('jobs' as unknown as Job[])).toThrow(ValueError);
    expect(() => fitMany(sviJobs(1, 1), { backend: 'nope' })).toThrow(/fitMany: backend 'nope' is not available \(available: js/);
  });
});
