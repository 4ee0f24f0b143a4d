import { MinibatchLoader } from '../../ts/data/loader.js';
import { loadMnist } from '../../ts/data/mnist.js';
import { adam, key } from '../../ts/index.js';
import { VAE, trainVAE } from '../../ts/models/vae/index.js';
const train = loadMnist('train');
const vae = VAE({ xDim: 784, layers: [{ z: 50, hidden: [200, 200] }] });
const opt = adam(1e-3, { eps: 1e-4 });
const p = vae.init(key(0));
const k = Number(process.argv[2] ?? 50);
const steps = Number(process.argv[3] ?? 60);
const r = await trainVAE(vae, { params: p, optState: opt.init(p), step: 0 }, new MinibatchLoader(train, { batchSize: 100, key: key(1), binarize: 'dynamic' }), { steps, key: key(3), optimizer: opt, objective: k > 1 ? 'iwae' : 'elbo', k, logEvery: steps });
console.log(k, r.compiled, r.imagesPerSecond.toFixed(0), 'img/s');
const P = (globalThis as any).__PROFN as { k: number; n: number; kernels: number; ops: string; t: number; c: number }[] | undefined;
if (P) {
  const tot = P.reduce((a, r) => a + r.t, 0);
  const calls = Math.max(...P.map((r) => r.c));
  console.log('fused total ms/step', (tot / calls).toFixed(2));
  for (const r of [...P].sort((a, b) => b.t - a.t).slice(0, 14)) console.log((r.t / r.c).toFixed(3), 'ms', r.n, r.kernels, r.ops.slice(0, 150));
}
if (process.env.SRC) {
  const { compile } = await import('../../ts/compile/compile.js');
  void compile;
}
const D = (globalThis as any).__DUMP as string[] | undefined;
if (D) { const fs = await import('node:fs'); D.forEach((s, i) => fs.writeFileSync(`/tmp/plan-${i}.js`, s)); }
