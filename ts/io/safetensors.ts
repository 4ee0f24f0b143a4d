/**
 * safetensors (https://github.com/huggingface/safetensors, format spec in its README): an 8-byte
 * little-endian header length N, a JSON header of N bytes mapping each tensor name to
 * {dtype, shape, data_offsets}, then the raw little-endian data. Pytrees are flattened to names
 * joined by '.', e.g. `{ enc: { w: T } }` ↦ `enc.w`; arrays use their index.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { ENGINE } from '../core/engine.js';
import { allocArray, type DType } from '../core/dtype.js';
import { ShapeError, ValueError } from '../core/errors.js';
import { sizeOf } from '../core/shape.js';
import { Tensor } from '../core/tensor.js';

const CODES: Record<DType, string> = { float64: 'F64', float32: 'F32', int32: 'I32', bfloat16: 'BF16' };
const DTYPES: Record<string, DType> = { F64: 'float64', F32: 'float32', I32: 'int32', BF16: 'bfloat16' };

/**
 * Flattens a pytree to dotted names.
 * @example flattenTree({ enc: [{ w }, { w: w2 }] }) // { 'enc.0.w': w, 'enc.1.w': w2 }
 */
export function flattenTree(tree: unknown, prefix = '', out: Record<string, Tensor> = {}): Record<string, Tensor> {
  if (tree instanceof Tensor) out[prefix] = tree;
  else if (Array.isArray(tree)) tree.forEach((v, i) => flattenTree(v, prefix ? `${prefix}.${i}` : String(i), out));
  else if (tree !== null && typeof tree === 'object')
    for (const k of Object.keys(tree).sort()) flattenTree((tree as Record<string, unknown>)[k], prefix ? `${prefix}.${k}` : k, out);
  return out;
}

/**
 * Serializes named tensors (or a pytree) to safetensors bytes, with optional string metadata.
 * @example const bytes = toSafetensors({ enc: { w, b } }, { epoch: '3' }); // tensors 'enc.w', 'enc.b'
 */
export function toSafetensors(tree: unknown, metadata: Record<string, string> = {}): Uint8Array {
  const flat = flattenTree(tree);
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  const parts: Uint8Array[] = [];
  for (const name of Object.keys(flat).sort()) {
    const t = flat[name];
    const data = t.storageSync();
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    header[name] = { dtype: CODES[t.dtype], shape: t.shape, data_offsets: [offset, offset + bytes.length] };
    parts.push(bytes);
    offset += bytes.length;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  // Pad the header with spaces to an 8-byte boundary so the data stays aligned.
  const pad = (8 - (json.length % 8)) % 8;
  if (pad > 0) json = new TextEncoder().encode(JSON.stringify(header) + ' '.repeat(pad));
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let p = 8 + json.length;
  for (const b of parts) {
    out.set(b, p);
    p += b.length;
  }
  return out;
}

/**
 * Parses safetensors bytes into named tensors and the metadata.
 * @example const { tensors, metadata } = fromSafetensors(bytes); tensors['enc.w'];
 */
export function fromSafetensors(bytes: Uint8Array): {
  /** The tensors by name (names as `saveSafetensors` wrote them: pytree paths joined with '.'). */
  tensors: Record<string, Tensor>;
  /** The file's `__metadata__` strings. */
  metadata: Record<string, string>;
} {
  if (bytes.length < 8) throw new ValueError('fromSafetensors: the file is shorter than its 8-byte header length');
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  if (8 + n > bytes.length) throw new ValueError(`fromSafetensors: header length ${n} exceeds the file size ${bytes.length}`);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  const base = 8 + n;
  const tensors: Record<string, Tensor> = {};
  let metadata: Record<string, string> = {};
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = info as unknown as Record<string, string>;
      continue;
    }
    const dtype = DTYPES[info.dtype];
    if (dtype === undefined) throw new ValueError(`fromSafetensors: tensor '${name}' has dtype ${info.dtype}; supported: F64, F32, I32, BF16`);
    const [b, e] = info.data_offsets;
    const size = sizeOf(info.shape);
    const arr = allocArray(dtype, size);
    const want = arr.byteLength;
    if (e - b !== want) throw new ShapeError(`fromSafetensors: tensor '${name}' of shape [${info.shape.join(', ')}] needs ${want} bytes, the file gives ${e - b}`);
    new Uint8Array(arr.buffer).set(bytes.subarray(base + b, base + e));
    tensors[name] = ENGINE.fromArray(arr, info.shape.slice());
  }
  return { tensors, metadata };
}

/**
 * Writes a pytree of tensors to a .safetensors file.
 * @example saveSafetensors('params.safetensors', params)
 */
export function saveSafetensors(path: string, tree: unknown, metadata: Record<string, string> = {}): void {
  writeFileSync(path, toSafetensors(tree, metadata));
}

/**
 * Reads a .safetensors file into named tensors.
 * @example const { tensors } = loadSafetensors('params.safetensors');
 */
export function loadSafetensors(path: string): {
  /** The tensors by name (names as `saveSafetensors` wrote them: pytree paths joined with '.'). */
  tensors: Record<string, Tensor>;
  /** The file's `__metadata__` strings. */
  metadata: Record<string, string>;
} {
  return fromSafetensors(new Uint8Array(readFileSync(path)));
}

/**
 * Loads tensors into the structure of `like` (a pytree), checking that every leaf is present with
 * the same shape and dtype; the error names the missing or mismatched tensor.
 * @example const params = loadInto(model.init(key(0)), loadSafetensors('params.safetensors').tensors);
 */
export function loadInto<T>(like: T, tensors: Record<string, Tensor>): T {
  const want = flattenTree(like);
  const got: Record<string, Tensor> = {};
  for (const [name, t] of Object.entries(want)) {
    const v = tensors[name];
    if (v === undefined) throw new ValueError(`loadInto: tensor '${name}' is missing from the checkpoint`);
    if (v.dtype !== t.dtype || v.shape.length !== t.shape.length || v.shape.some((d, i) => d !== t.shape[i]))
      throw new ShapeError(`loadInto: tensor '${name}' is ${v.dtype} [${v.shape.join(', ')}] in the checkpoint but ${t.dtype} [${t.shape.join(', ')}] in the model`);
    got[name] = v;
  }
  const rebuild = (x: unknown, prefix: string): unknown => {
    if (x instanceof Tensor) return got[prefix];
    if (Array.isArray(x)) return x.map((v, i) => rebuild(v, prefix ? `${prefix}.${i}` : String(i)));
    if (x !== null && typeof x === 'object') {
      const o: Record<string, unknown> = {};
      for (const k of Object.keys(x)) o[k] = rebuild((x as Record<string, unknown>)[k], prefix ? `${prefix}.${k}` : k);
      return o;
    }
    return x;
  };
  return rebuild(like, '') as T;
}
