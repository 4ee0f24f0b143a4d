/**
 * Likelihood factors for EP: each gives the tilted moments of N(f; m, v) · p(y | f)^α (closed
 * form where there is one, quadrature otherwise) and the predictive distribution of a new y given
 * a Gaussian latent N(f; m, v).
 */
import { ValueError } from '../../core/errors.js';
import { lgamma } from '../../backends/js/special.js';
import { logNormalCdf, millsRatio } from './normal.js';
import { tiltedByQuadrature, type TiltedMoments } from './quadrature.js';

/** A factorized likelihood p(y | f) = Π p(yᵢ | fᵢ) as EP sees it: one scalar latent fᵢ per site. */
export interface EpLikelihood {
  /** A name for messages ('probit', 'logistic', 'student-t'). */
  readonly name: string;
  /** Throws a `ValueError` naming `site` if a target is outside the likelihood's support (labels must be 0/1 or ±1). */
  checkTargets(y: ArrayLike<number>, site: string): void;
  /** log p(y | f). */
  logLik(y: number, f: number): number;
  /** log Ẑ, mean and variance of p̂(f) ∝ N(f; m, v) p(y | f)^α. */
  tilted(y: number, m: number, v: number, alpha: number): TiltedMoments;
  /**
   * The predictive of a new target given the latent's Gaussian N(m, v): for classifiers the
   * probability of the positive class, for regression the predictive mean of y.
   */
  predictMean(m: number, v: number): number;
  /** log p(y* | data) = log ∫ p(y* | f) N(f; m, v) df, the predictive log density of an observed y*. */
  predictLogDensity(y: number, m: number, v: number): number;
}

function checkBinary(name: string, y: ArrayLike<number>, site: string): void {
  for (let i = 0; i < y.length; i++) {
    const t = y[i];
    if (t !== 0 && t !== 1 && t !== -1)
      throw new ValueError(`${site}: the ${name} likelihood needs labels in {0, 1} (or ±1), got y[${i}] = ${t}`);
  }
}

/** Labels 0/1 or ±1 as a sign. */
const sign = (y: number): number => (y > 0 ? 1 : -1);

/**
 * The probit likelihood p(y | f) = Φ(y f) for y ∈ {−1, +1} (0 is read as −1). EP's moments are
 * closed form for α = 1 (Rasmussen & Williams 2006, eq. 3.58); other powers use quadrature.
 * @example epGp({ x, y, kernel: rbfKernel({ variance: 1, lengthscale: 1 }), likelihood: probitLikelihood() })
 */
export function probitLikelihood(): EpLikelihood {
  return {
    name: 'probit',
    checkTargets: (y, site) => { checkBinary('probit', y, site); },
    logLik: (y, f) => logNormalCdf(sign(y) * f),
    tilted(y, m, v, alpha) {
      const s = sign(y);
      if (alpha !== 1) return tiltedByQuadrature((f) => logNormalCdf(s * f), m, v, alpha, { center: 0, width: 1 });
      const root = Math.sqrt(1 + v);
      const z = (s * m) / root;
      const r = millsRatio(z);
      return { logZ: logNormalCdf(z), mean: m + (s * v * r) / root, variance: v - (v * v * r * (z + r)) / (1 + v) };
    },
    predictMean: (m, v) => Math.exp(logNormalCdf(m / Math.sqrt(1 + v))),
    predictLogDensity: (y, m, v) => logNormalCdf((sign(y) * m) / Math.sqrt(1 + v)),
  };
}

/** log σ(x) = −log(1 + e^(−x)), stable for both signs. */
function logSigmoid(x: number): number {
  return x >= 0 ? -Math.log1p(Math.exp(-x)) : x - Math.log1p(Math.exp(x));
}

/**
 * The logistic likelihood p(y | f) = σ(y f) = 1/(1 + e^(−y f)) for y ∈ {−1, +1} (0 is read as −1).
 * EP's moments and the predictive probability E[σ(f)] are computed by quadrature.
 * @example epLinear({ x, y, likelihood: logisticLikelihood(), priorScale: 2 })
 */
export function logisticLikelihood(): EpLikelihood {
  return {
    name: 'logistic',
    checkTargets: (y, site) => { checkBinary('logistic', y, site); },
    logLik: (y, f) => logSigmoid(sign(y) * f),
    tilted: (y, m, v, alpha) => tiltedByQuadrature((f) => logSigmoid(sign(y) * f), m, v, alpha, { center: 0, width: 1 }),
    predictMean: (m, v) => Math.exp(tiltedByQuadrature(logSigmoid, m, v, 1, { center: 0, width: 1 }).logZ),
    predictLogDensity: (y, m, v) => tiltedByQuadrature((f) => logSigmoid(sign(y) * f), m, v, 1, { center: 0, width: 1 }).logZ,
  };
}

/** Options of {@link studentTLikelihood}. */
export interface StudentTOptions {
  /** Degrees of freedom ν > 0 (4 by default; ν > 2 for a finite predictive variance). */
  readonly df?: number;
  /** The noise scale σ > 0. */
  readonly scale: number;
}

/**
 * The Student-t noise likelihood for robust regression, p(y | f) = t_ν(y; f, σ): heavy tails make
 * outliers count for little. Its EP sites may have negative precision, and cavities may turn
 * improper: the EP driver skips or damps such updates and records it in `warnings`.
 * @example epGp({ x, y, kernel, likelihood: studentTLikelihood({ df: 4, scale: 0.1 }) })
 */
export function studentTLikelihood(options: StudentTOptions): EpLikelihood {
  const nu = options.df ?? 4;
  const sigma = options.scale;
  if (!(nu > 0) || !Number.isFinite(nu)) throw new ValueError(`studentTLikelihood: df must be a finite number > 0, got ${nu}`);
  if (!(sigma > 0) || !Number.isFinite(sigma)) throw new ValueError(`studentTLikelihood: scale must be a finite number > 0, got ${sigma}`);
  const logNorm = lgamma((nu + 1) / 2) - lgamma(nu / 2) - 0.5 * Math.log(nu * Math.PI) - Math.log(sigma);
  const logLik = (y: number, f: number): number => {
    const r = (y - f) / sigma;
    return logNorm - ((nu + 1) / 2) * Math.log1p((r * r) / nu);
  };
  return {
    name: 'student-t',
    checkTargets(y, site) {
      for (let i = 0; i < y.length; i++)
        if (!Number.isFinite(y[i])) throw new ValueError(`${site}: the student-t likelihood needs finite targets, got y[${i}] = ${y[i]}`);
    },
    logLik,
    tilted: (y, m, v, alpha) => tiltedByQuadrature((f) => logLik(y, f), m, v, alpha, { center: y, width: sigma }),
    predictMean: (m) => m,
    predictLogDensity: (y, m, v) => tiltedByQuadrature((f) => logLik(y, f), m, v, 1, { center: y, width: sigma }).logZ,
  };
}
