/**
 * The regression factor y ~ N(X w, 1/τ) for observed y (N) and a constant design X (N × D), with
 * w a vector-Gaussian variable and τ a constant or a Gamma variable. The data enter only through
 * XᵀX, Xᵀy and yᵀy, computed once, so a sweep costs O(D²) at any N. With
 * R = E‖y − Xw‖² = yᵀy − 2 E[w]ᵀXᵀy + tr(XᵀX E[wwᵀ]), the messages are
 *   to w: Λ += E[τ] XᵀX, h += E[τ] Xᵀy;   to τ: shape += N/2, rate += R/2,
 * and E[log f] = −(N/2) log 2π + (N/2) E[log τ] − ½ E[τ] R.
 */
import type { GammaVariable } from './gamma.js';
import type { VmpFactor, VmpVariable } from './node.js';
import type { VectorGaussianVariable } from './vector-gaussian.js';
import { regressionStats } from '../cavi/blr.js';

const LOG_2PI = Math.log(2 * Math.PI);

/** @internal Made by `FactorGraph.linearGaussian`. */
export class LinearGaussianFactor implements VmpFactor {
  readonly variables: readonly VmpVariable[];
  private readonly xtx: Float64Array;
  private readonly xty: Float64Array;
  private readonly yty: number;
  private readonly ww: Float64Array;

  constructor(
    readonly name: string,
    x: Float64Array,
    y: Float64Array,
    private readonly n: number,
    private readonly w: VectorGaussianVariable,
    private readonly tau: number | GammaVariable,
  ) {
    const d = w.dim;
    this.variables = typeof tau === 'number' ? [w] : [w, tau];
    ({ xtx: this.xtx, xty: this.xty, yty: this.yty } = regressionStats(x, y, n, d));
    this.ww = new Float64Array(d * d);
  }

  private etau(): number {
    return typeof this.tau === 'number' ? this.tau : this.tau.mean[0];
  }

  /** E‖y − Xw‖². */
  private residual(): number {
    const { w, xtx, xty } = this;
    const d = w.dim;
    this.ww.fill(0);
    w.addSecond(0, 1, this.ww);
    let s = this.yty;
    for (let i = 0; i < d; i++) {
      s -= 2 * w.mean[i] * xty[i];
      for (let j = 0; j < d; j++) s += xtx[i * d + j] * this.ww[j * d + i];
    }
    return s;
  }

  sendTo(v: VmpVariable): void {
    if (v === this.w) {
      const t = this.etau();
      for (let i = 0; i < this.xtx.length; i++) this.w.prec[i] += t * this.xtx[i];
      for (let i = 0; i < this.xty.length; i++) this.w.h[i] += t * this.xty[i];
    } else if (v === this.tau) {
      const g = v as GammaVariable;
      g.shape[0] += this.n / 2;
      g.rate[0] += 0.5 * this.residual();
    }
  }

  expectedLog(): number {
    const elog = typeof this.tau === 'number' ? Math.log(this.tau) : this.tau.meanLog[0];
    return -0.5 * this.n * LOG_2PI + 0.5 * this.n * elog - 0.5 * this.etau() * this.residual();
  }
}
