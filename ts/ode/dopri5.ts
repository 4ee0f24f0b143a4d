/**
 * The Dormand–Prince 5(4) pair (Dormand & Prince 1980; Hairer, Nørsett & Wanner, Solving ODEs I,
 * §II.5) with first-same-as-last stages, adaptive steps and its continuous extension, written once
 * over any state type: Stan's ODE functions solve on Float64Array with Boost.Odeint's controller,
 * FFJORD solves on tensors (whose stages stay on the autodiff tape) with Hairer's controller.
 * The state algebra (linear combinations, the error norm) and the controller are the caller's.
 */
import { VarinfError } from '../core/errors.js';

/** Linear combinations of states and the scaled error norm of a step: all the solver asks of a state type. */
export interface OdeAlgebra<S> {
  /** x + Σ_j (dt·a_j)·k_j. */
  comb(x: S, dt: number, as: readonly number[], ks: readonly S[]): S;
  /**
   * The error ratio of a trial step from x to xNew whose local error estimate is
   * e = Σ_j (dt·c_j)·k_j; ≤ 1 accepts the step. k1 is f at (t, x). NaN must read as Infinity.
   */
  errorRatio(x: S, xNew: S, k1: S, dt: number, cs: readonly number[], ks: readonly S[]): number;
}

/** How the step size changes: the factor after an accepted and after a rejected step, from the error ratio. */
export interface StepController {
  /** The factor by which dt grows (or shrinks) after a step with error ratio err ≤ 1 was accepted. */
  accept(err: number): number;
  /** The factor (< 1) by which dt shrinks after a step with error ratio err > 1 was rejected. */
  reject(err: number): number;
}

/**
 * Hairer, Nørsett & Wanner's controller (II.4, eq. 4.13), the one torchdiffeq and SciPy use:
 * factor = 0.9·err^(−1/5), clamped to [0.2, 10]; a rejected step never grows.
 * @example dopri5(g, x0, 0, [1], alg, { controller: hairerController, firstStep: 0.01 })
 */
export const hairerController: StepController = {
  accept: (err) => (err === 0 ? 10 : Math.min(10, Math.max(0.2, 0.9 * Math.pow(err, -1 / 5)))),
  reject: (err) => Math.min(1, Math.max(0.2, 0.9 * Math.pow(err, -1 / 5))),
};

/**
 * Boost.Odeint's controlled stepper (the one Stan's rk45 uses): a rejected step shrinks by
 * max(0.9·err^(−1/3), 0.2); an accepted one with err < 0.5 grows by 0.9·max(err, 5⁻⁵)^(−1/5).
 * @example dopri5(g, x0, 0, [1], alg, { controller: boostController, firstStep: 0.1 })
 */
export const boostController: StepController = {
  accept: (err) => (err < 0.5 ? 0.9 * Math.pow(Math.max(Math.pow(5, -5), err), -1 / 5) : 1),
  reject: (err) => Math.max(0.9 * Math.pow(err, -1 / 3), 0.2),
};

/**
 * The solver ran out of steps (`reason` 'maxSteps': more than `maxSteps` accepted steps before the
 * next output time) or of rejections (`reason` 'rejections': `maxRejects` rejected tries in a row,
 * or a step size that no longer moves t). Carries where it stopped; callers rephrase it.
 */
export class OdeStepError extends VarinfError {
  constructor(
    message: string,
    /** Why the solve stopped. */
    readonly reason: 'maxSteps' | 'rejections',
    /** The time reached. */
    readonly t: number,
    /** The step size being tried there. */
    readonly dt: number,
    /** The output time being integrated to. */
    readonly tOut: number,
  ) {
    super(message);
  }
}

/** Options of {@link dopri5}. */
export interface Dopri5Options<S> {
  /** The step-size controller. */
  controller: StepController;
  /** The first trial step, or a function of (t0, x0, f(t0, x0)) giving it. */
  firstStep: number | ((t0: number, x0: S, f0: S) => number);
  /** The most accepted steps between two output times (Stan's max_num_steps); default 1e6. */
  maxSteps?: number;
  /** The most rejected tries in a row before giving up; default 500. */
  maxRejects?: number;
  /** The solve's name in messages; default 'ode'. */
  what?: string;
}

// The Dormand–Prince 5(4) tableau.
const A21 = 1 / 5;
const [A31, A32] = [3 / 40, 9 / 40];
const [A41, A42, A43] = [44 / 45, -56 / 15, 32 / 9];
const [A51, A52, A53, A54] = [19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729];
const [A61, A62, A63, A64, A65] = [9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656];
const [B1, B3, B4, B5, B6] = [35 / 384, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84];
const [C2, C3, C4, C5] = [1 / 5, 3 / 10, 4 / 5, 8 / 9];
const ERR = [B1 - 5179 / 57600, B3 - 7571 / 16695, B4 - 393 / 640, B5 - -92097 / 339200, B6 - 187 / 2100, -1 / 40];

/**
 * Solves x' = g(t, x) from (t0, x0) and returns x at each of `ts` (increasing, after t0): adaptive
 * Dormand–Prince steps, the output times read from the pair's dense output, the last step ending
 * exactly at the last output time. Throws an {@link OdeStepError} when a budget runs out.
 * @example
 * const out = dopri5((t, x) => Float64Array.of(x[1], -x[0]), Float64Array.of(1, 0), 0, [Math.PI], alg, { controller: boostController, firstStep: 0.1 });
 */
export function dopri5<S>(g: (t: number, x: S) => S, x0: S, t0: number, ts: readonly number[], alg: OdeAlgebra<S>, opts: Dopri5Options<S>): S[] {
  const EPS = Number.EPSILON;
  const { controller, maxSteps = 1e6, maxRejects = 500, what = 'ode' } = opts;
  const last = ts[ts.length - 1];
  let t = t0;
  let x = x0;
  let k1 = g(t, x);
  let dt = typeof opts.firstStep === 'number' ? opts.firstStep : opts.firstStep(t0, x, k1);
  // The last accepted step: its start, its stages and the derivative at its end, for the dense output.
  let tOld = t0;
  let xOld = x;
  let ks: S[] = [];
  const out: S[] = [];
  let next = 0;
  let steps = 0;
  for (;;) {
    while (next < ts.length && ts[next] - t <= EPS) {
      out.push(dense(alg, ts[next], tOld, t, xOld, ks));
      next++;
      steps = 0;
    }
    if (next >= ts.length) return out;
    if (t + dt - last > EPS) dt = last - t;
    if (++steps > maxSteps) throw new OdeStepError(`${what}: failed to integrate to the output time ${ts[next]} in ${maxSteps} steps (at t = ${t}, step size ${dt})`, 'maxSteps', t, dt, ts[next]);
    // One controlled step: shrink dt until the error estimate passes.
    for (let fails = 0; ; fails++) {
      if (fails >= maxRejects || !(t + dt > t))
        throw new OdeStepError(`${what}: the step size control failed ${fails} times in a row at t = ${t} (step ${dt}); the system may be stiff or its right-hand side not finite`, 'rejections', t, dt, ts[next]);
      const k2 = g(t + dt * C2, alg.comb(x, dt, [A21], [k1]));
      const k3 = g(t + dt * C3, alg.comb(x, dt, [A31, A32], [k1, k2]));
      const k4 = g(t + dt * C4, alg.comb(x, dt, [A41, A42, A43], [k1, k2, k3]));
      const k5 = g(t + dt * C5, alg.comb(x, dt, [A51, A52, A53, A54], [k1, k2, k3, k4]));
      const k6 = g(t + dt, alg.comb(x, dt, [A61, A62, A63, A64, A65], [k1, k2, k3, k4, k5]));
      const xNew = alg.comb(x, dt, [B1, B3, B4, B5, B6], [k1, k3, k4, k5, k6]);
      const k7 = g(t + dt, xNew);
      const kk = [k1, k3, k4, k5, k6, k7];
      const err = alg.errorRatio(x, xNew, k1, dt, ERR, kk);
      if (!(err <= 1)) {
        dt *= controller.reject(Number.isNaN(err) ? Infinity : err);
        continue;
      }
      tOld = t;
      xOld = x;
      ks = kk;
      t += dt;
      x = xNew;
      k1 = k7;
      dt *= controller.accept(err);
      break;
    }
  }
}

/** The pair's continuous extension (Hairer, Nørsett & Wanner, II.6) at `tq` within the last step. */
function dense<S>(alg: OdeAlgebra<S>, tq: number, tOld: number, tNew: number, xOld: S, ks: S[]): S {
  if (ks.length === 0) return xOld;
  const dt = tNew - tOld;
  const th = (tq - tOld) / dt;
  const X1 = (5 * (2558722523 - 31403016 * th)) / 11282082432;
  const X3 = (100 * (882725551 - 15701508 * th)) / 32700410799;
  const X4 = (25 * (443332067 - 31403016 * th)) / 1880347072;
  const X5 = (32805 * (23143187 - 3489224 * th)) / 199316789632;
  const X6 = (55 * (29972135 - 7076736 * th)) / 822651844;
  const X7 = (10 * (7414447 - 829305 * th)) / 29380423;
  const m1 = th - 1;
  const sq = th * th;
  const a = sq * (3 - 2 * th);
  const b = sq * m1;
  const c = sq * m1 * m1;
  const d = th * m1 * m1;
  return alg.comb(xOld, dt, [a * B1 - c * X1 + d, a * B3 + c * X3, a * B4 - c * X4, a * B5 + c * X5, a * B6 - c * X6, b + c * X7], ks);
}

/**
 * Classical fourth-order Runge–Kutta with `steps` equal steps from t0 to t1: no host reads, so a
 * solve with it traces and compiles (the adaptive {@link dopri5} reads its error estimates).
 * @example rk4((t, x) => x, Float64Array.of(1), 0, 1, 100, alg) // ≈ e
 */
export function rk4<S>(g: (t: number, x: S) => S, x0: S, t0: number, t1: number, steps: number, alg: Pick<OdeAlgebra<S>, 'comb'>): S {
  const h = (t1 - t0) / steps;
  let x = x0;
  for (let i = 0; i < steps; i++) {
    const t = t0 + i * h;
    const k1 = g(t, x);
    const k2 = g(t + h / 2, alg.comb(x, h, [0.5], [k1]));
    const k3 = g(t + h / 2, alg.comb(x, h, [0.5], [k2]));
    const k4 = g(t + h, alg.comb(x, h, [1], [k3]));
    x = alg.comb(x, h, [1 / 6, 1 / 3, 1 / 3, 1 / 6], [k1, k2, k3, k4]);
  }
  return x;
}
