/** Dense linear algebra on the host for `fit` (d is the latent dimension: small). */
import type { Tensor } from '../../core/tensor.js';
import { tensor } from '../../ops/creation.js';


/** Cholesky factor of a symmetric d×d matrix (row-major), or null if not positive definite. */
export function choleskyHost(a: Float64Array, d: number): Float64Array | null {
  const l = new Float64Array(d * d);
  for (let i = 0; i < d; i++)
    for (let j = 0; j <= i; j++) {
      let s = a[i * d + j];
      for (let k = 0; k < j; k++) s -= l[i * d + k] * l[j * d + k];
      if (i === j) {
        if (!(s > 0)) return null;
        l[i * d + i] = Math.sqrt(s);
      } else l[i * d + j] = s / l[j * d + j];
    }
  return l;
}

/** A⁻¹ from the Cholesky factor L of A. */
export function invFromChol(l: Float64Array, d: number): Float64Array {
  // L⁻¹ by forward substitution, then A⁻¹ = L⁻ᵀ L⁻¹.
  const li = new Float64Array(d * d);
  for (let c = 0; c < d; c++)
    for (let i = c; i < d; i++) {
      let s = i === c ? 1 : 0;
      for (let k = c; k < i; k++) s -= l[i * d + k] * li[k * d + c];
      li[i * d + c] = s / l[i * d + i];
    }
  const inv = new Float64Array(d * d);
  for (let i = 0; i < d; i++)
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let k = i; k < d; k++) s += li[k * d + i] * li[k * d + j];
      inv[i * d + j] = s;
      inv[j * d + i] = s;
    }
  return inv;
}

export function diagTensor(v: Float64Array): Tensor {
  const d = v.length;
  const m = new Float64Array(d * d);
  for (let i = 0; i < d; i++) m[i * (d + 1)] = v[i];
  return tensor(m, [d, d]);
}

export function latentSds(cov: Float64Array): Float64Array {
  const d = Math.round(Math.sqrt(cov.length));
  return Float64Array.from({ length: d }, (_, i) => Math.sqrt(cov[i * (d + 1)]));
}

