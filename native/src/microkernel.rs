//! The register-tiled micro-kernels of the blocked product (blocked.rs): each multiplies a packed
//! MR-row panel of A (kc steps of MR elements) by a packed NR-column panel of B (kc steps of NR
//! elements) and writes or adds the MR×NR result into a tile of C, of which only `rows` × `cols`
//! lie inside C (the edge tiles of a product whose sides are not multiples of MR and NR).
//!
//! Three families, chosen once per call by what the CPU has: AVX-512 (16 or 32 lanes per
//! register pair; 2·MR accumulators), AVX2 + FMA (6 × 8 float64, 6 × 16 float32: 12 ymm
//! accumulators), and a portable loop. A kernel broadcasts one A element per row and step and
//! multiplies it with the step's B vectors (outer-product form).

/// A micro-kernel: (kc, a, bp, c, ldc, rows, cols, first). Multiplies MR rows of A by the packed
/// panel `bp` (kc × NR) and writes (`first`) or adds the top-left `rows` × `cols` of the product
/// into C at `c` with row stride `ldc`. Element (i, p) of A is at `a.ptr + i·a.rs + p·a.ps`: a
/// packed panel (rs 1, ps MR) or A in place (its rows need not be packed when they are in cache);
/// rows past `rows` are read as row `rows − 1` (their results are dropped), so A in place needs
/// only `rows` rows.
pub type Kernel<T> = unsafe fn(usize, APanel<T>, *const T, *mut T, usize, usize, usize, bool);

/// Where a kernel reads its MR rows of A: element (i, p) at `ptr + i·rs + p·ps`.
#[derive(Clone, Copy)]
pub struct APanel<T> {
    pub ptr: *const T,
    pub rs: usize,
    pub ps: usize,
}

impl<T> APanel<T> {
    /// The offsets of the kernel's MR rows, rows past `rows` repeating the last one.
    #[inline(always)]
    fn offsets<const MR: usize>(&self, rows: usize) -> [usize; MR] {
        std::array::from_fn(|i| i.min(rows - 1) * self.rs)
    }
}

/// The largest MR × NR of any kernel here (the stack tile of the edge-tile fallbacks).
pub const MAX_TILE: usize = 512;

/// Writes or adds the top-left rows × cols of a full MR×NR tile `acc` (row-major, NR wide) into C.
///
/// # Safety
/// `c` addresses `rows` rows of `cols` elements at stride `ldc`.
#[inline(always)]
unsafe fn store_tile<T: Copy + std::ops::Add<Output = T>>(
    acc: &[T],
    nr: usize,
    c: *mut T,
    ldc: usize,
    rows: usize,
    cols: usize,
    first: bool,
) {
    for i in 0..rows {
        for j in 0..cols {
            // SAFETY: (i, j) is inside the rows × cols part of C the caller vouches for.
            let d = unsafe { &mut *c.add(i * ldc + j) };
            let v = acc[i * nr + j];
            *d = if first { v } else { *d + v };
        }
    }
}

/// Portable micro-kernel, for CPUs without AVX2/FMA.
///
/// # Safety
/// `ap` addresses `rows` rows of kc elements, `bp` holds kc·NR elements; `c` addresses `rows` rows
/// of `cols` elements at `ldc`.
pub unsafe fn generic<T, const MR: usize, const NR: usize>(
    kc: usize,
    ap: APanel<T>,
    bp: *const T,
    c: *mut T,
    ldc: usize,
    rows: usize,
    cols: usize,
    first: bool,
) where
    T: Copy + Default + std::ops::Add<Output = T> + std::ops::Mul<Output = T>,
{
    let mut acc = [T::default(); MAX_TILE];
    let off = ap.offsets::<MR>(rows);
    for p in 0..kc {
        for i in 0..MR {
            // SAFETY: row off[i] < rows and p < kc stay inside A, as the caller guarantees.
            let a = unsafe { *ap.ptr.add(off[i] + p * ap.ps) };
            for j in 0..NR {
                // SAFETY: p < kc and j < NR stay inside the packed B panel.
                let b = unsafe { *bp.add(p * NR + j) };
                acc[i * NR + j] = acc[i * NR + j] + a * b;
            }
        }
    }
    // SAFETY: forwarded from the caller.
    unsafe { store_tile(&acc, NR, c, ldc, rows, cols, first) }
}

#[cfg(target_arch = "x86_64")]
pub mod x86 {
    use super::{store_tile, APanel, MAX_TILE};
    use std::arch::x86_64::*;

    /// Whether the AVX-512 kernels can run (AVX-512 F is all they use).
    pub fn has_avx512() -> bool {
        is_x86_feature_detected!("avx512f")
    }

    /// Whether the AVX2 kernels can run.
    pub fn has_avx2_fma() -> bool {
        is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma")
    }

    /// The mask of the first `n` of 16 lanes (n ≤ 16).
    #[inline(always)]
    fn lanes(n: usize) -> u16 {
        ((1u32 << n) - 1) as u16
    }

    /// MR×16 float64 AVX-512 micro-kernel: 2·MR zmm accumulators, two B vectors and MR A
    /// broadcasts a step; edge tiles are stored through lane masks.
    ///
    /// # Safety
    /// The CPU must have AVX-512 F; `ap` addresses `rows` (≤ MR) rows of kc elements, `bp` holds
    /// kc·16 elements; `c` addresses `rows` rows of `cols` (≤ 16) elements at stride `ldc`.
    #[target_feature(enable = "avx512f")]
    pub unsafe fn f64_avx512<const MR: usize>(
        kc: usize,
        ap: APanel<f64>,
        bp: *const f64,
        c: *mut f64,
        ldc: usize,
        rows: usize,
        cols: usize,
        first: bool,
    ) {
        let mut acc = [[_mm512_setzero_pd(); 2]; MR];
        let off = ap.offsets::<MR>(rows);
        let (mut a, mut b) = (ap.ptr, bp);
        for _ in 0..kc {
            // SAFETY: each step reads 16 B elements of the packed panel and one element of each of the
            // first `rows` rows of A.
            unsafe {
                let b0 = _mm512_loadu_pd(b);
                let b1 = _mm512_loadu_pd(b.add(8));
                for (i, row) in acc.iter_mut().enumerate() {
                    let ai = _mm512_set1_pd(*a.add(off[i]));
                    row[0] = _mm512_fmadd_pd(ai, b0, row[0]);
                    row[1] = _mm512_fmadd_pd(ai, b1, row[1]);
                }
                a = a.add(ap.ps);
                b = b.add(16);
            }
        }
        let m = lanes(cols);
        let (m0, m1) = ((m & 0xff) as u8, (m >> 8) as u8);
        for (i, row) in acc.iter().enumerate().take(rows) {
            // SAFETY: row i < rows of C holds `cols` elements at c + i·ldc; the masks keep the
            // loads and stores to those.
            unsafe {
                let p = c.add(i * ldc);
                let (mut v0, mut v1) = (row[0], row[1]);
                if !first {
                    v0 = _mm512_add_pd(v0, _mm512_maskz_loadu_pd(m0, p));
                    v1 = _mm512_add_pd(v1, _mm512_maskz_loadu_pd(m1, p.add(8)));
                }
                _mm512_mask_storeu_pd(p, m0, v0);
                _mm512_mask_storeu_pd(p.add(8), m1, v1);
            }
        }
    }

    /// MR×32 float32 AVX-512 micro-kernel, the float32 analogue of [`f64_avx512`].
    ///
    /// # Safety
    /// As [`f64_avx512`], with kc·32 B elements and `cols` ≤ 32.
    #[target_feature(enable = "avx512f")]
    pub unsafe fn f32_avx512<const MR: usize>(
        kc: usize,
        ap: APanel<f32>,
        bp: *const f32,
        c: *mut f32,
        ldc: usize,
        rows: usize,
        cols: usize,
        first: bool,
    ) {
        let mut acc = [[_mm512_setzero_ps(); 2]; MR];
        let off = ap.offsets::<MR>(rows);
        let (mut a, mut b) = (ap.ptr, bp);
        for _ in 0..kc {
            // SAFETY: as in f64_avx512, with 32 B elements.
            unsafe {
                let b0 = _mm512_loadu_ps(b);
                let b1 = _mm512_loadu_ps(b.add(16));
                for (i, row) in acc.iter_mut().enumerate() {
                    let ai = _mm512_set1_ps(*a.add(off[i]));
                    row[0] = _mm512_fmadd_ps(ai, b0, row[0]);
                    row[1] = _mm512_fmadd_ps(ai, b1, row[1]);
                }
                a = a.add(ap.ps);
                b = b.add(32);
            }
        }
        let (m0, m1) = (lanes(cols.min(16)), lanes(cols.saturating_sub(16)));
        for (i, row) in acc.iter().enumerate().take(rows) {
            // SAFETY: as in f64_avx512.
            unsafe {
                let p = c.add(i * ldc);
                let (mut v0, mut v1) = (row[0], row[1]);
                if !first {
                    v0 = _mm512_add_ps(v0, _mm512_maskz_loadu_ps(m0, p));
                    v1 = _mm512_add_ps(v1, _mm512_maskz_loadu_ps(m1, p.add(16)));
                }
                _mm512_mask_storeu_ps(p, m0, v0);
                _mm512_mask_storeu_ps(p.add(16), m1, v1);
            }
        }
    }

    /// 6×8 float64 AVX2 micro-kernel: 12 ymm accumulators, two B vectors, six A broadcasts a
    /// step; an edge tile goes through a stack tile.
    ///
    /// # Safety
    /// The CPU must have AVX2 and FMA; `ap` addresses `rows` (≤ 6) rows of kc elements, `bp`
    /// holds kc·8 elements; `c` addresses `rows` rows of `cols` elements at stride `ldc`.
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn f64_6x8(
        kc: usize,
        ap: APanel<f64>,
        bp: *const f64,
        c: *mut f64,
        ldc: usize,
        rows: usize,
        cols: usize,
        first: bool,
    ) {
        let mut acc = [[_mm256_setzero_pd(); 2]; 6];
        let off = ap.offsets::<6>(rows);
        let (mut a, mut b) = (ap.ptr, bp);
        for _ in 0..kc {
            // SAFETY: each step reads 8 B elements of the packed panel and one element of each of the
            // first `rows` rows of A.
            unsafe {
                let b0 = _mm256_loadu_pd(b);
                let b1 = _mm256_loadu_pd(b.add(4));
                for (i, row) in acc.iter_mut().enumerate() {
                    let ai = _mm256_broadcast_sd(&*a.add(off[i]));
                    row[0] = _mm256_fmadd_pd(ai, b0, row[0]);
                    row[1] = _mm256_fmadd_pd(ai, b1, row[1]);
                }
                a = a.add(ap.ps);
                b = b.add(8);
            }
        }
        if rows == 6 && cols == 8 {
            for (i, row) in acc.iter().enumerate() {
                // SAFETY: row i of the full tile is 8 elements at c + i·ldc, inside C.
                unsafe {
                    let p = c.add(i * ldc);
                    if first {
                        _mm256_storeu_pd(p, row[0]);
                        _mm256_storeu_pd(p.add(4), row[1]);
                    } else {
                        _mm256_storeu_pd(p, _mm256_add_pd(_mm256_loadu_pd(p), row[0]));
                        _mm256_storeu_pd(p.add(4), _mm256_add_pd(_mm256_loadu_pd(p.add(4)), row[1]));
                    }
                }
            }
        } else {
            let mut tile = [0f64; MAX_TILE];
            for (i, row) in acc.iter().enumerate() {
                // SAFETY: the stack tile holds 6 rows of 8.
                unsafe {
                    _mm256_storeu_pd(tile.as_mut_ptr().add(i * 8), row[0]);
                    _mm256_storeu_pd(tile.as_mut_ptr().add(i * 8 + 4), row[1]);
                }
            }
            // SAFETY: forwarded from the caller.
            unsafe { store_tile(&tile, 8, c, ldc, rows, cols, first) }
        }
    }

    /// 6×16 float32 AVX2 micro-kernel, the float32 analogue of [`f64_6x8`].
    ///
    /// # Safety
    /// As [`f64_6x8`], with kc·16 B elements and `cols` ≤ 16.
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn f32_6x16(
        kc: usize,
        ap: APanel<f32>,
        bp: *const f32,
        c: *mut f32,
        ldc: usize,
        rows: usize,
        cols: usize,
        first: bool,
    ) {
        let mut acc = [[_mm256_setzero_ps(); 2]; 6];
        let off = ap.offsets::<6>(rows);
        let (mut a, mut b) = (ap.ptr, bp);
        for _ in 0..kc {
            // SAFETY: as in f64_6x8, with 16 B elements.
            unsafe {
                let b0 = _mm256_loadu_ps(b);
                let b1 = _mm256_loadu_ps(b.add(8));
                for (i, row) in acc.iter_mut().enumerate() {
                    let ai = _mm256_broadcast_ss(&*a.add(off[i]));
                    row[0] = _mm256_fmadd_ps(ai, b0, row[0]);
                    row[1] = _mm256_fmadd_ps(ai, b1, row[1]);
                }
                a = a.add(ap.ps);
                b = b.add(16);
            }
        }
        if rows == 6 && cols == 16 {
            for (i, row) in acc.iter().enumerate() {
                // SAFETY: row i of the full tile is 16 elements at c + i·ldc, inside C.
                unsafe {
                    let p = c.add(i * ldc);
                    if first {
                        _mm256_storeu_ps(p, row[0]);
                        _mm256_storeu_ps(p.add(8), row[1]);
                    } else {
                        _mm256_storeu_ps(p, _mm256_add_ps(_mm256_loadu_ps(p), row[0]));
                        _mm256_storeu_ps(p.add(8), _mm256_add_ps(_mm256_loadu_ps(p.add(8)), row[1]));
                    }
                }
            }
        } else {
            let mut tile = [0f32; MAX_TILE];
            for (i, row) in acc.iter().enumerate() {
                // SAFETY: the stack tile holds 6 rows of 16.
                unsafe {
                    _mm256_storeu_ps(tile.as_mut_ptr().add(i * 16), row[0]);
                    _mm256_storeu_ps(tile.as_mut_ptr().add(i * 16 + 8), row[1]);
                }
            }
            // SAFETY: forwarded from the caller.
            unsafe { store_tile(&tile, 16, c, ldc, rows, cols, first) }
        }
    }
}
