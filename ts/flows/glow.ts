/**
 * Glow's layers (Kingma & Dhariwal 2018) for vectors: ActNorm, a per-coordinate affine map with
 * data-dependent initialization, and the invertible 1×1 mixing W = P·L·U with an LU factorization,
 * so log|det W| = Σ log|u_ii| costs O(d).
 */
import type { Tensor } from '../core/tensor.js';
import { ValueError, NotPositiveDefiniteError } from '../core/errors.js';
import { add, exp, log, mul, neg, sqrt, sub } from '../ops/elementwise.js';
import { full, tensor, zeros, eye } from '../ops/creation.js';
import { mean, sum } from '../ops/reduce.js';
import { broadcastTo, gather, reshape, transpose } from '../ops/shape.js';
import { matmul, tril, triangularSolve, diagEmbed } from '../ops/linalg.js';
import { affineFlow } from '../ops/flow.js';
import { indicesLike } from '../bijectors/transform.js';
import { split, type Key } from '../random/key.js';
import { normal, type FloatDType } from '../random/samplers.js';
import { isTracing } from '../compile/recorder.js';
import { checkFeatures } from './conditioner.js';
import { FlowTransform, type FlowLayer } from './core.js';

/** Parameters of {@link actNorm}: y = x·e^{logScale} + shift. */
export interface ActNormParams {
  /** The shift per coordinate, [d]. */
  shift: Tensor;
  /** The log of the scale per coordinate, [d]. */
  logScale: Tensor;
}

/** Options of {@link actNorm}. */
export interface ActNormOptions {
  /** Initial shift, a number or d numbers; default 0. */
  shift?: number | readonly number[];
  /** Initial log-scale, a number or d numbers; default 0. */
  logScale?: number | readonly number[];
}

class ActNormTransform extends FlowTransform {
  constructor(
    d: number,
    private readonly p: ActNormParams,
  ) {
    super('actNorm', d);
  }
  protected callForward(x: Tensor): [Tensor, Tensor] {
    return affineFlow(x, this.p.shift, this.p.logScale);
  }
  protected callInverse(y: Tensor): [Tensor, Tensor] {
    return affineFlow(y, this.p.shift, this.p.logScale, { inverse: true });
  }
}

/**
 * ActNorm: y = x ⊙ e^{logScale} + shift per coordinate, log|det J| = Σ logScale, on the fused
 * `affineFlow` kernel. `dataInit(x)` gives the parameters under which the inverse (density)
 * direction standardizes x (shift = mean, logScale = log sd per coordinate), Glow's
 * data-dependent initialization. Shapes: [..., d] → [..., d], ladj [...].
 * @example
 * const an = actNorm(3);
 * const p = an.dataInit(x); // x [n, 3]
 * an.bind(p).inverse(x); // each column has mean 0, sd 1
 */
export function actNorm(
  features: number,
  opts: ActNormOptions = {},
): FlowLayer<ActNormParams> & {
  /**
   * Glow's data-dependent initialization: the parameters under which the inverse (density)
   * direction standardizes the data x [n ≥ 2, d] (shift = column means, logScale = log of the
   * column sds + 10⁻⁶).
   */
  dataInit(x: Tensor): ActNormParams;
} {
  checkFeatures('actNorm', features);
  const vec = (v: number | readonly number[] | undefined, what: string, dtype: FloatDType): Tensor => {
    if (v === undefined) return zeros([features], dtype);
    if (typeof v === 'number') return full([features], v, dtype);
    if (v.length !== features) throw new ValueError(`actNorm: ${what} must have ${features} entries, got ${v.length}`);
    return tensor(v.slice(), [features], dtype);
  };
  return {
    name: 'actNorm',
    features,
    contextFeatures: 0,
    init: (_k: Key, dtype: FloatDType) => ({ shift: vec(opts.shift, 'shift', dtype), logScale: vec(opts.logScale, 'logScale', dtype) }),
    bind: (p: ActNormParams) => new ActNormTransform(features, p),
    dataInit(x: Tensor): ActNormParams {
      if (x.rank !== 2 || x.shape[1] !== features || x.shape[0] < 2) throw new ValueError(`actNorm.dataInit: data must be [n ≥ 2, ${features}], got [${x.shape.join(', ')}]`);
      const m = mean(x, 0);
      const v = mean(mul(sub(x, m), sub(x, m)), 0);
      return { shift: m, logScale: log(add(sqrt(v), 1e-6)) };
    },
  };
}

/** Parameters of {@link luMixing}: W = P·L·U + bias, L unit lower, U upper with diagonal e^{logDiag}. */
export interface LUMixingParams {
  /** Strictly-lower entries of L (the rest of the d×d array is ignored). */
  lower: Tensor;
  /** Strictly-upper entries of U (the rest is ignored). */
  upper: Tensor;
  /** log of U's diagonal. */
  logDiag: Tensor;
  /** The shift b of y = W·x + b, [d]. */
  bias: Tensor;
}

class LUTransform extends FlowTransform {
  private readonly L: Tensor;
  private readonly U: Tensor;
  constructor(
    d: number,
    private readonly p: LUMixingParams,
    private readonly perm: readonly number[],
    private readonly invPerm: readonly number[],
  ) {
    super('luMixing', d);
    const I = eye(d, p.lower.dtype);
    this.L = add(tril(p.lower, -1), I);
    // U = strict upper part of `upper` + diag(e^{logDiag}): transpose, keep strict lower, transpose back.
    this.U = add(transpose(tril(transpose(p.upper), -1)), diagEmbed(exp(p.logDiag)));
  }
  private ladjLike(x: Tensor): Tensor {
    return broadcastTo(sum(this.p.logDiag), x.shape.slice(0, -1));
  }
  protected callForward(x: Tensor): [Tensor, Tensor] {
    // W = P·L·U: rows of L·U permuted; y = x·Wᵀ + b.
    const W = gather(matmul(this.L, this.U), indicesLike(this.perm, x), 0);
    const flat = reshape(x, [-1, this.features]);
    const y = add(matmul(flat, W, { transB: true }), this.p.bias);
    return [reshape(y, x.shape), this.ladjLike(x)];
  }
  protected callInverse(y: Tensor): [Tensor, Tensor] {
    // A traced step cannot read values on the host; the eager path (and a failed compiled step rerun eagerly) checks.
    const diag = isTracing() ? null : this.p.logDiag.dataSync();
    const bad = diag === null ? -1 : Array.from(diag).findIndex((v) => !(Math.exp(v) > 0) || !Number.isFinite(Math.exp(v)));
    if (diag !== null && bad >= 0) throw new NotPositiveDefiniteError(`luMixing: U's diagonal entry ${bad} is exp(${diag[bad]}) = ${Math.exp(diag[bad])}, so W = P·L·U is not invertible; keep logDiag within ±700`);
    // Solve W x = y − b column-wise: L·U·x = Pᵀ(y − b).
    const v = transpose(sub(reshape(y, [-1, this.features]), this.p.bias));
    const pv = gather(v, indicesLike(this.invPerm, y), 0);
    const x = triangularSolve(this.U, triangularSolve(this.L, pv, { lower: true }), { lower: false });
    return [reshape(transpose(x), y.shape), neg(this.ladjLike(y))];
  }
}

/**
 * An invertible linear mixing of the coordinates (Glow's 1×1 convolution for vectors),
 * y = W·x + b with W = P·L·U: P a fixed random permutation, L unit lower-triangular, U upper with
 * diagonal e^{logDiag} (positive, so W is always invertible); log|det J| = Σ logDiag. The
 * inverse is two triangular solves. Starts near the identity (W = P plus small noise).
 * Shapes: [..., d] → [..., d], ladj [...].
 * @example
 * const mix = luMixing(4, { seed: 1 });
 * const [y, ladj] = mix.bind(mix.init(key(0), 'float64')).forwardAndLadj(x);
 */
export function luMixing(features: number, opts: { seed?: number; initNoise?: number } = {}): FlowLayer<LUMixingParams> {
  checkFeatures('luMixing', features);
  // A fixed permutation from a small LCG, so the layer is reproducible from its options.
  const perm = Array.from({ length: features }, (_, i) => i);
  let s = (opts.seed ?? 0) * 2654435761 + 12345;
  for (let i = features - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2147483648;
    const j = s % (i + 1);
    [perm[i], perm[j]] = [perm[j], perm[i]];
  }
  const invPerm = new Array<number>(features);
  perm.forEach((v, i) => (invPerm[v] = i));
  const noise = opts.initNoise ?? 0.01;
  return {
    name: 'luMixing',
    features,
    contextFeatures: 0,
    init(k: Key, dtype: FloatDType): LUMixingParams {
      const [a, b] = split(k, 2);
      return {
        lower: normal(a, [features, features], { dtype, scale: noise }),
        upper: normal(b, [features, features], { dtype, scale: noise }),
        logDiag: zeros([features], dtype),
        bias: zeros([features], dtype),
      };
    },
    bind: (p: LUMixingParams) => new LUTransform(features, p, perm, invPerm),
  };
}
