/**
 * SVI at scale, varinf vs NumPyro, one particle, Adam: (a) Bayesian logistic regression on
 * 10,000 rows × 50 features, (b) varying intercepts with 1,000 groups and 20,000 observations
 * (non-centered). Data are simulated by varinf with fixed keys and handed to the NumPyro peer
 * (bench/peers/svi_scale_numpyro.py) as raw float64/int32 files, so both fit the same data.
 *
 * Guides: AutoNormal on both; AutoMultivariateNormal on (a) (51 latent dims);
 * AutoLowRankMultivariateNormal of rank 32 on (b) (1,003 latent dims: a full-rank Cholesky factor
 * would have half a million parameters, more than the model has observations).
 *
 * Columns: µs/step of varinf eager, varinf compiled (steady state, after the first step), NumPyro's
 * jitted `svi.update` called per step, and NumPyro's `svi.run` (a lax.scan, its compilation
 * included); the first step (varinf: init + trace + verification trace + codegen; NumPyro: jit
 * compilation of the update); and the wall time to a common ELBO: the first step at which the
 * 200-step moving average of the loss (−ELBO) is within 1% of L*, where L* is the larger (worse)
 * of the two libraries' final 200-step averages, so both reach it; time = first step +
 * (steps − 1) × steady µs/step. Eager and compiled varinf follow the same trajectory (same key),
 * so they share the step count.
 *
 * Run: npx tsx bench/vi/svi-scale.ts [--quick]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  add,
  adam,
  AutoLowRankMultivariateNormal,
  AutoMultivariateNormal,
  AutoNormal,
  Bernoulli,
  cast,
  gather,
  getBackend,
  HalfNormal,
  key,
  less,
  matmul,
  mul,
  Normal,
  normal,
  plate,
  reshape,
  sample,
  sigmoid,
  SVI,
  tensor,
  TraceELBO,
  uniform,
  type Tensor,
} from '../../ts/index.js';
import { fmt, runPeer } from './cavi-peers.js';

const quick = process.argv.includes('--quick');
const STEPS = quick ? 600 : 2000;
const EAGER_STEPS = quick ? 20 : 60;
const LR = 0.02;
const WINDOW = 200;
const dataDir = join(tmpdir(), 'varinf-svi-scale');
mkdirSync(dataDir, { recursive: true });

function save(name: string, t: Tensor): string {
  const d = t.dataSync();
  const path = join(dataDir, `${name}.bin`);
  writeFileSync(path, Buffer.from(d.buffer, d.byteOffset, d.byteLength));
  return path;
}

// (a) logistic regression: X ~ N(0, 1), w ~ N(0, 1)/√D·2, b = 0.5, y ~ Bernoulli(σ(Xw + b)).
const N_A = 10_000;
const D = 50;
const X = normal(key(101), [N_A, D]);
const wTrue = mul(normal(key(102), [D, 1]), 2 / Math.sqrt(D));
const yA = cast(less(uniform(key(103), [N_A]), sigmoid(add(reshape(matmul(X, wTrue), [N_A]), 0.5))), 'float64');

function logreg(x: Tensor, y: Tensor): void {
  const w = plate('D', D, () => sample('w', new Normal(0, 1)));
  const b = sample('b', new Normal(0, 5));
  const logits = add(matmul(x, w), b);
  plate('N', N_A, () => sample('y', new Bernoulli({ logits }), { obs: y }));
}

// (b) varying intercepts: group g_i uniform over 1,000 groups, a_g = 1 + 0.7·z_g, y = a_g + 0.5·x + 0.3·ε.
const G = 1000;
const N_B = 20_000;
const gIdx = tensor(Int32Array.from(uniform(key(201), [N_B]).dataSync(), (u) => Math.floor(u * G)), [N_B], 'int32');
const xB = normal(key(202), [N_B]);
const aTrue = add(mul(normal(key(203), [G]), 0.7), 1);
const yB = add(add(gather(aTrue, gIdx), mul(xB, 0.5)), mul(normal(key(204), [N_B]), 0.3));

function intercepts(g: Tensor, x: Tensor, y: Tensor): void {
  const mu = sample('mu', new Normal(0, 5));
  const tau = sample('tau', new HalfNormal(1));
  const beta = sample('beta', new Normal(0, 1));
  const sigma = sample('sigma', new HalfNormal(1));
  const raw = plate('G', G, () => sample('a_raw', new Normal(0, 1)));
  const a = add(mu, mul(tau, raw));
  plate('N', N_B, () => sample('y', new Normal(add(gather(a, g), mul(beta, x)), sigma), { obs: y }));
}

type Guide = 'normal' | 'mvn' | 'lowrank';
interface Task {
  name: string;
  peer: string;
  model: (...a: Tensor[]) => void;
  args: Tensor[];
  files: string[];
  guides: Guide[];
}

const tasks: Task[] = [
  { name: 'logistic regression 10,000 × 50', peer: 'logreg', model: logreg as (...a: Tensor[]) => void, args: [X, yA], files: [save('logreg_X', X), save('logreg_y', yA)], guides: ['normal', 'mvn'] },
  {
    name: 'varying intercepts, 1,000 groups, 20,000 obs',
    peer: 'intercepts',
    model: intercepts as (...a: Tensor[]) => void,
    args: [gIdx, xB, yB],
    files: [save('intercepts_g', gIdx), save('intercepts_x', xB), save('intercepts_y', yB)],
    guides: ['normal', 'lowrank'],
  },
];

function makeGuide(g: Guide, model: (...a: Tensor[]) => void) {
  if (g === 'normal') return new AutoNormal(model);
  if (g === 'mvn') return new AutoMultivariateNormal(model);
  return new AutoLowRankMultivariateNormal(model, { rank: 32 });
}

const GUIDE_NAME: Record<Guide, string> = { normal: 'AutoNormal', mvn: 'AutoMultivariateNormal', lowrank: 'AutoLowRankMVN (rank 32)' };

interface Peer {
  compile_s: number;
  step_us: number;
  run_us: number;
  run_total_s: number;
  losses: number[];
}

/** Moving averages of `w` consecutive losses, ending at each step from w − 1 on. */
function movingAverage(l: ArrayLike<number>, w: number): Float64Array {
  const out = new Float64Array(Math.max(0, l.length - w + 1));
  let s = 0;
  for (let i = 0; i < l.length; i++) {
    s += l[i];
    if (i >= w) s -= l[i - w];
    if (i >= w - 1) out[i - w + 1] = s / w;
  }
  return out;
}

/** Steps until the moving average first comes within 1% of `target` (Infinity if never). */
function stepsTo(ma: Float64Array, target: number): number {
  const thr = target + 0.01 * Math.abs(target);
  for (let i = 0; i < ma.length; i++) if (ma[i] <= thr) return i + WINDOW;
  return Infinity;
}

const rows: string[] = [];
for (const t of tasks)
  for (const g of t.guides) {
    const eagerSvi = new SVI(t.model, makeGuide(g, t.model), adam(LR), new TraceELBO());
    const eager = eagerSvi.runSync(key(0), EAGER_STEPS, t.args, { compile: false, progressBar: false });
    const eagerFirstMs = eager.timings.firstStepMs;
    const eagerUs = ((eager.timings.totalMs - eagerFirstMs) * 1000) / (EAGER_STEPS - 1);
    const svi = new SVI(t.model, makeGuide(g, t.model), adam(LR), new TraceELBO());
    const first = svi.runSync(key(0), 1, t.args, { progressBar: false });
    if (!first.compiled.used) throw new Error(`${t.name} ${g}: not compiled: ${first.compiled.reason}`);
    const rest = svi.runSync(key(0), STEPS - 1, t.args, { progressBar: false, state: first.state });
    const compiledUs = rest.timings.perStepUs;
    const losses = new Float64Array(STEPS);
    losses[0] = first.losses[0];
    losses.set(rest.losses, 1);
    const ma = movingAverage(losses, WINDOW);
    const peerRes = runPeer<Peer>('svi_scale_numpyro.py', [t.peer, g, String(STEPS), String(LR), ...t.files], 1_200_000);
    const peer = typeof peerRes === 'string' ? null : peerRes;
    const pma = peer === null ? null : movingAverage(peer.losses, WINDOW);
    const target = Math.max(ma[ma.length - 1], pma === null ? -Infinity : pma[pma.length - 1]);
    const k = stepsTo(ma, target);
    const pk = pma === null ? Infinity : stepsTo(pma, target);
    const tv = (first.timings.firstStepMs + ((k - 1) * compiledUs) / 1000) / 1000;
    const te = (eagerFirstMs + ((k - 1) * eagerUs) / 1000) / 1000;
    const tp = peer === null ? NaN : peer.compile_s + ((pk - 1) * peer.step_us) / 1e6;
    const p = peer === null ? `${peerRes as string} | | | | ` : `${fmt(peer.step_us, 1)} | ${fmt(peer.run_us, 1)} | ${fmt(peer.compile_s * 1000, 0)} | ${fmt(pma === null ? NaN : pma[pma.length - 1], 1)} | ${pk} steps, ${fmt(tp, 2)} s`;
    // When the finals differ by more than the 1% margin, the common ELBO is only the worse one's.
    const fv = ma[ma.length - 1];
    const fp = pma === null ? NaN : pma[pma.length - 1];
    const gap = (100 * Math.abs(fv - fp)) / Math.min(Math.abs(fv), Math.abs(fp));
    const gapNote = gap > 1 ? ` (finals differ by ${fmt(gap, 0)}%: ${fv > fp ? 'varinf' : 'NumPyro'} never reaches the other's ELBO)` : '';
    rows.push(
      `| ${t.name} | ${GUIDE_NAME[g]} | ${fmt(eagerUs, 0)} | ${fmt(compiledUs, 1)} | ${fmt(first.timings.firstStepMs, 0)} | ${fmt(fv, 1)} | ${k} steps, ${fmt(tv, 2)} s (eager ${fmt(te, 1)} s)${gapNote} | ${p} |`,
    );
    console.error(rows[rows.length - 1]);
  }

console.log(`\n### SVI at scale, one particle, Adam(${LR}), ${STEPS} steps (backend: ${getBackend()})\n`);
console.log(
  '| model | guide | varinf eager µs/step | varinf compiled µs/step | varinf first compiled step (ms) | varinf final loss (200-step avg) | varinf to common ELBO | NumPyro jit update µs/step | NumPyro svi.run µs/step (incl. compile) | NumPyro first step / compile (ms) | NumPyro final loss | NumPyro to common ELBO |',
);
console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const r of rows) console.log(r);
console.log(
  `\nCommon ELBO: the first step where the ${WINDOW}-step moving average of the loss is within 1% of the worse of the two final ${WINDOW}-step averages; time = first step + (steps − 1) × steady µs/step.`,
);
