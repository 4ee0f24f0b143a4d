/**
 * `whitenFactor` (fit's full-rank scale-factor whitening) in tensor ops, against host finite
 * differences and the closed form of its step: 'in' gives the gradient in M = A⁻¹L's coordinates
 * (off-diagonal M_ij, log M_ii), 'out' lands on L′ = A M′.
 */
import { describe, expect, it } from 'vitest';
import { tensor } from '../../ts/index.js';
import type { Tensor } from '../../ts/core/tensor.js';
import { whitenFactor } from '../../ts/infer/fit/precondition.js';

const D = 3;
const S0 = (D * (D - 1)) / 2;
// A lower-triangular factor with a positive diagonal (a Laplace factor), row-major.
const A = Float64Array.of(0.8, 0, 0, -0.5, 0.3, 0, 1.2, 0.7, 2.1);
// Unconstrained parameters: scale_tril (strict lower packed, then log diagonal) and log σ.
const TU = Float64Array.of(0.3, -0.6, 0.2, 0.1, -0.2, 0.4);
const LS = Float64Array.of(-0.3, 0.5, 0.1);
const W = Float64Array.from({ length: D * D }, (_, k) => Math.cos(1.7 * k + 0.4));

/** L = diag(σ) T from the unconstrained leaves (host). */
function lOf(tu: ArrayLike<number>, ls: ArrayLike<number>): Float64Array {
  const l = new Float64Array(D * D);
  let k = 0;
  for (let i = 1; i < D; i++) for (let j = 0; j < i; j++) l[i * D + j] = tu[k++] * Math.exp(ls[i]);
  for (let i = 0; i < D; i++) l[i * (D + 1)] = Math.exp(tu[S0 + i] + ls[i]);
  return l;
}
/** A·M for lower M given as (strict packed, log diagonal) (host). */
function lOfM(v: ArrayLike<number>): Float64Array {
  const m = new Float64Array(D * D);
  let k = 0;
  for (let i = 1; i < D; i++) for (let j = 0; j < i; j++) m[i * D + j] = v[k++];
  for (let i = 0; i < D; i++) m[i * (D + 1)] = Math.exp(v[S0 + i]);
  const l = new Float64Array(D * D);
  for (let i = 0; i < D; i++) for (let j = 0; j < D; j++) for (let q = 0; q < D; q++) l[i * D + j] += A[i * D + q] * m[q * D + j];
  return l;
}
/** M = A⁻¹L as (strict packed, log diagonal), by forward substitution (host). */
function mOf(l: Float64Array): Float64Array {
  const m = new Float64Array(D * D);
  for (let c = 0; c < D; c++)
    for (let i = 0; i < D; i++) {
      let v = l[i * D + c];
      for (let q = 0; q < i; q++) v -= A[i * D + q] * m[q * D + c];
      m[i * D + c] = v / A[i * (D + 1)];
    }
  const out = new Float64Array(S0 + D);
  let k = 0;
  for (let i = 1; i < D; i++) for (let j = 0; j < i; j++) out[k++] = m[i * D + j];
  for (let i = 0; i < D; i++) out[S0 + i] = Math.log(m[i * (D + 1)]);
  return out;
}
/** A smooth test function of L's lower triangle. */
const f = (l: Float64Array): number => l.reduce((a, v, k) => a + W[k] * Math.sin(v + 0.3 * v * v), 0);

function fdGrad(h: (v: Float64Array) => number, v0: Float64Array): Float64Array {
  const e = 1e-6;
  return Float64Array.from(v0, (_, k) => {
    const p = v0.slice();
    const m = v0.slice();
    p[k] += e;
    m[k] -= e;
    return (h(p) - h(m)) / (2 * e);
  });
}

const params = (): Record<string, Tensor> => ({ q_scale_tril: tensor(TU), q_scale: tensor(LS), q_loc: tensor(Float64Array.of(1, 2, 3)) });

describe('whitenFactor (tensor ops)', () => {
  it("'in': the gradient in M's coordinates matches finite differences of f(A·M); scale's gradient is zeroed", () => {
    const gTu = fdGrad((tu) => f(lOf(tu, LS)), TU);
    const gLs = fdGrad((ls) => f(lOf(TU, ls)), LS);
    const tr = whitenFactor('q', tensor(A, [D, D]), 'in');
    const [out] = tr.update({ q_scale_tril: tensor(gTu), q_scale: tensor(gLs), q_loc: tensor(Float64Array.of(7, 8, 9)) }, tr.init(params()), params());
    const want = fdGrad((v) => f(lOfM(v)), mOf(lOf(TU, LS)));
    const got = out.q_scale_tril.dataSync();
    for (let k = 0; k < want.length; k++) expect(Math.abs(got[k] - want[k])).toBeLessThan(1e-6 * Math.max(1, Math.abs(want[k])));
    expect(Array.from(out.q_scale.dataSync(), Math.abs)).toEqual([0, 0, 0]);
    expect(Array.from(out.q_loc.dataSync())).toEqual([7, 8, 9]);
  });

  it("'out': the updates of scale_tril and scale land on L′ = A·M′ with M′ = M stepped (off-diagonal added, diagonal multiplied)", () => {
    const step = Float64Array.of(0.05, -0.02, 0.03, 0.1, -0.07, 0.02);
    const tr = whitenFactor('q', tensor(A, [D, D]), 'out');
    const [out] = tr.update({ q_scale_tril: tensor(step), q_scale: tensor(Float64Array.of(9, 9, 9)), q_loc: tensor(Float64Array.of(1, 1, 1)) }, tr.init(params()), params());
    const tuNew = Float64Array.from(TU, (v, k) => v + out.q_scale_tril.dataSync()[k]);
    const lsNew = Float64Array.from(LS, (v, k) => v + out.q_scale.dataSync()[k]);
    const m = mOf(lOf(TU, LS));
    const want = lOfM(Float64Array.from(m, (v, k) => v + step[k]));
    const got = lOf(tuNew, lsNew);
    for (let k = 0; k < D * D; k++) expect(Math.abs(got[k] - want[k])).toBeLessThan(1e-12);
    // T′ has unit rows: σ′ carries the row norms.
    for (let i = 0; i < D; i++) {
      let n2 = Math.exp(2 * tuNew[S0 + i]);
      for (let j = 0; j < i; j++) n2 += tuNew[(i * (i - 1)) / 2 + j] ** 2;
      expect(Math.abs(n2 - 1)).toBeLessThan(1e-12);
    }
    expect(Array.from(out.q_loc.dataSync())).toEqual([1, 1, 1]);
  });

  it("'out' with a zero step leaves L as it was (a 1×1 factor too)", () => {
    const tr = whitenFactor('q', tensor(Float64Array.of(0.7), [1, 1]), 'out');
    const p = { q_scale_tril: tensor(Float64Array.of(0)), q_scale: tensor(Float64Array.of(0.4)) };
    const [out] = tr.update({ q_scale_tril: tensor(Float64Array.of(0)), q_scale: tensor(Float64Array.of(0)) }, tr.init(p), p);
    expect(Math.abs(out.q_scale_tril.dataSync()[0])).toBeLessThan(1e-15);
    expect(Math.abs(out.q_scale.dataSync()[0])).toBeLessThan(1e-15);
  });
});
