import { describe, expect, it } from 'vitest';
import { ENGINE } from '../../ts/core/engine.js';
import {
  AutoNormal,
  HalfCauchy,
  Normal,
  SVI,
  TraceELBO,
  adam,
  add,
  div,
  key,
  mul,
  plate,
  pow,
  sample,
  sub,
  sum,
  tensor,
  valueAndGrad,
  where,
  type Tensor,
} from '../../ts/index.js';

/** The kernels `f` dispatches, by name. */
function kernelsOf(f: () => void): string[] {
  const names: string[] = [];
  const runKernel = ENGINE.runKernel;
  ENGINE.runKernel = function (this: typeof ENGINE, ...a: Parameters<typeof runKernel>) {
    names.push(a[0]);
    return runKernel.apply(this, a);
  } as typeof runKernel;
  try {
    f();
  } finally {
    ENGINE.runKernel = runKernel;
  }
  return names;
}

const x = tensor([0.5, 1.5, 2, 3]);
const c = tensor([2, -1, 0.25, 4]);

describe('gradient rules skip operands that take no cotangent', () => {
  it('x · 0.5 and 0.5 · x: one multiply in the backward pass, no reduction for the constant', () => {
    for (const f of [(v: Tensor) => sum(mul(v, 0.5)), (v: Tensor) => sum(mul(0.5, v))]) {
      const ks = kernelsOf(() => valueAndGrad(f)(x));
      // Forward: mul, sum. Backward: ones, the sum rule's reshape + broadcastTo, one mul for x.
      expect(ks.filter((k) => k === 'mul')).toHaveLength(2);
      expect(ks.filter((k) => k === 'sum')).toHaveLength(1);
    }
  });

  it('the gradient with a constant on either side is the closed form', () => {
    const cases: [string, (v: Tensor) => Tensor, (i: number) => number][] = [
      ['x + c', (v) => add(v, c), () => 1],
      ['c − x', (v) => sub(c, v), () => -1],
      ['x − c', (v) => sub(v, c), () => 1],
      ['c · x', (v) => mul(c, v), (i) => [2, -1, 0.25, 4][i]],
      ['c / x', (v) => div(c, v), (i) => -[2, -1, 0.25, 4][i] / [0.5, 1.5, 2, 3][i] ** 2],
      ['x / c', (v) => div(v, c), (i) => 1 / [2, -1, 0.25, 4][i]],
      ['x ^ 3', (v) => pow(v, 3), (i) => 3 * [0.5, 1.5, 2, 3][i] ** 2],
      ['2 ^ x', (v) => pow(2, v), (i) => 2 ** [0.5, 1.5, 2, 3][i] * Math.log(2)],
      ['where(x > 1, c, x)', (v) => where(tensor([0, 1, 1, 1], [4], 'int32'), c, v), (i) => (i === 0 ? 1 : 0)],
    ];
    for (const [name, f, want] of cases) {
      const [, g] = valueAndGrad((v: Tensor) => sum(f(v)))(x);
      Array.from(g.dataSync()).forEach((gi, i) => expect(gi, `${name}, element ${i}`).toBeCloseTo(want(i), 12));
    }
  });
});

describe('the eager SVI step', () => {
  const y = tensor([28, 8, -3, 7, -1, 1, 18, 12]);
  const sigma = tensor([15, 10, 16, 11, 9, 11, 10, 18]);
  function model(yy: Tensor, s: Tensor): void {
    const mu = sample('mu', new Normal(0, 5));
    const tau = sample('tau', new HalfCauchy(5));
    plate('J', 8, () => {
      const raw = sample('theta_raw', new Normal(0, 1));
      sample('obs', new Normal(add(mu, mul(tau, raw)), s), { obs: yy });
    });
  }

  it('follows the trajectory it followed before the eager fast paths (eight schools, key 7)', () => {
    // Frozen from commit 62d2106 (before the gradient-rule, kernel-spec and js-elementwise
    // changes): the same ops in the same order give the same bits. Refreeze only for a change
    // meant to alter the numerics.
    const svi = new SVI(model, new AutoNormal(model), adam(0.01), new TraceELBO());
    const r = svi.runSync(key(7), 60, [y, sigma], { compile: false, progressBar: false });
    expect([0, 1, 30, 59].map((i) => r.losses[i])).toEqual([47.131915955286914, 51.803717062916455, 44.24805211146189, 46.937734945474475]);
    expect(r.params.auto_mu_loc.item()).toBe(0.5383353923819161);
    expect(r.params.auto_tau_scale.item()).toBe(0.18218257093585494);
    expect(Array.from(r.params.auto_theta_raw_loc.dataSync())[6]).toBe(0.6971520916499797);
  });
});
