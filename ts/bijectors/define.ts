/**
 * `defineConstraint`: the way to add a constraint of your own together with the transform that
 * `bijectTo` (and so every autoguide, `fit` and the init strategies) uses to reach it.
 */
import { ValueError } from '../core/errors.js';
import type { Tensor } from '../core/tensor.js';
import type { Constraint } from '../distributions/constraints.js';
import { hasBijectTo, registerBijectTo } from './bijectTo.js';
import type { Transform } from './transform.js';

/** What a constraint family is: its name, event dim, membership test and transform from ℝ^d. */
export interface ConstraintSpec<P> {
  /** The family's name: `bijectTo` dispatches on it; no parentheses. */
  readonly name: string;
  /** Trailing axes one point occupies (0 elementwise, 1 vectors, 2 matrices). */
  readonly eventDim: number;
  /** int32 mask with the batch shape (x's shape less `eventDim` axes): 1 where x is inside. */
  check(x: Tensor, params: P): Tensor;
  /** The transform from unconstrained ℝ^d onto the set, given the parameters. */
  bijector(params: P): Transform;
  /** Whether the set is discrete (then `bijector` is never called). Default false. */
  readonly discrete?: boolean;
  /** Replace an existing family of this name (built-in ones included). Default false. */
  readonly replace?: boolean;
}

/** A constraint made by a {@link defineConstraint} family, carrying its parameters. */
export interface DefinedConstraint<P> extends Constraint {
  /** The parameters the factory was called with (`{}` when called without). */
  readonly params: P;
}

/**
 * Defines a constraint family and registers its transform with `bijectTo`. Returns a factory:
 * call it with the family's parameters to get a constraint object (usable as a distribution's
 * `support`, e.g. of `ImproperUniform`, or anywhere a Constraint goes). Throws a ValueError if
 * the name is taken (unless `replace`) or malformed.
 *
 * Shapes: as the spec says (`eventDim`); `check` returns the batch shape.
 * @example
 * // x > lo, reached through a softplus rather than exp
 * const softlyAbove = defineConstraint({
 *   name: 'softlyAbove',
 *   eventDim: 0,
 *   check: (x, p: { lo: number }) => greater(x, p.lo),
 *   bijector: (p) => compose(new SoftplusTransform(), new AffineTransform(p.lo, 1)),
 * });
 * const c = softlyAbove({ lo: 2 });
 * bijectTo(c).forward(tensor([0]));                    // [2 + log 2]
 * sample('s', new ImproperUniform(c, [], []));         // a flat prior on (2, ∞)
 */
export function defineConstraint<P = Record<string, never>>(spec: ConstraintSpec<P>): (params?: P) => DefinedConstraint<P> {
  const { name, eventDim } = spec;
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new ValueError(`defineConstraint: name must be an identifier (no parentheses), got '${name}'`);
  if (!Number.isInteger(eventDim) || eventDim < 0) throw new ValueError(`defineConstraint '${name}': eventDim must be a non-negative integer, got ${eventDim}`);
  if (hasBijectTo(name) && spec.replace !== true)
    throw new ValueError(`defineConstraint: a constraint named '${name}' is already registered with bijectTo; pick another name or pass replace: true`);
  const discrete = spec.discrete ?? false;
  if (!discrete)
    registerBijectTo(name, (c) => {
      const p = (c as Partial<DefinedConstraint<P>>).params as P;
      return spec.bijector(p);
    });
  return (params?: P) => {
    const p = (params ?? {}) as P;
    const shown = params === undefined ? name : `${name}(${describe(params)})`;
    return {
      name: shown,
      eventDim,
      discrete,
      params: p,
      check: (x: Tensor) => spec.check(x, p),
      toString: () => shown,
    };
  };
}

/** `a=1, b=tensor[3]` for messages: numbers shown, tensors by shape. */
function describe(params: unknown): string {
  if (typeof params !== 'object' || params === null) return String(params);
  return Object.entries(params as Record<string, unknown>)
    .map(([k, v]) => `${k}=${typeof v === 'object' && v !== null && 'shape' in v ? `tensor[${(v as Tensor).shape.join(', ')}]` : String(v)}`)
    .join(', ');
}
