/**
 * Minibatch SVI, varinf vs NumPyro, one particle, Adam, AutoNormal, the likelihood plate
 * subsampled (`plate(..., { subsampleSize })`, NumPyro's `plate(..., subsample_size=)`):
 * (a) Bayesian logistic regression, N = 100,000 rows × D = 50, |S| = 1,000;
 * (b) varying intercepts (non-centered), 1,000 groups, 1,000,000 observations, |S| = 10,000.
 * Data are simulated by varinf with fixed keys and handed to the NumPyro peer
 * (bench/peers/minibatch_numpyro.py) as raw float64/int32 files, so both fit the same data.
 *
 * Columns: µs/step of varinf eager (`compile: false`), varinf compiled (the subsample drawn
 * inside the compiled step; steady state after the first step), NumPyro's jitted `svi.update`
 * called per step, and NumPyro's `svi.run` (a lax.scan, its compilation included, as a user
 * calls it); the ratio NumPyro svi.run / varinf compiled; the final loss (−ELBO estimate, the
 * mean of the last 200 steps' minibatch estimates) of each. Eager and compiled varinf follow the
 * same trajectory for the same key, which the table checks (max |Δ parameter| after the eager
 * steps). Reads nothing from /work/shared. Prints the machine's load before and after.
 *
 * Run: npx tsx bench/vi/minibatch.ts [--quick]   (peer: bash bench/peers/setup-numpyro.sh)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  add,
  adam,
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
const EAGER_STEPS = quick ? 20 : 100;
const LR = 0.01;
const WINDOW = 200;
const dataDir = join(tmpdir(), 'varinf-minibatch');
mkdirSync(dataDir, { recursive: true });
const progress = (s: string): boolean => process.stderr.write(`minibatch: ${s}\n`);
const loadBefore = loadavg()[0];

function save(name: string, t: Tensor): string {
  const d = t.dataSync();
  const path = join(dataDir, `${name}.bin`);
  writeFileSync(path, Buffer.from(d.buffer, d.byteOffset, d.byteLength));
  return path;
}

// (a) logistic regression: X ~ N(0, 1), w ~ N(0, 4/D), b = 0.5, y ~ Bernoulli(σ(Xw + b)).
const N_A = 100_000;
const D = 50;
const S_A = 1000;
const X = normal(key(101), [N_A, D]);
const wTrue = mul(normal(key(102), [D, 1]), 2 / Math.sqrt(D));
const yA = cast(less(uniform(key(103), [N_A]), sigmoid(add(reshape(matmul(X, wTrue), [N_A]), 0.5))), 'float64');

function logreg(x: Tensor, y: Tensor): void {
  const w = plate('D', D, () => sample('w', new Normal(0, 1)));
  const b = sample('b', new Normal(0, 5));
  plate(
    'N',
    N_A,
    (idx) => {
      const logits = add(reshape(matmul(gather(x, idx as Tensor, 0), w), [S_A]), b);
      sample('y', new Bernoulli({ logits }), { obs: gather(y, idx as Tensor, 0) });
    },
    { subsampleSize: S_A },
  );
}

// (b) varying intercepts: group g_i uniform over G groups, a_g = 1 + 0.7·z_g, y = a_g + 0.5·x + 0.3·ε.
const G = 1000;
const N_B = 1_000_000;
const S_B = 10_000;
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
  plate(
    'N',
    N_B,
    (idx) => {
      const i = idx as Tensor;
      sample('y', new Normal(add(gather(a, gather(g, i)), mul(beta, gather(x, i))), sigma), { obs: gather(y, i) });
    },
    { subsampleSize: S_B },
  );
}

interface Task {
  name: string;
  /** Steps of the compiled run and of NumPyro's svi.run (NumPyro's hierarchical step is slow: fewer). */
  steps: number;
  model: (...a: Tensor[]) => void;
  args: Tensor[];
  peerArgs: string[];
}

const tasks: Task[] = [
  { name: `logistic regression ${N_A.toLocaleString('en')} × ${D}, batch ${S_A.toLocaleString('en')}`, steps: quick ? 500 : 3000, model: logreg as (...a: Tensor[]) => void, args: [X, yA], peerArgs: ['logreg', String(N_A), String(D), String(S_A), save('logreg_X', X), save('logreg_y', yA)] },
  {
    name: `varying intercepts, ${G.toLocaleString('en')} groups, ${N_B.toLocaleString('en')} obs, batch ${S_B.toLocaleString('en')}`,
    steps: quick ? 300 : 1500,
    model: intercepts as (...a: Tensor[]) => void,
    args: [gIdx, xB, yB],
    peerArgs: ['hier', String(N_B), String(G), String(S_B), save('hier_g', gIdx), save('hier_x', xB), save('hier_y', yB)],
  },
];

interface Peer {
  compile_s: number;
  step_us: number;
  run_us: number;
  losses: number[];
  jax: string;
  numpyro: string;
}

const tail = (l: ArrayLike<number>): number => {
  let s = 0;
  for (let i = l.length - WINDOW; i < l.length; i++) s += l[i];
  return s / WINDOW;
};

const rows: string[] = [];
let peerNote = '';
for (const t of tasks) {
  progress(`${t.name}: eager`);
  const eagerSvi = new SVI(t.model, new AutoNormal(t.model), adam(LR), new TraceELBO());
  const eager = eagerSvi.runSync(key(0), EAGER_STEPS, t.args, { compile: false, progressBar: false });
  const eagerUs = ((eager.timings.totalMs - eager.timings.firstStepMs) * 1000) / (EAGER_STEPS - 1);
  progress(`${t.name}: compiled`);
  const svi = new SVI(t.model, new AutoNormal(t.model), adam(LR), new TraceELBO());
  const first = svi.runSync(key(0), 1, t.args, { progressBar: false });
  if (!first.compiled.used) throw new Error(`${t.name}: not compiled: ${first.compiled.reason}`);
  const same = svi.runSync(key(0), EAGER_STEPS - 1, t.args, { progressBar: false, state: first.state });
  let diff = 0;
  for (const [k, v] of Object.entries(eager.state.params)) {
    const a = v.dataSync();
    const b = same.state.params[k].dataSync();
    for (let i = 0; i < a.length; i++) diff = Math.max(diff, Math.abs(a[i] - b[i]));
  }
  const rest = svi.runSync(key(0), t.steps - EAGER_STEPS, t.args, { progressBar: false, state: same.state });
  const compiledUs = rest.timings.perStepUs;
  const final = tail(rest.losses);
  progress(`${t.name}: NumPyro`);
  const [task, ...pa] = t.peerArgs;
  const peerRes = runPeer<Peer>('minibatch_numpyro.py', [task, String(t.steps), String(LR), ...pa], 1_800_000);
  const peer = typeof peerRes === 'string' ? null : peerRes;
  if (peer !== null) peerNote = `NumPyro ${peer.numpyro}, JAX ${peer.jax} (CPU, float64)`;
  else peerNote = peerRes as string;
  const p = peer === null ? `${peerRes as string} | | | ` : `${fmt(peer.step_us, 0)} | ${fmt(peer.run_us, 0)} | ${fmt(peer.run_us / compiledUs, 2)}× | ${fmt(tail(peer.losses), 1)}`;
  rows.push(`| ${t.name} | ${t.steps} | ${fmt(eagerUs, 0)} | ${fmt(compiledUs, 0)} | ${fmt(first.timings.firstStepMs, 0)} | ${diff.toExponential(1)} | ${fmt(final, 1)} | ${p} |`);
  progress(rows[rows.length - 1]);
}

console.log(`\n### Minibatch SVI, AutoNormal, one particle, Adam(${LR}) (backend: ${getBackend()})\n`);
console.log(
  '| model | steps | varinf eager µs/step | varinf compiled µs/step | varinf first step (ms) | max \\|Δparam\\| eager vs compiled after ' +
    `${EAGER_STEPS} steps | varinf final loss | NumPyro jit update µs/step | NumPyro svi.run µs/step (incl. compile) | NumPyro svi.run / varinf compiled | NumPyro final loss |`,
);
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const r of rows) console.log(r);
console.log(
  `\nFinal loss: mean of the last ${WINDOW} steps' minibatch −ELBO estimates (both libraries draw different minibatches and ε, so they agree within that noise). ` +
    `Peer: ${peerNote}. Machine: ${cpus()[0]?.model ?? 'cpu'}, ${cpus().length} logical CPUs; load average ${fmt(loadBefore, 1)} before, ${fmt(loadavg()[0], 1)} after; Node ${process.version}.`,
);
