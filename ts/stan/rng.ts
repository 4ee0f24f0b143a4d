/**
 * Stan's `_rng` functions for transformed data and generated quantities, drawn from a seeded JS
 * generator (they are not differentiated, so they run on plain numbers and build tensors at the end).
 */
import { tensor } from '../ops/creation.js';
import { StanSemanticError, type Loc } from './errors.js';
import type { Interpreter } from './interpreter.js';
import { INT, REAL, host, shapeOf, type V } from './values.js';

type Draw = (u: () => number, a: number[]) => number;

function normal(u: () => number): number {
  // Box–Muller.
  let r = 0;
  while (r === 0) r = u();
  return Math.sqrt(-2 * Math.log(r)) * Math.cos(2 * Math.PI * u());
}

function gamma(u: () => number, a: number): number {
  // Marsaglia–Tsang; a < 1 boosted.
  if (a < 1) return gamma(u, a + 1) * Math.pow(u() || 1e-300, 1 / a);
  const d = a - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    const x = normal(u);
    const v = (1 + c * x) ** 3;
    if (v <= 0) continue;
    const w = u();
    if (Math.log(w) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
  }
}

function poisson(u: () => number, l: number): number {
  if (l > 30) return Math.max(0, Math.round(l + Math.sqrt(l) * normal(u)));
  const L = Math.exp(-l);
  let k = 0;
  let p = 1;
  do {
    k++;
    p *= u();
  } while (p > L);
  return k - 1;
}

function binomial(u: () => number, n: number, p: number): number {
  let k = 0;
  for (let i = 0; i < n; i++) if (u() < p) k++;
  return k;
}

const DRAWS: Record<string, [Draw, boolean]> = {
  normal_rng: [(u, [m, s]) => m + s * normal(u), false],
  std_normal_rng: [(u) => normal(u), false],
  lognormal_rng: [(u, [m, s]) => Math.exp(m + s * normal(u)), false],
  cauchy_rng: [(u, [m, s]) => m + s * Math.tan(Math.PI * (u() - 0.5)), false],
  student_t_rng: [(u, [nu, m, s]) => m + (s * normal(u)) / Math.sqrt(gamma(u, nu / 2) / (nu / 2)), false],
  exponential_rng: [(u, [b]) => -Math.log(1 - u()) / b, false],
  gamma_rng: [(u, [a, b]) => gamma(u, a) / b, false],
  inv_gamma_rng: [(u, [a, b]) => b / gamma(u, a), false],
  beta_rng: [(u, [a, b]) => {
    const x = gamma(u, a);
    return x / (x + gamma(u, b));
  }, false],
  uniform_rng: [(u, [a, b]) => a + (b - a) * u(), false],
  bernoulli_rng: [(u, [p]) => (u() < p ? 1 : 0), true],
  bernoulli_logit_rng: [(u, [a]) => (u() < 1 / (1 + Math.exp(-a)) ? 1 : 0), true],
  binomial_rng: [(u, [n, p]) => binomial(u, n, p), true],
  binomial_logit_rng: [(u, [n, a]) => binomial(u, n, 1 / (1 + Math.exp(-a))), true],
  poisson_rng: [(u, [l]) => poisson(u, l), true],
  poisson_log_rng: [(u, [a]) => poisson(u, Math.exp(a)), true],
  neg_binomial_2_rng: [(u, [m, phi]) => poisson(u, gamma(u, phi) * (m / phi)), true],
  neg_binomial_2_log_rng: [(u, [e, phi]) => poisson(u, gamma(u, phi) * (Math.exp(e) / phi)), true],
};

function vectorized(name: string, f: Draw, isInt: boolean, u: () => number) {
  return (args: V[], loc: Loc): V => {
    const hs = args.map((a) => (typeof a.v === 'number' ? [a.v] : Array.from(host(a.v))));
    const shapes = args.map(shapeOf);
    const big = shapes.reduce((s, x, i) => (hs[i].length > hs[s].length ? i : s), 0);
    const n = hs[big].length;
    for (const h of hs) if (h.length !== 1 && h.length !== n) throw new StanSemanticError(loc, `${name}: argument sizes differ`);
    const out = Float64Array.from({ length: n }, (_, i) => f(u, hs.map((h) => (h.length === 1 ? h[0] : h[i]))));
    const scalarOut = args.every((a) => typeof a.v === 'number' || a.v.rank === 0);
    const ty = isInt ? INT : REAL;
    if (scalarOut) return { v: out[0], ty, dep: false };
    return { v: tensor(out, shapes[big]), ty: isInt ? { base: 'int', arr: 1 } : { base: args[big].ty.base === 'int' ? 'real' : args[big].ty.base, arr: args[big].ty.arr }, dep: false };
  };
}

/** Installs the `_rng` functions on an interpreter, drawing from `u`. */
export function installRng(I: Interpreter, u: () => number): void {
  I.rng = u;
  I.rngFunctions = {};
  for (const [name, [f, isInt]] of Object.entries(DRAWS)) I.rngFunctions[name] = vectorized(name, f, isInt, u);
  I.rngFunctions.categorical_rng = ([th]) => {
    const h = host(th.v as never);
    let r = u();
    for (let k = 0; k < h.length; k++) {
      r -= h[k];
      if (r < 0) return { v: k + 1, ty: INT, dep: false };
    }
    return { v: h.length, ty: INT, dep: false };
  };
}
