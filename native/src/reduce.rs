//! Reductions (sum, prod, max, min, logsumexp), arg-reductions, softmax, logSoftmax, cumsum.
//!
//! Reductions take `[rank, shape[rank], reduced[rank]]` (reduced: 1 for a reduced axis). Adjacent
//! axes of the same kind merge; the common layouts reduce as (outer, reduced, inner) blocks and any
//! other is first permuted so that reduced axes come last. Single-axis kernels take the
//! (outer, n, inner) split directly. Accumulation is in float64 for every dtype, then rounded
//! (int32 wraps as an Int32Array store does), matching the js reference.

use crate::fastmath;
use crate::par::{self, SendPtr};
use crate::shape::strided_gather;
use crate::{dispatch, dispatch_float, err, Arr, Elem, Kind};
use napi::Result;
use napi_derive::napi;

const SUM: u32 = 0;
const PROD: u32 = 1;
const MAX: u32 = 2;
const MIN: u32 = 3;
const LSE: u32 = 4;

#[inline(always)]
fn max_nan(a: f64, b: f64) -> f64 {
    if a > b || a.is_nan() {
        a
    } else {
        b
    }
}

#[inline(always)]
fn min_nan(a: f64, b: f64) -> f64 {
    if a < b || a.is_nan() {
        a
    } else {
        b
    }
}

/// log Σ exp given the maximum `m` and Σ exp(x - m) `s`.
#[inline(always)]
fn lse_finish(m: f64, s: f64) -> f64 {
    if m.is_infinite() || m.is_nan() {
        m
    } else {
        m + s.ln()
    }
}

/// Reduces one contiguous run.
#[inline]
fn fold<T: Elem>(op: u32, xs: &[T]) -> f64 {
    match op {
        SUM => {
            // Four accumulators so the loop vectorizes.
            let mut acc = [0.0f64; 4];
            let mut ch = xs.chunks_exact(4);
            for c in &mut ch {
                for k in 0..4 {
                    acc[k] += c[k].to_f64();
                }
            }
            let mut s = (acc[0] + acc[1]) + (acc[2] + acc[3]);
            for &v in ch.remainder() {
                s += v.to_f64();
            }
            s
        }
        PROD => xs.iter().fold(1.0, |a, &v| a * v.to_f64()),
        MAX => xs.iter().fold(f64::NEG_INFINITY, |a, &v| max_nan(v.to_f64(), a)),
        MIN => xs.iter().fold(f64::INFINITY, |a, &v| min_nan(v.to_f64(), a)),
        _ => {
            let m = xs.iter().fold(f64::NEG_INFINITY, |a, &v| max_nan(v.to_f64(), a));
            if m.is_infinite() || m.is_nan() {
                return m;
            }
            let s: f64 = xs.iter().map(|&v| (v.to_f64() - m).exp()).sum();
            lse_finish(m, s)
        }
    }
}

/// Reduces `x` viewed as (outer, red, inner) over the middle axis into `out` (outer, inner).
fn reduce_block<T: Elem>(op: u32, x: &[T], out: &mut [T], outer: usize, red: usize, inner: usize) {
    if op == PROD && T::KIND == Kind::I32 {
        // int32 products wrap at every step (Math.imul in the reference).
        for b in 0..outer {
            for j in 0..inner {
                let mut p: i32 = 1;
                for r in 0..red {
                    p = p.wrapping_mul(x[(b * red + r) * inner + j].to_f64() as i32);
                }
                out[b * inner + j] = T::from_f64(p as f64);
            }
        }
        return;
    }
    let total = outer * red * inner;
    let min = if op == LSE { par::COSTLY_MIN } else { par::CHEAP_MIN };
    let p = SendPtr(out.as_mut_ptr());
    par::ranges(outer, total, min, |lo, hi| {
        // SAFETY: rows lo..hi of the output are written by this task alone.
        let o = unsafe { std::slice::from_raw_parts_mut(p.get().add(lo * inner), (hi - lo) * inner) };
        if inner == 1 {
            for (k, d) in o.iter_mut().enumerate() {
                let s = (lo + k) * red;
                *d = T::from_f64(fold(op, &x[s..s + red]));
            }
            return;
        }
        let init = match op {
            SUM => 0.0,
            PROD => 1.0,
            MIN => f64::INFINITY,
            _ => f64::NEG_INFINITY,
        };
        let mut acc = vec![0.0f64; inner];
        let mut acc2 = vec![0.0f64; if op == LSE { inner } else { 0 }];
        for b in lo..hi {
            acc.fill(init);
            let base = b * red * inner;
            for r in 0..red {
                let row = &x[base + r * inner..base + (r + 1) * inner];
                match op {
                    SUM => acc.iter_mut().zip(row).for_each(|(a, &v)| *a += v.to_f64()),
                    PROD => acc.iter_mut().zip(row).for_each(|(a, &v)| *a *= v.to_f64()),
                    MIN => acc.iter_mut().zip(row).for_each(|(a, &v)| *a = min_nan(v.to_f64(), *a)),
                    _ => acc.iter_mut().zip(row).for_each(|(a, &v)| *a = max_nan(v.to_f64(), *a)),
                }
            }
            if op == LSE {
                acc2.fill(0.0);
                for r in 0..red {
                    let row = &x[base + r * inner..base + (r + 1) * inner];
                    for j in 0..inner {
                        acc2[j] += (row[j].to_f64() - acc[j]).exp();
                    }
                }
                for j in 0..inner {
                    acc[j] = lse_finish(acc[j], acc2[j]);
                }
            }
            let od = &mut o[(b - lo) * inner..(b - lo + 1) * inner];
            for (d, &a) in od.iter_mut().zip(&acc) {
                *d = T::from_f64(a);
            }
        }
    });
}

fn reduce_typed<T: Elem>(op: u32, x: &[T], out: &mut [T], meta: &[i32]) -> Result<()> {
    let rank = *meta.first().ok_or_else(|| err("reduce: empty metadata".into()))? as usize;
    if meta.len() != 1 + 2 * rank {
        return Err(err("reduce: bad metadata".into()));
    }
    let shape: Vec<usize> = meta[1..1 + rank].iter().map(|&d| d as usize).collect();
    let flags: Vec<bool> = meta[1 + rank..].iter().map(|&f| f != 0).collect();
    // Merge runs of same-kind axes, dropping size-1 axes (they change nothing).
    let mut dims: Vec<(usize, bool)> = Vec::new();
    for d in 0..rank {
        if shape[d] == 1 {
            continue;
        }
        match dims.last_mut() {
            Some(last) if last.1 == flags[d] => last.0 *= shape[d],
            _ => dims.push((shape[d], flags[d])),
        }
    }
    if out.is_empty() {
        return Ok(());
    }
    if x.is_empty() {
        // Reducing empty axes: the identity of the op.
        let v = match op {
            SUM => 0.0,
            PROD => 1.0,
            LSE => f64::NEG_INFINITY,
            _ => f64::NAN,
        };
        out.fill(T::from_f64(v));
        return Ok(());
    }
    let kinds: Vec<bool> = dims.iter().map(|d| d.1).collect();
    let size = |i: usize| dims[i].0;
    let (outer, red, inner) = match kinds.as_slice() {
        [] => (1, 1, 1),
        [true] => (1, size(0), 1),
        [false] => (size(0), 1, 1),
        [false, true] => (size(0), size(1), 1),
        [true, false] => (1, size(0), size(1)),
        [false, true, false] => (size(0), size(1), size(2)),
        _ => {
            // Permute kept axes first, reduced last, then reduce rows.
            let full: Vec<usize> = dims.iter().map(|d| d.0).collect();
            let mut st = vec![1usize; full.len()];
            for d in (0..full.len().saturating_sub(1)).rev() {
                st[d] = st[d + 1] * full[d + 1];
            }
            let mut pshape = Vec::new();
            let mut pstrides = Vec::new();
            let (mut keep, mut redn) = (1usize, 1usize);
            for pass in [false, true] {
                for (i, d) in dims.iter().enumerate() {
                    if d.1 == pass {
                        pshape.push(d.0);
                        pstrides.push(st[i]);
                        if pass {
                            redn *= d.0;
                        } else {
                            keep *= d.0;
                        }
                    }
                }
            }
            let mut tmp = vec![T::default(); x.len()];
            strided_gather(x, &mut tmp, &pshape, &pstrides, 0);
            reduce_block(op, &tmp, out, keep, redn, 1);
            return Ok(());
        }
    };
    if outer * inner != out.len() || outer * red * inner != x.len() {
        return Err(err("reduce: shape does not match the arrays".into()));
    }
    reduce_block(op, x, out, outer, red, inner);
    Ok(())
}

/// Reduction `op` (index into REDUCE_OPS) of `x` into `out`; `meta` = [rank, shape, reduced flags].
#[napi]
pub fn reduce(op: u32, x: Arr, out: Arr, meta: Arr) -> Result<()> {
    if op > LSE {
        return Err(err(format!("reduce: unknown op code {op}")));
    }
    let m = meta.get::<i32>()?;
    if op == LSE {
        return dispatch_float!(x.kind(), "logsumexp", T => reduce_typed(op, x.get::<T>()?, out.get_mut::<T>()?, m));
    }
    dispatch!(x.kind(), T => reduce_typed(op, x.get::<T>()?, out.get_mut::<T>()?, m))
}

fn check3(name: &str, len: usize, outer: u32, n: u32, inner: u32) -> Result<(usize, usize, usize)> {
    let (o, n, i) = (outer as usize, n as usize, inner as usize);
    if o * n * i != len {
        return Err(err(format!("{name}: ({o}, {n}, {i}) does not match {len} elements")));
    }
    Ok((o, n, i))
}

/// Index of the first maximum (op 0) or minimum (op 1) along the middle axis of
/// (outer, n, inner); a NaN counts as the extreme (its first occurrence wins).
#[napi]
pub fn arg_reduce(op: u32, x: Arr, out: Arr, outer: u32, n: u32, inner: u32) -> Result<()> {
    let (outer, n, inner) = check3("argmax", x.len(), outer, n, inner)?;
    let o = out.get_mut::<i32>()?;
    if o.len() != outer * inner {
        return Err(err("argmax: output size mismatch".into()));
    }
    dispatch!(x.kind(), T => {
        let xs = x.get::<T>()?;
        for b in 0..outer {
            for i in 0..inner {
                let at = |j: usize| xs[(b * n + j) * inner + i].to_f64();
                let mut best = at(0);
                let mut bi = 0usize;
                if !best.is_nan() {
                    for j in 1..n {
                        let v = at(j);
                        let better = if op == 0 { v > best } else { v < best };
                        if v.is_nan() {
                            bi = j;
                            break;
                        }
                        if better {
                            best = v;
                            bi = j;
                        }
                    }
                }
                o[b * inner + i] = bi as i32;
            }
        }
        Ok(())
    })
}

fn softmax_typed<T: Elem>(x: &[T], out: &mut [T], outer: usize, n: usize, inner: usize, log: bool) {
    let p = SendPtr(out.as_mut_ptr());
    // Rows of (outer, n, inner) go through a buffer a few hundred values at a time, so the
    // vectorized exp runs over many short rows at once (a mixture's K = 10 responsibilities).
    let rows_per = (512 / n.max(1)).max(1);
    par::ranges(outer * inner, outer * n * inner, par::COSTLY_MIN, |lo, hi| {
        let mut e = vec![0.0f64; rows_per * n];
        let mut ex = vec![0.0f64; rows_per * n];
        let mut r0 = lo;
        while r0 < hi {
            let rows = rows_per.min(hi - r0);
            // Row r = (b, i) starts at b·n·inner + i and steps by inner.
            let base = |r: usize| (r / inner) * n * inner + r % inner;
            for q in 0..rows {
                let o = base(r0 + q);
                let m = (0..n).fold(f64::NEG_INFINITY, |a, j| max_nan(x[o + j * inner].to_f64(), a));
                for j in 0..n {
                    e[q * n + j] = x[o + j * inner].to_f64() - m;
                }
            }
            fastmath::f64x::map(fastmath::Op::Exp, &e[..rows * n], &mut ex[..rows * n]);
            for q in 0..rows {
                let o = base(r0 + q);
                let s: f64 = ex[q * n..(q + 1) * n].iter().sum();
                let ls = s.ln();
                for j in 0..n {
                    let v = if log { e[q * n + j] - ls } else { ex[q * n + j] / s };
                    // SAFETY: element o + j·inner belongs to row r0 + q, owned by this task.
                    unsafe { *p.get().add(o + j * inner) = T::from_f64(v) };
                }
            }
            r0 += rows;
        }
    });
}

/// softmax (log = false) or logSoftmax along the middle axis of (outer, n, inner).
#[napi]
pub fn softmax(x: Arr, out: Arr, outer: u32, n: u32, inner: u32, log: bool) -> Result<()> {
    let (outer, n, inner) = check3("softmax", x.len(), outer, n, inner)?;
    dispatch_float!(x.kind(), "softmax", T => {
        let o = out.get_mut::<T>()?;
        if o.len() != x.len() {
            return Err(err("softmax: output size mismatch".into()));
        }
        softmax_typed(x.get::<T>()?, o, outer, n, inner, log);
        Ok(())
    })
}

/// Inclusive cumulative sum along the middle axis of (outer, n, inner), from the end if `reverse`.
#[napi]
pub fn cumsum(x: Arr, out: Arr, outer: u32, n: u32, inner: u32, reverse: bool) -> Result<()> {
    let (outer, n, inner) = check3("cumsum", x.len(), outer, n, inner)?;
    dispatch!(x.kind(), T => {
        let xs = x.get::<T>()?;
        let o = out.get_mut::<T>()?;
        if o.len() != xs.len() {
            return Err(err("cumsum: output size mismatch".into()));
        }
        let mut acc = vec![0.0f64; inner];
        for b in 0..outer {
            acc.fill(0.0);
            for jj in 0..n {
                let j = if reverse { n - 1 - jj } else { jj };
                let s = (b * n + j) * inner;
                for i in 0..inner {
                    acc[i] += xs[s + i].to_f64();
                    o[s + i] = T::from_f64(acc[i]);
                }
            }
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reduce_layouts() {
        // x [2, 3, 2] = 0..12
        let x: Vec<f64> = (0..12).map(|v| v as f64).collect();
        let mut o = vec![0.0; 2];
        reduce_typed(SUM, &x, &mut o, &[3, 2, 3, 2, 1, 1, 0]).unwrap();
        assert_eq!(o, vec![30.0, 36.0]);
        let mut o = vec![0.0; 3];
        reduce_typed(MAX, &x, &mut o, &[3, 2, 3, 2, 1, 0, 1]).unwrap();
        assert_eq!(o, vec![7.0, 9.0, 11.0]);
        let mut o = vec![0.0; 1];
        reduce_typed(LSE, &[1000.0, 1000.0], &mut o, &[1, 2, 1]).unwrap();
        assert!((o[0] - (1000.0 + 2f64.ln())).abs() < 1e-12);
    }
}
