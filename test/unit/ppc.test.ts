/**
 * Posterior predictive checks and the ArviZ export of a model's fit. The p-values are checked
 * against closed forms: for y_i ~ N(μ, 1), μ ~ N(0, τ²), the posterior predictive mean of y_rep is
 * N(m, v + 1/n) exactly, and the sample sd of y_rep is independent of μ with (n − 1)s² ~ χ²_{n−1};
 * so Pr(T(y_rep) ≥ T(y)) is known for T = mean and T = sd. Quantiles are checked against NumPy
 * (test/fixtures/sbc.json, from scripts/golden/sbc.py).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  HalfCauchy,
  Normal,
  ShapeError,
  ValueError,
  add,
  arvizFromModel,
  exp,
  gammaQ,
  key,
  mul,
  normal,
  plate,
  posteriorPredictiveSamples,
  ppcDensitySvg,
  ppcStatisticsSvg,
  ppcTest,
  quantile,
  sample,
  tensor,
  type Tensor,
} from '../../ts/index.js';
import { erf } from '../../ts/backends/js/special.js';

const fx = JSON.parse(readFileSync(new URL('../fixtures/sbc.json', import.meta.url), 'utf8')) as { quantiles: { x: number[]; q: number[]; values: number[] } };

describe('PPC statistics', () => {
  it('quantile is numpy.quantile (linear)', () => {
    const x = Float64Array.from(fx.quantiles.x);
    fx.quantiles.q.forEach((q, i) => expect(quantile(x, q)).toBeCloseTo(fx.quantiles.values[i], 12));
  });

  it('counts ties on both sides and names the statistics', () => {
    const r = ppcTest([[1, 2], [3, 4], [0, 3]], [1, 2], ['min', 'max', 'mean', 'sd', 'median', 'q90', { name: 'range', fn: (v) => Math.max(...v) - Math.min(...v) }]);
    expect(r.checks.map((c) => c.name)).toEqual(['min', 'max', 'mean', 'sd', 'median', 'q90', 'range']);
    const min = r.checks[0];
    expect(Array.from(min.replicated)).toEqual([1, 3, 0]);
    expect(min.pValue).toBeCloseTo(2 / 3, 15); // 1 ≥ 1, 3 ≥ 1
    expect(min.pValueBelow).toBeCloseTo(2 / 3, 15); // 1 ≤ 1, 0 ≤ 1
    expect(r.summary).toMatch(/range/);
  });

  it('bad input raises errors naming the argument', () => {
    expect(() => ppcTest([[1, 2]], [1, 2, 3])).toThrow(ShapeError);
    expect(() => ppcTest([[1, NaN]], [1, 2])).toThrow(/yRep\[0\]\[1\] is NaN/);
    expect(() => ppcTest([[1, 2]], [1, Infinity])).toThrow(/y\[1\] is Infinity/);
    expect(() => ppcTest([[1, 2]], [1, 2], ['q150'])).toThrow(ValueError);
    expect(() => ppcTest([[1, 2]], [1, 2], ['kurtosis'])).toThrow(/unknown statistic 'kurtosis'/);
  });
});

const n = 12;
const tau = 2;
const y = Float64Array.from([0.9, 2.1, 1.4, -0.3, 1.8, 3.9, 0.2, 1.1, 2.6, 1.7, 0.4, 4.4]);

function normalModel(obs: Tensor | undefined): void {
  const mu = sample('mu', new Normal(0, tau));
  plate('N', n, () => {
    sample('y', new Normal(mu, 1), { obs });
  });
}

const Phi = (z: number): number => 0.5 * (1 + erf(z / Math.SQRT2));

describe('posterior predictive p-values against closed forms', () => {
  const S = 4000;
  const v = 1 / (n + 1 / tau ** 2);
  const m = v * y.reduce((a, b) => a + b, 0);
  const muDraws = add(m, mul(Math.sqrt(v), normal(key(3), [S], { dtype: 'float64' })));
  const rep = posteriorPredictiveSamples(normalModel, key(4), [tensor(y)], { mu: muDraws });

  it('replicates the observed site with shape [S, N]', () => {
    expect(Object.keys(rep)).toEqual(['y']);
    expect(rep.y.shape).toEqual([S, n]);
  });

  it('T = mean: p = 1 − Φ((ȳ − m)/√(v + 1/n)); T = sd: p = Q((n−1)/2, (n−1)s²/2)', () => {
    const r = ppcTest(rep.y, y, ['mean', 'sd']);
    const ybar = y.reduce((a, b) => a + b, 0) / n;
    const s2 = y.reduce((a, b) => a + (b - ybar) ** 2, 0) / (n - 1);
    const exact = [1 - Phi((ybar - m) / Math.sqrt(v + 1 / n)), gammaQ((n - 1) / 2, ((n - 1) * s2) / 2)];
    // Monte Carlo sd of p̂ is ≤ √(0.25/4000) = 0.0079; allow 4 sd.
    r.checks.forEach((c, i) => expect(Math.abs(c.pValue - exact[i]), c.name).toBeLessThan(0.032));
    // The data were chosen over-dispersed (s² ≈ 1.9 against σ² = 1): the sd check flags it.
    expect(exact[1]).toBeLessThan(0.05);
    expect(r.checks[1].pValue).toBeLessThan(0.06);
  });

  it('draws the figures', () => {
    const dens = ppcDensitySvg(rep.y, y, { replications: 20 });
    expect(dens.match(/<path /g)?.length).toBeGreaterThanOrEqual(22);
    const stats = ppcStatisticsSvg(ppcTest(rep.y, y, ['mean', 'sd', 'max']));
    expect(stats).toMatch(/sd: p = 0\.\d{3}/);
    expect(stats).toMatch(/T\(y\)/);
  });
});

describe('ArviZ export of a model fit', () => {
  const J = 8;
  const yy = tensor([28, 8, -3, 7, -1, 1, 18, 12]);
  const sigma = tensor([15, 10, 16, 11, 9, 11, 10, 18]);
  function schools(obs: Tensor | undefined, s: Tensor): void {
    const mu = sample('mu', new Normal(0, 5));
    const t = sample('tau', new HalfCauchy(5));
    plate('school', J, () => {
      const raw = sample('theta_raw', new Normal(0, 1));
      sample('obs', new Normal(add(mu, mul(t, raw)), s), { obs });
    });
  }
  const S = 40;
  const draws = {
    mu: normal(key(5), [S], { dtype: 'float64' }),
    tau: add(1, exp(normal(key(6), [S], { dtype: 'float64' }))),
    theta_raw: normal(key(7), [S, J], { dtype: 'float64' }),
  };

  it('has posterior, posterior_predictive, observed_data, log_likelihood and dims from the plate', () => {
    const idata = arvizFromModel(schools, [yy, sigma], draws, { key: key(8), chains: 2 });
    expect(Object.keys(idata).sort()).toEqual(['dims', 'log_likelihood', 'observed_data', 'posterior', 'posterior_predictive']);
    expect(idata.dims).toEqual({ theta_raw: ['school'], obs: ['school'] });
    const pp = idata.posterior_predictive!.obs as number[][][];
    expect([pp.length, pp[0].length, pp[0][0].length]).toEqual([2, S / 2, J]);
    expect(idata.observed_data!.obs).toEqual([28, 8, -3, 7, -1, 1, 18, 12]);
    // log_likelihood[chain 1][draw 3][school 5] = log N(y_5 | mu + tau theta_5, sigma_5), draw index 20 + 3.
    const s = S / 2 + 3;
    const mu = draws.mu.dataSync()[s];
    const tauS = draws.tau.dataSync()[s];
    const th = draws.theta_raw.dataSync()[s * J + 5];
    const z = (1 - (mu + tauS * th)) / 11;
    const ll = idata.log_likelihood!.obs as number[][][];
    expect(ll[1][3][5]).toBeCloseTo(-0.5 * z * z - Math.log(11) - 0.5 * Math.log(2 * Math.PI), 10);
    expect((idata.posterior.theta_raw as number[][][])[1][3]).toEqual(Array.from(draws.theta_raw.dataSync().subarray(s * J, (s + 1) * J)));
  });

  it('the replicated data are spread like the likelihood (sd ≈ sigma_j)', () => {
    const many = { mu: tensor(new Float64Array(400)), tau: tensor(new Float64Array(400).fill(1e-9)), theta_raw: tensor(new Float64Array(400 * J), [400, J]) };
    const rep = posteriorPredictiveSamples(schools, key(9), [yy, sigma], many);
    const d = rep.obs.dataSync();
    const sd0 = Math.sqrt(Array.from({ length: 400 }, (_, i) => d[i * J] ** 2).reduce((a, b) => a + b, 0) / 400);
    expect(sd0).toBeGreaterThan(15 * 0.85);
    expect(sd0).toBeLessThan(15 * 1.15);
  });

  it('a model without observed data is a ValueError', () => {
    expect(() => arvizFromModel(schools, [undefined, sigma], draws, { key: key(0) })).toThrow(/no observed sites/);
  });
});
