/** The potential U(z) = −log p(x, T(z)) − log|det J_T(z)| over the flat unconstrained latent vector, and its Hessian. */
import type { ModelFn } from '../../ppl/runtime.js';
import { valueAndGrad } from '../../core/autodiff.js';
import type { Tensor } from '../../core/tensor.js';
import { tensor } from '../../ops/creation.js';
import { add, neg } from '../../ops/elementwise.js';
import { sum } from '../../ops/reduce.js';
import { reshape } from '../../ops/shape.js';
import { plate } from '../../ppl/primitives.js';
import { substitute, trace } from '../../ppl/handlers.js';
import { logDensity } from '../../ppl/logdensity.js';
import type { ValueGrad } from '../../optim/lbfgs.js';
import type { AutoLaplaceApproximation } from '../autoguide.js';
import { perParticle } from '../elbo.js';

export type BatchGrad = (z: Float64Array, P: number) => { f: Float64Array; g: Float64Array };

/**
 * U(z) = −log p(x, T(z)) − log|det J_T(z)| as a tensor function of the flat unconstrained latent
 * vector: z [d] gives a scalar, z [P, d] the P values [P] in one vectorized pass (the model runs
 * inside a particle plate, as the ELBO's particles do). `lap` must be set up on `args`.
 */
export function potentialTensor<A extends unknown[]>(model: ModelFn<A>, args: A, lap: AutoLaplaceApproximation<A>): (z: Tensor) => Tensor {
  const nest = lap.maxPlateNesting;
  return (z) => {
    const P = z.shape.length === 1 ? 0 : z.shape[0];
    const parts = lap.unpack(P === 0 ? z : reshape(z, [P, ...Array<number>(nest).fill(1), z.shape[1]]));
    const values: Record<string, Tensor> = {};
    for (const [name, p] of Object.entries(parts)) values[name] = p.value;
    // Each part's logDensity is −log|det J| of its transform.
    let u: Tensor;
    if (P === 0) u = neg(logDensity(model, args, values));
    else {
      const wrapped = (...a: A): unknown => plate('_particles', P, () => model(...a), { dim: -(nest + 1) });
      const tr = trace(substitute(wrapped, values)).getTrace(...args);
      let lp: Tensor | null = null;
      for (const site of tr.values()) if (site.type === 'sample') lp = lp === null ? perParticle(site, P) : add(lp, perParticle(site, P));
      u = neg(lp as Tensor);
    }
    for (const p of Object.values(parts)) u = add(u, P === 0 ? sum(p.logDensity) : sum(reshape(p.logDensity, [P, -1]), 1));
    return u;
  };
}

/**
 * U(z) of {@link potentialTensor} over host vectors, with its gradient, for one point (`one`) or
 * for P points in one vectorized pass (`batch`).
 */
export function potential<A extends unknown[]>(model: ModelFn<A>, args: A, lap: AutoLaplaceApproximation<A>): { one: ValueGrad; batch: BatchGrad } {
  const total = potentialTensor(model, args, lap);
  const vgOne = valueAndGrad(total);
  let perPoint: Tensor | null = null;
  const vgBatch = valueAndGrad((z: Tensor) => {
    perPoint = total(z);
    return sum(perPoint);
  });
  return {
    one: (z) => {
      const [f, g] = vgOne(tensor(z, [z.length]));
      return { f: f.item(), g: Float64Array.from(g.dataSync()) };
    },
    batch: (z, P) => {
      const [, g] = vgBatch(tensor(z, [P, z.length / P]));
      return { f: Float64Array.from((perPoint as unknown as Tensor).dataSync()), g: Float64Array.from(g.dataSync()) };
    },
  };
}

/** Symmetric Hessian of U at x by central differences of the gradient (2d points, one batch). */
export function fdHessian(bg: BatchGrad, x: Float64Array): Float64Array {
  const d = x.length;
  const pts = new Float64Array(2 * d * d);
  const eps = Float64Array.from(x, (v) => 1e-5 * Math.max(1, Math.abs(v)));
  for (let i = 0; i < d; i++) {
    pts.set(x, 2 * i * d);
    pts.set(x, (2 * i + 1) * d);
    pts[2 * i * d + i] += eps[i];
    pts[(2 * i + 1) * d + i] -= eps[i];
  }
  const { g } = bg(pts, 2 * d);
  const h = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) h[j * d + i] = (g[2 * i * d + j] - g[(2 * i + 1) * d + j]) / (2 * eps[i]);
  for (let i = 0; i < d; i++)
    for (let j = 0; j < i; j++) {
      const v = 0.5 * (h[i * d + j] + h[j * d + i]);
      h[i * d + j] = v;
      h[j * d + i] = v;
    }
  return h;
}
