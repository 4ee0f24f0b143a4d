//! Vectorizable float32 transcendentals: exp, expm1, log, log1p, tanh, sigmoid, softplus.
//!
//! Each function is branch-free straight-line f32/u32 arithmetic (selects, not jumps), so the
//! loops in [`map`] autovectorize; on x86-64 with AVX2 and FMA a `#[target_feature]` clone of the
//! loops runs, chosen at run time. Results are within a few float32 ulps of the correctly rounded
//! value (the unit tests below measure the maximum over dense grids), and NaN, ±Inf, ±0,
//! overflow and underflow come out as the js reference (float64 Math.* rounded to float32) gives.
//!
//! Methods: exp and expm1 reduce `x = n·ln2 + r`, |r| ≤ ln2/2, with the two-constant Cody–Waite
//! split of ln2 (the constants of Cephes' expf), and evaluate the degree-8 Taylor polynomial of
//! expm1(r); `2^n` is built in the exponent bits, split in two factors so subnormal results round
//! once. log and log1p split `u = 2^e·m` with m in [√½, √2) (the integer trick of musl's logf) and
//! use `log(1+f) = f − s·(f − R(s²))`, `s = f/(2+f)`, R the atanh series; log1p adds the rounding
//! error of `u = 1 + x` back as `c/u` (Goldberg's correction). tanh is `t/(t+2)` with
//! `t = expm1(2|x|)`, sigmoid and softplus are the js reference's formulas on these pieces.
//!
//! [`f64x`] holds the float64 counterparts of exp, log, log1p, sigmoid and softplus.

/// The unary ops with a float32 fast path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Exp,
    Expm1,
    Log,
    Log1p,
    Tanh,
    Sigmoid,
    Softplus,
}

impl Op {
    /// The op for a UNARY_OPS code (see elementwise.rs), or `None` when it has no fast path.
    pub fn from_code(code: u32) -> Option<Op> {
        Some(match code {
            7 => Op::Exp,
            8 => Op::Expm1,
            9 => Op::Log,
            10 => Op::Log1p,
            13 => Op::Tanh,
            14 => Op::Sigmoid,
            15 => Op::Softplus,
            _ => return None,
        })
    }
}

const LOG2E: f32 = std::f32::consts::LOG2_E;
/// ln 2 = LN2_HI + LN2_LO; LN2_HI has 9 significant bits, so `n·LN2_HI` is exact for |n| < 2^15.
const LN2_HI: f32 = 0.693_359_4;
const LN2_LO: f32 = -2.121_944_4e-4;
/// 1.5·2^23: adding it rounds a float of magnitude < 2^22 to an integer held in the low mantissa bits.
const MAGIC: f32 = 12_582_912.0;

/// `a·b + c`, fused when the FMA clone is compiled (the unfused form otherwise: `mul_add` without
/// hardware FMA is a slow libm call).
#[inline(always)]
fn madd<const F: bool>(a: f32, b: f32, c: f32) -> f32 {
    if F {
        a.mul_add(b, c)
    } else {
        a * b + c
    }
}

/// `x` clamped to `[lo, hi]`, NaN passed through (compiles to min/max or blends).
#[inline(always)]
fn clamp(x: f32, lo: f32, hi: f32) -> f32 {
    let x = if x < lo { lo } else { x };
    if x > hi {
        hi
    } else {
        x
    }
}

/// `2^n` for n in [-126, 127], from the exponent bits.
#[inline(always)]
fn pow2i(n: i32) -> f32 {
    f32::from_bits((n.wrapping_add(127) as u32).wrapping_shl(23))
}

/// `x = n·ln2 + r`: returns (n, r) with n an integer and |r| ≤ ln2/2 (slightly more at the
/// rounding edge). Valid for |x| < 2^21; NaN gives a NaN r.
#[inline(always)]
fn reduce<const F: bool>(x: f32) -> (i32, f32) {
    let t = madd::<F>(x, LOG2E, MAGIC);
    let nf = t - MAGIC;
    let n = (t.to_bits() as i32).wrapping_sub(MAGIC.to_bits() as i32);
    let r = madd::<F>(nf, -LN2_HI, x);
    let r = madd::<F>(nf, -LN2_LO, r);
    (n, r)
}

/// expm1(r) for |r| ≤ 0.35: r + r²·(1/2 + r/6 + ... + r⁶/40320), the degree-8 Taylor polynomial
/// (truncation below 2e-10 relative).
#[inline(always)]
fn expm1_poly<const F: bool>(r: f32) -> f32 {
    let p = madd::<F>(r, 1.0 / 40320.0, 1.0 / 5040.0);
    let p = madd::<F>(p, r, 1.0 / 720.0);
    let p = madd::<F>(p, r, 1.0 / 120.0);
    let p = madd::<F>(p, r, 1.0 / 24.0);
    let p = madd::<F>(p, r, 1.0 / 6.0);
    let p = madd::<F>(p, r, 0.5);
    madd::<F>(r * r, p, r)
}

/// e^x. Overflows to +Inf above 88.72283 and underflows through the subnormals to 0 below
/// −103.97, as the correctly rounded float32 does.
#[inline(always)]
pub fn exp<const F: bool>(x: f32) -> f32 {
    // e^89 overflows and e^-104 rounds to 0, so clamping keeps n in [-150, 129] and ±Inf right.
    let xc = clamp(x, -104.0, 89.0);
    let (n, r) = reduce::<F>(xc);
    let p = 1.0 + expm1_poly::<F>(r);
    // 2^n as two normal factors; p·2^n1 is exact, the second product rounds once.
    let n1 = n >> 1;
    p * pow2i(n1) * pow2i(n - n1)
}

/// e^x − 1 for x ≤ 20 (clamped below at −20, where it is −1 in float32), no special cases.
#[inline(always)]
fn expm1_core<const F: bool>(x: f32) -> f32 {
    let xc = if x < -20.0 { -20.0 } else { x };
    let (n, r) = reduce::<F>(xc);
    let q = expm1_poly::<F>(r);
    // e^x − 1 = 2^n·q + (2^n − 1); for |n| ≤ 29 both terms are accurate and 2^n is normal.
    let s = pow2i(n);
    madd::<F>(s, q, s - 1.0)
}

/// e^x − 1, accurate near 0.
#[inline(always)]
pub fn expm1<const F: bool>(x: f32) -> f32 {
    let lo = expm1_core::<F>(if x > 20.0 { 20.0 } else { x });
    // Above 20, e^x − 1 rounds to e^x.
    let hi = exp::<F>(x);
    let v = if x > 20.0 { hi } else { lo };
    // Keeps the sign of ±0.
    if x == 0.0 {
        x
    } else {
        v
    }
}

/// Splits a positive normal `u` into (e, f) with u = 2^e·(1 + f), 1 + f in [√½, √2).
#[inline(always)]
fn log_split(u: f32) -> (f32, f32) {
    const SQRT_HALF_BITS: u32 = 0x3f35_04f3;
    let ix = u.to_bits().wrapping_sub(SQRT_HALF_BITS);
    let e = (ix as i32) >> 23;
    let m = f32::from_bits((ix & 0x007f_ffff).wrapping_add(SQRT_HALF_BITS));
    (e as f32, m - 1.0)
}

/// log(1 + f) for 1 + f in [√½, √2): f − s·(f − R), s = f/(2+f), R = 2s²/3 + 2s⁴/5 + 2s⁶/7 + 2s⁸/9
/// (the atanh series; |s| ≤ 0.172, truncation below 2e-9 relative).
#[inline(always)]
fn log1p_reduced<const F: bool>(f: f32) -> f32 {
    let s = f / (2.0 + f);
    let z = s * s;
    let r = madd::<F>(z, 2.0 / 9.0, 2.0 / 7.0);
    let r = madd::<F>(r, z, 2.0 / 5.0);
    let r = madd::<F>(r, z, 2.0 / 3.0);
    let r = r * z;
    madd::<F>(-s, f - r, f)
}

/// e·ln2 + y, with the split ln2.
#[inline(always)]
fn add_eln2<const F: bool>(e: f32, y: f32) -> f32 {
    madd::<F>(e, LN2_HI, madd::<F>(e, LN2_LO, y))
}

/// Natural log: −Inf at ±0, NaN below 0, +Inf at +Inf; subnormal inputs are exact-scaled first.
#[inline(always)]
pub fn log<const F: bool>(x: f32) -> f32 {
    let tiny = x < f32::MIN_POSITIVE;
    let xs = if tiny { x * 8_388_608.0 } else { x };
    let (e, f) = log_split(xs);
    let e = if tiny { e - 23.0 } else { e };
    let v = add_eln2::<F>(e, log1p_reduced::<F>(f));
    let v = if x == f32::INFINITY { x } else { v };
    let v = if x == 0.0 { f32::NEG_INFINITY } else { v };
    if x.is_nan() || x < 0.0 {
        f32::NAN
    } else {
        v
    }
}

/// log(1 + x) for x ≥ 0 or finite x > −1 (no special cases): u = 1 + x is split as in log, and
/// `c/u` restores the rounding error c of the sum (exact: Sterbenz below 2, Fast2Sum above).
#[inline(always)]
fn log1p_core<const F: bool>(x: f32) -> f32 {
    let u = 1.0 + x;
    let c = if u < 2.0 { x - (u - 1.0) } else { 1.0 - (u - x) };
    let (e, f) = log_split(u);
    add_eln2::<F>(e, log1p_reduced::<F>(f) + c / u)
}

/// log(1 + x), accurate near 0: −Inf at −1, NaN below −1.
#[inline(always)]
pub fn log1p<const F: bool>(x: f32) -> f32 {
    let v = log1p_core::<F>(x);
    let v = if x == f32::INFINITY { x } else { v };
    // Small |x| (including ±0 and subnormals) is x itself; this also keeps the sign of −0.
    let v = if x == 0.0 { x } else { v };
    let v = if x == -1.0 { f32::NEG_INFINITY } else { v };
    if x.is_nan() || x < -1.0 {
        f32::NAN
    } else {
        v
    }
}

/// tanh(x) = sign(x)·t/(t+2) with t = e^{2|x|} − 1; written 1 − 2/(t+2) above 0.55, where that
/// rounds better. ±1 beyond |x| = 9.1, where float32 tanh is ±1.
#[inline(always)]
pub fn tanh<const F: bool>(x: f32) -> f32 {
    let a = f32::from_bits(x.to_bits() & 0x7fff_ffff);
    let ac = if a > 9.1 { 9.1 } else { a };
    let t = expm1_core::<F>(ac + ac);
    let big = a > 0.55;
    let q = (if big { 2.0 } else { t }) / (t + 2.0);
    let v = if big { 1.0 - q } else { q };
    f32::from_bits(v.to_bits() | (x.to_bits() & 0x8000_0000))
}

/// 1/(1 + e^−x), as the js reference: e^−|x| keeps the exponential ≤ 1, and for x < 0 the
/// numerator is e^x, so the far negative tail is e^x down to the subnormals.
#[inline(always)]
pub fn sigmoid<const F: bool>(x: f32) -> f32 {
    let e = exp::<F>(-f32::from_bits(x.to_bits() & 0x7fff_ffff));
    let num = if x >= 0.0 { 1.0 } else { e };
    num / (1.0 + e)
}

/// log(1 + e^x) = max(x, 0) + log1p(e^−|x|), as the js reference (NaN propagates).
#[inline(always)]
pub fn softplus<const F: bool>(x: f32) -> f32 {
    let e = exp::<F>(-f32::from_bits(x.to_bits() & 0x7fff_ffff));
    let m = if x > 0.0 || x.is_nan() { x } else { 0.0 };
    m + log1p_core::<F>(e)
}

/// `out[i] = op(x[i])` with the const-generic FMA choice; inlined into each feature clone.
#[inline(always)]
fn run<const F: bool>(op: Op, x: &[f32], out: &mut [f32]) {
    macro_rules! each {
        ($f:ident) => {
            for (d, &v) in out.iter_mut().zip(x) {
                *d = $f::<F>(v);
            }
        };
    }
    match op {
        Op::Exp => each!(exp),
        Op::Expm1 => each!(expm1),
        Op::Log => each!(log),
        Op::Log1p => each!(log1p),
        Op::Tanh => each!(tanh),
        Op::Sigmoid => each!(sigmoid),
        Op::Softplus => each!(softplus),
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn run_avx2_fma(op: Op, x: &[f32], out: &mut [f32]) {
    run::<true>(op, x, out)
}

/// `out[i] = op(x[i])` over the common length, on the AVX2+FMA clone when the CPU has it.
pub fn map(op: Op, x: &[f32], out: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
        // SAFETY: the CPU supports AVX2 and FMA (checked just above), the features the clone
        // is compiled for.
        unsafe { run_avx2_fma(op, x, out) };
        return;
    }
    run::<false>(op, x, out)
}

/// Float64 versions of exp, log, log1p, sigmoid and softplus, within about 1 ulp (the unit tests
/// measure the maximum against std over dense grids), special values as the js reference's
/// Math.exp / Math.log / Math.log1p formulas.
///
/// Methods (fdlibm's e_exp.c and s_log1p.c reductions, with Taylor polynomials long enough for
/// double precision in place of their minimax ones): exp reduces `x = n·ln2 + r`, |r| ≤ ln2/2,
/// with fdlibm's two-part ln2 (LN2_HI has 32 significant bits, so `n·LN2_HI` is exact for
/// |n| < 2^21), and sums the degree-13 Taylor polynomial of expm1(r) (truncation below 4e-18
/// relative); log and log1p split `u = 2^e·(1+f)` with 1+f in [√½, √2) on the bits and sum
/// `log(1+f) = 2s + s·R(s²)`, s = f/(2+f), R the atanh series to s^20 (|s| ≤ 0.172, truncation
/// below 1e-18 relative), log1p adding back the rounding error of `1 + x` as `c/u`.
pub mod f64x {
    use super::Op;

    const LOG2E: f64 = std::f64::consts::LOG2_E;
    /// fdlibm's ln2_hi / ln2_lo (0x3fe62e42_fee00000 and 0x3dea39ef_35793c76).
    const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000);
    const LN2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76);
    /// 1.5·2^52: adding it rounds a float of magnitude < 2^51 to an integer in the low bits.
    const MAGIC: f64 = 6_755_399_441_055_744.0;

    /// `a·b + c`, fused in the FMA clone.
    #[inline(always)]
    fn madd<const F: bool>(a: f64, b: f64, c: f64) -> f64 {
        if F {
            a.mul_add(b, c)
        } else {
            a * b + c
        }
    }

    /// `2^n` for n in [-1022, 1023], from the exponent bits.
    #[inline(always)]
    fn pow2i(n: i64) -> f64 {
        f64::from_bits((n.wrapping_add(1023) as u64).wrapping_shl(52))
    }

    /// e^x: +Inf above 709.78, 0 below −745.13 through the subnormals, NaN passed through.
    #[inline(always)]
    pub fn exp<const F: bool>(x: f64) -> f64 {
        // Clamping keeps n in [-1077, 1025] (both factors of 2^n normal) and ±Inf right.
        let xc = if x < -746.0 { -746.0 } else { x };
        let xc = if xc > 710.0 { 710.0 } else { xc };
        let t = madd::<F>(xc, LOG2E, MAGIC);
        let nf = t - MAGIC;
        let n = (t.to_bits() as i64).wrapping_sub(MAGIC.to_bits() as i64);
        let r = madd::<F>(nf, -LN2_HI, xc);
        let r = madd::<F>(nf, -LN2_LO, r);
        // expm1(r) = r + r²·(1/2! + r/3! + ... + r^11/13!), Horner from the top.
        const C: [f64; 12] = [
            1.0 / 6_227_020_800.0,
            1.0 / 479_001_600.0,
            1.0 / 39_916_800.0,
            1.0 / 3_628_800.0,
            1.0 / 362_880.0,
            1.0 / 40_320.0,
            1.0 / 5_040.0,
            1.0 / 720.0,
            1.0 / 120.0,
            1.0 / 24.0,
            1.0 / 6.0,
            0.5,
        ];
        let mut p = C[0];
        for &c in &C[1..] {
            p = madd::<F>(p, r, c);
        }
        let p = 1.0 + madd::<F>(r * r, p, r);
        // p·2^n1 is exact; the second product rounds once (into the subnormals if it must).
        let n1 = n >> 1;
        p * pow2i(n1) * pow2i(n - n1)
    }

    /// Splits a positive normal `u` into (e, f) with u = 2^e·(1 + f), 1 + f in [√½, √2).
    #[inline(always)]
    fn split(u: f64) -> (f64, f64) {
        const SQRT_HALF_BITS: u64 = 0x3fe6_a09e_667f_3bcd;
        let ix = u.to_bits().wrapping_sub(SQRT_HALF_BITS);
        let e = (ix as i64) >> 52;
        let m = f64::from_bits((ix & 0x000f_ffff_ffff_ffff).wrapping_add(SQRT_HALF_BITS));
        (e as f64, m - 1.0)
    }

    /// log(1 + f) for 1 + f in [√½, √2): f − s·(f − R), s = f/(2+f), R = Σ_{j=1..10} 2s^{2j}/(2j+1).
    #[inline(always)]
    fn log1p_reduced<const F: bool>(f: f64) -> f64 {
        let s = f / (2.0 + f);
        let z = s * s;
        let mut r = 2.0 / 21.0;
        for d in [19.0, 17.0, 15.0, 13.0, 11.0, 9.0, 7.0, 5.0, 3.0] {
            r = madd::<F>(r, z, 2.0 / d);
        }
        let r = r * z;
        madd::<F>(-s, f - r, f)
    }

    /// e·ln2 + y, with the split ln2 (e·LN2_HI exact).
    #[inline(always)]
    fn add_eln2<const F: bool>(e: f64, y: f64) -> f64 {
        madd::<F>(e, LN2_HI, madd::<F>(e, LN2_LO, y))
    }

    /// Natural log: −Inf at ±0, NaN below 0, +Inf at +Inf; subnormals are scaled by 2^54 first.
    #[inline(always)]
    pub fn log<const F: bool>(x: f64) -> f64 {
        let tiny = x < f64::MIN_POSITIVE;
        let xs = if tiny { x * 18_014_398_509_481_984.0 } else { x };
        let (e, f) = split(xs);
        let e = if tiny { e - 54.0 } else { e };
        let v = add_eln2::<F>(e, log1p_reduced::<F>(f));
        let v = if x == f64::INFINITY { x } else { v };
        let v = if x == 0.0 { f64::NEG_INFINITY } else { v };
        if x.is_nan() || x < 0.0 {
            f64::NAN
        } else {
            v
        }
    }

    /// log(1 + x) for finite x > −1 or +Inf-free inputs, no special cases; `c/u` restores the
    /// rounding error c of u = 1 + x (exact: Sterbenz below 2, Fast2Sum above).
    #[inline(always)]
    fn log1p_core<const F: bool>(x: f64) -> f64 {
        let u = 1.0 + x;
        let c = if u < 2.0 { x - (u - 1.0) } else { 1.0 - (u - x) };
        let (e, f) = split(u);
        add_eln2::<F>(e, log1p_reduced::<F>(f) + c / u)
    }

    /// log(1 + x): −Inf at −1, NaN below −1, ±0 kept.
    #[inline(always)]
    pub fn log1p<const F: bool>(x: f64) -> f64 {
        let v = log1p_core::<F>(x);
        let v = if x == f64::INFINITY { x } else { v };
        let v = if x == 0.0 { x } else { v };
        let v = if x == -1.0 { f64::NEG_INFINITY } else { v };
        if x.is_nan() || x < -1.0 {
            f64::NAN
        } else {
            v
        }
    }

    /// 1/(1 + e^−x), as the js reference: e^−|x| ≤ 1, numerator e^x for x < 0.
    #[inline(always)]
    pub fn sigmoid<const F: bool>(x: f64) -> f64 {
        let e = exp::<F>(-x.abs());
        let num = if x >= 0.0 { 1.0 } else { e };
        num / (1.0 + e)
    }

    /// log(1 + e^x) = max(x, 0) + log1p(e^−|x|), as the js reference (NaN propagates).
    #[inline(always)]
    pub fn softplus<const F: bool>(x: f64) -> f64 {
        let e = exp::<F>(-x.abs());
        let m = if x > 0.0 || x.is_nan() { x } else { 0.0 };
        m + log1p_core::<F>(e)
    }

    /// Whether `op` has a float64 fast path here.
    pub fn has(op: Op) -> bool {
        matches!(op, Op::Exp | Op::Log | Op::Log1p | Op::Sigmoid | Op::Softplus)
    }

    #[inline(always)]
    fn run<const F: bool>(op: Op, x: &[f64], out: &mut [f64]) {
        macro_rules! each {
            ($f:ident) => {
                for (d, &v) in out.iter_mut().zip(x) {
                    *d = $f::<F>(v);
                }
            };
        }
        match op {
            Op::Exp => each!(exp),
            Op::Log => each!(log),
            Op::Log1p => each!(log1p),
            Op::Sigmoid => each!(sigmoid),
            Op::Softplus => each!(softplus),
            Op::Expm1 => {
                for (d, &v) in out.iter_mut().zip(x) {
                    *d = v.exp_m1();
                }
            }
            Op::Tanh => {
                for (d, &v) in out.iter_mut().zip(x) {
                    *d = v.tanh();
                }
            }
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    fn run_avx2_fma(op: Op, x: &[f64], out: &mut [f64]) {
        run::<true>(op, x, out)
    }

    /// `out[i] = op(x[i])` over the common length, on the AVX2+FMA clone when the CPU has it.
    pub fn map(op: Op, x: &[f64], out: &mut [f64]) {
        #[cfg(target_arch = "x86_64")]
        if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
            // SAFETY: the CPU supports AVX2 and FMA (checked just above), the features the
            // clone is compiled for.
            unsafe { run_avx2_fma(op, x, out) };
            return;
        }
        run::<false>(op, x, out)
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        /// Error in float64 ulps of `got` against std's (≤ 1 ulp, not exact) value `want`.
        fn ulps(got: f64, want: f64) -> f64 {
            if !want.is_finite() || !got.is_finite() {
                let same = (want.is_nan() && got.is_nan()) || want == got;
                assert!(same, "special value: got {got:e}, want {want:e}");
                return 0.0;
            }
            let a = want.abs().max(f64::MIN_POSITIVE);
            let e = a.log2().floor() as i32 - 52;
            // Two factors: 2^-1074 itself is not reachable by one powi.
            let ulp = 2f64.powi(e / 2) * 2f64.powi(e - e / 2);
            (got - want).abs() / ulp
        }

        fn reference(op: Op, x: f64) -> f64 {
            match op {
                Op::Exp => x.exp(),
                Op::Log => x.ln(),
                Op::Log1p => x.ln_1p(),
                Op::Sigmoid => {
                    if x >= 0.0 {
                        1.0 / (1.0 + (-x).exp())
                    } else {
                        x.exp() / (1.0 + x.exp())
                    }
                }
                _ => {
                    let m = if x > 0.0 || x.is_nan() { x } else { 0.0 };
                    m + (-x.abs()).exp().ln_1p()
                }
            }
        }

        fn eval<const F: bool>(op: Op, x: f64) -> f64 {
            match op {
                Op::Exp => exp::<F>(x),
                Op::Log => log::<F>(x),
                Op::Log1p => log1p::<F>(x),
                Op::Sigmoid => sigmoid::<F>(x),
                _ => softplus::<F>(x),
            }
        }

        /// Dense grids over [-750, 750], [-1, 1], [-1e-6, 1e-6], a stride through the bit
        /// patterns, and the edges.
        fn grid() -> Vec<f64> {
            let mut v: Vec<f64> = (-750_000..=750_000).map(|i| i as f64 * 1e-3 + 1.234_567e-7).collect();
            v.extend((-1_000_000..=1_000_000).map(|i| i as f64 * 1e-6));
            v.extend((-100_000..=100_000).map(|i| i as f64 * 1e-11));
            v.extend((0..1u64 << 21).map(|i| f64::from_bits(i.wrapping_mul(0x9e37_79b9_7f4a_7c15 >> 21 << 21 | 1))));
            v.extend([
                0.0,
                -0.0,
                f64::INFINITY,
                f64::NEG_INFINITY,
                f64::NAN,
                f64::MIN_POSITIVE,
                5e-324,
                f64::MAX,
                f64::MIN,
                1.0,
                -1.0,
                -0.999_999_999_999_999_9,
                709.782_712_893_384,
                709.782_712_893_385,
                -745.133_219_101_941,
                -745.2,
                -708.4,
                -720.0,
                f64::EPSILON,
            ]);
            v
        }

        const OPS: [Op; 5] = [Op::Exp, Op::Log, Op::Log1p, Op::Sigmoid, Op::Softplus];

        /// Max ulp errors vs std found over the grid (unfused / fused), `--nocapture` prints
        /// them; std itself is within 1 ulp, so the bound allows 2.
        #[test]
        fn accuracy_against_std() {
            let xs = grid();
            for op in OPS {
                for fused in [false, true] {
                    let mut worst = (0.0, 0.0);
                    for &x in &xs {
                        let got = if fused { eval::<true>(op, x) } else { eval::<false>(op, x) };
                        let u = ulps(got, reference(op, x));
                        if u > worst.0 {
                            worst = (u, x);
                        }
                    }
                    println!("f64 {op:?} fused={fused}: max {:.3} ulp at {:e}", worst.0, worst.1);
                    assert!(worst.0 <= 2.0, "f64 {op:?} fused={fused}: {} ulp at {:e}", worst.0, worst.1);
                }
            }
        }

        #[test]
        fn special_values_as_js() {
            let inf = f64::INFINITY;
            assert_eq!(exp::<false>(-inf), 0.0);
            assert_eq!(exp::<false>(inf), inf);
            assert_eq!(exp::<false>(710.0), inf);
            assert_eq!(log::<false>(0.0), -inf);
            assert!(log::<false>(-1.0).is_nan());
            assert_eq!(log::<false>(inf), inf);
            assert_eq!(log1p::<false>(-1.0), -inf);
            assert!(log1p::<false>(-2.0).is_nan());
            assert!(log1p::<false>(-0.0).is_sign_negative());
            assert_eq!(log1p::<false>(inf), inf);
            assert_eq!(sigmoid::<false>(inf), 1.0);
            assert_eq!(sigmoid::<false>(-inf), 0.0);
            assert_eq!(softplus::<false>(inf), inf);
            assert_eq!(softplus::<false>(-inf), 0.0);
            for op in OPS {
                assert!(eval::<false>(op, f64::NAN).is_nan() && eval::<true>(op, f64::NAN).is_nan());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The float64 references: std's libm, and the js reference's formulas for the other two.
    fn reference(op: Op, x: f64) -> f64 {
        match op {
            Op::Exp => x.exp(),
            Op::Expm1 => x.exp_m1(),
            Op::Log => x.ln(),
            Op::Log1p => x.ln_1p(),
            Op::Tanh => x.tanh(),
            Op::Sigmoid => {
                if x >= 0.0 {
                    1.0 / (1.0 + (-x).exp())
                } else {
                    x.exp() / (1.0 + x.exp())
                }
            }
            Op::Softplus => x.max(0.0) + (-x.abs()).exp().ln_1p() + if x.is_nan() { x } else { 0.0 },
        }
    }

    fn eval<const F: bool>(op: Op, x: f32) -> f32 {
        match op {
            Op::Exp => exp::<F>(x),
            Op::Expm1 => expm1::<F>(x),
            Op::Log => log::<F>(x),
            Op::Log1p => log1p::<F>(x),
            Op::Tanh => tanh::<F>(x),
            Op::Sigmoid => sigmoid::<F>(x),
            Op::Softplus => softplus::<F>(x),
        }
    }

    /// Error of `got` against the exact value `want` in float32 ulps at `want` (subnormal spacing
    /// below the normals); `None` when the special values disagree.
    fn ulps(got: f32, want: f64) -> Option<f64> {
        let w32 = want as f32;
        if !w32.is_finite() || !got.is_finite() {
            let same = (w32.is_nan() && got.is_nan()) || w32 == got;
            return same.then_some(0.0);
        }
        let a = want.abs().max(f32::MIN_POSITIVE as f64);
        let ulp = 2f64.powi(a.log2().floor() as i32 - 23);
        Some((got as f64 - want).abs() / ulp)
    }

    /// Every 251st float32 bit pattern (both signs, all exponents), dense uniform grids over
    /// [-30, 30] and [-1e-3, 1e-3], and the edge values.
    fn grid() -> Vec<f32> {
        let mut v: Vec<f32> = (0..u32::MAX / 251).map(|i| f32::from_bits(i * 251)).collect();
        v.extend((-300_000..=300_000).map(|i| i as f32 * 1e-4));
        v.extend((-100_000..=100_000).map(|i| i as f32 * 1e-8));
        let edges = [
            0.0,
            -0.0,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::NAN,
            f32::MIN_POSITIVE,
            -f32::MIN_POSITIVE,
            1e-45,
            -1e-45,
            1e-40,
            f32::MAX,
            f32::MIN,
            1.0,
            -1.0,
            -0.999_999_94,
            -1.000_000_1,
            88.722_83,
            88.722_84,
            89.0,
            -87.3,
            -103.97,
            -103.972_08,
            -104.0,
            -150.0,
            9.0,
            9.1,
            20.0,
            20.000_002,
            0.55,
            0.550_000_1,
            16.0,
            17.0,
            -17.0,
            -20.0,
            f32::EPSILON,
            std::f32::consts::SQRT_2,
            std::f32::consts::FRAC_1_SQRT_2,
        ];
        v.extend(edges);
        v.extend(
            edges.iter().flat_map(|&e| {
                [f32::from_bits(e.to_bits().wrapping_add(1)), f32::from_bits(e.to_bits().wrapping_sub(1))]
            }),
        );
        v
    }

    const OPS: [Op; 7] = [Op::Exp, Op::Expm1, Op::Log, Op::Log1p, Op::Tanh, Op::Sigmoid, Op::Softplus];

    fn max_error<const F: bool>(op: Op, xs: &[f32]) -> (f64, f32) {
        let mut worst = (0.0, 0.0);
        for &x in xs {
            let got = eval::<F>(op, x);
            let want = reference(op, x as f64);
            match ulps(got, want) {
                Some(u) if u > worst.0 => worst = (u, x),
                Some(_) => {}
                None => panic!("{op:?}({x:e}) = {got:e}, float64 reference {want:e}"),
            }
        }
        worst
    }

    /// Max ulp errors found (every 251st bit pattern + dense grids + edges), unfused / fused:
    /// exp 0.93 / 0.97, expm1 1.37 / 1.43, log 0.85 / 0.91, log1p 1.44 / 1.44, tanh 2.34 / 2.33,
    /// sigmoid 2.26 / 2.26, softplus 1.97 / 1.84 (`--nocapture` prints them).
    #[test]
    fn accuracy_against_f64() {
        let xs = grid();
        for op in OPS {
            for (fused, (u, at)) in [(false, max_error::<false>(op, &xs)), (true, max_error::<true>(op, &xs))] {
                println!("{op:?} fused={fused}: max {u:.3} ulp at {at:e}");
                assert!(u < 3.0, "{op:?} fused={fused}: {u} ulp at {at:e}");
            }
        }
    }

    #[test]
    fn special_values_as_js() {
        let inf = f32::INFINITY;
        assert_eq!(exp::<false>(-inf), 0.0);
        assert_eq!(exp::<false>(inf), inf);
        assert_eq!(exp::<false>(100.0), inf);
        assert_eq!(exp::<false>(-200.0), 0.0);
        assert_eq!(expm1::<false>(inf), inf);
        assert_eq!(expm1::<false>(-inf), -1.0);
        assert!(expm1::<false>(-0.0).is_sign_negative());
        assert_eq!(log::<false>(0.0), -inf);
        assert_eq!(log::<false>(-0.0), -inf);
        assert!(log::<false>(-1.0).is_nan());
        assert_eq!(log::<false>(inf), inf);
        assert!(log::<false>(-inf).is_nan());
        assert_eq!(log1p::<false>(-1.0), -inf);
        assert!(log1p::<false>(-2.0).is_nan());
        assert_eq!(log1p::<false>(inf), inf);
        assert!(log1p::<false>(-0.0).is_sign_negative());
        assert_eq!(tanh::<false>(inf), 1.0);
        assert_eq!(tanh::<false>(-inf), -1.0);
        assert!(tanh::<false>(-0.0).is_sign_negative());
        assert_eq!(sigmoid::<false>(inf), 1.0);
        assert_eq!(sigmoid::<false>(-inf), 0.0);
        assert_eq!(softplus::<false>(inf), inf);
        assert_eq!(softplus::<false>(-inf), 0.0);
        assert_eq!(softplus::<false>(1e30), 1e30);
        assert_eq!(softplus::<false>(50.0), 50.0);
        for op in OPS {
            assert!(eval::<false>(op, f32::NAN).is_nan() && eval::<true>(op, f32::NAN).is_nan(), "{op:?}(NaN)");
        }
    }

    /// The dispatched (vectorized, maybe AVX2+FMA) loop gives the scalar function's results.
    #[test]
    fn map_matches_scalar() {
        let xs: Vec<f32> = grid().into_iter().step_by(7).collect();
        let mut out = vec![0f32; xs.len()];
        for op in OPS {
            map(op, &xs, &mut out);
            for (&x, &o) in xs.iter().zip(&out) {
                let (a, b) = (eval::<false>(op, x), eval::<true>(op, x));
                let same = |r: f32| r.to_bits() == o.to_bits() || (r.is_nan() && o.is_nan());
                assert!(same(a) || same(b), "{op:?}({x:e}): map {o:e}, scalar {a:e} / {b:e}");
            }
        }
    }
}
