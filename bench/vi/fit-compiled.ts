/**
 * `fit` with compiled steps against the same fit with eager steps (`compile: false`), full-rank
 * (AutoMultivariateNormal, whose scale factor is whitened by the Laplace factor), same key: the
 * phases' seconds (the part compiling changes: the MAP search and the final evaluation run the same
 * code either way), the whole fit's seconds, and the largest relative difference between the two
 * loss trajectories (the same steps, up to rounding). Each fit runs `--rounds` times alternating
 * compiled and eager, and the fastest of each is kept, which damps the shared machine's load swings.
 *
 * Hand-written models read test/fixtures/posteriordb; the fromStan ones read ../shared/data/posteriordb
 * (a user's clone lacks it: they are skipped with a note).
 *
 * Run: nice npx tsx bench/vi/fit-compiled.ts [--rounds 2] [name ...]
 */
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { key, type ModelFn } from '../../ts/index.js';
import { fitSync } from '../../ts/infer/fit/index.js';
import { posteriors } from '../../ts/models/posteriordb/index.js';
import { PDB, compile, readSource } from './posteriordb-stan-lib.js';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { rounds: { type: 'string', default: '2' } } });
const rounds = Number(values.rounds);
const FIXTURES = fileURLToPath(new URL('../../test/fixtures/posteriordb/', import.meta.url));
const HAND = ['eight_schools-eight_schools_noncentered', 'radon_mn-radon_hierarchical_intercept_noncentered'];
const STAN = ['earnings-logearn_interaction', 'kidiq_with_mom_work-kidscore_interaction_c', 'nes1980-nes'];
const todo = positionals.length > 0 ? positionals : [...HAND, ...STAN];

/** The model and its arguments: a hand-written posteriordb model, or a Stan program through fromStan. */
function load(name: string): { model: ModelFn<unknown[]>; args: unknown[] } | string {
  const p = posteriors[name];
  if (p !== undefined) {
    const data = p.loadData(JSON.parse(readFileSync(`${FIXTURES}${name}/data.json`, 'utf8')) as Record<string, unknown>);
    return { model: p.model as ModelFn<unknown[]>, args: [data] };
  }
  if (PDB === '') return 'skipped: ../shared/data/posteriordb not found';
  const m = compile(readSource(name));
  if (typeof m === 'string') return `skipped: ${m}`;
  return { model: m.model as ModelFn<unknown[]>, args: [] };
}

const loadText = (): string => `load average ${loadavg().map((x) => x.toFixed(1)).join(' ')} on ${cpus().length} cores`;
console.log(`fit, AutoMVN, compiled vs eager steps; ${rounds} rounds, fastest kept; ${loadText()}; ${new Date().toISOString()}`);
const header = '| posterior | dim | steps | phases compiled | phases eager | eager / compiled | whole fit compiled | whole fit eager | max rel. loss diff | load (1 min) |';
const rows: string[] = [header, '|---|---|---|---|---|---|---|---|---|---|'];
console.log(rows.join('\n'));
for (const name of todo) {
  const m = load(name);
  if (typeof m === 'string') {
    console.log(`| ${name} | ${m} |`);
    continue;
  }
  const best = { c: { svi: Infinity, total: Infinity }, e: { svi: Infinity, total: Infinity } };
  const losses: Record<'c' | 'e', ArrayLike<number>> = { c: [], e: [] };
  let dim = '';
  let reason = '';
  for (let r = 0; r < rounds; r++) {
    for (const mode of ['c', 'e'] as const) {
      const f = fitSync(m.model, m.args, { guide: 'mvn', key: key(20240611), numDraws: 4000, progressBar: false, compile: mode === 'c' });
      if (mode === 'c' && !f.compiled.used) reason = f.compiled.reason ?? '';
      best[mode].svi = Math.min(best[mode].svi, f.timings.sviMs / 1000);
      best[mode].total = Math.min(best[mode].total, f.timings.totalMs / 1000);
      dim = String((f.guide as unknown as { latentDim: number }).latentDim);
      losses[mode] = f.losses;
    }
  }
  const { c, e } = losses;
  let diff = c.length === e.length ? 0 : Infinity;
  for (let i = 0; i < Math.min(c.length, e.length); i++) diff = Math.max(diff, Math.abs(c[i] - e[i]) / Math.max(1, Math.abs(e[i])));
  const row = `| ${name}${reason === '' ? '' : ` (ran eager: ${reason.slice(0, 80)})`} | ${dim} | ${c.length} | ${best.c.svi.toFixed(2)} s | ${best.e.svi.toFixed(2)} s | ${(best.e.svi / best.c.svi).toFixed(2)} | ${best.c.total.toFixed(2)} s | ${best.e.total.toFixed(2)} s | ${diff.toExponential(1)} | ${loadavg()[0].toFixed(1)} |`;
  rows.push(row);
  console.log(row);
}
console.log(`finished ${new Date().toISOString()}; ${loadText()}`);
