/**
 * `fit` takes its optimization steps as compiled code: the same trajectory as the eager steps (the
 * same keys; rounding aside), and a model whose step does not trace runs eagerly and says why.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { HalfNormal, Normal, fromStan, key, models, mul, plate, sample, tensor } from '../../ts/index.js';
import { fit, fitSync } from '../../ts/infer/fit/index.js';
import { linregModel, makeEarningsLike } from './linreg-fixture.js';

const DIR = fileURLToPath(new URL('../fixtures/posteriordb/eight_schools-eight_schools_noncentered/', import.meta.url));
const raw = JSON.parse(readFileSync(`${DIR}data.json`, 'utf8')) as Record<string, unknown>;
const p = models.eightSchoolsNoncenteredPosterior;
const data = p.loadData(raw);
const opts = { numDraws: 500, progressBar: false, phases: [{ lr: 0.05, particles: 8, minSteps: 150, maxSteps: 150 }] };

describe('fit with compiled steps', () => {
  it('follows the eager trajectory on eight schools (same key: losses and answer agree to rounding)', () => {
    const c = fitSync(p.model, [data], { ...opts, key: key(5) });
    const e = fitSync(p.model, [data], { ...opts, key: key(5), compile: false });
    expect(c.compiled).toEqual({ used: true });
    expect(e.compiled).toEqual({ used: false });
    expect(c.losses.length).toBe(e.losses.length);
    for (let i = 0; i < c.losses.length; i++) expect(Math.abs(c.losses[i] - e.losses[i])).toBeLessThan(1e-9 * Math.max(1, Math.abs(e.losses[i])));
    expect(Math.abs(c.elbo - e.elbo)).toBeLessThan(1e-9);
    expect(c.chosen.name).toBe(e.chosen.name);
  });

  it('compiles a full-rank fit whose scale factor is whitened by the Laplace factor (same losses as eager)', async () => {
    // Near-collinear coefficients (correlation −0.998): an exactly Gaussian posterior, so the whitening is on.
    const r = makeEarningsLike();
    const o = { guide: 'mvn' as const, key: key(3), numDraws: 300, progressBar: false, phases: [{ lr: 0.1, particles: 4, minSteps: 150, maxSteps: 150 }] };
    // fit, not fitSync: the event loop breathes between steps (three fits of a few seconds each).
    const c = await fit(linregModel, [r], o);
    const e = await fit(linregModel, [r], { ...o, compile: false });
    const plain = await fit(linregModel, [r], { ...o, whitenFactor: false });
    expect(c.compiled).toEqual({ used: true });
    expect(c.losses.length).toBe(e.losses.length);
    for (let i = 0; i < c.losses.length; i++) expect(Math.abs(c.losses[i] - e.losses[i])).toBeLessThan(1e-9 * Math.max(1, Math.abs(e.losses[i])));
    // The whitening changes the trajectory: the steps above went through it.
    expect(Math.max(...c.losses.map((l, i) => Math.abs(l - plain.losses[i])))).toBeGreaterThan(1e-3);
  });

  it('compiles a Stan program too (eight schools through fromStan)', () => {
    const code = readFileSync(fileURLToPath(new URL('../fixtures/stan/eight_schools-eight_schools_noncentered.stan', import.meta.url)), 'utf8');
    const m = fromStan(code, raw);
    const r = fitSync(m.model, [], { ...opts, key: key(1) });
    expect(r.compiled.used).toBe(true);
    // posteriordb's reference: mu 4.4 (sd 3.3).
    const mu = r.summary.mu.mean[0];
    expect(mu).toBeGreaterThan(2);
    expect(mu).toBeLessThan(7);
  });

  it('runs eagerly, saying why, when the model reads a latent value on the host', () => {
    const y = tensor(Float64Array.of(1.2, 0.4, -0.3, 2.1, 0.9));
    const model = (): void => {
      const mu = sample('mu', new Normal(0, 5));
      const s = sample('s', new HalfNormal(2));
      // Data-dependent control flow: cannot be replayed as a compiled graph.
      const scale = mu.dataSync().some((v) => v > 100) ? 2 : 1;
      plate('n', 5, () => sample('y', new Normal(mu, mul(s, scale)), { obs: y }));
    };
    const r = fitSync(model, [], { ...opts, key: key(2) });
    expect(r.compiled.used).toBe(false);
    expect(r.compiled.reason).toMatch(/item|host|traced/i);
    expect(Number.isFinite(r.elbo)).toBe(true);
  });
});
