/**
 * FFJORD against the discrete flows on a 2-D toy density (two moons), varinf only: the same data
 * (a seeded generator, 80/10/10 split), fitFlow with the same batch size, learning rate, epochs and
 * early-stopping rule for FFJORD (concat-squash field, dopri5, Hutchinson's trace in training and
 * the exact trace for validation and test), MAF, MAF with batch norm between layers, MAF on
 * residual MADEs, and autoregressive NSF; and conditional flow matching on FFJORD's field (the
 * same number of minibatch steps, no early stopping), scored by the same ODE. Prints test log-likelihood (nats per row ± standard
 * error), epochs run, training rows per wall second and FFJORD's field evaluations per solve.
 * No peer runs here: zuko and nflows have no FFJORD, and torchdiffeq is not in bench/peers/.venv.
 *
 *   npx tsx bench/flows/ffjord-moons.ts [--n 4000] [--epochs 20] [--batch 256] [--lr 3e-3] [--only ffjord,cfm,maf,maf-bn,resmade,nsf]
 */
import { parseArgs } from 'node:util';
import { key, tensor, type Tensor } from '../../ts/index.js';
import { batchNorm, concatSquashField, ffjord, fitFlow, fitFlowMatching, Flow, flowMatchingFlow, maf, permute, splineAutoregressive, type FlowLayer } from '../../ts/flows/index.js';

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '4000' },
    epochs: { type: 'string', default: '20' },
    batch: { type: 'string', default: '256' },
    lr: { type: 'string', default: '3e-3' },
    only: { type: 'string', default: 'ffjord,cfm,maf,maf-bn,resmade,nsf' },
  },
});
const n = Number(values.n);
const epochs = Number(values.epochs);
const batchSize = Number(values.batch);
const lr = Number(values.lr);

/** Two moons with N(0, 0.2²) noise from a seeded LCG, scaled to about unit spread. */
function moons(count: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const u = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s + 0.5) / 4294967296;
  };
  const g = (): number => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
  const a = new Float32Array(2 * count);
  for (let i = 0; i < count; i++) {
    const t = Math.PI * u();
    const up = i % 2 === 0;
    a[2 * i] = ((up ? Math.cos(t) : 1 - Math.cos(t)) - 0.5) * 2 + 0.2 * g();
    a[2 * i + 1] = ((up ? Math.sin(t) : 0.5 - Math.sin(t)) - 0.25) * 2 + 0.2 * g();
  }
  return a;
}

const all = moons(n, 7);
const nTr = Math.round(0.8 * n);
const nVa = Math.round(0.1 * n);
const part = (a: number, b: number): Tensor => tensor(all.slice(2 * a, 2 * b), [b - a, 2], 'float32');
const train = part(0, nTr);
const val = part(nTr, nTr + nVa);
const test = part(nTr + nVa, n);

const mafStack = (mk: (i: number) => FlowLayer[]): FlowLayer[] => Array.from({ length: 5 }, (_, i) => [...(i > 0 ? [permute(2)] : []), ...mk(i)]).flat();
const builders: Record<string, () => { flow: Flow; note: string; cnf?: ReturnType<typeof ffjord> }> = {
  ffjord: () => {
    const cnf = ffjord(2, { hidden: [64, 64], activation: 'tanh', rtol: 1e-5, atol: 1e-5 });
    return { flow: new Flow([cnf]), note: 'one CNF, concat-squash [64, 64] tanh, dopri5 1e-5', cnf };
  },
  maf: () => ({ flow: new Flow(mafStack(() => [maf(2, { hidden: [64, 64] })])), note: '5 MAF, MADE [64, 64]' }),
  'maf-bn': () => ({ flow: new Flow(mafStack((i) => [...(i > 0 ? [batchNorm(2)] : []), maf(2, { hidden: [64, 64] })])), note: '5 MAF + batch norm between' }),
  resmade: () => ({ flow: new Flow(mafStack(() => [maf(2, { hidden: [64], residualBlocks: 2 })])), note: '5 MAF, residual MADE 64 × 2 blocks' }),
  nsf: () => ({ flow: new Flow(mafStack(() => [splineAutoregressive(2, { hidden: [64, 64], bins: 8, bound: 4 })])), note: '5 NSF (AR), 8 bins on [−4, 4]' }),
};

/** Mean and standard error of the per-row test log-likelihood. */
function testLL(flow: Flow, params: unknown[]): [number, number] {
  const lp = Array.from(flow.apply(params).logProb(test).dataSync());
  const m = lp.reduce((a, b) => a + b, 0) / lp.length;
  const sd = Math.sqrt(lp.reduce((a, b) => a + (b - m) ** 2, 0) / (lp.length - 1));
  return [m, sd / Math.sqrt(lp.length)];
}

console.log(`two moons: ${nTr} train / ${nVa} val / ${n - nTr - nVa} test rows, batch ${batchSize}, Adam ${lr}, ≤ ${epochs} epochs (patience 5), float32`);
console.log('| flow | layers | test LL (nats) | epochs | train rows / s | solves: field evals |');
console.log('| --- | --- | ---: | ---: | ---: | ---: |');
for (const name of values.only.split(',')) {
  if (name === 'cfm') {
    // Flow matching on the same field as FFJORD: the same number of minibatch steps (no early stopping), scored by the ODE with the exact trace.
    const field = concatSquashField(2, { hidden: [64, 64], activation: 'tanh' });
    const steps = epochs * Math.floor(nTr / batchSize);
    const t0 = performance.now();
    const r = fitFlowMatching(field, train, { steps, batchSize, lr, key: key(1) });
    const sec = (performance.now() - t0) / 1000;
    const flow = flowMatchingFlow(field, { rtol: 1e-5, atol: 1e-5 });
    const [m, se] = testLL(flow, [r.params]);
    console.log(`| cfm | flow matching (rectified path), same field, ${steps} steps, ODE + exact trace 1e-5 | ${m.toFixed(3)} ± ${se.toFixed(3)} | ${epochs} | ${((steps * batchSize) / sec).toFixed(0)} | ${flow.cnf.lastNfe} |`);
    continue;
  }
  const b = builders[name];
  if (b === undefined) throw new Error(`unknown flow '${name}'`);
  const { flow, note, cnf } = b();
  const r = fitFlow(flow, train, { batchSize, epochs, lr, validation: val, patience: 5, key: key(1) });
  flow.eval();
  const [m, se] = testLL(flow, r.params);
  const nfe = cnf === undefined ? '' : String(cnf.lastNfe);
  console.log(`| ${name} | ${note} | ${m.toFixed(3)} ± ${se.toFixed(3)} | ${r.epochs} | ${r.timings.trainRowsPerSec.toFixed(0)} | ${nfe} |`);
}
