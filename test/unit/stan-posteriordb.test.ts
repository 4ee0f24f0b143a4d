/**
 * fromStan against the hand-written posteriordb models of ts/models/posteriordb: at random
 * parameter values, the two log densities (constrained space) differ by the same constant.
 * Programs and data come from test/fixtures/posteriordb (data) and test/fixtures/stan (programs)
 * or from ../shared when present.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import '../../ts/backends/registry.js';
import { bijectTo } from '../../ts/bijectors/bijectTo.js';
import type { Tensor } from '../../ts/core/tensor.js';
import { posteriors } from '../../ts/models/posteriordb/index.js';
import { tensor } from '../../ts/ops/creation.js';
import { logDensity } from '../../ts/ppl/logdensity.js';
import { trace } from '../../ts/ppl/handlers.js';
import { seed } from '../../ts/ppl/handlers.js';
import { key } from '../../ts/random/key.js';
import { fromStan } from '../../ts/stan/model.js';

const ROOT = join(__dirname, '..', '..');
const PDB = [join(ROOT, '..', 'shared'), join(ROOT, '..', '..', 'shared')].map((s) => join(s, 'data', 'posteriordb')).find((p) => existsSync(p));

function program(name: string): string | null {
  const fx = join(ROOT, 'test', 'fixtures', 'stan', `${name}.stan`);
  if (existsSync(fx)) return readFileSync(fx, 'utf8');
  return PDB === undefined ? null : readFileSync(join(PDB, name, 'model.stan'), 'utf8');
}

/** Hand-written models whose latent sites are not Stan's parameters, and why. */
const DIFFERENT_SITES: Record<string, string> = {
  'garch-garch11': "samples beta1/(1 − alpha1) instead of Stan's beta1",
};

describe('fromStan agrees with the hand-written posteriordb models', () => {
  for (const [name, post] of Object.entries(posteriors)) {
    const code = program(name);
    const dataFile = join(ROOT, 'test', 'fixtures', 'posteriordb', name, 'data.json');
    const skip = code === null || !existsSync(dataFile) ? 'program or data absent' : DIFFERENT_SITES[name];
    it.skipIf(skip !== undefined)(`${name}${skip !== undefined ? ` (skipped: ${skip})` : ''}`, () => {
      const json = JSON.parse(readFileSync(dataFile, 'utf8')) as Record<string, unknown>;
      const m = fromStan(code!, json);
      const data = post.loadData(json);
      const tr = trace(seed(m.model, key(0))).getTrace();
      const diffs: number[] = [];
      for (let k = 0; k < 3; k++) {
        const values: Record<string, Tensor> = {};
        for (const site of m.sites) {
          const s = tr.get(site)!;
          const c = (s.fn as unknown as { support: import('../../ts/distributions/constraints.js').Constraint }).support;
          const t = bijectTo(c);
          const shape = t.inverseShape(s.value!.shape);
          const n = shape.reduce((a, b) => a * b, 1);
          values[site] = t.forward(tensor(Float64Array.from({ length: n }, (_, i) => Math.sin(7 * k + 3 * i + 1)), shape));
        }
        const ours = logDensity(m.model, [], values).item();
        const theirs = logDensity(post.model as (d: unknown) => void, [data], values).item();
        diffs.push(ours - theirs);
      }
      for (const d of diffs) expect(Math.abs(d - diffs[0])).toBeLessThan(1e-8 * Math.max(1, Math.abs(diffs[0])));
    });
  }
});
