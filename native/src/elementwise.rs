//! Elementwise kernels: unary, binary and compare with NumPy broadcasting, clamp, cast, where.
//!
//! Op codes are indices into spec.ts's UNARY_OPS, and into BINARY_OPS followed by COMPARE_OPS.
//! Broadcast metadata (an Int32Array, only when some input is neither full-size nor a scalar):
//! `[rank, shape[rank], strides of input 0[rank], strides of input 1[rank], ...]`, with stride 0
//! on broadcast dims. Float32 math is done in float64 and rounded, as the js reference does.

use crate::fastmath;
use crate::gauss;
use crate::par::{self, SendPtr};
use crate::special;
use crate::vonmises;
use crate::{dispatch, err, Arr, Elem, Kind};
use napi::Result;
use napi_derive::napi;

/// Broadcast layout of N inputs over an output, with mergeable dims collapsed.
pub struct Bcast<const N: usize> {
    /// Output dims except the last.
    outer: Vec<usize>,
    /// Strides of each input over `outer`.
    outer_strides: [Vec<usize>; N],
    /// Length of the last (innermost) dim.
    inner: usize,
    /// Stride of each input along the last dim (0 or 1 in practice).
    inner_stride: [usize; N],
}

impl<const N: usize> Bcast<N> {
    /// Parses `[rank, shape, strides_0, ..., strides_{N-1}]`, dropping size-1 dims and merging
    /// neighbours that are contiguous in every input.
    pub fn parse(meta: &[i32]) -> Result<Self> {
        let rank = *meta.first().ok_or_else(|| err("broadcast: empty metadata".into()))? as usize;
        if meta.len() != 1 + rank * (N + 1) {
            return Err(err(format!("broadcast: metadata of length {} for rank {rank}", meta.len())));
        }
        let mut shape: Vec<usize> = Vec::with_capacity(rank);
        let mut strides: [Vec<usize>; N] = std::array::from_fn(|_| Vec::with_capacity(rank));
        for d in 0..rank {
            let size = meta[1 + d] as usize;
            if size == 1 {
                continue;
            }
            let st: [usize; N] = std::array::from_fn(|i| meta[1 + rank * (i + 1) + d] as usize);
            if let Some(&last) = shape.last() {
                let mergeable = (0..N).all(|i| strides[i].last().copied() == Some(st[i] * size));
                if mergeable {
                    let l = shape.len() - 1;
                    shape[l] = last * size;
                    for i in 0..N {
                        strides[i][l] = st[i];
                    }
                    continue;
                }
            }
            shape.push(size);
            for i in 0..N {
                strides[i].push(st[i]);
            }
        }
        if shape.is_empty() {
            shape.push(1);
            for s in strides.iter_mut() {
                s.push(0);
            }
        }
        let inner = shape.pop().unwrap_or(1);
        let inner_stride: [usize; N] = std::array::from_fn(|i| strides[i].pop().unwrap_or(0));
        Ok(Bcast { outer: shape, outer_strides: strides, inner, inner_stride })
    }

    pub fn rows(&self) -> usize {
        self.outer.iter().product()
    }

    /// Length of the innermost (merged) dim: the length of each row.
    pub fn inner(&self) -> usize {
        self.inner
    }

    /// Each input's stride along the innermost dim.
    pub fn inner_stride(&self) -> [usize; N] {
        self.inner_stride
    }

    /// Calls `f(row, offsets)` for rows `r0..r1`, with each input's offset at the row start.
    pub fn walk(&self, r0: usize, r1: usize, mut f: impl FnMut(usize, [usize; N])) {
        let rank = self.outer.len();
        let mut idx = vec![0usize; rank];
        let mut off = [0usize; N];
        let mut rem = r0;
        for d in (0..rank).rev() {
            idx[d] = rem % self.outer[d];
            rem /= self.outer[d];
            for (i, o) in off.iter_mut().enumerate() {
                *o += idx[d] * self.outer_strides[i][d];
            }
        }
        for r in r0..r1 {
            f(r, off);
            for d in (0..rank).rev() {
                idx[d] += 1;
                for (i, o) in off.iter_mut().enumerate() {
                    *o += self.outer_strides[i][d];
                }
                if idx[d] < self.outer[d] {
                    break;
                }
                for (i, o) in off.iter_mut().enumerate() {
                    *o -= self.outer_strides[i][d] * self.outer[d];
                }
                idx[d] = 0;
            }
        }
    }
}

/// `out[i] = f(x[i])`, in parallel above `min` elements.
#[inline(always)]
fn map1<A: Elem, O: Elem>(x: &[A], out: &mut [O], min: usize, f: impl Fn(A) -> O + Sync + Send) {
    if x.len() != out.len() {
        return;
    }
    par::chunks(out, min, |s, o| {
        let xs = &x[s..s + o.len()];
        for (d, &v) in o.iter_mut().zip(xs) {
            *d = f(v);
        }
    });
}

/// `out = f(a, b)` with broadcasting.
#[inline(always)]
fn map2<A: Elem, O: Elem>(
    a: &[A],
    b: &[A],
    out: &mut [O],
    meta: Option<&[i32]>,
    f: impl Fn(A, A) -> O + Sync + Send + Copy,
) -> Result<()> {
    let n = out.len();
    if n == 0 {
        return Ok(());
    }
    if a.len() == n && b.len() == n {
        par::chunks(out, par::CHEAP_MIN, |s, o| {
            let (xa, xb) = (&a[s..s + o.len()], &b[s..s + o.len()]);
            for i in 0..o.len() {
                o[i] = f(xa[i], xb[i]);
            }
        });
        return Ok(());
    }
    if a.len() == n && b.len() == 1 {
        let v = b[0];
        par::chunks(out, par::CHEAP_MIN, |s, o| {
            let l = o.len();
            for (d, &x) in o.iter_mut().zip(&a[s..s + l]) {
                *d = f(x, v);
            }
        });
        return Ok(());
    }
    if b.len() == n && a.len() == 1 {
        let v = a[0];
        par::chunks(out, par::CHEAP_MIN, |s, o| {
            let l = o.len();
            for (d, &x) in o.iter_mut().zip(&b[s..s + l]) {
                *d = f(v, x);
            }
        });
        return Ok(());
    }
    let meta = meta.ok_or_else(|| err("broadcast: metadata missing".into()))?;
    let bc = Bcast::<2>::parse(meta)?;
    let inner = bc.inner;
    let [sa, sb] = bc.inner_stride;
    let rows = bc.rows();
    if rows * inner != n {
        return Err(err(format!("broadcast: shape holds {} elements, output {n}", rows * inner)));
    }
    let p = SendPtr(out.as_mut_ptr());
    par::ranges(rows, n, par::CHEAP_MIN, |r0, r1| {
        // SAFETY: rows r0..r1 cover out[r0*inner .. r1*inner], disjoint across tasks.
        let o = unsafe { std::slice::from_raw_parts_mut(p.get().add(r0 * inner), (r1 - r0) * inner) };
        bc.walk(r0, r1, |r, [ia, ib]| {
            let row = &mut o[(r - r0) * inner..(r - r0 + 1) * inner];
            match (sa, sb) {
                (1, 1) => {
                    for (j, d) in row.iter_mut().enumerate() {
                        *d = f(a[ia + j], b[ib + j]);
                    }
                }
                (1, 0) => {
                    let v = b[ib];
                    for (d, &x) in row.iter_mut().zip(&a[ia..ia + inner]) {
                        *d = f(x, v);
                    }
                }
                (0, 1) => {
                    let v = a[ia];
                    for (d, &x) in row.iter_mut().zip(&b[ib..ib + inner]) {
                        *d = f(v, x);
                    }
                }
                _ => {
                    for (j, d) in row.iter_mut().enumerate() {
                        *d = f(a[ia + j * sa], b[ib + j * sb]);
                    }
                }
            }
        });
    });
    Ok(())
}

/// JavaScript's Math.pow, whose special cases differ from C's pow for NaN exponents and ±1 bases.
#[inline]
pub fn js_pow(x: f64, y: f64) -> f64 {
    if y.is_nan() || (y.is_infinite() && x.abs() == 1.0) {
        return f64::NAN;
    }
    x.powf(y)
}

#[inline(always)]
fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

#[inline(always)]
fn softplus(x: f64) -> f64 {
    let m = if x > 0.0 || x.is_nan() { x } else { 0.0 };
    m + (-x.abs()).exp().ln_1p()
}

pub(crate) fn unary_float<T: Elem>(op: u32, x: &[T], o: &mut [T]) -> Result<()> {
    const C: usize = par::CHEAP_MIN;
    const E: usize = par::COSTLY_MIN;
    macro_rules! m {
        ($min:expr, |$v:ident| $e:expr) => {
            map1(x, o, $min, |a: T| {
                let $v = a.to_f64();
                T::from_f64($e)
            })
        };
    }
    match op {
        0 => m!(C, |v| -v),
        1 => m!(C, |v| v.abs()),
        2 => m!(C, |v| if v > 0.0 {
            1.0
        } else if v < 0.0 {
            -1.0
        } else {
            v
        }),
        3 => m!(C, |v| 1.0 / v),
        4 => m!(C, |v| v * v),
        5 => m!(C, |v| v.sqrt()),
        6 => m!(C, |v| 1.0 / v.sqrt()),
        7 => m!(E, |v| v.exp()),
        8 => m!(E, |v| v.exp_m1()),
        9 => m!(E, |v| v.ln()),
        10 => m!(E, |v| v.ln_1p()),
        11 => m!(E, |v| v.sin()),
        12 => m!(E, |v| v.cos()),
        13 => m!(E, |v| v.tanh()),
        14 => m!(E, |v| sigmoid(v)),
        15 => m!(E, |v| softplus(v)),
        16 => m!(C, |v| if v > 0.0 { v } else { 0.0 }),
        17 => m!(C, |v| v.floor()),
        18 => m!(C, |v| v.ceil()),
        19 => m!(E, |v| special::erf(v)),
        20 => m!(E, |v| special::erfinv(v)),
        21 => m!(E, |v| special::lgamma(v)),
        22 => m!(E, |v| special::digamma(v)),
        23 => m!(E, |v| special::trigamma(v)),
        24 => m!(E, |v| vonmises::i0e(v)),
        25 => m!(E, |v| vonmises::i1e(v)),
        _ => return Err(err(format!("unary: unknown op code {op}"))),
    }
    Ok(())
}

fn unary_int(op: u32, x: &[i32], o: &mut [i32]) -> Result<()> {
    const C: usize = par::CHEAP_MIN;
    match op {
        0 => map1(x, o, C, |v: i32| v.wrapping_neg()),
        1 => map1(x, o, C, |v: i32| v.wrapping_abs()),
        2 => map1(x, o, C, |v: i32| v.signum()),
        4 => map1(x, o, C, |v: i32| v.wrapping_mul(v)),
        _ => return Err(err(format!("unary: op code {op} is not defined on int32"))),
    }
    Ok(())
}

/// Element count above which the float32 fast transcendentals go parallel (they run at about
/// 1 ns/element on one core, so a fork pays from a few tens of microseconds of work).
pub(crate) const FAST_MIN: usize = 1 << 15;
/// The same for the costlier float64 fast transcendentals (log, log1p, sigmoid, softplus: 2–6
/// ns/element; exp at ~1.5 keeps FAST_MIN). Measured on 2 cores at 10,000 elements: softplus
/// 62 → 36 µs, sigmoid 19 → 17 µs, while exp went 15 → 23 µs.
const FAST_MIN_F64: usize = 1 << 13;

/// Unary op `op` (index into UNARY_OPS, then 24 besselI0e and 25 besselI1e) from `x` into `out`
/// (same dtype and length).
#[napi]
pub fn unary(op: u32, x: Arr, out: Arr) -> Result<()> {
    match x.kind() {
        Kind::F64 => {
            let (xs, o) = (x.get::<f64>()?, out.get_mut::<f64>()?);
            match fastmath::Op::from_code(op) {
                // Float64 fast paths (within 2 ulp of std; see fastmath::f64x).
                Some(f) if fastmath::f64x::has(f) && xs.len() == o.len() => {
                    let min = if f == fastmath::Op::Exp { FAST_MIN } else { FAST_MIN_F64 };
                    par::chunks(o, min, |s, c| fastmath::f64x::map(f, &xs[s..s + c.len()], c));
                    Ok(())
                }
                _ => unary_float(op, xs, o),
            }
        }
        Kind::F32 => {
            let (xs, o) = (x.get::<f32>()?, out.get_mut::<f32>()?);
            match fastmath::Op::from_code(op) {
                Some(f) if xs.len() == o.len() => {
                    par::chunks(o, FAST_MIN, |s, c| fastmath::map(f, &xs[s..s + c.len()], c));
                    Ok(())
                }
                _ => unary_float(op, xs, o),
            }
        }
        Kind::I32 => unary_int(op, x.get::<i32>()?, out.get_mut::<i32>()?),
    }
}

fn compare<T: Elem>(op: u32, a: &[T], b: &[T], o: &mut [i32], meta: Option<&[i32]>) -> Result<()> {
    match op {
        7 => map2(a, b, o, meta, |x: T, y: T| (x == y) as i32),
        8 => map2(a, b, o, meta, |x: T, y: T| (x != y) as i32),
        9 => map2(a, b, o, meta, |x: T, y: T| (x < y) as i32),
        10 => map2(a, b, o, meta, |x: T, y: T| (x <= y) as i32),
        11 => map2(a, b, o, meta, |x: T, y: T| (x > y) as i32),
        12 => map2(a, b, o, meta, |x: T, y: T| (x >= y) as i32),
        _ => Err(err(format!("compare: unknown op code {op}"))),
    }
}

macro_rules! binary_float {
    ($t:ty, $op:expr, $a:expr, $b:expr, $o:expr, $meta:expr) => {{
        let (a, b, o, meta) = ($a, $b, $o, $meta);
        match $op {
            0 => map2(a, b, o, meta, |x: $t, y: $t| x + y),
            1 => map2(a, b, o, meta, |x: $t, y: $t| x - y),
            2 => map2(a, b, o, meta, |x: $t, y: $t| x * y),
            3 => map2(a, b, o, meta, |x: $t, y: $t| x / y),
            4 => map2(a, b, o, meta, |x: $t, y: $t| js_pow(x as f64, y as f64) as $t),
            5 => map2(a, b, o, meta, |x: $t, y: $t| if x > y || x.is_nan() { x } else { y }),
            6 => map2(a, b, o, meta, |x: $t, y: $t| if x < y || x.is_nan() { x } else { y }),
            13 => map2(a, b, o, meta, |x: $t, y: $t| special::igamma(x as f64, y as f64) as $t),
            14 => map2(a, b, o, meta, |x: $t, y: $t| special::gamma_sample_grad(x as f64, y as f64) as $t),
            15 => map2(a, b, o, meta, |x: $t, y: $t| vonmises::von_mises_sample_grad(x as f64, y as f64) as $t),
            16 => map2(a, b, o, meta, |x: $t, y: $t| gauss::diag_normal_kl(x as f64, y as f64) as $t),
            _ => Err(err(format!("binary: unknown op code {}", $op))),
        }
    }};
}

fn binary_int(op: u32, a: &[i32], b: &[i32], o: &mut [i32], meta: Option<&[i32]>) -> Result<()> {
    match op {
        0 => map2(a, b, o, meta, |x: i32, y: i32| x.wrapping_add(y)),
        1 => map2(a, b, o, meta, |x: i32, y: i32| x.wrapping_sub(y)),
        2 => map2(a, b, o, meta, |x: i32, y: i32| x.wrapping_mul(y)),
        3 => map2(a, b, o, meta, |x: i32, y: i32| if y == 0 { 0 } else { x.wrapping_div(y) }),
        5 => map2(a, b, o, meta, |x: i32, y: i32| x.max(y)),
        6 => map2(a, b, o, meta, |x: i32, y: i32| x.min(y)),
        _ => Err(err(format!("binary: op code {op} is not defined on int32"))),
    }
}

/// Binary op `op` (BINARY_OPS 0-6, COMPARE_OPS 7-12, then 13 igamma, 14 gammaSampleGrad,
/// 15 vonMisesSampleGrad and 16 diagNormalKL, which are float-only) of `a` and `b` into `out`;
/// `meta` gives the broadcast layout when an input is neither full-size nor a single element.
#[napi]
pub fn binary(op: u32, a: Arr, b: Arr, out: Arr, meta: Option<Arr>) -> Result<()> {
    let meta_s = match &meta {
        Some(m) => Some(m.get::<i32>()?),
        None => None,
    };
    if (7..13).contains(&op) {
        let o = out.get_mut::<i32>()?;
        return dispatch!(a.kind(), T => compare(op, a.get::<T>()?, b.get::<T>()?, o, meta_s));
    }
    match a.kind() {
        Kind::F64 => binary_float!(f64, op, a.get::<f64>()?, b.get::<f64>()?, out.get_mut::<f64>()?, meta_s),
        Kind::F32 => binary_float!(f32, op, a.get::<f32>()?, b.get::<f32>()?, out.get_mut::<f32>()?, meta_s),
        Kind::I32 => binary_int(op, a.get::<i32>()?, b.get::<i32>()?, out.get_mut::<i32>()?, meta_s),
    }
}

/// `out = min(max(x, lo), hi)` with NaN kept, as the js reference computes it.
#[napi]
pub fn clamp(x: Arr, out: Arr, lo: f64, hi: f64) -> Result<()> {
    dispatch!(x.kind(), T => {
        map1(x.get::<T>()?, out.get_mut::<T>()?, par::CHEAP_MIN, |a: T| {
            let v = a.to_f64();
            T::from_f64(if v < lo { lo } else if v > hi { hi } else { v })
        });
        Ok(())
    })
}

/// Converts `x` to `out`'s dtype: float to int32 truncates toward zero and saturates (NaN → 0).
#[napi]
pub fn cast(x: Arr, out: Arr) -> Result<()> {
    if x.len() != out.len() {
        return Err(err("cast: length mismatch".into()));
    }
    const C: usize = par::CHEAP_MIN;
    match (x.kind(), out.kind()) {
        (Kind::F64, Kind::F64) => map1(x.get::<f64>()?, out.get_mut::<f64>()?, C, |v| v),
        (Kind::F64, Kind::F32) => map1(x.get::<f64>()?, out.get_mut::<f32>()?, C, |v| v as f32),
        (Kind::F64, Kind::I32) => map1(x.get::<f64>()?, out.get_mut::<i32>()?, C, |v| v as i32),
        (Kind::F32, Kind::F64) => map1(x.get::<f32>()?, out.get_mut::<f64>()?, C, |v| v as f64),
        (Kind::F32, Kind::F32) => map1(x.get::<f32>()?, out.get_mut::<f32>()?, C, |v| v),
        (Kind::F32, Kind::I32) => map1(x.get::<f32>()?, out.get_mut::<i32>()?, C, |v| v as i32),
        (Kind::I32, Kind::F64) => map1(x.get::<i32>()?, out.get_mut::<f64>()?, C, |v| v as f64),
        (Kind::I32, Kind::F32) => map1(x.get::<i32>()?, out.get_mut::<f32>()?, C, |v| v as f32),
        (Kind::I32, Kind::I32) => map1(x.get::<i32>()?, out.get_mut::<i32>()?, C, |v| v),
    }
    Ok(())
}

fn where_typed<C: Elem, T: Elem>(c: &[C], a: &[T], b: &[T], o: &mut [T], meta: &[i32]) -> Result<()> {
    let n = o.len();
    if n == 0 {
        return Ok(());
    }
    let zero = C::default();
    if c.len() == n && a.len() == n && b.len() == n {
        par::chunks(o, par::CHEAP_MIN, |s, oc| {
            // Equal-length subslices, so the loop has no bounds checks and vectorizes.
            let l = oc.len();
            let (cc, ca, cb) = (&c[s..s + l], &a[s..s + l], &b[s..s + l]);
            for j in 0..l {
                oc[j] = if cc[j] != zero { ca[j] } else { cb[j] };
            }
        });
        return Ok(());
    }
    let bc = Bcast::<3>::parse(meta)?;
    let inner = bc.inner;
    let [scs, sas, sbs] = bc.inner_stride;
    if bc.rows() * inner != n {
        return Err(err("where: broadcast shape does not match the output".into()));
    }
    bc.walk(0, bc.rows(), |r, [ic, ia, ib]| {
        let row = &mut o[r * inner..(r + 1) * inner];
        for (j, d) in row.iter_mut().enumerate() {
            *d = if c[ic + j * scs] != zero { a[ia + j * sas] } else { b[ib + j * sbs] };
        }
    });
    Ok(())
}

/// `out = cond != 0 ? a : b` with broadcasting; `meta` is the 3-input broadcast layout
/// (cond, a, b), always given.
#[napi(js_name = "where")]
pub fn where_(cond: Arr, a: Arr, b: Arr, out: Arr, meta: Arr) -> Result<()> {
    let m = meta.get::<i32>()?;
    dispatch!(a.kind(), T => {
        let (xa, xb, o) = (a.get::<T>()?, b.get::<T>()?, out.get_mut::<T>()?);
        dispatch!(cond.kind(), C => where_typed(cond.get::<C>()?, xa, xb, o, m))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bcast_merges_and_walks() {
        // out [2, 3]: a is [2, 3] contiguous, b is [3] broadcast over rows.
        let meta = [2, 2, 3, 3, 1, 0, 1];
        let bc = Bcast::<2>::parse(&meta).unwrap();
        assert_eq!(bc.inner, 3);
        assert_eq!(bc.rows(), 2);
        let a = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let b = [10.0, 20.0, 30.0];
        let mut o = [0.0; 6];
        map2(&a[..], &b[..], &mut o[..], Some(&meta), |x: f64, y: f64| x + y).unwrap();
        assert_eq!(o, [11.0, 22.0, 33.0, 14.0, 25.0, 36.0]);
    }

    #[test]
    fn int_semantics() {
        let a = [7, -7, 5, i32::MIN];
        let b = [2, 2, 0, -1];
        let mut o = [0; 4];
        binary_int(3, &a, &b, &mut o, None).unwrap();
        assert_eq!(o, [3, -3, 0, i32::MIN]);
        assert_eq!(crate::to_int32(4294967297.5), 1);
        assert_eq!(crate::to_int32(f64::NAN), 0);
        assert_eq!(crate::to_int32(-2.7), -2);
    }

    #[test]
    fn nan_propagation() {
        let a = [f64::NAN, 1.0, 2.0];
        let b = [0.0, f64::NAN, 1.0];
        let mut o = [0.0; 3];
        map2(&a[..], &b[..], &mut o[..], None, |x: f64, y: f64| if x > y || x.is_nan() { x } else { y }).unwrap();
        assert!(o[0].is_nan() && o[1].is_nan() && o[2] == 2.0);
        assert!(js_pow(1.0, f64::NAN).is_nan());
    }
}
