/** Reading and writing an autoguide's parameters as a Gaussian over the flat latent vector. */
import type { ModelFn } from '../../ppl/runtime.js';
import { ValueError } from '../../core/errors.js';
import { sizeOf } from '../../core/shape.js';
import type { Tensor } from '../../core/tensor.js';
import { bijectTo } from '../../bijectors/bijectTo.js';
import { lowerCholesky } from '../../distributions/constraints.js';
import { tensor } from '../../ops/creation.js';
import { AutoGuide, AutoLowRankMultivariateNormal, AutoMultivariateNormal, AutoNormal, type AutoGuideOptions } from '../autoguide.js';
import { AutoFlowGuide, flowGuide, type FlowGuideName } from '../../flows/guides.js';
import { choleskyHost } from './linalg.js';
import type { FitOptions } from './options.js';

/** The guide `fit` trains: a named family made for `model`, or the caller's own. */
export function makeGuide<A extends unknown[]>(model: ModelFn<A>, g: FitOptions['guide'], opts: AutoGuideOptions): AutoGuide<A> {
  if (g instanceof AutoGuide) return g as unknown as AutoGuide<A>;
  switch (g ?? 'normal') {
    case 'normal':
      return new AutoNormal<A>(model, opts);
    case 'mvn':
      return new AutoMultivariateNormal<A>(model, opts);
    case 'lowrank':
      return new AutoLowRankMultivariateNormal<A>(model, opts);
    case 'iaf':
    case 'nsf':
    case 'realnvp':
    case 'bnaf':
    case 'ffjord':
      return flowGuide(g as FlowGuideName, model, opts);
    default:
      throw new ValueError(`fit: unknown guide '${String(g)}'; use 'normal', 'mvn', 'lowrank', 'iaf', 'nsf', 'realnvp', 'bnaf', 'ffjord' or an AutoGuide`);
  }
}

/** Site offsets in the flat latent vector. */
export function offsets(guide: AutoGuide<unknown[]>): { name: string; off: number; n: number; shape: number[] }[] {
  let off = 0;
  return guide.sites.map((s) => {
    const n = sizeOf(s.uncShape);
    const r = { name: s.name, off, n, shape: s.uncShape };
    off += n;
    return r;
  });
}

/** Unconstrained guide parameters at N(loc, cov) (`current` unconstrained; others kept). */
export function laplaceParams(
  guide: AutoGuide<unknown[]>,
  current: Record<string, Tensor>,
  loc: Float64Array,
  cov: Float64Array | null,
  hess: Float64Array | null,
): Record<string, Tensor> {
  const d = loc.length;
  const p = { ...current };
  const pre = guide.prefix;
  if (guide instanceof AutoFlowGuide) {
    // The flow's last layer (an affine map) is moved onto the Laplace mean and marginal sds.
    const sd = Float64Array.from({ length: d }, (_, i) => (cov !== null ? Math.sqrt(cov[i * (d + 1)]) : hess !== null ? 1 / Math.sqrt(hess[i * (d + 1)]) : 1));
    return guide.startAt(current, tensor(loc, [d]), tensor(sd, [d]));
  }
  if (guide instanceof AutoNormal) {
    for (const s of offsets(guide)) {
      p[`${pre}_${s.name}_loc`] = tensor(loc.slice(s.off, s.off + s.n), s.shape);
      if (hess !== null) p[`${pre}_${s.name}_scale`] = tensor(Float64Array.from({ length: s.n }, (_, i) => -0.5 * Math.log(hess[(s.off + i) * (d + 1)])), s.shape);
    }
  } else {
    p[`${pre}_loc`] = tensor(loc, [d]);
    if (cov !== null && guide instanceof AutoMultivariateNormal) {
      // L = diag(σ)·T with σᵢ the row norms of chol(cov) (the marginal sds) and T = diag(σ)⁻¹ L.
      const l = choleskyHost(cov, d) as Float64Array;
      const sd = Float64Array.from({ length: d }, (_, i) => Math.sqrt(cov[i * (d + 1)]));
      const t = Float64Array.from(l, (v, k) => v / sd[Math.floor(k / d)]);
      p[`${pre}_scale`] = tensor(Float64Array.from(sd, (v) => Math.log(v)), [d]);
      p[`${pre}_scale_tril`] = bijectTo(lowerCholesky).inverse(tensor(t, [d, d]));
    } else if (cov !== null && guide instanceof AutoLowRankMultivariateNormal) {
      p[`${pre}_scale`] = tensor(Float64Array.from({ length: d }, (_, i) => 0.5 * Math.log(cov[i * (d + 1)])), [d]);
    }
  }
  return p;
}

/** Marginal sds of the guide's unconstrained latent coordinates, from constrained params. */
export function guideSds(guide: AutoGuide<unknown[]>, params: Record<string, Tensor>): Float64Array {
  const pre = guide.prefix;
  const offs = offsets(guide);
  const d = offs.reduce((a, s) => a + s.n, 0);
  const sd = new Float64Array(d);
  if (guide instanceof AutoNormal) {
    for (const s of offs) sd.set(params[`${pre}_${s.name}_scale`].dataSync(), s.off);
  } else if (guide instanceof AutoMultivariateNormal) {
    const t = params[`${pre}_scale_tril`].dataSync();
    const sc = params[`${pre}_scale`].dataSync();
    for (let i = 0; i < d; i++) {
      let v = 0;
      for (let j = 0; j <= i; j++) v += t[i * d + j] ** 2;
      sd[i] = sc[i] * Math.sqrt(v);
    }
  } else if (guide instanceof AutoLowRankMultivariateNormal) {
    const w = params[`${pre}_cov_factor`];
    const r = w.shape[1];
    const wd = w.dataSync();
    const dg = params[`${pre}_scale`].dataSync();
    // The factor is relative to the scale: row i of the covariance factor is σᵢ·Wᵢ.
    for (let i = 0; i < d; i++) {
      let v = 1;
      for (let j = 0; j < r; j++) v += wd[i * r + j] ** 2;
      sd[i] = dg[i] * Math.sqrt(v);
    }
  } else sd.fill(1);
  return sd;
}


export function guideGaussian(guide: AutoGuide<unknown[]>, params: Record<string, Tensor>): { m: Float64Array; l: Float64Array; fullRank: boolean } | null {
  const pre = guide.prefix;
  const offs = offsets(guide);
  const d = offs.reduce((a, s) => a + s.n, 0);
  if (guide instanceof AutoNormal) {
    const m = new Float64Array(d);
    const l = new Float64Array(d * d);
    for (const s of offs) {
      m.set(params[`${pre}_${s.name}_loc`].dataSync(), s.off);
      const sc = params[`${pre}_${s.name}_scale`].dataSync();
      for (let i = 0; i < s.n; i++) l[(s.off + i) * (d + 1)] = sc[i];
    }
    return { m, l, fullRank: false };
  }
  if (guide instanceof AutoMultivariateNormal) {
    const t = params[`${pre}_scale_tril`].dataSync();
    const sc = params[`${pre}_scale`].dataSync();
    return { m: Float64Array.from(params[`${pre}_loc`].dataSync()), l: Float64Array.from(t, (v, k) => v * sc[Math.floor(k / d)]), fullRank: true };
  }
  return null;
}
