/**
 * Initialization strategies for latent sites: where the optimizer starts. Each returns, for a
 * latent site reached while running the model, its initial value in the constrained space.
 */
import { ENGINE } from '../core/engine.js';
import { ValueError } from '../core/errors.js';
import type { Tensor } from '../core/tensor.js';
import { bijectTo } from '../bijectors/bijectTo.js';
import type { Distribution } from '../distributions/distribution.js';
import { asTensor, type TensorLike } from '../ops/creation.js';
import { add, mul } from '../ops/elementwise.js';
import { stdUniform } from '../distributions/util.js';
import type { Key } from '../random/key.js';

/** Initial value of a latent site with distribution `fn`, drawn with `key`. */
export type InitStrategy = (name: string, fn: Distribution, key: Key) => Tensor;

/** Whether `fn` has no draws (an improper prior): such sites start as initToUniform places them. */
function hasNoDraws(fn: Distribution): boolean {
  return (fn as Distribution & { improper?: boolean }).improper === true;
}

/**
 * The elementwise median of `n` prior draws (NumPyro's init_to_median); improper priors start as initToUniform.
 * @example new AutoNormal(model, { init: initToMedian(31) })
 */
export function initToMedian(n = 15): InitStrategy {
  return (name, fn, key) => {
    if (hasNoDraws(fn)) return initToUniform()(name, fn, key);
    const draws = fn.sample(key, [n]);
    const m = draws.size / n;
    const data = draws.dataSync();
    const out = new Float64Array(m);
    const col = new Float64Array(n);
    for (let j = 0; j < m; j++) {
      for (let i = 0; i < n; i++) col[i] = data[i * m + j];
      col.sort();
      out[j] = n % 2 === 1 ? col[(n - 1) / 2] : 0.5 * (col[n / 2 - 1] + col[n / 2]);
    }
    const arr = fn.dtype === 'float32' ? Float32Array.from(out) : out;
    const t = ENGINE.fromArray(arr, draws.shape.slice(1), draws.backend);
    // A median can fall on a support boundary (a simplex, an ordered vector): fall back to a draw.
    const ok = fn.support.check(t).dataSync();
    return ok.every((v) => v !== 0) ? t : fn.sample(key);
  };
}

/**
 * One prior draw (improper priors start as initToUniform places them).
 * @example new AutoNormal(model, { init: initToSample() })
 */
export function initToSample(): InitStrategy {
  return (name, fn, key) => (hasNoDraws(fn) ? initToUniform()(name, fn, key) : fn.sample(key));
}

/**
 * The prior mean (falls back to the median where the mean is not finite).
 * @example new AutoNormal(model, { init: initToMean() })
 */
export function initToMean(): InitStrategy {
  const med = initToMedian();
  return (name, fn, key) => {
    try {
      const m = fn.mean;
      if (m.dataSync().every((v) => Number.isFinite(v))) return m;
    } catch {
      // No closed-form mean: use the median.
    }
    return med(name, fn, key);
  };
}

/**
 * Uniform on (−radius, radius) in the unconstrained space, as Stan does (radius 2).
 * @example new AutoNormal(model, { init: initToUniform(2) }) // Stan's default
 */
export function initToUniform(radius = 2): InitStrategy {
  return (_name, fn, key) => {
    const t = bijectTo(fn.support);
    const unc = t.inverseShape(fn.shape());
    const u = add(mul(stdUniform(key, unc, fn.dtype), 2 * radius), -radius);
    return t.forward(u);
  };
}

/**
 * Given values for some sites (constrained space), `fallback` for the rest.
 * @example new AutoNormal(model, { init: initToValue({ tau: 1 }) }) // tau starts at 1, the rest at the prior median
 */
export function initToValue(values: Record<string, TensorLike>, fallback: InitStrategy = initToMedian()): InitStrategy {
  return (name, fn, key) => {
    const v = values[name];
    if (v === undefined) return fallback(name, fn, key);
    const t = asTensor(v, hasNoDraws(fn) ? undefined : fn.mean);
    if (t.shape.length !== fn.shape().length || t.shape.some((d, i) => d !== fn.shape()[i]))
      throw new ValueError(`initToValue: site '${name}' has shape [${fn.shape().join(', ')}], got [${t.shape.join(', ')}]`);
    return t;
  };
}
