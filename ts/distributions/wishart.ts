/**
 * The Wishart distribution over symmetric positive-definite d×d matrices, with a reparameterized
 * Bartlett-decomposition sampler, and its closed-form KL divergence.
 */
import { ShapeError, fmtShape } from '../core/errors.js';
import { broadcastShapes, type Shape } from '../core/shape.js';
import type { Tensor } from '../core/tensor.js';
import { arange, eye, type TensorLike } from '../ops/creation.js';
import { add, digamma, lgamma, log, mul, sqrt, square, sub } from '../ops/elementwise.js';
import { cholesky, diagEmbed, diagonal, matmul, triangularSolve, tril } from '../ops/linalg.js';
import { sum } from '../ops/reduce.js';
import { broadcastTo, expandDims } from '../ops/shape.js';
import { split, type Key } from '../random/key.js';
import { greaterThan, lowerCholesky, positiveDefinite, type Constraint } from './constraints.js';
import { checkExpand, Distribution, oneOf, params, type DistributionOptions } from './distribution.js';
import { standardGamma } from './gamma.js';
import { registerKL } from './kl.js';
import type { MvnScale } from './multivariate.js';
import { LOG_2, LOG_PI, stdNormal } from './util.js';

/** The d terms a + (1 − j)/2, j = 1..d, on a trailing axis (a broadcast over the batch). */
function halfSteps(a: Tensor, d: number): Tensor {
  return sub(expandDims(a, -1), mul(arange(0, d, 1, a.dtype), 0.5));
}

/**
 * The multivariate log-gamma function log Γ_d(a) = d(d−1)/4 · log π + Σⱼ₌₁ᵈ log Γ(a + (1 − j)/2),
 * elementwise over a.
 * @example multigammaln(tensor(3), 2)
 */
export function multigammaln(a: Tensor, d: number): Tensor {
  return add(sum(lgamma(halfSteps(a, d)), -1), (d * (d - 1) * LOG_PI) / 4);
}

/**
 * The multivariate digamma ψ_d(a) = Σⱼ₌₁ᵈ ψ(a + (1 − j)/2), elementwise over a.
 * @example multidigamma(tensor([3]), 2) // ψ(3) + ψ(2.5)
 */
export function multidigamma(a: Tensor, d: number): Tensor {
  return sum(digamma(halfSteps(a, d)), -1);
}

/** 2 Σ log diag(L): log det of L Lᵀ. */
function logDetTril(l: Tensor): Tensor {
  return mul(sum(log(diagonal(l)), -1), 2);
}

/**
 * W_d(ν, S) with S = L Lᵀ (the scale matrix, given as `scaleTril`, `covariance` = S or
 * `precision` = S⁻¹) and ν > d − 1 degrees of freedom:
 * log p(X) = ((ν − d − 1)/2) log|X| − tr(S⁻¹X)/2 − (νd/2) log 2 − (ν/2) log|S| − log Γ_d(ν/2).
 * Event shape [d, d]. Draws by the Bartlett decomposition X = (LA)(LA)ᵀ, A lower triangular with
 * Aᵢᵢ = √cᵢ, cᵢ ~ χ²(ν − i) (i = 0..d−1, through the implicitly reparameterized gamma sampler) and
 * N(0, 1) below the diagonal, so `rsample` is differentiable in ν and S.
 * @example new Wishart(5, { covariance: eye(3) }).rsample(key(0))
 */
export class Wishart extends Distribution {
  override readonly hasRsample = true;
  /** Degrees of freedom ν > d − 1. */
  readonly df: Tensor;
  /** L [..., d, d], the Cholesky factor of the scale matrix S. */
  readonly scaleTril: Tensor;

  constructor(df: TensorLike, scale: MvnScale, opts: DistributionOptions = {}) {
    const form = oneOf('Wishart', 'scale', scale, ['scaleTril', 'covariance', 'precision']);
    const given = (scale as Record<string, TensorLike>)[form];
    const [m, nu] = params(given, df);
    const r = m.shape.length;
    if (r < 2 || m.shape[r - 1] !== m.shape[r - 2])
      throw new ShapeError(`Wishart: the scale matrix must have shape [..., d, d], got ${fmtShape(m.shape)}`);
    const d = m.shape[r - 1];
    super(broadcastShapes('Wishart', nu.shape, m.shape.slice(0, -2)), [d, d], opts);
    this.df = nu;
    this.checkParams([{ name: 'df', value: nu, constraint: greaterThan(d - 1) }]);
    if (form === 'scaleTril') {
      this.checkParams([{ name: 'scaleTril', value: m, constraint: lowerCholesky }]);
      this.scaleTril = m;
    } else if (form === 'covariance') {
      this.checkParams([{ name: 'covariance', value: m, constraint: positiveDefinite }]);
      this.scaleTril = cholesky(m);
    } else {
      this.checkParams([{ name: 'precision', value: m, constraint: positiveDefinite }]);
      // S = P⁻¹ = Lp⁻ᵀ Lp⁻¹, then its own Cholesky factor.
      const lpInv = triangularSolve(cholesky(m), eye(d, m.dtype), { lower: true });
      this.scaleTril = cholesky(matmul(lpInv, lpInv, { transA: true }));
    }
  }
  /** d, the matrix size. */
  get dim(): number {
    return this.eventShape[0];
  }
  get support(): Constraint {
    return positiveDefinite;
  }
  protected paramLike(): Tensor {
    return this.scaleTril;
  }
  /** The scale matrix S = L Lᵀ. */
  get scaleMatrix(): Tensor {
    return matmul(this.scaleTril, this.scaleTril, { transB: true });
  }
  override rsample(key: Key, sampleShape: Shape = []): Tensor {
    const d = this.dim;
    const [k1, k2] = split(key);
    const s = this.shape(sampleShape);
    const lead = s.slice(0, -2);
    // cᵢ = 2 Gamma((ν − i)/2, 1) ~ χ²(ν − i).
    const c = mul(standardGamma(k1, halfSteps(mul(this.df, 0.5), d), [...lead, d]), 2);
    const z = tril(stdNormal(k2, s, this.dtype), -1);
    const a = add(z, diagEmbed(sqrt(c)));
    const la = matmul(broadcastTo(this.scaleTril, s), a);
    return matmul(la, la, { transB: true });
  }
  protected logProbRaw(x: Tensor): Tensor {
    const d = this.dim;
    const lx = cholesky(x);
    const batch = broadcastShapes('Wishart.logProb', lx.shape.slice(0, -2), this.scaleTril.shape.slice(0, -2));
    const l = broadcastTo(this.scaleTril, [...batch, d, d]);
    // tr(S⁻¹X) = ‖L⁻¹ Lx‖²_F
    const m = triangularSolve(l, broadcastTo(lx, [...batch, d, d]), { lower: true });
    const tr = sum(square(m), [-2, -1]);
    const nu = this.df;
    const t1 = mul(mul(sub(nu, d + 1), 0.5), logDetTril(lx));
    const t2 = add(add(mul(nu, (d * LOG_2) / 2), mul(mul(nu, 0.5), logDetTril(this.scaleTril))), multigammaln(mul(nu, 0.5), d));
    return sub(sub(t1, mul(tr, 0.5)), t2);
  }
  /** E[X] = ν S. */
  override get mean(): Tensor {
    return broadcastTo(mul(expandDims(expandDims(this.df, -1), -1), this.scaleMatrix), this.shape());
  }
  /** Var(Xᵢⱼ) = ν (Sᵢⱼ² + Sᵢᵢ Sⱼⱼ). */
  override get variance(): Tensor {
    const s = this.scaleMatrix;
    const dg = diagonal(s);
    const outer = mul(expandDims(dg, -1), expandDims(dg, -2));
    return broadcastTo(mul(expandDims(expandDims(this.df, -1), -1), add(square(s), outer)), this.shape());
  }
  override entropy(): Tensor {
    const d = this.dim;
    const nu = this.df;
    const half = mul(nu, 0.5);
    // ((d+1)/2) log|S| + (d(d+1)/2) log 2 + log Γ_d(ν/2) − ((ν − d − 1)/2) ψ_d(ν/2) + νd/2
    const t1 = add(mul(logDetTril(this.scaleTril), (d + 1) / 2), (d * (d + 1) * LOG_2) / 2);
    const t2 = sub(multigammaln(half, d), mul(mul(sub(nu, d + 1), 0.5), multidigamma(half, d)));
    return broadcastTo(add(add(t1, t2), mul(nu, d / 2)), this.batchShape);
  }
  expand(batchShape: Shape): Wishart {
    checkExpand(this.name, this.batchShape, batchShape);
    const d = this.dim;
    return new Wishart(broadcastTo(this.df, batchShape), { scaleTril: broadcastTo(this.scaleTril, [...batchShape, d, d]) }, { validateArgs: false });
  }
}

registerKL(Wishart, Wishart, (p, q) => {
  // ((ν₁−ν₂)/2) ψ_d(ν₁/2) + (ν₂/2)(log|S₂| − log|S₁|) + (ν₁/2)(tr(S₂⁻¹S₁) − d) + log Γ_d(ν₂/2) − log Γ_d(ν₁/2)
  const d = p.dim;
  const batch = broadcastShapes('kl', p.batchShape, q.batchShape);
  const lq = broadcastTo(q.scaleTril, [...batch, d, d]);
  const tr = sum(square(triangularSolve(lq, broadcastTo(p.scaleTril, [...batch, d, d]), { lower: true })), [-2, -1]);
  const n1 = p.df;
  const n2 = q.df;
  const t1 = mul(mul(sub(n1, n2), 0.5), multidigamma(mul(n1, 0.5), d));
  const t2 = mul(mul(n2, 0.5), sub(logDetTril(q.scaleTril), logDetTril(p.scaleTril)));
  const t3 = mul(mul(n1, 0.5), sub(tr, d));
  const t4 = sub(multigammaln(mul(n2, 0.5), d), multigammaln(mul(n1, 0.5), d));
  return broadcastTo(add(add(t1, t2), add(t3, t4)), batch);
});
