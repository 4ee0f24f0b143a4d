/**
 * Where vectorized particles (and posterior draws) go. They form a plate of their own, placed left
 * of every plate of the model and of every batch dimension of its sample sites: a model written
 * without plates, `y ~ Normal(alpha + beta * x, sigma)` with data x, y of shape [N], sees alpha
 * and beta as [P, 1], so they broadcast against [N] into [P, N] as the math reads.
 */
import { ShapeError } from '../core/errors.js';
import { plate } from '../ppl/primitives.js';
import type { ModelFn } from '../ppl/runtime.js';
import type { Trace } from '../ppl/handlers.js';

/**
 * How many batch dimensions the particle plate stays left of, from one trace of the model: the
 * deepest plate, and the largest batch rank (sample shape + batch shape) of any sample site,
 * observed, latent or factor.
 */
export function particleNesting(tr: Trace): number {
  let n = 0;
  for (const s of tr.values()) {
    for (const f of s.cond) n = Math.max(n, -f.dim);
    if (s.type === 'sample' && s.fn !== null) n = Math.max(n, s.sampleShape.length + s.fn.batchShape.length);
  }
  return n;
}

/**
 * `fn` run inside a plate of `P` particles at dim −(nesting + 1) (unchanged for P = 1). A shape
 * error raised inside says where the particle axis is, since the model never created it.
 */
export function withParticles<A extends unknown[]>(fn: ModelFn<A>, P: number, nesting: number, name = '_particles'): ModelFn<A> {
  if (P <= 1) return fn;
  const dim = -(nesting + 1);
  return (...a: A) => {
    try {
      return plate(name, P, () => fn(...a), { dim });
    } catch (e) {
      if (!(e instanceof ShapeError) || e.message.includes('vectorized particles')) throw e;
      throw new ShapeError(
        `${e.message} — while running the model with ${P} vectorized particles: every latent value carries a particle axis of size ${P} at dim ${dim}, ` +
          `left of the model's ${nesting} plate and batch dimension${nesting === 1 ? '' : 's'} (a scalar latent is [${P}${', 1'.repeat(nesting)}]); ` +
          'write the model so that values broadcast against leading axes (index data from the right, reduce with axis −1 rather than over everything), or use one particle',
        { cause: e },
      );
    }
  };
}

