/**
 * safetensors (https://github.com/huggingface/safetensors, format spec in its README): an 8-byte
 * little-endian header length N, a JSON header of N bytes mapping each tensor name to
 * {dtype, shape, data_offsets}, then the raw little-endian data. Pytrees are flattened to names
 * joined by '.', e.g. `{ enc: { w: T } }` ↦ `enc.w`; arrays use their index.
 */
import { readFileSync } from 'node:fs';
import { ENGINE } from '../core/engine.js';
import { allocArray, byteSize, type DType } from '../core/dtype.js';
import { FormatError, ShapeError, ValueError, fmtShape } from '../core/errors.js';
import { sizeOf } from '../core/shape.js';
import { Tensor } from '../core/tensor.js';
import { writeFileAtomic } from './atomic.js';

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

/** What a safetensors file holds. */
export interface SafetensorsContents {
  /** The tensors by name (names as `saveSafetensors` wrote them: pytree paths joined with '.'). */
  tensors: Record<string, Tensor>;
  /** The file's `__metadata__` strings. */
  metadata: Record<string, string>;
}

interface Entry {
  name: string;
  dtype: DType;
  shape: number[];
  begin: number;
  end: number;
}

/** One tensor's header entry, checked field by field; `at` names the reader and the file. */
function entry(at: string, name: string, info: unknown): Entry {
  const bad = (what: string): FormatError => new FormatError(`${at}: tensor '${name}' ${what}`);
  if (info === null || typeof info !== 'object' || Array.isArray(info)) throw bad(`has header entry ${JSON.stringify(info)}, not an object {dtype, shape, data_offsets}`);
  const { dtype: code, shape, data_offsets: off } = info as Record<string, unknown>;
  const dtype = typeof code === 'string' ? DTYPES[code] : undefined;
  if (dtype === undefined) throw bad(`has dtype ${JSON.stringify(code)}; supported: F64, F32, I32, BF16`);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0))
    throw bad(`has shape ${JSON.stringify(shape)}, not a list of non-negative integers`);
  if (!Array.isArray(off) || off.length !== 2 || !off.every((o) => Number.isSafeInteger(o) && (o as number) >= 0) || (off[0] as number) > (off[1] as number))
    throw bad(`has data_offsets ${JSON.stringify(off)}, not [begin, end] with 0 <= begin <= end`);
  const [begin, end] = off as [number, number];
  const want = sizeOf(shape as number[]) * byteSize(dtype);
  if (end - begin !== want) throw bad(`of ${code} shape ${fmtShape(shape as number[])} needs ${want} bytes, its data_offsets [${begin}, ${end}] give ${end - begin}`);
  return { name, dtype, shape: (shape as number[]).slice(), begin, end };
}

/**
 * Parses safetensors bytes into named tensors and the metadata. The header is validated as the
 * format's specification asks: JSON beginning with '{', each entry's dtype, shape and offsets,
 * sizes matching dtype × shape, and the entries covering the data section exactly, contiguous and
 * without overlap (a truncated or padded file is refused, as Python's `safetensors` refuses it).
 * `what` (a path) names the file in errors.
 */
export function fromSafetensors(bytes: Uint8Array, what = 'bytes'): SafetensorsContents {
  const at = `fromSafetensors(${what})`;
  if (bytes.length < 8) throw new FormatError(`${at}: the file is ${bytes.length} bytes, shorter than its 8-byte header length`);
  const n64 = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (n64 > BigInt(bytes.length - 8)) throw new FormatError(`${at}: header length ${n64} exceeds the ${bytes.length - 8} bytes after the length field`);
  const n = Number(n64);
  const text = new TextDecoder().decode(bytes.subarray(8, 8 + n));
  if (!text.startsWith('{')) throw new FormatError(`${at}: the header does not begin with '{' (starts ${JSON.stringify(text.slice(0, 16))}); not a safetensors file`);
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    throw new FormatError(`${at}: the ${n}-byte header is not valid JSON (${(e as Error).message})`, { cause: e });
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) throw new FormatError(`${at}: the header is not a JSON object`);
  const base = 8 + n;
  let metadata: Record<string, string> = {};
  const entries: Entry[] = [];
  for (const [name, info] of Object.entries(header)) {
    if (name !== '__metadata__') entries.push(entry(at, name, info));
    else if (info !== null && typeof info === 'object' && Object.values(info).every((v) => typeof v === 'string')) metadata = info as Record<string, string>;
    else throw new FormatError(`${at}: __metadata__ must map strings to strings, got ${JSON.stringify(info).slice(0, 80)}`);
  }
  // The data section must be indexed entirely: sorted by offset, each tensor starts where the last ended.
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let pos = 0;
  for (const e of entries) {
    if (e.begin !== pos)
      throw new FormatError(`${at}: tensor '${e.name}' starts at data offset ${e.begin}, expected ${pos} (${e.begin < pos ? 'it overlaps the previous tensor' : 'a gap precedes it'})`);
    pos = e.end;
  }
  if (base + pos !== bytes.length)
    throw new FormatError(`${at}: the header's tensors cover ${pos} data bytes but the file has ${bytes.length - base} after the header (${base + pos > bytes.length ? 'truncated' : 'trailing bytes'})`);
  const tensors: Record<string, Tensor> = {};
  for (const e of entries) {
    const arr = allocArray(e.dtype, sizeOf(e.shape));
    new Uint8Array(arr.buffer).set(bytes.subarray(base + e.begin, base + e.end));
    tensors[e.name] = ENGINE.fromArray(arr, e.shape);
  }
  return { tensors, metadata };
}

/** Writes a pytree of tensors to a .safetensors file, atomically (a crash mid-save leaves the old file). */
export function saveSafetensors(path: string, tree: unknown, metadata: Record<string, string> = {}): void {
  writeFileAtomic(path, toSafetensors(tree, metadata));
}

/** Reads a .safetensors file into named tensors. */
export function loadSafetensors(path: string): SafetensorsContents {
  return fromSafetensors(new Uint8Array(readFileSync(path)), path);
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
