//! Philox-4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011) and the
//! random kernels, following the stream layout of ts/random/philox.ts word for word and the
//! samplers of ts/backends/js/random.ts step for step (gamma: Marsaglia & Tsang 2000 with the
//! u^(1/α) boost; Poisson: Knuth's product of uniforms below rate 10, Hörmann's PTRS from 10 up).

use crate::par;
use crate::special::lgamma;
use crate::{dispatch_float, err, Arr, Elem, Kind};
use napi::Result;
use napi_derive::napi;

const M0: u32 = 0xd251_1f53;
const M1: u32 = 0xcd9e_8d57;
const W0: u32 = 0x9e37_79b9;
const W1: u32 = 0xbb67_ae85;

pub const TAG_GAMMA: u32 = 0x4741_4d4d;
pub const TAG_POISSON: u32 = 0x504f_4953;
pub const TAG_VON_MISES: u32 = 0x564d_4953;
const MAX_ATTEMPTS: u32 = 4096;
const GAMMA_BOOST_BLOCK: u32 = 0xffff_ffff;
const POISSON_PTRS_MIN_RATE: f64 = 10.0;
const TWO_PI: f64 = std::f64::consts::TAU;

/// One Philox-4x32-10 block of counter `c` under key `k`.
#[inline]
pub fn philox(c: [u32; 4], k: [u32; 2]) -> [u32; 4] {
    let [mut x0, mut x1, mut x2, mut x3] = c;
    let [mut k0, mut k1] = k;
    for _ in 0..10 {
        let p0 = (M0 as u64) * (x0 as u64);
        let p1 = (M1 as u64) * (x2 as u64);
        let (hi0, lo0) = ((p0 >> 32) as u32, p0 as u32);
        let (hi1, lo1) = ((p1 >> 32) as u32, p1 as u32);
        x0 = hi1 ^ x1 ^ k0;
        x1 = lo1;
        x2 = hi0 ^ x3 ^ k1;
        x3 = lo0;
        k0 = k0.wrapping_add(W0);
        k1 = k1.wrapping_add(W1);
    }
    [x0, x1, x2, x3]
}

/// Blocks b0..b0+8 of the plain stream of key `k`, computed lane-parallel (the same bits as
/// [`philox`]; the AVX2 clone multiplies four lanes at once).
#[inline(always)]
fn philox8(b0: u64, k: [u32; 2]) -> [[u32; 4]; 8] {
    let (mut x0, mut x1, mut x2, mut x3) = ([0u32; 8], [0u32; 8], [0u32; 8], [0u32; 8]);
    for l in 0..8 {
        let b = b0 + l as u64;
        x0[l] = b as u32;
        x1[l] = (b >> 32) as u32;
    }
    let [mut k0, mut k1] = k;
    for _ in 0..10 {
        for l in 0..8 {
            let p0 = (M0 as u64) * (x0[l] as u64);
            let p1 = (M1 as u64) * (x2[l] as u64);
            let n0 = ((p1 >> 32) as u32) ^ x1[l] ^ k0;
            let n2 = ((p0 >> 32) as u32) ^ x3[l] ^ k1;
            x1[l] = p1 as u32;
            x3[l] = p0 as u32;
            x0[l] = n0;
            x2[l] = n2;
        }
        k0 = k0.wrapping_add(W0);
        k1 = k1.wrapping_add(W1);
    }
    std::array::from_fn(|l| [x0[l], x1[l], x2[l], x3[l]])
}

/// Calls `f(b, words)` for every block b in b_lo..b_hi of key `k`'s stream, eight at a time.
#[inline(always)]
fn for_blocks(b_lo: u64, b_hi: u64, k: [u32; 2], mut f: impl FnMut(u64, [u32; 4])) {
    let mut b = b_lo;
    while b + 8 <= b_hi {
        let w = philox8(b, k);
        for (l, wl) in w.into_iter().enumerate() {
            f(b + l as u64, wl);
        }
        b += 8;
    }
    while b < b_hi {
        f(b, stream_block(b, k));
        b += 1;
    }
}

/// Words s..s+out.len() of key `k`'s stream into `out` (as `conv` of each word).
#[inline(always)]
fn words_into<T>(s: usize, out: &mut [T], k: [u32; 2], conv: impl Fn(u32) -> T) {
    let (lo, hi) = (s as u64, (s + out.len()) as u64);
    for_blocks(lo / 4, hi.div_ceil(4), k, |b, w| {
        for (l, &wl) in w.iter().enumerate() {
            let g = 4 * b + l as u64;
            if g >= lo && g < hi {
                out[(g - lo) as usize] = conv(wl);
            }
        }
    });
}

/// Float64 uniforms s..s+out.len() (number j from words 2j, 2j+1: block j/2, lanes (0,1) or (2,3)).
#[inline(always)]
fn uniforms64_into<T: Elem>(s: usize, out: &mut [T], k: [u32; 2]) {
    let (lo, hi) = (s as u64, (s + out.len()) as u64);
    for_blocks(lo / 2, hi.div_ceil(2), k, |b, w| {
        for h in 0..2u64 {
            let g = 2 * b + h;
            if g >= lo && g < hi {
                out[(g - lo) as usize] = T::from_f64(u32_pair_to_f64(w[2 * h as usize], w[2 * h as usize + 1]));
            }
        }
    });
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::Elem;

    /// [`super::words_into`] compiled with AVX2.
    ///
    /// # Safety
    /// The CPU must have AVX2.
    #[target_feature(enable = "avx2")]
    pub unsafe fn words_into<T>(s: usize, out: &mut [T], k: [u32; 2], conv: impl Fn(u32) -> T) {
        super::words_into(s, out, k, conv)
    }

    /// [`super::uniforms64_into`] compiled with AVX2.
    ///
    /// # Safety
    /// The CPU must have AVX2.
    #[target_feature(enable = "avx2")]
    pub unsafe fn uniforms64_into<T: Elem>(s: usize, out: &mut [T], k: [u32; 2]) {
        super::uniforms64_into(s, out, k)
    }
}

/// [`words_into`] on the AVX2 clone where the CPU has it.
fn fill_words<T>(s: usize, out: &mut [T], k: [u32; 2], conv: impl Fn(u32) -> T) {
    #[cfg(target_arch = "x86_64")]
    if is_x86_feature_detected!("avx2") {
        // SAFETY: AVX2 was just detected.
        return unsafe { x86::words_into(s, out, k, conv) };
    }
    words_into(s, out, k, conv)
}

/// [`uniforms64_into`] on the AVX2 clone where the CPU has it.
fn fill_uniforms64<T: Elem>(s: usize, out: &mut [T], k: [u32; 2]) {
    #[cfg(target_arch = "x86_64")]
    if is_x86_feature_detected!("avx2") {
        // SAFETY: AVX2 was just detected.
        return unsafe { x86::uniforms64_into(s, out, k) };
    }
    uniforms64_into(s, out, k)
}

/// Block `b` of the plain stream of key `k`.
#[inline]
fn stream_block(b: u64, k: [u32; 2]) -> [u32; 4] {
    philox([b as u32, (b >> 32) as u32, 0, 0], k)
}

/// float32 uniform in [0, 1) from one word (exact in f64 too).
#[inline]
pub fn u32_to_f32(w: u32) -> f64 {
    (w >> 8) as f64 * 5.960_464_477_539_063e-8
}

/// float64 uniform in [0, 1) from two words.
#[inline]
pub fn u32_pair_to_f64(w0: u32, w1: u32) -> f64 {
    ((w0 >> 5) as f64 * 67_108_864.0 + (w1 >> 6) as f64) * 1.110_223_024_625_156_5e-16
}

fn key_of(k0: u32, k1: u32) -> [u32; 2] {
    [k0, k1]
}

/// Words 0..n-1 of the stream (as int32 bit patterns).
#[napi]
pub fn random_bits(out: Arr, k0: u32, k1: u32) -> Result<()> {
    let key = key_of(k0, k1);
    let o = out.get_mut::<i32>()?;
    par::chunks(o, par::COSTLY_MIN * 4, |s, c| fill_words(s, c, key, |w| w as i32));
    Ok(())
}

fn fill_uniform<T: Elem>(o: &mut [T], key: [u32; 2]) {
    if T::KIND == Kind::F32 {
        par::chunks(o, par::COSTLY_MIN * 4, |s, c| fill_words(s, c, key, |w| T::from_f64(u32_to_f32(w))));
    } else {
        par::chunks(o, par::COSTLY_MIN * 4, |s, c| fill_uniforms64(s, c, key));
    }
}

/// Uniforms in [0, 1) of the dtype's stream (float32: one word each; float64: two).
#[napi]
pub fn random_uniform(out: Arr, k0: u32, k1: u32) -> Result<()> {
    let key = key_of(k0, k1);
    dispatch_float!(out.kind(), "randomUniform", T => {
        fill_uniform(out.get_mut::<T>()?, key);
        Ok(())
    })
}

/// Box–Muller normals: element 2m = r cos θ, 2m+1 = r sin θ with uniforms 2m, 2m+1.
#[napi]
pub fn random_normal(out: Arr, k0: u32, k1: u32) -> Result<()> {
    let key = key_of(k0, k1);
    dispatch_float!(out.kind(), "randomNormal", T => {
        fill_normal(out.get_mut::<T>()?, key);
        Ok(())
    })
}

/// Normals 0..o.len() of key `key` (what `random_normal` writes), in parallel on large outputs.
pub fn fill_normal<T: Elem>(o: &mut [T], key: [u32; 2]) {
    par::chunks(o, par::COSTLY_MIN, |s, c| normals_into(s, c, key));
}

/// Normals s..s+out.len(): pair m (elements 2m, 2m+1) from uniforms 2m, 2m+1, one log, square
/// root and sin_cos per pair, the uniforms from eight Philox blocks at a time.
fn normals_into<T: Elem>(s: usize, out: &mut [T], key: [u32; 2]) {
    let (lo, hi) = (s as u64, (s + out.len()) as u64);
    let (m_lo, m_hi) = (lo / 2, hi.div_ceil(2));
    let mut emit = |m: u64, u1: f64, u2: f64| {
        let r = (-2.0 * (1.0 - u1).ln()).sqrt();
        let (sn, cs) = (TWO_PI * u2).sin_cos();
        for (i, v) in [(2 * m, r * cs), (2 * m + 1, r * sn)] {
            if i >= lo && i < hi {
                out[(i - lo) as usize] = T::from_f64(v);
            }
        }
    };
    if T::KIND == Kind::F32 {
        // Uniforms 2m, 2m+1 are words 2m, 2m+1: lanes (0, 1) or (2, 3) of block ⌊m / 2⌋.
        for_blocks(m_lo / 2, m_hi.div_ceil(2), key, |b, w| {
            for h in 0..2u64 {
                let m = 2 * b + h;
                if m >= m_lo && m < m_hi {
                    emit(m, u32_to_f32(w[2 * h as usize]), u32_to_f32(w[2 * h as usize + 1]));
                }
            }
        });
    } else {
        for_blocks(m_lo, m_hi, key, |b, w| emit(b, u32_pair_to_f64(w[0], w[1]), u32_pair_to_f64(w[2], w[3])));
    }
}

/// One gamma(alpha, 1) draw for element `i` (see ts/backends/js/random.ts gammaElement).
pub fn gamma_element(alpha: f64, i: u64, key: [u32; 2]) -> f64 {
    if !(alpha > 0.0) {
        return f64::NAN;
    }
    if alpha == f64::INFINITY {
        return f64::INFINITY;
    }
    let (c0, c3) = (i as u32, (i >> 32) as u32);
    let boost = alpha < 1.0;
    let d = (if boost { alpha + 1.0 } else { alpha }) - 1.0 / 3.0;
    let c = 1.0 / (9.0 * d).sqrt();
    let mut g = f64::NAN;
    for t in 0..MAX_ATTEMPTS {
        let w = philox([c0, 2 * t, TAG_GAMMA, c3], key);
        let x = (-2.0 * (1.0 - u32_pair_to_f64(w[0], w[1])).ln()).sqrt() * (TWO_PI * u32_pair_to_f64(w[2], w[3])).cos();
        let v1 = 1.0 + c * x;
        if v1 <= 0.0 {
            continue;
        }
        let v = v1 * v1 * v1;
        let w = philox([c0, 2 * t + 1, TAG_GAMMA, c3], key);
        let u = u32_pair_to_f64(w[0], w[1]);
        let x2 = x * x;
        if u < 1.0 - 0.0331 * x2 * x2 || u.ln() < 0.5 * x2 + d * (1.0 - v + v.ln()) {
            g = d * v;
            break;
        }
    }
    if boost {
        let w = philox([c0, GAMMA_BOOST_BLOCK, TAG_GAMMA, c3], key);
        g *= crate::elementwise::js_pow(1.0 - u32_pair_to_f64(w[0], w[1]), 1.0 / alpha);
    }
    g
}

/// One Poisson(rate) draw for element `i` (see ts/backends/js/random.ts poissonElement).
pub fn poisson_element(rate: f64, i: u64, key: [u32; 2]) -> f64 {
    if !(rate >= 0.0) {
        return f64::NAN;
    }
    if rate == 0.0 {
        return 0.0;
    }
    if rate == f64::INFINITY {
        return f64::INFINITY;
    }
    let (c0, c3) = (i as u32, (i >> 32) as u32);
    if rate < POISSON_PTRS_MIN_RATE {
        let limit = (-rate).exp();
        let mut p = 1.0;
        let mut w = [0u32; 4];
        for k in 0..2 * MAX_ATTEMPTS {
            if k & 1 == 0 {
                w = philox([c0, k >> 1, TAG_POISSON, c3], key);
                p *= u32_pair_to_f64(w[0], w[1]);
            } else {
                p *= u32_pair_to_f64(w[2], w[3]);
            }
            if p <= limit {
                return k as f64;
            }
        }
        return f64::NAN;
    }
    let slam = rate.sqrt();
    let loglam = rate.ln();
    let b = 0.931 + 2.53 * slam;
    let a = -0.059 + 0.02483 * b;
    let invalpha = 1.1239 + 1.1328 / (b - 3.4);
    let vr = 0.9277 - 3.6224 / (b - 2.0);
    for t in 0..MAX_ATTEMPTS {
        let w = philox([c0, t, TAG_POISSON, c3], key);
        let u = u32_pair_to_f64(w[0], w[1]) - 0.5;
        let v = u32_pair_to_f64(w[2], w[3]);
        let us = 0.5 - u.abs();
        let k = (((2.0 * a) / us + b) * u + rate + 0.43).floor();
        if us >= 0.07 && v <= vr {
            return k;
        }
        if k < 0.0 || (us < 0.013 && v > us) {
            continue;
        }
        if v.ln() + invalpha.ln() - (a / (us * us) + b).ln() <= -rate + k * loglam - lgamma(k + 1.0) {
            return k;
        }
    }
    f64::NAN
}

/// One centered von Mises VM(0, κ) draw for element i: the Best–Fisher (1979) rejection sampler
/// with ts/backends/js/vonmises.ts's counter layout ([i mod 2^32, attempt, TAG_VON_MISES, i / 2^32];
/// u = 2·(w0, w1) − 1, v = (w2, w3)), so both backends draw the same values.
pub fn von_mises_element(k: f64, i: u64, key: [u32; 2]) -> f64 {
    if k.is_nan() || k < 0.0 {
        return f64::NAN;
    }
    if k == f64::INFINITY {
        return 0.0;
    }
    let c0 = i as u32;
    let c3 = (i >> 32) as u32;
    if k == 0.0 {
        let w = philox([c0, 0, TAG_VON_MISES, c3], key);
        return std::f64::consts::PI * (2.0 * u32_pair_to_f64(w[0], w[1]) - 1.0);
    }
    let q = (1.0 + 4.0 * k * k).sqrt();
    let tau = 1.0 + q;
    let rho = (2.0 * k * tau) / ((q + 1.0) * (tau + (2.0 * tau).sqrt()));
    let s = (1.0 + rho * rho) / (2.0 * rho);
    for t in 0..MAX_ATTEMPTS {
        let w = philox([c0, t, TAG_VON_MISES, c3], key);
        let u = 2.0 * u32_pair_to_f64(w[0], w[1]) - 1.0;
        let v = u32_pair_to_f64(w[2], w[3]);
        let z = (std::f64::consts::PI * u).cos();
        let wv = (1.0 + s * z) / (s + z);
        let y = k * (s - wv);
        if y * (2.0 - y) >= v || (y / v).ln() + 1.0 >= y {
            let a = wv.clamp(-1.0, 1.0).acos();
            return if u < 0.0 { -a } else { a };
        }
    }
    f64::NAN
}

fn per_element<T: Elem>(x: &[T], o: &mut [T], f: impl Fn(f64, u64) -> f64 + Sync + Send) -> Result<()> {
    if x.len() != o.len() {
        return Err(err("random: parameter and output sizes differ".into()));
    }
    par::chunks(o, 256, |s, c| {
        for (j, d) in c.iter_mut().enumerate() {
            *d = T::from_f64(f(x[s + j].to_f64(), (s + j) as u64));
        }
    });
    Ok(())
}

/// Gamma(alpha, 1) draws, one per element of `alpha`.
#[napi]
pub fn random_gamma(alpha: Arr, out: Arr, k0: u32, k1: u32) -> Result<()> {
    let key = key_of(k0, k1);
    dispatch_float!(alpha.kind(), "randomGamma", T => per_element(alpha.get::<T>()?, out.get_mut::<T>()?, |a, i| gamma_element(a, i, key)))
}

/// Centered von Mises draws, one per element of the concentration `kappa`.
#[napi]
pub fn random_von_mises(kappa: Arr, out: Arr, k0: u32, k1: u32) -> Result<()> {
    let key = key_of(k0, k1);
    dispatch_float!(kappa.kind(), "randomVonMises", T => per_element(kappa.get::<T>()?, out.get_mut::<T>()?, |c, i| von_mises_element(c, i, key)))
}

/// Poisson(rate) draws, one per element of `rate`.
#[napi]
pub fn random_poisson(rate: Arr, out: Arr, k0: u32, k1: u32) -> Result<()> {
    let key = key_of(k0, k1);
    dispatch_float!(rate.kind(), "randomPoisson", T => per_element(rate.get::<T>()?, out.get_mut::<T>()?, |r, i| poisson_element(r, i, key)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random123_known_answers() {
        assert_eq!(philox([0, 0, 0, 0], [0, 0]), [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]);
        let ones = u32::MAX;
        assert_eq!(philox([ones, ones, ones, ones], [ones, ones]), [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd]);
        assert_eq!(
            philox([0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0]),
            [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1]
        );
    }

    #[test]
    fn uniform_layout() {
        let key = [7, 9];
        let mut f = vec![0f32; 11];
        fill_uniform(&mut f, key);
        for (k, &v) in f.iter().enumerate() {
            let w = stream_block(k as u64 / 4, key)[k % 4];
            assert_eq!(v as f64, u32_to_f32(w));
        }
        let mut d = vec![0f64; 5];
        fill_uniform(&mut d, key);
        for (k, &v) in d.iter().enumerate() {
            let b = stream_block(k as u64 / 2, key);
            let l = 2 * (k % 2);
            assert_eq!(v, u32_pair_to_f64(b[l], b[l + 1]));
        }
    }

    #[test]
    fn samplers_have_sane_means() {
        let key = [1, 2];
        let n = 4000;
        for alpha in [0.5, 3.0] {
            let m: f64 = (0..n).map(|i| gamma_element(alpha, i, key)).sum::<f64>() / n as f64;
            assert!((m - alpha).abs() < 0.1 * alpha.max(1.0), "gamma mean {m} for {alpha}");
        }
        for rate in [2.5, 40.0] {
            let m: f64 = (0..n).map(|i| poisson_element(rate, i, key)).sum::<f64>() / n as f64;
            assert!((m - rate).abs() < 0.1 * rate, "poisson mean {m} for {rate}");
        }
    }
}

/// Dynamic binarization of a minibatch (ts/data/loader.ts): `out[b·dim + p] = 1` when uniform
/// number b·dim + p of key (k0, k1)'s float32 stream, times 255, is below pixel p of the image
/// starting at `images[starts[b]]`, else 0 — the loader's js loop over `randomUniform`, in one pass.
#[napi(js_name = "binarizeBatch")]
pub fn binarize_batch(images: napi::bindgen_prelude::Uint8ArraySlice, starts: Arr, dim: u32, k0: u32, k1: u32, out: Arr) -> Result<()> {
    let imgs: &[u8] = &images;
    let (st, o) = (starts.get::<i32>()?, out.get_mut::<f32>()?);
    let d = dim as usize;
    if d == 0 || o.len() != st.len() * d {
        return Err(err(format!("binarizeBatch: {} outputs for {} images of {d} pixels", o.len(), st.len())));
    }
    if let Some(&s) = st.iter().find(|&&s| s < 0 || s as usize + d > imgs.len()) {
        return Err(err(format!("binarizeBatch: an image at {s} does not fit {} pixels", imgs.len())));
    }
    let key = key_of(k0, k1);
    par::chunks(o, par::COSTLY_MIN * 8, |s0, c| {
        fill_words(s0, c, key, |w| u32_to_f32(w) as f32);
        // Image by image (one division per run of pixels, not per pixel).
        let mut j = 0;
        while j < c.len() {
            let (b, p) = ((s0 + j) / d, (s0 + j) % d);
            let len = (d - p).min(c.len() - j);
            let start = st[b] as usize + p;
            for (v, &px) in c[j..j + len].iter_mut().zip(&imgs[start..start + len]) {
                *v = if (*v as f64) * 255.0 < px as f64 { 1.0 } else { 0.0 };
            }
            j += len;
        }
    });
    Ok(())
}
