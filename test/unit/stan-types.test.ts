/**
 * Stan's parameter types that the front end maps onto the constraint transforms of
 * ts/distributions/stan-constraints.ts: positive_ordered (checked against the exact means of the
 * order statistics of three Exponential(1) draws: 1/3, 5/6, 11/6), sum_to_zero_vector,
 * unit_vector, corr_matrix and cov_matrix.
 */
import { describe, expect, it } from 'vitest';
import { fit, fromStan, key, tensor } from '../../ts/index.js';

describe('Stan parameter types through fromStan', () => {
  it('fit draws satisfy each constraint and positive_ordered has the order statistics\' means', async () => {
    const m = fromStan(
      'parameters { positive_ordered[3] c; corr_matrix[2] R; unit_vector[3] u; sum_to_zero_vector[3] z; } model { c ~ exponential(1); z ~ normal(0, 1); R ~ lkj_corr(2); }',
      {},
    );
    const r = await fit(m.model, [], { guide: 'normal', key: key(0), numDraws: 1000 });
    const c = r.summary.c.mean;
    [1 / 3, 5 / 6, 11 / 6].forEach((want, i) => expect(Math.abs(c[i] - want)).toBeLessThan(0.15 * want + 0.05));
    const z = r.draws.z.toArray() as number[][];
    for (const row of z.slice(0, 50)) expect(Math.abs(row[0] + row[1] + row[2])).toBeLessThan(1e-9);
    const u = r.draws.u.toArray() as number[][];
    for (const row of u.slice(0, 50)) expect(Math.abs(Math.hypot(...row) - 1)).toBeLessThan(1e-9);
    const R = r.draws.R.toArray() as number[][][];
    for (const mat of R.slice(0, 50)) {
      expect(mat[0][0]).toBeCloseTo(1, 9);
      expect(mat[1][1]).toBeCloseTo(1, 9);
      expect(Math.abs(mat[0][1])).toBeLessThan(1);
    }
  });

  it('cov_matrix has K(K+1)/2 unconstrained coordinates and a finite density', () => {
    const s = fromStan('parameters { cov_matrix[2] S; } model { S[1,1] ~ gamma(2, 1); }', {});
    expect(s.unconstrainedDim).toBe(3);
    expect(Number.isFinite(s.logDensityUnconstrained(tensor([0.1, -0.2, 0.3])).item())).toBe(true);
  });
});
