//! Exponentially scaled modified Bessel functions i0e, i1e and the von Mises CDF with its
//! derivative in the concentration, in float64: a port of ts/backends/js/bessel.ts and
//! ts/backends/js/vonmises.ts (same series, expansions and operation order, so the two backends
//! agree to rounding). The sampler's per-element draw lives in random.rs beside the other samplers.

use crate::special::erf;
use std::f64::consts::PI;

/// Below this |x|, the ascending series (A&S 9.6.10); above, the Hankel expansion (A&S 9.7.1).
const SERIES_MAX: f64 = 25.0;
/// 2^-54: a term below this fraction of the sum no longer changes it.
const EPS: f64 = 5.551_115_123_125_783e-17;
/// Concentrations below this use Hill's series for the CDF; above, the corrected normal approximation.
const CDF_SERIES_MAX: f64 = 50.0;

fn series_scaled(nu: u32, x: f64) -> f64 {
    let q = x * x / 4.0;
    let mut t = if nu == 0 { 1.0 } else { x / 2.0 };
    let mut s = t;
    let nu = nu as f64;
    for k in 1..500 {
        let k = k as f64;
        t *= q / (k * (k + nu));
        s += t;
        if t <= s * EPS {
            break;
        }
    }
    s * (-x).exp()
}

fn asymptotic_scaled(nu: u32, x: f64) -> f64 {
    if x == f64::INFINITY {
        return 0.0;
    }
    let mu = 4.0 * (nu * nu) as f64;
    let mut t = 1.0;
    let mut s = 1.0;
    for k in 1..200 {
        let j = (2 * k - 1) as f64;
        let r = -(mu - j * j) / (8.0 * k as f64 * x);
        // The expansion diverges once the ratio reaches 1: stop at the smallest term.
        if r.abs() >= 1.0 {
            break;
        }
        t *= r;
        s += t;
        if t.abs() <= s.abs() * EPS {
            break;
        }
    }
    s / (2.0 * PI * x).sqrt()
}

/// i0e(x) = e^(−|x|) I₀(x).
pub fn i0e(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    let a = x.abs();
    if a <= SERIES_MAX {
        series_scaled(0, a)
    } else {
        asymptotic_scaled(0, a)
    }
}

/// i1e(x) = e^(−|x|) I₁(x), odd in x.
pub fn i1e(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    let a = x.abs();
    let v = if a <= SERIES_MAX { series_scaled(1, a) } else { asymptotic_scaled(1, a) };
    if x.is_sign_negative() {
        -v
    } else {
        v
    }
}

/// Hill's backward recurrences for F(x; κ) and ∂F/∂κ (forward-mode dual numbers), κ < CDF_SERIES_MAX.
fn cdf_series(x: f64, k: f64) -> (f64, f64) {
    let p = (28.0 + 0.5 * k - 100.0 / (k + 5.0)).ceil() as i64;
    let (mut r, mut dr, mut v, mut dv) = (0.0, 0.0, 0.0, 0.0);
    let mut n = p;
    while n >= 1 {
        let nf = n as f64;
        let den = (2.0 * nf) / k + r;
        let dden = (-2.0 * nf) / (k * k) + dr;
        r = 1.0 / den;
        dr = -dden / (den * den);
        let m = (nf * x).sin() / nf + v;
        dv = dr * m + r * dv;
        v = r * m;
        n -= 1;
    }
    let cdf = 0.5 + x / (2.0 * PI) + v / PI;
    // Clipped values no longer depend on κ.
    if cdf < 0.0 {
        return (0.0, 0.0);
    }
    if cdf > 1.0 {
        return (1.0, 0.0);
    }
    (cdf, dv / PI)
}

/// Hill's corrected normal approximation and its derivative in κ, κ ≥ CDF_SERIES_MAX.
fn cdf_normal(x: f64, k: f64) -> (f64, f64) {
    let e0 = i0e(k);
    let de0 = i1e(k) - e0;
    let sh = (2.0 / PI).sqrt() * (0.5 * x).sin();
    let z = sh / e0;
    let dz = (-sh * de0) / (e0 * e0);
    let z2 = z * z;
    let c = 24.0 * k;
    let num = z2 * z2 + 1.75 * z2 + 83.5;
    let dnum = (4.0 * z2 * z + 3.5 * z) * dz;
    let m = c - 53.0 - z2;
    let dm = 24.0 - 2.0 * z * dz;
    let d = (c - 2.0 * z2 - 16.0) / 3.0 - num / m;
    let dd = (24.0 - 4.0 * z * dz) / 3.0 - (dnum * m - num * dm) / (m * m);
    let xi = z - (z2 * z) / (d * d);
    let dxi = dz - (3.0 * z2 * dz) / (d * d) + (2.0 * z2 * z * dd) / (d * d * d);
    let cdf = 0.5 * (1.0 + erf(xi / std::f64::consts::SQRT_2));
    let pdf = (-0.5 * xi * xi).exp() / (2.0 * PI).sqrt();
    (cdf, pdf * dxi)
}

/// F(x; κ) of the centered von Mises (whole turns add whole units) and ∂F/∂κ.
pub fn von_mises_cdf(x: f64, k: f64) -> (f64, f64) {
    if k.is_nan() || k < 0.0 || x.is_nan() {
        return (f64::NAN, f64::NAN);
    }
    // Math.round of the js reference: halves round up.
    let turns = (x / (2.0 * PI) + 0.5).floor();
    let y = x - 2.0 * PI * turns;
    let (cdf, dcdf) = if k == 0.0 {
        (0.5 + y / (2.0 * PI), 0.0)
    } else if k < CDF_SERIES_MAX {
        cdf_series(y, k)
    } else {
        cdf_normal(y, k)
    };
    (cdf + turns, dcdf)
}

/// dx/dκ = −(∂F/∂κ) / p(x; κ) for a centered draw x (implicit reparameterization); 0 where p underflows.
pub fn von_mises_sample_grad(k: f64, x: f64) -> f64 {
    if !(k > 0.0) || !k.is_finite() || x.is_nan() {
        return if k == 0.0 { 0.0 } else { f64::NAN };
    }
    let (_, dcdf) = von_mises_cdf(x, k);
    let log_p = k * (x.cos() - 1.0) - (2.0 * PI * i0e(k)).ln();
    let p = log_p.exp();
    if p > 0.0 {
        -dcdf / p
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bessel_reference_values() {
        // scipy.special.i0e / i1e (SciPy 1.x).
        assert!((i0e(0.0) - 1.0).abs() < 1e-16);
        assert!((i1e(1.0) - 0.207_910_415_349_708_5).abs() < 1e-15);
        assert!((i0e(30.0) - 0.073_145_946_482_237_3).abs() < 1e-15);
        assert_eq!(i1e(-0.0).to_bits(), (-0.0f64).to_bits());
        assert_eq!(i0e(f64::INFINITY), 0.0);
    }

    #[test]
    fn cdf_is_half_at_the_mode_and_sample_grad_vanishes_there() {
        for k in [0.5, 5.0, 80.0] {
            assert!((von_mises_cdf(0.0, k).0 - 0.5).abs() < 1e-12);
            assert!(von_mises_sample_grad(k, 0.0).abs() < 1e-12);
        }
    }
}
