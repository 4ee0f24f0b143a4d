/**
 * ImproperUniform: a flat (improper) prior on any support, as NumPyro's — what a Stan parameter
 * declared without a `~` statement has.
 */
import { ShapeError, ValueError, fmtShape } from '../core/errors.js';
import type { DType } from '../core/dtype.js';
import { broadcastShapes, type Shape } from '../core/shape.js';
import type { Tensor } from '../core/tensor.js';
import { scalar } from '../ops/creation.js';
import { add, mul } from '../ops/elementwise.js';
import { sum } from '../ops/reduce.js';
import { broadcastTo } from '../ops/shape.js';
import type { Key } from '../random/key.js';
import { independentConstraint, type Constraint } from './constraints.js';
import { checkExpand, Distribution, type DistributionOptions } from './distribution.js';

/** Options of {@link ImproperUniform}: validation and the dtype of its (zero) densities. */
export interface ImproperUniformOptions extends DistributionOptions {
  /** dtype of values converted from numbers and of the log-density (default float64). */
  dtype?: DType;
}

/**
 * The improper flat density on a support: log p(x) = 0 for x in `support` (under validation a
 * value outside throws a ValueError naming the support; without validation its log-density is
 * −∞). It has no draws: `sample` throws. Under the autoguides and `fit` the site lives on ℝ^d
 * through `bijectTo(support)`, and the init strategies start it uniformly on (−2, 2) there.
 *
 * Shapes: values `[...sample, ...batchShape, ...eventShape]`; `eventShape` must have at least
 * `support.eventDim` axes (extra ones are read as independent event axes of the support);
 * logProb has shape `[...sample, ...batchShape]`.
 * @example
 * const sigma = sample('sigma', new ImproperUniform(positive, [], []));       // real<lower=0> sigma;
 * const beta = sample('beta', new ImproperUniform(real, [], [3]));           // vector[3] beta;
 * const theta = sample('theta', new ImproperUniform(simplex, [], [4]));      // simplex[4] theta;
 */
export class ImproperUniform extends Distribution {
  /** The support as given (the event-extended one is `support`). */
  readonly baseSupport: Constraint;
  /** Marks a distribution with no sampler, so the init strategies start it in ℝ^d instead. */
  readonly improper = true;
  private readonly like: Tensor;

  constructor(support: Constraint, batchShape: Shape = [], eventShape: Shape = [], opts: ImproperUniformOptions = {}) {
    if (eventShape.length < support.eventDim)
      throw new ShapeError(
        `ImproperUniform: eventShape ${fmtShape(eventShape)} has fewer axes than the support ${support} needs (${support.eventDim})`,
      );
    super(batchShape.slice(), eventShape.slice(), opts);
    this.baseSupport = support;
    this.like = scalar(0, opts.dtype ?? 'float64');
  }

  get support(): Constraint {
    return independentConstraint(this.baseSupport, this.eventShape.length - this.baseSupport.eventDim);
  }

  protected paramLike(): Tensor {
    return this.like;
  }

  override sample(key: Key, sampleShape: Shape = []): Tensor {
    void key;
    void sampleShape;
    throw new ValueError(
      `ImproperUniform.sample: an improper flat density on ${this.baseSupport} has no draws; give the site a value (condition, substitute, initToValue) or fit it through bijectTo(support)`,
    );
  }

  protected logProbRaw(value: Tensor): Tensor {
    const e = this.eventShape.length;
    const batch = broadcastShapes(`${this.name}.logProb`, value.shape.slice(0, value.rank - e), this.batchShape);
    // 0 · Σ value keeps the value on the tape (a zero gradient) and takes its dtype; + 0 makes −0 a +0
    const lead = e > 0 ? sum(value, Array.from({ length: e }, (_, i) => value.rank - e + i)) : value;
    return broadcastTo(add(mul(lead, 0), 0), batch);
  }

  override get mean(): Tensor {
    throw new ValueError(`ImproperUniform on ${this.baseSupport} has no mean`);
  }

  expand(batchShape: Shape): ImproperUniform {
    checkExpand(this.name, this.batchShape, batchShape);
    return new ImproperUniform(this.baseSupport, batchShape, this.eventShape, { validateArgs: this.validateArgs, dtype: this.like.dtype });
  }
}
