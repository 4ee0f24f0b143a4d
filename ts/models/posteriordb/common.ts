/**
 * Shared pieces of the posteriordb models: an improper flat density on a support (Stan's
 * default prior for a parameter with no `~` statement), a density restricted to a support
 * without renormalization (Stan's `ordered[2] mu; mu ~ normal(0, 2)`), helpers that read
 * posteriordb's data.json layout, and the description of a reference posterior.
 */
import { ShapeError, ValueError } from '../../core/errors.js';
import type { Shape } from '../../core/shape.js';
import type { Tensor } from '../../core/tensor.js';
import { bijectTo } from '../../bijectors/bijectTo.js';
import type { Constraint } from '../../distributions/constraints.js';
import { Distribution, checkExpand } from '../../distributions/distribution.js';
import { stdUniform } from '../../distributions/util.js';
import { scalar, tensor } from '../../ops/creation.js';
import { add, mul } from '../../ops/elementwise.js';
import { sum } from '../../ops/reduce.js';
import { reshape, slice } from '../../ops/shape.js';
import type { Key } from '../../random/key.js';

/**
 * An unnormalized density on `support`: log p(x) = 0 (improper flat), or the log density of
 * `base` restricted to the support without renormalizing (equal up to a constant when the
 * support's mass under `base` does not depend on the parameters).
 *
 * Draws (used only to initialize) are uniform on (−2, 2) in the unconstrained space, as Stan's.
 * Shapes: batch `batchShape`, event `eventShape` (those of `base` when given).
 * @example new OnSupport(positive) // Stan's `real<lower=0> alpha0;` with no prior statement
 */
export class OnSupport extends Distribution {
  private readonly like: Tensor;
  constructor(
    private readonly supportC: Constraint,
    /** The density restricted to the support, or null for the improper flat density. */
    readonly base: Distribution | null = null,
    shapes: { batchShape?: Shape; eventShape?: Shape } = {},
  ) {
    super(base?.batchShape ?? shapes.batchShape ?? [], base?.eventShape ?? shapes.eventShape ?? [], { validateArgs: false });
    if (base !== null && base.eventShape.length !== supportC.eventDim)
      throw new ShapeError(`OnSupport: base has event rank ${base.eventShape.length} but the support ${supportC} has event dim ${supportC.eventDim}`);
    this.like = scalar(0, base?.dtype ?? 'float64');
  }
  get support(): Constraint {
    return this.supportC;
  }
  protected paramLike(): Tensor {
    return this.like;
  }
  override sample(key: Key, sampleShape: Shape = []): Tensor {
    const t = bijectTo(this.supportC);
    const unc = t.inverseShape(this.shape(sampleShape));
    return t.forward(add(mul(stdUniform(key, unc, this.dtype), 4), -2));
  }
  protected logProbRaw(x: Tensor): Tensor {
    if (this.base !== null) return this.base.logProb(x);
    const e = this.eventShape.length;
    const z = mul(x, 0);
    const lp = e === 0 ? z : sum(z, Array.from({ length: e }, (_, i) => -1 - i));
    // Broadcast against the batch shape so plates see the right batch.
    return add(lp, mul(this.like, 0));
  }
  expand(batchShape: Shape): OnSupport {
    checkExpand(this.name, this.batchShape, batchShape);
    return new OnSupport(this.supportC, this.base?.expand(batchShape) ?? null, { batchShape, eventShape: this.eventShape });
  }
}

/**
 * `x[..., i]`, dropping the last axis.
 * @example col(draws.beta, 0) // [n]: the draws of beta[1]
 */
export function col(x: Tensor, i: number): Tensor {
  const lead = x.shape.slice(0, -1);
  return reshape(slice(x, [...lead.map(() => 0), i], [...lead, 1]), lead);
}

/** A number field of posteriordb's data.json. */
export function num(json: Record<string, unknown>, name: string): number {
  const v = json[name];
  if (typeof v !== 'number') throw new ValueError(`posteriordb data: field '${name}' must be a number, got ${typeof v}`);
  return v;
}

/** A numeric array field (`array[N] real`, `vector[N]`), optionally checked for length. */
export function vec(json: Record<string, unknown>, name: string, n?: number): Float64Array {
  const v = json[name];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'number')) throw new ValueError(`posteriordb data: field '${name}' must be an array of numbers`);
  if (n !== undefined && v.length !== n) throw new ValueError(`posteriordb data: field '${name}' has length ${v.length}, expected ${n}`);
  return Float64Array.from(v as number[]);
}

/** A `matrix[N, D]` field (an array of N rows) as a row-major [N, D] tensor. */
export function matrix(json: Record<string, unknown>, name: string, n: number, d: number): Tensor {
  const v = json[name];
  if (!Array.isArray(v) || v.length !== n) throw new ValueError(`posteriordb data: field '${name}' must be an array of ${n} rows`);
  const out = new Float64Array(n * d);
  v.forEach((row: unknown, i) => {
    if (!Array.isArray(row) || row.length !== d) throw new ValueError(`posteriordb data: row ${i} of '${name}' must have ${d} numbers`);
    for (let j = 0; j < d; j++) out[i * d + j] = row[j] as number;
  });
  return tensor(out, [n, d]);
}

/** Posterior draws of the reference quantities by Stan name (`theta[1]`, `mu`), n each. */
export type Quantities = Record<string, Float64Array>;

/**
 * Splits a tensor of draws [n, ...shape] into one column per scalar coordinate, named Stan's
 * way (1-based, row-major: `beta[2]`, `L[2,1]`), or `name` for a scalar site.
 * @example columns('beta', draws.beta) // { 'beta[1]': Float64Array(n), 'beta[2]': … }
 */
export function columns(name: string, draws: Tensor, out: Quantities = {}): Quantities {
  const n = draws.shape[0];
  const shape = draws.shape.slice(1);
  const data = draws.dataSync();
  const m = data.length / n;
  for (let j = 0; j < m; j++) {
    const c = new Float64Array(n);
    for (let i = 0; i < n; i++) c[i] = data[i * m + j];
    let label = name;
    if (shape.length > 0) {
      const idx: number[] = [];
      let r = j;
      for (let a = shape.length - 1; a >= 0; a--) {
        idx.unshift((r % shape[a]) + 1);
        r = Math.floor(r / shape[a]);
      }
      label = `${name}[${idx.join(',')}]`;
    }
    out[label] = c;
  }
  return out;
}

/**
 * One reference posterior: its Stan model written with varinf, the data loader, and the map
 * from the fitted latent sites' draws (shape [n, ...site shape]) to the quantities
 * posteriordb's reference.json stores.
 */
export interface Posterior<D> {
  /** posteriordb's name, `<data>-<model>`. */
  readonly name: string;
  /** The model: a function of the data that calls `sample`, `plate`, `factor`. */
  readonly model: (data: D) => void;
  /** Builds the model's data from posteriordb's data.json. */
  readonly loadData: (json: Record<string, unknown>) => D;
  /** Reference quantities from latent draws. */
  readonly quantities: (draws: Record<string, Tensor>, data: D) => Quantities;
}
