/**
 * fit's multi-start MAP search (`modeStarts`): on a two-mode posterior whose prior-median start
 * reaches the minor mode, more starts find the major one, and the warnings name both modes.
 */
import { describe, expect, it } from 'vitest';
import { Normal, ValueError, add, factor, fit, key, logsumexp, sample, stack } from '../../ts/index.js';

// p(x) ∝ N(x; 0, 3) · (0.7 N(x; −1, 0.3) + 0.3 N(x; 3, 0.3)): the major mode at −1, a minor one at 3
const twoModes = (): void => {
  const x = sample('x', new Normal(0, 3));
  const a = add(new Normal(-1, 0.3).logProb(x), Math.log(0.7));
  const b = add(new Normal(3, 0.3).logProb(x), Math.log(0.3));
  factor('mix', logsumexp(stack([a, b]), [0]));
};

describe('fit: starts of the MAP search', () => {
  it('one start stops in the minor mode; six find the major mode and warn that there are two', async () => {
    const one = await fit(twoModes, [], { key: key(0), progressBar: false });
    expect(one.summary.x.mean[0]).toBeCloseTo(3, 1);
    const six = await fit(twoModes, [], { key: key(0), progressBar: false, modeStarts: 6 });
    expect(six.summary.x.mean[0]).toBeCloseTo(-1, 1);
    expect(six.summary.x.sd[0]).toBeCloseTo(0.3, 1);
    expect(six.warnings.join('\n')).toMatch(/the MAP search reached 2 different modes from 6 starts/);
  });

  it('names a bad modeStarts', async () => {
    await expect(fit(twoModes, [], { key: key(0), progressBar: false, modeStarts: 0 })).rejects.toThrow(ValueError);
    await expect(fit(twoModes, [], { key: key(0), progressBar: false, modeStarts: 1.5 })).rejects.toThrow(/fit: modeStarts must be a positive integer, got 1.5/);
  });
});
