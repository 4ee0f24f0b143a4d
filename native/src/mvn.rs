//! The fused Cholesky-guide sample `mvnReparam` (see ts/kernels/spec.ts): per batch row,
//! z = loc + L ε over L's lower triangle and log q = −½‖ε‖² − Σ_i log|L_ii| − (d/2) log 2π.
//!
//! ε is random.rs's normal stream for z's shape, drawn into z before z is computed over it, so the
//! fused sample draws exactly what `randomNormal` does. Sums accumulate in f64 and each result
//! rounds to the dtype where the unfused kernels (matmul, add, square, sum, log) store theirs, as
//! the js reference does; rows are split over the kernel pool when the batch is large.
//!
//! `meta` (Int32Array): `[rank, batch shape (rank), loc's batch strides (rank), L's batch
//! strides (rank)]`, strides in elements (0 along a broadcast axis).

use crate::par::{self, SendPtr};
use crate::random::fill_normal;
use crate::{dispatch_float, err, Arr, Elem};
use napi::Result;
use napi_derive::napi;

/// log 2π, bit for bit the js reference's `Math.log(2 * Math.PI)`.
const LN_2PI: f64 = 1.837_877_066_409_345_3;

/// `v` rounded to `T` and back: an intermediate as an unfused kernel would store it.
#[inline(always)]
fn rnd<T: Elem>(v: f64) -> f64 {
    T::from_f64(v).to_f64()
}

/// The batch layout parsed from `meta`.
struct Layout {
    shape: Vec<usize>,
    s_loc: Vec<usize>,
    s_l: Vec<usize>,
}

impl Layout {
    fn parse(meta: &[i32]) -> Result<Layout> {
        let bad = || err(format!("mvnReparam: malformed batch layout {meta:?}"));
        let rank = usize::try_from(*meta.first().ok_or_else(bad)?).map_err(|_| bad())?;
        if meta.len() != 1 + 3 * rank || meta[1..].iter().any(|&v| v < 0) {
            return Err(bad());
        }
        let part = |i: usize| meta[1 + i * rank..1 + (i + 1) * rank].iter().map(|&v| v as usize).collect::<Vec<_>>();
        Ok(Layout { shape: part(0), s_loc: part(1), s_l: part(2) })
    }

    fn rows(&self) -> usize {
        self.shape.iter().product()
    }

    /// One past the largest batch offset reached through `strides` (0 for an empty batch).
    fn span(&self, strides: &[usize]) -> usize {
        if self.rows() == 0 {
            return 0;
        }
        1 + self.shape.iter().zip(strides).map(|(n, s)| (n - 1) * s).sum::<usize>()
    }

    /// The offsets of batch row `r` into loc and L.
    #[inline]
    fn offsets(&self, mut r: usize) -> (usize, usize) {
        let (mut ol, mut o_l) = (0, 0);
        for a in (0..self.shape.len()).rev() {
            let i = r % self.shape[a];
            r /= self.shape[a];
            ol += i * self.s_loc[a];
            o_l += i * self.s_l[a];
        }
        (ol, o_l)
    }
}

fn reparam<T: Elem>(loc: &[T], l: &[T], z: &mut [T], logq: &mut [T], meta: &[i32], d: usize, key: [u32; 2]) -> Result<()> {
    let lay = Layout::parse(meta)?;
    let rows = lay.rows();
    if d == 0 || z.len() != rows * d || logq.len() != rows {
        return Err(err(format!(
            "mvnReparam: {rows} batch rows of d = {d} need z of {} and log q of {rows} elements, got {} and {}",
            rows * d,
            z.len(),
            logq.len()
        )));
    }
    if rows > 0 && (loc.len() < lay.span(&lay.s_loc) - 1 + d || l.len() < lay.span(&lay.s_l) - 1 + d * d) {
        return Err(err(format!("mvnReparam: loc ({}) or scaleTril ({}) is shorter than its batch layout", loc.len(), l.len())));
    }
    if rows == 0 {
        return Ok(());
    }
    fill_normal(z, key);
    let c = rnd::<T>(0.5 * d as f64 * LN_2PI);
    let (pz, pq) = (SendPtr(z.as_mut_ptr()), SendPtr(logq.as_mut_ptr()));
    let lay = &lay;
    let run = |r0: usize, r1: usize| {
        // SAFETY: par::ranges hands out disjoint row ranges r0..r1 within 0..rows, so each task
        // alone reads and writes z[r0·d..r1·d] and logq[r0..r1], and nothing else touches them.
        let (zs, qs) = unsafe {
            (
                std::slice::from_raw_parts_mut(pz.get().add(r0 * d), (r1 - r0) * d),
                std::slice::from_raw_parts_mut(pq.get().add(r0), r1 - r0),
            )
        };
        let mut eps = vec![0f64; d];
        for r in r0..r1 {
            let (ol, o_l) = lay.offsets(r);
            let zr = &mut zs[(r - r0) * d..(r - r0 + 1) * d];
            for (e, v) in eps.iter_mut().zip(zr.iter()) {
                *e = v.to_f64();
            }
            let (mut sq, mut ld) = (0f64, 0f64);
            for i in 0..d {
                let row = &l[o_l + i * d..o_l + i * d + i + 1];
                let acc = row.iter().zip(&eps).fold(0f64, |a, (lv, e)| a + lv.to_f64() * e);
                zr[i] = T::from_f64(loc[ol + i].to_f64() + rnd::<T>(acc));
                sq += rnd::<T>(eps[i] * eps[i]);
                ld += rnd::<T>(row[i].to_f64().abs().ln());
            }
            qs[r - r0] = T::from_f64(rnd::<T>(rnd::<T>(rnd::<T>(sq) * -0.5) - rnd::<T>(ld)) - c);
        }
    };
    // Work per row: d(d+1)/2 multiply-adds, d logs.
    par::ranges(rows, rows * (d * (d + 1) / 2 + 20 * d), par::COSTLY_MIN * 16, run);
    Ok(())
}

/// The fused Cholesky-guide sample: normals of key (k0, k1) into `z` ([rows, d]), then per batch
/// row z = loc + L ε (L's lower triangle) and `logq` = −½‖ε‖² − Σ log|L_ii| − (d/2) log 2π, loc
/// and `scale_tril` broadcast over the batch by `meta` (see the module doc).
#[napi]
pub fn mvn_reparam(loc: Arr, scale_tril: Arr, z: Arr, logq: Arr, meta: Arr, d: u32, k0: u32, k1: u32) -> Result<()> {
    let m = meta.get::<i32>()?;
    dispatch_float!(loc.kind(), "mvnReparam", T => reparam::<T>(loc.get()?, scale_tril.get()?, z.get_mut()?, logq.get_mut()?, m, d as usize, [k0, k1]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_factor_gives_back_the_normal_stream() {
        // loc 0 and L = I give z = ε and log q = −½‖ε‖² − (d/2) log 2π; the upper triangle is ignored.
        let key = [5, 6];
        let mut eps = vec![0f64; 6];
        fill_normal(&mut eps, key);
        let l = [1.0, 9.0, 0.0, 1.0];
        let (mut z, mut q) = (vec![0f64; 6], vec![0f64; 3]);
        reparam(&[0.0, 0.0], &l, &mut z, &mut q, &[1, 3, 0, 0], 2, key).unwrap();
        assert_eq!(z, eps);
        for r in 0..3 {
            let want = -0.5 * (eps[2 * r].powi(2) + eps[2 * r + 1].powi(2)) - LN_2PI;
            assert!((q[r] - want).abs() < 1e-12);
        }
    }
}
