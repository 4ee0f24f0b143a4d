/** Elementwise comparison helpers shared by the distribution and bijector tests. */
import { expect } from 'vitest';
import type { Tensor } from '../../ts/index.js';

/** A tensor's values as a plain array. */
export const vals = (t: Tensor): number[] => Array.from(t.dataSync());

/** Every element equal or within `tol`, relative where |want| > 1; the error names the element. */
export function expectClose(got: number[], want: number[], tol: number, what = ''): void {
  expect(got.length, what).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    if (want[i] === got[i]) continue; // equal infinities included
    const err = Math.abs(got[i] - want[i]);
    if (!(err <= tol * Math.max(1, Math.abs(want[i]))))
      throw new Error(`${what}: element ${i}: got ${got[i]}, want ${want[i]} (|err| ${err.toExponential(2)} > ${tol})`);
  }
}
