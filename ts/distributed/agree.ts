/**
 * What the ranks of a data-parallel job must agree on before training: the same parameters (names,
 * shapes, dtypes), checked at start with the names of what differs, and the same starting values
 * (rank 0's, broadcast).
 */
import { Tensor } from '../core/tensor.js';
import { leaves, mapLeaves } from '../core/tree.js';
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

/** `path: dtype[shape]` per tensor leaf of a pytree, in `leaves` order (object keys sorted). */
function signature(tree: unknown, path = '', out: string[] = []): string[] {
  if (tree instanceof Tensor) out.push(`${path}: ${tree.dtype}[${tree.shape.join(', ')}]`);
  else if (Array.isArray(tree)) tree.forEach((v, i) => signature(v, path === '' ? String(i) : `${path}.${i}`, out));
  else if (tree !== null && typeof tree === 'object')
    for (const k of Object.keys(tree).sort()) signature((tree as Record<string, unknown>)[k], path === '' ? k : `${path}.${k}`, out);
  return out;
}

/**
 * Raises a `DistributedError` on every rank unless all ranks have the same parameter names, shapes
 * and dtypes (`params`: a record of tensors or any pytree, named by dotted paths); the message names the first rank that differs from rank 0 and the parameters that differ.
 * @example agreeOnSignature(comm, 'train', state.params);
 */
export function agreeOnSignature(comm: Communicator, site: string, params: unknown): void {
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
 * Rank 0's parameter values on every rank (one broadcast of all of them, packed in `leaves` order):
 * a record of tensors or any pytree, returned in the same structure.
 * @example const params = broadcastParams(comm, state.params);
 */
export function broadcastParams<P>(comm: Communicator, params: P): P {
  if (comm.size === 1) return params;
  const ls = leaves(params);
  const buf = new Float64Array(ls.reduce((a, t) => a + t.size, 0));
  let o = 0;
  for (const t of ls) {
    buf.set(t.dataSync(), o);
    o += t.size;
  }
  comm.broadcast(buf, 0);
  o = 0;
  return mapLeaves(params, (p) => {
    const v = buf.subarray(o, (o += p.size));
    return tensor(p.dtype === 'float32' ? Float32Array.from(v) : v.slice(), p.shape, p.dtype);
  });
}
