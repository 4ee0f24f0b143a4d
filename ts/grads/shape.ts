/**
 * Gradient rules of the shape kernels. Each is the adjoint linear map: reshape ↔ reshape,
 * transpose ↔ inverse transpose, slice ↔ pad, gather ↔ scatterAdd, broadcastTo ↔ unbroadcast,
 * diagonal ↔ diagEmbed, tril ↔ tril.
 */
import { diagEmbed, diagonal, tril } from '../ops/linalg.js';
import { gather, pad, reshape, scatterAdd, slice, transpose, unbroadcast } from '../ops/shape.js';
import type { GradTable } from './rule.js';

/** Rules of the shape kernels. */
export const SHAPE_GRADS: GradTable = {
  reshape: ([dy], [x]) => [reshape(dy, x.shape)],
  transpose: ([dy], _, __, { perm }) => {
    const inv = new Array<number>(perm.length);
    for (let i = 0; i < perm.length; i++) inv[perm[i]] = i;
    return [transpose(dy, inv)];
  },
  // Zeros where the slice did not look.
  slice: ([dy], [x], _, { begin, size }) => [pad(dy, begin, x.shape.map((d, i) => d - begin[i] - size[i]))],
  // The padding value is a constant: only the original block gets a cotangent.
  pad: ([dy], [x], _, { before }) => [slice(dy, before, x.shape)],
  // Repeated indices accumulate, which scatterAdd does.
  gather: ([dy], [x, idx], _, { axis }) => [scatterAdd(dy, idx, axis, x.shape[axis]), null],
  scatterAdd: ([dy], [, idx], _, { axis }) => [gather(dy, idx, axis), null],
  concat: ([dy], xs, _, { axis }) => {
    let off = 0;
    return xs.map((x) => {
      const begin = x.shape.map((_d, i) => (i === axis ? off : 0));
      off += x.shape[axis];
      return slice(dy, begin, x.shape);
    });
  },
  broadcastTo: ([dy], [x]) => [unbroadcast(dy, x.shape)],
  diagonal: ([dy], [x]) => {
    // diagEmbed gives [..., k, k] with k = min(m, n); pad the short side back to [..., m, n].
    const r = x.shape.length;
    const k = dy.shape[dy.shape.length - 1];
    const e = diagEmbed(dy);
    if (x.shape[r - 2] === k && x.shape[r - 1] === k) return [e];
    const after = x.shape.map((d, i) => (i >= r - 2 ? d - k : 0));
    return [pad(e, new Array<number>(r).fill(0), after)];
  },
  diagEmbed: ([dy]) => [diagonal(dy)],
  tril: ([dy], _, __, { k }) => [tril(dy, k)],
};
