/**
 * Moments of a one-dimensional tilted distribution p̂(f) ∝ N(f; m, v) · exp(α log p(y | f)) by
 * composite Simpson quadrature, for likelihoods without closed-form EP moments (logistic,
 * Student-t, or any likelihood raised to a power α ≠ 1).
 */

/** The normalizer and the first two moments of a tilted distribution. */
export interface TiltedMoments {
  /** log Ẑ = log ∫ N(f; m, v) p(y | f)^α df. */
  readonly logZ: number;
  /** The mean of p̂. */
  readonly mean: number;
  /** The variance of p̂. */
  readonly variance: number;
}

/** Where a likelihood changes fast: quadrature resolves [center − 40·width, center + 40·width] with steps of width/16. */
export interface LikelihoodFeature {
  /** Where the feature sits (0 for probit and logistic, the observation for Student-t). */
  readonly center: number;
  /** Its width (1 for probit and logistic, the noise scale for Student-t). */
  readonly width: number;
}

/** The cavity's range covered: ±12 standard deviations (the cavity bounds the tilted density, so the rest is below e^(−72)). */
const RANGE_SDS = 12;
/** Simpson steps per cavity standard deviation, and per likelihood feature width. */
const STEPS_PER_SCALE = 16;
const MAX_POINTS = 40001;

/**
 * Tilted moments by Simpson's rule on [m − 12√v, m + 12√v], with a finer piece where the
 * likelihood has a feature narrower than the cavity. Works in logs (the integrand is rescaled by
 * its largest value), so tiny normalizers do not underflow.
 * @param logLik f ↦ log p(y | f)
 * @example tiltedByQuadrature((f) => -Math.log1p(Math.exp(-f)), 0, 1, 1).logZ // log E[σ(f)] = log 0.5
 */
export function tiltedByQuadrature(
  logLik: (f: number) => number, m: number, v: number, alpha: number, feature?: LikelihoodFeature,
): TiltedMoments {
  const s = Math.sqrt(v);
  const lo = m - RANGE_SDS * s;
  const hi = m + RANGE_SDS * s;
  const fine = feature !== undefined && feature.width < s;
  const breaks = [lo];
  if (fine) {
    const a = feature.center - 40 * feature.width;
    const b = feature.center + 40 * feature.width;
    if (a > lo && a < hi) breaks.push(a);
    if (b > lo && b < hi) breaks.push(b);
  }
  breaks.push(hi);
  const xs: number[] = [];
  const ws: number[] = [];
  for (let p = 0; p + 1 < breaks.length; p++) {
    const a = breaks[p];
    const b = breaks[p + 1];
    const mid = 0.5 * (a + b);
    const inFeature = fine && Math.abs(mid - feature.center) < 40 * feature.width;
    const h0 = (inFeature ? feature.width : s) / STEPS_PER_SCALE;
    const k = Math.min(MAX_POINTS - 1, Math.max(2, 2 * Math.ceil((b - a) / h0 / 2)));
    const h = (b - a) / k;
    for (let j = 0; j <= k; j++) {
      // Simpson weights h/3·(1, 4, 2, …, 4, 1); a piece's first point is the previous piece's last.
      const w = ((j === 0 || j === k ? 1 : j % 2 === 1 ? 4 : 2) * h) / 3;
      if (j === 0 && p > 0) ws[ws.length - 1] += w;
      else {
        xs.push(a + j * h);
        ws.push(w);
      }
    }
  }
  const n = xs.length;
  const logw = new Float64Array(n);
  let top = -Infinity;
  for (let j = 0; j < n; j++) {
    const z = (xs[j] - m) / s;
    const lw = -0.5 * z * z + alpha * logLik(xs[j]);
    logw[j] = lw;
    if (lw > top) top = lw;
  }
  if (!Number.isFinite(top)) return { logZ: -Infinity, mean: NaN, variance: NaN };
  let z0 = 0;
  let z1 = 0;
  for (let j = 0; j < n; j++) {
    const e = ws[j] * Math.exp(logw[j] - top);
    z0 += e;
    z1 += e * (xs[j] - m);
  }
  const d = z1 / z0;
  let z2 = 0;
  for (let j = 0; j < n; j++) {
    const u = xs[j] - m - d;
    z2 += ws[j] * Math.exp(logw[j] - top) * u * u;
  }
  const logZ = Math.log(z0) + top - 0.5 * Math.log(2 * Math.PI * v);
  return { logZ, mean: m + d, variance: z2 / z0 };
}
