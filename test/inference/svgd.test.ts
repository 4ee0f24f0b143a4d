/**
 * Stein variational gradient descent against closed forms: a correlated 2-D Gaussian (mean and
 * covariance) and a Gamma–Poisson model, whose conjugate posterior Gamma(a + Σy, b + n) the
 * particles must reach through the model route (a positive site moved to ℝ by its bijector).
 * The kernel's direction itself is checked against Liu & Wang's reference formula in
 * test/unit/js-kernels.test.ts (golden values) and across backends in the conformance suite.
 */
import { describe, expect, it } from 'vitest';
import {
  Gamma,
  getBackend,
  key,
  log,
  matmul,
  mul,
  normal,
  plate,
  Poisson,
  sample,
  scaleBySvgdAdagrad,
  setBackend,
  sub,
  sum,
  svgd,
  svgdPhi,
  svgdSync,
  tensor,
  type Tensor,
} from '../../ts/index.js';

/** Sample mean and covariance of the rows of x [n, d]. */
function moments(x: Tensor): { mean: number[]; cov: number[][] } {
  const [n, d] = x.shape;
  const v = x.dataSync();
  const mean = Array.from({ length: d }, (_, k) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += v[i * d + k];
    return s / n;
  });
  const cov = mean.map((ma, a) =>
    mean.map((mb, b) => {
      let s = 0;
      for (let i = 0; i < n; i++) s += (v[i * d + a] - ma) * (v[i * d + b] - mb);
      return s / (n - 1);
    }),
  );
  return { mean, cov };
}

// N(μ, Λ⁻¹) with precision Λ = [[2, −1.2], [−1.2, 1.5]]: covariance [[1.5, 1.2], [1.2, 2]] / 1.56.
const MU = [1, -2];
const PREC = [
  [2, -1.2],
  [-1.2, 1.5],
];
const COV = [
  [1.5 / 1.56, 1.2 / 1.56],
  [1.2 / 1.56, 2 / 1.56],
];
const gaussLogp = (x: Tensor): Tensor => {
  const r = sub(x, tensor(MU));
  return mul(sum(mul(matmul(r, tensor(PREC)), r), 1), -0.5);
};

describe('svgd', () => {
  it('moves 200 particles to a correlated 2-D Gaussian: mean within 0.03, covariance within 8%', () => {
    const r = svgdSync(gaussLogp, { particles: normal(key(3), [200, 2]), steps: 1000, lr: 0.05 });
    const { mean, cov } = moments(r.particles);
    mean.forEach((m, k) => expect(Math.abs(m - MU[k])).toBeLessThan(0.03));
    for (let a = 0; a < 2; a++) for (let b = 0; b < 2; b++) expect(Math.abs(cov[a][b] / COV[a][b] - 1)).toBeLessThan(0.08);
    // The mean log density rises from the standard-normal start to its stationary value.
    expect(r.meanLogDensity[r.steps - 1]).toBeGreaterThan(r.meanLogDensity[0] + 1);
    expect(r.bandwidths.every((h) => h > 0)).toBe(true);
    expect(r.steps).toBe(1000);
  });

  it('a Gamma–Poisson model: the particles of the rate match the conjugate posterior (mean within 0.3%, a missing log-Jacobian would shift it 1.6%; sd within 4%) Gamma(a + Σy, b + n)', () => {
    const y = [3, 1, 4, 1, 5, 2, 6, 5, 3, 5, 0, 2, 4, 3, 3, 2, 4, 1, 2, 4];
    const [a, b] = [2, 1];
    const model = (obs: Tensor): void => {
      const rate = sample('rate', new Gamma(a, b));
      plate('data', obs.shape[0], () => sample('y', new Poisson(rate), { obs }));
    };
    // lr 0.02: at 0.05 the particles still jitter after 1,500 steps, enough to move the sd by up to 5% with
    // rounding-level changes (js against cpu kernels); at 0.02, keys 7–10 on both backends: mean within
    // 0.21%, sd within 2.3%.
    const r = svgdSync(model, { args: [tensor(y)], key: key(7), numParticles: 200, steps: 1500, lr: 0.02 });
    const shape = a + y.reduce((s, v) => s + v, 0);
    const rateParam = b + y.length;
    const s = r.summary?.rate;
    expect(r.samples?.rate.shape).toEqual([200]);
    expect(r.particles.shape).toEqual([200, 1]);
    expect(Math.abs((s?.mean[0] ?? NaN) / (shape / rateParam) - 1)).toBeLessThan(0.003);
    expect(Math.abs((s?.sd[0] ?? NaN) / (Math.sqrt(shape) / rateParam) - 1)).toBeLessThan(0.04);
  });

  it('a fixed bandwidth is used as given; the async form yields the same particles; progress is reported', async () => {
    const x0 = normal(key(4), [30, 2]);
    const seen: number[] = [];
    const sync = svgdSync(gaussLogp, { particles: x0, steps: 40, bandwidth: 0.8, onProgress: (s) => seen.push(s), progressEvery: 10 });
    expect(Array.from(sync.bandwidths)).toEqual(Array(40).fill(0.8));
    expect(seen).toEqual([10, 20, 30, 40]);
    const async = await svgd(gaussLogp, { particles: x0, steps: 40, bandwidth: 0.8 });
    expect(Array.from(async.particles.dataSync())).toEqual(Array.from(sync.particles.dataSync()));
  });

  it('compiles its step by default: on the js backend the same particles as eager, bit for bit, for both kinds of target', () => {
    const prev = getBackend();
    setBackend('js');
    try {
      const x0 = normal(key(6), [40, 2]);
      const eager = svgdSync(gaussLogp, { particles: x0, steps: 60, compile: false });
      const comp = svgdSync(gaussLogp, { particles: x0, steps: 60 });
      expect(eager.compiled.used).toBe(false);
      expect(comp.compiled).toEqual({ used: true });
      expect(Array.from(comp.particles.dataSync())).toEqual(Array.from(eager.particles.dataSync()));
      expect(Array.from(comp.bandwidths)).toEqual(Array.from(eager.bandwidths));
      expect(Array.from(comp.meanLogDensity)).toEqual(Array.from(eager.meanLogDensity));
      const model = (obs: Tensor): void => {
        const rate = sample('rate', new Gamma(2, 1));
        plate('data', obs.shape[0], () => sample('y', new Poisson(rate), { obs }));
      };
      const opts = { args: [tensor([3, 1, 4, 1, 5])] as [Tensor], key: key(2), numParticles: 30, steps: 40 };
      const me = svgdSync(model, { ...opts, compile: false });
      const mc = svgdSync(model, opts);
      expect(mc.compiled.used).toBe(true);
      expect(Array.from(mc.particles.dataSync())).toEqual(Array.from(me.particles.dataSync()));
    } finally {
      setBackend(prev);
    }
  });

  it('a log density that reads values on the host runs eagerly, saying why', () => {
    const hostRead = (x: Tensor): Tensor => (x.dataSync()[0] > 100 ? mul(gaussLogp(x), 2) : gaussLogp(x));
    const r = svgdSync(hostRead, { particles: normal(key(8), [10, 2]), steps: 5 });
    expect(r.compiled.used).toBe(false);
    expect(r.compiled.reason).toMatch(/CompileError: .*dataSync/);
    expect(r.steps).toBe(5);
  });

  it('an abort signal stops the run with the steps done', () => {
    const ctl = new AbortController();
    const r = svgdSync(gaussLogp, { particles: normal(key(5), [10, 2]), steps: 100, onProgress: (s) => s === 5 && ctl.abort(), progressEvery: 1, signal: ctl.signal });
    expect(r.aborted).toBe(true);
    expect(r.steps).toBe(5);
    expect(r.meanLogDensity.length).toBe(5);
  });

  it('the default step rule starts its average at the first squared gradient (Liu & Wang)', () => {
    const t = scaleBySvgdAdagrad({ alpha: 0.9, eps: 1e-12 });
    const p = tensor([0, 0]);
    const [u1, s1] = t.update(tensor([2, -4]), t.init(p), p);
    const near = (got: Tensor, want: number[]): void => got.dataSync().forEach((g, i) => expect(g).toBeCloseTo(want[i], 10));
    near(u1, [1, -1]);
    const [u2] = t.update(tensor([1, -4]), s1, p);
    const v = [0.9 * 4 + 0.1 * 1, 0.9 * 16 + 0.1 * 16];
    near(u2, [1 / Math.sqrt(v[0]), -4 / Math.sqrt(v[1])]);
  });
});

describe('svgd, bad input', () => {
  it('names the argument and the shapes or values', () => {
    const x = normal(key(0), [5, 2]);
    expect(() => svgdSync(gaussLogp, { particles: x, steps: -1 })).toThrow(/svgd: steps must be a non-negative integer, got -1/);
    expect(() => svgdSync(gaussLogp, { particles: x, steps: 3, bandwidth: -2 })).toThrow(/svgd: bandwidth must be 'median' or a positive number, got -2/);
    expect(() => svgdSync(gaussLogp, { particles: tensor([1, 2, 3]), steps: 3 })).toThrow(/svgd: particles must be \[n, d\] with n ≥ 1, got \[3\]/);
    expect(() => svgdSync((z) => sum(z), { particles: x, steps: 3 })).toThrow(/svgd: the log density must map particles \[5, 2\] to a tensor \[5\], got \[\]/);
    expect(() => svgdPhi(x, normal(key(1), [5, 3]))).toThrow(/svgdPhi: g must have the shape of x \[5, 2\]/);
    const model = (): void => void sample('rate', new Gamma(2, 1));
    expect(() => svgdSync(model, { args: [], key: key(0), particles: normal(key(1), [5, 2]), steps: 3 })).toThrow(
      /svgd: the model has 1 unconstrained latent coordinates, so particles must be \[n, 1\], got \[5, 2\]/,
    );
  });

  it('a step that goes non-finite raises naming the step and the particle', () => {
    // log p is finite only inside |x| < 3: a large step throws particles outside.
    const logp = (z: Tensor): Tensor => sum(log(sub(9, mul(z, z))), 1);
    const x0 = tensor([[0.1], [2.9], [-0.5]]);
    expect(() => svgdSync(logp, { particles: x0, steps: 50, lr: 5 })).toThrow(
      /svgd step [1-9]\d*: the (log density of particle \d is NaN|gradient .* at particle \d is not finite|update moves particle \d).*the particles keep their values/,
    );
  });
});
