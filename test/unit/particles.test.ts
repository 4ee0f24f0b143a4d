/**
 * Models that read like the math under vectorized particles: a model without plates,
 * `y ~ Normal(alpha + beta * x, sigma)` with data of shape [N], fits with several particles (the
 * particle axis goes left of every plate and batch dimension, so alpha and beta are [P, 1]), and a
 * model that cannot broadcast against the particle axis gets an error saying where that axis is.
 */
import { describe, expect, it } from 'vitest';
import {
  AutoMultivariateNormal,
  Normal,
  SVI,
  ShapeError,
  TraceELBO,
  adam,
  add,
  fit,
  key,
  matmul,
  mul,
  plate,
  predictive,
  sample,
  tensor,
  type Tensor,
} from '../../ts/index.js';

// Data: N = 62 points (the shapes of the report), y = 1 + 2x + N(0, 1) noise, fixed draws.
const N = 62;
const xs = Array.from({ length: N }, (_, i) => -1.5 + (3 * i) / (N - 1));
const noise = Array.from({ length: N }, (_, i) => Math.sin(7.3 * i) * 0.9);
const ys = xs.map((x, i) => 1 + 2 * x + noise[i]);
const x = tensor(xs);
const y = tensor(ys);

function model(x: Tensor, y: Tensor): void {
  const alpha = sample('alpha', new Normal(0, 10));
  const beta = sample('beta', new Normal(0, 10));
  sample('y', new Normal(add(alpha, mul(beta, x)), 1), { obs: y });
}

/** The exact posterior of (alpha, beta): Gaussian with precision I/100 + AᵀA (σ = 1), A = [1, x]. */
function exact(): { mean: number[]; sd: number[] } {
  let s1 = 0, sx = 0, sxx = 0, sy = 0, sxy = 0;
  for (let i = 0; i < N; i++) {
    s1 += 1; sx += xs[i]; sxx += xs[i] * xs[i]; sy += ys[i]; sxy += xs[i] * ys[i];
  }
  const a = s1 + 0.01, b = sx, d = sxx + 0.01;
  const det = a * d - b * b;
  const cov = [d / det, -b / det, a / det];
  return { mean: [cov[0] * sy + cov[1] * sxy, cov[1] * sy + cov[2] * sxy], sd: [Math.sqrt(cov[0]), Math.sqrt(cov[2])] };
}

describe('particles left of every batch dimension', () => {
  it('an unplated regression fits by SVI with 8 particles', async () => {
    const guide = new AutoMultivariateNormal(model);
    const svi = new SVI(model, guide, adam(0.02), new TraceELBO({ numParticles: 8 }));
    const r = await svi.run(key(0), 3000, [x, y]);
    const s = guide.summary(key(1), r.params, 4000, x, y);
    const ex = exact();
    expect(Math.abs(s.alpha.mean[0] - ex.mean[0])).toBeLessThan(0.25 * ex.sd[0]);
    expect(Math.abs(s.beta.mean[0] - ex.mean[1])).toBeLessThan(0.25 * ex.sd[1]);
  });

  it('and by fit, which uses vectorized particles in every phase', async () => {
    const r = await fit(model, [x, y], { guide: 'mvn', key: key(2) });
    const ex = exact();
    expect(Math.abs(r.summary.alpha.mean[0] - ex.mean[0])).toBeLessThan(0.1 * ex.sd[0]);
    expect(Math.abs(r.summary.beta.mean[0] - ex.mean[1])).toBeLessThan(0.1 * ex.sd[1]);
    expect(Math.abs(r.summary.beta.sd[0] / ex.sd[1] - 1)).toBeLessThan(0.1);
  });

  it('prior predictive of an unplated model draws [n, N]', () => {
    const draws = predictive(model, key(3), [x, null as unknown as Tensor], { numSamples: 5 });
    expect(draws.y.shape).toEqual([5, N]);
  });

  it('predictive draws keep the shapes NumPyro gives beside plates: a global scalar [n], a plate site [n, P], one in the inner of two plates [n, Q]', () => {
    const m = (): void => {
      const mu = sample('mu', new Normal(0, 1));
      plate('P', 3, () => {
        sample('a', new Normal(mu, 1));
        plate('Q', 2, () => sample('b', new Normal(mu, 1)), { dim: -2 });
      });
      plate('R', 4, () => sample('c', new Normal(mu, 1)), { dim: -2 });
    };
    for (const n of [1, 6]) {
      const d = predictive(m, key(4), [], { numSamples: n });
      expect(d.mu.shape).toEqual([n]);
      expect(d.a.shape).toEqual([n, 3]);
      expect(d.b.shape).toEqual([n, 2, 3]);
      expect(d.c.shape).toEqual([n, 4, 1]);
    }
  });

  it('says where the particle axis is when the model cannot broadcast against it', async () => {
    const X = tensor(xs.map((v) => [1, v]));
    // beta has batch shape [2] (no toEvent), so with particles it is [P, 2] and matmul(X, beta) cannot work.
    const bad = (X: Tensor, y: Tensor): void => {
      const beta = sample('beta', new Normal(tensor([0, 0]), 10));
      sample('y', new Normal(matmul(X, beta), 1), { obs: y });
    };
    const svi = new SVI(bad, new AutoMultivariateNormal(bad), adam(0.01), new TraceELBO({ numParticles: 4 }));
    const err = await svi.run(key(4), 10, [X, y], { compile: false }).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(ShapeError);
    expect((err as Error).message).toMatch(/while running the model with 4 vectorized particles: every latent value carries a particle axis of size 4 at dim -2/);
  });
});

describe('a model bug under fit', () => {
  it('is raised at once, not taken for a diverging phase', async () => {
    const X = tensor(xs.map((v) => [1, v]));
    const bad = (X: Tensor, y: Tensor): void => {
      const beta = sample('beta', new Normal(tensor([0, 0]), 10));
      sample('y', new Normal(matmul(X, beta), 1), { obs: y });
    };
    const err = await fit(bad, [X, y], { guide: 'normal', key: key(5), laplaceInit: false }).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(ShapeError);
    expect((err as Error).message).toMatch(/vectorized particles/);
  });
});

describe('fit with a flow guide', () => {
  it("guide: 'ffjord' starts at the Laplace fit and stays at the regression's posterior (a short eager run)", async () => {
    const r = await fit(model, [x, y], { guide: 'ffjord', key: key(7), numDraws: 1000, phases: [{ lr: 0.005, particles: 4, minSteps: 40, maxSteps: 60 }] });
    const ex = exact();
    expect(r.laplace.used).toBe(true);
    expect(Math.abs(r.summary.alpha.mean[0] - ex.mean[0])).toBeLessThan(0.2 * ex.sd[0]);
    expect(Math.abs(r.summary.beta.mean[0] - ex.mean[1])).toBeLessThan(0.2 * ex.sd[1]);
    expect(Math.abs(r.summary.beta.sd[0] / ex.sd[1] - 1)).toBeLessThan(0.2);
  }, 120_000);

  it("guide: 'iaf' starts at the Laplace fit and recovers the regression's posterior", async () => {
    const r = await fit(model, [x, y], { guide: 'iaf', key: key(6), numDraws: 2000, phases: [{ lr: 0.01, particles: 4, minSteps: 300, maxSteps: 600 }] });
    const ex = exact();
    expect(r.laplace.used).toBe(true);
    expect(Math.abs(r.summary.alpha.mean[0] - ex.mean[0])).toBeLessThan(0.15 * ex.sd[0]);
    expect(Math.abs(r.summary.beta.mean[0] - ex.mean[1])).toBeLessThan(0.15 * ex.sd[1]);
    expect(Math.abs(r.summary.beta.sd[0] / ex.sd[1] - 1)).toBeLessThan(0.15);
  });
});
