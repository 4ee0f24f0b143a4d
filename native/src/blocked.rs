//! The blocked product for large operands, in the Goto/BLIS scheme (Goto & van de Geijn, "Anatomy
//! of high-performance matrix multiplication", ACM TOMS 2008; Van Zee & van de Geijn, "BLIS", ACM
//! TOMS 2015): B is packed in KC×NC blocks of NR-column micro-panels, A in MC×KC blocks of MR-row
//! micro-panels, and a register-tiled MR×NR micro-kernel (microkernel.rs) runs over the packed
//! panels, the B micro-panel staying in L1 while the A block (in L2) streams past it.
//!
//! The kernel and the block sizes are chosen at run time by what the CPU has: on AVX-512 a 8×16
//! float64 / 8×32 float32 kernel (twice the AVX2 kernels' lanes), on AVX2 + FMA 6×8 / 6×16.
//! A is packed only for wide products; otherwise the kernel reads it in place (see PACK_A_COLS).
//! Threads split C's row blocks (each packs its own A block; all share the packed B block, packed
//! by all of them), or C's columns when there are too few rows to give every core a block.

use crate::matmul::Mat;
use crate::microkernel::{self as mk, APanel, Kernel};
use crate::par::SendPtr;
use crate::Elem;

/// The micro-kernel and block sizes of one element type on this CPU.
#[derive(Clone, Copy)]
pub struct Blocking<T> {
    /// Rows of a micro-panel of A (and of a C tile).
    pub mr: usize,
    /// Columns of a micro-panel of B (and of a C tile).
    pub nr: usize,
    /// The reduction depth of a packed block (a B micro-panel, kc × nr, stays in L1).
    pub kc: usize,
    /// Rows of a packed A block (mc × kc, in L2).
    pub mc: usize,
    /// Columns of a packed B block (kc × nc).
    pub nc: usize,
    pub kernel: Kernel<T>,
}

/// An element type the blocked product handles.
pub trait GemmElem: Elem + std::ops::Mul<Output = Self> + std::ops::Add<Output = Self> {
    /// The kernel and block sizes for this CPU.
    fn blocking() -> Blocking<Self>;
}

impl GemmElem for f64 {
    fn blocking() -> Blocking<f64> {
        #[cfg(target_arch = "x86_64")]
        {
            if mk::x86::has_avx512() {
                return Blocking { mr: 8, nr: 16, kc: 256, mc: 192, nc: 2048, kernel: mk::x86::f64_avx512::<8> };
            }
            if mk::x86::has_avx2_fma() {
                return Blocking { mr: 6, nr: 8, kc: 256, mc: 120, nc: 2048, kernel: mk::x86::f64_6x8 };
            }
        }
        Blocking { mr: 4, nr: 8, kc: 256, mc: 96, nc: 2048, kernel: mk::generic::<f64, 4, 8> }
    }
}

impl GemmElem for f32 {
    fn blocking() -> Blocking<f32> {
        #[cfg(target_arch = "x86_64")]
        {
            if mk::x86::has_avx512() {
                return Blocking { mr: 8, nr: 32, kc: 256, mc: 192, nc: 4096, kernel: mk::x86::f32_avx512::<8> };
            }
            if mk::x86::has_avx2_fma() {
                return Blocking { mr: 6, nr: 16, kc: 256, mc: 144, nc: 4096, kernel: mk::x86::f32_6x16 };
            }
        }
        Blocking { mr: 4, nr: 16, kc: 256, mc: 96, nc: 4096, kernel: mk::generic::<f32, 4, 16> }
    }
}

/// Packs rows i0..i0+mc, cols p0..p0+kc of A into MR-row panels (kc steps of MR elements each,
/// rows past mc zero-padded).
fn pack_a<T: GemmElem>(a: &Mat<T>, mr: usize, i0: usize, mc: usize, p0: usize, kc: usize, dst: &mut [T]) {
    for (pi, ir) in (0..mc).step_by(mr).enumerate() {
        let panel = &mut dst[pi * kc * mr..(pi + 1) * kc * mr];
        let rows = mr.min(mc - ir);
        if rows < mr {
            panel.fill(T::default());
        }
        if a.cs == 1 {
            // Rows of A contiguous: each row's kc elements scatter to one lane of the panel.
            for ii in 0..rows {
                let s = (i0 + ir + ii) * a.rs + p0;
                for (p, &v) in a.data[s..s + kc].iter().enumerate() {
                    panel[p * mr + ii] = v;
                }
            }
        } else if a.rs == 1 {
            // Transposed A: column p holds the panel's rows contiguously.
            for p in 0..kc {
                let s = (p0 + p) * a.cs + i0 + ir;
                panel[p * mr..p * mr + rows].copy_from_slice(&a.data[s..s + rows]);
            }
        } else {
            for p in 0..kc {
                for ii in 0..rows {
                    panel[p * mr + ii] = a.at(i0 + ir + ii, p0 + p);
                }
            }
        }
    }
}

/// Packs rows p0..p0+kc, cols j0..j0+nc of B into NR-column panels (zero-padded). `dst` holds
/// the panels of columns j0.. only (the caller may split the columns across threads).
fn pack_b<T: GemmElem>(b: &Mat<T>, nr: usize, p0: usize, kc: usize, j0: usize, nc: usize, dst: &mut [T]) {
    let full = nc / nr;
    if b.cs == 1 {
        // Row by row, so B is read sequentially (column-panel order strides B by whole rows).
        for p in 0..kc {
            let s = (p0 + p) * b.rs + j0;
            let row = &b.data[s..s + nc];
            for pj in 0..full {
                dst[pj * kc * nr + p * nr..pj * kc * nr + (p + 1) * nr].copy_from_slice(&row[pj * nr..(pj + 1) * nr]);
            }
        }
    } else {
        // Transposed B: column j is contiguous in p, so walk each column.
        for pj in 0..full {
            let panel = &mut dst[pj * kc * nr..(pj + 1) * kc * nr];
            for jj in 0..nr {
                let s = (j0 + pj * nr + jj) * b.cs + p0 * b.rs;
                for p in 0..kc {
                    panel[p * nr + jj] = b.data[s + p * b.rs];
                }
            }
        }
    }
    if full * nr < nc {
        let panel = &mut dst[full * kc * nr..(full + 1) * kc * nr];
        let cols = nc - full * nr;
        for p in 0..kc {
            for jj in 0..nr {
                panel[p * nr + jj] = if jj < cols { b.at(p0 + p, j0 + full * nr + jj) } else { T::default() };
            }
        }
    }
}

/// Columns of C above which A is packed even where it could be read in place: many B panels then
/// reuse each packed panel, and rows of A a large power-of-two stride apart would contend for the
/// same L1 sets.
const PACK_A_COLS: usize = 512;

/// Multiply-adds from which the blocked product runs on every core.
const PARALLEL_MIN: usize = 96 * 96 * 96;

/// Blocked C (m×n, row-major, contiguous) = A (m×k) · B (k×n).
///
/// In parallel, C's rows are split across cores; when there are too few rows for that to give
/// every core a full block (a batch of 100 by 784 features), its columns are split instead, each
/// core running the serial blocked product on its share: one fork instead of two per panel.
pub fn gemm_blocked<T: GemmElem>(m: usize, n: usize, k: usize, a: Mat<T>, b: Mat<T>, c: &mut [T]) {
    let bl = T::blocking();
    let threads = rayon::current_num_threads();
    let parallel = threads > 1 && m * n * k >= PARALLEL_MIN;
    let cp = SendPtr(c.as_mut_ptr());
    let per = n.div_ceil(threads).div_ceil(bl.nr) * bl.nr;
    if parallel && m < threads * bl.mc && per < n {
        crate::pool::for_each(n.div_ceil(per), |t| {
            blocked_cols(&bl, m, n, k, &a, &b, cp, t * per, ((t + 1) * per).min(n), false)
        });
    } else {
        blocked_cols(&bl, m, n, k, &a, &b, cp, 0, n, parallel);
    }
}

/// Columns j_lo..j_hi of the blocked product into C (row-major, n columns) at `cp`.
#[allow(clippy::too_many_arguments)]
fn blocked_cols<T: GemmElem>(
    bl: &Blocking<T>,
    m: usize,
    n: usize,
    k: usize,
    a: &Mat<T>,
    b: &Mat<T>,
    cp: SendPtr<T>,
    j_lo: usize,
    j_hi: usize,
    parallel: bool,
) {
    let (mr, nr, kern) = (bl.mr, bl.nr, bl.kernel);
    let threads = rayon::current_num_threads();
    // Row blocks: at most MC rows, and a multiple of the thread count so cores get equal shares.
    let nblocks = if parallel { m.div_ceil(bl.mc).div_ceil(threads) * threads } else { m.div_ceil(bl.mc) };
    let mc = m.div_ceil(nblocks).div_ceil(mr) * mr;
    let nblocks = m.div_ceil(mc);
    // The reduction in equal slices of at most KC (no thin last slice).
    let kc_step = k.div_ceil(k.div_ceil(bl.kc));
    let nc_max = bl.nc.min((j_hi - j_lo).div_ceil(nr) * nr);
    let mut bp = vec![T::default(); kc_step * nc_max.div_ceil(nr) * nr];
    // A is read in place when its rows or its columns are contiguous and C is at most PACK_A_COLS
    // wide: packing would copy (and, for row-major A, transpose) all of A for few B panels, while
    // the unpacked A block stays in L2 across them (measured at 512 × 64 · 64 × 64 float32 on one
    // AVX-512 core: 27 µs in place, 44 µs packed; 64³: 3.8 µs against 6.3).
    let pack = !(a.cs == 1 || a.rs == 1) || j_hi - j_lo > PACK_A_COLS;
    let mut scratch: Vec<Vec<T>> =
        if parallel { (0..crate::pool::workers()).map(|_| Vec::new()).collect() } else { Vec::new() };
    for j0 in (j_lo..j_hi).step_by(bl.nc) {
        let nc = bl.nc.min(j_hi - j0);
        for p0 in (0..k).step_by(kc_step) {
            let kc = kc_step.min(k - p0);
            if parallel {
                // Each thread packs a share of the column panels.
                let per = nc.div_ceil(nr).div_ceil(threads) * nr;
                crate::pool::chunks_mut(&mut bp, per * kc, |lo, dst| {
                    let c0 = lo / kc;
                    if c0 < nc {
                        pack_b(b, nr, p0, kc, j0 + c0, per.min(nc - c0), dst);
                    }
                });
            } else {
                pack_b(b, nr, p0, kc, j0, nc, &mut bp);
            }
            let first = p0 == 0;
            let bpr = &bp;
            let block = |blk: usize, ap: &mut Vec<T>| {
                let i0 = blk * mc;
                let mcb = mc.min(m - i0);
                if pack {
                    ap.resize(mc.div_ceil(mr) * mr * kc, T::default());
                    pack_a(a, mr, i0, mcb, p0, kc, ap);
                }
                for jr in (0..nc).step_by(nr) {
                    let bpan = bpr[(jr / nr) * kc * nr..].as_ptr();
                    let cols = nr.min(nc - jr);
                    for ir in (0..mcb).step_by(mr) {
                        let apan = if pack {
                            APanel { ptr: ap[(ir / mr) * kc * mr..].as_ptr(), rs: 1, ps: mr }
                        } else {
                            APanel { ptr: a.data[(i0 + ir) * a.rs + p0 * a.cs..].as_ptr(), rs: a.rs, ps: a.cs }
                        };
                        let rows = mr.min(mcb - ir);
                        // SAFETY: the kernel is chosen for this CPU; the panels hold kc steps;
                        // the rows × cols tile lies inside C, and row blocks are disjoint across
                        // tasks.
                        unsafe { kern(kc, apan, bpan, cp.get().add((i0 + ir) * n + j0 + jr), n, rows, cols, first) };
                    }
                }
            };
            if parallel {
                // One packing buffer per pool thread, kept across panels.
                let sp = SendPtr(scratch.as_mut_ptr());
                crate::pool::for_each_with(nblocks, |who, blk| {
                    // SAFETY: worker `who` is one thread at a time, and scratch outlives the job.
                    block(blk, unsafe { &mut *sp.get().add(who) })
                });
            } else {
                let mut ap = Vec::new();
                for blk in 0..nblocks {
                    block(blk, &mut ap);
                }
            }
        }
    }
}
