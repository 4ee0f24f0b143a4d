/**
 * The Stan front end's dense linear algebra and sorting (ts/stan/matrix-functions.ts) against NumPy
 * (frozen by scripts/golden/stan_linalg.py), and the gradients of the inverse and of the symmetric
 * eigendecomposition against finite differences.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import '../../ts/backends/registry.js';
import { valueAndGrad } from '../../ts/core/autodiff.js';
import type { Tensor } from '../../ts/core/tensor.js';
import { scalar, tensor } from '../../ts/ops/creation.js';
import { StanRuntimeError } from '../../ts/stan/errors.js';
import { fromStan } from '../../ts/stan/model.js';

const G = JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', 'stan', 'linalg.json'), 'utf8')) as Record<string, number[] | number[][] | number>;
const flat = (x: number | number[] | number[][]): number[] => (typeof x === 'number' ? [x] : (x as (number | number[])[]).flat() as number[]);

const PROGRAM = `
data { matrix[4, 4] G; matrix[4, 4] A; vector[4] b; matrix[2, 4] B; vector[6] v; }
parameters { real x; }
model { x ~ std_normal(); }
generated quantities {
  matrix[4, 4] inverse_G = inverse(G);
  matrix[4, 4] inverse_spd_A = inverse_spd(A);
  vector[4] mdivide_left_G_b = mdivide_left(G, b);
  matrix[2, 4] mdivide_right_B_G = mdivide_right(B, G);
  vector[4] mdivide_left_spd_A_b = mdivide_left_spd(A, b);
  matrix[2, 4] mdivide_right_spd_B_A = mdivide_right_spd(B, A);
  vector[4] eigenvalues_sym_A = eigenvalues_sym(A);
  matrix[4, 4] eigenvectors_sym_A = eigenvectors_sym(A);
  vector[6] sort_asc_v = sort_asc(v);
  vector[6] sort_desc_v = sort_desc(v);
  array[6] int sort_indices_asc_v = sort_indices_asc(v);
  array[6] int sort_indices_desc_v = sort_indices_desc(v);
  int rank_v_3 = rank(v, 3);
}`;

describe('Stan matrix functions against NumPy', () => {
  const m = fromStan(PROGRAM, { G: G.G, A: G.A, b: G.b, B: G.B, v: G.v });
  const out = m.generate({ x: scalar(0) });
  for (const name of ['inverse_G', 'inverse_spd_A', 'mdivide_left_G_b', 'mdivide_right_B_G', 'mdivide_left_spd_A_b', 'mdivide_right_spd_B_A', 'eigenvalues_sym_A', 'eigenvectors_sym_A', 'sort_asc_v', 'sort_desc_v', 'sort_indices_asc_v', 'sort_indices_desc_v', 'rank_v_3'])
    it(name, () => {
      const v = out[name];
      let ours = typeof v === 'number' ? [v] : Array.from((v as Tensor).dataSync());
      if (name === 'eigenvectors_sym_A') {
        // Each column's sign made positive at its largest-magnitude entry, as the fixture's.
        const n = 4;
        for (let c = 0; c < n; c++) {
          let k = 0;
          for (let r = 1; r < n; r++) if (Math.abs(ours[r * n + c]) > Math.abs(ours[k * n + c])) k = r;
          const s = Math.sign(ours[k * n + c]);
          for (let r = 0; r < n; r++) ours[r * n + c] *= s;
        }
        ours = ours.slice();
      }
      const want = flat(G[name]);
      expect(ours.length).toBe(want.length);
      ours.forEach((x, i) => expect(Math.abs(x - want[i])).toBeLessThan(1e-10 * Math.max(1, Math.abs(want[i]))));
    });

  it('gradients of inverse, mdivide_left and the eigendecomposition match finite differences', () => {
    const code = `
data { matrix[3, 3] C; vector[3] b; }
parameters { vector[3] d; real<lower=0> s; }
model {
  matrix[3, 3] M = C + diag_matrix(d);
  matrix[3, 3] S = s * C * C' + diag_matrix(exp(d));
  vector[3] lam = eigenvalues_sym(S);
  matrix[3, 3] Q = eigenvectors_sym(S);
  target += sum(inverse(M) * b) + dot_product(mdivide_left(M, b), b) + sum(log(lam)) + sum(square(Q * b));
}`;
    const C = [[1.2, 0.3, -0.4], [0.3, 0.8, 0.5], [-0.4, 0.5, 1.5]];
    const mm = fromStan(code, { C, b: [0.7, -1.1, 0.4] });
    const u = [0.9, 1.4, 2.1, Math.log(0.6)];
    const f = (p: number[]): number => mm.logDensityUnconstrained(tensor(p)).item();
    const [, g] = valueAndGrad((x: Tensor) => mm.logDensityUnconstrained(x))(tensor(u));
    const gs = Array.from(g.dataSync());
    u.forEach((_, i) => {
      const h = 1e-6;
      const up = u.slice();
      const dn = u.slice();
      up[i] += h;
      dn[i] -= h;
      const fd = (f(up) - f(dn)) / (2 * h);
      expect(Math.abs(gs[i] - fd)).toBeLessThan(1e-6 * Math.max(1, Math.abs(fd)));
    });
  });

  it('a singular matrix is named', () => {
    const bad = fromStan('data { matrix[2, 2] S; } parameters { real x; } model { target += sum(inverse(S)) * x; }', { S: [[1, 2], [2, 4]] });
    expect(() => bad.logDensityUnconstrained(tensor([1]))).toThrow(StanRuntimeError);
    expect(() => bad.logDensityUnconstrained(tensor([1]))).toThrow(/inverse: the 2×2 matrix is singular/);
  });
});
