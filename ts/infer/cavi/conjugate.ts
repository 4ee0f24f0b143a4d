/**
 * The reusable shape of coordinate-ascent VI for conjugate-exponential models.
 *
 * A model is a set of factors q_i, each holding its natural parameters (or an affine image of
 * them: a Dirichlet's α = η + 1, a Gamma's (a, b) = (η₁ + 1, −η₂), a Gaussian's (Λm, Λ)), and an
 * `update` that sets q_i to the exponentiated expected log-joint, log q_i ∝ E_{q₋ᵢ}[log p(x, z)].
 * After every sweep over the factors the model's ELBO is computed in closed form. Each update is an
 * exact maximization of the ELBO in one factor, so the trace never decreases (up to rounding);
 * `runCavi` records the largest decrease it saw so tests can check it on every model.
 *
 * These models work on `Float64Array`s directly rather than through tensors: their updates are
 * small dense linear algebra and sparse loops where per-op dispatch would dominate.
 */
import { ValueError } from '../../core/errors.js';

/** One factor q_i of a mean-field (or structured mean-field) family. */
export interface CaviFactor {
  /** Name used in traces and errors, e.g. `'q(w)'`. */
  readonly name: string;
  /** Sets q_i ∝ exp E_{q₋ᵢ}[log p(x, z)] given the current other factors. */
  update(): void;
}

/** A conjugate-exponential model: its factors, updated in order, and its closed-form ELBO. */
export interface ConjugateModel {
  /** The factors q_i, updated in this order every sweep. */
  readonly factors: readonly CaviFactor[];
  /** ELBO(q) = E_q[log p(x, z)] − E_q[log q(z)], all constants included unless the model says otherwise. */
  elbo(): number;
}

/** Options of `runCavi`. */
export interface CaviOptions {
  /** Maximum number of sweeps (default 200). */
  maxIter?: number;
  /** Stop when |ΔELBO| <= tol · max(1, |ELBO|) (default 1e-10). */
  tol?: number;
  /** Called after each sweep with the sweep number (1-based) and the ELBO. */
  onSweep?: (sweep: number, elbo: number) => void;
  /** Cancels between sweeps; the result so far is returned with `cancelled: true`. */
  signal?: AbortSignal;
}

/** What `runCavi` returns. */
export interface CaviTrace {
  /** ELBO at initialization, then after each sweep. */
  elboTrace: number[];
  /** The final ELBO. */
  elbo: number;
  /** Sweeps run. */
  iterations: number;
  /** Whether the ELBO change fell below `tol` before `maxIter`. */
  converged: boolean;
  /** Whether the signal stopped the sweeps. */
  cancelled: boolean;
  /** Largest relative decrease of the ELBO between sweeps (0 when monotone), for checks. */
  maxRelDecrease: number;
  /** Wall time in milliseconds. */
  timeMs: number;
}

/**
 * Runs CAVI sweeps over `model.factors` until the ELBO stops changing. Throws `ValueError` naming
 * the sweep and factor order if the ELBO becomes NaN (never returned silently).
 * @example const trace = runCavi(model, { maxIter: 100 })
 */
export function runCavi(model: ConjugateModel, opts: CaviOptions = {}): CaviTrace {
  const { maxIter = 200, tol = 1e-10, onSweep, signal } = opts;
  if (!(Number.isInteger(maxIter) && maxIter >= 0)) throw new ValueError(`runCavi: maxIter must be a non-negative integer, got ${maxIter}`);
  if (!(tol >= 0)) throw new ValueError(`runCavi: tol must be >= 0, got ${tol}`);
  const t0 = performance.now();
  const trace = [checkedElbo(model, 0)];
  let maxRelDecrease = 0;
  let converged = false;
  let cancelled = false;
  let it = 0;
  while (it < maxIter) {
    if (signal?.aborted) {
      cancelled = true;
      break;
    }
    for (const f of model.factors) f.update();
    it++;
    const e = checkedElbo(model, it);
    const prev = trace[trace.length - 1];
    trace.push(e);
    onSweep?.(it, e);
    const scale = Math.max(1, Math.abs(prev));
    if (e < prev) maxRelDecrease = Math.max(maxRelDecrease, (prev - e) / scale);
    if (Math.abs(e - prev) <= tol * scale) {
      converged = true;
      break;
    }
  }
  return {
    elboTrace: trace,
    elbo: trace[trace.length - 1],
    iterations: it,
    converged,
    cancelled,
    maxRelDecrease,
    timeMs: performance.now() - t0,
  };
}

function checkedElbo(model: ConjugateModel, sweep: number): number {
  const e = model.elbo();
  if (Number.isNaN(e)) {
    const names = model.factors.map((f) => f.name).join(', ');
    throw new ValueError(`runCavi: the ELBO is NaN after sweep ${sweep} (factors ${names}); check the data for NaN or Inf`);
  }
  return e;
}

/**
 * One stochastic natural-gradient step on a global factor (Hoffman et al. 2013, eq. 26):
 * λ ← (1 − ρ) λ + ρ λ̂, where λ̂ is the factor's coordinate update computed from a minibatch as if
 * it were the whole data set (sufficient statistics scaled by N / |S|). For an exponential family
 * the natural gradient of the ELBO is λ̂ − λ, so this is a step of size ρ along it; it is the same
 * step for any affine image of λ, so factors may store α or (a, b) instead. In place on `lambda`.
 * @example naturalGradientStep(factor.lambda, lambdaHat, rho(step)) // inside a custom SVI loop
 */
export function naturalGradientStep(lambda: Float64Array, lambdaHat: Float64Array, rho: number): void {
  if (lambda.length !== lambdaHat.length)
    throw new ValueError(`naturalGradientStep: lambda has ${lambda.length} entries but lambdaHat has ${lambdaHat.length}`);
  if (!(rho > 0 && rho <= 1)) throw new ValueError(`naturalGradientStep: rho must be in (0, 1], got ${rho}`);
  const c = 1 - rho;
  for (let i = 0; i < lambda.length; i++) lambda[i] = c * lambda[i] + rho * lambdaHat[i];
}
