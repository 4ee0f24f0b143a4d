/**
 * Where fromStan's gradient and Stan's differ on the regularized-horseshoe logistic regressions
 * (ovarian-, prostate-logistic_regression_rhs), is the whole gap Stan's own approximation?
 * Stan's bernoulli_logit_glm_lpmf takes d log p / d(y·θ) as 1 below y·θ = −20 and as −exp(−y·θ)
 * above 20 (stan/math/prim/prob/bernoulli_logit_glm_lpmf.hpp, `cutoff = 20.0`); varinf's is exact.
 * At each frozen point this computes Stan's error per observation, w = Stan's derivative − the exact
 * one, adds `target += dot_product(w, beta0 + x * beta)` to the program (so the gradient gains
 * exactly Stan's error) and compares both gradients with Stan's.
 *
 * Run: npx tsx bench/stan/glm-cutoff.ts [--golden-dir DIR] [--points 0,4,11] [NAME]
 * (NAME defaults to ovarian-logistic_regression_rhs; its frozen values are kept out of the repo for
 * size: DIR is where scripts/golden/stan.py wrote them, test/fixtures/stan/golden by default).
 * Reads the program from ../shared/data/posteriordb.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import '../../ts/backends/registry.js';
import { valueAndGrad } from '../../ts/core/autodiff.js';
import type { Tensor } from '../../ts/core/tensor.js';
import { scalar, tensor } from '../../ts/ops/creation.js';
import { fromStan, type StanModel } from '../../ts/stan/model.js';
import type { Golden } from '../../test/unit/stan-golden-compare.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const PDB = [join(ROOT, '..', 'shared'), join(ROOT, '..', '..', 'shared')].map((s) => join(s, 'data', 'posteriordb')).find((p) => existsSync(p));
const { values, positionals } = parseArgs({
  options: {
    'golden-dir': { type: 'string', default: join(ROOT, 'test', 'fixtures', 'stan', 'golden') },
    points: { type: 'string', default: '0,4,8,11,16' },
  },
  allowPositionals: true,
});
const name = positionals[0] ?? 'ovarian-logistic_regression_rhs';
const goldenFile = join(values['golden-dir'], `${name}.json`);
if (PDB === undefined || !existsSync(goldenFile)) {
  console.log(`bench/stan/glm-cutoff.ts: needs ../shared/data/posteriordb and ${goldenFile} (scripts/golden/stan.py ${name})`);
  process.exit(0);
}
const g = JSON.parse(readFileSync(goldenFile, 'utf8')) as Golden;
const code = readFileSync(join(PDB, name, 'model.stan'), 'utf8');
const data = JSON.parse(readFileSync(join(PDB, name, 'data.json'), 'utf8')) as { d: number; y: number[] } & Record<string, unknown>;
const GLM = 'y ~ bernoulli_logit_glm(x, beta0, beta);';
const DECL = 'real<lower=0> slab_df;';
if (!code.includes(GLM) || !code.includes(DECL)) throw new Error(`${name} is not the regularized-horseshoe logistic regression this script reads`);
const withStansError = code.replace(DECL, `${DECL}\n  vector[n] w_cutoff;`).replace(GLM, `${GLM}\n  target += dot_product(w_cutoff, beta0 + x * beta);`);
const exact = fromStan(code, data);

/**
 * d log p / dθ at one observation with sign s = ±1 (y = 1 or 0), exactly and as Stan's code has
 * it (above the cutoff Stan's is −exp(−y·θ), without the sign).
 */
function derivatives(theta: number, s: number): { exact: number; stan: number } {
  const yt = s * theta;
  const e = Math.exp(-yt);
  return { exact: s * (yt > 0 ? e / (1 + e) : 1 / (1 + Math.exp(yt))), stan: yt > 20 ? -e : yt < -20 ? s : (s * e) / (e + 1) };
}

/** The linear predictor β₀ + Xβ at unconstrained point u (beta0, z, tau, lambda, caux in Stan's layout). */
function linearPredictor(u: number[]): number[] {
  const d = data.d;
  const draw = {
    beta0: scalar(u[0]),
    z: tensor(u.slice(1, d + 1)),
    tau: scalar(Math.exp(u[d + 1])),
    lambda: tensor(u.slice(d + 2, 2 * d + 2).map(Math.exp)),
    caux: scalar(Math.exp(u[2 * d + 2])),
  };
  return Array.from((exact.generate(draw).f as Tensor).dataSync());
}

const gradient = (m: StanModel, u: number[]): number[] => Array.from(valueAndGrad((x: Tensor) => m.logDensityUnconstrained(x))(tensor(Float64Array.from(u)))[1].dataSync());
const rel = (a: number, b: number): number => Math.abs(a - b) / Math.max(1, Math.abs(a), Math.abs(b));

console.log(`${name}: fromStan's gradient against Stan's (worst relative difference)\n`);
console.log('| point | observations past \\|y·θ\\| > 20 | exact (varinf) | with Stan\'s cutoff added |');
console.log('| ---: | ---: | ---: | ---: |');
for (const i of values.points.split(',').map(Number)) {
  const u = g.points![i];
  const eta = linearPredictor(u);
  let past = 0;
  const w = eta.map((th, k) => {
    const s = data.y[k] === 1 ? 1 : -1;
    if (Math.abs(th) > 20) past++;
    const dv = derivatives(th, s);
    return dv.stan - dv.exact;
  });
  const plus = fromStan(withStansError, { ...data, w_cutoff: w });
  const worst = (gr: number[]): string => Math.max(...gr.map((x, j) => rel(x, g.grad![i]![j]))).toExponential(1);
  console.log(`| ${i + 1} | ${past} of ${eta.length} | ${worst(gradient(exact, u))} | ${worst(gradient(plus, u))} |`);
}
