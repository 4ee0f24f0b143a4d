/**
 * The fused Cholesky-guide sample of the js reference backend (see `mvnReparam` in
 * ts/kernels/spec.ts): ε from random.ts's `fillNormal` for z's shape (randomNormal's draws), then
 * per batch row z = loc + L ε over L's lower triangle and log q = −½‖ε‖² − Σ log|L_ii| − (d/2) log 2π.
 * Sums accumulate in float64 and every step rounds to the dtype where the unfused kernels store
 * it (matmul; add; square, sum, mul; abs, log, sum; sub, sub), so the result equals
 * `add(loc, matmul(tril(L), ε))` and the log q chain bit for bit.
 */
import { broadcastStrides } from '../../core/shape.js';
import type { CpuKernel, CpuKernelTable } from '../backend.js';
import { fillNormal } from './random.js';
import { walk } from './shape.js';

/** (d/2) log 2π for event size d, as the unfused chain's scalar `0.5 * d * Math.log(2 * Math.PI)`. */
export const halfDLog2Pi = (d: number): number => 0.5 * d * Math.log(2 * Math.PI);

const mvnReparam: CpuKernel<'mvnReparam'> = ([loc, l], [z, logq], { key }) => {
  const float32 = z.dtype === 'float32';
  const r = float32 ? Math.fround : (v: number): number => v;
  const d = z.shape[z.shape.length - 1];
  const batch = z.shape.slice(0, -1);
  const eps = new Float64Array(z.data.length);
  // Drawn in the dtype, as randomNormal stores it, then held exactly in float64.
  const drawn = float32 ? new Float32Array(eps.length) : eps;
  fillNormal(key, drawn, float32);
  if (drawn !== eps) eps.set(drawn);
  const sl = broadcastStrides(loc.shape.slice(0, -1), batch).map((s) => s * d);
  const sL = broadcastStrides(l.shape.slice(0, -2), batch).map((s) => s * d * d);
  const [m, L, zo, qo] = [loc.data, l.data, z.data, logq.data];
  const c = r(halfDLog2Pi(d));
  let b = 0;
  walk(batch, sl, sL, 0, 0, (il, iL) => {
    const e0 = b * d;
    let sq = 0;
    let ld = 0;
    for (let i = 0; i < d; i++) {
      let acc = 0;
      const row = iL + i * d;
      for (let k = 0; k <= i; k++) acc += L[row + k] * eps[e0 + k];
      zo[e0 + i] = m[il + i] + r(acc);
      const e = eps[e0 + i];
      sq += r(e * e);
      ld += r(Math.log(Math.abs(L[row + i])));
    }
    qo[b] = r(r(r(sq) * -0.5) - r(ld)) - c;
    b++;
  });
};

/** The Cholesky-guide kernel, by name. */
export const MVN: CpuKernelTable = { mvnReparam };
