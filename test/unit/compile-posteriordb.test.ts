/**
 * Compiled SVI equals eager SVI on every posteriordb model: AutoNormal and AutoMultivariateNormal,
 * Adam, one particle, 100 steps, the same key. Losses and parameters agree to 1e-9 relative, not
 * bit for bit: the compiled step runs the js reference arithmetic in generated code (and large
 * kernels on the backend), while eager steps run on the default backend, whose transcendental
 * functions may differ from V8's Math in the last bit.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { adam, AutoMultivariateNormal, AutoNormal, key, SVI, TraceELBO } from '../../ts/index.js';
import { posteriors } from '../../ts/models/posteriordb/index.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/posteriordb/', import.meta.url));
const STEPS = 100;
const TOL = 1e-9;

const close = (a: number, b: number): boolean => Math.abs(a - b) <= TOL * Math.max(1, Math.abs(b));

const cases = Object.keys(posteriors).flatMap((name) => [
  [name, 'AutoNormal'],
  [name, 'AutoMultivariateNormal'],
]);

describe('compiled SVI equals eager SVI on every posteriordb model (same key)', () => {
  it.each(cases)('%s, %s', (name, guide) => {
    const p = posteriors[name];
    const data = p.loadData(JSON.parse(readFileSync(`${FIXTURES}${name}/data.json`, 'utf8')) as Record<string, unknown>);
    const model = p.model as (d: unknown) => void;
    const svi = new SVI(model, guide === 'AutoNormal' ? new AutoNormal(model) : new AutoMultivariateNormal(model), adam(0.01), new TraceELBO());
    const eager = svi.runSync(key(11), STEPS, [data], { compile: false, progressBar: false });
    const comp = svi.runSync(key(11), STEPS, [data], { progressBar: false });
    expect(comp.compiled).toEqual({ used: true });
    const bad: string[] = [];
    for (let i = 0; i < STEPS; i++) if (!close(comp.losses[i], eager.losses[i])) bad.push(`loss ${i}: ${comp.losses[i]} vs ${eager.losses[i]}`);
    for (const [site, t] of Object.entries(eager.params)) {
      const want = t.dataSync();
      const got = comp.params[site].dataSync();
      for (let i = 0; i < want.length; i++) if (!close(got[i], want[i])) bad.push(`${site}[${i}]: ${got[i]} vs ${want[i]}`);
    }
    expect(bad.slice(0, 10)).toEqual([]);
  });
});
