/**
 * fromStan's log density and gradient against Stan's own (PyStan 3, frozen by
 * scripts/golden/stan.py): at 20 unconstrained points, log p(u) − log p(u₀) (Stan's `~` drops
 * constants; differences cancel whatever constant is left) and ∇ log p(u) agree to 1e-8 relative
 * (1e-7 for programs that solve ODEs: the same steps as Stan's, with the rounding of a few hundred of them).
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import '../../ts/backends/registry.js';
import { valueAndGrad } from '../../ts/core/autodiff.js';
import type { Tensor } from '../../ts/core/tensor.js';
import { tensor } from '../../ts/ops/creation.js';
import { fromStan } from '../../ts/stan/model.js';

const GOLD = join(__dirname, '..', 'fixtures', 'stan', 'golden');
const ROOT = join(__dirname, '..', '..');
const PDB = [join(ROOT, '..', 'shared'), join(ROOT, '..', '..', 'shared')].map((s) => join(s, 'data', 'posteriordb')).find((p) => existsSync(p));

interface Golden {
  name: string;
  dim?: number;
  points?: number[][];
  log_prob?: (number | null)[];
  grad?: (number[] | null)[];
  error?: string;
}

function source(name: string): { code: string; data: Record<string, unknown> } | null {
  const local = join(GOLD, `${name}.stan`);
  if (existsSync(local)) return { code: readFileSync(local, 'utf8'), data: JSON.parse(readFileSync(join(GOLD, `${name}.data.json`), 'utf8')) as Record<string, unknown> };
  if (PDB === undefined) return null;
  return { code: readFileSync(join(PDB, name, 'model.stan'), 'utf8'), data: JSON.parse(readFileSync(join(PDB, name, 'data.json'), 'utf8')) as Record<string, unknown> };
}

/** Relative difference, scaled by the larger magnitude (at least 1). */
const rel = (a: number, b: number): number => Math.abs(a - b) / Math.max(1, Math.abs(a), Math.abs(b));

const files = existsSync(GOLD) ? readdirSync(GOLD).filter((f) => f.endsWith('.json') && !f.endsWith('.data.json')) : [];

describe('fromStan agrees with Stan (PyStan 3)', () => {
  for (const f of files) {
    const g = JSON.parse(readFileSync(join(GOLD, f), 'utf8')) as Golden;
    if (g.error !== undefined || g.points === undefined) continue;
    const src = source(g.name);
    it.skipIf(src === null)(`${g.name}${src === null ? ' (skipped: data only in ../shared, which is absent)' : ''}`, () => {
      const m = fromStan(src!.code, src!.data);
      expect(m.unconstrainedDim).toBe(g.dim);
      const vg = valueAndGrad((u: Tensor) => m.logDensityUnconstrained(u));
      // Points where Stan's density is not finite are null in the fixture; the first finite one fixes the constant.
      const idx = g.points!.map((_, i) => i).filter((i) => g.log_prob![i] !== null);
      const ours = idx.map((i) => {
        const [v, gr] = vg(tensor(Float64Array.from(g.points![i])));
        return { lp: v.item(), grad: Array.from(gr.dataSync()) };
      });
      // The constant comes from the point whose log density is smallest in magnitude (a point at
      // −4e71 would carry a rounding error larger than every other value).
      const ref = idx.reduce((b, i, k) => (Math.abs(g.log_prob![i]!) < Math.abs(g.log_prob![idx[b]]!) ? k : b), 0);
      const c = ours[ref].lp - g.log_prob![idx[ref]]!;
      let worst = 0;
      ours.forEach((o, k) => {
        const i = idx[k];
        worst = Math.max(worst, rel(o.lp - c, g.log_prob![i]!));
        o.grad.forEach((x, j) => (worst = Math.max(worst, rel(x, g.grad![i]![j]))));
      });
      // An ODE solution carries the rounding of a few hundred steps: 1e-7 there.
      expect(worst).toBeLessThan(/\b(ode_|integrate_ode_)/.test(src!.code) ? 1e-7 : 1e-8);
    });
  }
  it.skipIf(files.length > 0)('no frozen values (run scripts/golden/stan.py)', () => {});
});
