//! Kernels of the Gaussian mixture's sweeps (ts/infer/cavi/normal-wishart.ts).
//!
//! Full covariances, O(N·K·D²): the E-step's quadratic forms ‖A_j(x_i − m_j)‖² and the M-step's
//! weighted scatter matrices Σ_i r_ij (x_i − c_j)(x_i − c_j)ᵀ. Points are copied in blocks into
//! point-major buffers with the dimension padded to a multiple of 8, shifted by the component's own
//! center first (so data far from the origin lose no precision), and both products run on a 4 × 8
//! register tile that skips the zero triangle (an AVX2/FMA clone where the CPU has it).
//!
//! Diagonal covariances, O(N·K·D): Σ_e w_je (x_ie − m_je)² with the components in the vector lanes,
//! and the weighted moments N_j, Σ_i r_ij (x_i − s), Σ_i r_ij (x_i − s)² in one pass over the data.
//!
//! Sums over points are taken in fixed pieces added in order: results do not depend on the thread count.

use crate::par::{self, SendPtr};
use crate::{err, Arr};
use napi::Result;
use napi_derive::napi;

/// Points per block: two P × 56 float64 buffers (D = 50) stay in L2.
const P: usize = 128;
/// Points per partial sum of the scatter; the pieces are added in order, so the result does not
/// depend on the number of threads.
const PIECE: usize = 2048;

fn pad8(d: usize) -> usize {
    (d + 7) & !7
}

/// q[p] = Σ_r (Σ_e t[p·dp + e]·ut[e·dp + r])² for p < np; `t` holds np rounded up to 4 rows
/// (rows past np zero), `ut` = Aᵀ padded (dp × dp, zero below the diagonal and in the padding).
fn quad_block_generic(t: &[f64], ut: &[f64], dp: usize, d: usize, np: usize, q: &mut [f64]) {
    q[..np].fill(0.0);
    for r0 in (0..d).step_by(8) {
        let e_hi = d.min(r0 + 8);
        for p0 in (0..np).step_by(4) {
            let mut acc = [[0.0f64; 8]; 4];
            for e in 0..e_hi {
                let w = &ut[e * dp + r0..e * dp + r0 + 8];
                for (i, row) in acc.iter_mut().enumerate() {
                    let s = t[(p0 + i) * dp + e];
                    for l in 0..8 {
                        row[l] += s * w[l];
                    }
                }
            }
            for (i, row) in acc.iter().enumerate() {
                if p0 + i < np {
                    q[p0 + i] += row.iter().map(|v| v * v).sum::<f64>();
                }
            }
        }
    }
}

/// s[a·dp + b] += Σ_{p<np} u[p·dp + a]·v[p·dp + b] for the 4 × 8 tiles that touch b ≤ a
/// (`u`, `v`: np point rows of dp values, padding zero).
fn scatter_block_generic(u: &[f64], v: &[f64], dp: usize, d: usize, np: usize, s: &mut [f64]) {
    for a0 in (0..d).step_by(4) {
        for b0 in (0..=(a0 + 3).min(d - 1)).step_by(8) {
            let mut acc = [[0.0f64; 8]; 4];
            for p in 0..np {
                let w = &v[p * dp + b0..p * dp + b0 + 8];
                for (i, row) in acc.iter_mut().enumerate() {
                    let x = u[p * dp + a0 + i];
                    for l in 0..8 {
                        row[l] += x * w[l];
                    }
                }
            }
            for (i, row) in acc.iter().enumerate() {
                for l in 0..8 {
                    s[(a0 + i) * dp + b0 + l] += row[l];
                }
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    #[target_feature(enable = "avx2,fma")]
    unsafe fn hsum(v: __m256d) -> f64 {
        let lo = _mm256_castpd256_pd128(v);
        let hi = _mm256_extractf128_pd(v, 1);
        let s = _mm_add_pd(lo, hi);
        _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)))
    }

    /// [`super::quad_block_generic`] with FMA on ymm registers.
    ///
    /// # Safety
    /// The CPU must have AVX2 and FMA; the slices are laid out as the generic version requires.
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn quad_block(t: &[f64], ut: &[f64], dp: usize, d: usize, np: usize, q: &mut [f64]) {
        q[..np].fill(0.0);
        let (tp, up) = (t.as_ptr(), ut.as_ptr());
        for r0 in (0..d).step_by(8) {
            let e_hi = d.min(r0 + 8);
            for p0 in (0..np).step_by(4) {
                let mut acc = [[_mm256_setzero_pd(); 2]; 4];
                for e in 0..e_hi {
                    // SAFETY: e < d ≤ dp and r0 + 8 ≤ dp: inside ut; rows p0..p0 + 4 exist in t.
                    unsafe {
                        let w0 = _mm256_loadu_pd(up.add(e * dp + r0));
                        let w1 = _mm256_loadu_pd(up.add(e * dp + r0 + 4));
                        for (i, row) in acc.iter_mut().enumerate() {
                            let s = _mm256_broadcast_sd(&*tp.add((p0 + i) * dp + e));
                            row[0] = _mm256_fmadd_pd(s, w0, row[0]);
                            row[1] = _mm256_fmadd_pd(s, w1, row[1]);
                        }
                    }
                }
                for (i, row) in acc.iter().enumerate() {
                    if p0 + i < np {
                        let sq = _mm256_fmadd_pd(row[1], row[1], _mm256_mul_pd(row[0], row[0]));
                        q[p0 + i] += hsum(sq);
                    }
                }
            }
        }
    }

    /// [`super::scatter_block_generic`] with FMA on ymm registers.
    ///
    /// # Safety
    /// As [`quad_block`].
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn scatter_block(u: &[f64], v: &[f64], dp: usize, d: usize, np: usize, s: &mut [f64]) {
        let (uptr, vptr, sp) = (u.as_ptr(), v.as_ptr(), s.as_mut_ptr());
        for a0 in (0..d).step_by(4) {
            for b0 in (0..=(a0 + 3).min(d - 1)).step_by(8) {
                let mut acc = [[_mm256_setzero_pd(); 2]; 4];
                for p in 0..np {
                    // SAFETY: b0 + 8 ≤ dp and a0 + 4 ≤ dp: inside row p of u and v.
                    unsafe {
                        let w0 = _mm256_loadu_pd(vptr.add(p * dp + b0));
                        let w1 = _mm256_loadu_pd(vptr.add(p * dp + b0 + 4));
                        for (i, row) in acc.iter_mut().enumerate() {
                            let x = _mm256_broadcast_sd(&*uptr.add(p * dp + a0 + i));
                            row[0] = _mm256_fmadd_pd(x, w0, row[0]);
                            row[1] = _mm256_fmadd_pd(x, w1, row[1]);
                        }
                    }
                }
                for (i, row) in acc.iter().enumerate() {
                    // SAFETY: (a0 + i)·dp + b0 + 8 ≤ dp·dp = s.len().
                    unsafe {
                        let o = sp.add((a0 + i) * dp + b0);
                        _mm256_storeu_pd(o, _mm256_add_pd(_mm256_loadu_pd(o), row[0]));
                        _mm256_storeu_pd(o.add(4), _mm256_add_pd(_mm256_loadu_pd(o.add(4)), row[1]));
                    }
                }
            }
        }
    }
}

fn has_fma() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

fn quad_block(fast: bool, t: &[f64], ut: &[f64], dp: usize, d: usize, np: usize, q: &mut [f64]) {
    #[cfg(target_arch = "x86_64")]
    if fast {
        // SAFETY: `fast` is has_fma().
        return unsafe { x86::quad_block(t, ut, dp, d, np, q) };
    }
    let _ = fast;
    quad_block_generic(t, ut, dp, d, np, q)
}

fn scatter_block(fast: bool, u: &[f64], v: &[f64], dp: usize, d: usize, np: usize, s: &mut [f64]) {
    #[cfg(target_arch = "x86_64")]
    if fast {
        // SAFETY: `fast` is has_fma().
        return unsafe { x86::scatter_block(u, v, dp, d, np, s) };
    }
    let _ = fast;
    scatter_block_generic(u, v, dp, d, np, s)
}

/// out[i·K + j] = ‖A_j (x_i − m_j)‖² for x (N × D), m (K × D) and lower-triangular A (K × D × D,
/// row-major; entries above the diagonal are ignored).
pub fn quad_forms(fast: bool, x: &[f64], d: usize, k: usize, m: &[f64], a: &[f64], out: &mut [f64]) {
    let n = x.len() / d;
    let dp = pad8(d);
    // Aᵀ per component, padded: ut[j][e][r] = A_j[r][e] for r ≥ e.
    let mut ut = vec![0.0; k * dp * dp];
    for j in 0..k {
        for r in 0..d {
            for e in 0..=r {
                ut[j * dp * dp + e * dp + r] = a[j * d * d + r * d + e];
            }
        }
    }
    let blocks = n.div_ceil(P);
    let op = SendPtr(out.as_mut_ptr());
    par::ranges(blocks, n * k * d * d, par::COSTLY_MIN * 64, |lo, hi| {
        let mut t = vec![0.0; P * dp];
        let mut q = vec![0.0; P];
        for blk in lo..hi {
            let i0 = blk * P;
            let np = P.min(n - i0);
            // The tiles read np rounded up to 4 rows: those past np must be zero.
            t[np * dp..].fill(0.0);
            for j in 0..k {
                let mj = &m[j * d..(j + 1) * d];
                for p in 0..np {
                    let xi = &x[(i0 + p) * d..(i0 + p + 1) * d];
                    for e in 0..d {
                        t[p * dp + e] = xi[e] - mj[e];
                    }
                }
                quad_block(fast, &t, &ut[j * dp * dp..(j + 1) * dp * dp], dp, d, np, &mut q);
                for p in 0..np {
                    // SAFETY: row i0 + p of out belongs to this task's blocks alone.
                    unsafe { *op.get().add((i0 + p) * k + j) = q[p] };
                }
            }
        }
    });
}

/// out[j·D² + a·D + b] = Σ_i r_ij (x_i − c_j)_a (x_i − c_j)_b (symmetric, both triangles written)
/// for x (N × D), r (N × K) and centers c (K × D); points with r_ij = 0 are skipped.
pub fn weighted_scatter(fast: bool, x: &[f64], d: usize, k: usize, r: &[f64], c: &[f64], out: &mut [f64]) {
    let n = x.len() / d;
    let dp = pad8(d);
    let parts = in_pieces(n, n * k * d * d, |lo, hi| {
        let mut s = vec![0.0; k * dp * dp];
        let mut u = vec![0.0; P * dp];
        let mut v = vec![0.0; P * dp];
        for j in 0..k {
            let cj = &c[j * d..(j + 1) * d];
            let sj = &mut s[j * dp * dp..(j + 1) * dp * dp];
            let mut np = 0;
            for i in lo..hi {
                let w = r[i * k + j];
                if w == 0.0 {
                    continue;
                }
                let xi = &x[i * d..(i + 1) * d];
                for e in 0..d {
                    let dv = xi[e] - cj[e];
                    v[np * dp + e] = dv;
                    u[np * dp + e] = w * dv;
                }
                np += 1;
                if np == P {
                    scatter_block(fast, &u, &v, dp, d, np, sj);
                    np = 0;
                }
            }
            if np > 0 {
                scatter_block(fast, &u, &v, dp, d, np, sj);
            }
        }
        s
    });
    for j in 0..k {
        for a in 0..d {
            for b in 0..=a {
                let mut acc = 0.0;
                for part in &parts {
                    acc += part[j * dp * dp + a * dp + b];
                }
                out[j * d * d + a * d + b] = acc;
                out[j * d * d + b * d + a] = acc;
            }
        }
    }
}

/// out[i·K + j] = Σ_e w_je (x_ie − m_je)² for x (N × D), m and w (K × D).
pub fn diag_quad_forms(fast: bool, x: &[f64], d: usize, k: usize, m: &[f64], w: &[f64], out: &mut [f64]) {
    let n = x.len() / d;
    // Components in the lanes: mt[e·kp + j] = m_je (kp = K rounded up to 4, past 16 to a multiple
    // of 16; padding lanes zero).
    let kp = if k <= 16 { (k + 3) & !3 } else { (k + 15) & !15 };
    let (mut mt, mut wt) = (vec![0.0; d * kp], vec![0.0; d * kp]);
    for j in 0..k {
        for e in 0..d {
            mt[e * kp + j] = m[j * d + e];
            wt[e * kp + j] = w[j * d + e];
        }
    }
    let op = SendPtr(out.as_mut_ptr());
    par::ranges(n, n * k * d, par::COSTLY_MIN * 64, |lo, hi| {
        let a = DiagQuad { x, d, k, kp, mt: &mt, wt: &wt, out: op };
        #[cfg(target_arch = "x86_64")]
        if fast {
            // SAFETY: `fast` is has_fma().
            return unsafe { x86_rows::diag_quad(&a, lo, hi) };
        }
        let _ = fast;
        a.rows(lo, hi)
    });
}

struct DiagQuad<'a> {
    x: &'a [f64],
    d: usize,
    k: usize,
    kp: usize,
    mt: &'a [f64],
    wt: &'a [f64],
    out: SendPtr<f64>,
}

impl DiagQuad<'_> {
    /// The components' sums stay in registers, KP lanes at a time (kp is a multiple of KP).
    #[inline(always)]
    fn rows(&self, lo: usize, hi: usize) {
        match self.kp {
            4 => self.rows_fixed::<4>(lo, hi),
            8 => self.rows_fixed::<8>(lo, hi),
            12 => self.rows_fixed::<12>(lo, hi),
            _ => self.rows_fixed::<16>(lo, hi),
        }
    }

    #[inline(always)]
    fn rows_fixed<const KP: usize>(&self, lo: usize, hi: usize) {
        let (d, k, kp) = (self.d, self.k, self.kp);
        for i in lo..hi {
            for g in (0..kp).step_by(KP) {
                let mut acc = [0.0f64; KP];
                for (e, &xv) in self.x[i * d..(i + 1) * d].iter().enumerate() {
                    let me: &[f64; KP] = self.mt[e * kp + g..e * kp + g + KP].try_into().unwrap();
                    let we: &[f64; KP] = self.wt[e * kp + g..e * kp + g + KP].try_into().unwrap();
                    for j in 0..KP {
                        let t = xv - me[j];
                        acc[j] += we[j] * t * t;
                    }
                }
                self.store(i, k, g, &acc);
            }
        }
    }

    /// Components g.. of row i (those below k) from the lanes of `acc`.
    #[inline(always)]
    fn store(&self, i: usize, k: usize, g: usize, acc: &[f64]) {
        for (l, &a) in acc[..acc.len().min(k - g)].iter().enumerate() {
            // SAFETY: row i of out belongs to this task alone.
            unsafe { *self.out.get().add(i * k + g + l) = a };
        }
    }
}

/// out = [N (K) | F (K × D) | S (K × D)] with N_j = Σ_i r_ij, F_j = Σ_i r_ij (x_i − s) and
/// S_j = Σ_i r_ij (x_i − s)² for x (N × D), r (N × K) and a shift s (D): the diagonal M-step's
/// moments in one pass.
pub fn diag_moments(fast: bool, x: &[f64], d: usize, k: usize, r: &[f64], shift: &[f64], out: &mut [f64]) {
    let n = x.len() / d;
    let a = DiagMoments { x, d, k, r, shift };
    let parts = in_pieces(n, n * k * d, |lo, hi| {
        let mut acc = vec![0.0; k * (1 + 2 * d)];
        #[cfg(target_arch = "x86_64")]
        if fast {
            // SAFETY: `fast` is has_fma().
            unsafe { x86_rows::diag_moments(&a, lo, hi, &mut acc) };
            return acc;
        }
        let _ = fast;
        a.rows(lo, hi, &mut acc);
        acc
    });
    out.fill(0.0);
    for part in &parts {
        for (o, p) in out.iter_mut().zip(part) {
            *o += p;
        }
    }
}

struct DiagMoments<'a> {
    x: &'a [f64],
    d: usize,
    k: usize,
    r: &'a [f64],
    shift: &'a [f64],
}

impl DiagMoments<'_> {
    #[inline(always)]
    fn rows(&self, lo: usize, hi: usize, acc: &mut [f64]) {
        // Four rows at a time: each accumulator is loaded and stored once per four points.
        let (d, k) = (self.d, self.k);
        let (nk, moments) = acc.split_at_mut(k);
        let (f, s) = moments.split_at_mut(k * d);
        let mut v = vec![0.0; 4 * d];
        let mut i = lo;
        while i < hi {
            let rows = 4.min(hi - i);
            for c in 0..4 {
                for e in 0..d {
                    v[c * d + e] = if c < rows { self.x[(i + c) * d + e] - self.shift[e] } else { 0.0 };
                }
            }
            let (v0, rest) = v.split_at(d);
            let (v1, rest) = rest.split_at(d);
            let (v2, v3) = rest.split_at(d);
            for j in 0..k {
                let w = |c: usize| if c < rows { self.r[(i + c) * k + j] } else { 0.0 };
                let (w0, w1, w2, w3) = (w(0), w(1), w(2), w(3));
                if w0 == 0.0 && w1 == 0.0 && w2 == 0.0 && w3 == 0.0 {
                    continue;
                }
                nk[j] += w0 + w1 + w2 + w3;
                let (first, second) = (&mut f[j * d..(j + 1) * d], &mut s[j * d..(j + 1) * d]);
                for e in 0..d {
                    let (t0, t1, t2, t3) = (w0 * v0[e], w1 * v1[e], w2 * v2[e], w3 * v3[e]);
                    first[e] += t0 + t1 + t2 + t3;
                    second[e] += t0 * v0[e] + t1 * v1[e] + t2 * v2[e] + t3 * v3[e];
                }
            }
            i += rows;
        }
    }
}

/// The diagonal kernels' row loops compiled with AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
mod x86_rows {
    use super::{DiagMoments, DiagQuad};

    /// # Safety
    /// The CPU must have AVX2 and FMA.
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn diag_quad(a: &DiagQuad, lo: usize, hi: usize) {
        a.rows(lo, hi)
    }

    /// # Safety
    /// The CPU must have AVX2 and FMA.
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn diag_moments(a: &DiagMoments, lo: usize, hi: usize, acc: &mut [f64]) {
        a.rows(lo, hi, acc)
    }
}

/// `piece(lo, hi)` over the fixed pieces of PIECE points covering 0..n, in parallel when `work`
/// (element operations) is large enough; the partial results come back in piece order.
fn in_pieces(n: usize, work: usize, piece: impl Fn(usize, usize) -> Vec<f64> + Sync + Send) -> Vec<Vec<f64>> {
    let count = n.div_ceil(PIECE);
    let run = |p: usize| piece(p * PIECE, n.min((p + 1) * PIECE));
    if work >= par::COSTLY_MIN * 64 && count > 1 {
        crate::pool::map(count, run)
    } else {
        (0..count).map(run).collect()
    }
}

fn shapes(op: &str, x: &Arr, d: u32, k: u32) -> Result<(usize, usize, usize)> {
    let (d, k) = (d as usize, k as usize);
    if d == 0 || k == 0 || !x.len().is_multiple_of(d) {
        return Err(err(format!("{op}: x has {} values, not N rows of d = {d} (k = {k})", x.len())));
    }
    Ok((x.len() / d, d, k))
}

fn check_len(op: &str, name: &str, got: usize, want: usize) -> Result<()> {
    if got == want {
        Ok(())
    } else {
        Err(err(format!("{op}: {name} has {got} values, expected {want}")))
    }
}

/// `mixtureQuad(x, m, a, out, d, k)`: out[i·k + j] = ‖A_j (x_i − m_j)‖² (float64; see [`quad_forms`]).
#[napi(js_name = "mixtureQuad")]
pub fn mixture_quad(x: Arr, m: Arr, a: Arr, out: Arr, d: u32, k: u32) -> Result<()> {
    let op = "mixtureQuad";
    let (n, d, k) = shapes(op, &x, d, k)?;
    check_len(op, "m", m.len(), k * d)?;
    check_len(op, "a", a.len(), k * d * d)?;
    check_len(op, "out", out.len(), n * k)?;
    quad_forms(has_fma(), x.get::<f64>()?, d, k, m.get::<f64>()?, a.get::<f64>()?, out.get_mut::<f64>()?);
    Ok(())
}

/// `mixtureScatter(x, r, c, out, d, k)`: out[j] = Σ_i r_ij (x_i − c_j)(x_i − c_j)ᵀ (float64; see [`weighted_scatter`]).
#[napi(js_name = "mixtureScatter")]
pub fn mixture_scatter(x: Arr, r: Arr, c: Arr, out: Arr, d: u32, k: u32) -> Result<()> {
    let op = "mixtureScatter";
    let (n, d, k) = shapes(op, &x, d, k)?;
    check_len(op, "r", r.len(), n * k)?;
    check_len(op, "c", c.len(), k * d)?;
    check_len(op, "out", out.len(), k * d * d)?;
    weighted_scatter(has_fma(), x.get::<f64>()?, d, k, r.get::<f64>()?, c.get::<f64>()?, out.get_mut::<f64>()?);
    Ok(())
}

/// `mixtureDiagQuad(x, m, w, out, d, k)`: out[i·k + j] = Σ_e w_je (x_ie − m_je)² (float64; see [`diag_quad_forms`]).
#[napi(js_name = "mixtureDiagQuad")]
pub fn mixture_diag_quad(x: Arr, m: Arr, w: Arr, out: Arr, d: u32, k: u32) -> Result<()> {
    let op = "mixtureDiagQuad";
    let (n, d, k) = shapes(op, &x, d, k)?;
    check_len(op, "m", m.len(), k * d)?;
    check_len(op, "w", w.len(), k * d)?;
    check_len(op, "out", out.len(), n * k)?;
    diag_quad_forms(has_fma(), x.get::<f64>()?, d, k, m.get::<f64>()?, w.get::<f64>()?, out.get_mut::<f64>()?);
    Ok(())
}

/// `mixtureDiagMoments(x, r, shift, out, d, k)`: [N (k) | Σ r (x − s) (k × d) | Σ r (x − s)² (k × d)]
/// (float64; see [`diag_moments`]).
#[napi(js_name = "mixtureDiagMoments")]
pub fn mixture_diag_moments(x: Arr, r: Arr, shift: Arr, out: Arr, d: u32, k: u32) -> Result<()> {
    let op = "mixtureDiagMoments";
    let (n, d, k) = shapes(op, &x, d, k)?;
    check_len(op, "r", r.len(), n * k)?;
    check_len(op, "shift", shift.len(), d)?;
    check_len(op, "out", out.len(), k * (1 + 2 * d))?;
    diag_moments(has_fma(), x.get::<f64>()?, d, k, r.get::<f64>()?, shift.get::<f64>()?, out.get_mut::<f64>()?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(n: usize, d: usize, k: usize) -> (Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>) {
        let mut s = 12345u64;
        let mut rnd = move || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        };
        let x: Vec<f64> = (0..n * d).map(|i| 1e3 * (i % d) as f64 + rnd()).collect();
        let m: Vec<f64> = (0..k * d).map(|i| 1e3 * (i % d) as f64 + 0.1 * rnd()).collect();
        let a: Vec<f64> = (0..k * d * d).map(|i| if (i % (d * d)) / d >= i % d { rnd() } else { f64::NAN }).collect();
        let r: Vec<f64> = (0..n * k).map(|i| if i % 5 == 0 { 0.0 } else { rnd() + 0.5 }).collect();
        (x, m, a, r)
    }

    #[test]
    fn quad_forms_match_per_point_sums() {
        // d = 11 pads to 16; n = 300 leaves a partial block of points.
        let (n, d, k) = (300, 11, 3);
        let (x, m, a, _) = data(n, d, k);
        for fast in [false, has_fma()] {
            let mut out = vec![0.0; n * k];
            quad_forms(fast, &x, d, k, &m, &a, &mut out);
            for i in 0..n {
                for j in 0..k {
                    let mut q = 0.0;
                    for row in 0..d {
                        let y: f64 = (0..=row).map(|e| a[j * d * d + row * d + e] * (x[i * d + e] - m[j * d + e])).sum();
                        q += y * y;
                    }
                    assert!((out[i * k + j] - q).abs() <= 1e-12 * q.max(1.0), "fast {fast} ({i}, {j}): {} vs {q}", out[i * k + j]);
                }
            }
        }
    }

    #[test]
    fn diag_kernels_match_per_point_sums() {
        // K = 5 fits one register group; K = 21 takes two groups of 16 lanes.
        for (fast, k) in [(false, 5), (has_fma(), 5), (has_fma(), 21)] {
            let (n, d) = (2 * PIECE + 77, 7);
            let (x, m, a, r) = data(n, d, k);
            let w: Vec<f64> = a[..k * d].iter().map(|v| if v.is_nan() { 0.5 } else { v.abs() }).collect();
            let shift: Vec<f64> = m[..d].to_vec();
            let mut q = vec![0.0; n * k];
            diag_quad_forms(fast, &x, d, k, &m, &w, &mut q);
            let mut mo = vec![0.0; k * (1 + 2 * d)];
            diag_moments(fast, &x, d, k, &r, &shift, &mut mo);
            for i in 0..n {
                for j in 0..k {
                    let want: f64 = (0..d).map(|e| w[j * d + e] * (x[i * d + e] - m[j * d + e]).powi(2)).sum();
                    assert!((q[i * k + j] - want).abs() <= 1e-12 * want.max(1.0), "fast {fast} quad ({i}, {j})");
                }
            }
            for j in 0..k {
                let nj: f64 = (0..n).map(|i| r[i * k + j]).sum();
                assert!((mo[j] - nj).abs() <= 1e-11 * nj);
                for e in 0..d {
                    let s1: f64 = (0..n).map(|i| r[i * k + j] * (x[i * d + e] - shift[e])).sum();
                    let s2: f64 = (0..n).map(|i| r[i * k + j] * (x[i * d + e] - shift[e]).powi(2)).sum();
                    assert!((mo[k + j * d + e] - s1).abs() <= 1e-11 * s1.abs().max(1.0), "fast {fast} first ({j}, {e})");
                    assert!((mo[k + k * d + j * d + e] - s2).abs() <= 1e-11 * s2.max(1.0), "fast {fast} second ({j}, {e})");
                }
            }
        }
    }

    #[test]
    fn scatter_matches_per_point_sums() {
        let (n, d, k) = (2 * PIECE + 300, 13, 2);
        let (x, m, _, r) = data(n, d, k);
        for fast in [false, has_fma()] {
            let mut out = vec![0.0; k * d * d];
            weighted_scatter(fast, &x, d, k, &r, &m, &mut out);
            for j in 0..k {
                for a in 0..d {
                    for b in 0..d {
                        let s: f64 = (0..n).map(|i| r[i * k + j] * (x[i * d + a] - m[j * d + a]) * (x[i * d + b] - m[j * d + b])).sum();
                        let got = out[j * d * d + a * d + b];
                        assert!((got - s).abs() <= 1e-11 * s.abs().max(1.0), "fast {fast} ({j}, {a}, {b}): {got} vs {s}");
                    }
                }
            }
        }
    }
}
