import { allocationError } from './errors.js';

/**
 * A tensor's element type. Bayesian models default to float64, neural ones to float32.
 * 'bfloat16' is a storage dtype for matrix products (float32's top 16 bits, rounded to nearest
 * even): matmul takes it with float32 accumulation and output, cast and the data-movement kernels
 * take it, every other kernel asks for a cast to float32 first. On the host its storage is a
 * Uint16Array of the bits; `dataSync`, `item` and `toArray` give the values.
 */
export type DType = 'float64' | 'float32' | 'int32' | 'bfloat16';

/** The typed array that backs a CPU tensor of each dtype (bfloat16: the bits). */
export type TypedArray = Float64Array | Float32Array | Int32Array | Uint16Array;

/** Maps a dtype to its typed-array class. */
export interface ArrayFor {
  float64: Float64Array;
  float32: Float32Array;
  int32: Int32Array;
  bfloat16: Uint16Array;
}

export const DTYPES: readonly DType[] = ['float64', 'float32', 'int32', 'bfloat16'];

/** Allocates a zero-filled typed array for `dtype`. */
export function allocArray(dtype: DType, size: number): TypedArray {
  switch (dtype) {
    case 'float64':
      return new Float64Array(size);
    case 'float32':
      return new Float32Array(size);
    case 'int32':
      return new Int32Array(size);
    case 'bfloat16':
      return new Uint16Array(size);
  }
}

/**
 * Allocates a zero-filled typed array for a tensor of `shape`; when the host cannot (more elements
 * than a typed array holds, or no memory), raises an `AllocationError` naming `op`, the shape and
 * the bytes asked for, instead of V8's bare `RangeError`.
 */
export function allocFor(op: string, dtype: DType, shape: readonly number[]): TypedArray {
  let n = 1;
  for (const d of shape) n *= d;
  try {
    return allocArray(dtype, n);
  } catch (e) {
    throw allocationError(op, shape, dtype, byteSize(dtype), e);
  }
}

/** The dtype of a typed array. */
export function dtypeOf(a: TypedArray): DType {
  if (a instanceof Float64Array) return 'float64';
  if (a instanceof Float32Array) return 'float32';
  if (a instanceof Uint16Array) return 'bfloat16';
  return 'int32';
}

export function isFloat(dtype: DType): boolean {
  return dtype !== 'int32';
}

/** Bytes per element. */
export function byteSize(dtype: DType): number {
  return dtype === 'float64' ? 8 : dtype === 'bfloat16' ? 2 : 4;
}

const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);

/** bfloat16 bits of numbers: rounded to float32, then to 8 significand bits, nearest even; NaN is 0x7fc0 (as PyTorch). */
export function toBfloat16(values: ArrayLike<number>, out: Uint16Array = new Uint16Array(values.length)): Uint16Array {
  for (let i = 0; i < values.length; i++) {
    F32[0] = values[i];
    const u = U32[0];
    out[i] = (u & 0x7fffffff) > 0x7f800000 ? 0x7fc0 : (u + 0x7fff + ((u >>> 16) & 1)) >>> 16;
  }
  return out;
}

/** The values of bfloat16 bits (exact in float32). */
export function fromBfloat16(bits: Uint16Array, out: Float32Array = new Float32Array(bits.length)): Float32Array {
  for (let i = 0; i < bits.length; i++) {
    U32[0] = bits[i] << 16;
    out[i] = F32[0];
  }
  return out;
}
