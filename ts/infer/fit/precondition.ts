/**
 * Preconditioning of the phases' updates (whitened locations, per-coordinate scales elsewhere) and
 * the drift test that ends a phase.
 */
import type { Tensor } from '../../core/tensor.js';
import { leaves } from '../../core/tree.js';
import { add, div, exp, log, mul, sqrt, square, sub } from '../../ops/elementwise.js';
import { concat, expandDims, gather, reshape, slice } from '../../ops/shape.js';
import { diagEmbed, diagonal, matmul, triangularSolve, tril } from '../../ops/linalg.js';
import { sum } from '../../ops/reduce.js';
import { LowerCholeskyTransform } from '../../bijectors/cholesky.js';
import { indicesLike, padLast, sliceLast } from '../../bijectors/transform.js';
import { tensor, zerosLike } from '../../ops/creation.js';
import { chain, scaleByAdam, scaleByLearningRate, type GradientTransformation } from '../../optim/index.js';
import { choleskyHost, diagTensor } from './linalg.js';
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


/**
 * Whitening of a full-rank guide's scale factor L = diag(σ)·T (the `scale` and `scale_tril`
 * leaves), as `whiten` does for the location: Adam steps on M = A⁻¹L, with A the Cholesky factor
 * of the Laplace covariance, so M ≈ I at the start whatever the posterior's correlations. In T's
 * own entries a step of lr/√d is harmless for a well-conditioned posterior but, where two
 * coefficients correlate at ±0.999, T's row is (∓0.999, 0.045) and one such step changes the
 * narrow direction's variance several-fold: whitened, every step changes the covariance by a
 * relative O(lr) in every direction.
 *
 * 'in' replaces the gradient of `scale_tril` (unconstrained: strict lower triangle, then log
 * diagonal) by that of M's entries (off-diagonal M_ij, and log M_ii), with ∂L = A ∂M, and zeroes
 * the gradient of `scale`; 'out' (after `whiten`'s 'out', which scales the off-diagonal steps by
 * 1/√d) turns the step on M (the diagonal multiplicative) into the new L = A M′ and returns the
 * updates of both leaves that land there. Other leaves pass through.
 *
 * Everything is tensor ops on the parameters (a triangular solve, two matmuls, gathers), so a
 * compiled SVI step traces through it; `a` is the d×d factor A.
 */
export function whitenFactor(prefix: string, a: Tensor, side: 'in' | 'out'): GradientTransformation<Record<string, never>> {
  const trilName = `${prefix}_scale_tril`;
  const scaleName = `${prefix}_scale`;
  const d = a.shape[0];
  const s0 = (d * (d - 1)) / 2;
  const toT = new LowerCholeskyTransform();
  // Flat positions (i·d + j) of the strict lower triangle in the packed order, and for each of
  // the d² positions of a matrix its entry of the packed strict part (s0: a zero appended).
  const strictAt: number[] = [];
  for (let i = 1; i < d; i++) for (let j = 0; j < i; j++) strictAt.push(i * d + j);
  const unpackAt: number[] = [];
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) unpackAt.push(j < i ? (i * (i - 1)) / 2 + j : s0);
  const pickIdx = indicesLike(strictAt, a);
  const unpackIdx = indicesLike(unpackAt, a);
  /** The strict lower triangle of a [d, d] matrix, packed (row by row). */
  const pickStrict = (m: Tensor): Tensor => gather(reshape(m, [d * d]), pickIdx, 0);
  /** The [d, d] strictly lower matrix of the first s0 entries of a packed vector. */
  const unpackStrict = (v: Tensor): Tensor => reshape(gather(padLast(sliceLast(v, 0, s0), 0, 1), unpackIdx, 0), [d, d]);
  /** Packed strict part, then the diagonal. */
  const pack = (strict: Tensor, diag: Tensor): Tensor => (s0 > 0 ? concat([strict, diag], 0) : diag);
  return {
    init: () => ({}),
    update: (u, s, params) => {
      const rec = u as unknown as Record<string, Tensor>;
      const par = params as unknown as Record<string, Tensor> | undefined;
      if (par === undefined || rec[trilName] === undefined || rec[scaleName] === undefined) return [u, s];
      const tu = par[trilName];
      const ls = par[scaleName];
      const sigma = expandDims(exp(ls), -1);
      const t = toT.forward(tu);
      const m = triangularSolve(a, mul(sigma, t), { lower: true });
      const g = rec[trilName];
      const gStrict = unpackStrict(g);
      const gDiag = sliceLast(g, s0, d);
      const out: Record<string, Tensor> = { ...rec };
      if (side === 'in') {
        // ∂/∂L from ∂/∂T_u: L_ij = σ_i T_ij, T_ii = exp(T_u,ii).
        const gl = div(add(gStrict, diagEmbed(div(gDiag, diagonal(t)))), sigma);
        // ∂/∂M = tril(Aᵀ ∂/∂L); the diagonal as ∂/∂log M_ii.
        const gm = matmul(a, gl, { transA: true });
        out[trilName] = pack(pickStrict(gm), mul(diagonal(gm), diagonal(m)));
        out[scaleName] = mul(rec[scaleName], 0);
      } else {
        const mNew = add(add(tril(m, -1), gStrict), diagEmbed(mul(diagonal(m), exp(gDiag))));
        // L′ = A M′, lower triangular with a positive diagonal; then σ′ its row norms and T′ = L′/σ′.
        const lNew = matmul(a, mNew);
        const sg = sqrt(sum(square(lNew), -1));
        const tNew = div(lNew, expandDims(sg, -1));
        out[trilName] = sub(pack(pickStrict(tNew), log(diagonal(tNew))), tu);
        out[scaleName] = sub(log(sg), ls);
      }
      return [out as unknown as typeof u, s];
    },
  };
}

/**
 * The optimizer of a phase, as a function of its step size: plain Adam for the warm-up (`plain`);
 * otherwise Adam between `whiten`'s 'in' and 'out' with the location's reference factor — the
 * Laplace covariance's Cholesky factor for a full-rank guide, q's own sds 1/√H_ii for a mean-field
 * one (in the covariance's units a step of 0.1 marginal sd is dozens of q's sds along
 * near-collinear coefficients, whose conditional sds are a few % of the marginal ones), the
 * guide's sds where there is no Laplace fit — and, for a full-rank guide whose Laplace fit is
 * trusted (`laplace.whitenFactor`), {@link whitenFactor} around it too.
 */
export function phaseOptimizer(
  guide: AutoGuide<unknown[]>,
  o: { plain: boolean; laplace: { cov: Float64Array; hess: Float64Array; whitenFactor: boolean } | null; sd: Float64Array; pre: Record<string, Tensor> },
): (lr: number) => GradientTransformation {
  const d = o.sd.length;
  if (o.plain) return (lr) => chain(scaleByAdam({ b1: ADAM_B1 }), scaleByLearningRate(lr));
  const lap = o.laplace;
  const lt =
    lap === null
      ? diagTensor(o.sd)
      : guide instanceof AutoNormal
        ? diagTensor(Float64Array.from({ length: d }, (_, i) => 1 / Math.sqrt(lap.hess[i * (d + 1)])))
        : tensor(choleskyHost(lap.cov, d) as Float64Array, [d, d]);
  const factor = lap !== null && lap.whitenFactor && guide instanceof AutoMultivariateNormal ? tensor(choleskyHost(lap.cov, d) as Float64Array, [d, d]) : null;
  const locs = locLeaves(guide);
  return (lr) => {
    if (factor === null) return chain(whiten(locs, lt, 'in', o.pre), scaleByAdam({ b1: ADAM_B1 }), scaleByLearningRate(lr), whiten(locs, lt, 'out', o.pre));
    const [fi, fo] = [whitenFactor(guide.prefix, factor, 'in'), whitenFactor(guide.prefix, factor, 'out')];
    return chain(whiten(locs, lt, 'in', o.pre), fi, scaleByAdam({ b1: ADAM_B1 }), scaleByLearningRate(lr), whiten(locs, lt, 'out', o.pre), fo);
  };
}
