/**
 * What the ranks of a data-parallel job must agree on before training: the same parameters (names,
 * shapes, dtypes), checked at start with the names of what differs, and the same starting values
 * (rank 0's, broadcast).
 */
import type { Tensor } from '../core/tensor.js';
import { tensor } from '../ops/creation.js';
import type { Communicator } from './communicator.js';
import { DistributedError } from './errors.js';

/**
 * Every rank's string, in rank order (one all-gather of the lengths, one of the UTF-8 bytes
 * padded to the longest).
 * @example const hosts = gatherStrings(comm, os.hostname());
 */
export function gatherStrings(comm: Communicator, s: string): string[] {
  const bytes = new TextEncoder().encode(s);
  const lens = comm.allGather(new Int32Array([bytes.length]));
  const width = Math.max(0, ...lens);
  const padded = new Uint8Array(width);
  padded.set(bytes);
  const all = comm.allGather(padded);
  const dec = new TextDecoder();
  return Array.from(lens, (n, r) => dec.decode(all.subarray(r * width, r * width + n)));
}

/** `name: dtype[shape]` per parameter, sorted by name. */
function signature(params: Record<string, Tensor>): string[] {
  return Object.keys(params)
    .sort()
    .map((n) => `${n}: ${params[n].dtype}[${params[n].shape.join(', ')}]`);
}

/**
 * Raises a `DistributedError` on every rank unless all ranks have the same parameter names, shapes
 * and dtypes; the message names the first rank that differs from rank 0 and the parameters that differ.
 * @example agreeOnSignature(comm, 'train', state.params);
 */
export function agreeOnSignature(comm: Communicator, site: string, params: Record<string, Tensor>): void {
  const mine = signature(params);
  const all = gatherStrings(comm, mine.join('\n')).map((s) => (s === '' ? [] : s.split('\n')));
  const ref = all[0];
  for (let r = 1; r < all.length; r++) {
    const other = all[r];
    if (other.join('\n') === ref.join('\n')) continue;
    const only0 = ref.filter((x) => !other.includes(x));
    const onlyR = other.filter((x) => !ref.includes(x));
    throw new DistributedError(
      `${site}: rank ${r} disagrees with rank 0 on the parameters (same model and data shapes on every rank?): rank 0 has ${only0.join('; ') || 'nothing else'}, rank ${r} has ${onlyR.join('; ') || 'nothing else'}`,
    );
  }
}

/**
 * Rank 0's parameter values on every rank (one broadcast of all of them, packed in name order).
 * @example const params = broadcastParams(comm, state.params);
 */
export function broadcastParams(comm: Communicator, params: Record<string, Tensor>): Record<string, Tensor> {
  if (comm.size === 1) return params;
  const names = Object.keys(params).sort();
  const total = names.reduce((a, n) => a + params[n].size, 0);
  const buf = new Float64Array(total);
  let o = 0;
  for (const n of names) {
    buf.set(params[n].dataSync(), o);
    o += params[n].size;
  }
  comm.broadcast(buf, 0);
  const out: Record<string, Tensor> = {};
  o = 0;
  for (const n of names) {
    const p = params[n];
    const v = buf.subarray(o, o + p.size);
    out[n] = tensor(p.dtype === 'float32' ? Float32Array.from(v) : v.slice(), p.shape, p.dtype);
    o += p.size;
  }
  return out;
}
