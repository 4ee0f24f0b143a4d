/**
 * SBC specs shared by test/unit/sbc.test.ts and the worker threads it starts (which import this
 * module by URL): θ ~ N(0, 1), y_i ~ N(θ, 1), i = 1..5, whose posterior is exactly
 * N(Σy/(n+1), 1/(n+1)); `spec` fits it with that closed form, `shrunk` with its sd halved.
 */
import { functionBackend, functionGenerator, normal, type Key, type SbcSpec } from '../../ts/index.js';

const n = 5;

/** The generator: θ* ~ N(0, 1), y | θ* ~ N(θ*, 1) n times. */
export const normalGenerator = functionGenerator((k: Key) => {
  const z = normal(k, [n + 1], { dtype: 'float64' }).dataSync();
  const theta = z[0];
  return { parameters: { theta }, data: Float64Array.from({ length: n }, (_, i) => theta + z[i + 1]) };
});

/** Draws of the exact posterior with its sd multiplied by `sdFactor`. */
export function normalPosterior(sdFactor: number, draws = 99): SbcSpec<Float64Array>['backend'] {
  return functionBackend((k: Key, y: Float64Array) => {
    const mean = y.reduce((a, b) => a + b, 0) / (n + 1);
    const sd = sdFactor / Math.sqrt(n + 1);
    const z = normal(k, [draws], { dtype: 'float64' }).dataSync();
    return { theta: Float64Array.from(z, (e) => mean + sd * e) };
  });
}

/** θ² as a test quantity. */
const testQuantities = (p: Record<string, Float64Array>): Record<string, number> => ({ theta_sq: p.theta[0] ** 2 });

/** The exact posterior. */
export const spec: SbcSpec<Float64Array> = { generator: normalGenerator, backend: normalPosterior(1), testQuantities };

/** The posterior with its sd halved (under-dispersed). */
export const shrunk: SbcSpec<Float64Array> = { generator: normalGenerator, backend: normalPosterior(0.5), testQuantities };
