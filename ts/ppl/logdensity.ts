/** Log densities of traces and models. */
import { DTypeError, ValueError, VarinfError, fmtShape } from '../core/errors.js';
import type { Tensor } from '../core/tensor.js';
import { add, cast, mul, where } from '../ops/elementwise.js';
import { sum } from '../ops/reduce.js';
import { substitute, trace, type Site, type Trace } from './handlers.js';

/**
 * log p of one sample site, with its scale and mask applied (batch shape kept).
 * @example siteLogProb(tr.get('y') as Site) // log p of the site, [...batch]
 */
export function siteLogProb(site: Site): Tensor {
  if (site.type !== 'sample' || site.fn === null || site.value === null) throw new ValueError(`siteLogProb: '${site.name}' is not a sample site with a value`);
  let lp: Tensor;
  try {
    lp = site.fn.logProb(site.value);
  } catch (e) {
    throw withSite(site, e);
  }
  // where() rather than multiply so a masked −∞ term gives 0, not NaN.
  if (site.mask !== null) lp = where(cast(site.mask, 'int32'), lp, 0);
  if (site.scale !== 1) lp = mul(lp, site.scale);
  return lp;
}

/**
 * The distribution's error with the site named in front (same class and code), so a wrong-shaped
 * observation or a value outside the support says which `sample` statement it came from.
 */
function withSite(site: Site, e: unknown): unknown {
  if (!(e instanceof VarinfError)) return e;
  const plates = site.cond.map((f) => `plate '${f.name}' of size ${f.subsampleSize} at dim ${f.dim}`).join(', ');
  const where = `sample site '${site.name}'${site.isObserved ? ' (observed)' : ''}, value of shape ${fmtShape(site.value?.shape ?? [])}${plates ? ` under ${plates}` : ''}`;
  const Cls = e.constructor as new (message: string, options?: { cause?: unknown }) => VarinfError;
  return new Cls(`${where}: ${e.message}`, { cause: e });
}

/** Σ over sample sites of Σ log p (observed and latent), as a scalar. */
export function traceLogProb(tr: Trace, filter: (s: Site) => boolean = () => true): Tensor {
  let total: Tensor | null = null;
  for (const site of tr.values()) {
    if (site.type !== 'sample' || !filter(site)) continue;
    const lp = sum(siteLogProb(site));
    total = total === null ? lp : addScalar(total, lp, site.name);
  }
  if (total === null) throw new ValueError('traceLogProb: the trace has no sample sites');
  return total;
}

function addScalar(a: Tensor, b: Tensor, name: string): Tensor {
  if (a.dtype !== b.dtype) throw new DTypeError(`log density: site '${name}' is ${b.dtype} but earlier sites are ${a.dtype}`);
  return add(a, b);
}

/**
 * log p(values, data) of a model with its latent sites fixed to `values` (constrained space).
 * @example logDensity(model, [y], { mu: tensor(0.5) })
 */
export function logDensity<A extends unknown[]>(model: (...args: A) => unknown, args: A, values: Record<string, Tensor>): Tensor {
  const tr = trace(substitute(model, values)).getTrace(...args);
  return traceLogProb(tr);
}
