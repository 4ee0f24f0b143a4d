/**
 * Many independent fits: eight schools (non-centered) fitted to D simulated data sets (default
 * 1,000) with `fitMany`, each job plain SVI (AutoNormal, Adam(lr), one particle, S steps,
 * compiled), on this thread (workers: 0), one worker and two workers; and NumPyro fitting the same
 * D data sets with the same algorithm, its SVI loop `vmap`ped over the data sets and jitted, in the
 * same run (bash bench/peers/setup-numpyro.sh); and varinf's own counterpart of vmap, one SVI whose
 * model has a plate over the D data sets. Fits per second, plus the agreement of the fitted
 * mu locations (the two use different random streams, so they agree to Monte Carlo noise only).
 *
 * Data: mu = 4, tau = 3.6, theta_j ~ N(mu, tau), y_j ~ N(theta_j, sigma_j) with the original
 * sigma, from key(2026).
 *
 * Run: npx tsx bench/vi/fit-many.ts [--datasets 1000] [--steps 2000] [--lr 0.05] [--workers 0,1,2]
 */
import { writeFileSync, mkdtempSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { AutoNormal, SVI, TraceELBO, adam, fitMany, getBackend, key, normal, split, tensor, type Job, type SviJobValue } from '../../ts/index.js';
import { batched } from './models/eight-schools.js';
import { runPeer } from './cavi-peers.js';

const { values: argv } = parseArgs({
  options: {
    datasets: { type: 'string', default: '1000' },
    steps: { type: 'string', default: '2000' },
    lr: { type: 'string', default: '0.05' },
    workers: { type: 'string', default: '0,1,2' },
  },
});
const D = Number(argv.datasets);
const steps = Number(argv.steps);
const lr = Number(argv.lr);
const workerCounts = argv.workers.split(',').map(Number);

const sigma = [15, 10, 16, 11, 9, 11, 10, 18];
const [kTheta, kY] = split(key(2026));
const theta = normal(kTheta, [D, 8]).dataSync();
const noise = normal(kY, [D, 8]).dataSync();
const ys: number[][] = [];
for (let d = 0; d < D; d++) ys.push(sigma.map((s, j) => 4 + 3.6 * theta[d * 8 + j] + s * noise[d * 8 + j]));

const modelPath = fileURLToPath(new URL('./models/eight-schools.ts', import.meta.url));
const jobs: Job[] = ys.map((y, d) => ({ kind: 'svi', module: modelPath, args: [y, sigma], options: { key: d, steps, lr } }));

interface Row {
  who: string;
  seconds: number;
  fitsPerS: number;
  note: string;
}
const rows: Row[] = [];
let muRef: number[] = [];
const load0 = loadavg()[0];
for (const W of workerCounts) {
  const t0 = performance.now();
  const rs = await fitMany(jobs, { workers: W }).results();
  const s = (performance.now() - t0) / 1000;
  const failed = rs.filter((r) => !r.ok).length;
  const mu = rs.map((r) => (r.ok ? (r.value as SviJobValue).params.auto_mu_loc.data[0] : NaN));
  if (muRef.length === 0) muRef = mu;
  const same = mu.every((m, i) => m === muRef[i]);
  rows.push({ who: W === 0 ? 'varinf fitMany, this thread (workers: 0)' : `varinf fitMany, ${W} worker${W > 1 ? 's' : ''}`, seconds: s, fitsPerS: D / s, note: `${failed} failed; mu locs ${same ? 'bit-identical to the first row' : 'DIFFER from the first row'}` });
}

// The vmap counterpart in varinf: one SVI over a plate of the D data sets (mean-field guide, Adam
// per coordinate: each data set's parameters follow their own fit, with other random draws).
{
  const yT = tensor(Array.from({ length: 8 * D }, (_, i) => ys[i % D][Math.floor(i / D)]), [8, D]);
  const t0 = performance.now();
  const svi = new SVI(batched, new AutoNormal(batched), adam(lr), new TraceELBO());
  const r = svi.runSync(key(0), steps, [yT, tensor(sigma, [8, 1])], { progressBar: false });
  const s = (performance.now() - t0) / 1000;
  const mu = r.params.auto_mu_loc.dataSync();
  const diffs = Array.from(mu, (m, i) => Math.abs(m - muRef[i])).sort((a, b) => a - b);
  rows.push({ who: 'varinf, one SVI over a plate of the data sets (this thread)', seconds: s, fitsPerS: D / s, note: `compiled: ${r.compiled.used}; |mu loc − fitMany's|: median ${diffs[Math.floor(D / 2)].toFixed(3)}` });
}

interface Peer {
  first_s: number;
  second_s: number;
  mu_loc: number[];
  jax: string;
  numpyro: string;
}
const dir = mkdtempSync(join(tmpdir(), 'varinf-fit-many-'));
const spec = join(dir, 'datasets.json');
writeFileSync(spec, JSON.stringify({ ys, sigma, steps, lr }));
const peer = runPeer<Peer>('fit_many_numpyro.py', [spec]);
let agreement = '';
if (typeof peer === 'string') rows.push({ who: 'NumPyro vmap + jit', seconds: NaN, fitsPerS: NaN, note: peer.includes('.venv absent') || peer.includes('No module') ? 'NumPyro not installed (bash bench/peers/setup-numpyro.sh)' : peer });
else {
  rows.push({ who: `NumPyro ${peer.numpyro} vmap + jit, first call (compile included)`, seconds: peer.first_s, fitsPerS: D / peer.first_s, note: `jax ${peer.jax}` });
  rows.push({ who: `NumPyro ${peer.numpyro} vmap + jit, second call`, seconds: peer.second_s, fitsPerS: D / peer.second_s, note: '' });
  const diffs = peer.mu_loc.map((m, i) => Math.abs(m - muRef[i])).sort((a, b) => a - b);
  agreement = `|varinf mu loc − NumPyro mu loc| over the ${D} data sets: median ${diffs[Math.floor(D / 2)].toFixed(3)}, 95th percentile ${diffs[Math.floor(0.95 * D)].toFixed(3)} (posterior sd of mu is about 3-4)`;
}

console.log(`\n### Eight schools × ${D} simulated data sets: AutoNormal, Adam(${lr}), 1 particle, ${steps} steps each (backend ${getBackend()}, ${availableParallelism()} CPUs, load ${load0.toFixed(2)} at start, ${loadavg()[0].toFixed(2)} at end)\n`);
console.log('| who | seconds | fits / s | note |');
console.log('| --- | ---: | ---: | --- |');
for (const r of rows) console.log(`| ${r.who} | ${Number.isFinite(r.seconds) ? r.seconds.toFixed(2) : ''} | ${Number.isFinite(r.fitsPerS) ? r.fitsPerS.toFixed(1) : ''} | ${r.note} |`);
if (agreement !== '') console.log(`\n${agreement}`);
