/** Gradient rules of the elementwise kernels. */
import { div, mul, neg } from '../ops/elementwise.js';
import { unbroadcast } from '../ops/shape.js';
import type { GradTable } from './rule.js';

export const ELEMENTWISE_GRADS: GradTable = {
  neg: ([dy]) => [neg(dy)],
  exp: ([dy], _, [y]) => [mul(dy, y)],
  add: ([dy], [a, b]) => [unbroadcast(dy, a.shape), unbroadcast(dy, b.shape)],
  sub: ([dy], [a, b]) => [unbroadcast(dy, a.shape), unbroadcast(neg(dy), b.shape)],
  mul: ([dy], [a, b]) => [unbroadcast(mul(dy, b), a.shape), unbroadcast(mul(dy, a), b.shape)],
  div: ([dy], [a, b]) => [unbroadcast(div(dy, b), a.shape), unbroadcast(neg(div(mul(dy, a), mul(b, b))), b.shape)],
};
