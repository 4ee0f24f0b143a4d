//! Stein variational gradient descent's update direction (Liu & Wang 2016), the `svgdPhi` kernel
//! of ts/kernels/spec.ts: phi = (K g + (2/h)(x ⊙ rowsum(K) − K x)) / n with K_ij = exp(−D_ij/h),
//! D_ij = ‖x_i − x_j‖².
//!
//! The particles are centered first: D and the repulsion x_i Σ_j K_ij − Σ_j K_ij x_j are
//! translation invariant, and centering keeps ‖x_i‖² + ‖x_j‖² − 2 x_i·x_j from cancelling when
//! the particles sit far from the origin. D comes from one blocked product x xᵀ (matmul.rs); the
//! median heuristic selects on a copy of D's strict upper triangle (of the n² distances the
//! diagonal's n zeros sort first and every other distance appears twice, so rank k ≥ n of all n²
//! is rank ⌊(k − n)/2⌋ of the triangle: half the copy and the selection work); K = exp(−D/h)
//! overwrites D with its row sums taken on the way; one product K·[g | x] gives both matrix terms.

use crate::fastmath::{self, Op};
use crate::matmul::{gemm, GemmElem, Mat};
use crate::par::{self, SendPtr};
use crate::{err, Arr, Kind};
use napi::Result;
use napi_derive::napi;
use std::cmp::Ordering;

/// The float types the kernel runs on.
trait Real: GemmElem + std::ops::Sub<Output = Self> + std::ops::Div<Output = Self> + std::ops::Neg<Output = Self> {
    /// out[i] = e^x[i], on the vectorized fastmath versions.
    fn exp_map(x: &[Self], out: &mut [Self]);
    fn total_order(&self, other: &Self) -> Ordering;
}

impl Real for f32 {
    fn exp_map(x: &[f32], out: &mut [f32]) {
        fastmath::map(Op::Exp, x, out)
    }
    fn total_order(&self, other: &f32) -> Ordering {
        self.total_cmp(other)
    }
}

impl Real for f64 {
    fn exp_map(x: &[f64], out: &mut [f64]) {
        fastmath::f64x::map(Op::Exp, x, out)
    }
    fn total_order(&self, other: &f64) -> Ordering {
        self.total_cmp(other)
    }
}

/// Offset of row i's part (columns i+1..n) in the row-major strict upper triangle of an n×n matrix.
fn triangle_offset(i: usize, n: usize) -> usize {
    i * (n - 1) - i * i.saturating_sub(1) / 2
}

/// Order statistics of the triangle copy `upper` (reordered): element `i` and, with `next`, element
/// i + 1 (the smallest of what `select_nth_unstable` leaves to the right of i).
fn order_stats<T: Real>(upper: &mut [T], i: usize, next: bool) -> (f64, f64) {
    let (_, v, right) = upper.select_nth_unstable_by(i, |a, b| a.total_order(b));
    let v = v.to_f64();
    let w = if next { right.iter().min_by(|a, b| a.total_order(b)).map_or(v, |m| m.to_f64()) } else { v };
    (v, w)
}

/// The median heuristic's bandwidth med(D) / log(n + 1) over all n² distances, from the strict
/// upper triangle: the mean of the two middle values for an even count, 1 where the median is 0.
fn median_bandwidth<T: Real>(upper: &mut [T], n: usize) -> f64 {
    let total = n * n;
    let med = if total % 2 == 1 {
        let k = total / 2;
        if k < n {
            0.0
        } else {
            order_stats(upper, (k - n) / 2, false).0
        }
    } else {
        let (k1, k2) = (total / 2 - 1, total / 2);
        if k1 < n {
            // n = 2: one of the diagonal's zeros and the single distance.
            0.5 * order_stats(upper, (k2 - n) / 2, false).0
        } else {
            let (i1, i2) = ((k1 - n) / 2, (k2 - n) / 2);
            let (a, b) = order_stats(upper, i1, i2 != i1);
            0.5 * (a + b)
        }
    };
    let h = med / ((n + 1) as f64).ln();
    if h > 0.0 {
        h
    } else {
        1.0
    }
}

fn phi_typed<T: Real>(x: &[T], g: &[T], phi: &mut [T], h_out: &mut [T], n: usize, d: usize, bandwidth: f64) {
    if d == 0 {
        // No coordinates: every distance is 0, so the median falls back to 1.
        h_out[0] = T::from_f64(if bandwidth > 0.0 { bandwidth } else { 1.0 });
        return;
    }
    let mut mean = vec![0f64; d];
    for row in x.chunks_exact(d) {
        for (m, &v) in mean.iter_mut().zip(row) {
            *m += v.to_f64();
        }
    }
    for m in &mut mean {
        *m /= n as f64;
    }
    // B = [g | x − mean] (n × 2d), the right operand of the final product; sq_i = ‖x_i − mean‖².
    let w = 2 * d;
    let mut b = vec![T::default(); n * w];
    let mut sq = vec![T::default(); n];
    for (i, (brow, s)) in b.chunks_exact_mut(w).zip(sq.iter_mut()).enumerate() {
        brow[..d].copy_from_slice(&g[i * d..(i + 1) * d]);
        let mut acc = 0f64;
        for k in 0..d {
            let c = T::from_f64(x[i * d + k].to_f64() - mean[k]);
            brow[d + k] = c;
            acc += c.to_f64() * c.to_f64();
        }
        *s = T::from_f64(acc);
    }
    let xc = Mat { data: &b[d..], rs: w, cs: 1 };
    let xct = Mat { data: &b[d..], rs: 1, cs: w };
    let mut dm = vec![T::default(); n * n];
    gemm(n, n, d, xc, xct, &mut dm);

    let median = !(bandwidth > 0.0);
    let mut upper = vec![T::default(); if median { n * (n - 1) / 2 } else { 0 }];
    let dp = SendPtr(dm.as_mut_ptr());
    let up = SendPtr(upper.as_mut_ptr());
    let sq = &sq;
    par::ranges(n, n * n, par::COSTLY_MIN, |lo, hi| {
        for i in lo..hi {
            // SAFETY: row i of D (n elements) is touched by this task only; the ranges are disjoint.
            let row = unsafe { std::slice::from_raw_parts_mut(dp.get().add(i * n), n) };
            for (j, v) in row.iter_mut().enumerate() {
                let s = sq[i] + sq[j] - (*v + *v);
                // Rounding can take a tiny distance below 0.
                *v = if s < T::default() { T::default() } else { s };
            }
            row[i] = T::default();
            if median && i + 1 < n {
                // SAFETY: row i's triangle part starts at triangle_offset(i) and holds n − 1 − i
                // elements, disjoint from every other row's; `upper` has n(n − 1)/2 elements.
                let dst = unsafe { std::slice::from_raw_parts_mut(up.get().add(triangle_offset(i, n)), n - 1 - i) };
                dst.copy_from_slice(&row[i + 1..]);
            }
        }
    });

    let h = if !median {
        bandwidth
    } else if x.iter().any(|v| !v.to_f64().is_finite()) {
        f64::NAN
    } else {
        median_bandwidth(&mut upper, n)
    };
    let h = T::from_f64(h);
    h_out[0] = h;
    drop(upper);

    // K = exp(−D/h) in place, row sums alongside.
    let mut rsum = vec![T::default(); n];
    let rp = SendPtr(rsum.as_mut_ptr());
    par::ranges(n, n * n, par::COSTLY_MIN, |lo, hi| {
        let mut t = vec![T::default(); n];
        for i in lo..hi {
            // SAFETY: row i of D and rsum[i] are touched by this task only.
            let row = unsafe { std::slice::from_raw_parts_mut(dp.get().add(i * n), n) };
            for (tj, &v) in t.iter_mut().zip(row.iter()) {
                *tj = -(v / h);
            }
            T::exp_map(&t, row);
            let s: f64 = row.iter().map(|v| v.to_f64()).sum();
            // SAFETY: as above.
            unsafe { *rp.get().add(i) = T::from_f64(s) };
        }
    });

    let mut c = vec![T::default(); n * w];
    gemm(n, w, n, Mat { data: &dm, rs: n, cs: 1 }, Mat { data: &b, rs: w, cs: 1 }, &mut c);
    let two_h = 2.0 / h.to_f64();
    let inv_n = 1.0 / n as f64;
    let (b, c, rsum) = (&b, &c, &rsum);
    par::chunks(phi, par::CHEAP_MIN, |start, out| {
        for (o, v) in out.iter_mut().enumerate() {
            let (i, k) = ((start + o) / d, (start + o) % d);
            let kg = c[i * w + k].to_f64();
            let kx = c[i * w + d + k].to_f64();
            let xr = b[i * w + d + k].to_f64() * rsum[i].to_f64();
            *v = T::from_f64((kg + two_h * (xr - kx)) * inv_n);
        }
    });
}

/// SVGD's update direction for `n` particles `x` (n×d, row-major) with scores `g` (n×d): writes
/// `phi` (n×d) and the bandwidth used to `h` (one element); `bandwidth` > 0 fixes it, 0 asks for
/// the median heuristic (see the module doc and ts/kernels/spec.ts).
#[napi]
pub fn svgd_phi(x: Arr, g: Arr, phi: Arr, h: Arr, n: u32, d: u32, bandwidth: f64) -> Result<()> {
    let (n, d) = (n as usize, d as usize);
    if n == 0 || x.len() != n * d || g.len() != n * d || phi.len() != n * d || h.len() != 1 {
        return Err(err(format!("svgdPhi: arrays do not match n = {n} particles of d = {d} (x {}, g {}, phi {}, h {})", x.len(), g.len(), phi.len(), h.len())));
    }
    match x.kind() {
        Kind::F64 => phi_typed(x.get::<f64>()?, g.get::<f64>()?, phi.get_mut::<f64>()?, h.get_mut::<f64>()?, n, d, bandwidth),
        Kind::F32 => phi_typed(x.get::<f32>()?, g.get::<f32>()?, phi.get_mut::<f32>()?, h.get_mut::<f32>()?, n, d, bandwidth),
        Kind::I32 => return Err(err("svgdPhi: int32 is not supported".into())),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The definition, term by term, with the median over a sorted copy of all n² distances.
    fn naive(x: &[f64], g: &[f64], n: usize, d: usize, bandwidth: f64) -> (Vec<f64>, f64) {
        let dist: Vec<f64> = (0..n * n).map(|t| (0..d).map(|k| (x[(t / n) * d + k] - x[(t % n) * d + k]).powi(2)).sum()).collect();
        let h = if bandwidth > 0.0 {
            bandwidth
        } else {
            let mut s = dist.clone();
            s.sort_by(|a, b| a.total_cmp(b));
            let m = s.len() / 2;
            let med = if s.len() % 2 == 1 { s[m] } else { 0.5 * (s[m - 1] + s[m]) };
            let h = med / ((n + 1) as f64).ln();
            if h > 0.0 {
                h
            } else {
                1.0
            }
        };
        let mut phi = vec![0.0; n * d];
        for i in 0..n {
            for j in 0..n {
                let kij = (-dist[i * n + j] / h).exp();
                for k in 0..d {
                    phi[i * d + k] += kij * (g[j * d + k] + 2.0 / h * (x[i * d + k] - x[j * d + k])) / n as f64;
                }
            }
        }
        (phi, h)
    }

    fn data(len: usize, seed: usize, offset: f64) -> Vec<f64> {
        (0..len).map(|i| ((i * 7919 + seed * 104729) % 1013) as f64 / 506.5 - 1.0 + offset).collect()
    }

    #[test]
    fn matches_the_definition() {
        // Odd and even n² (one and two middle values), n = 1 and 2 (the median's edge ranks), a
        // fixed bandwidth, particles far from the origin (centering), duplicated particles.
        for &(n, d, bw, off) in &[(1, 3, 0.0, 0.0), (2, 2, 0.0, 0.0), (3, 2, 0.0, 0.0), (7, 5, 0.0, 100.0), (40, 9, 0.0, 0.0), (33, 4, 0.7, -3.0), (64, 70, 0.0, 0.0)] {
            let mut x = data(n * d, n, off);
            if n > 4 {
                let (a, b) = x.split_at_mut(d);
                b[..d].copy_from_slice(a);
            }
            let g = data(n * d, n + 1, 0.0);
            let (want, want_h) = naive(&x, &g, n, d, bw);
            let mut phi = vec![f64::NAN; n * d];
            let mut h = [f64::NAN];
            phi_typed(&x, &g, &mut phi, &mut h, n, d, bw);
            assert!((h[0] - want_h).abs() <= 1e-9 * want_h, "n {n} d {d}: h {} vs {want_h}", h[0]);
            for (p, q) in phi.iter().zip(&want) {
                assert!((p - q).abs() <= 1e-9 * (1.0 + q.abs()), "n {n} d {d}: {p} vs {q}");
            }
            let xf: Vec<f32> = x.iter().map(|&v| v as f32).collect();
            let gf: Vec<f32> = g.iter().map(|&v| v as f32).collect();
            let widen = |v: &[f32]| v.iter().map(|&e| e as f64).collect::<Vec<f64>>();
            let (want, want_h) = naive(&widen(&xf), &widen(&gf), n, d, bw);
            let mut pf = vec![f32::NAN; n * d];
            let mut hf = [f32::NAN];
            phi_typed(&xf, &gf, &mut pf, &mut hf, n, d, bw);
            assert!(((hf[0] as f64) - want_h).abs() <= 1e-4 * want_h);
            for (p, q) in pf.iter().zip(&want) {
                assert!((*p as f64 - q).abs() <= 2e-3 * (1.0 + q.abs()), "f32 n {n} d {d}: {p} vs {q}");
            }
        }
    }

    #[test]
    fn median_edge_cases() {
        // Every particle at one point: the median is 0 and the bandwidth falls back to 1.
        let x = vec![0.5; 12];
        let mut phi = vec![0.0; 12];
        let mut h = [0.0];
        phi_typed(&x, &x, &mut phi, &mut h, 4, 3, 0.0);
        assert_eq!(h[0], 1.0);
        // A NaN particle coordinate gives a NaN bandwidth.
        let mut y = data(12, 1, 0.0);
        y[4] = f64::NAN;
        phi_typed(&y, &y, &mut phi, &mut h, 4, 3, 0.0);
        assert!(h[0].is_nan());
    }
}
