/** Element types a tensor may hold. Bayesian models default to float64, neural ones to float32. */
export type DType = 'float64' | 'float32' | 'int32';

/** The typed array that backs a CPU tensor of each dtype. */
export type TypedArray = Float64Array | Float32Array | Int32Array;

/** Maps a dtype to its typed-array class. */
export interface ArrayFor {
  float64: Float64Array;
  float32: Float32Array;
  int32: Int32Array;
}

export const DTYPES: readonly DType[] = ['float64', 'float32', 'int32'];

/** Allocates a zero-filled typed array for `dtype`. */
export function allocArray(dtype: DType, size: number): TypedArray {
  switch (dtype) {
    case 'float64':
      return new Float64Array(size);
    case 'float32':
      return new Float32Array(size);
    case 'int32':
      return new Int32Array(size);
  }
}

/** The dtype of a typed array. */
export function dtypeOf(a: TypedArray): DType {
  if (a instanceof Float64Array) return 'float64';
  if (a instanceof Float32Array) return 'float32';
  return 'int32';
}

export function isFloat(dtype: DType): boolean {
  return dtype !== 'int32';
}

/** Bytes per element. */
export function byteSize(dtype: DType): number {
  return dtype === 'float64' ? 8 : 4;
}
