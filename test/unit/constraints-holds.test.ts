import { describe, expect, it } from 'vitest';
import {
  boolean,
  Gamma,
  greaterThan,
  HalfCauchy,
  independentConstraint,
  integerInterval,
  interval,
  lessThan,
  Normal,
  nonnegative,
  nonnegativeInteger,
  positive,
  real,
  tensor,
  unitInterval,
  type Constraint,
} from '../../ts/index.js';

// Boundaries, non-finite values, integers and fractions.
const VALUES = [NaN, -Infinity, -3, -1, -0.5, -1e-300, 0, 1e-300, 0.5, 1, 1.5, 2, 3, 4.5, 5, 6, Infinity];

describe('the scalar test of a constraint agrees with its kernel check', () => {
  const cases: Constraint[] = [real, positive, nonnegative, unitInterval, nonnegativeInteger, boolean, greaterThan(-1), lessThan(2), interval(-1, 3), integerInterval(0, 5)];
  it.each(cases.map((c) => [c.name, c] as const))('%s', (_, c) => {
    const x = tensor(VALUES);
    const mask = Array.from(c.check(x).dataSync());
    expect(VALUES.map((v) => (c.holds?.(v) === true ? 1 : 0))).toEqual(mask);
  });
  it('independentConstraint keeps the scalar test (all elements hold iff every event does)', () => {
    expect(independentConstraint(positive, 1).holds).toBe(positive.holds);
  });
});

describe('validation with the scalar test still raises the same errors', () => {
  it('bad parameters and values outside the support', () => {
    expect(() => new Normal(0, tensor([1, -1]))).toThrow(/Normal: parameter scale must be positive, got -1/);
    expect(() => new Normal(tensor([0, NaN]), 1)).toThrow(/Normal: parameter loc must be real, got NaN/);
    expect(() => new HalfCauchy(5).logProb(tensor([1, -2]))).toThrow(/HalfCauchy.logProb: value -2 is outside the support/);
    expect(() => new Gamma(2, 2).logProb(-1)).toThrow(/outside the support/);
    expect(new HalfCauchy(5).logProb(tensor([1, 2])).shape).toEqual([2]);
  });
});
