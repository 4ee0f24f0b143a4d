/**
 * Bijectors: round trips, codomain membership, log|det J| against the autodiff Jacobian (float64,
 * on the free coordinates of shape-changing maps), batching, event-dim bookkeeping, bijectTo for
 * every constraint, and gradients through forward and the log-det against central differences.
 */
import { describe, expect, it } from 'vitest';
import type { Tensor } from '../../ts/core/tensor.js';
import * as V from '../../ts/index.js';
import * as B from '../../ts/bijectors/index.js';
import * as C from '../../ts/distributions/constraints.js';
import { tensorInterval } from '../../ts/distributions/continuous.js';
import { expectClose, vals } from './expect-close.js';
import { logAbsDet } from './flows-helpers.js';



/** The Jacobian of f: ℝ^d → ℝ^d at x0, one row per output through valueAndGrad. */
function jacobian(f: (v: Tensor) => Tensor, x0: number[]): number[][] {
  const rows: number[][] = [];
  const d = vals(f(V.tensor(x0))).length;
  for (let i = 0; i < d; i++) {
    const g = V.grad((v: Tensor) => V.sum(V.slice(V.reshape(f(v), [-1]), [i], [1])))(V.tensor(x0));
    rows.push(vals(g));
  }
  return rows;
}

/** Flat indices of the lower triangle (with or without the diagonal) of an n×n matrix. */
function lowerFlat(n: number, withDiag: boolean): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) for (let j = 0; j < (withDiag ? i + 1 : i); j++) out.push(i * n + j);
  return out;
}

/** The entries of the last two axes of y at the given flat positions. */
function pickFlat(y: Tensor, flat: number[]): Tensor {
  const n = y.shape[y.rank - 1];
  return V.gather(V.reshape(y, [...y.shape.slice(0, -2), n * n]), V.tensor(flat, undefined, 'int32'), y.rank - 2);
}

/** A lower-triangular matrix filled row by row from its n(n+1)/2 lower entries (test-side). */
function lowerFromVec(v: Tensor, n: number): Tensor {
  const idx: number[] = [];
  const m = (n * (n + 1)) / 2;
  let k = 0;
  const pos: number[][] = [];
  for (let i = 0; i < n; i++) {
    pos.push([]);
    for (let j = 0; j <= i; j++) pos[i][j] = k++;
  }
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) idx.push(j <= i ? pos[i][j] : m);
  const padded = V.pad(v, [0], [1]);
  return V.reshape(V.gather(padded, V.tensor(idx, undefined, 'int32'), 0), [n, n]);
}

interface Case {
  name: string;
  t: B.Transform;
  /** One unconstrained event, flattened. */
  x: number[];
  /** The event shape of x. */
  inEvent: number[];
  /** The output's free coordinates (flattened), on which the log-det is defined. */
  free?: (y: Tensor) => Tensor;
  /** Maps free domain coordinates to the transform's input (for matrix domains). */
  lift?: (v: Tensor) => Tensor;
  /** A different point per batch member: x + shift·b. */
  shift?: number;
}

const tlo = V.tensor([-1, 0, 2]);
const thi = V.tensor([1, 5, 2.5]);

const CASES: Case[] = [
  { name: 'identity', t: new B.IdentityTransform(), x: [0.3, -1.2, 2], inEvent: [3] },
  { name: 'exp', t: new B.ExpTransform(), x: [0.3, -1.2, 2], inEvent: [3] },
  { name: 'softplus', t: new B.SoftplusTransform(), x: [0.3, -1.2, 2, -8], inEvent: [4] },
  { name: 'sigmoid', t: new B.SigmoidTransform(), x: [0.3, -1.2, 2, 6], inEvent: [4] },
  { name: 'tanh', t: new B.TanhTransform(), x: [0.3, -1.2, 2], inEvent: [3] },
  { name: 'affine (numbers)', t: new B.AffineTransform(1.5, -2), x: [0.3, -1.2], inEvent: [2] },
  { name: 'affine (tensors)', t: new B.AffineTransform(V.tensor([1, 2, 3]), V.tensor([0.5, -3, 2])), x: [0.3, -1.2, 0.7], inEvent: [3] },
  { name: 'power', t: new B.PowerTransform(2.5), x: [0.3, 1.2, 2], inEvent: [3], shift: 0.1 },
  { name: 'power (tensor exponent)', t: new B.PowerTransform(V.tensor([0.5, -1.5, 3])), x: [0.3, 1.2, 2], inEvent: [3], shift: 0.1 },
  { name: 'interval (numbers)', t: new B.IntervalTransform(-2, 3), x: [0.3, -1.2, 2], inEvent: [3] },
  { name: 'interval (tensors)', t: new B.IntervalTransform(tlo, thi), x: [0.3, -1.2, 2], inEvent: [3] },
  { name: 'greaterThan', t: new B.GreaterThanTransform(1.5), x: [0.3, -1.2, 2], inEvent: [3] },
  { name: 'greaterThan (tensor)', t: new B.GreaterThanTransform(tlo), x: [0.3, -1.2, 2], inEvent: [3] },
  { name: 'lessThan', t: new B.LessThanTransform(-1), x: [0.3, -1.2, 2], inEvent: [3] },
  { name: 'lessThan (tensor)', t: new B.LessThanTransform(thi), x: [0.3, -1.2, 2], inEvent: [3] },
  {
    name: 'stickBreaking',
    t: new B.StickBreakingTransform(),
    x: [0.3, -1.2, 2, 0.5],
    inEvent: [4],
    free: (y) => V.slice(y, [0], [4]),
  },
  { name: 'ordered', t: new B.OrderedTransform(), x: [0.3, -1.2, 2, 0.1], inEvent: [4] },
  {
    name: 'lowerCholesky (exp)',
    t: new B.LowerCholeskyTransform(),
    x: [0.3, -1.2, 2, 0.5, -0.4, 0.2],
    inEvent: [6],
    free: (y) => pickFlat(y, lowerFlat(3, true)),
  },
  {
    name: 'lowerCholesky (softplus)',
    t: new B.LowerCholeskyTransform({ diagonal: 'softplus' }),
    x: [0.3, -1.2, 2, 0.5, -0.4, 0.2],
    inEvent: [6],
    free: (y) => pickFlat(y, lowerFlat(3, true)),
  },
  {
    name: 'corrCholesky (3×3)',
    t: new B.CorrCholeskyTransform(),
    x: [0.3, -1.2, 0.8],
    inEvent: [3],
    free: (y) => pickFlat(y, lowerFlat(3, false)),
  },
  {
    name: 'corrCholesky (4×4)',
    t: new B.CorrCholeskyTransform(),
    x: [0.3, -1.2, 0.8, 0.1, -0.6, 1.5],
    inEvent: [6],
    free: (y) => pickFlat(y, lowerFlat(4, false)),
  },
  {
    name: 'choleskyOuter',
    t: new B.CholeskyOuterTransform(),
    x: [1.3, 0.4, 0.8, -0.5, 0.2, 1.7],
    inEvent: [3, 3],
    lift: (v) => lowerFromVec(v, 3),
    free: (y) => pickFlat(y, lowerFlat(3, true)),
    shift: 0.05,
  },
  {
    name: 'compose(exp, stickBreaking)',
    t: B.compose(new B.ExpTransform(), new B.StickBreakingTransform()),
    x: [0.3, -1.2, 0.5],
    inEvent: [3],
    free: (y) => V.slice(y, [0], [3]),
  },
  { name: 'compose(affine, ordered)', t: B.compose(new B.AffineTransform(0.5, 2), new B.OrderedTransform()), x: [0.3, -1.2, 0.5], inEvent: [3] },
  {
    name: 'compose(lowerCholesky, choleskyOuter)',
    t: B.compose(new B.LowerCholeskyTransform(), new B.CholeskyOuterTransform()),
    x: [0.3, -1.2, 0.5, 0.1, -0.2, 0.4],
    inEvent: [6],
    free: (y) => pickFlat(y, lowerFlat(3, true)),
  },
  { name: 'inverse(sigmoid) on (0, 1)', t: B.inverse(new B.SigmoidTransform()), x: [0.3, 0.9, 0.05], inEvent: [3], shift: 0.01 },
  { name: 'inverse(exp)', t: B.inverse(new B.ExpTransform()), x: [0.3, 0.9, 2.5], inEvent: [3], shift: 0.1 },
  { name: 'independent(exp, 1)', t: B.independent(new B.ExpTransform(), 1), x: [0.3, -1.2, 2], inEvent: [3] },
];

/** The input tensor for one event (through `lift` for matrix domains). */
const input = (c: Case, x: number[]): Tensor => (c.lift ? c.lift(V.tensor(x)) : V.reshape(V.tensor(x), c.inEvent));
const freeOf = (c: Case, y: Tensor): Tensor => (c.free ? c.free(y) : V.reshape(y, [-1]));

describe.each(CASES)('$name', (c) => {
  it('inverse(forward(x)) ≈ x and forward lands in the codomain', () => {
    const x = input(c, c.x);
    const y = c.t.forward(x);
    expect(y.shape).toEqual(c.t.forwardShape(x.shape));
    expect(c.t.inverseShape(y.shape)).toEqual(x.shape);
    expectClose(vals(c.t.inverse(y)), vals(x), 1e-10, 'round trip');
    expect(vals(c.t.codomain.check(y)).every((m) => m === 1)).toBe(true);
    expect(c.t.codomain.eventDim).toBe(c.t.codomainEventDim);
    expect(c.t.domain.eventDim).toBe(c.t.domainEventDim);
  });

  it('logAbsDetJacobian matches log|det| of the autodiff Jacobian', () => {
    const ld = c.t.logAbsDetJacobian(input(c, c.x));
    // the log-det of an elementwise map has the event's shape; sum it for the whole event
    const total = V.sum(ld).item();
    const j = jacobian((v) => freeOf(c, c.t.forward(c.lift ? c.lift(v) : V.reshape(v, c.inEvent))), c.x);
    expect(j.length).toBe(c.x.length);
    expectClose([total], [logAbsDet(j.flat(), j.length)], 1e-8, 'log|det J|');
  });

  it('works on a batch of events', () => {
    const nb = 3;
    const shift = c.shift ?? 0.4;
    const xs = Array.from({ length: nb }, (_, b) => c.x.map((v, i) => v + shift * b * (i % 2 === 0 ? 1 : -1)));
    const singles = xs.map((x) => input(c, x));
    const xb = V.stack(singles, 0);
    const yb = c.t.forward(xb);
    expect(yb.shape).toEqual([nb, ...c.t.forwardShape(singles[0].shape)]);
    const ldb = c.t.logAbsDetJacobian(xb, yb);
    const ld0 = c.t.logAbsDetJacobian(singles[0]);
    expect(ldb.shape).toEqual([nb, ...ld0.shape]);
    for (let b = 0; b < nb; b++) {
      const yi = c.t.forward(singles[b]);
      const start = [b, ...yi.shape.map(() => 0)];
      expectClose(vals(V.slice(yb, start, [1, ...yi.shape])), vals(yi), 1e-12, `forward of batch ${b}`);
      const li = c.t.logAbsDetJacobian(singles[b]);
      expectClose(vals(V.slice(ldb, [b, ...li.shape.map(() => 0)], [1, ...li.shape])), vals(li), 1e-12, `log-det of batch ${b}`);
    }
    expectClose(vals(c.t.inverse(yb)), vals(xb), 1e-10, 'batched round trip');
    expect(vals(c.t.codomain.check(yb)).every((m) => m === 1)).toBe(true);
  });
});

describe('bijectTo', () => {
  const targets: { c: C.Constraint; x: number[]; shape: number[]; dim: number }[] = [
    { c: C.real, x: [0.3, -1.2], shape: [2], dim: 0 },
    { c: C.realVector, x: [0.3, -1.2, 2], shape: [3], dim: 1 },
    { c: C.positive, x: [0.3, -1.2], shape: [2], dim: 0 },
    { c: C.nonnegative, x: [0.3, -1.2], shape: [2], dim: 0 },
    { c: C.unitInterval, x: [0.3, -1.2], shape: [2], dim: 0 },
    { c: C.interval(-2, 3), x: [0.3, -1.2], shape: [2], dim: 0 },
    { c: C.interval(0, 1), x: [0.3, -1.2], shape: [2], dim: 0 },
    { c: tensorInterval(tlo, thi), x: [0.3, -1.2, 2], shape: [3], dim: 0 },
    { c: C.greaterThan(1.5), x: [0.3, -1.2], shape: [2], dim: 0 },
    { c: C.greaterThan(0), x: [0.3, -1.2], shape: [2], dim: 0 },
    { c: C.lessThan(-1), x: [0.3, -1.2], shape: [2], dim: 0 },
    { c: C.simplex, x: [0.3, -1.2, 2], shape: [3], dim: 1 },
    { c: C.ordered, x: [0.3, -1.2, 2], shape: [3], dim: 1 },
    { c: C.lowerCholesky, x: [0.3, -1.2, 2, 0.5, -0.4, 0.2], shape: [6], dim: 1 },
    { c: C.corrCholesky, x: [0.3, -1.2, 0.8], shape: [3], dim: 1 },
    { c: C.positiveDefinite, x: [0.3, -1.2, 2, 0.5, -0.4, 0.2], shape: [6], dim: 1 },
    { c: B.independentConstraint(C.positive, 1), x: [0.3, -1.2], shape: [2], dim: 1 },
  ];

  it.each(targets)('maps onto $c.name: support, round trip, log-det against autodiff', ({ c, x, shape, dim }) => {
    const t = B.bijectTo(c);
    expect(t.domainEventDim).toBe(dim);
    expect(t.codomainEventDim).toBe(c.eventDim);
    const xt = V.tensor(x, shape);
    const y = t.forward(xt);
    expect(vals(c.check(y)).every((m) => m === 1)).toBe(true);
    expectClose(vals(t.inverse(y)), x, 1e-10, 'round trip');
    // free output coordinates: drop the last simplex entry, keep lower (or strictly lower) triangles
    const free = (yy: Tensor): Tensor => {
      if (c.name === 'simplex') return V.slice(yy, [0], [yy.shape[0] - 1]);
      if (c.eventDim === 2) return pickFlat(yy, lowerFlat(yy.shape[0], c.name !== 'corrCholesky'));
      return V.reshape(yy, [-1]);
    };
    const ld = V.sum(t.logAbsDetJacobian(xt)).item();
    const j = jacobian((v) => free(t.forward(V.reshape(v, shape))), x);
    expectClose([ld], [logAbsDet(j.flat(), j.length)], 1e-8, 'log|det J|');
    // batched: the log-det keeps the batch axis
    const xb = V.stack([xt, V.add(xt, 0.1)], 0);
    expect(t.logAbsDetJacobian(xb).shape).toEqual(dim === 0 ? [2, ...shape] : [2]);
    expect(vals(c.check(t.forward(xb))).every((m) => m === 1)).toBe(true);
  });

  it('documents its choices: exp for positive, sigmoid for the unit interval, lower-Cholesky then L Lᵀ for PD', () => {
    expect(B.bijectTo(C.positive)).toBeInstanceOf(B.ExpTransform);
    expect(B.bijectTo(C.nonnegative)).toBeInstanceOf(B.ExpTransform);
    expect(B.bijectTo(C.unitInterval)).toBeInstanceOf(B.SigmoidTransform);
    expect(B.bijectTo(C.interval(-1, 2))).toBeInstanceOf(B.IntervalTransform);
    expect(B.bijectTo(C.greaterThan(3))).toBeInstanceOf(B.GreaterThanTransform);
    expect(B.bijectTo(C.lowerCholesky)).toBeInstanceOf(B.LowerCholeskyTransform);
    const pd = B.bijectTo(C.positiveDefinite) as B.ComposeTransform;
    expect(pd.parts.map((p) => p.name)).toEqual(['lowerCholesky', 'choleskyOuter']);
  });

  it('throws a clear error naming a constraint without a map', () => {
    expect(() => B.bijectTo(C.integerInterval(0, 3))).toThrow(/integerInterval\(0, 3\).*discrete/);
    expect(() => B.bijectTo(C.boolean)).toThrow(/bijectTo: no transform onto the constraint boolean/);
    const odd: C.Constraint = { name: 'sphere', eventDim: 1, discrete: false, check: (x) => V.equal(x, x), toString: () => 'sphere' };
    expect(() => B.bijectTo(odd)).toThrow(/sphere/);
  });

  it('registerBijectTo swaps the map for a constraint name', () => {
    B.registerBijectTo('positive', () => new B.SoftplusTransform());
    try {
      expect(B.bijectTo(C.positive)).toBeInstanceOf(B.SoftplusTransform);
    } finally {
      B.registerBijectTo('positive', () => new B.ExpTransform());
    }
    expect(B.bijectTo(C.positive)).toBeInstanceOf(B.ExpTransform);
  });
});

describe('shapes and event dims', () => {
  it('stick-breaking, lower-Cholesky and corr-Cholesky change shape', () => {
    const sb = new B.StickBreakingTransform();
    expect(sb.forwardShape([5, 3])).toEqual([5, 4]);
    expect(sb.inverseShape([5, 4])).toEqual([5, 3]);
    const lc = new B.LowerCholeskyTransform();
    expect(lc.forwardShape([2, 10])).toEqual([2, 4, 4]);
    expect(lc.inverseShape([2, 4, 4])).toEqual([2, 10]);
    const cc = new B.CorrCholeskyTransform();
    expect(cc.forwardShape([6])).toEqual([4, 4]);
    expect(cc.inverseShape([4, 4])).toEqual([6]);
    expect(B.inverse(cc).forwardShape([4, 4])).toEqual([6]);
    expect(() => lc.forward(V.zeros([4]))).toThrow(/lowerCholesky: the last axis must have length n\(n\+1\)\/2.*\[4\]/);
    expect(() => cc.forward(V.zeros([2]))).toThrow(/corrCholesky/);
  });

  it('stick-breaking sends 0 to the uniform point', () => {
    expectClose(vals(new B.StickBreakingTransform().forward(V.zeros([3]))), [0.25, 0.25, 0.25, 0.25], 1e-15, 'uniform');
  });

  it('compose sums the log-dets of lower event-dim parts over the extra axes', () => {
    const t = B.compose(new B.ExpTransform(), new B.StickBreakingTransform());
    expect(t.domainEventDim).toBe(1);
    expect(t.codomainEventDim).toBe(1);
    expect(t.domain.name).toBe('realVector');
    expect(t.codomain.name).toBe('simplex');
    const x = V.tensor([[0.1, 0.2], [0.3, -0.4]]);
    const want = V.add(V.sum(x, -1), new B.StickBreakingTransform().logAbsDetJacobian(V.exp(x)));
    expectClose(vals(t.logAbsDetJacobian(x)), vals(want), 1e-14, 'compose');
    const e = B.compose(new B.AffineTransform(1, 2), new B.ExpTransform());
    expect(e.domainEventDim).toBe(0);
    expect(e.logAbsDetJacobian(x).shape).toEqual([2, 2]);
    // a scalar part after a vector part: the output event stays a vector
    const v = B.compose(new B.OrderedTransform(), new B.ExpTransform());
    expect([v.domainEventDim, v.codomainEventDim]).toEqual([1, 1]);
    expect(v.logAbsDetJacobian(x).shape).toEqual([2]);
    expect(B.compose(B.compose(new B.ExpTransform(), new B.IdentityTransform()), new B.ExpTransform())).toBeInstanceOf(B.ComposeTransform);
    expect((B.compose(B.compose(new B.ExpTransform(), new B.IdentityTransform()), new B.ExpTransform()) as B.ComposeTransform).parts.length).toBe(3);
  });

  it('independent sums the log-det over reinterpreted axes and inverse negates it', () => {
    const x = V.tensor([[0.1, 0.2, 0.3], [0.3, -0.4, 1]]);
    const t = B.independent(new B.ExpTransform(), 2);
    expect(t.domainEventDim).toBe(2);
    expect(t.logAbsDetJacobian(x).shape).toEqual([]);
    expectClose([t.logAbsDetJacobian(x).item()], [1.5], 1e-14, 'independent');
    expect(vals(t.codomain.check(V.exp(x)))).toEqual([1]);
    expect(vals(t.codomain.check(V.tensor([[1, 2, 3], [1, -1, 2]])))).toEqual([0]);
    const s = new B.SigmoidTransform();
    const y = s.forward(x);
    expectClose(vals(B.inverse(s).logAbsDetJacobian(y)), vals(V.neg(s.logAbsDetJacobian(x))), 1e-10, 'inverse');
    expect(B.inverse(B.inverse(s))).toBe(s);
    expect(B.independent(s, 0)).toBe(s);
  });

  it('keeps saturated sigmoid and tanh outputs inside the open interval', () => {
    for (const dt of ['float64', 'float32'] as const) {
      const x = V.tensor([-800, -40, 40, 800], undefined, dt);
      const s = new B.SigmoidTransform();
      const inv = vals(s.inverse(s.forward(x)));
      expect(inv.every((v) => Number.isFinite(v))).toBe(true);
      const th = new B.TanhTransform();
      expect(vals(th.inverse(th.forward(x))).every((v) => Number.isFinite(v))).toBe(true);
      expect(vals(s.logAbsDetJacobian(x)).every((v) => Number.isFinite(v))).toBe(true);
    }
  });

  it('interval with tensor ends broadcasts a batch of values against the ends', () => {
    const t = new B.IntervalTransform(tlo, thi);
    const x = V.tensor([[0.1, 0.2, -3], [5, -0.4, 1]]);
    const y = t.forward(x);
    expect(y.shape).toEqual([2, 3]);
    expect(vals(tensorInterval(tlo, thi).check(y)).every((m) => m === 1)).toBe(true);
    expect(t.logAbsDetJacobian(x).shape).toEqual([2, 3]);
  });
});

describe('gradients through forward and the log-det (central differences)', () => {
  const cases: { name: string; t: B.Transform; x: number[]; shape: number[] }[] = [
    { name: 'stickBreaking', t: new B.StickBreakingTransform(), x: [0.3, -1.2, 0.7], shape: [3] },
    { name: 'corrCholesky', t: new B.CorrCholeskyTransform(), x: [0.3, -1.2, 0.8], shape: [3] },
    { name: 'interval (tensor ends)', t: new B.IntervalTransform(tlo, thi), x: [0.3, -1.2, 2], shape: [3] },
    { name: 'positiveDefinite', t: B.bijectTo(C.positiveDefinite), x: [0.3, -1.2, 0.5, 0.1, -0.2, 0.4], shape: [6] },
  ];
  it.each(cases)('$name', ({ t, x, shape }) => {
    const y0 = t.forward(V.tensor(x, shape));
    const w = V.tensor(vals(y0).map((_, i) => Math.cos(1 + i)), y0.shape);
    const f = (v: Tensor): Tensor => V.add(V.sum(V.mul(t.forward(v), w)), V.sum(t.logAbsDetJacobian(v)));
    const g = vals(V.grad(f)(V.tensor(x, shape)));
    const h = 1e-6;
    const fd = x.map((_, i) => {
      const up = x.slice();
      const dn = x.slice();
      up[i] += h;
      dn[i] -= h;
      return (f(V.tensor(up, shape)).item() - f(V.tensor(dn, shape)).item()) / (2 * h);
    });
    expectClose(g, fd, 1e-7, 'gradient');
  });
});
