/**
 * LKJCholesky: the Cholesky factor L of a correlation matrix C = L Lᵀ distributed as
 * LKJ(η), p(C) ∝ det(C)^(η−1) (Lewandowski, Kurowicka & Joe 2009).
 */
import { ValueError } from '../core/errors.js';
import type { Shape } from '../core/shape.js';
import type { Tensor } from '../core/tensor.js';
import { arange, type TensorLike } from '../ops/creation.js';
import { add, div, equal, lgamma, log, mul, sqrt, sub, where } from '../ops/elementwise.js';
import { diagEmbed, diagonal, tril } from '../ops/linalg.js';
import { sum } from '../ops/reduce.js';
import { broadcastTo, expandDims, pad, slice } from '../ops/shape.js';
import { split, type Key } from '../random/key.js';
import { corrCholesky, positive, type Constraint } from './constraints.js';
import { checkExpand, Distribution, params, type DistributionOptions } from './distribution.js';
import { Beta } from './gamma.js';
import { LOG_PI, stdNormal } from './util.js';
import { multigammaln } from './wishart.js';

/**
 * LKJCholesky(d, η) over d×d lower-triangular factors with unit-norm rows (support
 * `corrCholesky`). The map L ↦ C has Jacobian Πᵢ₌₂ᵈ Lᵢᵢ^(d−i), and det C = Πᵢ Lᵢᵢ², so
 * log p(L) = Σᵢ₌₂ᵈ (2η − 2 + d − i) log Lᵢᵢ − log c_d(η), with the normalizer (LKJ 2009, §3.2;
 * as in Stan's manual and NumPyro) log c_d(η) = ((d−1)/2) log π + log Γ_{d−1}(α − ½) − (d−1) log Γ(α),
 * α = η + (d−1)/2. Each off-diagonal correlation has the marginal (Cᵢⱼ + 1)/2 ~ Beta(β, β),
 * β = η − 1 + d/2.
 *
 * Draws by the onion method (LKJ 2009, §3.2) in Cholesky form: row i (i = 1..d−1, 0-based) is
 * (√yᵢ uᵢ, √(1 − yᵢ), 0, …) with yᵢ ~ Beta(i/2, η + (d − 2)/2 − (i − 1)/2) and uᵢ uniform on the
 * unit sphere in ℝⁱ; the Beta draws are implicitly reparameterized, so `rsample` is
 * differentiable in η.
 * @example new LKJCholesky(3, 2).sample(key(0), [10]) // [10, 3, 3]
 */
export class LKJCholesky extends Distribution {
  override readonly hasRsample = true;
  /** η > 0 (η = 1 is uniform over correlation matrices). */
  readonly concentration: Tensor;
  /** d, the matrix size. */
  readonly dim: number;

  constructor(dim: number, concentration: TensorLike = 1, opts: DistributionOptions = {}) {
    if (!Number.isInteger(dim) || dim < 2) throw new ValueError(`LKJCholesky: dim must be an integer >= 2, got ${dim}`);
    const [eta] = params(concentration);
    super(eta.shape, [dim, dim], opts);
    this.concentration = eta;
    this.dim = dim;
    this.checkParams([{ name: 'concentration', value: eta, constraint: positive }]);
  }
  get support(): Constraint {
    return corrCholesky;
  }
  protected paramLike(): Tensor {
    return this.concentration;
  }
  override rsample(key: Key, sampleShape: Shape = []): Tensor {
    const d = this.dim;
    const [k1, k2] = split(key);
    const s = this.shape(sampleShape);
    const lead = s.slice(0, -2);
    // Rows 1..d−1: y ~ Beta(i/2, η + (d−2)/2 − (i−1)/2).
    const i = arange(1, d, 1, this.dtype);
    const c1 = mul(i, 0.5);
    const c0 = sub(expandDims(this.concentration, -1), mul(sub(i, d - 1), 0.5));
    const yRows = new Beta(c1, c0, { validateArgs: false }).rsample(k1, sampleShape);
    const zeros = lead.map(() => 0);
    const y = pad(yRows, [...zeros, 1], [...zeros, 0]);
    // Directions: normal draws below the diagonal, each row normalized (row 0 is empty).
    const z = tril(stdNormal(k2, s, this.dtype), -1);
    const norm = sqrt(sum(mul(z, z), -1, true));
    const empty = equal(norm, 0);
    const u = div(z, where(empty, 1, norm));
    const off = mul(u, expandDims(sqrt(y), -1));
    return add(off, diagEmbed(sqrt(sub(1, y))));
  }
  protected logProbRaw(x: Tensor): Tensor {
    const d = this.dim;
    const diag = diagonal(x);
    const lead = diag.shape.slice(0, -1);
    const tail = slice(diag, [...lead.map(() => 0), 1], [...lead, d - 1]);
    // order_i = 2η − 2 + d − i for i = 2..d (1-based): 2η + d − 4, …, 2η − 2.
    const order = add(expandDims(mul(this.concentration, 2), -1), sub(d - 4, arange(0, d - 1, 1, this.dtype)));
    const unnorm = sum(mul(order, log(tail)), -1);
    return sub(unnorm, this.logNormalizer());
  }
  /** log c_d(η), the log normalizing constant. */
  logNormalizer(): Tensor {
    const dm1 = this.dim - 1;
    const alpha = add(this.concentration, 0.5 * dm1);
    return add(sub(multigammaln(sub(alpha, 0.5), dm1), mul(lgamma(alpha), dm1)), 0.5 * dm1 * LOG_PI);
  }
  expand(batchShape: Shape): LKJCholesky {
    checkExpand(this.name, this.batchShape, batchShape);
    return new LKJCholesky(this.dim, broadcastTo(this.concentration, batchShape), { validateArgs: false });
  }
}
