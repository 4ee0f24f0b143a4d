/**
 * Exact posteriors of low-dimensional models by brute-force quadrature on a grid, for checking EP:
 * the log evidence log ∫ p₀(w) Π p(yᵢ | w) dw, the posterior mean and covariance.
 */

/** The exact evidence, posterior mean and covariance (row-major) of a d-dimensional model (d ≤ 2). */
export interface GridPosterior {
  logZ: number;
  mean: number[];
  cov: number[];
}

/**
 * Integrates exp(logJoint(w)) over the box [lo, hi]^d with `points` nodes per axis (trapezoid;
 * the integrand vanishes at the box's edges, so this is spectrally accurate).
 */
export function gridPosterior(logJoint: (w: number[]) => number, d: 1 | 2, lo: number, hi: number, points: number): GridPosterior {
  const h = (hi - lo) / (points - 1);
  const nodes: number[][] = [];
  if (d === 1) for (let i = 0; i < points; i++) nodes.push([lo + i * h]);
  else for (let i = 0; i < points; i++) for (let j = 0; j < points; j++) nodes.push([lo + i * h, lo + j * h]);
  const lp = nodes.map(logJoint);
  const top = lp.reduce((a, b) => Math.max(a, b), -Infinity);
  let z = 0;
  const m = new Array<number>(d).fill(0);
  const s = new Array<number>(d * d).fill(0);
  nodes.forEach((w, k) => {
    const e = Math.exp(lp[k] - top);
    z += e;
    for (let a = 0; a < d; a++) {
      m[a] += e * w[a];
      for (let b = 0; b < d; b++) s[a * d + b] += e * w[a] * w[b];
    }
  });
  const mean = m.map((v) => v / z);
  const cov = s.map((v, k) => v / z - mean[Math.floor(k / d)] * mean[k % d]);
  return { logZ: Math.log(z * h ** d) + top, mean, cov };
}

/** log N(w; 0, s²) summed over the coordinates. */
export function logIsoNormal(w: number[], s: number): number {
  return w.reduce((a, v) => a - 0.5 * (v / s) ** 2 - Math.log(s * Math.sqrt(2 * Math.PI)), 0);
}
