/**
 * `npm run demo`: (1) eight schools (non-centered) with mean-field and full-rank ADVI against
 * posteriordb's reference posterior, with PSIS k̂ and an ELBO plot (examples/eight-schools.ts);
 * (2) Bayesian linear regression on scikit-learn's diabetes data, the posterior mean found by
 * gradient ascent with autodiff and checked against the closed form (examples/blr.ts).
 */
import { listBackends } from 'varinf';
import { fitDiabetes, loadDiabetes } from './blr.js';
import { printEightSchools, runEightSchools } from './eight-schools.js';

const t0 = performance.now();
printEightSchools(runEightSchools(), 'elbo-trace.svg');

const data = loadDiabetes();
const fit = fitDiabetes(data);
const pad = (s: string, w: number): string => s.padStart(w);
const num = (x: number, d = 6): string => x.toFixed(d);

console.log(`\nBayesian linear regression, diabetes data (n = ${data.n}, p = ${data.p})`);
console.log(`  y ~ N(b + Xs w, σ²), w ~ N(0, ${fit.tau}² I), b ~ N(0, ${fit.tauB}²), σ = ${num(fit.sigma, 4)} (OLS residual sd)`);
console.log(`  features rescaled to unit sd; posterior mean by Nesterov gradient ascent on log p(b, w | y)\n`);
console.log(`${'coefficient'.padEnd(12)}${pad('ascent mean', 16)}${pad('closed-form mean', 18)}${pad('closed-form sd', 16)}${pad('|diff|', 10)}`);
for (let i = 0; i < fit.names.length; i++) {
  const diff = Math.abs(fit.ascentMean[i] - fit.exactMean[i]);
  console.log(
    `${fit.names[i].padEnd(12)}${pad(num(fit.ascentMean[i]), 16)}${pad(num(fit.exactMean[i]), 18)}${pad(num(fit.exactSd[i], 4), 16)}${pad(diff.toExponential(1), 10)}`,
  );
}
const { available } = listBackends();
console.log(`\nmax |ascent − closed form| = ${fit.maxAbsDiff.toExponential(2)} after ${fit.steps} steps`);
console.log(`backend: ${fit.backend} (available: ${available.join(', ')}); total demo time ${((performance.now() - t0) / 1000).toFixed(1)} s`);
