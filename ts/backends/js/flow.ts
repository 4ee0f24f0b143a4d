/**
 * The affine flow step, as the reference defines it (see `affineFlow` in ts/kernels/spec.ts): one
 * row of d elements at a time, each element in float64 and rounded once on the store, log|det J|
 * summed over the row's transformed elements in float64, in order.
 */
import { broadcastStrides, type Shape } from '../../core/shape.js';
import type { CpuKernel, CpuKernelTable } from '../backend.js';

/** sigmoid(s) without overflow: e^s / (1 + e^s) for negative s. */
export function stableSigmoid(s: number): number {
  if (s >= 0) return 1 / (1 + Math.exp(-s));
  const e = Math.exp(s);
  return e / (1 + e);
}

/** log sigmoid(s) = −softplus(−s) = min(s, 0) − log1p(e^−|s|), without overflow or cancellation. */
export function logSigmoid(s: number): number {
  return Math.min(s, 0) - Math.log1p(Math.exp(-Math.abs(s)));
}

/** Row offsets of an input of `inShape` broadcast to `outShape`: rows are the output's leading dims. */
function rowOffsets(inShape: Shape, outShape: Shape): { base: Float64Array; inner: number } {
  const st = broadcastStrides(inShape, outShape);
  const r = outShape.length - 1;
  let rows = 1;
  for (let i = 0; i < r; i++) rows *= outShape[i];
  const base = new Float64Array(rows);
  for (let b = 0; b < rows; b++) {
    let rem = b;
    let off = 0;
    for (let i = r - 1; i >= 0; i--) {
      off += (rem % outShape[i]) * st[i];
      rem = Math.floor(rem / outShape[i]);
    }
    base[b] = off;
  }
  return { base, inner: st[r] };
}

const affineFlow: CpuKernel<'affineFlow'> = (ins, [y, logdet], { gate, inverse }) => {
  const [x, shift, s, mask] = ins;
  const out = y.shape;
  const d = out[out.length - 1];
  const rows = logdet.data.length;
  const [ox, oh, os] = [x, shift, s].map((t) => rowOffsets(t.shape, out));
  const md = mask?.data;
  const ms = mask !== undefined && mask.shape[0] !== 1 ? 1 : 0;
  const [xd, hd, sd, yd] = [x.data, shift.data, s.data, y.data];
  for (let b = 0; b < rows; b++) {
    let acc = 0;
    for (let j = 0; j < d; j++) {
      const xv = xd[ox.base[b] + j * ox.inner];
      if (md !== undefined && md[j * ms] === 0) {
        yd[b * d + j] = xv;
        continue;
      }
      const h = hd[oh.base[b] + j * oh.inner];
      const sv = sd[os.base[b] + j * os.inner];
      if (gate === 'sigmoid') {
        // σ·x + (1 − σ)·shift with 1 − σ = sigmoid(−s), accurate where σ is near 1.
        yd[b * d + j] = stableSigmoid(sv) * xv + stableSigmoid(-sv) * h;
        acc += logSigmoid(sv);
      } else if (inverse) {
        yd[b * d + j] = (xv - h) * Math.exp(-sv);
        acc -= sv;
      } else {
        yd[b * d + j] = xv * Math.exp(sv) + h;
        acc += sv;
      }
    }
    logdet.data[b] = acc;
  }
};

export const FLOW: CpuKernelTable = { affineFlow };
