/** The standard normal's log-density and log-cdf, accurate far into the lower tail (EP's probit site needs both). */
import { erf } from '../../backends/js/special.js';
import { erfcContinuedFraction } from '../../backends/js/special.js';

const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);
const LOG_SQRT_PI = 0.5 * Math.log(Math.PI);

/** log φ(z) = −z²/2 − ½ log 2π. */
export function logNormalPdf(z: number): number {
  return -0.5 * z * z - LOG_SQRT_2PI;
}

/** log erfc(x) for x ≥ 2 from the continued fraction (kept in logs: erfc underflows past x ≈ 27). */
function logErfcLarge(x: number): number {
  return -x * x - LOG_SQRT_PI - Math.log(erfcContinuedFraction(x));
}

/**
 * log Φ(z), the log of the standard normal cdf: from erf where Φ(z) ≥ Φ(−2√2), from the
 * continued fraction of erfc(−z/√2) below (finite down to z ≈ −1e150).
 * @example logNormalCdf(-40) // ≈ −804.608
 */
export function logNormalCdf(z: number): number {
  const x = -z / Math.SQRT2;
  if (x >= 2) return Math.log(0.5) + logErfcLarge(x);
  if (x <= -2) return Math.log1p(-0.5 * Math.exp(logErfcLarge(-x)));
  return Math.log(0.5 * (1 + erf(z / Math.SQRT2)));
}

/** Φ(z), the standard normal cdf. */
export function normalCdf(z: number): number {
  return Math.exp(logNormalCdf(z));
}

/** φ(z)/Φ(z), the inverse Mills ratio, computed in logs so that it stays finite for very negative z. */
export function millsRatio(z: number): number {
  return Math.exp(logNormalPdf(z) - logNormalCdf(z));
}
