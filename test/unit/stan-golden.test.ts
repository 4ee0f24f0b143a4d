/**
 * fromStan's log density and gradient against Stan's own (PyStan 3, frozen by
 * scripts/golden/stan.py): at 20 unconstrained points, log p(u) − log p(u₀) (Stan's `~` drops
 * constants; differences cancel whatever constant is left) and ∇ log p(u) agree to 1e-8 relative
 * (1e-7 for programs that solve ODEs: the same steps as Stan's, with the rounding of a few hundred of them;
 * and for those of STAN_GRADIENT_CUTOFF, whose gradient Stan approximates).
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import '../../ts/backends/registry.js';
import { valueAndGrad } from '../../ts/core/autodiff.js';
import type { Tensor } from '../../ts/core/tensor.js';
import { tensor } from '../../ts/ops/creation.js';
import { fromStan, type StanModel } from '../../ts/stan/model.js';
import { FEW_POINTS_IN_THE_TEST, STAN_GRADIENT_INACCURATE, TOO_SLOW_FOR_THE_TEST, droppedConstant, goldenTolerance, pointDifference, type Golden } from './stan-golden-compare.js';

const GOLD = join(__dirname, '..', 'fixtures', 'stan', 'golden');
const ROOT = join(__dirname, '..', '..');
const PDB = [join(ROOT, '..', 'shared'), join(ROOT, '..', '..', 'shared')].map((s) => join(s, 'data', 'posteriordb')).find((p) => existsSync(p));

function source(name: string): { code: string; data: Record<string, unknown> } | null {
  const local = join(GOLD, `${name}.stan`);
  if (existsSync(local)) return { code: readFileSync(local, 'utf8'), data: JSON.parse(readFileSync(join(GOLD, `${name}.data.json`), 'utf8')) as Record<string, unknown> };
  if (PDB === undefined) return null;
  return { code: readFileSync(join(PDB, name, 'model.stan'), 'utf8'), data: JSON.parse(readFileSync(join(PDB, name, 'data.json'), 'utf8')) as Record<string, unknown> };
}

/** Each program compiled once for its tests. */
const compiled = new Map<string, StanModel>();
function model(name: string, src: { code: string; data: Record<string, unknown> }): StanModel {
  let m = compiled.get(name);
  if (m === undefined) compiled.set(name, (m = fromStan(src.code, src.data)));
  return m;
}

/** Each program's dropped constant (varinf's log density minus Stan's at one point), computed once. */
const constants = new Map<string, number>();
function constant(name: string, m: StanModel, g: Golden): number {
  let c = constants.get(name);
  if (c === undefined) constants.set(name, (c = droppedConstant(m, g)));
  return c;
}

const files = existsSync(GOLD) ? readdirSync(GOLD).filter((f) => f.endsWith('.json') && !f.endsWith('.data.json')) : [];

describe('fromStan agrees with Stan (PyStan 3)', () => {
  for (const f of files) {
    const g = JSON.parse(readFileSync(join(GOLD, f), 'utf8')) as Golden;
    if (g.error !== undefined || g.points === undefined) continue;
    const src = source(g.name);
    // Five points per test, so a failure names the points.
    const npts = g.name in FEW_POINTS_IN_THE_TEST ? 3 : g.points.length;
    for (let from = 0; from < npts; from += 5) {
      const pts = Array.from({ length: Math.min(5, npts - from) }, (_, k) => from + k);
      const slow = TOO_SLOW_FOR_THE_TEST[g.name];
      const few = FEW_POINTS_IN_THE_TEST[g.name];
      const why =
        src === null
          ? ' (skipped: data only in ../shared, which is absent)'
          : slow !== undefined
            ? ` (skipped: ${slow}; bench/stan/coverage.ts checks it)`
            : few !== undefined
              ? ` (${few}: bench/stan/coverage.ts checks all ${g.points.length})`
              : '';
      it.skipIf(src === null || slow !== undefined)(`${g.name}, points ${from + 1}–${from + pts.length}${why}`, async () => {
        const m = model(g.name, src!);
        expect(m.unconstrainedDim).toBe(g.dim);
        const c = constant(g.name, m, g);
        let worst = 0;
        for (const i of pts) {
          worst = Math.max(worst, pointDifference(m, g, i, c, !(g.name in STAN_GRADIENT_INACCURATE)));
          // One point at a time: a slow program (up to seconds per gradient) never blocks the worker for long.
          await new Promise((r) => setImmediate(r));
        }
        expect(worst).toBeLessThan(goldenTolerance(src!.code, g.name));
      });
    }
    if (g.name in STAN_GRADIENT_INACCURATE)
      it.skipIf(src === null)(`${g.name}: the gradient against central differences (Stan's is not accurate here: ${STAN_GRADIENT_INACCURATE[g.name]})`, () => {
        const m = model(g.name, src!);
        const f = (u: number[]): number => m.logDensityUnconstrained(tensor(u)).item();
        for (const i of [1, 13]) {
          const u = g.points![i];
          const [, gr] = valueAndGrad((x: Tensor) => m.logDensityUnconstrained(x))(tensor(u));
          const ours = gr.dataSync();
          for (let j = 0; j < 4; j++) {
            const h = 1e-5;
            const fd = (f(u.map((x, k) => (k === j ? x + h : x))) - f(u.map((x, k) => (k === j ? x - h : x)))) / (2 * h);
            expect(Math.abs(ours[j] - fd)).toBeLessThan(1e-5 * Math.max(1, Math.abs(fd)));
          }
        }
      });
  }
  it.skipIf(files.length > 0)('no frozen values (run scripts/golden/stan.py)', () => {});
});
