/**
 * Gradient rules, one per differentiable kernel. A rule maps the cotangents of a kernel's outputs
 * to the cotangents of its inputs using ops, so every backend differentiates the same way.
 */
import { ELEMENTWISE_GRADS } from './elementwise.js';
import type { GradTable } from './rule.js';

export type { GradRule, GradTable } from './rule.js';

export const GRADS: GradTable = { ...ELEMENTWISE_GRADS };
