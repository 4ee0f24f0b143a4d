/**
 * Flow guides on Neal's funnel (d = 10): v ~ N(0, 3²), x_i | v ~ N(0, e^v), i = 1..9, so v's
 * marginal is N(0, 9) exactly. Every guide is fitted by SVI (TraceELBO, 8 particles, Adam) for the
 * same number of steps; the table gives v's posterior sd (exact 3), the worst |z| of v's mean and
 * the PSIS k̂ of 4,000 guide draws scored by the guide itself.
 *
 * NumPyro's AutoIAFNormal and AutoBNAFNormal run in the same bench with the same budget
 * ([peers/funnel_numpyro.py](../peers/funnel_numpyro.py); `bash bench/peers/setup-numpyro.sh`),
 * their k̂ computed from their log ratios by the same PSIS code.
 *
 *   npx tsx bench/flows/funnel.ts [--steps 5000] [--lr 1e-2]
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { adam, AutoMultivariateNormal, AutoNormal, exp, expandDims, key, mul, MultivariateNormal, Normal, plate, psis, sample, SVI, tensor, TraceELBO, type Tensor } from '../../ts/index.js';
import { AutoBNAFNormal, AutoIAFNormal, AutoNSF, AutoRealNVP, type AutoFlowGuide } from '../../ts/flows/index.js';

const argv = process.argv.slice(2);
const arg = (name: string, def: string): string => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : def;
};
const STEPS = Number(arg('steps', '5000'));
const LR = Number(arg('lr', '1e-2'));
const D = 9;
const N = 4000;

function funnel(): void {
  const v = sample('v', new Normal(0, 3));
  plate('dims', D, () => sample('x', new Normal(0, exp(mul(v, 0.5)))));
}

function logP(z: ArrayLike<number>, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const v = z[i * (D + 1)];
    let lp = -0.5 * (v / 3) ** 2 - Math.log(3) - 0.5 * Math.log(2 * Math.PI);
    for (let j = 1; j <= D; j++) lp += -0.5 * z[i * (D + 1) + j] ** 2 * Math.exp(-v) - 0.5 * v - 0.5 * Math.log(2 * Math.PI);
    out.push(lp);
  }
  return out;
}

function report(name: string, z: ArrayLike<number>, lq: ArrayLike<number>, ms: number): void {
  const v = Array.from({ length: N }, (_, i) => z[i * (D + 1)]);
  const m = v.reduce((a, b) => a + b, 0) / N;
  const sd = Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / (N - 1));
  const khat = psis(logP(z, N).map((l, i) => l - lq[i])).khat;
  console.log(`| ${name} | ${sd.toFixed(3)} | ${(Math.abs(m) / 3).toFixed(3)} | ${khat.toFixed(2)} | ${(ms / 1000).toFixed(1)} |`);
}

function gaussian(G: typeof AutoNormal | typeof AutoMultivariateNormal): void {
  const t0 = performance.now();
  const g = new G(funnel, { initScale: 0.5 });
  const p = new SVI(funnel, g, adam(LR), new TraceELBO({ numParticles: 8 })).runSync(key(1), STEPS, []).params;
  const ms = performance.now() - t0;
  const dr = g.samplePosterior(key(9), p, N);
  const z = new Float64Array(N * (D + 1));
  const vs = dr.v.dataSync();
  const xs = dr.x.dataSync();
  for (let i = 0; i < N; i++) {
    z[i * (D + 1)] = vs[i];
    for (let j = 0; j < D; j++) z[i * (D + 1) + 1 + j] = xs[i * D + j];
  }
  let lq: ArrayLike<number>;
  if (g instanceof AutoNormal) {
    const a = new Normal(p.auto_v_loc, p.auto_v_scale).logProb(dr.v).dataSync();
    const b = new Normal(p.auto_x_loc, p.auto_x_scale).toEvent(1).logProb(dr.x).dataSync();
    lq = Array.from(a, (x, i) => x + b[i]);
  } else {
    const L: Tensor = mul(expandDims(p.auto_scale, -1), p.auto_scale_tril);
    const zt = new MultivariateNormal(p.auto_loc, { scaleTril: L });
    lq = zt.logProb(tensor(z, [N, D + 1], 'float64')).dataSync();
  }
  report(G.name, z, lq, ms);
}

function flow(name: string, g: AutoFlowGuide<[]>): void {
  const t0 = performance.now();
  const p = new SVI(funnel, g, adam(LR), new TraceELBO({ numParticles: 8 })).runSync(key(1), STEPS, []).params;
  const ms = performance.now() - t0;
  const [z, lq] = g.latentPosterior(p).rsampleWithLogProb(key(9), [N]);
  report(name, z.dataSync(), lq.dataSync(), ms);
}

console.log(`## Neal's funnel (d = 10), ${STEPS} SVI steps, Adam ${LR}, 8 particles; exact sd(v) = 3\n`);
console.log('| guide | sd(v) | |mean(v)|/3 | PSIS k̂ | fit s |');
console.log('| --- | ---: | ---: | ---: | ---: |');
gaussian(AutoNormal);
gaussian(AutoMultivariateNormal);
flow('AutoIAFNormal (3 × IAF [20, 20])', new AutoIAFNormal(funnel, { numFlows: 3, hidden: [20, 20], initScale: 0.5 }));
flow('AutoNSF (3 × AR spline [20, 20])', new AutoNSF(funnel, { numFlows: 3, hidden: [20, 20], initScale: 0.5 }));
flow('AutoRealNVP (4 × coupling [20, 20])', new AutoRealNVP(funnel, { numFlows: 4, hidden: [20, 20], initScale: 0.5 }));
flow('AutoBNAFNormal (2 × BNAF [8])', new AutoBNAFNormal(funnel, { numFlows: 2, hidden: [8], initScale: 0.5 }));

const py = join(dirname(fileURLToPath(import.meta.url)), '../peers/.venv/bin/python');
if (!existsSync(py)) console.log('| NumPyro | bench/peers/.venv is missing: run bash bench/peers/setup-numpyro.sh | | | |');
else {
  const r = spawnSync(py, [join(dirname(fileURLToPath(import.meta.url)), '../peers/funnel_numpyro.py'), '--steps', String(STEPS), '--lr', String(LR), '--n', String(N)], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) console.log(`| NumPyro | failed: ${(r.stderr || r.stdout).trim().split('\n').slice(-2).join(' | ')} | | | |`);
  for (const line of r.stdout.trim().split('\n').filter((l) => l.startsWith('{'))) {
    const o = JSON.parse(line) as { guide: string; sd_v: number; mean_v: number; fit_s: number; log_ratios: number[] };
    console.log(`| ${o.guide} | ${o.sd_v.toFixed(3)} | ${(Math.abs(o.mean_v) / 3).toFixed(3)} | ${psis(o.log_ratios).khat.toFixed(2)} | ${o.fit_s.toFixed(1)} |`);
  }
}
