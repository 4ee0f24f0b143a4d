/**
 * EP against Laplace and Gaussian VI for GP classification (probit likelihood, RBF kernel) on
 * Ionosphere and Sonar (R's mlbench, test/fixtures/ep-*.csv; standardized features, every third
 * row held out), as in Nickisch & Rasmussen (2008): test error, mean test log predictive
 * probability, and each method's own log-evidence estimate.
 *
 * Part 1, the hyperparameters of bench/peers/ep_gpy.py: varinf's EP, Laplace and VI, and GPy's EP
 * and Laplace measured in the same run (when bench/peers/.venv has GPy: bash bench/peers/setup-gpy.sh).
 * Part 2, each method picks (σ², ℓ) from a grid by its own evidence estimate, as a user would.
 *
 *   npx tsx bench/vi/ep.ts [--sets ionosphere,sonar] [--no-grid]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { epGp, probitLikelihood, rbfKernel } from '../../ts/index.js';
import { logNormalCdf } from '../../ts/infer/ep/normal.js';
import { loadEpSplit, type EpSplit } from '../../test/unit/ep-data.js';
import { peersDir } from './cavi-peers.js';
import { gaussianViGpc, laplaceGpc, type Approx } from './ep-baselines.js';

const FIXED: Record<string, { csv: string; variance: number; lengthscale: number }> = {
  ionosphere: { csv: 'ep-ionosphere.csv', variance: 4, lengthscale: 3 },
  sonar: { csv: 'ep-sonar.csv', variance: 9, lengthscale: 6 },
};
const GRID_VARIANCE = [1, 4, 16, 64, 256];
const GRID_LENGTHSCALE = [2, 4, 8, 16, 32];

interface Row { method: string; evidence: number; error: number; nlp: number; ms: number; note: string }

function score(d: EpSplit, mean: ArrayLike<number>, variance: ArrayLike<number>): { error: number; nlp: number } {
  let wrong = 0;
  let lp = 0;
  for (let i = 0; i < d.yTest.length; i++) {
    const z = mean[i] / Math.sqrt(1 + variance[i]);
    const s = d.yTest[i] ? 1 : -1;
    if (s * z <= 0) wrong++;
    lp += logNormalCdf(s * z);
  }
  return { error: wrong / d.yTest.length, nlp: -lp / d.yTest.length };
}

type Method = 'EP' | 'Laplace' | 'VI' | 'power EP α = 0.01';
function fitMethod(method: Method, d: EpSplit, variance: number, lengthscale: number): Approx {
  const kernel = rbfKernel({ variance, lengthscale });
  const alpha = method === 'power EP α = 0.01' ? 0.01 : 1;
  if (method === 'Laplace') return laplaceGpc(d.xTrain, d.yTrain, d.xTest, kernel);
  if (method === 'VI') return gaussianViGpc(d.xTrain, d.yTrain, d.xTest, kernel);
  const gp = epGp({ x: d.xTrain, y: d.yTrain, kernel, likelihood: probitLikelihood(), tol: 1e-8, alpha, maxSweeps: 500 });
  if (!gp.converged) console.log(`  (EP did not converge at σ² = ${variance}, ℓ = ${lengthscale}: ${gp.warnings.map((w) => w.kind).join(', ')})`);
  const p = gp.predictLatent(d.xTest);
  return { logEvidence: gp.logMarginal, mean: p.mean, variance: p.variance, iterations: gp.sweeps };
}

function timed(method: Method, d: EpSplit, variance: number, lengthscale: number): Row {
  const t0 = performance.now();
  const a = fitMethod(method, d, variance, lengthscale);
  const ms = performance.now() - t0;
  return { method: `varinf ${method}`, evidence: a.logEvidence, ...score(d, a.mean, a.variance), ms, note: `${a.iterations} ${method.includes('EP') ? 'sweeps' : 'iterations'}` };
}

interface GpyRun { logMarginal: number; latentMean: number[]; latentVar: number[] }
function gpyPeer(): Record<string, { sequential: GpyRun; laplace: GpyRun }> | string {
  const py = `${peersDir}.venv/bin/python`;
  if (!existsSync(py)) return 'bench/peers/.venv absent: run bash bench/peers/setup-gpy.sh';
  const out = join(mkdtempSync(join(tmpdir(), 'ep-gpy-')), 'gpy.json');
  const t0 = performance.now();
  const r = spawnSync(py, [`${peersDir}ep_gpy.py`, '--laplace', '--out', out], { encoding: 'utf8', timeout: 600_000 });
  if (r.status !== 0) return `GPy peer failed: ${(r.stderr || r.error?.message || '').trim().split('\n').slice(-2).join(' ')}`;
  console.log(`GPy peer (EP sequential and parallel, Laplace, both sets): ${((performance.now() - t0) / 1000).toFixed(1)} s including Python start-up`);
  return (JSON.parse(readFileSync(out, 'utf8')) as { sets: Record<string, { sequential: GpyRun; laplace: GpyRun }> }).sets;
}

function table(title: string, rows: Row[]): void {
  console.log(`\n${title}`);
  console.log('| method | log evidence | test error | test −log p / point | time | note |');
  console.log('| --- | ---: | ---: | ---: | ---: | --- |');
  for (const r of rows)
    console.log(`| ${r.method} | ${r.evidence.toFixed(3)} | ${(100 * r.error).toFixed(1)}% | ${r.nlp.toFixed(4)} | ${r.ms > 0 ? `${(r.ms / 1000).toFixed(2)} s` : '—'} | ${r.note} |`);
}

function main(): void {
  const { values } = parseArgs({ options: { sets: { type: 'string', default: 'ionosphere,sonar' }, 'no-grid': { type: 'boolean', default: false } } });
  const sets = values.sets.split(',');
  const load0 = loadavg()[0];
  console.log(`EP vs Laplace vs Gaussian VI, GP classification (probit, RBF). ${cpus().length} cores, 1-minute load ${load0.toFixed(1)}.`);
  const gpy = gpyPeer();
  console.log(typeof gpy === 'string' ? `peers: none (${gpy})` : 'peers: GPy (EP, Laplace) from bench/peers/.venv');
  const winners: string[] = [];
  for (const name of sets) {
    const f = FIXED[name];
    const d = loadEpSplit(f.csv, join(import.meta.dirname, '..', '..', 'test', 'fixtures'));
    const rows: Row[] = (['EP', 'Laplace', 'VI', 'power EP α = 0.01'] as const).map((m) => timed(m, d, f.variance, f.lengthscale));
    if (typeof gpy !== 'string') {
      const g = gpy[name];
      rows.splice(1, 0, { method: 'GPy EP', evidence: g.sequential.logMarginal, ...score(d, g.sequential.latentMean, g.sequential.latentVar), ms: 0, note: 'peer' });
      rows.splice(3, 0, { method: 'GPy Laplace', evidence: g.laplace.logMarginal, ...score(d, g.laplace.latentMean, g.laplace.latentVar), ms: 0, note: 'peer' });
    }
    table(`${name}: n = ${d.xTrain.length} train, ${d.xTest.length} test, ${d.xTrain[0].length} features; σ² = ${f.variance}, ℓ = ${f.lengthscale}`, rows);
    if (values['no-grid']) continue;
    const chosen: Row[] = [];
    for (const m of ['EP', 'Laplace', 'VI'] as const) {
      let best: Row | null = null;
      let ms = 0;
      for (const v of GRID_VARIANCE)
        for (const l of GRID_LENGTHSCALE) {
          const r = timed(m, d, v, l);
          ms += r.ms;
          if (best === null || r.evidence > best.evidence) best = { ...r, note: `σ² = ${v}, ℓ = ${l}` };
        }
      chosen.push({ ...(best as Row), ms });
    }
    table(`${name}: each method's own choice of (σ², ℓ) from ${GRID_VARIANCE.length * GRID_LENGTHSCALE.length} grid points by its own evidence (time: the whole grid)`, chosen);
    const bestNlp = chosen.reduce((a, b) => (b.nlp < a.nlp ? b : a));
    const bestErr = chosen.reduce((a, b) => (b.error < a.error ? b : a));
    winners.push(`${name}: best test log-likelihood ${bestNlp.method}, lowest test error ${bestErr.method}`);
  }
  console.log(`\n${winners.join('; ')}`);
  console.log(`(1-minute load ${load0.toFixed(1)} at the start, ${loadavg()[0].toFixed(1)} at the end)`);
}

main();
