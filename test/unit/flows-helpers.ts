/** Shared checks of the flow tests: the autodiff Jacobian's log-determinant and a parameter finite-difference check. */
import { grad, key, mul, normal, sum, tensor, tidy, valueAndGrad, add, type Tensor } from '../../ts/index.js';
import { leaves, mapLeaves } from '../../ts/core/tree.js';
import type { FlowTransform } from '../../ts/flows/index.js';

/** log|det A| of a dense n×n matrix (row-major) by elimination with partial pivoting. */
export function logAbsDet(a: Float64Array | number[], n: number): number {
  const m = Array.from(a);
  let acc = 0;
  for (let k = 0; k < n; k++) {
    let p = k;
    for (let i = k + 1; i < n; i++) if (Math.abs(m[i * n + k]) > Math.abs(m[p * n + k])) p = i;
    for (let j = 0; j < n; j++) [m[k * n + j], m[p * n + j]] = [m[p * n + j], m[k * n + j]];
    const piv = m[k * n + k];
    acc += Math.log(Math.abs(piv));
    for (let i = k + 1; i < n; i++) {
      const f = m[i * n + k] / piv;
      for (let j = k; j < n; j++) m[i * n + j] -= f * m[k * n + j];
    }
  }
  return acc;
}

/** Per-sample log|det ∂f(x)/∂x| from the autodiff Jacobian of f over x [B, d] (rows independent). */
export function autodiffLogDet(f: (x: Tensor) => Tensor, x: Tensor): number[] {
  const [B, d] = x.shape;
  const J = new Float64Array(B * d * d);
  for (let i = 0; i < d; i++) {
    const e = new Float64Array(d);
    e[i] = 1;
    const g = grad((u: Tensor) => sum(mul(f(u), tensor(e, [d]))))(x).dataSync();
    for (let b = 0; b < B; b++) for (let j = 0; j < d; j++) J[b * d * d + i * d + j] = g[b * d + j];
  }
  return Array.from({ length: B }, (_, b) => logAbsDet(J.subarray(b * d * d, (b + 1) * d * d), d));
}

/** Parameters moved off their (often zero) initial values so every path of the layer matters. */
export function perturb<P>(p: P, seed: number, scale = 0.3): P {
  return mapLeaves(p, (t, i) => add(t, normal(key(seed * 100 + i), t.shape, { dtype: 'float64', scale })));
}

/**
 * max relative error between the autodiff gradient of sum(y·w1) + sum(ladj·w2) in the parameters
 * and central differences of it, over every parameter entry.
 */
export function paramGradError<P>(bind: (p: P) => FlowTransform, p: P, x: Tensor, dir: 'forward' | 'inverse' = 'forward'): number {
  const [B, d] = x.shape;
  const w1 = normal(key(7), [B, d], { dtype: 'float64' });
  const w2 = normal(key(8), [B], { dtype: 'float64' });
  const obj = (q: P): Tensor => {
    const t = bind(q);
    const [y, l] = dir === 'forward' ? t.forwardAndLadj(x) : t.inverseAndLadj(x);
    return add(sum(mul(y, w1)), sum(mul(l, w2)));
  };
  const [, g] = valueAndGrad(obj)(p);
  const gl = leaves(g).map((t) => t.dataSync());
  const pl = leaves(p);
  let err = 0;
  pl.forEach((leaf, li) => {
    const base = leaf.dataSync() as Float64Array;
    for (let j = 0; j < base.length; j++) {
      const h = 1e-6 * Math.max(1, Math.abs(base[j]));
      const at = (dd: number): number =>
        tidy(() => {
          const c = base.slice();
          c[j] += dd;
          let k = 0;
          const q = mapLeaves(p, (t) => (k++ === li ? tensor(c, t.shape) : t));
          return obj(q).item();
        });
      const fd = (at(h) - at(-h)) / (2 * h);
      err = Math.max(err, Math.abs(gl[li][j] - fd) / Math.max(1, Math.abs(fd)));
    }
  });
  return err;
}

/** A seeded LCG so the data are the same everywhere. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s + 0.5) / 4294967296;
  };
}
export function normalDraw(r: () => number): number {
  return Math.sqrt(-2 * Math.log(r())) * Math.cos(2 * Math.PI * r());
}

/** Two interleaved half circles with N(0, 0.1²) noise, standardized-ish (sklearn's make_moons shape). */
export function moons(n: number, seed: number): Tensor {
  const r = rng(seed);
  const a = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    const t = Math.PI * r();
    const upper = i % 2 === 0;
    const x = upper ? Math.cos(t) : 1 - Math.cos(t);
    const y = upper ? Math.sin(t) : 0.5 - Math.sin(t);
    a[2 * i] = (x - 0.5) * 2 + 0.2 * normalDraw(r);
    a[2 * i + 1] = (y - 0.25) * 2 + 0.2 * normalDraw(r);
  }
  return tensor(a, [n, 2], 'float64');
}

