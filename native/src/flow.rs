//! The fused affine flow step (see `affineFlow` in ts/kernels/spec.ts): y from x, shift and s
//! over rows of d elements, and each row's log|det J|, in one pass.
//!
//! Modes: 0 forward 'exp' (y = x·e^s + shift, logdet = Σs), 1 inverse 'exp'
//! (y = (x − shift)·e^−s, logdet = −Σs), 2 'sigmoid' (y = σ(s)·x + σ(−s)·shift,
//! logdet = Σ log σ(s)). Mask entries equal to 0 pass x through and add nothing to logdet.
//! Each element is computed in f64 and rounded once, logdet summed in f64 in row order, as the
//! js reference does.
//!
//! Layout: `meta` is elementwise.rs's broadcast metadata for x, shift and s over the batch shape
//! (the output's leading dims); `inner` their strides along the last axis (0 or 1).

use crate::elementwise::Bcast;
use crate::par::{self, SendPtr};
use crate::{dispatch_float, err, Arr, Elem};
use napi::Result;
use napi_derive::napi;

/// sigmoid(v) without overflow.
#[inline(always)]
fn sigmoid(v: f64) -> f64 {
    if v >= 0.0 {
        1.0 / (1.0 + (-v).exp())
    } else {
        let e = v.exp();
        e / (1.0 + e)
    }
}

/// log sigmoid(v) = min(v, 0) − log1p(e^−|v|), without overflow or cancellation.
#[inline(always)]
fn log_sigmoid(v: f64) -> f64 {
    v.min(0.0) - (-v.abs()).exp().ln_1p()
}

/// y and the logdet term of one transformed element, by mode.
#[inline(always)]
fn step(mode: u32, x: f64, h: f64, s: f64) -> (f64, f64) {
    match mode {
        0 => (x * s.exp() + h, s),
        1 => ((x - h) * (-s).exp(), -s),
        _ => (sigmoid(s) * x + sigmoid(-s) * h, log_sigmoid(s)),
    }
}

/// The inputs of one call, read by row.
struct Rows<'a, T> {
    x: &'a [T],
    shift: &'a [T],
    s: &'a [T],
    /// The mask and its stride along the row (0 for a single entry).
    mask: Option<(&'a [T], usize)>,
    /// x's, shift's and s's strides along the row.
    inner: [usize; 3],
    d: usize,
    mode: u32,
}

impl<T: Elem> Rows<'_, T> {
    /// One row: inputs from offsets `off`, y into `y` (d elements); returns the row's logdet.
    #[inline(always)]
    fn row(&self, off: [usize; 3], y: &mut [T]) -> T {
        let [ix, ih, is] = self.inner;
        let mut acc = 0.0;
        for (j, yj) in y.iter_mut().enumerate().take(self.d) {
            let xv = self.x[off[0] + j * ix];
            if let Some((m, ms)) = self.mask {
                if m[j * ms].to_f64() == 0.0 {
                    *yj = xv;
                    continue;
                }
            }
            let (v, l) = step(self.mode, xv.to_f64(), self.shift[off[1] + j * ih].to_f64(), self.s[off[2] + j * is].to_f64());
            *yj = T::from_f64(v);
            acc += l;
        }
        T::from_f64(acc)
    }
}

fn flow<T: Elem>(
    x: &[T],
    shift: &[T],
    s: &[T],
    mask: Option<&[T]>,
    y: &mut [T],
    logdet: &mut [T],
    meta: &[i32],
    inner: [usize; 3],
    mode: u32,
) -> Result<()> {
    let b = logdet.len();
    if b == 0 {
        return Ok(());
    }
    let d = y.len() / b;
    if d == 0 || d * b != y.len() {
        return Err(err(format!("affineFlow: y holds {} elements, not a multiple of the {b} rows of logdet", y.len())));
    }
    let bc = Bcast::<3>::parse(meta)?;
    let (outer, per, step_in) = (bc.rows(), bc.inner(), bc.inner_stride());
    if outer * per != b {
        return Err(err(format!("affineFlow: the batch shape holds {} rows, logdet {b}", outer * per)));
    }
    let mask = match mask {
        Some(m) if m.len() == d || m.len() == 1 => Some((m, usize::from(m.len() == d && d > 1))),
        Some(m) => return Err(err(format!("affineFlow: mask holds {} elements for rows of {d}", m.len()))),
        None => None,
    };
    let rows = Rows { x, shift, s, mask, inner, d, mode };
    let (py, pl) = (SendPtr(y.as_mut_ptr()), SendPtr(logdet.as_mut_ptr()));
    // Batch rows r0..r0+count, the k-th reading its inputs at `off` + k·step_in.
    let run = |r0: usize, count: usize, off: [usize; 3]| {
        // SAFETY: the callers below hand out disjoint batch-row ranges within 0..b, so no two
        // tasks write the same rows of y (d elements each) or entries of logdet.
        let (ys, ls) = unsafe {
            (
                std::slice::from_raw_parts_mut(py.get().add(r0 * d), count * d),
                std::slice::from_raw_parts_mut(pl.get().add(r0), count),
            )
        };
        for (k, (yr, l)) in ys.chunks_exact_mut(d).zip(ls.iter_mut()).enumerate() {
            *l = rows.row(std::array::from_fn(|i| off[i] + k * step_in[i]), yr);
        }
    };
    // exp and log1p make every element costly: go parallel early.
    let work = b * d;
    if outer == 1 {
        par::ranges(per, work, par::COSTLY_MIN, |lo, hi| run(lo, hi - lo, std::array::from_fn(|i| lo * step_in[i])));
    } else {
        par::ranges(outer, work, par::COSTLY_MIN, |o0, o1| bc.walk(o0, o1, |o, off| run(o * per, per, off)));
    }
    Ok(())
}

/// The fused affine flow step (module doc): `mode` 0 exp, 1 exp inverse, 2 sigmoid; `meta` the
/// broadcast layout of x, shift and s over the batch shape, `ix`, `ih`, `is` their strides along
/// the last axis; y and logdet written in place.
#[napi]
pub fn affine_flow(
    x: Arr,
    shift: Arr,
    s: Arr,
    mask: Option<Arr>,
    y: Arr,
    logdet: Arr,
    meta: Arr,
    ix: u32,
    ih: u32,
    is: u32,
    mode: u32,
) -> Result<()> {
    let m = meta.get::<i32>()?;
    let inner = [ix as usize, ih as usize, is as usize];
    dispatch_float!(x.kind(), "affineFlow", T => {
        let mk = match &mask {
            Some(a) => Some(a.get::<T>()?),
            None => None,
        };
        flow::<T>(x.get()?, shift.get()?, s.get()?, mk, y.get_mut()?, logdet.get_mut()?, m, inner, mode)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_step_inverts_and_masks() {
        // out [2, 3]: x full, shift [3] over rows, s [2, 1] along the row; mask [1, 0, 1].
        let x = [0.5, -1.0, 2.0, 1.5, 0.25, -0.75];
        let shift = [0.1, 0.2, 0.3];
        let s = [0.4, -0.6];
        let mask = [1.0, 0.0, 1.0];
        let meta = [1, 2, 3, 0, 1];
        let (mut y, mut l) = (vec![0.0; 6], vec![0.0; 2]);
        flow(&x, &shift, &s, Some(&mask), &mut y, &mut l, &meta, [1, 1, 0], 0).unwrap();
        assert!((y[0] - (0.5 * 0.4f64.exp() + 0.1)).abs() < 1e-15 && y[1] == -1.0 && y[4] == 0.25);
        assert!((l[0] - 0.8).abs() < 1e-15 && (l[1] + 1.2).abs() < 1e-15);
        let (mut back, mut l2) = (vec![0.0; 6], vec![0.0; 2]);
        flow(&y, &shift, &s, Some(&mask), &mut back, &mut l2, &meta, [1, 1, 0], 1).unwrap();
        for (a, b) in back.iter().zip(&x) {
            assert!((a - b).abs() < 1e-14);
        }
        assert!((l2[0] + l[0]).abs() < 1e-15);
    }

    #[test]
    fn sigmoid_is_stable() {
        assert!((log_sigmoid(-800.0) + 800.0).abs() < 1e-12 && log_sigmoid(800.0) == 0.0);
        let (y, l) = step(2, 3.0, -1.0, 0.0);
        assert!((y - 1.0).abs() < 1e-15 && (l + std::f64::consts::LN_2).abs() < 1e-15);
    }
}
