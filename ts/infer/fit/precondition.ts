/**
 * Preconditioning of the phases' updates (whitened locations, per-coordinate scales elsewhere) and
 * the drift test that ends a phase.
 */
import type { Tensor } from '../../core/tensor.js';
import { leaves } from '../../core/tree.js';
import { add, mul } from '../../ops/elementwise.js';
import { concat, reshape, slice } from '../../ops/shape.js';
import { matmul } from '../../ops/linalg.js';
import { tensor, zerosLike } from '../../ops/creation.js';
import type { GradientTransformation } from '../../optim/index.js';
import { AutoGuide, AutoLowRankMultivariateNormal, AutoMultivariateNormal, AutoNormal } from '../autoguide.js';
import { offsets } from './guideParams.js';

/** Adam's momentum in the phases: low, so that noise-driven steps decorrelate fast and the drift test is sharp. */
export const ADAM_B1 = 0.5;
const KAPPA = (1 + ADAM_B1) / (1 - ADAM_B1);

/** The location leaves of a guide, in latent order: name, offset in the flat vector, size, shape. */
export function locLeaves(guide: AutoGuide<unknown[]>): { name: string; off: number; n: number; shape: number[] }[] {
  const pre = guide.prefix;
  if (guide instanceof AutoNormal) return offsets(guide).map((s) => ({ ...s, name: `${pre}_${s.name}_loc` }));
  const d = offsets(guide).reduce((a, s) => a + s.n, 0);
  return [{ name: `${pre}_loc`, off: 0, n: d, shape: [d] }];
}

/**
 * Full-matrix preconditioning of the guide's location: with Σ = L Lᵀ the (Laplace) posterior
 * covariance, gradients go in as Lᵀg and updates come out as L u, so Adam works in whitened
 * coordinates where the curvature is about the identity and every direction converges at the
 * same rate. `side` 'in' or 'out'; other leaves pass through ('in') or are scaled by `diag` ('out').
 */
export function whiten(
  locs: { name: string; off: number; n: number; shape: number[] }[],
  lTensor: Tensor,
  side: 'in' | 'out',
  diag: Record<string, Tensor>,
): GradientTransformation<Record<string, never>> {
  const d = lTensor.shape[0];
  const locNames = new Set(locs.map((l) => l.name));
  return {
    init: () => ({}),
    update: (u, s) => {
      const rec = u as unknown as Record<string, Tensor>;
      const flat = reshape(concat(locs.map((l) => reshape(rec[l.name], [l.n])), 0), [1, d]);
      // in: (Lᵀ g)ᵀ = gᵀ L;  out: (L u)ᵀ = uᵀ Lᵀ.
      const w = side === 'in' ? matmul(flat, lTensor) : matmul(flat, lTensor, { transB: true });
      const out: Record<string, Tensor> = {};
      for (const [name, t] of Object.entries(rec)) out[name] = locNames.has(name) || side === 'in' ? t : mul(t, diag[name]);
      for (const l of locs) out[l.name] = reshape(slice(w, [0, l.off], [1, l.n]), l.shape);
      return [out as unknown as typeof u, s];
    },
  };
}

export function preconditioner(guide: AutoGuide<unknown[]>, params: Record<string, Tensor>, sd: Float64Array): Record<string, Tensor> {
  const pre = guide.prefix;
  const d = sd.length;
  const out: Record<string, Tensor> = {};
  for (const [name, u] of Object.entries(params)) out[name] = mul(zerosLike(u), 0);
  const set = (name: string, v: Float64Array): void => {
    if (params[name] !== undefined) out[name] = tensor(v, params[name].shape);
  };
  if (guide instanceof AutoNormal) {
    for (const s of offsets(guide)) {
      set(`${pre}_${s.name}_loc`, sd.slice(s.off, s.off + s.n));
      set(`${pre}_${s.name}_scale`, new Float64Array(s.n).fill(1));
    }
  } else {
    set(`${pre}_loc`, sd.slice());
    if (guide instanceof AutoMultivariateNormal) {
      const v = new Float64Array((d * (d + 1)) / 2);
      let k = 0;
      // Adam's early steps are sign-like in every entry: a row's d − 1 entries would move its norm by
      // lr·sd·√d, so each entry gets sd/√d.
      // T's rows are already in units of their scale σᵢ.
      for (let i = 1; i < d; i++) for (let j = 0; j < i; j++) v[k++] = 1 / Math.sqrt(d);
      for (let i = 0; i < d; i++) v[k++] = 1;
      set(`${pre}_scale_tril`, v);
      set(`${pre}_scale`, new Float64Array(d).fill(1));
    } else if (guide instanceof AutoLowRankMultivariateNormal) {
      const r = params[`${pre}_cov_factor`].shape[1];
      // W is already in units of each row's scale.
      set(`${pre}_cov_factor`, new Float64Array(d * r).fill(1 / Math.sqrt(r)));
      set(`${pre}_scale`, new Float64Array(d).fill(1));
    }
  }
  // Any other parameter (a model param) keeps plain Adam units.
  for (const [name, u] of Object.entries(params)) if (leaves(out[name]).every((t) => t.dataSync().every((x) => x === 0))) out[name] = add(zerosLike(u), 1);
  return out;
}

/**
 * Whether the iterates still drift: per coordinate t² = (θ_end − θ_start)² / (κ Σ Δθ²) over a
 * window, with κ = (1 + β₁)/(1 − β₁) = 3 for Adam's momentum-correlated steps (β₁ = 0.5). A random walk
 * around the optimum gives mean t² ≤ 1; a drift gives t² of the order of the window length.
 * `moved` is the largest net move in units of the preconditioner (sds).
 */
export function driftCheck(
  start: Record<string, Tensor>,
  end: Record<string, Tensor>,
  sq: Record<string, Tensor>,
  pre: Record<string, Tensor>,
): { t2: number; moved: number } {
  let acc = 0;
  let n = 0;
  let moved = 0;
  for (const name of Object.keys(end)) {
    const a = start[name].dataSync();
    const b = end[name].dataSync();
    const q = sq[name].dataSync();
    const s = pre[name].dataSync();
    for (let j = 0; j < b.length; j++) {
      const dlt = b[j] - a[j];
      acc += q[j] > 0 ? (dlt * dlt) / (KAPPA * q[j]) : 0;
      n++;
      moved = Math.max(moved, Math.abs(dlt) / (s[j] > 0 ? s[j] : 1));
    }
  }
  return { t2: acc / Math.max(1, n), moved };
}

