//! The fused Gaussian kernels of variational inference (see ts/kernels/spec.ts): `normalReparam`,
//! the reparameterized sample z = loc + σ·ε, σ = exp(logScale), with its log-density
//! log q = −½ε² − logScale − ½ log 2π, and the math of `diagNormalKL`, KL(N(loc, σ²) ‖ N(0, 1)),
//! which `binary` runs as op 16 (elementwise.rs).
//!
//! ε is random.rs's normal stream, drawn into z before z is computed over it, so the fused
//! sample draws exactly what `randomNormal` does. Every later step rounds to the dtype where the
//! unfused kernels store their results, and σ comes from the unary kernel's own exp (fastmath),
//! so z and log q equal this backend's randomNormal → exp → mul → add and
//! square → mul → sub → sub chains.

use crate::elementwise::{Bcast, FAST_MIN};
use crate::fastmath::{self, Op};
use crate::par::{self, SendPtr};
use crate::random::fill_normal;
use crate::{dispatch_float, err, Arr, Elem};
use napi::Result;
use napi_derive::napi;

/// ½ log 2π, bit for bit the js reference's `0.5 * Math.log(2 * Math.PI)`.
const HALF_LOG_2PI: f64 = 0.918_938_533_204_672_7;

/// KL(N(loc, e^(2·log_scale)) ‖ N(0, 1)) = ½ loc² + ½ expm1(2·log_scale) − log_scale, in the js
/// reference's order (expm1 keeps σ² − 1 accurate near σ = 1).
#[inline(always)]
pub fn diag_normal_kl(loc: f64, log_scale: f64) -> f64 {
    0.5 * loc * loc + 0.5 * (2.0 * log_scale).exp_m1() - log_scale
}

/// The float types, with the exp of the unary kernel for each.
trait FastExp: Elem {
    fn exp_into(x: &[Self], out: &mut [Self]);
}

impl FastExp for f32 {
    fn exp_into(x: &[f32], out: &mut [f32]) {
        fastmath::map(Op::Exp, x, out)
    }
}

impl FastExp for f64 {
    fn exp_into(x: &[f64], out: &mut [f64]) {
        fastmath::f64x::map(Op::Exp, x, out)
    }
}

/// `v` rounded to `T` and back: an intermediate as an unfused kernel would store it.
#[inline(always)]
fn rnd<T: Elem>(v: f64) -> f64 {
    T::from_f64(v).to_f64()
}

fn reparam<T: FastExp>(
    loc: &[T],
    log_scale: &[T],
    z: &mut [T],
    logq: &mut [T],
    meta: &[i32],
    key: [u32; 2],
) -> Result<()> {
    let n = z.len();
    if logq.len() != n {
        return Err(err(format!("normalReparam: z holds {n} elements but log q {}", logq.len())));
    }
    let bc = Bcast::<2>::parse(meta)?;
    let (rows, inner, [sl, ss]) = (bc.rows(), bc.inner(), bc.inner_stride());
    if rows * inner != n {
        return Err(err(format!("normalReparam: broadcast shape holds {} elements, output {n}", rows * inner)));
    }
    if n == 0 {
        return Ok(());
    }
    fill_normal(z, key);
    // σ once per logScale element, as the unfused exp computes it before the multiply broadcasts it.
    let mut scale = vec![T::default(); log_scale.len()];
    par::chunks(&mut scale, FAST_MIN, |s, c| T::exp_into(&log_scale[s..s + c.len()], c));
    let scale = &scale;
    let c = rnd::<T>(HALF_LOG_2PI);
    let (pz, pq) = (SendPtr(z.as_mut_ptr()), SendPtr(logq.as_mut_ptr()));
    // Output elements o0..o0+len, reading loc from `il` and logScale and σ from `is` onwards.
    let run = |o0: usize, len: usize, il: usize, is: usize| {
        // SAFETY: the callers below hand out disjoint ranges o0..o0+len within 0..n, so no two
        // tasks write the same element of z or log q, and nothing else touches them meanwhile.
        let (zs, qs) = unsafe {
            (
                std::slice::from_raw_parts_mut(pz.get().add(o0), len),
                std::slice::from_raw_parts_mut(pq.get().add(o0), len),
            )
        };
        for j in 0..len {
            let e = zs[j].to_f64();
            let (m, ls, sigma) =
                (loc[il + j * sl].to_f64(), log_scale[is + j * ss].to_f64(), scale[is + j * ss].to_f64());
            zs[j] = T::from_f64(m + rnd::<T>(sigma * e));
            qs[j] = T::from_f64(rnd::<T>(rnd::<T>(rnd::<T>(e * e) * -0.5) - ls) - c);
        }
    };
    if rows == 1 {
        // One merged row (equal shapes, or a single-element operand): split the row itself.
        par::ranges(n, n, par::CHEAP_MIN, |lo, hi| run(lo, hi - lo, lo * sl, lo * ss));
    } else {
        par::ranges(rows, n, par::CHEAP_MIN, |r0, r1| bc.walk(r0, r1, |r, [il, is]| run(r * inner, inner, il, is)));
    }
    Ok(())
}

/// The fused reparameterized sample: normals of key (k0, k1) into `z`, then z and `logq` from
/// `loc` and `log_scale` broadcast by `meta` (elementwise.rs's layout for two inputs).
#[napi]
pub fn normal_reparam(loc: Arr, log_scale: Arr, z: Arr, logq: Arr, meta: Arr, k0: u32, k1: u32) -> Result<()> {
    let m = meta.get::<i32>()?;
    dispatch_float!(loc.kind(), "normalReparam", T => reparam::<T>(loc.get()?, log_scale.get()?, z.get_mut()?, logq.get_mut()?, m, [k0, k1]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_the_normal_stream() {
        // loc 0 and logScale 0 (σ = 1) give back ε itself, and log q = −½ε² − ½ log 2π.
        let key = [3, 4];
        let mut eps = vec![0f32; 9];
        fill_normal(&mut eps, key);
        let (loc, ls) = ([0f32], [0f32]);
        let (mut z, mut q) = (vec![0f32; 9], vec![0f32; 9]);
        reparam(&loc, &ls, &mut z, &mut q, &[1, 9, 0, 0], key).unwrap();
        assert_eq!(z, eps);
        for (e, q) in eps.iter().zip(&q) {
            assert!((*q as f64 + 0.5 * (*e as f64).powi(2) + HALF_LOG_2PI).abs() < 1e-6);
        }
    }

    #[test]
    fn broadcasts_loc_over_rows() {
        // out [2, 3]: loc [3] broadcast over rows, logScale [2, 3] full.
        let key = [1, 2];
        let loc = [1.0, 2.0, 3.0];
        let ls = [0.0, 0.1, -0.2, 0.3, 0.0, 0.5];
        let (mut z, mut q) = (vec![0.0; 6], vec![0.0; 6]);
        reparam(&loc, &ls, &mut z, &mut q, &[2, 2, 3, 0, 1, 3, 1], key).unwrap();
        let mut eps = vec![0.0; 6];
        fill_normal(&mut eps, key);
        for i in 0..6 {
            assert!((z[i] - (loc[i % 3] + f64::exp(ls[i]) * eps[i])).abs() < 1e-12);
        }
        assert!(diag_normal_kl(0.0, 0.0) == 0.0 && (diag_normal_kl(1.0, 0.0) - 0.5).abs() < 1e-15);
    }
}
