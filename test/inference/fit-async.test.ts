/**
 * `fit` and `SVI.run` on a server (issue 18 item 5, issue 26 item 12): async `fit` keeps the event
 * loop responsive, an abort rejects with an `AbortError` carrying the partial result, and a
 * diverging `SVI.run` hands back its last good state so the caller can resume with a smaller step.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import {
  AbortError,
  AutoNormal,
  Normal,
  SVI,
  SVIDivergenceError,
  TraceELBO,
  adam,
  factor,
  initToValue,
  key,
  models,
  mul,
  plate,
  sample,
  square,
  sub,
  tensor,
  type FitPartial,
  type FitProgress,
  type SVIResult,
} from '../../ts/index.js';
import { fit, fitSync } from '../../ts/infer/fit/index.js';

const DIR = fileURLToPath(new URL('../fixtures/posteriordb/eight_schools-eight_schools_noncentered/', import.meta.url));
const p = models.eightSchoolsNoncenteredPosterior;
const data = p.loadData(JSON.parse(readFileSync(`${DIR}data.json`, 'utf8')) as Record<string, unknown>);

describe('async fit', () => {
  it('keeps the event loop responsive during an eight-schools fit (it yields in slices; the longest stall is printed)', async () => {
    // Counted, not timed: how many times a setImmediate chain ran while the fit was in progress. A
    // synchronous fit lets it run at most once; `fit` yields every ~10 ms of work, so it runs (78 times
    // in 1.5 s at load 1, 131 in 6.8 s at load 26). The stall figures are printed only.
    const h = monitorEventLoopDelay({ resolution: 5 });
    h.enable();
    let turns = 0;
    let running = true;
    const tick = (): void => {
      turns++;
      if (running) setImmediate(tick);
    };
    setImmediate(tick);
    const t0 = performance.now();
    const r = await fit(p.model, [data], { guide: 'mvn', key: key(0), progressBar: false });
    const total = performance.now() - t0;
    running = false;
    h.disable();
    console.log(`async fit of eight schools: ${total.toFixed(0)} ms in all, ${turns} event-loop turns, longest stall ${(h.max / 1e6).toFixed(1)} ms (p99 ${(h.percentile(99) / 1e6).toFixed(1)} ms, p50 ${(h.percentile(50) / 1e6).toFixed(1)} ms)`);
    expect(r.timings.steps).toBeGreaterThan(500);
    expect(turns).toBeGreaterThan(10);
  });

  it('gives the same answer as fitSync for the same key', async () => {
    const opts = { key: key(3), numDraws: 500, progressBar: false, phases: [{ lr: 0.1, particles: 4, minSteps: 200, maxSteps: 200 }] };
    const a = await fit(p.model, [data], opts);
    const b = fitSync(p.model, [data], opts);
    expect(a.elbo).toBe(b.elbo);
    expect(Array.from(a.losses)).toEqual(Array.from(b.losses));
  });

  it('rejects with an AbortError (code ABORT_ERR, cause the reason) carrying the partial result', async () => {
    const ac = new AbortController();
    const reason = new Error('client went away');
    let checks = 0;
    const run = fit(p.model, [data], {
      key: key(0),
      progressBar: false,
      onProgress: (info) => {
        if (info.stage === 'phases' && ++checks === 4) ac.abort(reason);
      },
      signal: ac.signal,
    });
    const e = await run.then(
      () => null,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(AbortError);
    const err = e as AbortError<FitPartial>;
    expect(err.code).toBe('ABORT_ERR');
    expect(err.cause).toBe(reason);
    expect(err.partial.losses.length).toBeGreaterThanOrEqual(200);
    expect(err.partial.params).not.toBeNull();
    expect(err.message).toMatch(/aborted at step \d+/);
  });
});

describe('aborting fit inside the MAP search', () => {
  // A deliberately slow log density (each evaluation busy-waits `ms`) with a sharp peak at 0.001
  // from a start at 0: L-BFGS's first step (one unit) overshoots by a factor 1000, and its line
  // search halves it about ten times, each halving one evaluation.
  const slowPeak = (ms: number) => (): void => {
    const x = sample('x', new Normal(0, 1000));
    const until = performance.now() + ms;
    while (performance.now() < until);
    factor('peak', mul(-5e7, square(sub(x, 0.001))));
  };
  const opts = { key: key(0), progressBar: false, numDraws: 200, guideOptions: { init: initToValue({ x: 0 }) } };

  it('reports every evaluation of −log p in the MAP search, and an abort from there stops after that evaluation', async () => {
    const ac = new AbortController();
    const seen: FitProgress[] = [];
    const e = await fit(slowPeak(0), [], {
      ...opts,
      signal: ac.signal,
      onProgress: (p) => {
        seen.push(p);
        if (p.evaluations === 3) ac.abort('stop');
      },
    }).then(
      () => null,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(AbortError);
    const err = e as AbortError<FitPartial>;
    expect(err.message).toMatch(/in the MAP search after 3 evaluations/);
    expect(seen.map((p) => [p.stage, p.evaluations])).toEqual([
      ['mode', 1],
      ['mode', 2],
      ['mode', 3],
    ]);
    // The start, U = 5e7·0.001² = 50 (the prior's term aside), is the lowest so far: the trial points overshoot.
    expect(seen[2].loss).toBeCloseTo(50 + Math.log(1000 * Math.sqrt(2 * Math.PI)), 6);
    expect(err.partial.step).toBe(0);
    expect(err.partial.params).toBeNull();
    expect(err.partial.mode.evaluations).toBe(3);
    expect(Array.from(err.partial.mode.at ?? [])).toEqual([0]);
  });

  it('a timed-out signal stops a slow MAP search inside its first line search', async () => {
    // Each evaluation takes 40 ms and the first L-BFGS iteration about ten of them: the abort at
    // 100 ms has to get through between the line search's evaluations.
    const t0 = performance.now();
    const e = await fit(slowPeak(40), [], { ...opts, signal: AbortSignal.timeout(100) }).then(
      () => null,
      (err: unknown) => err,
    );
    const ms = performance.now() - t0;
    expect(e).toBeInstanceOf(AbortError);
    const err = e as AbortError<FitPartial>;
    console.log(`abort in the MAP search: rejected after ${ms.toFixed(0)} ms, ${err.partial.mode.evaluations} evaluations (${err.message})`);
    expect(err.partial.mode.evaluations).toBeGreaterThan(0);
    expect(err.partial.mode.evaluations).toBeLessThan(10);
    expect(err.partial.losses.length).toBe(0);
  });

  it('without an abort, the same slow density fits (the MAP at 0.001)', async () => {
    const r = await fit(slowPeak(0), [], { ...opts, phases: [{ lr: 0.1, particles: 2, minSteps: 50, maxSteps: 50 }] });
    expect(r.laplace.used).toBe(true);
    expect(r.summary.x.mean[0]).toBeCloseTo(0.001, 4);
  });
});

describe('SVI.run', () => {
  const y = tensor(Float64Array.of(0.3, -0.2, 0.5));
  const model = (): void => {
    const x = sample('x', new Normal(0, 1));
    plate('n', 3, () => sample('y', new Normal(x, 0.5), { obs: y }));
  };

  it('an abort rejects with an AbortError carrying the steps done', async () => {
    const ac = new AbortController();
    const svi = new SVI(model, new AutoNormal(model), adam(0.01), new TraceELBO());
    const e = await svi
      .run(key(0), 1_000_000, [], {
        progressBar: false,
        progressEvery: 100,
        onProgress: (step) => {
          if (step >= 300) ac.abort('enough');
        },
        signal: ac.signal,
      })
      .then(
        () => null,
        (err: unknown) => err,
      );
    expect(e).toBeInstanceOf(AbortError);
    const err = e as AbortError<SVIResult>;
    expect(err.code).toBe('ABORT_ERR');
    expect(err.cause).toBe('enough');
    expect(err.partial.steps).toBeGreaterThanOrEqual(300);
    expect(err.partial.losses.length).toBe(err.partial.steps);
  });

  for (const compile of [true, false])
    it(`a divergence (${compile ? 'compiled' : 'eager'}) carries the last good state and the losses; resuming with a smaller step recovers`, async () => {
      const guide = new AutoNormal(model);
      const svi = new SVI(model, guide, adam(700), new TraceELBO());
      const e = await svi.run(key(0), 300, [], { progressBar: false, compile }).then(
        () => null,
        (err: unknown) => err,
      );
      expect(e).toBeInstanceOf(SVIDivergenceError);
      const err = e as SVIDivergenceError;
      expect(err.message).toMatch(/SVI step \d+: .*error\.state holds the state of step \d+/);
      expect(err.losses.length).toBe(err.state.step);
      for (const v of Object.values(err.state.params)) expect(v.dataSync().every(Number.isFinite)).toBe(true);
      const slow = new SVI(model, guide, adam(0.05), new TraceELBO());
      slow.init(key(0));
      const r = await slow.run(key(0), 600, [], { progressBar: false, compile, state: { ...err.state, optState: slow.optim.init(err.state.params) } });
      // The exact posterior: precision 1 + 3/0.25 = 13, mean (Σy/0.25)/13.
      expect(r.params.auto_x_loc.item()).toBeCloseTo(0.6 / 0.25 / 13, 1);
    });
});
