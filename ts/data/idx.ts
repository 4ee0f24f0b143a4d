/**
 * The IDX file format of LeCun's MNIST distribution (and Fashion-MNIST): a 4-byte magic number
 * `0x00 0x00 TYPE NDIMS`, then NDIMS big-endian uint32 sizes, then the elements in row-major order,
 * big-endian. TYPE: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64.
 * Files ending in `.gz` (or starting with the gzip magic 1f 8b) are gunzipped first.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { FormatError, ValueError } from '../core/errors.js';

/** Element types of IDX files, by their type code. */
export type IdxDType = 'uint8' | 'int8' | 'int16' | 'int32' | 'float32' | 'float64';

/** The typed array an IDX element type reads into. */
export type IdxArray = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

/** A parsed IDX file: element type, dimensions and the elements (native byte order). */
export interface IdxFile {
  /** The element type from the header. */
  dtype: IdxDType;
  /** Sizes, outermost first: [60000, 28, 28] for MNIST training images. */
  dims: number[];
  /** The elements, row-major. */
  data: IdxArray;
}

const TYPES: Record<number, { dtype: IdxDType; bytes: number }> = {
  0x08: { dtype: 'uint8', bytes: 1 },
  0x09: { dtype: 'int8', bytes: 1 },
  0x0b: { dtype: 'int16', bytes: 2 },
  0x0c: { dtype: 'int32', bytes: 4 },
  0x0d: { dtype: 'float32', bytes: 4 },
  0x0e: { dtype: 'float64', bytes: 8 },
};

/**
 * Parses the bytes of an IDX file (gunzipping them when they start with the gzip magic).
 * Errors name `what` (a path or a label) and say which field is wrong.
 * @example parseIdx(readFileSync('train-labels-idx1-ubyte')) // { dtype: 'uint8', dims: [60000], data }
 */
export function parseIdx(raw: Uint8Array, what = 'IDX data'): IdxFile {
  const bytes = raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b ? gunzip(raw, what) : raw;
  if (bytes.length < 4) throw new FormatError(`parseIdx: ${what} is ${bytes.length} bytes, shorter than the 4-byte magic number`);
  if (bytes[0] !== 0 || bytes[1] !== 0)
    throw new FormatError(`parseIdx: ${what} does not start with an IDX magic number (first bytes ${hex(bytes[0])} ${hex(bytes[1])}, expected 00 00)`);
  const type = TYPES[bytes[2]];
  if (type === undefined) throw new FormatError(`parseIdx: ${what} has unknown element type code ${hex(bytes[2])} (known: 08, 09, 0b, 0c, 0d, 0e)`);
  const ndims = bytes[3];
  const header = 4 + 4 * ndims;
  if (bytes.length < header) throw new FormatError(`parseIdx: ${what} ends inside its header (${ndims} dimensions need ${header} bytes, have ${bytes.length})`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  let count = 1;
  for (let i = 0; i < ndims; i++) {
    const d = view.getUint32(4 + 4 * i, false);
    dims.push(d);
    count *= d;
  }
  const need = header + count * type.bytes;
  if (bytes.length !== need)
    throw new FormatError(`parseIdx: ${what} has dims [${dims.join(', ')}] of ${type.dtype}, which need ${need} bytes, but it is ${bytes.length} bytes`);
  return { dtype: type.dtype, dims, data: readElements(view, header, count, type.dtype) };
}

/**
 * Reads an IDX file from disk (`.gz` or plain).
 * @example const { dims, data } = readIdx('/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz')
 */
export function readIdx(path: string): IdxFile {
  return parseIdx(new Uint8Array(readFileSync(path)), path);
}

/**
 * Encodes an IDX file (big-endian), the inverse of `parseIdx`; for tests and for writing subsets.
 * @example encodeIdx('uint8', [2, 2], new Uint8Array([0, 1, 2, 3]))
 */
export function encodeIdx(dtype: IdxDType, dims: readonly number[], data: ArrayLike<number>): Uint8Array {
  const code = Number(Object.keys(TYPES).find((c) => TYPES[Number(c)].dtype === dtype));
  const { bytes } = TYPES[code];
  const count = dims.reduce((a, b) => a * b, 1);
  if (data.length !== count) throw new ValueError(`encodeIdx: dims [${dims.join(', ')}] hold ${count} elements, data has ${data.length}`);
  const header = 4 + 4 * dims.length;
  const out = new Uint8Array(header + count * bytes);
  const view = new DataView(out.buffer);
  out[2] = code;
  out[3] = dims.length;
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  for (let i = 0; i < count; i++) {
    const o = header + i * bytes;
    const v = data[i];
    if (dtype === 'uint8') view.setUint8(o, v);
    else if (dtype === 'int8') view.setInt8(o, v);
    else if (dtype === 'int16') view.setInt16(o, v, false);
    else if (dtype === 'int32') view.setInt32(o, v, false);
    else if (dtype === 'float32') view.setFloat32(o, v, false);
    else view.setFloat64(o, v, false);
  }
  return out;
}

function readElements(view: DataView, off: number, n: number, dtype: IdxDType): IdxArray {
  // Single-byte types need no byte swapping: copy them in one go.
  if (dtype === 'uint8') return new Uint8Array(view.buffer.slice(view.byteOffset + off, view.byteOffset + off + n));
  if (dtype === 'int8') return new Int8Array(view.buffer.slice(view.byteOffset + off, view.byteOffset + off + n));
  if (dtype === 'int16') {
    const a = new Int16Array(n);
    for (let i = 0; i < n; i++) a[i] = view.getInt16(off + 2 * i, false);
    return a;
  }
  if (dtype === 'int32') {
    const a = new Int32Array(n);
    for (let i = 0; i < n; i++) a[i] = view.getInt32(off + 4 * i, false);
    return a;
  }
  if (dtype === 'float32') {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = view.getFloat32(off + 4 * i, false);
    return a;
  }
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = view.getFloat64(off + 8 * i, false);
  return a;
}

/** Gunzips `raw`, naming the file when the stream is corrupt or truncated. */
function gunzip(raw: Uint8Array, what: string): Uint8Array {
  try {
    return new Uint8Array(gunzipSync(raw));
  } catch (e) {
    throw new FormatError(`parseIdx: ${what} starts with the gzip magic but does not gunzip (${(e as Error).message}); the download may be truncated`, { cause: e });
  }
}

function hex(b: number): string {
  return b.toString(16).padStart(2, '0');
}
