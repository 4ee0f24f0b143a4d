/** Inputs for EP's models: a matrix given as rows of numbers or as a 2-D tensor, read into row-major float64. */
import { ShapeError, ValueError } from '../../core/errors.js';
import type { Tensor } from '../../core/tensor.js';

/** An n × d matrix: an array of n rows of d numbers, or a 2-D tensor. */
export type MatrixLike = readonly ArrayLike<number>[] | Tensor;

/** A checked row-major float64 matrix. */
export interface HostMatrix {
  /** The entries, row-major. */
  readonly data: Float64Array;
  /** n. */
  readonly rows: number;
  /** d. */
  readonly cols: number;
}

/** Reads x into row-major float64, checking that it is rectangular and finite; `what` names the argument in errors. */
export function hostMatrix(x: MatrixLike, what: string): HostMatrix {
  let data: Float64Array;
  let rows: number;
  let cols: number;
  if (Array.isArray(x)) {
    const r = x as readonly ArrayLike<number>[];
    rows = r.length;
    cols = rows > 0 ? r[0].length : 0;
    data = new Float64Array(rows * cols);
    for (let i = 0; i < rows; i++) {
      if (r[i].length !== cols) throw new ShapeError(`${what}: row ${i} has ${r[i].length} entries, row 0 has ${cols}`);
      for (let j = 0; j < cols; j++) data[i * cols + j] = r[i][j];
    }
  } else {
    const t = x as Tensor;
    if (t.shape.length !== 2) throw new ShapeError(`${what}: expected a 2-D tensor (n × d), got shape [${t.shape.join(', ')}]`);
    [rows, cols] = t.shape;
    data = Float64Array.from(t.dataSync() as ArrayLike<number>);
  }
  for (let k = 0; k < data.length; k++)
    if (!Number.isFinite(data[k])) throw new ValueError(`${what}: entry [${Math.floor(k / cols)}, ${k % cols}] is ${data[k]}`);
  return { data, rows, cols };
}

/** Reads a vector of n targets, checking its length. */
export function hostVector(y: ArrayLike<number> | Tensor, n: number, what: string): Float64Array {
  const v = 'dataSync' in y ? Float64Array.from((y).dataSync() as ArrayLike<number>) : Float64Array.from(y);
  if (v.length !== n) throw new ShapeError(`${what}: expected ${n} entries (one per row of x), got ${v.length}`);
  return v;
}
