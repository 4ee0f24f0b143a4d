/**
 * The UCI regression benchmark of Bayesian deep learning (Hernández-Lobato & Adams 2015; Gal &
 * Ghahramani 2016), on the data and splits of ../shared/data/uci (read from there, not copied).
 *
 * MC dropout, the published protocol: one hidden ReLU layer (50 units; protein 100), dropout
 * before every Dense layer, Glorot-uniform weights and zero biases, Adam(1e-3), batch 128,
 * 40 × epochx epochs (the published "10x epochs": epochx 10), weight decay
 * λ = l²(1 − p)/(2Nτ) with l = 1e-2; inputs and target standardized with the training rows'
 * mean and sd (a constant column gets sd 1); per split, the first 80% of the training rows train
 * and the last 20% validate every (p, τ) of the set's grids, the best validation log-likelihood
 * wins, and the network is retrained on all training rows; test RMSE of the MC mean and test
 * log-likelihood of the mixture (1/T) Σ N(ŷ_t, τ⁻¹) over T = 10,000 passes.
 * Bayes by Backprop: the same network as a BayesMLP (local reparameterization, N(0, 1) prior on
 * every weight, σ₀ = 1e-3), a learned homoscedastic noise sd, Adam(1e-2 → ×0.1 over the run),
 * the same epochs and batches, no grid search; test LL of the mixture over the same T passes.
 *
 * Run: npx tsx bench/bnn/uci.ts [--sets boston,concrete,...] [--splits K] [--epochx 10] [--T 10000]
 *      [--tval T] [--methods mcd,bbb] [--json out.json]
 * Fewer epochs, splits or validation passes than the protocol's are printed in the table header.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compile } from '../../ts/compile/index.js';
import {
  adam,
  BayesMLP,
  dropoutWeightDecay,
  exp,
  exponentialDecay,
  fitMinibatch,
  fitStandardizer,
  foldIn,
  gaussianLikelihood,
  key,
  McDropoutMLP,
  mcDropoutLoss,
  mcDropoutPredictive,
  negElbo,
  predictiveSamples,
  regressionPredictive,
  scalar,
  tensor,
  xavierUniform,
  zerosInit,
  type BayesLinearParams,
  type Key,
  type Tensor,
} from '../../ts/index.js';

const here = dirname(fileURLToPath(import.meta.url));
/** ../shared/data/uci beside the checkout (or $VARINF_UCI; from a worktree under wt/, two levels up). */
const UCI = process.env.VARINF_UCI ?? [join(here, '../../../shared/data/uci'), join(here, '../../../../shared/data/uci')].find((d) => existsSync(d)) ?? join(here, '../../../shared/data/uci');

const SETS: Record<string, { dir: string; published: [string, string] }> = {
  boston: { dir: 'bostonHousing', published: ['2.90 ± 0.18', '−2.40 ± 0.04'] },
  concrete: { dir: 'concrete', published: ['4.82 ± 0.16', '−2.93 ± 0.02'] },
  energy: { dir: 'energy', published: ['0.54 ± 0.06', '−1.21 ± 0.01'] },
  kin8nm: { dir: 'kin8nm', published: ['0.08 ± 0.00', '1.14 ± 0.01'] },
  naval: { dir: 'naval-propulsion-plant', published: ['0.00 ± 0.00', '4.45 ± 0.00'] },
  power: { dir: 'power-plant', published: ['4.01 ± 0.04', '−2.80 ± 0.01'] },
  protein: { dir: 'protein-tertiary-structure', published: ['4.27 ± 0.02', '−2.87 ± 0.00'] },
  wine: { dir: 'wine-quality-red', published: ['0.62 ± 0.01', '−0.93 ± 0.01'] },
  yacht: { dir: 'yacht', published: ['0.67 ± 0.05', '−1.25 ± 0.01'] },
};

const args = process.argv.slice(2);
const opt = (name: string, def: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
const sets = opt('sets', 'boston,concrete,energy,yacht,wine,kin8nm,power,naval').split(',');
const epochx = Number(opt('epochx', '10'));
const T = Number(opt('T', '10000'));
const tval = Number(opt('tval', String(T)));
const methods = opt('methods', 'mcd,bbb').split(',');
const maxSplits = Number(opt('splits', '1000'));
const jsonOut = opt('json', '');
/** 1 (default, the shared README's protocol): retrain the chosen (p, τ) on all training rows; 0: test the grid's best network itself, as the published code does. */
const retrain = opt('retrain', '1') !== '0';

const nums = (f: string): number[] =>
  readFileSync(f, 'utf8')
    .split(/\s+/)
    .filter((s) => s.length > 0)
    .map(Number);

interface Data {
  x: Float64Array;
  y: Float64Array;
  n: number;
  d: number;
}

function load(dir: string): { data: Data; hidden: number; epochs: number; splits: number; rates: number[]; taus: number[] } {
  const p = (f: string): string => join(UCI, dir, f);
  const feats = nums(p('index_features.txt'));
  const target = nums(p('index_target.txt'))[0];
  const lines = readFileSync(p('data.txt'), 'utf8').split('\n').filter((l) => l.trim().length > 0);
  const n = lines.length;
  const d = feats.length;
  const x = new Float64Array(n * d);
  const y = new Float64Array(n);
  lines.forEach((l, i) => {
    const v = l.trim().split(/\s+/).map(Number);
    feats.forEach((f, j) => (x[i * d + j] = v[f]));
    y[i] = v[target];
  });
  return { data: { x, y, n, d }, hidden: nums(p('n_hidden.txt'))[0], epochs: nums(p('n_epochs.txt'))[0], splits: nums(p('n_splits.txt'))[0], rates: nums(p('dropout_rates.txt')), taus: nums(p('tau_values.txt')) };
}

function take(data: Data, idx: readonly number[]): Data {
  const x = new Float64Array(idx.length * data.d);
  const y = new Float64Array(idx.length);
  idx.forEach((r, i) => {
    x.set(data.x.subarray(r * data.d, (r + 1) * data.d), i * data.d);
    y[i] = data.y[r];
  });
  return { x, y, n: idx.length, d: data.d };
}

/** Standardized float32 tensors of a training part and the target's mean and sd. */
function prepare(train: Data, test: Data, name: string): { xTr: Tensor; yTr: Tensor; xTe: Tensor; yMean: number; ySd: number } {
  const sx = fitStandardizer(train.x, train.d, { onZeroVariance: 'unit', name });
  const sy = fitStandardizer(train.y, 1, { onZeroVariance: 'unit', name });
  return {
    xTr: tensor(Float32Array.from(sx.apply(train.x)), [train.n, train.d], 'float32'),
    yTr: tensor(Float32Array.from(sy.apply(train.y)), [train.n, 1], 'float32'),
    xTe: tensor(Float32Array.from(sx.apply(test.x)), [test.n, test.d], 'float32'),
    yMean: sy.mean[0],
    ySd: sy.sd[0],
  };
}

interface Score {
  rmse: number;
  ll: number;
}

/** Trains on `train`, scores on `test`; with `also`, scores that set too (T passes) as `test` (the published code's choice). */
function mcDropout(train: Data, test: Data, hidden: number, epochs: number, p: number, tau: number, passes: number, k: Key, name: string, also?: Data): Score & { test?: Score } {
  const { xTr, yTr, xTe, yMean, ySd } = prepare(train, test, name);
  const net = McDropoutMLP([train.d, hidden, 1], { p, weightInit: xavierUniform(), biasInit: zerosInit() });
  const lam = dropoutWeightDecay({ lengthScale: 1e-2, p, n: train.n, tau });
  const r = fitMinibatch(net.init(foldIn(k, 0)), xTr, yTr, { epochs, batchSize: 128, key: foldIn(k, 1), optimizer: adam(1e-3), loss: (ps, xb, yb, kk) => mcDropoutLoss(net, ps, xb, yb, kk, lam) });
  const pass = compile((kk: Key) => net.apply(r.params, xTe, { key: kk }));
  const pr = mcDropoutPredictive(net, r.params, xTe, test.y, { T: passes, tau, key: foldIn(k, 2), scale: ySd, shift: yMean, pass });
  if (also === undefined) return { rmse: pr.rmse, ll: pr.logLik };
  const xA = tensor(Float32Array.from(fitStandardizer(train.x, train.d, { onZeroVariance: 'unit' }).apply(also.x)), [also.n, also.d], 'float32');
  const pa = mcDropoutPredictive(net, r.params, xA, also.y, { T, tau, key: foldIn(k, 3), scale: ySd, shift: yMean, pass: compile((kk: Key) => net.apply(r.params, xA, { key: kk })) });
  return { rmse: pr.rmse, ll: pr.logLik, test: { rmse: pa.rmse, ll: pa.logLik } };
}

function bayesByBackprop(train: Data, test: Data, hidden: number, epochs: number, k: Key, name: string): Score {
  const { xTr, yTr, xTe, yMean, ySd } = prepare(train, test, name);
  const net = BayesMLP([train.d, hidden, 1], { estimator: 'local', initScale: 1e-3 });
  type P = { net: BayesLinearParams[]; logNoise: Tensor };
  const p0: P = { net: net.init(foldIn(k, 0)), logNoise: scalar(Math.log(0.5), 'float32') };
  const steps = epochs * Math.ceil(train.n / 128);
  const r = fitMinibatch(p0, xTr, yTr, {
    epochs,
    batchSize: 128,
    key: foldIn(k, 1),
    optimizer: adam(exponentialDecay(1e-2, 0.1, steps)),
    loss: (ps, xb, yb, kk) => negElbo(net, ps.net, xb, yb, { key: kk, datasetSize: train.n, logLik: gaussianLikelihood(exp(ps.logNoise)) }),
  });
  const pass = compile((kk: Key) => net.apply(r.params.net, xTe, { key: kk }));
  const { data } = predictiveSamples(pass, T, foldIn(k, 2));
  const pr = regressionPredictive(data, test.y, { noiseSd: Math.exp(r.params.logNoise.item()) * ySd, scale: ySd, shift: yMean });
  return { rmse: pr.rmse, ll: pr.logLik };
}

const meanSe = (v: number[]): string => {
  const m = v.reduce((a, b) => a + b, 0) / v.length;
  const sd = Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / Math.max(1, v.length - 1));
  const digits = Math.abs(m) < 0.1 ? 3 : 2;
  return `${m.toFixed(digits)} ± ${(sd / Math.sqrt(v.length)).toFixed(digits)}`;
};

const results: Record<string, unknown>[] = [];
console.log(`UCI benchmark  ${retrain ? 'retrained on all training rows' : 'grid network tested (published code)'}  epochs 40×${epochx}${epochx !== 10 ? ' (protocol: ×10)' : ''}  T ${T}${T !== 10000 ? ' (protocol: 10000)' : ''}  validation T ${tval}  load ${loadavg()[0].toFixed(1)}`);
console.log('| set | splits | MC dropout RMSE | MC dropout LL | published RMSE | published LL | BBB RMSE | BBB LL | s/split (mcd, bbb) |');
console.log('| --- | ---: | --- | --- | --- | --- | --- | --- | --- |');
for (const s of sets) {
  const meta = SETS[s];
  if (meta === undefined) throw new Error(`unknown set ${s} (have ${Object.keys(SETS).join(', ')})`);
  const { data, hidden, epochs: e0, splits, rates, taus } = load(meta.dir);
  const epochs = e0 * epochx;
  const K = Math.min(splits, maxSplits);
  const mcd: Score[] = [];
  const bbb: Score[] = [];
  let tM = 0;
  let tB = 0;
  for (let sp = 0; sp < K; sp++) {
    const tr = nums(join(UCI, meta.dir, `index_train_${sp}.txt`));
    const te = nums(join(UCI, meta.dir, `index_test_${sp}.txt`));
    const train = take(data, tr);
    const test = take(data, te);
    const k = foldIn(key(2016), sp);
    if (methods.includes('mcd')) {
      const t0 = performance.now();
      const cut = Math.floor(0.8 * tr.length);
      const gTrain = take(data, tr.slice(0, cut));
      const gVal = take(data, tr.slice(cut));
      let best = { ll: -Infinity, p: rates[0], tau: taus[0], test: null as Score | null };
      for (const p of rates)
        for (const tau of taus) {
          const v = mcDropout(gTrain, gVal, hidden, epochs, p, tau, tval, foldIn(k, 7), `${s} split ${sp}`, retrain ? undefined : test);
          if (v.ll > best.ll) best = { ll: v.ll, p, tau, test: v.test ?? null };
        }
      mcd.push(retrain ? mcDropout(train, test, hidden, epochs, best.p, best.tau, T, foldIn(k, 8), `${s} split ${sp}`) : (best.test as Score));
      tM += (performance.now() - t0) / 1000;
      process.stderr.write(`${s} split ${sp}: MC dropout p ${best.p} τ ${best.tau} RMSE ${mcd[mcd.length - 1].rmse.toFixed(3)} LL ${mcd[mcd.length - 1].ll.toFixed(3)}\n`);
    }
    if (methods.includes('bbb')) {
      const t0 = performance.now();
      bbb.push(bayesByBackprop(train, test, hidden, epochs, foldIn(k, 9), `${s} split ${sp}`));
      tB += (performance.now() - t0) / 1000;
      process.stderr.write(`${s} split ${sp}: BBB RMSE ${bbb[bbb.length - 1].rmse.toFixed(3)} LL ${bbb[bbb.length - 1].ll.toFixed(3)}\n`);
    }
  }
  const cell = (v: Score[], f: (x: Score) => number): string => (v.length > 0 ? meanSe(v.map(f)) : '—');
  console.log(
    `| ${meta.dir} | ${K}/${splits} | ${cell(mcd, (x) => x.rmse)} | ${cell(mcd, (x) => x.ll)} | ${meta.published[0]} | ${meta.published[1]} | ${cell(bbb, (x) => x.rmse)} | ${cell(bbb, (x) => x.ll)} | ${(tM / K).toFixed(1)}, ${(tB / K).toFixed(1)} |`,
  );
  results.push({ set: meta.dir, splits: K, epochs, T, tval, mcd, bbb, secondsPerSplit: { mcd: tM / K, bbb: tB / K } });
  if (jsonOut !== '') writeFileSync(jsonOut, JSON.stringify(results, null, 1));
}
