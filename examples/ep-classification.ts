/**
 * Expectation propagation for classification: a Gaussian-process classifier (probit likelihood,
 * RBF kernel with fixed hyperparameters) on two noisy interleaved half-moons, with EP's log
 * marginal likelihood used to pick the lengthscale; then a robust regression with Student-t noise
 * whose outliers EP down-weights. Run: npx tsx examples/ep-classification.ts
 */
import { parseArgs } from 'node:util';
import { epGp, epLinear, probitLikelihood, rbfKernel, studentTLikelihood } from 'varinf';

const { values } = parseArgs({ options: { n: { type: 'string', default: '120' } } });
const n = Number(values.n);

// Two half-moons with a deterministic jitter (a low-discrepancy sequence, so no RNG is needed).
function moons(count: number, offset: number): { x: number[][]; y: number[] } {
  const x: number[][] = [];
  const y: number[] = [];
  for (let i = 0; i < count; i++) {
    const t = (Math.PI * ((i * 0.618034 + offset) % 1));
    const up = i % 2 === 0;
    const jx = 0.25 * (((i * 0.754878) % 1) - 0.5);
    const jy = 0.25 * (((i * 0.569840) % 1) - 0.5);
    x.push(up ? [Math.cos(t) + jx, Math.sin(t) + jy] : [1 - Math.cos(t) + jx, 0.5 - Math.sin(t) + jy]);
    y.push(up ? 1 : 0);
  }
  return { x, y };
}
const train = moons(n, 0.1);
const test = moons(200, 0.37);

// Pick the lengthscale by EP's estimate of log p(y | X, ℓ).
let best = { lengthscale: 0, logMarginal: -Infinity };
for (const lengthscale of [0.1, 0.3, 1, 3]) {
  const gp = epGp({ x: train.x, y: train.y, kernel: rbfKernel({ variance: 4, lengthscale }), likelihood: probitLikelihood() });
  console.log(`ℓ = ${lengthscale}: log p(y) ≈ ${gp.logMarginal.toFixed(2)} (${gp.sweeps} sweeps${gp.converged ? '' : ', not converged'})`);
  if (gp.logMarginal > best.logMarginal) best = { lengthscale, logMarginal: gp.logMarginal };
}
const gp = epGp({ x: train.x, y: train.y, kernel: rbfKernel({ variance: 4, lengthscale: best.lengthscale }), likelihood: probitLikelihood() });
const p = gp.predict(test.x);
const errors = test.y.filter((y, i) => (p[i] > 0.5 ? 1 : 0) !== y).length;
const lp = gp.predictLogDensity(test.x, test.y).reduce((a, b) => a + b, 0) / test.y.length;
console.log(`chosen ℓ = ${best.lengthscale}: test error ${((100 * errors) / test.y.length).toFixed(1)}%, mean test log p(y*) ${lp.toFixed(3)}`);

// Robust regression: a line through 30 points, three of them gross outliers.
const xs = Array.from({ length: 30 }, (_, i) => i / 29);
const ys = xs.map((x, i) => 1 + 2 * x + 0.05 * Math.sin(7 * i) + ([5, 17, 24].includes(i) ? 4 : 0));
const fit = epLinear({ x: xs.map((x) => [1, x]), y: ys, likelihood: studentTLikelihood({ df: 3, scale: 0.1 }), priorScale: 10, damping: 0.7 });
console.log(`robust line: intercept ${fit.weightMean[0].toFixed(3)}, slope ${fit.weightMean[1].toFixed(3)} (truth 1, 2); ${fit.warnings.length} warnings, converged: ${fit.converged}`);
