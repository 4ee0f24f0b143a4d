/**
 * The SVGD update direction, as the reference defines it (see `svgdPhi` in ts/kernels/spec.ts):
 * pairwise squared distances computed directly, the median by sorting a copy of all n² of them,
 * then phi_i = (1/n) Σ_j K_ij (g_j + (2/h)(x_i − x_j)) with K_ij = exp(−D_ij/h).
 */
import type { CpuKernel, CpuKernelTable } from '../backend.js';

/** The median of `v` (sorted in place): the middle value, or the mean of the two middle values. */
function medianOf(v: Float64Array): number {
  v.sort();
  const m = v.length >> 1;
  return v.length % 2 === 1 ? v[m] : 0.5 * (v[m - 1] + v[m]);
}

/**
 * The median heuristic's bandwidth med(D) / log(n + 1) over all n² entries of D for the particles
 * `x`; 1 where the median is 0, NaN where a particle coordinate is not finite.
 */
export function medianBandwidth(dist: Float64Array, n: number, x: ArrayLike<number>): number {
  for (let i = 0; i < x.length; i++) if (!Number.isFinite(x[i])) return NaN;
  const h = medianOf(dist.slice()) / Math.log(n + 1);
  return h > 0 ? h : 1;
}

const svgdPhi: CpuKernel<'svgdPhi'> = ([x, g], [phi, hOut], { bandwidth }) => {
  const [n, d] = x.shape;
  const xd = x.data;
  const gd = g.data;
  const dist = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += (xd[i * d + k] - xd[j * d + k]) ** 2;
      dist[i * n + j] = s;
    }
  hOut.data[0] = bandwidth > 0 ? bandwidth : medianBandwidth(dist, n, xd);
  // Every backend uses h as stored in the output's dtype.
  const h = hOut.data[0];
  const acc = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    acc.fill(0);
    for (let j = 0; j < n; j++) {
      const kij = Math.exp(-dist[i * n + j] / h);
      for (let k = 0; k < d; k++) acc[k] += kij * (gd[j * d + k] + (2 / h) * (xd[i * d + k] - xd[j * d + k]));
    }
    for (let k = 0; k < d; k++) phi.data[i * d + k] = acc[k] / n;
  }
};

export const SVGD: CpuKernelTable = { svgdPhi };
