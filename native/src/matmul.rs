//! Matrix product with batch broadcasting: C = op(A) · op(B), row-major, op = optional transpose.
//!
//! Large products go to the blocked Goto/BLIS product (blocked.rs, with the micro-kernels of
//! microkernel.rs). Matrix-vector products (n == 1 or m == 1) skip the packing: a lane-split dot
//! product or an axpy loop per output range, autovectorized (AVX2 clone where present). Narrow
//! products (at most 16 output columns or rows) run register tiles over a once-packed B
//! (narrow.rs), or, with few rows against a long B, accumulate C's rows while B streams once.
//! Small products use a plain loop.

pub use crate::blocked::{gemm_blocked, GemmElem};
use crate::narrow::{narrow, NARROW};
use crate::{err, Arr, Kind};
use napi::Result;
use napi_derive::napi;
use rayon::prelude::*;

/// A strided matrix operand: element (i, j) at `data[i * rs + j * cs]`.
#[derive(Clone, Copy)]
pub struct Mat<'a, T> {
    pub data: &'a [T],
    pub rs: usize,
    pub cs: usize,
}

impl<T: Copy> Mat<'_, T> {
    #[inline(always)]
    pub(crate) fn at(&self, i: usize, j: usize) -> T {
        self.data[i * self.rs + j * self.cs]
    }
}

/// Plain C = A · B for small operands (i-p-j order so the inner loop streams rows of B and C).
pub fn gemm_small<T: GemmElem>(m: usize, n: usize, k: usize, a: Mat<T>, b: Mat<T>, c: &mut [T]) {
    c[..m * n].fill(T::default());
    for i in 0..m {
        let crow = &mut c[i * n..(i + 1) * n];
        for p in 0..k {
            let aip = a.at(i, p);
            if b.cs == 1 {
                let brow = &b.data[p * b.rs..p * b.rs + n];
                for (d, &bv) in crow.iter_mut().zip(brow) {
                    *d = *d + aip * bv;
                }
            } else {
                for (j, d) in crow.iter_mut().enumerate() {
                    *d = *d + aip * b.at(p, j);
                }
            }
        }
    }
}

/// Lanes of the dot-product accumulators: eight independent partial sums, so the loop
/// autovectorizes (two ymm of f64 or one of f32) and is not bound by the add latency.
const LANES: usize = 8;

/// `Σ x[p]·y[p]` with [`LANES`] partial sums, added pairwise at the end.
#[inline(always)]
fn dot<T: GemmElem>(x: &[T], y: &[T]) -> T {
    let mut acc = [T::default(); LANES];
    let (xc, yc) = (x.chunks_exact(LANES), y.chunks_exact(LANES));
    let (xr, yr) = (xc.remainder(), yc.remainder());
    for (xs, ys) in xc.zip(yc) {
        for l in 0..LANES {
            acc[l] = acc[l] + xs[l] * ys[l];
        }
    }
    let mut tail = T::default();
    for (&u, &v) in xr.iter().zip(yr) {
        tail = tail + u * v;
    }
    let s = [acc[0] + acc[4], acc[1] + acc[5], acc[2] + acc[6], acc[3] + acc[7]];
    (s[0] + s[2]) + (s[1] + s[3]) + tail
}

/// Dot form: `out[i] = Σ_p rows[i·rs + p]·x[p]` (rows of the matrix contiguous).
#[inline(always)]
fn dots_body<T: GemmElem>(rows: &[T], rs: usize, x: &[T], out: &mut [T], i0: usize) {
    let k = x.len();
    for (i, o) in out.iter_mut().enumerate() {
        let s = (i0 + i) * rs;
        *o = dot(&rows[s..s + k], x);
    }
}

/// Axpy form: `out[j] = Σ_p x[p]·rows[p·rs + j0 + j]` (the matrix's rows run along the output),
/// accumulated in p order per element, as the js reference does.
#[inline(always)]
fn axpys_body<T: GemmElem>(rows: &[T], rs: usize, x: &[T], out: &mut [T], j0: usize) {
    let len = out.len();
    out.fill(T::default());
    // Four rows per pass over `out` (a quarter of its loads and stores), each element still
    // accumulated in p order.
    let quads = x.len() / 4;
    for q in 0..quads {
        let p = 4 * q;
        let s = p * rs + j0;
        let (r0, r1, r2, r3) = (
            &rows[s..s + len],
            &rows[s + rs..s + rs + len],
            &rows[s + 2 * rs..s + 2 * rs + len],
            &rows[s + 3 * rs..s + 3 * rs + len],
        );
        let (x0, x1, x2, x3) = (x[p], x[p + 1], x[p + 2], x[p + 3]);
        for j in 0..len {
            let mut d = out[j];
            d = d + x0 * r0[j];
            d = d + x1 * r1[j];
            d = d + x2 * r2[j];
            out[j] = d + x3 * r3[j];
        }
    }
    for p in 4 * quads..x.len() {
        let s = p * rs + j0;
        let xp = x[p];
        for (d, &v) in out.iter_mut().zip(&rows[s..s + len]) {
            *d = *d + xp * v;
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod gemv_x86 {
    use super::GemmElem;

    /// [`super::dots_body`] compiled with AVX2 (wider vectors for the same loop).
    ///
    /// # Safety
    /// The CPU must have AVX2.
    #[target_feature(enable = "avx2")]
    pub unsafe fn dots<T: GemmElem>(rows: &[T], rs: usize, x: &[T], out: &mut [T], i0: usize) {
        super::dots_body(rows, rs, x, out, i0)
    }

    /// [`super::axpys_body`] compiled with AVX2.
    ///
    /// # Safety
    /// The CPU must have AVX2.
    #[target_feature(enable = "avx2")]
    pub unsafe fn axpys<T: GemmElem>(rows: &[T], rs: usize, x: &[T], out: &mut [T], j0: usize) {
        super::axpys_body(rows, rs, x, out, j0)
    }
}

fn dots<T: GemmElem>(rows: &[T], rs: usize, x: &[T], out: &mut [T], i0: usize) {
    #[cfg(target_arch = "x86_64")]
    if is_x86_feature_detected!("avx2") {
        // SAFETY: AVX2 was just detected.
        return unsafe { gemv_x86::dots(rows, rs, x, out, i0) };
    }
    dots_body(rows, rs, x, out, i0)
}

fn axpys<T: GemmElem>(rows: &[T], rs: usize, x: &[T], out: &mut [T], j0: usize) {
    #[cfg(target_arch = "x86_64")]
    if is_x86_feature_detected!("avx2") {
        // SAFETY: AVX2 was just detected.
        return unsafe { gemv_x86::axpys(rows, rs, x, out, j0) };
    }
    axpys_body(rows, rs, x, out, j0)
}

/// Multiply-adds above which a matrix-vector product splits its outputs across cores.
const GEMV_PAR: usize = 1 << 17;

/// Output elements per task, so each task has at least about GEMV_PAR / 4 multiply-adds and
/// every core gets some work; `None` for one task.
fn gemv_chunk(len: usize, k: usize) -> Option<usize> {
    let threads = rayon::current_num_threads();
    if threads < 2 || len * k < GEMV_PAR || len < 2 * LANES {
        return None;
    }
    let by_work = (GEMV_PAR / 4).div_ceil(k.max(1));
    let by_threads = len.div_ceil(4 * threads);
    Some(by_work.max(by_threads).div_ceil(LANES) * LANES)
}

/// Matrix-vector product: `c` (len) from a matrix whose element (o, p) for output o and
/// reduction index p is `data[o·rs + p]` (`dot_form`) or `data[p·rs + o]` (axpy form), and the
/// contiguous vector x (length k).
fn gemv<T: GemmElem>(data: &[T], rs: usize, dot_form: bool, x: &[T], c: &mut [T]) {
    let k = x.len();
    let run = |o0: usize, out: &mut [T]| {
        if dot_form {
            dots(data, rs, x, out, o0)
        } else {
            axpys(data, rs, x, out, o0)
        }
    };
    let len = c.len();
    let threads = rayon::current_num_threads();
    if !dot_form && threads > 1 && len * k >= GEMV_PAR && len < GEMV_SPLIT_K {
        // Few outputs and a long reduction: splitting the outputs would have every task stream the
        // whole matrix for a few elements of each row, so the reduction is split instead, into a
        // fixed number of parts added in order (the result does not depend on the scheduling).
        let parts = threads.min(k);
        let per = k.div_ceil(parts);
        let partial: Vec<Vec<T>> = crate::pool::map(parts, |t| {
            let (p0, p1) = (t * per, ((t + 1) * per).min(k));
            let mut acc = vec![T::default(); len];
            if p0 < p1 {
                axpys(&data[p0 * rs..], rs, &x[p0..p1], &mut acc, 0);
            }
            acc
        });
        c.copy_from_slice(&partial[0]);
        for part in &partial[1..] {
            for (d, &v) in c.iter_mut().zip(part) {
                *d = *d + v;
            }
        }
        return;
    }
    match gemv_chunk(len, k) {
        Some(ch) => crate::pool::chunks_mut(c, ch, run),
        None => run(0, c),
    }
}

/// Output length below which an axpy-form matrix-vector product splits its reduction across
/// cores rather than its outputs (a task's share of each matrix row would be under a few cache lines).
const GEMV_SPLIT_K: usize = 1024;

/// The contiguous vector of an operand whose elements are `data[i·stride]`, i < len (borrowed
/// when the stride is 1, gathered otherwise).
fn vector<'a, T: Copy>(data: &'a [T], stride: usize, len: usize) -> std::borrow::Cow<'a, [T]>
where
    [T]: ToOwned<Owned = Vec<T>>,
{
    if stride == 1 || len <= 1 {
        std::borrow::Cow::Borrowed(&data[..len])
    } else {
        std::borrow::Cow::Owned((0..len).map(|i| data[i * stride]).collect())
    }
}

/// C = A · B when one side is a vector (n == 1 or m == 1); returns false for other shapes or
/// layouts (neither side contiguous along the needed axis), which the general paths handle.
fn gemv_dispatch<T: GemmElem>(m: usize, n: usize, k: usize, a: &Mat<T>, b: &Mat<T>, c: &mut [T]) -> bool {
    if n == 1 {
        let x = vector(b.data, b.rs, k);
        if a.cs == 1 {
            gemv(a.data, a.rs, true, &x, &mut c[..m]);
        } else if a.rs == 1 {
            gemv(a.data, a.cs, false, &x, &mut c[..m]);
        } else {
            return false;
        }
        true
    } else if m == 1 {
        let x = vector(a.data, a.cs, k);
        if b.rs == 1 {
            gemv(b.data, b.cs, true, &x, &mut c[..n]);
        } else if b.cs == 1 {
            gemv(b.data, b.rs, false, &x, &mut c[..n]);
        } else {
            return false;
        }
        true
    } else {
        false
    }
}

/// Most rows of C the streamed-rows product ([`skinny_rows`]) takes.
const SKINNY: usize = 16;
/// Multiply-adds from which a product with at most [`NARROW`] columns or rows takes the narrow path
/// (below it, the plain loop).
const NARROW_MIN: usize = 1 << 10;

/// C (m×n) = A · B for few output rows (m ≤ SKINNY) and a long reduction, B's rows contiguous:
/// C's m rows (in cache) accumulate C[i, :] += A[i, p]·B[p, :] while B streams through memory
/// once; A is read in place. The reduction is cut into a fixed number of chunks whose partial
/// products are added in chunk order, so the result does not depend on the scheduling.
fn skinny_rows<T: GemmElem>(m: usize, n: usize, k: usize, a: &Mat<T>, b: &Mat<T>, c: &mut [T]) {
    let parts =
        if rayon::current_num_threads() > 1 && m * n * k >= GEMV_PAR { rayon::current_num_threads().min(k) } else { 1 };
    let len = k.div_ceil(parts);
    let partial: Vec<Vec<T>> = crate::pool::map(parts, |t| {
        let mut acc = vec![T::default(); m * n];
        rows_accumulate(a, b, n, t * len, ((t + 1) * len).min(k), &mut acc);
        acc
    });
    let out = &mut c[..m * n];
    out.copy_from_slice(&partial[0]);
    for part in &partial[1..] {
        for (d, &v) in out.iter_mut().zip(part) {
            *d = *d + v;
        }
    }
}

/// acc[i, :] += A[i, p]·B[p, :] for p in p0..p1 and every row i of the accumulator (n = B's width).
#[inline(always)]
fn rows_accumulate_body<T: GemmElem>(a: &Mat<T>, b: &Mat<T>, n: usize, p0: usize, p1: usize, acc: &mut [T]) {
    for p in p0..p1 {
        let brow = &b.data[p * b.rs..p * b.rs + n];
        for (i, arow) in acc.chunks_exact_mut(n).enumerate() {
            let x = a.at(i, p);
            for (d, &v) in arow.iter_mut().zip(brow) {
                *d = *d + x * v;
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod skinny_x86 {
    use super::{GemmElem, Mat};

    /// [`super::rows_accumulate_body`] compiled with AVX2.
    ///
    /// # Safety
    /// The CPU must have AVX2.
    #[target_feature(enable = "avx2")]
    pub unsafe fn rows_accumulate<T: GemmElem>(a: &Mat<T>, b: &Mat<T>, n: usize, p0: usize, p1: usize, acc: &mut [T]) {
        super::rows_accumulate_body(a, b, n, p0, p1, acc)
    }
}

/// [`rows_accumulate_body`] on the AVX2 clone where the CPU has it (one check per chunk of p).
fn rows_accumulate<T: GemmElem>(a: &Mat<T>, b: &Mat<T>, n: usize, p0: usize, p1: usize, acc: &mut [T]) {
    #[cfg(target_arch = "x86_64")]
    if is_x86_feature_detected!("avx2") {
        // SAFETY: AVX2 was just detected.
        return unsafe { skinny_x86::rows_accumulate(a, b, n, p0, p1, acc) };
    }
    rows_accumulate_body(a, b, n, p0, p1, acc)
}

/// Whether a product has few rows and is large enough for [`skinny_rows`] (B's rows contiguous),
/// which streams a long B once where the narrow path would pack all of it.
fn skinny_dispatch<T: GemmElem>(m: usize, n: usize, k: usize, a: &Mat<T>, b: &Mat<T>, c: &mut [T]) -> bool {
    if m * n * k >= 1 << 15 && m <= SKINNY && n >= 4 * SKINNY && k >= 4 * SKINNY && b.cs == 1 {
        skinny_rows(m, n, k, a, b, c);
        true
    } else {
        false
    }
}

/// C = A · B, choosing the matrix-vector, blocked or small path.
pub fn gemm<T: GemmElem>(m: usize, n: usize, k: usize, a: Mat<T>, b: Mat<T>, c: &mut [T]) {
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        c[..m * n].fill(T::default());
        return;
    }
    if (n == 1 || m == 1) && gemv_dispatch(m, n, k, &a, &b, c) {
        return;
    }
    if m <= SKINNY && skinny_dispatch(m, n, k, &a, &b, c) {
        return;
    }
    if (n <= NARROW || m <= NARROW) && m * n * k >= NARROW_MIN && narrow(m, n, k, &a, &b, c) {
        return;
    }
    let bl = T::blocking();
    // Edge tiles are cheap (masked stores on AVX-512), so a side of half a tile still pays.
    if 2 * m >= bl.mr && 2 * n >= bl.nr && m * n * k >= 24 * 24 * 24 {
        gemm_blocked(m, n, k, a, b, c);
    } else {
        gemm_small(m, n, k, a, b, c);
    }
}

fn matmul_typed<T: GemmElem>(
    a: &[T],
    b: &[T],
    c: &mut [T],
    dims: (usize, usize, usize, usize),
    trans: (bool, bool),
    bidx: Option<&[i32]>,
) -> Result<()> {
    let (batch, m, n, k) = dims;
    let (sa, sb) = (m * k, k * n);
    let (ta, tb) = trans;
    let a_batched = a.len() == batch * sa && batch > 1;
    let b_batched = b.len() == batch * sb && batch > 1;
    if c.len() != batch * m * n {
        return Err(err("matmul: output size mismatch".into()));
    }
    let index = |t: usize| -> Result<(usize, usize)> {
        let (ia, ib) = match bidx {
            Some(ix) => (ix[t] as usize, ix[batch + t] as usize),
            None => (if a_batched { t } else { 0 }, if b_batched { t } else { 0 }),
        };
        if (ia + 1) * sa > a.len() || (ib + 1) * sb > b.len() {
            return Err(err("matmul: batch index outside the operands".into()));
        }
        Ok((ia, ib))
    };
    if let Some(ix) = bidx {
        if ix.len() != 2 * batch {
            return Err(err("matmul: batch index array has the wrong length".into()));
        }
    }
    let one = |t: usize, ct: &mut [T]| -> Result<()> {
        let (ia, ib) = index(t)?;
        let am = &a[ia * sa..(ia + 1) * sa];
        let bm = &b[ib * sb..(ib + 1) * sb];
        // op(A)(i, p): A stored m×k (rs k, cs 1) or, transposed, k×m (rs 1, cs m).
        let amat = if ta { Mat { data: am, rs: 1, cs: m } } else { Mat { data: am, rs: k, cs: 1 } };
        let bmat = if tb { Mat { data: bm, rs: 1, cs: k } } else { Mat { data: bm, rs: n, cs: 1 } };
        gemm(m, n, k, amat, bmat, ct);
        Ok(())
    };
    let per = m * n * k;
    if batch > 1 && per < 64 * 64 * 64 && batch * per >= 1 << 16 && m * n > 0 {
        // Many small products: spread the batch over cores.
        c.par_chunks_mut(m * n).enumerate().try_for_each(|(t, ct)| one(t, ct))?;
    } else if m * n > 0 {
        for (t, ct) in c.chunks_mut(m * n).enumerate() {
            one(t, ct)?;
        }
    }
    Ok(())
}

/// Batched product: out[t] = op(a[ia_t]) · op(b[ib_t]) with op(A) m×k and op(B) k×n. Without
/// `bidx` an operand holding `batch` matrices is indexed by t, one holding a single matrix is
/// shared; with `bidx` = [ia_0..ia_{batch-1}, ib_0..ib_{batch-1}] the indices are given.
#[napi]
pub fn matmul(
    a: Arr,
    b: Arr,
    out: Arr,
    batch: u32,
    m: u32,
    n: u32,
    k: u32,
    trans_a: bool,
    trans_b: bool,
    bidx: Option<Arr>,
) -> Result<()> {
    let ix = match &bidx {
        Some(x) => Some(x.get::<i32>()?),
        None => None,
    };
    let dims = (batch as usize, m as usize, n as usize, k as usize);
    match a.kind() {
        Kind::F64 => {
            matmul_typed(a.get::<f64>()?, b.get::<f64>()?, out.get_mut::<f64>()?, dims, (trans_a, trans_b), ix)
        }
        Kind::F32 => {
            matmul_typed(a.get::<f32>()?, b.get::<f32>()?, out.get_mut::<f32>()?, dims, (trans_a, trans_b), ix)
        }
        Kind::I32 => Err(err("matmul: int32 is not supported".into())),
    }
}

#[cfg(test)]
#[path = "matmul_tests.rs"]
mod tests;
