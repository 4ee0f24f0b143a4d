import { describe, expect, it } from 'vitest';
import {
  Normal,
  Gamma,
  Poisson,
  sample,
  param,
  plate,
  SVI,
  TraceELBO,
  TraceMeanFieldELBO,
  RenyiELBO,
  IWAE,
  AutoNormal,
  AutoMultivariateNormal,
  AutoLowRankMultivariateNormal,
  AutoDelta,
  adam,
  exponentialDecay,
  key,
  tensor,
  positive,
  type ELBO,
  type Tensor,
} from '../../ts/index.js';

// y_i ~ N(μ, 1), μ ~ N(0, 1): the posterior is N(Σy/(n+1), 1/(n+1)).
const y = tensor([1.2, 0.4, 2.1, 1.7, 0.9, 1.5]);
const n = 6;
const postMean = Array.from(y.dataSync()).reduce((a, b) => a + b, 0) / (n + 1);
const postSd = Math.sqrt(1 / (n + 1));

function model(obs: Tensor): void {
  const mu = sample('mu', new Normal(0, 1));
  plate('data', n, () => sample('y', new Normal(mu, 1), { obs }));
}

function guide(_obs?: Tensor): void {
  const loc = param('loc', tensor(0));
  const s = param('scale', tensor(1), { constraint: positive });
  sample('mu', new Normal(loc, s));
}

function fitCustom(loss: ELBO, steps = 2500): { loc: number; scale: number } {
  const svi = new SVI(model, guide, adam(exponentialDecay(0.05, 0.1, steps)), loss);
  const r = svi.runSync(key(42), steps, [y]);
  return { loc: r.params.loc.item(), scale: r.params.scale.item() };
}

describe('ELBO estimators recover the exact Gaussian posterior', () => {
  const cases: [string, ELBO, number][] = [
    ['TraceELBO', new TraceELBO({ numParticles: 4 }), 0.02],
    ['TraceELBO, sticking the landing', new TraceELBO({ numParticles: 4, stickingTheLanding: true }), 0.01],
    ['TraceMeanFieldELBO (analytic KL)', new TraceMeanFieldELBO({ numParticles: 4 }), 0.02],
    // Rényi and IWAE bounds are tight for an exact family, so their optimum is the posterior too.
    ['RenyiELBO α = 0.5', new RenyiELBO({ alpha: 0.5, numParticles: 8 }), 0.03],
    ['IWAE with DReG', new IWAE({ numParticles: 8 }), 0.03],
  ];
  for (const [name, loss, tol] of cases) {
    it(name, () => {
      const { loc, scale } = fitCustom(loss);
      expect(Math.abs(loc - postMean), `loc ${loc} vs ${postMean}`).toBeLessThan(tol);
      expect(Math.abs(scale - postSd), `scale ${scale} vs ${postSd}`).toBeLessThan(tol);
    });
  }
});

describe('autoguides', () => {
  for (const G of [AutoNormal, AutoMultivariateNormal, AutoLowRankMultivariateNormal]) {
    it(`${G.name} recovers the posterior`, () => {
      const g = new G(model);
      const svi = new SVI(model, g, adam(exponentialDecay(0.05, 0.1, 2500)), new TraceELBO({ numParticles: 4, stickingTheLanding: true }));
      const r = svi.runSync(key(7), 2500, [y]);
      const s = g.summary(key(8), r.params, 20_000, y);
      expect(Math.abs(s.mu.mean[0] - postMean)).toBeLessThan(0.02);
      expect(Math.abs(s.mu.sd[0] - postSd)).toBeLessThan(0.02);
    });
  }

  it('AutoDelta finds the MAP', () => {
    const g = new AutoDelta(model);
    const svi = new SVI(model, g, adam(exponentialDecay(0.1, 0.01, 1500)), new TraceELBO());
    const r = svi.runSync(key(1), 1500, [y]);
    expect(r.params.auto_mu_loc.item()).toBeCloseTo(postMean, 4);
  });

  it('AutoNormal moves a positive latent to the real line (Gamma–Poisson)', () => {
    // λ ~ Gamma(2, 1), k_i ~ Poisson(λ): the posterior is Gamma(2 + Σk, 1 + n).
    const k = tensor([3, 5, 2, 4, 6, 3, 4, 5]);
    const m = (obs: Tensor): void => {
      const lam = sample('lam', new Gamma(2, 1));
      plate('obs', 8, () => sample('k', new Poisson(lam), { obs }));
    };
    const g = new AutoNormal(m);
    const svi = new SVI(m, g, adam(exponentialDecay(0.05, 0.1, 2500)), new TraceELBO({ numParticles: 4, stickingTheLanding: true }));
    const r = svi.runSync(key(3), 2500, [k]);
    const s = g.summary(key(4), r.params, 20_000, k);
    const a = 2 + 32;
    const b = 9;
    expect(Math.abs(s.lam.mean[0] - a / b)).toBeLessThan(0.03);
    expect(Math.abs(s.lam.sd[0] - Math.sqrt(a) / b)).toBeLessThan(0.03);
    expect(Math.min(...Array.from(g.samplePosterior(key(5), r.params, 1000, k).lam.dataSync()))).toBeGreaterThan(0);
  });
});

describe('bad input', () => {
  it('a model latent without a guide site is an error naming the site', () => {
    const m2 = (obs: Tensor): void => {
      model(obs);
      sample('extra', new Normal(0, 1));
    };
    const svi = new SVI(m2, guide, adam(0.01), new TraceELBO());
    const st = svi.init(key(0), y);
    expect(() => svi.update(st, y)).toThrow(/latent site 'extra' has no site in the guide/);
  });

  it('a NaN loss names the step and keeps the parameters', () => {
    const bad = (obs: Tensor): void => {
      const mu = sample('mu', new Normal(0, 1));
      plate('data', n, () => sample('y', new Normal(mu, 1), { obs }));
    };
    const svi = new SVI(bad, guide, adam(0.01), new TraceELBO());
    const st = svi.init(key(0), y);
    const nanY = tensor([NaN, 0, 0, 0, 0, 0]);
    expect(() => svi.update(st, nanY)).toThrow(/SVI step 0: the loss is NaN; the log density of model site 'y' is not finite/);
    expect(svi.getParams(st).loc.item()).toBe(0);
  });

  it('resuming from a saved state reproduces an uninterrupted run', () => {
    const svi = new SVI(model, guide, adam(0.02), new TraceELBO());
    const full = svi.runSync(key(11), 40, [y]);
    const half = svi.runSync(key(11), 20, [y]);
    const rest = svi.runSync(key(11), 20, [y], { state: half.state });
    expect(rest.params.loc.item()).toBe(full.params.loc.item());
    expect(rest.params.scale.item()).toBe(full.params.scale.item());
  });
});

describe('Laplace approximation and predictive draws', () => {
  it('AutoLaplaceApproximation is exact for a Gaussian posterior', async () => {
    const { AutoLaplaceApproximation } = await import('../../ts/index.js');
    const g = new AutoLaplaceApproximation(model);
    const svi = new SVI(model, g, adam(exponentialDecay(0.1, 0.01, 1500)), new TraceELBO());
    const r = svi.runSync(key(2), 1500, [y]);
    const post = g.posterior(r.params, y);
    expect(post.loc.dataSync()[0]).toBeCloseTo(postMean, 4);
    expect(post.scaleTril.dataSync()[0]).toBeCloseTo(postSd, 4);
    const s = g.summary(key(3), r.params, 20_000, y);
    expect(Math.abs(s.mu.sd[0] - postSd)).toBeLessThan(0.01);
  });

  it('prior and posterior predictive', async () => {
    const { predictive } = await import('../../ts/index.js');
    const m = (obs?: Tensor): void => {
      const mu = sample('mu', new Normal(0, 1));
      plate('data', n, () => sample('y', new Normal(mu, 1), { obs }));
    };
    const prior = predictive(m, key(4), [undefined], { numSamples: 20_000 });
    expect(prior.y.shape).toEqual([20_000, n]);
    const ys = Array.from(prior.y.dataSync());
    const v = ys.reduce((a, b) => a + b * b, 0) / ys.length;
    expect(Math.abs(v - 2)).toBeLessThan(0.05);
    // Posterior predictive through a fitted guide: Var[y*] = 1 + posterior variance.
    const svi = new SVI(m, guide, adam(exponentialDecay(0.05, 0.1, 2000)), new TraceELBO({ numParticles: 4 }));
    const r = svi.runSync(key(5), 2000, [y]);
    const pp = predictive(m, key(6), [undefined], { guide, params: r.params, numSamples: 20_000 });
    const col = Array.from(pp.y.dataSync()).filter((_, i) => i % n === 0);
    const mean = col.reduce((a, b) => a + b, 0) / col.length;
    const varY = col.reduce((a, b) => a + (b - mean) ** 2, 0) / col.length;
    expect(Math.abs(mean - postMean)).toBeLessThan(0.05);
    expect(Math.abs(varY - (1 + postSd ** 2))).toBeLessThan(0.06);
  });
});
