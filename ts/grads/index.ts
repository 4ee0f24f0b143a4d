/**
 * Gradient rules, one per differentiable kernel. A rule maps the cotangents of a kernel's outputs
 * to the cotangents of its inputs using ops, so every backend differentiates the same way. The
 * gradient suite (test/grad) checks that every kernel the spec marks differentiable has a rule
 * here and that each rule agrees with float64 central differences.
 */
import { BESSEL_GRADS } from './bessel.js';
import { ELEMENTWISE_GRADS } from './elementwise.js';
import { FLOW_GRADS } from './flow.js';
import { GAUSS_GRADS } from './gauss.js';
import { LINALG_GRADS } from './linalg.js';
import { MVN_GRADS } from './mvn.js';
import { REDUCE_GRADS } from './reduce.js';
import type { GradTable } from './rule.js';
import { SHAPE_GRADS } from './shape.js';
import { SPLINE_GRADS } from './spline.js';

export type { GradRule, GradTable } from './rule.js';

/** Every gradient rule, by kernel name. */
export const GRADS: GradTable = { ...ELEMENTWISE_GRADS, ...REDUCE_GRADS, ...SHAPE_GRADS, ...LINALG_GRADS, ...BESSEL_GRADS, ...GAUSS_GRADS, ...MVN_GRADS, ...FLOW_GRADS, ...SPLINE_GRADS };
