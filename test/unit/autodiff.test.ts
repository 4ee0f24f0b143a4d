/** valueAndGrad / grad over pytrees, stopGradient, customGradient, errors and memory scopes. */
import { describe, expect, it } from 'vitest';
import { ENGINE } from '../../ts/core/engine.js';
import type { Tensor } from '../../ts/core/tensor.js';
import * as V from '../../ts/index.js';

const close = (a: Tensor, b: number[] | number, tol = 1e-12): void => {
  const got = Array.from(a.dataSync());
  const want = typeof b === 'number' ? [b] : b;
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i])).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(want[i])));
};

describe('valueAndGrad over pytrees', () => {
  it('returns the value and a gradient shaped like nested objects and arrays', () => {
    const params = { a: V.tensor([1, 2]), b: [V.tensor([3]), { c: V.tensor([[0.5, -1]]) }] };
    type P = typeof params;
    const f = (p: P): Tensor => {
      const [b0, bc] = p.b as [Tensor, { c: Tensor }];
      return V.add(V.add(V.sum(V.square(p.a)), V.sum(V.mul(b0, 3))), V.sum(V.exp(bc.c)));
    };
    const [value, g] = V.valueAndGrad(f)(params);
    close(value, 1 + 4 + 9 + Math.exp(0.5) + Math.exp(-1));
    close(g.a, [2, 4]);
    const [g0, gc] = g.b as [Tensor, { c: Tensor }];
    close(g0, [3]);
    expect(gc.c.shape).toEqual([1, 2]);
    close(gc.c, [Math.exp(0.5), Math.exp(-1)]);
  });

  it('grad returns only the gradient', () => {
    const g = V.grad((xs: Tensor[]) => V.sum(V.mul(xs[0], xs[1])))([V.tensor([1, 2]), V.tensor([3, 4])]);
    close(g[0], [3, 4]);
    close(g[1], [1, 2]);
  });

  it('accumulates the gradient of a parameter used several times', () => {
    const g = V.grad((x: Tensor) => V.sum(V.add(V.mul(x, x), V.mul(x, 5))))(V.tensor([2, -1]));
    close(g, [9, 3]);
  });

  it('passes non-parameter arguments through', () => {
    const g = V.grad((x: Tensor, k: number, y: Tensor) => V.sum(V.mul(V.mul(x, y), k)))(V.tensor([1, 2]), 3, V.tensor([5, 7]));
    close(g, [15, 21]);
  });

  it('gives zeros to unused inputs, with their shape and dtype', () => {
    const [, g] = V.valueAndGrad((p: { used: Tensor; unused: Tensor; idx: Tensor }) => V.sum(p.used))({
      used: V.tensor([1, 2, 3]),
      unused: V.tensor([[1, 2], [3, 4]], undefined, 'float32'),
      idx: V.tensor([1, 2], undefined, 'int32'),
    });
    close(g.used, [1, 1, 1]);
    expect(g.unused.shape).toEqual([2, 2]);
    expect(g.unused.dtype).toBe('float32');
    close(g.unused, [0, 0, 0, 0]);
    expect(g.idx.dtype).toBe('int32');
    close(g.idx, [0, 0]);
  });

  it('gives an int32 input no gradient even when it flows into the loss through a cast', () => {
    const g = V.grad((p: { x: Tensor; i: Tensor }) => V.sum(V.mul(p.x, V.cast(V.neg(p.i), 'float64'))))({
      x: V.tensor([1, 2]),
      i: V.tensor([3, 4], undefined, 'int32'),
    });
    close(g.x, [-3, -4]);
    close(g.i, [0, 0]);
  });

  it('differentiates a float32 function', () => {
    const g = V.grad((x: Tensor) => V.sum(V.square(x)))(V.tensor([1.5, -2], undefined, 'float32'));
    expect(g.dtype).toBe('float32');
    close(g, [3, -4]);
  });

  it('is the identity for f(x) = x on a scalar', () => {
    close(V.grad((x: Tensor) => x)(V.scalar(4)), 1);
  });
});

describe('stopGradient and customGradient', () => {
  it('stopGradient treats its argument as a constant', () => {
    // d/dx [x · sg(x)] = sg(x) = x, not 2x.
    const g = V.grad((x: Tensor) => V.sum(V.mul(x, V.stopGradient(x))))(V.tensor([2, 3]));
    close(g, [2, 3]);
  });

  it('stopGradient of a whole path gives zeros', () => {
    const g = V.grad((x: Tensor) => V.sum(V.exp(V.stopGradient(V.mul(x, 2)))))(V.tensor([0.1]));
    close(g, [0]);
  });

  it('customGradient uses the hand-written rule', () => {
    // The value is x², the declared gradient 10·dy: autodiff must follow the declaration.
    const weird = V.customGradient((x: Tensor) => ({ value: V.square(x), grad: (dy: Tensor) => [V.mul(dy, 10)] }));
    const [value, g] = V.valueAndGrad((x: Tensor) => V.sum(V.mul(weird(x), V.tensor([1, 2]))))(V.tensor([3, 4]));
    close(value, 9 + 32);
    close(g, [10, 20]);
  });

  it('customGradient with two inputs and a null cotangent', () => {
    const f = V.customGradient((a: Tensor, b: Tensor) => ({
      value: V.mul(a, b),
      grad: (dy: Tensor) => [V.mul(dy, b), null],
    }));
    const g = V.grad((p: Tensor[]) => V.sum(f(p[0], p[1])))([V.tensor([1, 2]), V.tensor([3, 4])]);
    close(g[0], [3, 4]);
    close(g[1], [0, 0]);
  });

  it('customGradient composes with ops before and after it', () => {
    const safeLog = V.customGradient((x: Tensor) => ({ value: V.log(x), grad: (dy: Tensor) => [V.div(dy, x)] }));
    const g = V.grad((x: Tensor) => V.sum(V.square(safeLog(V.mul(x, 2)))))(V.tensor([1, 3]));
    // d/dx log(2x)² = 2 log(2x) / x
    close(g, [2 * Math.log(2), (2 * Math.log(6)) / 3], 1e-12);
  });

  it('customGradient outside a gradient just computes the value', () => {
    const f = V.customGradient((x: Tensor) => ({ value: V.exp(x), grad: (dy: Tensor) => [dy] }));
    close(f(V.tensor([0])), [1]);
  });
});

describe('a long expression against finite differences', () => {
  /** 50 elementwise and reduction ops mixing every kind of use: reuse, broadcasting, constants. */
  const expr = (x: Tensor): Tensor => {
    let h = x;
    const c = V.tensor([0.3, -0.2, 0.1, 0.5]);
    let acc = V.scalar(0);
    for (let i = 0; i < 10; i++) {
      h = V.tanh(V.add(V.mul(h, 0.9), c)); // 3 ops
      h = V.add(h, V.mul(V.sin(x), 0.1)); // 3 ops
      if (i % 3 === 0) acc = V.add(acc, V.logsumexp(h)); // 2 ops
      else if (i % 3 === 1) acc = V.add(acc, V.sum(V.softplus(h))); // 3 ops
      else acc = V.add(acc, V.mean(V.square(h))); // 3 ops (sum, div)
    }
    return acc;
  };

  it('matches central differences to 1e-7', () => {
    const x0 = [0.4, -0.7, 1.1, 0.2];
    const [value, g] = V.valueAndGrad(expr)(V.tensor(x0));
    expect(Number.isFinite(value.item())).toBe(true);
    const ga = g.dataSync();
    for (let j = 0; j < x0.length; j++) {
      const h = 1e-6;
      const at = (d: number): number => {
        const p = x0.slice();
        p[j] += d;
        return expr(V.tensor(p)).item();
      };
      const fd = (at(h) - at(-h)) / (2 * h);
      expect(Math.abs(ga[j] - fd)).toBeLessThan(1e-7 * Math.max(1, Math.abs(fd)));
    }
  });

  it('records at least 50 ops', () => {
    let ops = 0;
    V.grad((x: Tensor) => {
      const y = expr(x);
      ops = ENGINE.tape?.entries.length ?? 0;
      return y;
    })(V.tensor([0.1, 0.2, 0.3, 0.4]));
    expect(ops).toBeGreaterThanOrEqual(50);
  });
});

describe('errors', () => {
  it('rejects a non-scalar output, naming the shape', () => {
    expect(() => V.grad((x: Tensor) => V.mul(x, 2))(V.tensor([1, 2]))).toThrow(V.ShapeError);
    expect(() => V.grad((x: Tensor) => V.mul(x, 2))(V.tensor([1, 2]))).toThrow(/scalar.*\[2\]/);
  });

  it('rejects an int32 output', () => {
    expect(() => V.grad((x: Tensor) => V.sum(x))(V.tensor([1, 2], undefined, 'int32'))).toThrow(V.DTypeError);
  });

  it('rejects a function that does not return a tensor', () => {
    const bad = ((): unknown => 3) as unknown as (x: Tensor) => Tensor;
    expect(() => V.grad(bad)(V.tensor([1]))).toThrow(V.ShapeError);
  });

  it('leaves no tape behind after the function throws', () => {
    expect(() =>
      V.grad((x: Tensor) => {
        V.exp(x);
        throw new Error('boom');
      })(V.tensor([1])),
    ).toThrow('boom');
    // A later gradient works, so the failed one did not leave recording on.
    close(V.grad((x: Tensor) => V.sum(V.exp(x)))(V.tensor([0])), [1]);
  });
});

describe('memory scopes with gradients', () => {
  it('tidy disposes the intermediates and keeps the value and gradient', () => {
    const inside: Tensor[] = [];
    const x = V.tensor([0.5, 1.5]);
    const [value, g] = V.tidy(() =>
      V.valueAndGrad((p: Tensor) => {
        const e = V.exp(p);
        const s = V.mul(e, 2);
        inside.push(e, s);
        return V.sum(s);
      })(x),
    );
    for (const t of inside) expect(t.isDisposed).toBe(true);
    expect(x.isDisposed).toBe(false);
    close(value, 2 * (Math.exp(0.5) + Math.exp(1.5)));
    close(g, [2 * Math.exp(0.5), 2 * Math.exp(1.5)]);
  });

  it('keep survives the scope', () => {
    let kept: Tensor | null = null;
    V.tidy(() => {
      V.grad((p: Tensor) => {
        kept = V.keep(V.square(p));
        return V.sum(kept);
      })(V.tensor([3]));
    });
    expect(kept).not.toBeNull();
    close(kept as unknown as Tensor, [9]);
  });

  it('repeated gradient steps inside tidy do not accumulate tensors in the outer scope', () => {
    let x = V.tensor([1, 2]);
    for (let i = 0; i < 5; i++) {
      const next = V.tidy(() => {
        const g = V.grad((p: Tensor) => V.sum(V.square(p)))(x);
        return V.sub(x, V.mul(g, 0.25));
      });
      x = next;
    }
    // x ← x − 0.5x each step.
    close(x, [1 / 32, 2 / 32]);
  });
});
