/** k-means++ seeding (Arthur & Vassilvitskii 2007) from a key, then Lloyd iterations. */
import { ValueError } from '../../core/errors.js';
import { RowDesign } from './design.js';
import type { Key } from '../../random/key.js';
import { uniform } from '../../random/samplers.js';

/**
 * Hard cluster labels for the n × d rows of `x`: k-means++ seeding (each new center drawn with
 * probability ∝ squared distance to the nearest chosen one), then up to `iters` Lloyd iterations.
 * The assignment step is one matrix product per iteration (‖c_j‖² − 2 x_c·c_j on the centered
 * data of `design`, made here when not given); ties between equidistant centers may then resolve
 * differently from a point-by-point loop.
 * @example const labels = kmeansPlusPlus(Float64Array.from(points.flat()), n, 2, 3, key(0)); // Int32Array [n]
 */
export function kmeansPlusPlus(x: Float64Array, n: number, d: number, k: number, key: Key, iters = 20, design?: RowDesign): Int32Array {
  if (k > n) throw new ValueError(`kmeans: k = ${k} components but only ${n} points`);
  const u = uniform(key, [k]).dataSync();
  const centers = new Float64Array(k * d);
  const d2 = new Float64Array(n).fill(Infinity);
  let c = Math.min(n - 1, Math.floor(u[0] * n));
  for (let j = 0; j < k; j++) {
    centers.set(x.subarray(c * d, c * d + d), j * d);
    let total = 0;
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let e = 0; e < d; e++) {
        const t = x[i * d + e] - centers[j * d + e];
        s += t * t;
      }
      if (s < d2[i]) d2[i] = s;
      total += d2[i];
    }
    if (j + 1 === k) break;
    // Next center: inverse-CDF of d2 at u·Σd2 (all-zero distances: fall back to uniform).
    let target = u[j + 1] * total;
    c = total > 0 ? -1 : Math.min(n - 1, Math.floor(u[j + 1] * n));
    if (total > 0) {
      for (let i = 0; i < n; i++) {
        target -= d2[i];
        if (target <= 0 && d2[i] > 0) {
          c = i;
          break;
        }
      }
      for (let i = n - 1; c < 0 && i >= 0; i--) if (d2[i] > 0) c = i;
    }
  }
  const labels = new Int32Array(n);
  const counts = new Float64Array(k);
  const sums = new Float64Array(k * d);
  const own = design === undefined ? new RowDesign(x, n, d) : null;
  const des = design ?? (own as RowDesign);
  const lin = new Float64Array(d * k);
  const cn = new Float64Array(k);
  for (let it = 0; it <= iters; it++) {
    let changed = false;
    // Squared distances up to ‖x_c‖² (the same for every center): ‖c‖² − 2 x_c·c with c centered.
    cn.fill(0);
    for (let j = 0; j < k; j++)
      for (let e = 0; e < d; e++) {
        const c = centers[j * d + e] - des.shift[e];
        lin[e * k + j] = -2 * c;
        cn[j] += c * c;
      }
    const g = des.project(lin, null, k);
    for (let i = 0; i < n; i++) {
      let best = 0;
      let bestD = Infinity;
      for (let j = 0; j < k; j++) {
        const s = g[i * k + j] + cn[j];
        if (s < bestD) {
          bestD = s;
          best = j;
        }
      }
      if (labels[i] !== best) changed = true;
      labels[i] = best;
    }
    if (it > 0 && !changed) break;
    if (it === iters) break;
    sums.fill(0);
    counts.fill(0);
    for (let i = 0; i < n; i++) {
      counts[labels[i]]++;
      for (let e = 0; e < d; e++) sums[labels[i] * d + e] += x[i * d + e];
    }
    // An emptied cluster keeps its center.
    for (let j = 0; j < k; j++) if (counts[j] > 0) for (let e = 0; e < d; e++) centers[j * d + e] = sums[j * d + e] / counts[j];
  }
  own?.dispose();
  return labels;
}
