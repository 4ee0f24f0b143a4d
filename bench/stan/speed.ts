/**
 * varinf's gradient time against Stan's own, for every program with frozen Stan values
 * (test/fixtures/stan/golden), at the same point (the program's first frozen point) in the same run.
 *
 * Stan's time: `scripts/golden/stan.py --timing NAME` (PyStan 3's cached build), the "Gradient
 * evaluation took X seconds" Stan's sampler prints when it initializes at that point: one
 * log_prob_grad timed in C++ at microsecond resolution, the first of its run (cold caches); the
 * least of 7 runs. varinf's: `valueAndGrad` of `logDensityUnconstrained` (loops vectorized),
 * after warm-up calls for a third of the budget, the least single call over `--time-budget-ms`
 * (at least 3). The least, on both sides: on a shared, overloaded machine time-slicing only ever
 * adds to a call, so the least of the repeats is the one least disturbed. Programs are timed one
 * after the other, Stan then varinf, so both see the same load.
 *
 * Reads ../shared/data/posteriordb and needs PyStan (`--python`, default /work/main/.venv-stan/bin/python
 * or $STAN_PYTHON). Run: npx tsx bench/stan/speed.ts [--time-budget-ms 300] [--python PATH] [NAME_FILTER]
 * Prints a markdown table, then the median and worst ratio.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import '../../ts/backends/registry.js';
import { valueAndGrad } from '../../ts/core/autodiff.js';
import type { Tensor } from '../../ts/core/tensor.js';
import { tensor } from '../../ts/ops/creation.js';
import { fromStan } from '../../ts/stan/model.js';
import type { Golden } from '../../test/unit/stan-golden-compare.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const PDB = [join(ROOT, '..', 'shared'), join(ROOT, '..', '..', 'shared')].map((s) => join(s, 'data', 'posteriordb')).find((p) => existsSync(p));
const GOLD = join(ROOT, 'test', 'fixtures', 'stan', 'golden');
const { values, positionals } = parseArgs({
  options: {
    'time-budget-ms': { type: 'string', default: '300' },
    python: { type: 'string', default: process.env.STAN_PYTHON ?? '/work/main/.venv-stan/bin/python' },
  },
  allowPositionals: true,
});
const budget = Number(values['time-budget-ms']);
const filter = positionals[0] ?? '';

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** Stan's gradient seconds at the program's first frozen point (the least of 7), or the reason there is none. */
function stanSeconds(name: string): number | string {
  try {
    const out = execFileSync(values.python!, [join(ROOT, 'scripts', 'golden', 'stan.py'), '--timing', name], {
      env: { ...process.env, POSTERIORDB: PDB },
      stdio: ['ignore', 'pipe', 'ignore'],
      encoding: 'utf8',
    });
    const r = JSON.parse(out.trim().split('\n').pop()!) as { seconds?: number[]; error?: string };
    if (r.seconds === undefined || r.seconds.length === 0) return r.error ?? 'no timing message';
    return Math.min(...r.seconds);
  } catch (e) {
    return (e as Error).message.split('\n')[0];
  }
}

/** varinf's seconds per gradient at `u`: the least single call after the warm-up. */
function varinfSeconds(code: string, data: Record<string, unknown>, u: number[]): number {
  const m = fromStan(code, data);
  const vg = valueAndGrad((x: Tensor) => m.logDensityUnconstrained(x));
  const x = tensor(Float64Array.from(u));
  // Warm-up: a third of the budget (at least 3 calls), so the JIT has compiled the hot paths.
  const w0 = performance.now();
  for (let k = 0; k < 3 || performance.now() - w0 < budget / 3; k++) vg(x);
  const times: number[] = [];
  const t0 = performance.now();
  while (performance.now() - t0 < budget || times.length < 3) {
    const t = performance.now();
    vg(x);
    times.push(performance.now() - t);
  }
  return Math.min(...times) / 1000;
}

if (PDB === undefined) {
  console.log('bench/stan/speed.ts: ../shared/data/posteriordb is absent');
  process.exit(0);
}
const rows: string[] = [];
const ratios: { name: string; r: number }[] = [];
const names = readdirSync(GOLD)
  .filter((f) => f.endsWith('.json') && !f.endsWith('.data.json'))
  .map((f) => f.slice(0, -'.json'.length))
  .filter((n) => n.includes(filter) && existsSync(join(PDB, n, 'model.stan')));
for (const n of names) {
  const g = JSON.parse(readFileSync(join(GOLD, `${n}.json`), 'utf8')) as Golden;
  if (g.error !== undefined || g.points === undefined) {
    rows.push(`| ${n} | Stan failed: ${g.error?.slice(0, 60).replace(/\|/g, '/')} | | |`);
    continue;
  }
  const stanS = stanSeconds(n);
  const code = readFileSync(join(PDB, n, 'model.stan'), 'utf8');
  const data = JSON.parse(readFileSync(join(PDB, n, 'data.json'), 'utf8')) as Record<string, unknown>;
  const ours = varinfSeconds(code, data, g.points[0]);
  if (typeof stanS === 'string') {
    rows.push(`| ${n} | ${stanS.slice(0, 60).replace(/\|/g, '/')} | ${(ours * 1e3).toFixed(3)} | |`);
  } else {
    const r = ours / stanS;
    ratios.push({ name: n, r });
    rows.push(`| ${n} | ${(stanS * 1e3).toFixed(3)} | ${(ours * 1e3).toFixed(3)} | ${r.toFixed(1)}× |`);
  }
  process.stderr.write('.');
}
process.stderr.write('\n');
console.log('| program | Stan ms / gradient | varinf ms / gradient | varinf ÷ Stan |');
console.log('| --- | ---: | ---: | ---: |');
for (const r of rows) console.log(r);
if (ratios.length > 0) {
  const worst = ratios.reduce((a, b) => (b.r > a.r ? b : a));
  const best = ratios.reduce((a, b) => (b.r < a.r ? b : a));
  console.log(
    `\n${ratios.length} programs timed: median ratio ${median(ratios.map((x) => x.r)).toFixed(1)}×, best ${best.r.toFixed(2)}× (${best.name}), worst ${worst.r.toFixed(1)}× (${worst.name}); ${ratios.filter((x) => x.r <= 1).length} at most 1×, ${ratios.filter((x) => x.r > 3).length} over 3×.`,
  );
}
