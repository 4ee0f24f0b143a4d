/**
 * Stan's ODE solvers: `ode_rk45` (and `_tol`), `integrate_ode_rk45`, and the stiff/Adams names
 * solved by the same integrator.
 *
 * The integrator is Stan's own for rk45: the Dormand–Prince 5(4) pair with first-same-as-last
 * stages, its step size controlled as Boost.Odeint's controlled stepper does (error per component
 * |err| / (atol + rtol·(|y| + |dt|·|y'|)), max-norm; a rejected step shrinks by
 * max(0.9·err^(−1/3), 0.2), an accepted one with err < 0.5 grows by 0.9·max(err, 5⁻⁵)^(−1/5)),
 * first step 0.1, and the solution at the output times read from the pair's dense output. As in
 * Stan, the sensitivities of the solution to the initial state and to the parameters among the
 * arguments (forward sensitivities, dS/dt = J_y·S + J_θ) are integrated with the state under the
 * same error control, so the steps, the solution and its gradient follow Stan's to rounding.
 *
 * The right-hand side is the program's own function, run by the interpreter; its value and
 * Jacobians (reverse mode, one pass per state component) are traced once per call site and
 * replayed as compiled code, or run eagerly where the function does not trace (control flow on
 * the state). The step sizes come from host reads, so a model that solves an ODE runs its
 * log density eagerly (`fit` falls back to eager steps and says why).
 *
 * `ode_bdf`, `ode_adams`, `ode_ckrk` and `integrate_ode_bdf`/`_adams` are accepted and solved by
 * the same Runge–Kutta integrator at their tolerances: correct to the tolerance, but not the
 * steps of Stan's CVODES (BDF/Adams) solvers, and slow on stiff systems.
 */
import { customGradient, valueAndGrad } from '../core/autodiff.js';
import type { Tensor } from '../core/tensor.js';
import { compile, type CompiledFunction } from '../compile/compile.js';
import { tensor } from '../ops/creation.js';
import { mul } from '../ops/elementwise.js';
import { sum } from '../ops/reduce.js';
import { reshape } from '../ops/shape.js';
import type { Expr, FunDef } from './ast.js';
import { StanRuntimeError, StanSemanticError, StanUnsupportedError, type Loc } from './errors.js';
import { boostController, dopri5 as solve, OdeStepError, type OdeAlgebra } from '../ode/dopri5.js';
import { NotVectorizable, REAL, T, fmtTy, host, type Ty, type V } from './values.js';

/** The ODE function names and how their arguments are laid out. */
export const ODE_FUNCTION = /^(ode_(rk45|bdf|adams|ckrk)(_tol)?|integrate_ode_(rk45|bdf|adams))$/;

/** What the solver needs from the interpreter: its functions, and a way to run one on values. */
export interface OdeHost {
  readonly functions: Map<string, FunDef>;
  eval(e: Expr): V;
  callFunction(f: FunDef, args: V[], loc: Loc): V;
}

/** The right-hand side's value and Jacobians at (t, y) for fixed arguments. */
type Rhs = (t: number, y: Float64Array) => { f: Float64Array; jy: Float64Array | null; jp: Float64Array | null };

/**
 * Evaluates a call of an ODE function: checks its arguments, solves, and returns the states at
 * the output times (`array[T] vector` for `ode_*`, `array[T, N] real` for `integrate_ode_*`),
 * differentiable in the initial state and in the parameters among the arguments.
 */
export function odeCall(I: OdeHost, name: string, argEs: Expr[], loc: Loc): V {
  const old = name.startsWith('integrate_');
  const tol = old ? argEs.length === 10 : name.endsWith('_tol');
  const fe = argEs[0];
  if (fe === undefined || fe.kind !== 'var' || !I.functions.has(fe.name)) throw new StanSemanticError(loc, `${name}: the first argument must name a function of the program`);
  const f = I.functions.get(fe.name) as FunDef;
  const nFixed = old ? 7 : 4;
  if (old && argEs.length !== 7 && argEs.length !== 10) throw new StanSemanticError(loc, `${name} takes 7 or 10 arguments, found ${argEs.length}`);
  if (!old && argEs.length < (tol ? 7 : 4)) throw new StanSemanticError(loc, `${name} takes at least ${tol ? 7 : 4} arguments, found ${argEs.length}`);
  const vals = argEs.slice(1).map((e) => I.eval(e));
  if (vals.some((v) => v.b === true)) throw new NotVectorizable(`${name} in a vectorized loop`);
  const [y0, t0v, tsv] = vals;
  const wantY: Ty = old ? { base: 'real', arr: 1 } : { base: 'vector', arr: 0 };
  if (y0.ty.base !== wantY.base || y0.ty.arr !== wantY.arr) throw new StanSemanticError(loc, `${name}: the initial state must be ${fmtTy(wantY)}, found ${fmtTy(y0.ty)}`);
  if (t0v.dep || tsv.dep) throw new StanUnsupportedError(loc, `${name} with initial or output times that depend on parameters`);
  const t0 = typeof t0v.v === 'number' ? t0v.v : host(t0v.v)[0];
  const ts = Array.from(typeof tsv.v === 'number' ? [tsv.v] : host(tsv.v));
  // The solver's arguments to f and its tolerances.
  let rest: V[];
  let rtol = 1e-6;
  let atol = 1e-6;
  let maxSteps = 1e6;
  if (old) {
    rest = vals.slice(3, 6);
    if (tol) [rtol, atol, maxSteps] = vals.slice(6, 9).map(num);
  } else if (tol) {
    [rtol, atol, maxSteps] = vals.slice(3, 6).map(num);
    rest = vals.slice(6);
  } else rest = vals.slice(nFixed - 1);
  if (!(rtol > 0 && atol > 0 && maxSteps >= 1)) throw new StanRuntimeError(loc, `${name}: tolerances must be positive and max_num_steps at least 1 (relative ${rtol}, absolute ${atol}, steps ${maxSteps})`);
  for (let i = 0; i < ts.length; i++)
    if (!(ts[i] > (i === 0 ? t0 : ts[i - 1]))) throw new StanRuntimeError(loc, `${name}: output times must be increasing and after the initial time ${t0}; time ${i + 1} is ${ts[i]}`);
  const y0t = T(y0.v);
  const N = y0t.size;
  // Sensitivities for the initial state if it depends on parameters, and for each argument that does.
  const yVar = y0.dep;
  const varIdx = rest.map((v, i) => (v.dep && v.ty.base !== 'int' ? i : -1)).filter((i) => i >= 0);
  const rhs = rhsFor(I, f, y0.ty, rest, yVar || varIdx.length > 0 ? varIdx : null, loc);
  const yOf = (states: Float64Array[]): Tensor => tensor(Float64Array.from({ length: ts.length * N }, (_, k) => states[Math.floor(k / N)][k % N]), [ts.length, N]);
  const outTy: Ty = old ? { base: 'real', arr: 2 } : { base: 'vector', arr: 1 };
  const y0h = Float64Array.from(y0t.dataSync());
  if (!yVar && varIdx.length === 0) {
    const states = dopri5(coupled(rhs, N, 0, 0), y0h, t0, ts, rtol, atol, maxSteps, name, loc);
    return { v: yOf(states), ty: outTy, dep: false };
  }
  const inputs = [...(yVar ? [y0t] : []), ...varIdx.map((i) => T(rest[i].v))];
  const P = varIdx.reduce((s, i) => s + T(rest[i].v).size, 0);
  const M = (yVar ? N : 0) + P;
  const op = customGradient((..._inputs: Tensor[]) => {
    const x0 = new Float64Array(N + N * M);
    x0.set(y0h);
    if (yVar) for (let i = 0; i < N; i++) x0[N + i * N + i] = 1;
    const states = dopri5(coupled(rhs, N, yVar ? N : 0, P), x0, t0, ts, rtol, atol, maxSteps, name, loc);
    return {
      value: yOf(states),
      grad: (dy: Tensor) => {
        const g = dy.dataSync();
        const gm = new Float64Array(M);
        for (let k = 0; k < ts.length; k++)
          for (let m = 0; m < M; m++) {
            let s = 0;
            for (let i = 0; i < N; i++) s += g[k * N + i] * states[k][N + m * N + i];
            gm[m] += s;
          }
        let off = 0;
        return inputs.map((x) => {
          const part = tensor(gm.slice(off, off + x.size), x.shape);
          off += x.size;
          return part;
        });
      },
    };
  });
  return { v: op(...inputs), ty: outTy, dep: true };
}

function num(v: V): number {
  return typeof v.v === 'number' ? v.v : host(v.v)[0];
}

type CompiledRhs = CompiledFunction<[Tensor, Tensor, Tensor[]], Tensor[]>;
/** Compiled right-hand sides (value and Jacobians), per function, then per argument types and integer data. */
const compiled = new WeakMap<FunDef, Map<string, CompiledRhs>>();

/**
 * The host right-hand side of f(t, y, ...rest): its value and, when `varIdx` is not null, its
 * Jacobians in y (N×N) and in the arguments at `varIdx` flattened (N×P), by reverse mode.
 */
function rhsFor(I: OdeHost, f: FunDef, yTy: Ty, rest: V[], varIdx: number[] | null, loc: Loc): Rhs {
  const realIdx = rest.map((v, i) => (v.ty.base === 'int' ? -1 : i)).filter((i) => i >= 0);
  const ints = rest.map((v) => (v.ty.base === 'int' ? v : null));
  const call = (t: Tensor, y: Tensor, reals: Tensor[]): Tensor => {
    const args: V[] = [
      { v: t, ty: REAL, dep: true },
      { v: y, ty: yTy, dep: true },
      ...rest.map((v, i): V => {
        const j = realIdx.indexOf(i);
        return j < 0 ? (ints[i] as V) : { v: reals[j], ty: v.ty, dep: v.dep };
      }),
    ];
    const r = I.callFunction(f, args, loc);
    if (typeof r.v === 'number' || r.v.size !== y.size)
      throw new StanRuntimeError(loc, `the ODE function ${f.name} returned ${typeof r.v === 'number' ? 'a scalar' : `${r.v.size} values`} for a state of ${y.size}`);
    return reshape(r.v, [y.size]);
  };
  const vars = varIdx === null ? null : varIdx.map((i) => realIdx.indexOf(i));
  const fn = (t: Tensor, y: Tensor, reals: Tensor[]): Tensor[] => {
    const fy = call(t, y, reals);
    if (vars === null) return [fy];
    const N = y.size;
    const gy: Tensor[] = [];
    const gp: Tensor[] = [];
    for (let i = 0; i < N; i++) {
      const e = tensor(Float64Array.from({ length: N }, (_, k) => (k === i ? 1 : 0)), [N]);
      const [, g] = valueAndGrad((p: { y: Tensor; v: Tensor[] }) => sum(mul(call(t, p.y, reals.map((r, j) => (vars.includes(j) ? p.v[vars.indexOf(j)] : r))), e)))({ y, v: vars.map((j) => reals[j]) });
      gy.push(reshape(g.y, [N]));
      for (const v of g.v) gp.push(reshape(v, [v.size]));
    }
    return [fy, ...gy, ...gp];
  };
  const key = `${f.name}|${fmtTy(yTy)}|${rest.map((v) => `${fmtTy(v.ty)}${v.ty.base === 'int' ? `=${typeof v.v === 'number' ? v.v : Array.from(host(v.v)).join(',')}` : `[${typeof v.v === 'number' ? '' : v.v.shape.join(',')}]`}`).join(';')}|${vars?.join(',') ?? 'value'}`;
  let perFn = compiled.get(f);
  if (perFn === undefined) compiled.set(f, (perFn = new Map()));
  let c = perFn.get(key);
  if (c === undefined) {
    c = compile(fn, { maxCacheEntries: 4 });
    perFn.set(key, c);
  }
  const reals = realIdx.map((i) => T(rest[i].v));
  const P = vars === null ? 0 : vars.reduce((s, j) => s + reals[j].size, 0);
  let useCompiled = true;
  return (t, y) => {
    const tt = tensor(Float64Array.of(t), []);
    const yt = tensor(y, [y.length]);
    let out: Tensor[];
    if (useCompiled) {
      try {
        out = (c as CompiledRhs)(tt, yt, reals);
      } catch (e) {
        // A function that does not trace (control flow on the state) runs eagerly from now on.
        if (!(e instanceof Error) || e.name !== 'CompileError') throw e;
        useCompiled = false;
        out = fn(tt, yt, reals);
      }
    } else out = fn(tt, yt, reals);
    const N = y.length;
    const fv = Float64Array.from(out[0].dataSync());
    if (vars === null) return { f: fv, jy: null, jp: null };
    const jy = new Float64Array(N * N);
    const jp = new Float64Array(N * P);
    for (let i = 0; i < N; i++) {
      jy.set(out[1 + i].dataSync(), i * N);
      let off = 0;
      for (let v = 0; v < vars.length; v++) {
        const g = out[1 + N + i * vars.length + v].dataSync();
        jp.set(g, i * P + off);
        off += g.length;
      }
    }
    return { f: fv, jy, jp };
  };
}

/**
 * The coupled system over x = [y (N), S (N·M, column m at N + m·N)]: y' = f, and for the first
 * `my0` columns (sensitivities to y0) S' = J_y·S, for the next P (to the parameters) S' = J_y·S + J_p.
 */
function coupled(rhs: Rhs, N: number, my0: number, P: number): (t: number, x: Float64Array) => Float64Array {
  const M = my0 + P;
  return (t, x) => {
    const { f, jy, jp } = rhs(t, x.subarray(0, N));
    if (M === 0) return f;
    const dx = new Float64Array(N + N * M);
    dx.set(f);
    const J = jy as Float64Array;
    const Jp = jp as Float64Array;
    for (let m = 0; m < M; m++) {
      const s = N + m * N;
      for (let i = 0; i < N; i++) {
        let v = m >= my0 ? Jp[i * P + (m - my0)] : 0;
        for (let k = 0; k < N; k++) v += J[i * N + k] * x[s + k];
        dx[s + i] = v;
      }
    }
    return dx;
  };
}

/** Stan's state algebra: Float64Array states, Boost.Odeint's max-norm of the scaled error. */
const STAN_ALGEBRA = (rtol: number, atol: number): OdeAlgebra<Float64Array> => ({
  comb,
  errorRatio(x, _xNew, k1, dt, cs, ks) {
    let err = 0;
    const ce = cs.map((e) => dt * e);
    for (let i = 0; i < x.length; i++) {
      let e = 0;
      for (let j = 0; j < ks.length; j++) e += ce[j] * ks[j][i];
      const r = Math.abs(e) / (atol + rtol * (Math.abs(x[i]) + Math.abs(dt) * Math.abs(k1[i])));
      if (!(r <= err)) err = Number.isNaN(r) ? Infinity : Math.max(err, r);
    }
    return err;
  },
});

/** x + Σ (dt·a_j)·k_j, summed left to right (as the reference implementation does). */
function comb(x: Float64Array, dt: number, as: readonly number[], ks: readonly Float64Array[]): Float64Array {
  const out = new Float64Array(x.length);
  const cs = as.map((a) => dt * a);
  for (let i = 0; i < x.length; i++) {
    let v = x[i];
    for (let j = 0; j < ks.length; j++) v += cs[j] * ks[j][i];
    out[i] = v;
  }
  return out;
}

/**
 * Solves x' = g(t, x) from (t0, x0) and returns x at each of `ts` (increasing, after t0): the
 * shared Dormand–Prince solver (ts/ode) with Boost.Odeint's controller and error norm, first step 0.1.
 */
export function dopri5(g: (t: number, x: Float64Array) => Float64Array, x0: Float64Array, t0: number, ts: number[], rtol: number, atol: number, maxSteps: number, what = 'ode', loc: Loc = { line: 0, col: 0 }): Float64Array[] {
  try {
    return solve(g, x0.slice(), t0, ts, STAN_ALGEBRA(rtol, atol), { controller: boostController, firstStep: 0.1, maxSteps, maxRejects: 500, what });
  } catch (e) {
    if (!(e instanceof OdeStepError)) throw e;
    if (e.reason === 'maxSteps') throw new StanRuntimeError(loc, `${what}: failed to integrate to the output time ${e.tOut} in ${maxSteps} steps (max_num_steps)`);
    throw new StanRuntimeError(loc, `${what}: the step size control failed 500 times in a row at t = ${e.t} (step ${e.dt}); the system may be stiff or its right-hand side not finite`);
  }
}
