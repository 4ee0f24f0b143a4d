/**
 * Special functions in float64: erf, erfinv, lgamma, digamma, trigamma. They aim at ~1e-13
 * relative error over the real line where defined (except next to the zeros of lgamma and digamma
 * on the negative axis, where only absolute accuracy ~1e-15 holds). The Rust and CUDA backends port
 * these exact algorithms and constant tables, so each step names its formula and source.
 *
 * Sources: the series and continued fractions are Abramowitz & Stegun (A&S) 7.1.6, 7.1.14,
 * 6.1.33, 6.1.40, 6.3.14, 6.3.18, 6.4.12; DLMF 5.5.2/5.5.4/5.15.6 for reflection; Giles (2010)
 * "Approximating the erfinv function" (GPU Computing Gems) for the erfinv starting point. The
 * tables of ζ(k) − 1 and of ψ's Taylor coefficients at its positive root were evaluated with
 * `scipy.special.zetac(k)` and `(−1)^(k+1) scipy.special.zeta(k + 1, x0)`.
 */

const SQRT_PI = 1.7724538509055160273;
const TWO_OVER_SQRT_PI = 1.1283791670955125739;
const LOG_PI = 1.1447298858494001741;
const HALF_LOG_2PI = 0.91893853320467274178;
const EULER_GAMMA = 0.57721566490153286061;

/** ζ(k) − 1 for k = 2, 3, …, 31 (scipy.special.zetac). */
const ZETA_M1 = [
  0.6449340668482264, 0.2020569031595943, 0.08232323371113819, 0.03692775514336993, 0.01734306198444914,
  0.008349277381922827, 0.00407735619794434, 0.0020083928260822143, 0.0009945751278180853,
  0.0004941886041194645, 0.0002460865533080483, 0.00012271334757848915, 6.124813505870483e-5,
  3.058823630702049e-5, 1.528225940865187e-5, 7.637197637899763e-6, 3.81729326499984e-6,
  1.908212716553939e-6, 9.539620338727962e-7, 4.769329867878064e-7, 2.38450502727733e-7,
  1.1921992596531106e-7, 5.960818905125948e-8, 2.980350351465228e-8, 1.4901554828365043e-8,
  7.45071178983543e-9, 3.725334024788457e-9, 1.862659723513049e-9, 9.313274324196682e-10,
  4.656629065033784e-10,
];

/** Bernoulli numbers B2, B4, …, B18 for the Stirling-type asymptotic series (A&S 23.2). */
const BERNOULLI = [1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510, 43867 / 798];

/** Below this, lgamma/digamma/trigamma recur to it before using their asymptotic series. */
const ASYMPTOTIC_MIN = 10;

// ---------------------------------------------------------------- erf

/** erf(x) for 0 <= x < 2: A&S 7.1.6, erf x = 2x/√π e^(−x²) Σ (2x²)ⁿ / (1·3···(2n+1)); all terms positive. */
function erfSeries(x: number): number {
  const x2 = x * x;
  let term = 1;
  let sum = 1;
  for (let n = 1; n < 200; n++) {
    term *= (2 * x2) / (2 * n + 1);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return TWO_OVER_SQRT_PI * x * Math.exp(-x2) * sum;
}

/**
 * The continued fraction of A&S 7.1.14, f(x) = x + (1/2)/(x + 1/(x + (3/2)/(x + …))), by
 * modified Lentz, so that erfc x = e^(−x²)/(√π f(x)) for x ≥ 2 (and log erfc x = −x² − log √π − log f).
 */
export function erfcContinuedFraction(x: number): number {
  const tiny = 1e-300;
  let f = x;
  let c = x;
  let d = 0;
  for (let n = 1; n < 500; n++) {
    const a = n / 2;
    d = x + a * d;
    d = d === 0 ? 1 / tiny : 1 / d;
    c = x + a / c;
    if (c === 0) c = tiny;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return f;
}

/** erfc(x) for x >= 2 from the continued fraction. */
function erfcFraction(x: number): number {
  return Math.exp(-x * x) / SQRT_PI / erfcContinuedFraction(x);
}

/** erfc(x) for x >= 0: 1 − series below 2 (where erfc > 4e-3, so little is lost), the fraction above. */
function erfcPos(x: number): number {
  if (x < 2) return 1 - erfSeries(x);
  if (x > 27.3) return 0;
  return erfcFraction(x);
}

/**
 * The error function erf x = 2/√π ∫₀ˣ e^(−t²) dt. Series below |x| = 2 (A&S 7.1.6), 1 − erfc by
 * continued fraction above (A&S 7.1.14), ±1 beyond |x| = 6 (erfc 6 < 2.2e−17).
 * @example erf(0.5) // 0.5204998778130465
 */
export function erf(x: number): number {
  if (x !== x) return NaN;
  const a = Math.abs(x);
  let r: number;
  if (a < 2) r = erfSeries(a);
  else if (a < 6) r = 1 - erfcFraction(a);
  else r = 1;
  return x < 0 ? -r : a === 0 ? x : r;
}

/** Giles' single-precision erfinv polynomial (GPU Computing Gems, 2010): a ~1e−7 starting point. */
function erfinvGiles(x: number): number {
  let w = -Math.log((1 - x) * (1 + x));
  let p: number;
  if (w < 5) {
    w -= 2.5;
    p = 2.81022636e-8;
    p = 3.43273939e-7 + p * w;
    p = -3.5233877e-6 + p * w;
    p = -4.39150654e-6 + p * w;
    p = 0.00021858087 + p * w;
    p = -0.00125372503 + p * w;
    p = -0.00417768164 + p * w;
    p = 0.246640727 + p * w;
    p = 1.50140941 + p * w;
  } else {
    w = Math.sqrt(w) - 3;
    p = -0.000200214257;
    p = 0.000100950558 + p * w;
    p = 0.00134934322 + p * w;
    p = -0.00367342844 + p * w;
    p = 0.00573950773 + p * w;
    p = -0.0076224613 + p * w;
    p = 0.00943887047 + p * w;
    p = 1.00167406 + p * w;
    p = 2.83297682 + p * w;
  }
  return p * x;
}

/**
 * The inverse error function on [−1, 1] (±Inf at ±1, NaN outside). Giles' approximation refined
 * by Halley steps (two, more near ±1) on f(y) = erf y − x (f'' = −2y f', so the step is dy / (1 + y dy) with
 * dy = f/f'); above |x| = 0.5 the residual is taken as (1 − x) − erfc y, since 1 − x is exact there.
 * @example erfinv(0.5) // 0.4769362762044699
 */
export function erfinv(x: number): number {
  if (x !== x || x < -1 || x > 1) return NaN;
  if (x === 1) return Infinity;
  if (x === -1) return -Infinity;
  if (x === 0) return x;
  const a = Math.abs(x);
  let y = erfinvGiles(a);
  // Usually two steps; the polynomial is only fitted down to 1 − x ≈ 1e−7, so allow more near ±1.
  for (let i = 0; i < 12; i++) {
    const resid = a <= 0.5 ? erfSeries(y) - a : 1 - a - erfcPos(y);
    const dy = resid / (TWO_OVER_SQRT_PI * Math.exp(-y * y));
    const step = dy / (1 + y * dy);
    y -= step;
    if (Math.abs(step) <= 1e-15 * y) break;
  }
  return x < 0 ? -y : y;
}

// ---------------------------------------------------------------- gamma family

/** |sin(πx)| with the argument reduced exactly first, so it is accurate near the integers. */
function absSinPi(x: number): number {
  const r = Math.abs(x - Math.round(x));
  return r <= 0.25 ? Math.sin(Math.PI * r) : Math.cos(Math.PI * (0.5 - r));
}

/** cot(πx) with exact argument reduction (period 1). */
function cotPi(x: number): number {
  const r = x - Math.round(x);
  return 1 / Math.tan(Math.PI * r);
}

/** ln Γ(2 + z) for |z| <= 0.5: A&S 6.1.33 shifted, (1 − γ) z + Σ_{k≥2} (−1)ᵏ (ζ(k) − 1)/k zᵏ. */
function lgamma2p(z: number): number {
  let sum = 0;
  let zk = -z;
  for (let k = 2; k <= 31; k++) {
    zk *= -z;
    const t = (ZETA_M1[k - 2] / k) * zk;
    sum += t;
    if (Math.abs(t) < 1e-18 * Math.abs(sum)) break;
  }
  return (1 - EULER_GAMMA) * z + sum;
}

/** ln Γ(1 + z) for |z| <= 0.5: ln Γ(2 + z) − ln(1 + z). */
function lgamma1p(z: number): number {
  return lgamma2p(z) - Math.log1p(z);
}

/** Stirling's series (A&S 6.1.40) for x >= 10: (x − ½) ln x − x + ½ ln 2π + Σ B₂ₖ / (2k(2k−1) x^(2k−1)). */
function lgammaStirling(x: number): number {
  const r = 1 / x;
  const r2 = r * r;
  let s = 0;
  let p = r;
  for (let k = 1; k <= BERNOULLI.length; k++) {
    s += BERNOULLI[k - 1] / (2 * k * (2 * k - 1)) * p;
    p *= r2;
  }
  return (x - 0.5) * Math.log(x) - x + HALF_LOG_2PI + s;
}

/**
 * ln |Γ(x)|: series about 1 and 2 on [0.5, 2.5) (so the zeros at 1 and 2 keep full relative
 * accuracy), ln Γ(x) = ln Γ(1 + x) − ln x below, the downward recurrence ln Γ(x) = ln Γ(x − 1) + ln(x − 1)
 * up to 10, Stirling above. Negative x: (−0.5, 0) by the recurrence, else the reflection
 * ln|Γ(x)| = ln π − ln|sin πx| − ln Γ(1 − x) (DLMF 5.5.3). Poles (0, −1, −2, …) and ±Inf give +Inf.
 * @example lgamma(0.5) // 0.5723649429247001 (= ln √π)
 */
export function lgamma(x: number): number {
  if (x !== x) return NaN;
  if (x === Infinity || x === -Infinity) return Infinity;
  if (x <= 0 && x === Math.floor(x)) return Infinity;
  if (x < -0.5) return LOG_PI - Math.log(absSinPi(x)) - lgamma(1 - x);
  if (x < 0) return lgamma1p(x) - Math.log(-x);
  if (x < 0.5) return lgamma1p(x) - Math.log(x);
  if (x < 1.5) return lgamma1p(x - 1);
  if (x < 2.5) return lgamma2p(x - 2);
  if (x < ASYMPTOTIC_MIN) {
    // x − n lands in [1.5, 2.5) exactly (subtracting an integer from a double >= 2.5 here is exact).
    const n = Math.floor(x - 1.5);
    const y = x - n;
    let prod = 1;
    for (let i = 0; i < n; i++) prod *= y + i;
    return lgamma2p(y - 2) + Math.log(prod);
  }
  return lgammaStirling(x);
}

/** The positive root of ψ, x0 = 1.46163214496836234126…, as a double plus its remainder. */
const PSI_ROOT_HI = 1.4616321449683622;
const PSI_ROOT_LO = 9.549995429965697e-17;

/** Taylor coefficients of ψ at x0: ψ⁽ᵏ⁾(x0)/k! = (−1)^(k+1) ζ(k+1, x0), k = 1..25 (scipy.special.zeta). */
const PSI_ROOT_TAYLOR = [
  0.9676722454476214, -0.44276316898359214, 0.2584997609556512, -0.16394270544240658, 0.10782405069126239,
  -0.07219956125645476, 0.048804288164143145, -0.033161126474847376, 0.022597648232218125,
  -0.015424765904948968, 0.010538791616612182, -0.007204534386356875, 0.004926781395729858,
  -0.0033698016554393317, 0.00230512632673493, -0.0015769367714301987, 0.0010788252019162975,
  -0.000738070938996006, 0.0005049532658346026, -0.0003454680251063082, 0.00023635601564027086,
  -0.00016170622091974825, 0.00011063372768747429, -7.569179582195077e-5, 5.17857579522209e-5,
];

/** ψ near its root, |x − x0| <= 0.25: Σ cₖ tᵏ with t = x − x0 taken in two parts (relative accuracy at the root). */
function digammaNearRoot(x: number): number {
  const t = x - PSI_ROOT_HI - PSI_ROOT_LO;
  let s = 0;
  for (let k = PSI_ROOT_TAYLOR.length - 1; k >= 0; k--) s = s * t + PSI_ROOT_TAYLOR[k];
  return s * t;
}

/** Asymptotic ψ(x) for x >= 10 (A&S 6.3.18): ln x − 1/(2x) − Σ B₂ₖ / (2k x^(2k)). */
function digammaAsymptotic(x: number): number {
  const r2 = 1 / (x * x);
  let s = 0;
  let p = r2;
  for (let k = 1; k <= BERNOULLI.length; k++) {
    s += (BERNOULLI[k - 1] / (2 * k)) * p;
    p *= r2;
  }
  return Math.log(x) - 0.5 / x - s;
}

/**
 * The digamma function ψ(x) = d/dx ln Γ(x). A Taylor series about the positive root near it, the
 * recurrence ψ(x) = ψ(x + 1) − 1/x (A&S 6.3.5) up to 10 and the asymptotic series (A&S 6.3.18)
 * above; negative x by reflection ψ(x) = ψ(1 − x) − π cot πx (A&S 6.3.7). ψ(±0) = ∓Inf, negative
 * integers and −Inf give NaN, as scipy.special.psi.
 * @example digamma(1) // −0.5772156649015329 (−γ)
 */
export function digamma(x: number): number {
  if (x !== x || x === -Infinity) return NaN;
  if (x === Infinity) return Infinity;
  if (x === 0) return Object.is(x, -0) ? Infinity : -Infinity;
  if (x < 0) {
    if (x === Math.floor(x)) return NaN;
    return digamma(1 - x) - Math.PI * cotPi(x);
  }
  if (Math.abs(x - PSI_ROOT_HI) <= 0.25) return digammaNearRoot(x);
  let acc = 0;
  let y = x;
  while (y < ASYMPTOTIC_MIN) {
    acc -= 1 / y;
    y += 1;
  }
  return acc + digammaAsymptotic(y);
}

/** Asymptotic ψ'(x) for x >= 10 (A&S 6.4.12): 1/x + 1/(2x²) + Σ B₂ₖ / x^(2k+1). */
function trigammaAsymptotic(x: number): number {
  const r = 1 / x;
  const r2 = r * r;
  let s = 0;
  let p = r2 * r;
  for (let k = 1; k <= BERNOULLI.length; k++) {
    s += BERNOULLI[k - 1] * p;
    p *= r2;
  }
  return r + 0.5 * r2 + s;
}

/**
 * The trigamma function ψ'(x) = Σₙ 1/(x + n)². The recurrence ψ'(x) = ψ'(x + 1) + 1/x² up to 10 and
 * the asymptotic series (A&S 6.4.12) above (all terms positive, no cancellation); negative x by
 * reflection ψ'(x) = π² / sin² πx − ψ'(1 − x) (A&S 6.4.7). Poles (0, −1, …) give +Inf, −Inf gives NaN.
 * @example trigamma(1) // 1.6449340668482264 (π²/6)
 */
export function trigamma(x: number): number {
  if (x !== x || x === -Infinity) return NaN;
  if (x === Infinity) return 0;
  if (x <= 0) {
    if (x === Math.floor(x)) return Infinity;
    const s = absSinPi(x);
    return (Math.PI * Math.PI) / (s * s) - trigamma(1 - x);
  }
  let acc = 0;
  let y = x;
  while (y < ASYMPTOTIC_MIN) {
    acc += 1 / (y * y);
    y += 1;
  }
  return acc + trigammaAsymptotic(y);
}
