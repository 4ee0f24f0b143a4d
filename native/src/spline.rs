//! The rational-quadratic spline flow step `rqSpline` and its backward `rqSplineGrad` (see
//! ts/kernels/spec.ts and the js reference ts/backends/js/spline.ts, which this follows step for
//! step in f64, rounding once on the store; the exps, softplus and sigmoids of the parameter rows
//! are batched through the vectorized float64 functions of `fastmath`, within 1–2 ulp of std's).
//! Each output element builds its spline from its own parameter rows: softmax of the widths and heights into knots on [−B, B] (minimum bin 1e-3, the
//! last knot exactly B), interior knot derivatives 1e-3 + softplus, boundary ones 1 − 1e-3
//! (Pyro's parametrization); outside [−B, B] the map is the identity.
//!
//! `meta` (i32) is `[rank, shape.., sx.., sw.., sh.., sd..]`: the output shape and, for x and for
//! the row start of each parameter, its element stride along each output axis (0 where broadcast).
//! Elements are independent, so ranges of them run in parallel.

use crate::fastmath;
use crate::par::{self, SendPtr};
use crate::{dispatch_float, err, Arr, Elem};
use napi::Result;
use napi_derive::napi;

const MIN_BIN: f64 = 1e-3;
const MIN_DERIVATIVE: f64 = 1e-3;
/// Element count above which the kernels go parallel (each element costs O(K) exps and logs).
const PAR_MIN: usize = 1 << 10;

/// The output shape and the four inputs' strides over it.
struct Layout {
    shape: Vec<usize>,
    st: [Vec<usize>; 4],
}

impl Layout {
    fn parse(meta: &[i32], op: &str) -> Result<Layout> {
        let bad = || err(format!("{op}: malformed layout meta of {} entries", meta.len()));
        let r = *meta.first().ok_or_else(bad)? as usize;
        if meta.len() != 1 + 5 * r || meta.iter().any(|&v| v < 0) {
            return Err(bad());
        }
        let part = |p: usize| meta[1 + p * r..1 + (p + 1) * r].iter().map(|&v| v as usize).collect::<Vec<_>>();
        Ok(Layout { shape: part(0), st: [part(1), part(2), part(3), part(4)] })
    }

    fn numel(&self) -> usize {
        self.shape.iter().product()
    }

    /// Offsets of x and of the three parameter rows for output element `i`.
    #[inline]
    fn offsets(&self, i: usize) -> [usize; 4] {
        let mut rem = i;
        let mut off = [0usize; 4];
        for a in (0..self.shape.len()).rev() {
            let c = rem % self.shape[a];
            rem /= self.shape[a];
            for (o, st) in off.iter_mut().zip(&self.st) {
                *o += c * st[a];
            }
        }
        off
    }
}

/// One element's spline: knots of x and y, softmax of widths and heights, knot derivatives and
/// the sigmoids of their unnormalized values (softplus′).
struct Spline {
    k: usize,
    cw: Vec<f64>,
    ch: Vec<f64>,
    sw: Vec<f64>,
    sh: Vec<f64>,
    dk: Vec<f64>,
    sig: Vec<f64>,
}

/// softmax(u) into `s` from e = exp(u − max u) (see [`Pre`]) and the knots
/// −B + 2B·cumsum(minW + (1 − K·minW)·s) into `c`, last exactly B.
fn knots(e: &[f64], bound: f64, s: &mut [f64], c: &mut [f64]) {
    let k = s.len();
    let mut z = 0.0;
    for (sj, &ej) in s.iter_mut().zip(e) {
        *sj = ej;
        z += ej;
    }
    let scale = 1.0 - k as f64 * MIN_BIN;
    let mut cum = 0.0;
    c[0] = -bound;
    for j in 0..k {
        s[j] /= z;
        cum += MIN_BIN + scale * s[j];
        c[j + 1] = 2.0 * bound * cum - bound;
    }
    c[k] = bound;
}

/// Elements per batch of [`Pre`].
const CHUNK: usize = 64;

/// The transcendental functions of a batch of elements' parameter rows, computed with the
/// vectorized float64 functions of `fastmath` (within 1–2 ulp of std's): per element, exp(u − max u)
/// of its widths and of its heights, and softplus and sigmoid of its derivative row. The rest of a
/// spline (sums, knots, the bin's rational function) runs element by element.
struct Pre {
    k: usize,
    /// Offsets of x and of the three parameter rows of each element.
    off: Vec<[usize; 4]>,
    /// x of each element, and whether it lies inside [−B, B].
    v: Vec<f64>,
    inside: Vec<bool>,
    /// Arguments, then results: widths and heights [CHUNK·K], derivatives [CHUNK·(K − 1)].
    arg: Vec<f64>,
    ew: Vec<f64>,
    eh: Vec<f64>,
    sp: Vec<f64>,
    sg: Vec<f64>,
}

/// Writes u − max(u) into `out` (NaN everywhere when u holds a NaN, as Math.max).
fn centered<T: Elem>(u: &[T], out: &mut [f64]) {
    let m = u.iter().fold(f64::NEG_INFINITY, |m, v| {
        let v = v.to_f64();
        if v.is_nan() || m.is_nan() {
            f64::NAN
        } else {
            m.max(v)
        }
    });
    for (o, v) in out.iter_mut().zip(u) {
        *o = v.to_f64() - m;
    }
}

impl Pre {
    fn new(k: usize) -> Pre {
        let z = |n: usize| vec![0.0; n];
        let kd = k.saturating_sub(1);
        Pre {
            k,
            off: vec![[0; 4]; CHUNK],
            v: z(CHUNK),
            inside: vec![false; CHUNK],
            arg: z(CHUNK * k),
            ew: z(CHUNK * k),
            eh: z(CHUNK * k),
            sp: z(CHUNK * kd),
            sg: z(CHUNK * kd),
        }
    }

    /// Fills the batch for output elements lo..hi (at most CHUNK).
    fn fill<T: Elem>(&mut self, p: &Params<T>, lay: &Layout, lo: usize, hi: usize) {
        let (k, kd, m) = (self.k, self.k - 1, hi - lo);
        for q in 0..m {
            self.off[q] = lay.offsets(lo + q);
            let v = p.x[self.off[q][0]].to_f64();
            self.v[q] = v;
            self.inside[q] = v >= -p.bound && v <= p.bound;
        }
        for (which, u) in [(1, p.w), (2, p.h)] {
            for q in 0..m {
                let dst = &mut self.arg[q * k..(q + 1) * k];
                if self.inside[q] {
                    let o = self.off[q][which];
                    centered(&u[o..o + k], dst);
                } else {
                    dst.fill(0.0);
                }
            }
            let out = if which == 1 { &mut self.ew } else { &mut self.eh };
            fastmath::f64x::map(fastmath::Op::Exp, &self.arg[..m * k], &mut out[..m * k]);
        }
        for q in 0..m {
            let dst = &mut self.arg[q * kd..(q + 1) * kd];
            if self.inside[q] {
                let o = self.off[q][3];
                for (t, v) in dst.iter_mut().zip(&p.d[o..o + kd]) {
                    *t = v.to_f64();
                }
            } else {
                dst.fill(0.0);
            }
        }
        fastmath::f64x::map(fastmath::Op::Softplus, &self.arg[..m * kd], &mut self.sp[..m * kd]);
        fastmath::f64x::map(fastmath::Op::Sigmoid, &self.arg[..m * kd], &mut self.sg[..m * kd]);
    }
}

impl Spline {
    fn new(k: usize) -> Spline {
        Spline {
            k,
            cw: vec![0.0; k + 1],
            ch: vec![0.0; k + 1],
            sw: vec![0.0; k],
            sh: vec![0.0; k],
            dk: vec![0.0; k + 1],
            sig: vec![0.0; k + 1],
        }
    }

    /// The spline of element q of the batch `pre`.
    fn build(&mut self, pre: &Pre, q: usize, bound: f64) {
        let (k, kd) = (self.k, self.k - 1);
        knots(&pre.ew[q * k..(q + 1) * k], bound, &mut self.sw, &mut self.cw);
        knots(&pre.eh[q * k..(q + 1) * k], bound, &mut self.sh, &mut self.ch);
        self.dk[0] = 1.0 - MIN_DERIVATIVE;
        self.dk[k] = 1.0 - MIN_DERIVATIVE;
        for j in 1..k {
            self.dk[j] = MIN_DERIVATIVE + pre.sp[q * kd + j - 1];
            self.sig[j] = pre.sg[q * kd + j - 1];
        }
    }

    /// Locates v (x forward, y inverse) and solves for θ in its bin.
    fn locate(&self, v: f64, inverse: bool) -> Local {
        let k = self.k;
        let c = if inverse { &self.ch } else { &self.cw };
        let mut b = 0;
        while b + 1 < k && v >= c[b + 1] {
            b += 1;
        }
        let w = self.cw[b + 1] - self.cw[b];
        let h = self.ch[b + 1] - self.ch[b];
        let s = h / w;
        let (d0, d1) = (self.dk[b], self.dk[b + 1]);
        let theta = if !inverse {
            (v - self.cw[b]) / w
        } else {
            // The stable root 2c / (−b − √(b² − 4ac)) of the bin's quadratic in θ.
            let dy = v - self.ch[b];
            let e = d0 + d1 - 2.0 * s;
            let qa = dy * e + h * (s - d0);
            let qb = h * d0 - dy * e;
            let qc = -s * dy;
            let disc = (qb * qb - 4.0 * qa * qc).max(0.0);
            (2.0 * qc) / (-qb - disc.sqrt())
        };
        Local { b, theta, w, h, s, d0, d1 }
    }

    /// y and log dy/dx at θ in bin `l` (the paper's eq. 4 and 5).
    fn evaluate(&self, l: &Local) -> (f64, f64) {
        let (th, s, d0, d1) = (l.theta, l.s, l.d0, l.d1);
        let t = th * (1.0 - th);
        let den = s + (d0 + d1 - 2.0 * s) * t;
        let y = self.ch[l.b] + (l.h * (s * th * th + d0 * t)) / den;
        let m = d1 * th * th + 2.0 * s * t + d0 * (1.0 - th) * (1.0 - th);
        (y, (s * s * m).ln() - 2.0 * den.ln())
    }
}

/// The bin of a point and its θ, width, height, slope s = h/w and knot derivatives.
struct Local {
    b: usize,
    theta: f64,
    w: f64,
    h: f64,
    s: f64,
    d0: f64,
    d1: f64,
}

/// Cotangents of the input and of the bin's knots x_b, x_b+1, y_b, y_b+1 and derivatives d_b, d_b+1.
struct LocalGrad {
    dv: f64,
    x0: f64,
    x1: f64,
    y0: f64,
    y1: f64,
    d0: f64,
    d1: f64,
}

/// The chain rule through one bin (see splineLocalGrad in the js reference): forward through
/// θ = (x − x_b)/w and s = h/w; inverse through the implicit θ (∂θ/∂y = 1/y_θ, ∂θ/∂p = −y_p/y_θ).
fn local_grad(l: &Local, cy: f64, cl: f64, inverse: bool) -> LocalGrad {
    let (th, w, h, s, d0, d1) = (l.theta, l.w, l.h, l.s, l.d0, l.d1);
    let t = th * (1.0 - th);
    let e = d0 + d1 - 2.0 * s;
    let den = s + e * t;
    let r = (s * th * th + d0 * t) / den;
    let m = d1 * th * th + 2.0 * s * t + d0 * (1.0 - th) * (1.0 - th);
    let den_t = e * (1.0 - 2.0 * th);
    let den_s = 1.0 - 2.0 * t;
    let y_t = (h * (2.0 * s * th + d0 * (1.0 - 2.0 * th) - r * den_t)) / den;
    let y_s = (h * (th * th - r * den_s)) / den;
    let y_d0 = (h * t * (1.0 - r)) / den;
    let y_d1 = (-h * r * t) / den;
    let l_t = (2.0 * d1 * th + 2.0 * s * (1.0 - 2.0 * th) - 2.0 * d0 * (1.0 - th)) / m - (2.0 * den_t) / den;
    let l_s = 2.0 / s + (2.0 * t) / m - (2.0 * den_s) / den;
    let l_d0 = ((1.0 - th) * (1.0 - th)) / m - (2.0 * t) / den;
    let l_d1 = (th * th) / m - (2.0 * t) / den;
    let (dv, gs, mut gh, gy0, mut gw, gx0, gx1, gd0, gd1);
    if !inverse {
        let gt = cy * y_t + cl * l_t;
        dv = gt / w;
        gs = cy * y_s + cl * l_s;
        gd0 = cy * y_d0 + cl * l_d0;
        gd1 = cy * y_d1 + cl * l_d1;
        gh = cy * r;
        gy0 = cy;
        gw = 0.0;
        gx0 = (gt * (th - 1.0)) / w;
        gx1 = (-gt * th) / w;
    } else {
        let lam = (cy * w - cl * l_t) / y_t;
        dv = lam;
        gy0 = -lam;
        gh = -lam * r;
        gs = -lam * y_s - cl * l_s;
        gd0 = -lam * y_d0 - cl * l_d0;
        gd1 = -lam * y_d1 - cl * l_d1;
        gw = cy * th;
        gx0 = cy;
        gx1 = 0.0;
    }
    gh += gs / w;
    gw -= (gs * s) / w;
    LocalGrad { dv, x0: gx0 - gw, x1: gx1 + gw, y0: gy0 - gh, y1: gh, d0: gd0, d1: gd1 }
}

/// Cotangents of one unnormalized knot row from those of knots b and b + 1:
/// ∂c_j/∂u_m = 2B(1 − K·minW)·s_m·([m < j] − Σ_{i<j} s_i), nothing for the fixed ends.
fn knot_grad<T: Elem>(s: &[f64], bound: f64, b: usize, g0: f64, g1: f64, out: &mut [T]) {
    let k = s.len();
    let c = 2.0 * bound * (1.0 - k as f64 * MIN_BIN);
    let s0: f64 = s[..b].iter().sum();
    let s1 = s0 + s[b];
    let a0 = if b > 0 { g0 } else { 0.0 };
    let a1 = if b + 1 < k { g1 } else { 0.0 };
    for (m, o) in out.iter_mut().enumerate() {
        let i0 = if m < b { 1.0 } else { 0.0 };
        let i1 = if m < b + 1 { 1.0 } else { 0.0 };
        *o = T::from_f64(c * s[m] * (a0 * (i0 - s0) + a1 * (i1 - s1)));
    }
}

/// The inputs of one call, with K and the attributes.
struct Params<'a, T> {
    x: &'a [T],
    w: &'a [T],
    h: &'a [T],
    d: &'a [T],
    k: usize,
    bound: f64,
    inverse: bool,
}

impl<T: Elem> Params<'_, T> {
    fn check(&self, lay: &Layout, op: &str) -> Result<()> {
        // The largest offset each input is read at must lie inside it.
        let last = |st: &Vec<usize>| lay.shape.iter().zip(st).map(|(n, s)| n.saturating_sub(1) * s).sum::<usize>();
        let k = self.k;
        let ok = lay.numel() == 0
            || (last(&lay.st[0]) < self.x.len()
                && last(&lay.st[1]) + k <= self.w.len()
                && last(&lay.st[2]) + k <= self.h.len()
                && last(&lay.st[3]) + k - 1 <= self.d.len());
        if k == 0 || !ok {
            return Err(err(format!("{op}: the layout reaches past an input (K = {k})")));
        }
        Ok(())
    }
}

fn forward<T: Elem>(p: &Params<T>, lay: &Layout, y: &mut [T], logdet: &mut [T]) -> Result<()> {
    let n = lay.numel();
    if y.len() != n || logdet.len() != n {
        return Err(err(format!("rqSpline: outputs hold {} and {} elements, the layout {n}", y.len(), logdet.len())));
    }
    p.check(lay, "rqSpline")?;
    let (py, pl) = (SendPtr(y.as_mut_ptr()), SendPtr(logdet.as_mut_ptr()));
    par::ranges(n, n * p.k * 8, PAR_MIN * 8, |lo, hi| {
        // SAFETY: ranges hands out disjoint lo..hi within 0..n, so no two tasks write the same
        // element of y or logdet, and nothing else touches them until all tasks end.
        let (ys, ls) = unsafe {
            (
                std::slice::from_raw_parts_mut(py.get().add(lo), hi - lo),
                std::slice::from_raw_parts_mut(pl.get().add(lo), hi - lo),
            )
        };
        let mut sp = Spline::new(p.k);
        let mut pre = Pre::new(p.k);
        for i in lo..hi {
            let q = (i - lo) % CHUNK;
            if q == 0 {
                pre.fill(p, lay, i, (i + CHUNK).min(hi));
            }
            let (v, inside) = (pre.v[q], pre.inside[q]);
            if inside {
                sp.build(&pre, q, p.bound);
            }
            let (yo, lo_) = if !inside {
                (v, 0.0)
            } else {
                let l = sp.locate(v, p.inverse);
                let (fy, ld) = sp.evaluate(&l);
                if p.inverse {
                    (sp.cw[l.b] + l.theta * l.w, -ld)
                } else {
                    (fy, ld)
                }
            };
            ys[i - lo] = T::from_f64(yo);
            ls[i - lo] = T::from_f64(lo_);
        }
    });
    Ok(())
}

/// The cotangents and the four outputs of the backward kernel.
struct GradBufs<'a, T> {
    gy: &'a [T],
    gl: &'a [T],
    dx: &'a mut [T],
    dw: &'a mut [T],
    dh: &'a mut [T],
    dd: &'a mut [T],
}

fn backward<T: Elem>(p: &Params<T>, lay: &Layout, g: GradBufs<T>) -> Result<()> {
    let (n, k) = (lay.numel(), p.k);
    if k == 0 {
        return Err(err("rqSplineGrad: K must be at least 1".to_string()));
    }
    if g.gy.len() != n || g.gl.len() != n || g.dx.len() != n || g.dw.len() != n * k || g.dh.len() != n * k || g.dd.len() != n * (k - 1) {
        return Err(err(format!("rqSplineGrad: buffer sizes do not match {n} elements of K = {k}")));
    }
    p.check(lay, "rqSplineGrad")?;
    let ptrs = (SendPtr(g.dx.as_mut_ptr()), SendPtr(g.dw.as_mut_ptr()), SendPtr(g.dh.as_mut_ptr()), SendPtr(g.dd.as_mut_ptr()));
    let (gy, gl) = (g.gy, g.gl);
    par::ranges(n, n * k * 16, PAR_MIN * 8, |lo, hi| {
        let (px, pw, ph, pd) = ptrs;
        let len = hi - lo;
        // SAFETY: ranges hands out disjoint lo..hi within 0..n; element i owns dx[i],
        // dw/dh[i·K..(i+1)·K] and dd[i·(K−1)..(i+1)·(K−1)], so the tasks' slices are disjoint.
        let (dx, dw, dh, dd) = unsafe {
            (
                std::slice::from_raw_parts_mut(px.get().add(lo), len),
                std::slice::from_raw_parts_mut(pw.get().add(lo * k), len * k),
                std::slice::from_raw_parts_mut(ph.get().add(lo * k), len * k),
                std::slice::from_raw_parts_mut(pd.get().add(lo * (k - 1)), len * (k - 1)),
            )
        };
        let mut sp = Spline::new(k);
        let mut pre = Pre::new(k);
        for i in lo..hi {
            let j = i - lo;
            let q = j % CHUNK;
            if q == 0 {
                pre.fill(p, lay, i, (i + CHUNK).min(hi));
            }
            let (cy, cl) = (gy[i].to_f64(), gl[i].to_f64());
            let (rw, rh, rd) = (&mut dw[j * k..(j + 1) * k], &mut dh[j * k..(j + 1) * k], &mut dd[j * (k - 1)..(j + 1) * (k - 1)]);
            rd.fill(T::from_f64(0.0));
            let (v, inside) = (pre.v[q], pre.inside[q]);
            if inside {
                sp.build(&pre, q, p.bound);
            }
            if !inside {
                dx[j] = T::from_f64(cy);
                rw.fill(T::from_f64(0.0));
                rh.fill(T::from_f64(0.0));
                continue;
            }
            let l = sp.locate(v, p.inverse);
            let lg = local_grad(&l, cy, cl, p.inverse);
            dx[j] = T::from_f64(lg.dv);
            knot_grad(&sp.sw, p.bound, l.b, lg.x0, lg.x1, rw);
            knot_grad(&sp.sh, p.bound, l.b, lg.y0, lg.y1, rh);
            if l.b >= 1 {
                rd[l.b - 1] = T::from_f64(lg.d0 * sp.sig[l.b]);
            }
            if l.b + 1 < k {
                rd[l.b] = T::from_f64(lg.d1 * sp.sig[l.b + 1]);
            }
        }
    });
    Ok(())
}

/// The spline step: `y` and `logdet` from `x` and the parameter rows (K = `k` bins) laid out by
/// `meta`; `inverse` runs y → x (see the module doc and ts/kernels/spec.ts).
#[napi]
#[allow(clippy::too_many_arguments)]
pub fn rq_spline(x: Arr, widths: Arr, heights: Arr, derivatives: Arr, y: Arr, logdet: Arr, meta: Arr, k: u32, bound: f64, inverse: bool) -> Result<()> {
    let lay = Layout::parse(meta.get::<i32>()?, "rqSpline")?;
    dispatch_float!(x.kind(), "rqSpline", T => {
        let p = Params::<T> { x: x.get()?, w: widths.get()?, h: heights.get()?, d: derivatives.get()?, k: k as usize, bound, inverse };
        forward(&p, &lay, y.get_mut()?, logdet.get_mut()?)
    })
}

/// The spline's backward: `dx` and the per-element parameter cotangents `dw`, `dh` [n, K] and
/// `dd` [n, K − 1] from the cotangents `dy` and `dlogdet`, laid out as [`rq_spline`].
#[napi]
#[allow(clippy::too_many_arguments)]
pub fn rq_spline_grad(
    x: Arr,
    widths: Arr,
    heights: Arr,
    derivatives: Arr,
    dy: Arr,
    dlogdet: Arr,
    dx: Arr,
    dw: Arr,
    dh: Arr,
    dd: Arr,
    meta: Arr,
    k: u32,
    bound: f64,
    inverse: bool,
) -> Result<()> {
    let lay = Layout::parse(meta.get::<i32>()?, "rqSplineGrad")?;
    dispatch_float!(x.kind(), "rqSplineGrad", T => {
        let p = Params::<T> { x: x.get()?, w: widths.get()?, h: heights.get()?, d: derivatives.get()?, k: k as usize, bound, inverse };
        let g = GradBufs::<T> { gy: dy.get()?, gl: dlogdet.get()?, dx: dx.get_mut()?, dw: dw.get_mut()?, dh: dh.get_mut()?, dd: dd.get_mut()? };
        backward(&p, &lay, g)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(x: &[f64], w: &[f64], h: &[f64], d: &[f64], k: usize, inverse: bool) -> (Vec<f64>, Vec<f64>) {
        let n = x.len();
        let meta = [1, n as i32, 1, 0, 0, 0];
        let lay = Layout::parse(&meta, "t").unwrap();
        let p = Params { x, w, h, d, k, bound: 3.0, inverse };
        let (mut y, mut l) = (vec![0.0; n], vec![0.0; n]);
        forward(&p, &lay, &mut y, &mut l).unwrap();
        (y, l)
    }

    #[test]
    fn inverse_undoes_forward_and_tails_are_identity() {
        let (w, h, d) = ([0.3, -1.0, 0.8, 0.1], [-0.5, 0.9, 0.2, 0.0], [0.4, -0.7, 1.2]);
        let x: Vec<f64> = (0..61).map(|i| -3.5 + 7.0 * i as f64 / 60.0).collect();
        let (y, l) = run(&x, &w, &h, &d, 4, false);
        let (x2, l2) = run(&y, &w, &h, &d, 4, true);
        for i in 0..x.len() {
            assert!((x2[i] - x[i]).abs() < 1e-12, "{} -> {} -> {}", x[i], y[i], x2[i]);
            assert!((l[i] + l2[i]).abs() < 1e-10);
            if x[i].abs() > 3.0 {
                assert!(y[i] == x[i] && l[i] == 0.0);
            }
            if i > 0 {
                assert!(y[i] > y[i - 1]);
            }
        }
    }
}
