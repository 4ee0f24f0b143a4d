/**
 * Eager autodiff overhead: `valueAndGrad` of a scalar expression of 50 ops in two scalar
 * float64 parameters: ten rounds of t ← exp(−0.1 · (t·x + y − 0.5)), five ops each.
 */
import { add, exp, mul, setBackend, sub, tensor, valueAndGrad, type Tensor } from '../../ts/index.js';
import { timeIt } from './timing.js';

/** The 50-op expression; its value stays near 1 for x, y in [0, 1]. */
export function expression(p: { x: Tensor; y: Tensor }): Tensor {
  let t = p.x;
  for (let i = 0; i < 10; i++) t = exp(mul(sub(add(mul(t, p.x), p.y), 0.5), -0.1));
  return t;
}

/** Microseconds per `valueAndGrad(expression)` call on `backend`. */
export function valueAndGradUs(backend: string, budgetMs: number): number {
  setBackend(backend);
  const vg = valueAndGrad(expression);
  const params = { x: tensor(0.3), y: tensor(0.2) };
  return timeIt(() => void vg(params), { budgetMs, minBatches: 5 }).best * 1e6;
}
