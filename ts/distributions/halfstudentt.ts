/** The half Student-t distribution (|X| for X ~ Student-t(ν, 0, σ)), brms's default scale prior. */
import { broadcastShapes, type Shape } from '../core/shape.js';
import type { Tensor } from '../core/tensor.js';
import { asTensor, type TensorLike } from '../ops/creation.js';
import { abs, add, div, exp, greater, lgamma, log, log1p, maximum, mul, square, sub, where } from '../ops/elementwise.js';
import { broadcastTo } from '../ops/shape.js';
import type { Key } from '../random/key.js';
import { invertCdf, studentTCdf } from './cdf.js';
import { nonnegative, positive, type Constraint } from './constraints.js';
import { batchOf, checkExpand, Distribution, params, type DistributionOptions } from './distribution.js';
import { StudentT } from './structured.js';
import { LOG_2, LOG_PI } from './util.js';

/**
 * The half Student-t: |X| for X ~ Student-t(ν, 0, σ), on x ≥ 0,
 *
 *   log p(x) = log 2 + log Γ((ν+1)/2) − log Γ(ν/2) − ½ log(νπ) − log σ − (ν+1)/2 · log(1 + (x/σ)²/ν);
 *   cdf F(x) = 2 F_ν(x/σ) − 1;  mean 2σ √(ν/π) Γ((ν+1)/2) / (Γ(ν/2)(ν − 1)) for ν > 1;
 *   variance σ²ν/(ν − 2) − mean² for ν > 2.
 *
 * Reparameterized (the absolute value of StudentT's reparameterized draw).
 * Shapes: batch = broadcast of df and scale; event scalar.
 * @example new HalfStudentT(3, 2.5).logProb(1) // brms's student_t(3, 0, 2.5) prior on a scale
 */
export class HalfStudentT extends Distribution {
  override readonly hasRsample = true;
  /** The degrees of freedom ν > 0. */
  readonly df: Tensor;
  /** The scale σ > 0 of the Student-t before folding. */
  readonly scale: Tensor;
  constructor(df: TensorLike, scale: TensorLike = 1, opts: DistributionOptions = {}) {
    const [nu, s] = params(df, scale);
    super(batchOf('HalfStudentT', nu, s), [], opts);
    this.df = nu;
    this.scale = s;
    this.checkParams([
      { name: 'df', value: nu, constraint: positive },
      { name: 'scale', value: s, constraint: positive },
    ]);
  }
  get support(): Constraint {
    return nonnegative;
  }
  protected paramLike(): Tensor {
    return this.scale;
  }
  override rsample(key: Key, sampleShape: Shape = []): Tensor {
    const t = new StudentT(broadcastTo(this.df, this.batchShape), 0, broadcastTo(this.scale, this.batchShape), { validateArgs: false });
    return abs(t.rsample(key, sampleShape));
  }
  protected logProbRaw(x: Tensor): Tensor {
    const nu = this.df;
    const z = div(x, this.scale);
    const c = sub(sub(lgamma(mul(add(nu, 1), 0.5)), lgamma(mul(nu, 0.5))), add(mul(add(log(nu), LOG_PI), 0.5), log(this.scale)));
    return add(sub(c, mul(mul(add(nu, 1), 0.5), log1p(div(square(z), nu)))), LOG_2);
  }
  /** P(X ≤ x) = 2 F_ν(x/σ) − 1 for x ≥ 0, 0 below (host-computed Student-t cdf; see studentTCdf). */
  cdf(x: TensorLike): Tensor {
    const v = maximum(params(x, this.scale)[0], 0);
    return sub(mul(studentTCdf(div(v, this.scale), this.df), 2), 1);
  }
  /** The quantile σ F_ν⁻¹((1 + p)/2), by bisection (not differentiable). */
  icdf(p: TensorLike): Tensor {
    const pt = params(p, this.scale)[0];
    const shape = broadcastShapes('HalfStudentT.icdf', pt.shape, this.batchShape);
    const q = broadcastTo(mul(add(pt, 1), 0.5), shape);
    return mul(this.scale, invertCdf((v) => studentTCdf(v, this.df), q, asTensor(0, pt), asTensor(Infinity, pt)));
  }
  /** 2σ √(ν/π) Γ((ν+1)/2) / (Γ(ν/2)(ν − 1)) for ν > 1, +∞ otherwise. */
  override get mean(): Tensor {
    const nu = this.df;
    const logM = sub(add(mul(sub(log(nu), LOG_PI), 0.5), lgamma(mul(add(nu, 1), 0.5))), add(lgamma(mul(nu, 0.5)), log(abs(sub(nu, 1)))));
    const m = mul(mul(exp(logM), this.scale), 2);
    return broadcastTo(where(greater(nu, 1), m, Infinity), this.batchShape);
  }
  /** σ²ν/(ν − 2) − mean² for ν > 2, +∞ for ν ≤ 2. */
  override get variance(): Tensor {
    const nu = this.df;
    const m = this.mean;
    const v = sub(div(mul(square(this.scale), nu), sub(nu, 2)), square(where(greater(nu, 1), m, 0)));
    return broadcastTo(where(greater(nu, 2), v, Infinity), this.batchShape);
  }
  expand(batchShape: Shape): HalfStudentT {
    checkExpand(this.name, this.batchShape, batchShape);
    return new HalfStudentT(broadcastTo(this.df, batchShape), broadcastTo(this.scale, batchShape), { validateArgs: false });
  }
}
