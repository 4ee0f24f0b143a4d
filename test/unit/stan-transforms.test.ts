/**
 * Stan's constraint types: bijectTo of each against values frozen from Stan's formulas
 * (scripts/golden/stan_transforms.py), round trips, membership of the output, log|det J| against a
 * central-difference Jacobian on the free coordinates (√det(JᵀJ) for sum-to-zero, the closed form
 * for unit_vector), batching, gradients of the log-det, defineConstraint, and ImproperUniform.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Tensor } from '../../ts/core/tensor.js';
import * as V from '../../ts/index.js';
import { expectClose, vals } from './expect-close.js';
import { logAbsDet } from './flows-helpers.js';


interface Case {
  name: string;
  args: number[];
  x: number[] | number[][];
  y: number[] | number[][];
  logJ: number;
}
const golden = JSON.parse(readFileSync(new URL('../fixtures/stan-transforms.json', import.meta.url), 'utf8')) as { cases: Case[] };

function constraintOf(c: Case): V.Constraint {
  const a = c.args;
  switch (c.name) {
    case 'lower':
      return V.bounded({ lower: a[0] });
    case 'upper':
      return V.bounded({ upper: a[0] });
    case 'lub':
      return V.bounded({ lower: a[0], upper: a[1] });
    case 'offsetMultiplier':
      return V.offsetMultiplier(a[0], a[1]);
    case 'ordered':
      return V.ordered;
    case 'positiveOrdered':
      return V.positiveOrdered;
    case 'simplex':
      return V.simplex;
    case 'unitVector':
      return V.unitVector;
    case 'sumToZero':
      return V.sumToZero;
    case 'choleskyFactorCorr':
      return V.choleskyFactorCorr;
    case 'corrMatrix':
      return V.corrMatrix;
    case 'covMatrix':
      return V.covMatrix;
    case 'choleskyFactorCov':
      return V.choleskyFactorCov(a[0], a[1]);
    case 'rowStochastic':
      return V.rowStochastic;
    case 'columnStochastic':
      return V.columnStochastic;
    case 'sumToZeroMatrix':
      return V.sumToZeroMatrix;
    default:
      throw new Error(c.name);
  }
}

/** Free output coordinates (row-major) of the matrix-valued kinds. */
function freeIndex(name: string, shape: readonly number[]): number[] | null {
  if (shape.length < 2) return name === 'simplex' ? Array.from({ length: shape[0] - 1 }, (_, i) => i) : null;
  const [m, n] = shape;
  if (name === 'sumToZeroMatrix') return null;
  if (name === 'rowStochastic' || name === 'columnStochastic') {
    const out: number[] = [];
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) if (name === 'rowStochastic' ? j < n - 1 : i < m - 1) out.push(i * n + j);
    return out;
  }
  const out: number[] = [];
  const strict = name === 'choleskyFactorCorr' || name === 'corrMatrix';
  for (let i = 0; i < m; i++) for (let j = 0; j < Math.min(strict ? i : i + 1, n); j++) out.push(i * n + j);
  return out;
}


/** Central-difference Jacobian of the free output coordinates, J[i][k] = ∂y_i/∂x_k. */
function fdJacobian(t: V.Transform, x: number[], free: number[] | null, h = 1e-6, shape: number[] = [x.length]): number[][] {
  const f = (v: number[]): number[] => {
    const y = vals(t.forward(V.tensor(v, shape)));
    return free === null ? y : free.map((i) => y[i]);
  };
  const cols = x.map((_, k) => {
    const xp = x.slice();
    const xm = x.slice();
    xp[k] += h;
    xm[k] -= h;
    const yp = f(xp);
    const ym = f(xm);
    return yp.map((v, i) => (v - ym[i]) / (2 * h));
  });
  return cols[0].map((_, i) => cols.map((c) => c[i]));
}

describe('Stan constraint transforms: golden values from scripts/golden/stan_transforms.py', () => {
  for (const c of golden.cases) {
    it(`${c.name}(${c.args.join(', ')}) at x = [${(c.x as (number | number[])[]).flat().map((v) => v.toFixed(2)).join(', ')}]`, () => {
      const con = constraintOf(c);
      const t = V.bijectTo(con);
      const x = V.tensor(c.x as number[][]);
      const y = t.forward(x);
      const want = (c.y as number[] | number[][]).flat();
      expectClose(vals(y), want, 1e-10, 'forward');
      expectClose(vals(t.logAbsDetJacobian(x)), [c.logJ], 1e-10, 'log|det J|');
      expect(vals(con.check(y)).every((v) => v === 1), 'output satisfies the constraint').toBe(true);
      expect(t.forwardShape(x.shape)).toEqual(y.shape);
      expect(t.inverseShape(y.shape)).toEqual(x.shape);
      if (c.name === 'unitVector') {
        // not a bijection: its own draws invert to the x they came from; any other y to itself
        expectClose(vals(t.inverse(y)), (c.x as number[]), 0, 'inverse of its own draw');
        const other = V.tensor(vals(y));
        expectClose(vals(t.inverse(other)), vals(y), 0, 'inverse of another unit vector');
        expectClose([c.logJ], [-0.5 * (c.x as number[]).reduce((s, v) => s + v * v, 0)], 1e-12, 'Stan term −½‖x‖²');
      } else {
        const flat = (c.x as (number | number[])[]).flat();
        expectClose(vals(t.inverse(y)), flat, 1e-8, 'inverse ∘ forward');
        // the log-det against a central-difference Jacobian on the output's free coordinates
        const j = fdJacobian(t, flat, freeIndex(c.name, y.shape), 1e-6, x.shape.slice());
        const tall = j.length !== j[0].length;
        const jtj = tall ? j[0].map((_, a) => j[0].map((__, b) => j.reduce((s, r) => s + r[a] * r[b], 0))) : j;
        const fd = tall ? 0.5 * logAbsDet(jtj.flat(), jtj.length) : logAbsDet(j.flat(), j.length);
        expect(Math.abs(fd - c.logJ), `fd log|det| ${fd} vs ${c.logJ}`).toBeLessThan(1e-5 * Math.max(1, Math.abs(c.logJ)));
      }
    });
  }
});

describe('Stan constraint transforms: batches, gradients, errors', () => {
  const cases: [string, V.Constraint, number][] = [
    ['positiveOrdered', V.positiveOrdered, 4],
    ['unitVector', V.unitVector, 3],
    ['sumToZero', V.sumToZero, 3],
    ['choleskyFactorCov(3, 2)', V.choleskyFactorCov(3, 2), 5],
    ['covMatrix', V.covMatrix, 6],
    ['corrMatrix', V.corrMatrix, 3],
  ];
  for (const [name, con, d] of cases) {
    it(`${name}: a [2, 3] batch maps row by row; the log-det has the batch shape`, () => {
      const xs = Array.from({ length: 6 * d }, (_, i) => Math.sin(1.7 * i + 0.3));
      const t = V.bijectTo(con);
      const x = V.tensor(xs, [2, 3, d]);
      const y = t.forward(x);
      const ld = t.logAbsDetJacobian(x);
      expect(ld.shape).toEqual([2, 3]);
      expect(vals(con.check(y))).toEqual([1, 1, 1, 1, 1, 1]);
      const one = t.forward(V.tensor(xs.slice(4 * d, 5 * d)));
      const per = vals(one).length;
      expectClose(vals(y).slice(4 * per, 5 * per), vals(one), 1e-12, 'row 4');
      expectClose([vals(ld)[4]], vals(t.logAbsDetJacobian(V.tensor(xs.slice(4 * d, 5 * d)))), 1e-12, 'log-det row 4');
    });

    it(`${name}: the gradient of log|det J| matches central differences`, () => {
      const xs = Array.from({ length: d }, (_, i) => 0.4 * Math.cos(2.1 * i + 0.5));
      const t = V.bijectTo(con);
      const f = (v: Tensor): Tensor => V.add(t.logAbsDetJacobian(v), V.sum(V.mul(V.reshape(t.forward(v), [-1]), 0.3)));
      const g = vals(V.grad(f)(V.tensor(xs)));
      const h = 1e-6;
      const fd = xs.map((_, k) => {
        const p = xs.slice();
        const m = xs.slice();
        p[k] += h;
        m[k] -= h;
        return (f(V.tensor(p)).item() - f(V.tensor(m)).item()) / (2 * h);
      });
      expectClose(g, fd, 1e-6, 'gradient');
    });
  }

  it('bad shapes and bounds say which transform and what was expected', () => {
    expect(() => V.bijectTo(V.covMatrix).forward(V.zeros([4]))).toThrow(/covMatrix: the last axis must have length N\(N\+1\)\/2/);
    expect(() => V.bijectTo(V.choleskyFactorCov(3, 2)).forward(V.zeros([4]))).toThrow(/choleskyFactorCov\(3, 2\): the last axis must have length 5/);
    expect(() => V.choleskyFactorCov(2, 3)).toThrow(/M ≥ N ≥ 1, got M=2, N=3/);
    expect(() => V.bounded({ lower: 2, upper: 1 })).toThrow(/lower must be below upper, got lower=2, upper=1/);
    expect(() => V.offsetMultiplier(0, -1)).toThrow(/multiplier must be positive, got -1/);
  });

  it('bounded: no bounds is real, infinite bounds are dropped, tensor bounds broadcast', () => {
    expect(V.bounded({}).name).toBe('real');
    expect(V.bounded({ lower: -Infinity, upper: 2 }).name).toBe('lessThan');
    const lo = V.tensor([0, 1, 2]);
    const t = V.bijectTo(V.bounded({ lower: lo, upper: V.add(lo, 2) }));
    const y = t.forward(V.zeros([3]));
    expectClose(vals(y), [1, 2, 3], 1e-12, 'midpoints');
    expectClose(vals(t.inverse(y)), [0, 0, 0], 1e-12, 'inverse');
    expectClose(vals(V.bijectTo(V.bounded({ lower: lo })).forward(V.zeros([3]))), [1, 2, 3], 1e-12, 'tensor lower');
  });

  it('offsetMultiplier with tensor parameters is the non-centred map', () => {
    const t = V.bijectTo(V.offsetMultiplier(V.tensor([1, -1]), V.tensor([2, 0.5])));
    expectClose(vals(t.forward(V.tensor([1, 2]))), [3, 0], 1e-12, 'forward');
    expectClose(vals(t.logAbsDetJacobian(V.tensor([1, 2]))), [Math.log(2), Math.log(0.5)], 1e-12, 'log-det');
  });
});

describe('defineConstraint', () => {
  it('registers a user constraint with its transform, usable by bijectTo and ImproperUniform', () => {
    const softlyAbove = V.defineConstraint({
      name: 'softlyAboveTest',
      eventDim: 0,
      check: (x, p: { lo: number }) => V.greater(x, p.lo),
      bijector: (p) => V.compose(new V.SoftplusTransform(), new V.AffineTransform(p.lo, 1)),
    });
    const c = softlyAbove({ lo: 2 });
    expect(String(c)).toBe('softlyAboveTest(lo=2)');
    const t = V.bijectTo(c);
    expectClose(vals(t.forward(V.tensor([0]))), [2 + Math.LN2], 1e-12, 'forward');
    expect(vals(c.check(V.tensor([1, 3])))).toEqual([0, 1]);
    const d = new V.ImproperUniform(c, [2], []);
    expectClose(vals(d.logProb(V.tensor([2.5, 7]))), [0, 0], 0, 'flat');
    expect(() => d.logProb(V.tensor([2.5, 1]))).toThrow(/outside the support softlyAboveTest\(lo=2\)/);
    expect(() => V.defineConstraint({ name: 'simplex', eventDim: 1, check: (x) => x, bijector: () => new V.IdentityTransform() })).toThrow(
      /'simplex' is already registered/,
    );
    expect(() => V.defineConstraint({ name: 'a(b)', eventDim: 0, check: (x) => x, bijector: () => new V.IdentityTransform() })).toThrow(/identifier/);
  });
});

describe('ImproperUniform', () => {
  it('is flat on its support, shaped by batch and event, and refuses to sample', () => {
    const d = new V.ImproperUniform(V.positive, [2], [3]);
    expect(d.support.eventDim).toBe(1);
    const lp = d.logProb(V.ones([4, 2, 3]));
    expect(lp.shape).toEqual([4, 2]);
    expect(vals(lp).every((v) => v === 0)).toBe(true);
    expect(() => d.logProb(V.tensor([[1, 1, 1], [1, -1, 1]]))).toThrow(/ImproperUniform.logProb: value event #1 is outside the support independent\(positive, 1\)/);
    const loose = new V.ImproperUniform(V.positive, [], [], { validateArgs: false });
    expect(vals(loose.logProb(V.tensor([1, -1])))).toEqual([0, -Infinity]);
    expect(() => d.sample(V.key(0))).toThrow(/ImproperUniform.sample: an improper flat density on positive has no draws/);
    expect(() => new V.ImproperUniform(V.simplex, [], [])).toThrow(/eventShape \[\] has fewer axes than the support simplex needs \(1\)/);
    expect(new V.ImproperUniform(V.simplex, [3], [4]).expand([2, 3]).batchShape).toEqual([2, 3]);
    // the gradient of the flat density is zero
    expect(vals(V.grad((v: Tensor) => V.sum(new V.ImproperUniform(V.real, [], [3]).logProb(v)))(V.ones([3])))).toEqual([0, 0, 0]);
  });

  it('works under AutoNormal: flat priors on a location, a scale and a simplex', () => {
    const y = V.tensor([1.2, 0.4, 2.1, 1.5, 0.9, 1.7, 1.1, 1.3]);
    const counts = V.tensor([0, 2, 1, 2, 2, 1, 0, 2]);
    const model = (obs: Tensor, k: Tensor): void => {
      const mu = V.sample('mu', new V.ImproperUniform(V.real, [], []));
      const sigma = V.sample('sigma', new V.ImproperUniform(V.positive, [], []));
      const theta = V.sample('theta', new V.ImproperUniform(V.simplex, [], [3]));
      V.plate('n', 8, () => {
        V.sample('y', new V.Normal(mu, sigma), { obs });
        V.sample('k', new V.Categorical({ probs: theta }), { obs: k });
      });
    };
    const g = new V.AutoNormal(model);
    const svi = new V.SVI(model, g, V.adam(V.exponentialDecay(0.05, 0.1, 1500)), new V.TraceELBO({ numParticles: 4 }));
    const r = svi.runSync(V.key(5), 1500, [y, counts]);
    expect(Number.isFinite(r.losses[r.losses.length - 1])).toBe(true);
    const s = g.summary(V.key(6), r.params, 4000, y, counts);
    // flat priors: mu centres on the sample mean; theta's posterior is Dirichlet(1 + counts) = Dirichlet(3, 3, 5)
    expect(Math.abs(s.mu.mean[0] - 1.275)).toBeLessThan(0.1);
    expectClose(s.theta.mean, [3 / 11, 3 / 11, 5 / 11], 0.06, 'theta');
  });
});

describe('every Stan constraint type as a latent site', () => {
  it("unit vector: the ELBO of a flat prior on the sphere reaches −log Z of the model on x (Stan's −½‖x‖² term)", () => {
    // model density on x ∈ ℝ³: exp(−½‖x‖²) · e^{−½} (the factor), so −log Z = ½ − (3/2) log 2π, reached by q = N(0, I)
    const model = (): void => {
      const v = V.sample('v', new V.ImproperUniform(V.unitVector, [], [3]));
      // summed over the event only: under numParticles the site has a leading particle axis
      V.factor('f', V.mul(V.sum(V.square(v), -1), -0.5));
    };
    const g = new V.AutoNormal(model);
    const svi = new V.SVI(model, g, V.adam(V.exponentialDecay(0.05, 0.1, 1500)), new V.TraceELBO({ numParticles: 8 }));
    const r = svi.runSync(V.key(9), 1500, []);
    const tail = Array.from(r.losses.slice(-200));
    const mean = tail.reduce((a, b) => a + b, 0) / tail.length;
    expect(Math.abs(mean - (0.5 - 1.5 * Math.log(2 * Math.PI)))).toBeLessThan(0.05);
  });

  it('AutoNormal fits flat priors on each (with a Gaussian factor) and its draws satisfy the constraints', () => {
    const sites: [string, V.Constraint, number[]][] = [
      ['pos', V.positiveOrdered, [3]],
      ['dir', V.unitVector, [3]],
      ['stz', V.sumToZero, [4]],
      ['lcorr', V.choleskyFactorCorr, [3, 3]],
      ['lcov', V.choleskyFactorCov(3, 2), [3, 2]],
      ['omega', V.corrMatrix, [3, 3]],
      ['sigma', V.covMatrix, [2, 2]],
      ['b', V.bounded({ lower: -1, upper: 2 }), []],
      ['nc', V.offsetMultiplier(1, 3), [2]],
      ['rs', V.rowStochastic, [2, 3]],
      ['cs', V.columnStochastic, [3, 2]],
      ['szm', V.sumToZeroMatrix, [3, 3]],
    ];
    const model = (): void => {
      for (const [name, c, ev] of sites) {
        const v = V.sample(name, new V.ImproperUniform(c, [], ev));
        // summed over the event axes only: under numParticles the site has a leading particle axis
        const axes = ev.map((_, i) => i - ev.length);
        V.factor(`${name}_f`, V.mul(axes.length > 0 ? V.sum(V.square(v), axes) : V.square(v), -0.5));
      }
    };
    const g = new V.AutoNormal(model);
    const svi = new V.SVI(model, g, V.adam(0.02), new V.TraceELBO({ numParticles: 2 }));
    const r = svi.runSync(V.key(2), 200, []);
    expect(Array.from(r.losses).every(Number.isFinite)).toBe(true);
    const draws = g.samplePosterior(V.key(3), r.params, 50);
    for (const [name, c] of sites) {
      const ok = vals(c.check(draws[name]));
      expect(ok.every((v) => v === 1), name).toBe(true);
    }
  });
});

describe('stanType: Stan declarations as supports and event shapes', () => {
  const decls: [V.StanTypeName, number[], V.StanTypeBounds, number[]][] = [
    ['real', [], { lower: 0 }, []],
    ['vector', [3], { lower: -1, upper: 2 }, [3]],
    ['row_vector', [2], { offset: 1, multiplier: 2 }, [2]],
    ['matrix', [2, 3], {}, [2, 3]],
    ['matrix', [2, 2], { upper: 0 }, [2, 2]],
    ['simplex', [4], {}, [4]],
    ['unit_vector', [3], {}, [3]],
    ['sum_to_zero_vector', [3], {}, [3]],
    ['ordered', [3], {}, [3]],
    ['positive_ordered', [3], {}, [3]],
    ['cholesky_factor_corr', [3], {}, [3, 3]],
    ['cholesky_factor_cov', [3], {}, [3, 3]],
    ['cholesky_factor_cov', [4, 2], {}, [4, 2]],
    ['corr_matrix', [3], {}, [3, 3]],
    ['cov_matrix', [2], {}, [2, 2]],
    ['row_stochastic_matrix', [2, 3], {}, [2, 3]],
    ['column_stochastic_matrix', [3, 2], {}, [3, 2]],
    ['sum_to_zero_matrix', [3, 4], {}, [3, 4]],
  ];
  for (const [type, sizes, b, ev] of decls) {
    it(`${type}[${sizes.join(', ')}] ${JSON.stringify(b)}: ℝ^d maps onto a batch of its values`, () => {
      const { support, eventShape } = V.stanType(type, sizes, b);
      expect(eventShape).toEqual(ev);
      const d = new V.ImproperUniform(support, [2], eventShape);
      const t = V.bijectTo(d.support);
      const unc = t.inverseShape(d.shape());
      const size = unc.reduce((p, q) => p * q, 1);
      const x = V.tensor(Array.from({ length: size }, (_, i) => Math.sin(0.9 * i + 0.2)), unc);
      const y = t.forward(x);
      expect(y.shape).toEqual(d.shape());
      expect(vals(d.logProb(y))).toEqual([0, 0]);
      expect(t.logAbsDetJacobian(x).shape).toEqual([2]);
    });
  }
  it('bounds where Stan allows them, sizes as Stan declares them', () => {
    expect(() => V.stanType('simplex', [3], { lower: 0 })).toThrow(/stanType: simplex takes no lower\/upper\/offset\/multiplier/);
    expect(() => V.stanType('vector', [3], { lower: 0, offset: 1 })).toThrow(/cannot combine lower\/upper with offset\/multiplier/);
    expect(() => V.stanType('cov_matrix', [2, 2])).toThrow(/cov_matrix takes 1 non-negative integer sizes, got \[2, 2\]/);
    expect(() => V.stanType('cholesky_factor_cov', [])).toThrow(/cholesky_factor_cov takes 1 or 2/);
  });
});
