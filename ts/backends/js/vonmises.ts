/**
 * Von Mises kernels of the js backend: the CDF with its derivative in the concentration (for the
 * implicit reparameterization gradient, Figurnov, Mohamed & Mnih 2018) and the Best–Fisher
 * (1979) rejection sampler.
 *
 * CDF of the centered von Mises VM(0, κ) on [−π, π] (Hill 1977, ACM Algorithm 518):
 * - κ < CDF_SERIES_MAX: F(x) = ½ + x/(2π) + V₁/π from the backward recurrences
 *   Rₙ = 1 / (2n/κ + Rₙ₊₁), Vₙ = Rₙ (sin(nx)/n + Vₙ₊₁), started at n = p with Rₚ₊₁ = Vₚ₊₁ = 0,
 *   p = ⌈28 + κ/2 − 100/(κ + 5)⌉ terms (Hill's choice for ~12 digits; more here is harmless);
 * - κ ≥ CDF_SERIES_MAX: Hill's corrected normal approximation F = Φ(ξ) with
 *   z = √(2/π) sin(x/2) / i0e(κ), c = 24κ,
 *   ξ = z − z³ / ((c − 2z² − 16)/3 − (z⁴ + 7z²/4 + 167/2) / (c − 56 − z² + 3))².
 * ∂F/∂κ is the same computation in forward-mode dual numbers. The sample gradient of a centered
 * draw x is dx/dκ = −(∂F/∂κ)(x; κ) / p(x; κ), p(x; κ) = e^(κ(cos x − 1)) / (2π i0e(κ)).
 *
 * Sampler layout (extends ts/random/philox.ts's per-element convention): element i draws from
 * counters [i mod 2^32, t, TAG_VON_MISES, floor(i / 2^32)] for attempt t = 0, 1, ... < MAX_ATTEMPTS;
 * block t gives u = 2·(w0, w1) − 1 ∈ [−1, 1) and v = (w2, w3) ∈ [0, 1) (float64 uniforms).
 * With τ = 1 + √(1 + 4κ²), ρ = (τ − √(2τ)) / (2κ) (evaluated without cancellation as
 * 2κτ / ((√(1 + 4κ²) + 1)(τ + √(2τ)))), s = (1 + ρ²) / (2ρ):
 * z = cos(πu), w = (1 + s z) / (s + z), y = κ (s − w); accept when y(2 − y) ≥ v or
 * ln(y / v) + 1 ≥ y; the draw is sign(u)·acos(w) ∈ [−π, π]. κ = 0 gives πu (uniform) from block 0;
 * κ NaN or < 0 gives NaN; κ = +∞ gives 0.
 */
import type { CpuKernelTable } from '../backend.js';
import { philox4x32, u32PairToFloat64 } from '../../random/philox.js';
import { i0e, i1e } from './bessel.js';
import { mapBinary } from './elementwise.js';
import { erf } from './special.js';
import { MAX_ATTEMPTS } from './random.js';

/** The stream tag of the von Mises sampler ('VMIS'). */
export const TAG_VON_MISES = 0x564d4953;
/** Concentrations below this use Hill's series for the CDF; above, the corrected normal approximation. */
export const CDF_SERIES_MAX = 50;

const TWO_32 = 4294967296;
const w = new Uint32Array(4);

/** F(x; κ) and ∂F/∂κ for the centered von Mises, x ∈ [−π, π]. */
export interface CdfAndGrad {
  cdf: number;
  dcdf: number;
}

function cdfSeries(x: number, k: number): CdfAndGrad {
  const p = Math.ceil(28 + 0.5 * k - 100 / (k + 5));
  let r = 0;
  let dr = 0;
  let v = 0;
  let dv = 0;
  for (let n = p; n >= 1; n--) {
    const den = (2 * n) / k + r;
    const dden = (-2 * n) / (k * k) + dr;
    r = 1 / den;
    dr = -dden / (den * den);
    const m = Math.sin(n * x) / n + v;
    dv = dr * m + r * dv;
    v = r * m;
  }
  const cdf = 0.5 + x / (2 * Math.PI) + v / Math.PI;
  // Clipped values no longer depend on κ.
  if (cdf < 0) return { cdf: 0, dcdf: 0 };
  if (cdf > 1) return { cdf: 1, dcdf: 0 };
  return { cdf, dcdf: dv / Math.PI };
}

function cdfNormal(x: number, k: number): CdfAndGrad {
  const e0 = i0e(k);
  const de0 = i1e(k) - e0;
  const sh = Math.sqrt(2 / Math.PI) * Math.sin(0.5 * x);
  const z = sh / e0;
  const dz = (-sh * de0) / (e0 * e0);
  const z2 = z * z;
  const c = 24 * k;
  const num = z2 * z2 + 1.75 * z2 + 83.5;
  const dnum = (4 * z2 * z + 3.5 * z) * dz;
  const m = c - 53 - z2;
  const dm = 24 - 2 * z * dz;
  const d = (c - 2 * z2 - 16) / 3 - num / m;
  const dd = (24 - 4 * z * dz) / 3 - (dnum * m - num * dm) / (m * m);
  const xi = z - (z2 * z) / (d * d);
  const dxi = dz - (3 * z2 * dz) / (d * d) + (2 * z2 * z * dd) / (d * d * d);
  const cdf = 0.5 * (1 + erf(xi / Math.SQRT2));
  const pdf = Math.exp(-0.5 * xi * xi) / Math.sqrt(2 * Math.PI);
  return { cdf, dcdf: pdf * dxi };
}

/**
 * The CDF of VM(0, κ) at x (any real x: whole turns add whole units, as SciPy) and its derivative
 * in κ.
 * @example vonMisesCdf(0, 2).cdf // 0.5
 */
export function vonMisesCdf(x: number, k: number): CdfAndGrad {
  if (!(k >= 0) || Number.isNaN(x)) return { cdf: NaN, dcdf: NaN };
  const turns = Math.round(x / (2 * Math.PI));
  const y = x - 2 * Math.PI * turns;
  const r = k === 0 ? { cdf: 0.5 + y / (2 * Math.PI), dcdf: 0 } : k < CDF_SERIES_MAX ? cdfSeries(y, k) : cdfNormal(y, k);
  return { cdf: r.cdf + turns, dcdf: r.dcdf };
}

/** dx/dκ = −(∂F/∂κ) / p(x; κ) for a centered von Mises draw x ∈ [−π, π]; 0 where p underflows. */
export function vonMisesSampleGrad(k: number, x: number): number {
  if (!(k > 0) || !Number.isFinite(k) || Number.isNaN(x)) return k === 0 ? 0 : NaN;
  const { dcdf } = vonMisesCdf(x, k);
  const logP = k * (Math.cos(x) - 1) - Math.log(2 * Math.PI * i0e(k));
  const p = Math.exp(logP);
  return p > 0 ? -dcdf / p : 0;
}

/** One centered von Mises draw for element i (see the header for the counter layout). */
export function vonMisesElement(k: number, i: number, k0: number, k1: number): number {
  if (!(k >= 0)) return NaN;
  if (k === Infinity) return 0;
  const c0 = i >>> 0;
  const c3 = Math.floor(i / TWO_32) >>> 0;
  if (k === 0) {
    philox4x32(c0, 0, TAG_VON_MISES, c3, k0, k1, w);
    return Math.PI * (2 * u32PairToFloat64(w[0], w[1]) - 1);
  }
  const q = Math.sqrt(1 + 4 * k * k);
  const tau = 1 + q;
  const rho = (2 * k * tau) / ((q + 1) * (tau + Math.sqrt(2 * tau)));
  const s = (1 + rho * rho) / (2 * rho);
  for (let t = 0; t < MAX_ATTEMPTS; t++) {
    philox4x32(c0, t, TAG_VON_MISES, c3, k0, k1, w);
    const u = 2 * u32PairToFloat64(w[0], w[1]) - 1;
    const v = u32PairToFloat64(w[2], w[3]);
    const z = Math.cos(Math.PI * u);
    const wv = (1 + s * z) / (s + z);
    const y = k * (s - wv);
    if (y * (2 - y) >= v || Math.log(y / v) + 1 >= y) {
      const a = Math.acos(Math.min(1, Math.max(-1, wv)));
      return u < 0 ? -a : a;
    }
  }
  return NaN;
}

/** The js kernels vonMisesSampleGrad and randomVonMises. */
export const VON_MISES: CpuKernelTable = {
  vonMisesSampleGrad: ([k, x], [out]) => mapBinary(vonMisesSampleGrad, k, x, out),
  randomVonMises: ([k], [out], { key }) => {
    const c = k.data;
    const o = out.data;
    for (let i = 0; i < o.length; i++) o[i] = vonMisesElement(c[i], i, key[0], key[1]);
  },
};
