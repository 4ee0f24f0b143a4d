//! Tests of matmul.rs: every product path against a naive triple loop.
use super::*;

fn naive(m: usize, n: usize, k: usize, a: &Mat<f64>, b: &Mat<f64>) -> Vec<f64> {
    let mut c = vec![0.0; m * n];
    for i in 0..m {
        for j in 0..n {
            c[i * n + j] = (0..k).map(|p| a.at(i, p) * b.at(p, j)).sum();
        }
    }
    c
}

/// Calls `f` with fixed pseudo-random operands of an m×k · k×n product in each of the four layouts
/// (A and B row-major or transposed), and whether each is transposed.
fn each_layout(m: usize, n: usize, k: usize, mut f: impl FnMut(Mat<f64>, Mat<f64>, bool, bool)) {
    let a: Vec<f64> = (0..m * k).map(|i| ((i * 7919) % 101) as f64 / 50.0 - 1.0).collect();
    let b: Vec<f64> = (0..k * n).map(|i| ((i * 104729) % 97) as f64 / 48.0 - 1.0).collect();
    for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
        let am = if ta { Mat { data: &a[..], rs: 1, cs: m } } else { Mat { data: &a[..], rs: k, cs: 1 } };
        let bm = if tb { Mat { data: &b[..], rs: 1, cs: k } } else { Mat { data: &b[..], rs: n, cs: 1 } };
        f(am, bm, ta, tb);
    }
}

#[test]
fn blocked_matches_naive() {
    // Odd sides across the tile (MR, NR) and block (KC, MC) boundaries of every kernel; A read
    // in place, and packed (C wider than PACK_A_COLS).
    for &(m, n, k) in &[
        (7, 9, 11),
        (37, 41, 300),
        (130, 70, 520),
        (6, 8, 8),
        (65, 65, 67),
        (257, 33, 513),
        (9, 257, 129),
        (200, 17, 257),
        (37, 530, 300),
    ] {
        each_layout(m, n, k, |am, bm, _, _| {
            let want = naive(m, n, k, &am, &bm);
            let mut c = vec![f64::NAN; m * n];
            gemm_blocked(m, n, k, am, bm, &mut c);
            for (x, y) in c.iter().zip(&want) {
                assert!((x - y).abs() < 1e-10 * (1.0 + y.abs()), "{m}x{n}x{k}");
            }
            let mut c2 = vec![f64::NAN; m * n];
            gemm_small(m, n, k, am, bm, &mut c2);
            for (x, y) in c2.iter().zip(&want) {
                assert!((x - y).abs() < 1e-10 * (1.0 + y.abs()));
            }
        });
    }
}

#[test]
fn gemv_matches_naive() {
    // Sizes below and above the parallel threshold, with lane remainders.
    for &(m, n, k) in &[
        (1, 1, 13),
        (37, 1, 50),
        (1, 29, 61),
        (10000, 1, 50),
        (1, 9000, 33),
        (3000, 1, 1),
        (50, 1, 10000),
        (1, 37, 9001),
    ] {
        each_layout(m, n, k, |am, bm, ta, tb| {
            let want = naive(m, n, k, &am, &bm);
            let mut c = vec![f64::NAN; m * n];
            assert!(gemv_dispatch(m, n, k, &am, &bm, &mut c));
            for (x, y) in c.iter().zip(&want) {
                assert!((x - y).abs() < 1e-12 * (1.0 + y.abs()), "{m}x{n}x{k} {ta} {tb}");
            }
            let af: Vec<f32> = am.data.iter().map(|&v| v as f32).collect();
            let bf: Vec<f32> = bm.data.iter().map(|&v| v as f32).collect();
            let amf = Mat { data: &af[..], rs: am.rs, cs: am.cs };
            let bmf = Mat { data: &bf[..], rs: bm.rs, cs: bm.cs };
            let mut cf = vec![f32::NAN; m * n];
            gemm(m, n, k, amf, bmf, &mut cf);
            for (x, y) in cf.iter().zip(&want) {
                assert!((*x as f64 - y).abs() < 1e-4 * (k as f64), "f32 {m}x{n}x{k}");
            }
        });
    }
}

#[test]
fn skinny_matches_naive() {
    // Few rows against a long B (streamed rows), every layout, below and above the parallel threshold.
    for &(m, n, k) in &[(10, 100, 6000), (3, 64, 64), (16, 200, 999), (16, 64, 64)] {
        each_layout(m, n, k, |am, bm, ta, tb| {
            let want = naive(m, n, k, &am, &bm);
            let mut c = vec![f64::NAN; m * n];
            let took = skinny_dispatch(m, n, k, &am, &bm, &mut c);
            // The layout the streamed rows need: B's rows contiguous.
            assert_eq!(took, m * n * k >= 1 << 15 && !tb, "{m}x{n}x{k} {ta} {tb}");
            if took {
                for (x, y) in c.iter().zip(&want) {
                    assert!((x - y).abs() < 1e-12 * (1.0 + y.abs()) * (k as f64).sqrt(), "{m}x{n}x{k} {ta} {tb}");
                }
            }
        });
    }
}

#[test]
fn narrow_matches_naive() {
    // At most 16 columns (8- and 16-lane tiles) or rows (the transposed product), partial row
    // tiles, every layout, float64 and float32, below and above the parallel threshold.
    for &(m, n, k) in &[
        (64, 3, 16),
        (60000, 10, 100),
        (700, 16, 33),
        (3, 64, 64),
        (13, 9, 7),
        (512, 5, 64),
        (64, 5, 512),
        (10, 64, 512),
        (9, 16, 1),
        (16, 16, 40),
    ] {
        each_layout(m, n, k, |am, bm, ta, tb| {
            let want = naive(m, n, k, &am, &bm);
            let af: Vec<f32> = am.data.iter().map(|&v| v as f32).collect();
            let bf: Vec<f32> = bm.data.iter().map(|&v| v as f32).collect();
            let (amf, bmf) = (Mat { data: &af[..], rs: am.rs, cs: am.cs }, Mat { data: &bf[..], rs: bm.rs, cs: bm.cs });
            // This CPU's kernels, then the AVX2 ones (where the CPU has them) and the plain loop.
            let (avx512, avx2) = crate::narrow::simd();
            for caps in [(avx512, avx2), (false, avx2), (false, false)] {
                let mut c = vec![f64::NAN; m * n];
                assert!(crate::narrow::narrow_with(m, n, k, &am, &bm, &mut c, caps), "{m}x{n}x{k}");
                for (x, y) in c.iter().zip(&want) {
                    assert!(
                        (x - y).abs() < 1e-12 * (1.0 + y.abs()) * (k as f64).sqrt(),
                        "{m}x{n}x{k} {ta} {tb} {caps:?}"
                    );
                }
                let mut cf = vec![f32::NAN; m * n];
                assert!(crate::narrow::narrow_with(m, n, k, &amf, &bmf, &mut cf, caps));
                for (x, y) in cf.iter().zip(&want) {
                    assert!(
                        (*x as f64 - y).abs() < 1e-5 * (1.0 + y.abs()) * (k as f64),
                        "f32 {m}x{n}x{k} {ta} {tb} {caps:?}"
                    );
                }
            }
        });
    }
    // Wider on both sides: not narrow.
    let (a, b) = (vec![0.0; 17 * 17], vec![0.0; 17 * 17]);
    let (am, bm) = (Mat { data: &a[..], rs: 17, cs: 1 }, Mat { data: &b[..], rs: 17, cs: 1 });
    assert!(!crate::narrow::narrow(17, 17, 17, &am, &bm, &mut vec![0.0; 17 * 17]));
}

#[test]
fn blocked_f32_every_layout() {
    // float32 against a float64 reference, odd sides crossing the float32 tiles (NR 16 or 32).
    for &(m, n, k) in &[(65, 33, 67), (129, 97, 301), (8, 40, 9), (300, 64, 513)] {
        let a: Vec<f32> = (0..m * k).map(|i| ((i * 31) % 17) as f32 / 8.0 - 1.0).collect();
        let b: Vec<f32> = (0..k * n).map(|i| ((i * 13) % 19) as f32 / 9.0 - 1.0).collect();
        let a64: Vec<f64> = a.iter().map(|&v| v as f64).collect();
        let b64: Vec<f64> = b.iter().map(|&v| v as f64).collect();
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            let (ars, acs) = if ta { (1, m) } else { (k, 1) };
            let (brs, bcs) = if tb { (1, k) } else { (n, 1) };
            let want =
                naive(m, n, k, &Mat { data: &a64[..], rs: ars, cs: acs }, &Mat { data: &b64[..], rs: brs, cs: bcs });
            let mut c = vec![f32::NAN; m * n];
            gemm_blocked(
                m,
                n,
                k,
                Mat { data: &a[..], rs: ars, cs: acs },
                Mat { data: &b[..], rs: brs, cs: bcs },
                &mut c,
            );
            for (x, y) in c.iter().zip(&want) {
                assert!((*x as f64 - y).abs() < 1e-5 * (1.0 + y.abs()) * (k as f64).sqrt(), "{m}x{n}x{k} {ta} {tb}");
            }
        }
    }
}

/// A kernel against the sum it should form, over full and edge tiles, accumulating into C.
/// Inputs are small integers, so every sum is exact in either dtype and order.
fn check_kernel<T: GemmElem + From<i8> + Into<f64>>(mr: usize, nr: usize, kern: crate::microkernel::Kernel<T>) {
    let kc = 37;
    let ap: Vec<T> = (0..kc * mr).map(|i| T::from(((i * 7) % 13) as i8 - 6)).collect();
    let bp: Vec<T> = (0..kc * nr).map(|i| T::from(((i * 5) % 11) as i8 - 5)).collect();
    for (rows, cols) in [(mr, nr), (1, 1), (mr - 1, nr - 3), (2, nr)] {
        let ldc = nr + 3;
        let mut c = vec![T::from(1); mr * ldc];
        let panel = crate::microkernel::APanel { ptr: ap.as_ptr(), rs: 1, ps: mr };
        // SAFETY: the panels hold kc steps and C has mr rows of ldc ≥ nr elements.
        unsafe { kern(kc, panel, bp.as_ptr(), c.as_mut_ptr(), ldc, rows, cols, false) };
        for i in 0..mr {
            for j in 0..ldc {
                let inside = i < rows && j < cols;
                let want = if inside {
                    1.0 + (0..kc).map(|p| ap[p * mr + i].into() * bp[p * nr + j].into()).sum::<f64>()
                } else {
                    1.0
                };
                assert_eq!(c[i * ldc + j].into(), want, "{mr}x{nr} tile {rows}x{cols} at ({i}, {j})");
            }
        }
    }
}

#[test]
fn every_kernel_matches_naive() {
    // The kernels this CPU does not pick by default (AVX2 on an AVX-512 machine, the portable
    // ones) as well as the ones it does.
    use crate::microkernel as mk;
    check_kernel::<f64>(4, 8, mk::generic::<f64, 4, 8>);
    check_kernel::<f32>(4, 16, mk::generic::<f32, 4, 16>);
    #[cfg(target_arch = "x86_64")]
    {
        if mk::x86::has_avx2_fma() {
            check_kernel::<f64>(6, 8, mk::x86::f64_6x8);
            check_kernel::<f32>(6, 16, mk::x86::f32_6x16);
        }
        if mk::x86::has_avx512() {
            check_kernel::<f64>(8, 16, mk::x86::f64_avx512::<8>);
            check_kernel::<f32>(8, 32, mk::x86::f32_avx512::<8>);
        }
    }
}

#[test]
fn blocked_f32() {
    let (m, n, k) = (50, 70, 300);
    let a: Vec<f32> = (0..m * k).map(|i| ((i * 31) % 17) as f32 / 8.0 - 1.0).collect();
    let b: Vec<f32> = (0..k * n).map(|i| ((i * 13) % 19) as f32 / 9.0 - 1.0).collect();
    let am = Mat { data: &a[..], rs: k, cs: 1 };
    let bm = Mat { data: &b[..], rs: n, cs: 1 };
    let mut c = vec![0f32; m * n];
    let mut c2 = vec![0f32; m * n];
    gemm_blocked(m, n, k, am, bm, &mut c);
    gemm_small(m, n, k, am, bm, &mut c2);
    for (x, y) in c.iter().zip(&c2) {
        assert!((x - y).abs() < 1e-3 * (1.0 + y.abs()));
    }
}
