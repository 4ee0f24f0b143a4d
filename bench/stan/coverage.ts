/**
 * The Stan front end over all of posteriordb: for every program in ../shared/data/posteriordb,
 * whether it parses, compiles with its data (fromStan and one log density), agrees with Stan's
 * frozen log density and gradient (test/fixtures/stan/golden, from scripts/golden/stan.py), and
 * varinf's time per gradient evaluation (vectorized loops), with the reason for each failure.
 *
 * Run: npx tsx bench/stan/coverage.ts [--time-budget-ms 300] [--golden-dir DIR] [--points N] [NAME_REGEX]
 * (a regular expression the program's name must match, e.g. `'^[n-z]'` to run a third of the table
 * beside two other runs). `--golden-dir` names a folder of frozen values kept out of the repo for
 * their size (scripts/golden/stan.py writes them; bench/stan/README.md lists them), read where
 * test/fixtures/stan/golden has none; `--points N` compares only the first N frozen points (for the
 * programs of a minute per gradient). Prints a markdown table, then the totals.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import '../../ts/backends/registry.js';
import { valueAndGrad } from '../../ts/core/autodiff.js';
import type { Tensor } from '../../ts/core/tensor.js';
import { tensor } from '../../ts/ops/creation.js';
import { fromStan } from '../../ts/stan/model.js';
import { parseStan } from '../../ts/stan/parser.js';
import { STAN_GRADIENT_CUTOFF, STAN_GRADIENT_INACCURATE, goldenTolerance, worstDifference, type Golden } from '../../test/unit/stan-golden-compare.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const PDB = [join(ROOT, '..', 'shared'), join(ROOT, '..', '..', 'shared')].map((s) => join(s, 'data', 'posteriordb')).find((p) => existsSync(p));
const GOLD = join(ROOT, 'test', 'fixtures', 'stan', 'golden');
const { values, positionals } = parseArgs({
  options: {
    'time-budget-ms': { type: 'string', default: '300' },
    'golden-dir': { type: 'string' },
    points: { type: 'string' },
  },
  allowPositionals: true,
});
const budget = Number(values['time-budget-ms']);
const filter = positionals[0] ?? '';
const npoints = values.points === undefined ? undefined : Number(values.points);
/** The program's frozen values: the repo's, else the one in --golden-dir, else none. */
const goldenFile = (name: string): string | undefined =>
  [GOLD, values['golden-dir']].map((d) => (d === undefined ? undefined : join(d, `${name}.json`))).find((f) => f !== undefined && existsSync(f));

function agree(m: ReturnType<typeof fromStan>, g: Golden, code: string): string {
  if (g.error !== undefined) return `Stan failed: ${g.error.slice(0, 60)}`;
  const valuesOnly = g.name in STAN_GRADIENT_INACCURATE;
  const points = npoints === undefined ? undefined : g.points!.map((_, i) => i).slice(0, npoints);
  const worst = worstDifference(m, g, points, !valuesOnly);
  const what =
    (valuesOnly ? ", values only: Stan's gradient is inaccurate here (test/unit/stan-golden-compare.ts)" : '') +
    (points === undefined ? '' : `, first ${points.length} of ${g.points!.length} points`) +
    (g.name in STAN_GRADIENT_CUTOFF ? `, gradients at ${STAN_GRADIENT_CUTOFF[g.name].tolerance}: ${STAN_GRADIENT_CUTOFF[g.name].why}` : '');
  return worst < goldenTolerance(code, g.name) ? `yes (${worst.toExponential(1)}${what})` : `NO (${worst.toExponential(1)}${what})`;
}

if (PDB === undefined) {
  console.log('bench/stan/coverage.ts: ../shared/data/posteriordb is absent');
  process.exit(0);
}
const rows: string[] = [];
let nParse = 0;
let nCompile = 0;
let nGold = 0;
let nAgree = 0;
const pick = new RegExp(filter);
const dirs = readdirSync(PDB).filter((d) => pick.test(d) && existsSync(join(PDB, d, 'model.stan')));
for (const d of dirs) {
  const code = readFileSync(join(PDB, d, 'model.stan'), 'utf8');
  let parse = 'no';
  let compile = '';
  let gold = '';
  let ms = '';
  try {
    parseStan(code);
    parse = 'yes';
    nParse++;
    const m = fromStan(code, JSON.parse(readFileSync(join(PDB, d, 'data.json'), 'utf8')) as Record<string, unknown>);
    const vg = valueAndGrad((u: Tensor) => m.logDensityUnconstrained(u));
    const u = tensor(Float64Array.from({ length: m.unconstrainedDim }, (_, i) => 0.1 * Math.sin(i + 1)));
    vg(u);
    compile = 'yes';
    nCompile++;
    const t0 = performance.now();
    let n = 0;
    while (performance.now() - t0 < budget || n < 1) {
      vg(u);
      n++;
    }
    ms = ((performance.now() - t0) / n).toFixed(2);
    const gf = goldenFile(d);
    if (gf !== undefined) {
      gold = agree(m, JSON.parse(readFileSync(gf, 'utf8')) as Golden, code);
      nGold++;
      if (gold.startsWith('yes')) nAgree++;
    }
  } catch (e) {
    const msg = (e as Error).message.replace(/\|/g, '/').slice(0, 90);
    if (parse === 'no') parse = `no: ${msg}`;
    else if (compile === '') compile = `no: ${msg}`;
    else gold = `error: ${msg}`;
  }
  rows.push(`| ${d} | ${parse} | ${compile} | ${gold} | ${ms} |`);
  process.stderr.write('.');
}
process.stderr.write('\n');
console.log('| program | parses | compiles | agrees with Stan (worst rel. error) | varinf ms / gradient |');
console.log('| --- | --- | --- | --- | ---: |');
for (const r of rows) console.log(r);
console.log(`\n${dirs.length} programs: ${nParse} parse, ${nCompile} compile, ${nAgree} of ${nGold} with frozen Stan values agree to 1e-8.`);
