/**
 * Variational message passing against the hand-written CAVI in the same run: the same models,
 * priors, initialization and schedule, so the ELBOs agree to rounding and the time ratio is the
 * cost of the generic engine (messages summed in natural parameters, a schedule, an ELBO from
 * node terms) over code written for one model. Wall time is the median of `--reps` fits each,
 * run alternately after one warm-up fit, graph construction included; CAVI's time also includes
 * its k-means++ start (VMP is given those labels), a few percent of a fit.
 *
 * Data (read from /work/shared/data/uci, the UCI regression sets; synthetic stand-ins of the same
 * sizes when that folder is absent, and the table says so):
 *   - Bayesian linear regression on power-plant (9,568 × 4 + intercept) and protein (45,730 × 9 + intercept), features standardized;
 *   - the Bayesian Gaussian mixture (K = 6, full and diagonal) on power-plant's 4 standardized features
 *     and (K = 5) on wine-quality-red's 11, initialized from the same k-means++ labels;
 *   - mean-field probabilistic PCA (k = 3, loadings fixed from a seeded normal draw, σ² = 0.5) on
 *     protein's 9 standardized features: 45,730 rows, 3 Gaussian coordinate nodes of that plate;
 *   - the variational Bayesian HMM (K = 4, full Gaussian emissions) on 20 synthetic sequences of
 *     1,000 steps in 3-D (a sticky 4-state chain; no sequential set is in /work/shared);
 *   - LDA (K = 10, `--lda-sweeps` sweeps of coordinate ascent: q(β), q(θ), q(z) once each) on the
 *     AssociatedPress corpus of /work/shared/data/associated-press (2,246 documents, 302,031
 *     non-zeros), `ldaCavi({ localUpdates: 'once' })` against `ldaGraph` run in the same order;
 *     the 150-document test fixture when that folder is absent.
 * Run: npx tsx bench/vi/vmp.ts [--reps 5]. Prints a markdown table and the machine's load.
 */
import { existsSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { FactorGraph, bayesGmm, bayesLinReg, foldIn, gaussianMixtureGraph, key, ldaCavi, ldaGraph, linearRegressionGraph, normal, ppcaMeanField, vbHmm } from '../../ts/index.js';
import { readDocTermFile } from '../../ts/data/docterm.js';
import { RowDesign } from '../../ts/infer/cavi/design.js';
import { kmeansPlusPlus } from '../../ts/infer/cavi/kmeans.js';

const { values } = parseArgs({ options: { reps: { type: 'string', default: '5' }, 'lda-sweeps': { type: 'string', default: '50' } } });
const REPS = Number(values.reps);
const LDA_SWEEPS = Number(values['lda-sweeps']);
const UCI = '/work/shared/data/uci';

interface Table {
  x: Float64Array;
  y: Float64Array;
  n: number;
  d: number;
  source: string;
}

/** Standardized features (plus an intercept column when asked) and the target of a UCI set, or a synthetic stand-in. */
function load(set: string, rows: number, feats: number, intercept: boolean): Table {
  const dir = join(UCI, set);
  let raw: number[][];
  let fi: number[];
  let ti: number;
  let source: string;
  if (existsSync(join(dir, 'data.txt'))) {
    raw = readFileSync(join(dir, 'data.txt'), 'utf8').trim().split('\n').map((l) => l.trim().split(/\s+/).map(Number));
    fi = readFileSync(join(dir, 'index_features.txt'), 'utf8').trim().split(/\s+/).map(Number);
    ti = Number(readFileSync(join(dir, 'index_target.txt'), 'utf8').trim());
    source = `UCI ${set}`;
  } else {
    const z = normal(key(7), [rows * (feats + 1)]).dataSync();
    raw = Array.from({ length: rows }, (_, i) => Array.from({ length: feats + 1 }, (_, j) => z[i * (feats + 1) + j] + (j === feats ? z[i * (feats + 1)] : 0)));
    fi = Array.from({ length: feats }, (_, j) => j);
    ti = feats;
    source = `synthetic ${rows} × ${feats} (no ${dir})`;
  }
  const n = raw.length;
  const d = fi.length + (intercept ? 1 : 0);
  const x = new Float64Array(n * d);
  const y = new Float64Array(n);
  const off = intercept ? 1 : 0;
  for (let j = 0; j < fi.length; j++) {
    let m = 0;
    for (const r of raw) m += r[fi[j]] / n;
    let v = 0;
    for (const r of raw) v += (r[fi[j]] - m) ** 2 / n;
    const s = Math.sqrt(v) || 1;
    for (let i = 0; i < n; i++) x[i * d + off + j] = (raw[i][fi[j]] - m) / s;
  }
  for (let i = 0; i < n; i++) {
    if (intercept) x[i * d] = 1;
    y[i] = raw[i][ti];
  }
  return { x, y, n, d, source };
}

/** Median wall times of f and g, run alternately (so a change in the machine's load hits both alike). */
function medians(f: () => void, g: () => void): [number, number] {
  const tf: number[] = [];
  const tg: number[] = [];
  for (let r = 0; r < REPS; r++) {
    let t0 = performance.now();
    f();
    tf.push(performance.now() - t0);
    t0 = performance.now();
    g();
    tg.push(performance.now() - t0);
  }
  const med = (t: number[]): number => t.sort((a, b) => a - b)[Math.floor(t.length / 2)];
  return [med(tf), med(tg)];
}

interface Row {
  task: string;
  data: string;
  cavi: number;
  vmp: number;
  elboCavi: number;
  elboVmp: number;
  sweeps: string;
}
const rows: Row[] = [];

for (const [set, n, f] of [['power-plant', 9568, 4], ['protein-tertiary-structure', 45730, 9]] as const) {
  const t = load(set, n, f, true);
  const prior = { d: t.d, priorPrecision: 0.1, a0: 1, b0: 1 };
  let c = bayesLinReg(t.x, t.y, { ...prior, tol: 1e-12, maxIter: 500 });
  let v = linearRegressionGraph(t.x, t.y, prior).graph.run({ schedule: ['w', 'tau'], tol: 1e-12, maxSweeps: 500 });
  const [tc, tv] = medians(
    () => (c = bayesLinReg(t.x, t.y, { ...prior, tol: 1e-12, maxIter: 500 })),
    () => (v = linearRegressionGraph(t.x, t.y, prior).graph.run({ schedule: ['w', 'tau'], tol: 1e-12, maxSweeps: 500 })),
  );
  rows.push({ task: `linear regression (D = ${t.d})`, data: `${t.source}, N = ${t.n}`, cavi: tc, vmp: tv, elboCavi: c.elbo, elboVmp: v.elbo, sweeps: `${c.trace.iterations} / ${v.sweeps}` });
}

for (const [set, n, f, k] of [['power-plant', 9568, 4, 6], ['wine-quality-red', 1599, 11, 5]] as const) {
  const t = load(set, n, f, false);
  const root = key(1);
  const des = new RowDesign(t.x, t.n, t.d);
  const labels = kmeansPlusPlus(t.x, t.n, t.d, k, foldIn(root, 0), 20, des);
  des.dispose();
  for (const covariance of ['full', 'diag'] as const) {
    const diag = covariance === 'diag';
    const m0 = new Float64Array(t.d);
    const w0inv = new Float64Array(diag ? t.d : t.d * t.d);
    for (let a = 0; a < t.d; a++) w0inv[diag ? a : a * t.d + a] = 1; // standardized columns: unit prior scale
    const prior = { alpha0: 1 / k, beta0: 1, m0, nu0: t.d, w0inv };
    const copts = { d: t.d, k, covariance, key: root, weightConcentration: 1 / k, meanPrecision: 1, meanPrior: m0, degreesOfFreedom: t.d, covariancePrior: w0inv, regCovar: 0, tol: 1e-10, maxIter: 300 };
    let c = bayesGmm(t.x, copts);
    const run = () => gaussianMixtureGraph(t.x, { d: t.d, k, ...prior, diag, labels }).graph.run({ tol: 1e-10, maxSweeps: 301, onWarning: () => {} });
    let v = run();
    const [tc, tv] = medians(
      () => (c = bayesGmm(t.x, copts)),
      () => (v = run()),
    );
    rows.push({ task: `Gaussian mixture K = ${k}, ${covariance} (D = ${t.d})`, data: `${t.source}, N = ${t.n}`, cavi: tc, vmp: tv, elboCavi: c.elbo, elboVmp: v.elbo, sweeps: `${c.trace.iterations} / ${v.sweeps - 1}` });
  }
}

{
  const t = load('protein-tertiary-structure', 45730, 9, false);
  const k = 3;
  const w = Float64Array.from(normal(key(9), [t.d * k]).dataSync());
  const b = new Float64Array(t.d);
  const opts = { d: t.d, k, tol: 1e-12, maxIter: 500 };
  const run = () => {
    const g = new FactorGraph();
    const z = Array.from({ length: k }, (_, j) => g.gaussian(`z${j}`, { mean: 0, variance: 1, size: t.n }));
    g.factorAnalysis('x', { loadings: w, bias: b, noiseVariance: 0.5, factors: z, observed: t.x });
    return g.run({ tol: 1e-12, maxSweeps: 500 });
  };
  let c = ppcaMeanField(t.x, w, b, 0.5, opts);
  let v = run();
  const [tc, tv] = medians(
    () => (c = ppcaMeanField(t.x, w, b, 0.5, opts)),
    () => (v = run()),
  );
  rows.push({ task: `mean-field PPCA k = ${k} (D = ${t.d})`, data: `${t.source}, N = ${t.n}`, cavi: tc, vmp: tv, elboCavi: c.elbo, elboVmp: v.elbo, sweeps: `${c.trace.iterations} / ${v.sweeps}` });
}

{
  const k = 4;
  const d = 3;
  const lengths = new Array<number>(20).fill(1000);
  const n = 20000;
  const e = normal(key(13), [n * d + n]).dataSync();
  const x = new Float64Array(n * d);
  let st = 0;
  for (let i = 0; i < n; i++) {
    if (e[n * d + i] > 1.5) st = (st + 1) % k;
    for (let a = 0; a < d; a++) x[i * d + a] = 2.5 * ((st >> (a % 2)) & 1) + (a === 2 ? st : 0) + e[i * d + a];
  }
  const seqs = lengths.map((t, s) => x.slice(s * t * d, (s + 1) * t * d));
  const root = key(2);
  const labels = kmeansPlusPlus(x, n, d, k, foldIn(root, 0), 20); // as vbHmm starts
  const m0 = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let a = 0; a < d; a++) m0[a] += x[i * d + a] / n;
  const w0inv = [1e-3, 0, 0, 0, 1e-3, 0, 0, 0, 1e-3];
  const copts = { k, d, emission: 'gaussian' as const, covariance: 'full' as const, key: root, tol: 1e-10, maxIter: 300 };
  const run = () => {
    const g = new FactorGraph();
    const pi = g.dirichlet('pi', { concentration: new Array<number>(k).fill(1 / k) });
    const a = g.dirichlet('A', { concentration: new Array<number>(k).fill(1 / k), size: k });
    const theta = g.gaussianWishart('theta', { mean: m0, meanPrecision: 1, dof: d, scaleInverse: w0inv, size: k });
    const z = g.markovChain('z', { start: pi, transition: a, lengths, init: labels });
    g.gaussianMixture('x', { selector: z, components: theta, observed: x });
    return g.run({ tol: 1e-10, maxSweeps: 301, onWarning: () => {} });
  };
  let c = vbHmm(seqs, copts);
  let v = run();
  const [tc, tv] = medians(
    () => (c = vbHmm(seqs, copts)),
    () => (v = run()),
  );
  rows.push({ task: `VB-HMM K = ${k}, full Gaussian (D = ${d})`, data: `synthetic, 20 × 1000 steps`, cavi: tc, vmp: tv, elboCavi: c.elbo, elboVmp: v.elbo, sweeps: `${c.trace.iterations} / ${v.sweeps - 1}` });
}

{
  const ap = '/work/shared/data/associated-press/ap_triplets.txt';
  const fixture = new URL('../../test/fixtures/cavi/ap150_triplets.txt', import.meta.url).pathname;
  const docs = readDocTermFile(existsSync(ap) ? ap : fixture);
  const k = 10;
  const opts = { k, localUpdates: 'once' as const, maxIter: LDA_SWEEPS, tol: 0, key: key(5) };
  const run = () => ldaGraph(docs, { k, key: key(5) }).graph.run({ schedule: ['beta', 'theta', 'z'], maxSweeps: LDA_SWEEPS, tol: 0, onWarning: () => {} });
  let c = ldaCavi(docs, opts);
  let v = run();
  const [tc, tv] = medians(
    () => (c = ldaCavi(docs, opts)),
    () => (v = run()),
  );
  const data = `${existsSync(ap) ? 'AssociatedPress' : 'the 150-document fixture (no /work/shared)'}, ${docs.nDocs} docs, ${docs.indices.length} non-zeros`;
  rows.push({ task: `LDA K = ${k}, coordinate ascent`, data, cavi: tc, vmp: tv, elboCavi: c.trace.elbo, elboVmp: v.elbo, sweeps: `${c.trace.iterations} / ${v.sweeps}` });
}

const load1 = loadavg();
console.log(`VMP (FactorGraph) vs hand-written CAVI, same run, median of ${REPS}; ${cpus().length} cores, load average ${load1.map((l) => l.toFixed(2)).join(' ')}`);
console.log('Peer: the hand-written CAVI of ts/infer/cavi (Infer.NET itself needs .NET, absent here; its tutorial figures are pinned in test/unit/vmp.test.ts).\n');
console.log('| task | data | CAVI ms | VMP ms | VMP / CAVI | ELBO (CAVI) | |ΔELBO| / |ELBO| | sweeps CAVI / VMP |');
console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const r of rows)
  console.log(
    `| ${r.task} | ${r.data} | ${r.cavi.toFixed(1)} | ${r.vmp.toFixed(1)} | ${(r.vmp / r.cavi).toFixed(2)} | ${r.elboCavi.toFixed(4)} | ${(Math.abs(r.elboVmp - r.elboCavi) / Math.abs(r.elboCavi)).toExponential(1)} | ${r.sweeps} |`,
  );
