/**
 * Simulation-based calibration of `fit` on eight schools (non-centered): N data sets simulated
 * from the model's prior (`modelGenerator`), each fitted by `fit` with a mean-field ('normal') or
 * full-rank ('mvn') guide on worker threads, ranks of μ, τ, θ̃_j and the test quantities θ₁ and
 * log τ among L = 99 thinned draws, and the χ² and ECDF-band tests. Writes the figure to
 * bench/results/sbc-eight-schools-<guide>.svg. No peer runs here (no SBC package is installed in
 * bench/peers/.venv); the machine's load is printed, since the fits share the CPUs.
 *
 * Run: npx tsx bench/vi/sbc.ts [--simulations 100] [--workers 2] [--guide normal|mvn] [--seed 0]
 */
import { mkdirSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { key, saveSbcPlot, sbc } from '../../ts/index.js';

const { values } = parseArgs({
  options: {
    simulations: { type: 'string', default: '100' },
    workers: { type: 'string', default: '2' },
    guide: { type: 'string', default: 'normal' },
    draws: { type: 'string', default: '1000' },
    seed: { type: 'string', default: '0' },
  },
});
const guide = values.guide === 'mvn' ? 'mvn' : 'normal';
// The spec module reads these when each worker imports it.
process.env.VARINF_SBC_GUIDE = guide;
process.env.VARINF_SBC_DRAWS = values.draws;
process.env.VARINF_QUIET = '1';
const N = Number(values.simulations);
const W = Number(values.workers);

console.log(`machine: ${availableParallelism()} CPUs, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} (1, 5, 15 min) at start`);
console.log(`SBC of fit (guide '${guide}', ${values.draws} draws per fit, ranks among L = 99) on eight schools: ${N} simulations on ${W} worker thread(s)`);
const t0 = performance.now();
let lastReport = t0;
const r = await sbc(
  { module: new URL('./sbc-eight-schools-spec.ts', import.meta.url), exportName: 'spec' },
  {
    key: key(Number(values.seed)),
    simulations: N,
    workers: W,
    alpha: 0.05,
    onProgress: (done, total) => {
      if (performance.now() - lastReport > 15_000 || done === total) {
        lastReport = performance.now();
        console.log(`  ${done}/${total} fits, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
      }
    },
  },
);
const secs = (performance.now() - t0) / 1000;
console.log();
console.log(r.summary);
console.log();
console.log(`${r.simulations.length} fits in ${secs.toFixed(0)} s (${((secs * W) / N).toFixed(1)} s per fit per worker); load average at end ${loadavg()[0].toFixed(1)}`);
console.log('peers: none measured (the R package SBC and an SBC of NumPyro\'s ADVI are not set up in bench/peers/.venv)');
const out = new URL(`../results/sbc-eight-schools-${guide}.svg`, import.meta.url);
mkdirSync(new URL('../results/', import.meta.url), { recursive: true });
saveSbcPlot(out.pathname, r, { title: `SBC of fit ('${guide}') on eight schools: ${r.simulations.length} simulations, L = ${r.maxRank}`, variables: ['mu', 'tau', 'log_tau', 'theta_raw[0]', 'theta[0]'] });
console.log(`figure: ${out.pathname}`);
