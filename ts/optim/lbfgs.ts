/**
 * L-BFGS: a quasi-Newton minimizer over a host vector, for smooth deterministic objectives (a MAP,
 * a sample-average ELBO). Not a gradient transformation: it owns its line search.
 */

/**
 * A deterministic objective and its gradient at a host vector.
 * @example
 * const fg: ValueGrad = (x) => ({ f: x[0] ** 2, g: Float64Array.of(2 * x[0]) });
 */
export type ValueGrad = (z: Float64Array) => {
  /** The objective's value at z. */
  f: number;
  /** The objective's gradient at z, of z's length. */
  g: Float64Array;
};

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/**
 * Minimizes f by L-BFGS (memory 10: the two-loop recursion over the last ten steps s and gradient
 * changes y) with a backtracking Armijo line search. Stops when max|g| < gtol·max(1, |f|·10⁻³),
 * when the decrease of f is below ftol·max(1, |f|) (stalled), or at a non-finite f.
 * @example
 * const r = lbfgs((x) => ({ f: x[0] ** 2 + 10 * x[1] ** 2, g: Float64Array.of(2 * x[0], 20 * x[1]) }), Float64Array.of(1, 1));
 * r.x; // ≈ [0, 0]
 */
export function lbfgs(fg: ValueGrad, x0: Float64Array, opts: LbfgsOptions = {}): LbfgsResult {
  const gen = lbfgsSteps(fg, x0, opts);
  for (;;) {
    const r = gen.next();
    if (r.done) return r.value;
  }
}

/**
 * Options of {@link lbfgs}: iteration cap (500), gradient tolerance (1e-6), relative decrease tolerance (1e-12).
 * @example
 * lbfgs(fg, x0, { maxIter: 100, gtol: 1e-8 });
 */
export interface LbfgsOptions {
  /** Most iterations (default 500). */
  maxIter?: number;
  /** Gradient tolerance: converged when max|g| < gtol·max(1, |f|·10⁻³) (default 1e-6). */
  gtol?: number;
  /** Relative decrease tolerance: stops (stalled) when f drops by at most ftol·max(1, |f|) in an iteration (default 1e-12). */
  ftol?: number;
}

/**
 * The minimizer found by {@link lbfgs}, f and ∇f there, and whether the gradient test passed.
 * @example
 * const { x, converged } = lbfgs(fg, x0);
 */
export interface LbfgsResult {
  /** The last point reached (the minimizer when converged). */
  x: Float64Array;
  /** f at x. */
  f: number;
  /** ∇f at x. */
  g: Float64Array;
  /** Iterations run. */
  iterations: number;
  /** Whether the gradient test max|g| < gtol·max(1, |f|·10⁻³) passed at x. */
  converged: boolean;
}

/**
 * {@link lbfgs} as a generator that yields after every evaluation of f (the start, each trial
 * point of the line search), so that an async caller can let the event loop run, and notice an
 * abort, between them: one iteration of an expensive objective can take dozens of evaluations.
 * @example
 * const gen = lbfgsSteps(fg, x0);
 * for (let r = gen.next(); !r.done; r = gen.next()) await new Promise((res) => setImmediate(res));
 */
export function* lbfgsSteps(fg: ValueGrad, x0: Float64Array, opts: LbfgsOptions = {}): Generator<void, LbfgsResult, void> {
  const maxIter = opts.maxIter ?? 500;
  const gtol = opts.gtol ?? 1e-6;
  const ftol = opts.ftol ?? 1e-12;
  const m = 10;
  const d = x0.length;
  let x = x0.slice();
  let { f, g } = fg(x);
  yield;
  const S: Float64Array[] = [];
  const Y: Float64Array[] = [];
  const gmax = (v: Float64Array): number => v.reduce((a, b) => Math.max(a, Math.abs(b)), 0);
  let it = 0;
  for (; it < maxIter; it++) {
    if (!Number.isFinite(f)) break;
    if (gmax(g) < gtol * Math.max(1, Math.abs(f) * 1e-3)) return { x, f, g, iterations: it, converged: true };
    // Two-loop recursion for the direction −H g.
    const q = g.slice();
    const alpha: number[] = [];
    for (let k = S.length - 1; k >= 0; k--) {
      const a = dot(S[k], q) / dot(Y[k], S[k]);
      alpha[k] = a;
      for (let i = 0; i < d; i++) q[i] -= a * Y[k][i];
    }
    const gamma = S.length > 0 ? dot(S[S.length - 1], Y[Y.length - 1]) / dot(Y[Y.length - 1], Y[Y.length - 1]) : 1 / Math.max(1, gmax(g));
    for (let i = 0; i < d; i++) q[i] *= gamma;
    for (let k = 0; k < S.length; k++) {
      const b = dot(Y[k], q) / dot(Y[k], S[k]);
      for (let i = 0; i < d; i++) q[i] += S[k][i] * (alpha[k] - b);
    }
    let dir = q.map((v) => -v);
    let slope = dot(dir, g);
    if (!(slope < 0)) {
      dir = g.map((v) => -v / Math.max(1, gmax(g)));
      slope = dot(dir, g);
      S.length = 0;
      Y.length = 0;
    }
    let t = 1;
    let xn = x;
    let next = { f: Infinity, g };
    for (let ls = 0; ls < 40; ls++) {
      xn = x.map((v, i) => v + t * dir[i]);
      next = fg(xn);
      yield;
      if (Number.isFinite(next.f) && next.f <= f + 1e-4 * t * slope) break;
      t *= 0.5;
    }
    if (!(next.f <= f)) break;
    const s = xn.map((v, i) => v - x[i]);
    const y = next.g.map((v, i) => v - g[i]);
    if (dot(s, y) > 1e-12) {
      S.push(s);
      Y.push(y);
      if (S.length > m) {
        S.shift();
        Y.shift();
      }
    }
    const df = f - next.f;
    x = xn;
    f = next.f;
    g = next.g;
    // Stalled: the caller's Newton polish takes over.
    if (df <= ftol * Math.max(1, Math.abs(f))) break;
  }
  return { x, f, g, iterations: it, converged: gmax(g) < gtol * Math.max(1, Math.abs(f) * 1e-3) };
}

