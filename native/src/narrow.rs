//! Narrow products: C = A · B with at most [`NARROW`] output columns (or, through C^T = B^T · A^T,
//! output rows), the shapes of a small network's last layers and of their gradients (a MADE's
//! [512, 64] · [64, 10] output layer, its [64, 512] · [512, 5] weight gradient). The blocked
//! product pads such a C to its 32-column float32 tiles and packs all of A; dot products against
//! B's columns (the old skinny path) spend most of their time in horizontal sums.
//!
//! Here B (k × n) is packed once into k rows of W = 8 or 16 lanes (zero-padded), and each tile of
//! [`ROWS`] rows of C is a register block of ROWS × W accumulators: for each p, one row of the packed
//! B and one element of each of the ROWS rows of A (read in place, any layout), one fused
//! multiply-add per row and vector on the AVX-512 or AVX2 kernels, a plain loop elsewhere; each element is accumulated in p order. Row tiles split across
//! cores for large products.

use crate::blocked::GemmElem;
use crate::matmul::Mat;
use crate::par::SendPtr;
use crate::Kind;

/// Most output columns (or rows) a narrow product has.
pub const NARROW: usize = 16;
/// Rows of C per register tile.
const ROWS: usize = 8;
/// Multiply-adds from which the row tiles split across cores, and about the least each part gets.
const PAR_WORK: usize = 1 << 17;

/// Rows `i0..i0 + ROWS` of C (row indices past the last one repeat it), as ROWS × W accumulators.
///
/// # Safety
/// `a` plus `off[r] + p·cs` is inside A for every r and p < k; `bp` holds k·W elements.
#[inline(always)]
unsafe fn tile_body<T: GemmElem, const W: usize>(
    k: usize,
    a: *const T,
    off: &[usize; ROWS],
    cs: usize,
    bp: *const T,
) -> [[T; W]; ROWS] {
    let mut acc = [[T::default(); W]; ROWS];
    for p in 0..k {
        // SAFETY: p < k, so the row p of the packed B and the A elements are in bounds (the caller's contract).
        let b = unsafe { &*(bp.add(p * W) as *const [T; W]) };
        let pc = p * cs;
        for (r, row) in acc.iter_mut().enumerate() {
            let x = unsafe { *a.add(off[r] + pc) };
            for j in 0..W {
                row[j] = row[j] + x * b[j];
            }
        }
    }
    acc
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::ROWS;
    use std::arch::x86_64::*;

    /// The float32 tile with W = 16: one zmm accumulator per row, fused multiply-adds.
    ///
    /// # Safety
    /// The CPU must have AVX-512 F; as [`super::tile_body`], with `out` the ROWS × 16 result.
    #[target_feature(enable = "avx512f")]
    pub unsafe fn f32x16(k: usize, a: *const f32, off: &[usize; ROWS], cs: usize, bp: *const f32, out: *mut f32) {
        let mut acc = [_mm512_setzero_ps(); ROWS];
        for p in 0..k {
            // SAFETY: the caller's contract (row p of the packed B, A's elements of column p).
            unsafe {
                let b = _mm512_loadu_ps(bp.add(16 * p));
                let pc = p * cs;
                for (r, v) in acc.iter_mut().enumerate() {
                    *v = _mm512_fmadd_ps(_mm512_set1_ps(*a.add(off[r] + pc)), b, *v);
                }
            }
        }
        for (r, v) in acc.iter().enumerate() {
            // SAFETY: `out` holds ROWS × 16 elements.
            unsafe { _mm512_storeu_ps(out.add(16 * r), *v) };
        }
    }

    /// The float32 tile with W = 8: one ymm accumulator per row.
    ///
    /// # Safety
    /// The CPU must have AVX2 and FMA; as [`f32x16`] with ROWS × 8 results.
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn f32x8(k: usize, a: *const f32, off: &[usize; ROWS], cs: usize, bp: *const f32, out: *mut f32) {
        let mut acc = [_mm256_setzero_ps(); ROWS];
        for p in 0..k {
            // SAFETY: as in f32x16.
            unsafe {
                let b = _mm256_loadu_ps(bp.add(8 * p));
                let pc = p * cs;
                for (r, v) in acc.iter_mut().enumerate() {
                    *v = _mm256_fmadd_ps(_mm256_set1_ps(*a.add(off[r] + pc)), b, *v);
                }
            }
        }
        for (r, v) in acc.iter().enumerate() {
            // SAFETY: `out` holds ROWS × 8 elements.
            unsafe { _mm256_storeu_ps(out.add(8 * r), *v) };
        }
    }

    /// The float64 tile with W = 16: two zmm accumulators per row.
    ///
    /// # Safety
    /// The CPU must have AVX-512 F; as [`f32x16`].
    #[target_feature(enable = "avx512f")]
    pub unsafe fn f64x16(k: usize, a: *const f64, off: &[usize; ROWS], cs: usize, bp: *const f64, out: *mut f64) {
        let mut acc = [[_mm512_setzero_pd(); 2]; ROWS];
        for p in 0..k {
            // SAFETY: as in f32x16.
            unsafe {
                let b0 = _mm512_loadu_pd(bp.add(16 * p));
                let b1 = _mm512_loadu_pd(bp.add(16 * p + 8));
                let pc = p * cs;
                for (r, v) in acc.iter_mut().enumerate() {
                    let x = _mm512_set1_pd(*a.add(off[r] + pc));
                    v[0] = _mm512_fmadd_pd(x, b0, v[0]);
                    v[1] = _mm512_fmadd_pd(x, b1, v[1]);
                }
            }
        }
        for (r, v) in acc.iter().enumerate() {
            // SAFETY: `out` holds ROWS × 16 elements.
            unsafe {
                _mm512_storeu_pd(out.add(16 * r), v[0]);
                _mm512_storeu_pd(out.add(16 * r + 8), v[1]);
            }
        }
    }

    /// The float64 tile with W = 8: one zmm accumulator per row.
    ///
    /// # Safety
    /// The CPU must have AVX-512 F; as [`f32x16`] with ROWS × 8 results.
    #[target_feature(enable = "avx512f")]
    pub unsafe fn f64x8(k: usize, a: *const f64, off: &[usize; ROWS], cs: usize, bp: *const f64, out: *mut f64) {
        let mut acc = [_mm512_setzero_pd(); ROWS];
        for p in 0..k {
            // SAFETY: as in f32x16.
            unsafe {
                let b = _mm512_loadu_pd(bp.add(8 * p));
                let pc = p * cs;
                for (r, v) in acc.iter_mut().enumerate() {
                    *v = _mm512_fmadd_pd(_mm512_set1_pd(*a.add(off[r] + pc)), b, *v);
                }
            }
        }
        for (r, v) in acc.iter().enumerate() {
            // SAFETY: `out` holds ROWS × 8 elements.
            unsafe { _mm512_storeu_pd(out.add(8 * r), *v) };
        }
    }

    /// The float64 tile on AVX2: V ymm accumulators per row (W = 4·V), RP rows per pass over k
    /// (RP·V ≤ 8 keeps the accumulators, B's vectors and the broadcast in the 16 registers).
    ///
    /// # Safety
    /// The CPU must have AVX2 and FMA; as [`f32x16`] with ROWS × 4·V results.
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn f64_avx2<const V: usize, const RP: usize>(
        k: usize,
        a: *const f64,
        off: &[usize; ROWS],
        cs: usize,
        bp: *const f64,
        out: *mut f64,
    ) {
        let w = 4 * V;
        for r0 in (0..ROWS).step_by(RP) {
            let mut acc = [[_mm256_setzero_pd(); V]; RP];
            for p in 0..k {
                // SAFETY: as in f32x16.
                unsafe {
                    let mut b = [_mm256_setzero_pd(); V];
                    for (v, bv) in b.iter_mut().enumerate() {
                        *bv = _mm256_loadu_pd(bp.add(w * p + 4 * v));
                    }
                    let pc = p * cs;
                    for (r, row) in acc.iter_mut().enumerate() {
                        let x = _mm256_set1_pd(*a.add(off[r0 + r] + pc));
                        for (v, acc_v) in row.iter_mut().enumerate() {
                            *acc_v = _mm256_fmadd_pd(x, b[v], *acc_v);
                        }
                    }
                }
            }
            for (r, row) in acc.iter().enumerate() {
                for (v, acc_v) in row.iter().enumerate() {
                    // SAFETY: `out` holds ROWS × w elements.
                    unsafe { _mm256_storeu_pd(out.add(w * (r0 + r) + 4 * v), *acc_v) };
                }
            }
        }
    }

    /// The float32 tile with W = 16 on AVX2: two ymm accumulators per row, four rows per pass.
    ///
    /// # Safety
    /// The CPU must have AVX2 and FMA; as [`f32x16`].
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn f32x16_avx2(k: usize, a: *const f32, off: &[usize; ROWS], cs: usize, bp: *const f32, out: *mut f32) {
        for r0 in (0..ROWS).step_by(4) {
            let mut acc = [[_mm256_setzero_ps(); 2]; 4];
            for p in 0..k {
                // SAFETY: as in f32x16.
                unsafe {
                    let (b0, b1) = (_mm256_loadu_ps(bp.add(16 * p)), _mm256_loadu_ps(bp.add(16 * p + 8)));
                    let pc = p * cs;
                    for (r, row) in acc.iter_mut().enumerate() {
                        let x = _mm256_set1_ps(*a.add(off[r0 + r] + pc));
                        row[0] = _mm256_fmadd_ps(x, b0, row[0]);
                        row[1] = _mm256_fmadd_ps(x, b1, row[1]);
                    }
                }
            }
            for (r, row) in acc.iter().enumerate() {
                // SAFETY: `out` holds ROWS × 16 elements.
                unsafe {
                    _mm256_storeu_ps(out.add(16 * (r0 + r)), row[0]);
                    _mm256_storeu_ps(out.add(16 * (r0 + r) + 8), row[1]);
                }
            }
        }
    }
}

/// Rows of C by the vector kernel for T and W on this CPU into `out`; false where there is none.
///
/// # Safety
/// As [`tile_body`].
#[inline(always)]
unsafe fn tile_simd<T: GemmElem, const W: usize>(
    k: usize,
    a: *const T,
    off: &[usize; ROWS],
    cs: usize,
    bp: *const T,
    out: &mut [[T; W]; ROWS],
    caps: Caps,
) -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        let o = out.as_mut_ptr() as *mut T;
        let (avx512, avx2) = caps;
        // SAFETY: T is the element type the kernel takes (checked by its KIND), the features were
        // detected, and the caller's contract is the kernels'.
        unsafe {
            match (T::KIND, W) {
                (Kind::F32, 16) if avx512 => x86::f32x16(k, a as *const f32, off, cs, bp as *const f32, o as *mut f32),
                (Kind::F32, 16) if avx2 => {
                    x86::f32x16_avx2(k, a as *const f32, off, cs, bp as *const f32, o as *mut f32)
                }
                (Kind::F32, 8) if avx2 => x86::f32x8(k, a as *const f32, off, cs, bp as *const f32, o as *mut f32),
                (Kind::F64, 16) if avx512 => x86::f64x16(k, a as *const f64, off, cs, bp as *const f64, o as *mut f64),
                (Kind::F64, 16) if avx2 => {
                    x86::f64_avx2::<4, 2>(k, a as *const f64, off, cs, bp as *const f64, o as *mut f64)
                }
                (Kind::F64, 8) if avx512 => x86::f64x8(k, a as *const f64, off, cs, bp as *const f64, o as *mut f64),
                (Kind::F64, 8) if avx2 => {
                    x86::f64_avx2::<2, 4>(k, a as *const f64, off, cs, bp as *const f64, o as *mut f64)
                }
                _ => return false,
            }
        }
        true
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = (k, a, off, cs, bp, out, caps);
        false
    }
}

/// Which vector kernels may run: AVX-512 F, and AVX2 with FMA.
pub type Caps = (bool, bool);

/// The [`Caps`] of this CPU.
pub fn simd() -> Caps {
    #[cfg(target_arch = "x86_64")]
    {
        use std::sync::OnceLock;
        static S: OnceLock<Caps> = OnceLock::new();
        *S.get_or_init(|| {
            (is_x86_feature_detected!("avx512f"), is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma"))
        })
    }
    #[cfg(not(target_arch = "x86_64"))]
    (false, false)
}

/// Row tiles `t0..t1` of C = A · B (`n` ≤ W columns), stored at `c[i·cr + j·cc]`.
fn tiles<T: GemmElem, const W: usize>(
    m: usize,
    n: usize,
    k: usize,
    a: &Mat<T>,
    bp: &[T],
    c: SendPtr<T>,
    cr: usize,
    cc: usize,
    t0: usize,
    t1: usize,
    caps: Caps,
) {
    let mut acc = [[T::default(); W]; ROWS];
    for t in t0..t1 {
        let i0 = t * ROWS;
        let rows = ROWS.min(m - i0);
        let off: [usize; ROWS] = std::array::from_fn(|r| (i0 + r.min(rows - 1)) * a.rs);
        let (ap, bpp) = (a.data.as_ptr(), bp.as_ptr());
        // SAFETY: `narrow` checked that A holds every (i, p) with i < m, p < k, and bp has k·W elements.
        unsafe {
            if !tile_simd::<T, W>(k, ap, &off, a.cs, bpp, &mut acc, caps) {
                acc = tile_body::<T, W>(k, ap, &off, a.cs, bpp);
            }
        }
        for (r, row) in acc.iter().enumerate().take(rows) {
            for (j, &v) in row.iter().enumerate().take(n) {
                // SAFETY: (i0 + r, j) is inside C (checked in `narrow`); tiles write disjoint rows.
                unsafe { *c.get().add((i0 + r) * cr + j * cc) = v };
            }
        }
    }
}

/// C = A · B for n ≤ [`NARROW`] columns, C's element (i, j) at `c[i·cr + j·cc]`.
fn narrow_cols<T: GemmElem, const W: usize>(
    m: usize,
    n: usize,
    k: usize,
    a: &Mat<T>,
    b: &Mat<T>,
    c: &mut [T],
    cr: usize,
    cc: usize,
    caps: Caps,
) {
    let mut bp = vec![T::default(); k * W];
    for (p, row) in bp.chunks_exact_mut(W).enumerate() {
        for (j, v) in row.iter_mut().enumerate().take(n) {
            *v = b.at(p, j);
        }
    }
    let last = (m - 1) * a.rs + (k - 1) * a.cs;
    assert!(last < a.data.len() && (m - 1) * cr + (n - 1) * cc < c.len(), "narrow: operand too short");
    let ntiles = m.div_ceil(ROWS);
    let cp = SendPtr(c.as_mut_ptr());
    let threads = crate::pool::workers();
    if threads > 1 && m * n * k >= PAR_WORK && ntiles > 1 {
        let per = (PAR_WORK / 4).div_ceil(ROWS * n * k).max(ntiles.div_ceil(4 * threads));
        crate::pool::for_each(ntiles.div_ceil(per), |q| {
            tiles::<T, W>(m, n, k, a, &bp, cp, cr, cc, q * per, ((q + 1) * per).min(ntiles), caps)
        });
    } else {
        tiles::<T, W>(m, n, k, a, &bp, cp, cr, cc, 0, ntiles, caps);
    }
}

/// C (m × n, row-major) = A · B when n ≤ [`NARROW`] or m ≤ [`NARROW`] (the latter as
/// C^T = B^T · A^T, stored transposed); false for other shapes. m, n, k ≥ 1.
pub fn narrow<T: GemmElem>(m: usize, n: usize, k: usize, a: &Mat<T>, b: &Mat<T>, c: &mut [T]) -> bool {
    narrow_with(m, n, k, a, b, c, simd())
}

/// [`narrow`] with the vector kernels limited to `caps` (the tests run the AVX2 and plain ones).
pub fn narrow_with<T: GemmElem>(m: usize, n: usize, k: usize, a: &Mat<T>, b: &Mat<T>, c: &mut [T], caps: Caps) -> bool {
    if n <= NARROW && (n <= m || m > NARROW) {
        if n <= 8 {
            narrow_cols::<T, 8>(m, n, k, a, b, c, n, 1, caps);
        } else {
            narrow_cols::<T, 16>(m, n, k, a, b, c, n, 1, caps);
        }
        true
    } else if m <= NARROW {
        // C^T (n × m) = B^T · A^T: rows of B^T are B's columns, and A^T's element (p, i) is A(i, p).
        let bt = Mat { data: b.data, rs: b.cs, cs: b.rs };
        let at = Mat { data: a.data, rs: a.cs, cs: a.rs };
        if m <= 8 {
            narrow_cols::<T, 8>(n, m, k, &bt, &at, c, 1, n, caps);
        } else {
            narrow_cols::<T, 16>(n, m, k, &bt, &at, c, 1, n, caps);
        }
        true
    } else {
        false
    }
}
