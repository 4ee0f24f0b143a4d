/**
 * The central-difference check of one gradient case, shared by the vitest suite (js and cpu) and
 * bench/gpu/verify.ts (cuda, on the device machine). The objective is sum(op(x) · w) with a fixed
 * random weight w (so every output element matters); the analytic gradient from valueAndGrad is
 * compared with (f(x + h) − f(x − h)) / 2h, h = 1e-6 · max(1, |x|) unless the case sets h.
 */
import { ENGINE } from '../../ts/core/engine.js';
import type { Tensor } from '../../ts/core/tensor.js';
import * as V from '../../ts/index.js';
import { rng, type GradCase } from './cases.js';

/** The tolerance of a case that states none. */
export const DEFAULT_TOL = 1e-6;
const DEFAULT_H = 1e-6;

function weight(shape: readonly number[], seed: number): Tensor {
  const r = rng(seed);
  const n = shape.reduce((p, d) => p * d, 1);
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = 2 * r() - 1;
  return V.tensor(a, shape);
}

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

export interface CheckResult {
  /** max |g − fd| / max(1, ‖fd‖∞) over all inputs. */
  err: number;
  /** Whether the case's kernel was recorded on the tape. */
  recorded: boolean;
  /** The worst element, for the failure message. */
  worst: string;
}

export function checkGradCase(c: GradCase): CheckResult {
  return V.tidy(() => {
    const xs = c.inputs();
    for (const x of xs) if (x.dtype !== 'float64') throw new Error(`${c.name}: gradient cases take float64 inputs, got ${x.dtype}`);
    const y0 = c.fn(xs);
    const w = weight(y0.shape, hash(c.name));
    const objective = (ins: Tensor[]): Tensor => V.sum(V.mul(c.fn(ins), w));
    let recorded = false;
    const [, grads] = V.valueAndGrad((ins: Tensor[]) => {
      const out = objective(ins);
      recorded = ENGINE.tape?.entries.some((e) => e.name === c.kernel) ?? false;
      return out;
    })(xs);
    const hRel = c.h ?? DEFAULT_H;
    let err = 0;
    let worst = '';
    for (let i = 0; i < xs.length; i++) {
      const base = xs[i].dataSync() as Float64Array;
      const g = grads[i].dataSync();
      const fd = new Float64Array(base.length);
      let scale = 1;
      for (let j = 0; j < base.length; j++) {
        const step = hRel * Math.max(1, Math.abs(base[j]));
        const at = (d: number): number =>
          V.tidy(() => {
            const p = base.slice();
            p[j] += d;
            const ins = xs.map((x, k) => (k === i ? V.tensor(p, x.shape) : x));
            return objective(ins).item();
          });
        fd[j] = (at(step) - at(-step)) / (2 * step);
        scale = Math.max(scale, Math.abs(fd[j]));
      }
      for (let j = 0; j < base.length; j++) {
        const e = Math.abs(g[j] - fd[j]) / scale;
        if (!(e <= err)) {
          err = Number.isNaN(e) ? Infinity : e;
          worst = `input ${i} element ${j}: analytic ${g[j]}, finite difference ${fd[j]}`;
        }
      }
    }
    return { err, recorded, worst };
  });
}

