//! Cholesky factorization and triangular solves over batches, computed in float64 and rounded
//! once on store (as the js reference), so float32 results are the float64 ones rounded.

use crate::{dispatch_float, err, Arr, Elem};
use napi::Result;
use napi_derive::napi;
use rayon::prelude::*;

/// Factors one n×n matrix (lower triangle read) into `l` (row-major, upper part zero).
/// Returns the failing pivot and its value when the matrix is not positive definite.
fn cholesky_one<T: Elem>(x: &[T], l: &mut [f64], n: usize) -> Option<(usize, f64)> {
    l.fill(0.0);
    for i in 0..n {
        for j in 0..=i {
            // Cholesky–Banachiewicz: s = a_ij − Σ_{k<j} l_ik l_jk, in the reference's order.
            let mut s = x[i * n + j].to_f64();
            for k in 0..j {
                s -= l[i * n + k] * l[j * n + k];
            }
            if i == j {
                if s.is_nan() || s <= 0.0 {
                    return Some((i, s));
                }
                l[i * n + i] = s.sqrt();
            } else {
                l[i * n + j] = s / l[j * n + j];
            }
        }
    }
    None
}

/// Lower Cholesky factors of a batch of n×n matrices. Returns null on success, or
/// [batch index, pivot, pivot value] of the first matrix that is not positive definite.
#[napi]
pub fn cholesky(x: Arr, out: Arr, n: u32) -> Result<Option<Vec<f64>>> {
    let n = n as usize;
    dispatch_float!(x.kind(), "cholesky", T => {
        let src = x.get::<T>()?;
        let o = out.get_mut::<T>()?;
        let nn = n * n;
        if o.len() != src.len() || (nn > 0 && src.len() % nn != 0) {
            return Err(err("cholesky: shape does not match the arrays".into()));
        }
        if nn == 0 || src.is_empty() {
            return Ok(None);
        }
        let batch = src.len() / nn;
        let work = batch * nn * n;
        let fail = if batch > 1 && work >= 1 << 18 {
            o.par_chunks_mut(nn)
                .enumerate()
                .map_init(
                    || vec![0.0f64; nn],
                    |l, (b, ob)| {
                        let r = cholesky_one(&src[b * nn..(b + 1) * nn], l, n);
                        ob.iter_mut().zip(l.iter()).for_each(|(d, &v)| *d = T::from_f64(v));
                        r.map(|(p, s)| (b, p, s))
                    },
                )
                .flatten()
                .min_by_key(|f| f.0)
        } else {
            let mut l = vec![0.0f64; nn];
            let mut fail = None;
            for (b, ob) in o.chunks_mut(nn).enumerate() {
                if let Some((p, s)) = cholesky_one(&src[b * nn..(b + 1) * nn], &mut l, n) {
                    fail = Some((b, p, s));
                    break;
                }
                ob.iter_mut().zip(&l).for_each(|(d, &v)| *d = T::from_f64(v));
            }
            fail
        };
        Ok(fail.map(|(b, p, s)| vec![b as f64, p as f64, s]))
    })
}

/// Solves op(A) X = B for one system: A n×n, B and X n×k, row-major. The row-oriented loop
/// performs, for every column, the same operations in the same order as the reference.
fn solve_one<T: Elem>(a: &[T], b: &[T], o: &mut [T], n: usize, k: usize, lower: bool, trans: bool, x: &mut [f64]) {
    let (si, sj) = if trans { (1, n) } else { (n, 1) };
    let forward = lower != trans;
    for t in 0..n {
        let i = if forward { t } else { n - 1 - t };
        let (xs, rest) = x.split_at_mut(i * k);
        let (xi, xafter) = rest.split_at_mut(k);
        for c in 0..k {
            xi[c] = b[i * k + c].to_f64();
        }
        if forward {
            for j in 0..i {
                let aij = a[i * si + j * sj].to_f64();
                let xj = &xs[j * k..(j + 1) * k];
                xi.iter_mut().zip(xj).for_each(|(s, &v)| *s -= aij * v);
            }
        } else {
            for j in i + 1..n {
                let aij = a[i * si + j * sj].to_f64();
                let xj = &xafter[(j - i - 1) * k..(j - i) * k];
                xi.iter_mut().zip(xj).for_each(|(s, &v)| *s -= aij * v);
            }
        }
        let d = a[i * si + i * sj].to_f64();
        xi.iter_mut().for_each(|s| *s /= d);
    }
    o.iter_mut().zip(x.iter()).for_each(|(d, &v)| *d = T::from_f64(v));
}

/// Batched triangular solve op(A) X = B (A n×n lower or upper, op = optional transpose; B n×k).
/// Batch indexing as in `matmul`: without `bidx` an operand holding `batch` matrices is indexed by
/// the batch, a single one is shared; `bidx` = [ia..., ib...] gives the indices explicitly.
#[napi]
pub fn triangular_solve(
    a: Arr,
    b: Arr,
    out: Arr,
    batch: u32,
    n: u32,
    k: u32,
    lower: bool,
    trans_a: bool,
    bidx: Option<Arr>,
) -> Result<()> {
    let (batch, n, k) = (batch as usize, n as usize, k as usize);
    let ix = match &bidx {
        Some(v) => Some(v.get::<i32>()?),
        None => None,
    };
    dispatch_float!(a.kind(), "triangularSolve", T => {
        let (am, bm, o) = (a.get::<T>()?, b.get::<T>()?, out.get_mut::<T>()?);
        let (sa, sb) = (n * n, n * k);
        if o.len() != batch * sb {
            return Err(err("triangularSolve: output size mismatch".into()));
        }
        if sb == 0 {
            return Ok(());
        }
        let a_b = am.len() == batch * sa && batch > 1;
        let b_b = bm.len() == batch * sb && batch > 1;
        let run = |t: usize, ot: &mut [T], x: &mut Vec<f64>| -> Result<()> {
            let (ia, ib) = match ix {
                Some(v) => (v[t] as usize, v[batch + t] as usize),
                None => (if a_b { t } else { 0 }, if b_b { t } else { 0 }),
            };
            if (ia + 1) * sa > am.len() || (ib + 1) * sb > bm.len() {
                return Err(err("triangularSolve: batch index outside the operands".into()));
            }
            x.resize(sb, 0.0);
            solve_one(&am[ia * sa..(ia + 1) * sa], &bm[ib * sb..(ib + 1) * sb], ot, n, k, lower, trans_a, x);
            Ok(())
        };
        if batch > 1 && batch * sa * k >= 1 << 17 {
            o.par_chunks_mut(sb).enumerate().try_for_each_init(Vec::new, |x, (t, ot)| run(t, ot, x))
        } else {
            let mut x = Vec::new();
            for (t, ot) in o.chunks_mut(sb).enumerate() {
                run(t, ot, &mut x)?;
            }
            Ok(())
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cholesky_and_solve() {
        let a = [4.0, 2.0, 0.6, 2.0, 2.0, 0.5, 0.6, 0.5, 3.0];
        let mut l = vec![0.0; 9];
        assert!(cholesky_one(&a[..], &mut l, 3).is_none());
        // L Lᵀ reproduces A.
        for i in 0..3 {
            for j in 0..3 {
                let s: f64 = (0..3).map(|k| l[i * 3 + k] * l[j * 3 + k]).sum();
                assert!((s - a[i * 3 + j]).abs() < 1e-12);
            }
        }
        // Solve L x = b, then check.
        let b = [1.0, 2.0, 3.0];
        let mut o = [0.0; 3];
        let mut x = vec![0.0; 3];
        solve_one(&l, &b, &mut o, 3, 1, true, false, &mut x);
        for i in 0..3 {
            let s: f64 = (0..3).map(|j| l[i * 3 + j] * o[j]).sum();
            assert!((s - b[i]).abs() < 1e-12);
        }
        let bad = [1.0, 2.0, 2.0, 1.0];
        let mut l2 = vec![0.0; 4];
        assert_eq!(cholesky_one(&bad[..], &mut l2, 2).map(|f| f.0), Some(1));
    }
}
