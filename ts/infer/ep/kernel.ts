/** Covariance functions for EP's Gaussian-process models. */
import { ShapeError, ValueError } from '../../core/errors.js';

/** A covariance function k(x, x′) on d-dimensional inputs. */
export interface Kernel {
  /** A name for messages. */
  readonly name: string;
  /** The n₁ × n₂ matrix K[i, j] = k(x₁ᵢ, x₂ⱼ) (inputs row-major, d columns). */
  matrix(x1: Float64Array, n1: number, x2: Float64Array, n2: number, d: number): Float64Array;
  /** k(x, x) for each of n rows. */
  diag(x: Float64Array, n: number, d: number): Float64Array;
}

/** Hyperparameters of {@link rbfKernel}. */
export interface RbfOptions {
  /** The signal variance σ² > 0. */
  readonly variance: number;
  /** The lengthscale ℓ > 0, one for all dimensions or one per dimension (ARD). */
  readonly lengthscale: number | readonly number[];
}

/**
 * The squared-exponential kernel k(x, x′) = σ² exp(−½ Σ_d (x_d − x′_d)² / ℓ_d²) (GPy's `RBF` and
 * GPML's covSEiso/covSEard use the same parameters).
 * @example const k = rbfKernel({ variance: 4, lengthscale: 3 });
 */
export function rbfKernel(options: RbfOptions): Kernel {
  const { variance, lengthscale } = options;
  if (!(variance > 0) || !Number.isFinite(variance)) throw new ValueError(`rbfKernel: variance must be a finite number > 0, got ${variance}`);
  const ls = typeof lengthscale === 'number' ? [lengthscale] : Array.from(lengthscale);
  for (const l of ls) if (!(l > 0) || !Number.isFinite(l)) throw new ValueError(`rbfKernel: lengthscale must be finite and > 0, got ${l}`);
  const inv = (d: number): Float64Array => {
    if (ls.length !== 1 && ls.length !== d) throw new ShapeError(`rbfKernel: ${ls.length} lengthscales for ${d}-dimensional inputs`);
    return Float64Array.from({ length: d }, (_, j) => 1 / (ls.length === 1 ? ls[0] : ls[j]));
  };
  return {
    name: 'rbf',
    matrix(x1, n1, x2, n2, d) {
      const w = inv(d);
      const k = new Float64Array(n1 * n2);
      for (let i = 0; i < n1; i++)
        for (let j = 0; j < n2; j++) {
          let r2 = 0;
          for (let c = 0; c < d; c++) {
            const t = (x1[i * d + c] - x2[j * d + c]) * w[c];
            r2 += t * t;
          }
          k[i * n2 + j] = variance * Math.exp(-0.5 * r2);
        }
      return k;
    },
    diag: (_x, n) => new Float64Array(n).fill(variance),
  };
}
