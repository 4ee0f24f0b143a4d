/**
 * The rational-quadratic spline flow step, as the reference defines it (see `rqSpline` in
 * ts/kernels/spec.ts and ts/ops/spline.ts): one element at a time in float64, its spline built
 * from its own parameter rows (softmax, knots, softplus), rounded once on the store. The
 * parametrization is Pyro 1.9's `_monotonic_rational_spline` (pyro/distributions/transforms/spline.py)
 * fed softmax(widths), softmax(heights) and softplus(derivatives), as its `Spline` module does:
 * minimum bin width, height and derivative 1e-3, boundary knot derivatives 1 − 1e-3.
 */
import { broadcastStrides, type Shape } from '../../core/shape.js';
import type { TypedArray } from '../../core/dtype.js';
import type { CpuKernel, CpuKernelTable, CpuView } from '../backend.js';

/** Pyro's defaults: every bin at least this wide and high, every interior knot derivative at least this. */
export const SPLINE_MIN_BIN = 1e-3;
export const SPLINE_MIN_DERIVATIVE = 1e-3;

/** One element's spline: knots of x and y, softmax of the widths and heights, knot derivatives and their sigmoids. */
class Spline {
  readonly cw: Float64Array;
  readonly ch: Float64Array;
  readonly sw: Float64Array;
  readonly sh: Float64Array;
  readonly dk: Float64Array;
  readonly sig: Float64Array;
  constructor(readonly k: number) {
    this.cw = new Float64Array(k + 1);
    this.ch = new Float64Array(k + 1);
    this.sw = new Float64Array(k);
    this.sh = new Float64Array(k);
    this.dk = new Float64Array(k + 1);
    this.sig = new Float64Array(k + 1);
  }
}

/** softmax(u[off..off+K]) into `s` and the knots −B + 2B·cumsum(minW + (1 − K·minW)·s) into `c`, last exactly B. */
function knots(u: TypedArray, off: number, k: number, bound: number, s: Float64Array, c: Float64Array): void {
  let m = -Infinity;
  for (let j = 0; j < k; j++) m = Math.max(m, u[off + j]);
  let z = 0;
  for (let j = 0; j < k; j++) {
    s[j] = Math.exp(u[off + j] - m);
    z += s[j];
  }
  const scale = 1 - k * SPLINE_MIN_BIN;
  let cum = 0;
  c[0] = -bound;
  for (let j = 0; j < k; j++) {
    s[j] /= z;
    cum += SPLINE_MIN_BIN + scale * s[j];
    c[j + 1] = 2 * bound * cum - bound;
  }
  c[k] = bound;
}

/** softplus(v) = log(1 + e^v) without overflow or cancellation. */
function softplus(v: number): number {
  return Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v)));
}

/** Fills `sp` from the parameter rows at the given offsets. */
function build(sp: Spline, w: TypedArray, ow: number, h: TypedArray, oh: number, d: TypedArray, od: number, bound: number): void {
  const k = sp.k;
  knots(w, ow, k, bound, sp.sw, sp.cw);
  knots(h, oh, k, bound, sp.sh, sp.ch);
  sp.dk[0] = sp.dk[k] = 1 - SPLINE_MIN_DERIVATIVE;
  for (let j = 1; j < k; j++) {
    const v = d[od + j - 1];
    sp.dk[j] = SPLINE_MIN_DERIVATIVE + softplus(v);
    sp.sig[j] = v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v));
  }
}

/** The bin of v among knots c: the last k with c[k] ≤ v (the first bin below c[1], the last from c[K−1] on). */
function binOf(c: Float64Array, k: number, v: number): number {
  let b = 0;
  while (b < k - 1 && v >= c[b + 1]) b++;
  return b;
}

/** The bin's quantities in the paper's notation: θ of the point, bin width and height, slope s = H/W, knot derivatives. */
export interface Local {
  b: number;
  theta: number;
  w: number;
  h: number;
  s: number;
  d0: number;
  d1: number;
}

/** Locates v (an x forward, a y inverse) and solves for θ: θ = (x − x_k)/W forward, the stable root of the quadratic inverse. */
function locate(sp: Spline, v: number, inverse: boolean): Local {
  const { cw, ch, dk, k } = sp;
  const b = binOf(inverse ? ch : cw, k, v);
  const w = cw[b + 1] - cw[b];
  const h = ch[b + 1] - ch[b];
  const s = h / w;
  const d0 = dk[b];
  const d1 = dk[b + 1];
  let theta: number;
  if (!inverse) theta = (v - cw[b]) / w;
  else {
    // y − y_k = H·(sθ² + d0·θ(1 − θ)) / (s + (d0 + d1 − 2s)·θ(1 − θ)) as aθ² + bθ + c = 0; the root
    // 2c / (−b − √(b² − 4ac)) avoids the cancellation of (−b + √…)/2a.
    const dy = v - ch[b];
    const e = d0 + d1 - 2 * s;
    const qa = dy * e + h * (s - d0);
    const qb = h * d0 - dy * e;
    const qc = -s * dy;
    const disc = Math.max(qb * qb - 4 * qa * qc, 0);
    theta = (2 * qc) / (-qb - Math.sqrt(disc));
  }
  return { b, theta, w, h, s, d0, d1 };
}

/** The forward spline at θ in bin `l`: y and log dy/dx = log(s²·(d1θ² + 2sθ(1−θ) + d0(1−θ)²)) − 2 log den. */
function evaluate(sp: Spline, l: Local): [number, number] {
  const { theta, h, s, d0, d1 } = l;
  const t = theta * (1 - theta);
  const den = s + (d0 + d1 - 2 * s) * t;
  const y = sp.ch[l.b] + (h * (s * theta * theta + d0 * t)) / den;
  const m = d1 * theta * theta + 2 * s * t + d0 * (1 - theta) * (1 - theta);
  return [y, Math.log(s * s * m) - 2 * Math.log(den)];
}

/** Per-input element offsets over the output: x's own, the parameters' row starts (rows of `len`). */
export function splineOffsets(shape: Shape, out: Shape, len: number, row: boolean): Float64Array {
  const st = broadcastStrides(row ? shape.slice(0, -1) : shape, out);
  const n = out.reduce((p, d) => p * d, 1);
  const offs = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let rem = i;
    let off = 0;
    for (let a = out.length - 1; a >= 0; a--) {
      off += (rem % out[a]) * st[a];
      rem = Math.floor(rem / out[a]);
    }
    offs[i] = row ? off * len : off;
  }
  return offs;
}

/** Per output element, where x and each parameter row of the K-bin spline start. */
function operandOffsets(x: CpuView, w: CpuView, h: CpuView, d: CpuView, out: readonly number[], k: number): Float64Array[] {
  return [splineOffsets(x.shape, out, 1, false), splineOffsets(w.shape, out, k, true), splineOffsets(h.shape, out, k, true), splineOffsets(d.shape, out, k - 1, true)];
}

const rqSpline: CpuKernel<'rqSpline'> = ([x, w, h, d], [y, logdet], { bound, inverse }) => {
  const k = w.shape[w.shape.length - 1];
  const [ox, ow, oh, od] = operandOffsets(x, w, h, d, y.shape, k);
  const sp = new Spline(k);
  for (let i = 0; i < y.data.length; i++) {
    const v = x.data[ox[i]];
    if (!(v >= -bound && v <= bound)) {
      // Identity tails (NaN included, as Pyro's mask sends it there).
      y.data[i] = v;
      logdet.data[i] = 0;
      continue;
    }
    build(sp, w.data, ow[i], h.data, oh[i], d.data, od[i], bound);
    const l = locate(sp, v, inverse);
    const [fy, ld] = evaluate(sp, l);
    y.data[i] = inverse ? sp.cw[l.b] + l.theta * l.w : fy;
    logdet.data[i] = inverse ? -ld : ld;
  }
};

/**
 * The cotangents of one knot-position row (softmax s, knots c) from those of knots b and b + 1:
 * ∂c_j/∂u_m = 2B(1 − K·minW)·s_m·([m < j] − Σ_{i<j} s_i), zero for the fixed ends j = 0 and K.
 */
function knotGrad(s: Float64Array, k: number, bound: number, b: number, g0: number, g1: number, out: TypedArray, o: number): void {
  const c = 2 * bound * (1 - k * SPLINE_MIN_BIN);
  let s0 = 0;
  for (let j = 0; j < b; j++) s0 += s[j];
  const s1 = s0 + s[b];
  const a0 = b > 0 ? g0 : 0;
  const a1 = b + 1 < k ? g1 : 0;
  for (let m = 0; m < k; m++) out[o + m] = c * s[m] * (a0 * ((m < b ? 1 : 0) - s0) + a1 * ((m < b + 1 ? 1 : 0) - s1));
}

const rqSplineGrad: CpuKernel<'rqSplineGrad'> = ([x, w, h, d, gy, gl], [dx, dw, dh, dd], { bound, inverse }) => {
  const k = w.shape[w.shape.length - 1];
  const [ox, ow, oh, od] = operandOffsets(x, w, h, d, dx.shape, k);
  const sp = new Spline(k);
  for (let i = 0; i < dx.data.length; i++) {
    const v = x.data[ox[i]];
    const cy = gy.data[i];
    const cl = gl.data[i];
    if (!(v >= -bound && v <= bound)) {
      dx.data[i] = cy;
      dw.data.fill(0, i * k, (i + 1) * k);
      dh.data.fill(0, i * k, (i + 1) * k);
      dd.data.fill(0, i * (k - 1), (i + 1) * (k - 1));
      continue;
    }
    build(sp, w.data, ow[i], h.data, oh[i], d.data, od[i], bound);
    const l = locate(sp, v, inverse);
    const g = splineLocalGrad(l, cy, cl, inverse);
    dx.data[i] = g.dv;
    knotGrad(sp.sw, k, bound, l.b, g.x0, g.x1, dw.data, i * k);
    knotGrad(sp.sh, k, bound, l.b, g.y0, g.y1, dh.data, i * k);
    const o = i * (k - 1);
    dd.data.fill(0, o, o + k - 1);
    if (l.b >= 1) dd.data[o + l.b - 1] = g.d0 * sp.sig[l.b];
    if (l.b + 1 <= k - 1) dd.data[o + l.b] = g.d1 * sp.sig[l.b + 1];
  }
};

/** Cotangents of the input v and of the bin's knots (x_k, x_k+1, y_k, y_k+1) and derivatives (d_k, d_k+1). */
export interface LocalGrad {
  dv: number;
  x0: number;
  x1: number;
  y0: number;
  y1: number;
  d0: number;
  d1: number;
}

/**
 * The chain rule through one bin, cotangents cy of the output and cl of its logdet. Forward,
 * y = y_k + H·r(θ, s, d0, d1) with θ = (x − x_k)/W, s = H/W; inverse, θ solves that for the input
 * y and the output is x_k + W·θ, so θ's cotangent reaches y and the parameters through the
 * implicit function theorem (∂θ/∂y = 1/y_θ, ∂θ/∂p = −y_p/y_θ) and logdet is −L(θ).
 */
export function splineLocalGrad(l: Local, cy: number, cl: number, inverse: boolean): LocalGrad {
  const { theta, w, h, s, d0, d1 } = l;
  const t = theta * (1 - theta);
  const e = d0 + d1 - 2 * s;
  const den = s + e * t;
  const r = (s * theta * theta + d0 * t) / den;
  const m = d1 * theta * theta + 2 * s * t + d0 * (1 - theta) * (1 - theta);
  const denT = e * (1 - 2 * theta);
  const denS = 1 - 2 * t;
  // Partials of y (as y_k + H·r) and of L = log(s²m) − 2 log den.
  const yT = (h * (2 * s * theta + d0 * (1 - 2 * theta) - r * denT)) / den;
  const yS = (h * (theta * theta - r * denS)) / den;
  const yD0 = (h * t * (1 - r)) / den;
  const yD1 = (-h * r * t) / den;
  const lT = (2 * d1 * theta + 2 * s * (1 - 2 * theta) - 2 * d0 * (1 - theta)) / m - (2 * denT) / den;
  const lS = 2 / s + (2 * t) / m - (2 * denS) / den;
  const lD0 = ((1 - theta) * (1 - theta)) / m - (2 * t) / den;
  const lD1 = (theta * theta) / m - (2 * t) / den;
  let dv: number, gs: number, gh: number, gy0: number, gw: number, gx0: number, gx1: number, gd0: number, gd1: number;
  if (!inverse) {
    const gt = cy * yT + cl * lT;
    dv = gt / w;
    gs = cy * yS + cl * lS;
    gd0 = cy * yD0 + cl * lD0;
    gd1 = cy * yD1 + cl * lD1;
    gh = cy * r;
    gy0 = cy;
    gw = 0;
    gx0 = (gt * (theta - 1)) / w;
    gx1 = (-gt * theta) / w;
  } else {
    const lam = (cy * w - cl * lT) / yT;
    dv = lam;
    gy0 = -lam;
    gh = -lam * r;
    gs = -lam * yS - cl * lS;
    gd0 = -lam * yD0 - cl * lD0;
    gd1 = -lam * yD1 - cl * lD1;
    gw = cy * theta;
    gx0 = cy;
    gx1 = 0;
  }
  // s = H/W, W = x_k+1 − x_k, H = y_k+1 − y_k.
  gh += gs / w;
  gw -= (gs * s) / w;
  return { dv, x0: gx0 - gw, x1: gx1 + gw, y0: gy0 - gh, y1: gh, d0: gd0, d1: gd1 };
}

/** The spline kernels. */
export const SPLINE: CpuKernelTable = { rqSpline, rqSplineGrad } as CpuKernelTable;

/**
 * The native kernels' layout of a spline call: `[rank, out.., sx.., sw.., sh.., sd..]`, the
 * output shape and, per output axis, the element stride of x and of each parameter's row start
 * (0 where broadcast). Used by the cpu (Rust) and cuda backends.
 */
export function splineLayout(out: Shape, x: Shape, w: Shape, h: Shape, d: Shape): Int32Array {
  const k = w[w.length - 1];
  const st = [
    broadcastStrides(x, out),
    broadcastStrides(w.slice(0, -1), out).map((s) => s * k),
    broadcastStrides(h.slice(0, -1), out).map((s) => s * k),
    broadcastStrides(d.slice(0, -1), out).map((s) => s * (k - 1)),
  ];
  return Int32Array.from([out.length, ...out, ...st.flat()]);
}
