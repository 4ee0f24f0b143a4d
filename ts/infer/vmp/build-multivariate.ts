/**
 * Builders of the multivariate nodes (vector Gaussian, Wishart, linear regression), checked as
 * the scalar ones are; `FactorGraph`'s methods of the same names call these.
 */
import { ShapeError, ValueError } from '../../core/errors.js';
import { GammaVariable } from './gamma.js';
import type { FactorGraph } from './graph.js';
import { LinearGaussianFactor } from './linear-gaussian.js';
import { MvnFactor } from './mvn-factor.js';
import { NonConjugateError, VmpVariable, describe } from './node.js';
import { checkValues, constants, observed } from './params.js';
import { VectorGaussianVariable } from './vector-gaussian.js';
import { WishartPriorFactor } from './wishart-factor.js';
import { WishartVariable } from './wishart.js';

/** Parameters of `FactorGraph.vectorGaussian`. */
export interface VectorGaussianParams {
  /** A constant vector (D) or a vector-Gaussian variable. */
  mean: ArrayLike<number> | VectorGaussianVariable;
  /** A constant D × D precision (row-major) or a Wishart variable. */
  precision: ArrayLike<number> | WishartVariable;
  /** A Gamma variable s scaling a constant precision: x ~ N(mean, (s·precision)⁻¹). */
  precisionScale?: GammaVariable;
  /** Plate size (default 1); ignored when `observed` is given. */
  size?: number;
  /** Observed rows, N × D row-major (flat, length N·D) or N arrays of D. */
  observed?: ArrayLike<number> | readonly (readonly number[])[];
}

function dimOf(site: string, p: VectorGaussianParams): number {
  if (p.mean instanceof VectorGaussianVariable) return p.mean.dim;
  if (p.mean instanceof VmpVariable)
    throw new NonConjugateError(`vmp: the mean of '${site}' is ${describe(p.mean)}, which is not conjugate to a vector Gaussian; VMP needs a constant vector or a vector-Gaussian variable there`);
  return p.mean.length;
}

/** @internal */
export function addVectorGaussian(g: FactorGraph, name: string, p: VectorGaussianParams): VectorGaussianVariable | null {
  const index = g.claim(name);
  const d = dimOf(name, p);
  if (!(d >= 1)) throw new ShapeError(`vmp: the mean of '${name}' is empty`);
  const mu = p.mean instanceof VectorGaussianVariable ? p.mean : constants(name, 'mean', p.mean, 1, d, 'real');
  let lam: Float64Array | WishartVariable;
  if (p.precision instanceof WishartVariable) {
    if (p.precision.dim !== d) throw new ShapeError(`vmp: the precision of '${name}' is Wishart '${p.precision.name}' of dimension ${p.precision.dim}, the mean has ${d}`);
    if (p.precisionScale !== undefined) throw new NonConjugateError(`vmp: '${name}' has both a Wishart precision '${p.precision.name}' and a Gamma scale '${p.precisionScale.name}'; VMP takes one random precision factor there`);
    lam = p.precision;
  } else if (p.precision instanceof VmpVariable)
    throw new NonConjugateError(`vmp: the precision of '${name}' is ${describe(p.precision)}, which is not conjugate to a vector Gaussian; VMP needs a constant matrix or a Wishart variable there`);
  else {
    if (p.precision.length !== d * d) throw new ShapeError(`vmp: the precision of '${name}' has ${p.precision.length} entries; the mean has ${d}, so expected ${d} × ${d} = ${d * d}`);
    lam = Float64Array.from(p.precision);
    checkValues(name, 'precision', lam, 'real');
  }
  if (p.precisionScale !== undefined && !(p.precisionScale instanceof GammaVariable))
    throw new NonConjugateError(`vmp: the precision scale of '${name}' is ${describe(p.precisionScale)}; VMP needs a Gamma variable there`);
  const scale = p.precisionScale ?? null;
  if (p.observed !== undefined) {
    const flat = Array.isArray(p.observed) && Array.isArray(p.observed[0]) ? (p.observed as number[][]).flat() : (p.observed as ArrayLike<number>);
    const data = observed(name, flat, 'real');
    if (data.length % d !== 0) throw new ShapeError(`vmp: the observed data of '${name}' has ${data.length} numbers, not a multiple of the dimension ${d}`);
    const n = data.length / d;
    checkParentSizes(name, [mu, lam, scale], n);
    g.addFactor(new MvnFactor(name, { data, n }, mu, lam, scale, d));
    return null;
  }
  const size = p.size ?? 1;
  if (!(Number.isInteger(size) && size >= 1)) throw new ValueError(`vmp: the plate size of '${name}' must be a positive integer, got ${size}`);
  checkParentSizes(name, [mu, lam, scale], size);
  const x = new VectorGaussianVariable(name, d, size, index);
  return g.addLatent(x, new MvnFactor(name, x, mu, lam, scale, d));
}

function checkParentSizes(name: string, ps: unknown[], size: number): void {
  for (const p of ps)
    if (p instanceof VmpVariable && p.size !== 1 && p.size !== size)
      throw new ShapeError(`vmp: '${name}' has plate size ${size} but its parent '${p.name}' has ${p.size} (need 1 or ${size})`);
}

/** @internal */
export function addWishart(g: FactorGraph, name: string, p: { dof: number; scaleInverse: ArrayLike<number>; size?: number }): WishartVariable {
  const index = g.claim(name);
  const d = Math.round(Math.sqrt(p.scaleInverse.length));
  if (d * d !== p.scaleInverse.length || d === 0) throw new ShapeError(`vmp: the scaleInverse of Wishart '${name}' has ${p.scaleInverse.length} entries, not a square D × D`);
  if (!(Number.isFinite(p.dof) && p.dof > d - 1)) throw new ValueError(`vmp: the dof of Wishart '${name}' is ${p.dof}; it must exceed D − 1 = ${d - 1}`);
  const w0inv = Float64Array.from(p.scaleInverse);
  checkValues(name, 'scaleInverse', w0inv, 'real');
  const size = p.size ?? 1;
  if (!(Number.isInteger(size) && size >= 1)) throw new ValueError(`vmp: the plate size of '${name}' must be a positive integer, got ${size}`);
  const lam = new WishartVariable(name, d, size, index);
  return g.addLatent(lam, new WishartPriorFactor(name, lam, p.dof, w0inv));
}

/** Parameters of `FactorGraph.linearGaussian`. */
export interface LinearGaussianParams {
  /** The design X: N × D row-major (flat) or N rows of D. */
  design: ArrayLike<number> | readonly (readonly number[])[];
  /** The weights w, a vector-Gaussian variable of dimension D and plate 1. */
  weights: VectorGaussianVariable;
  /** The noise precision τ: a positive constant or a Gamma variable of plate 1. */
  precision: number | GammaVariable;
  /** The observed responses y (N). */
  observed: ArrayLike<number>;
}

/** @internal */
export function addLinearGaussian(g: FactorGraph, name: string, p: LinearGaussianParams): void {
  g.claim(name);
  const w = p.weights;
  if (!(w instanceof VectorGaussianVariable))
    throw new NonConjugateError(`vmp: the weights of '${name}' are ${describe(w)}; VMP needs a vector-Gaussian variable there`);
  if (w.size !== 1) throw new ShapeError(`vmp: the weights '${w.name}' of '${name}' have plate size ${w.size}; expected 1`);
  const tau = p.precision;
  if (tau instanceof VmpVariable) {
    if (!(tau instanceof GammaVariable)) throw new NonConjugateError(`vmp: the precision of '${name}' is ${describe(tau)}, which is not conjugate to a Gaussian; VMP needs a constant or a Gamma variable there`);
    if (tau.size !== 1) throw new ShapeError(`vmp: the precision '${tau.name}' of '${name}' has plate size ${tau.size}; expected 1`);
  } else checkValues(name, 'precision', [tau], 'positive');
  const y = observed(name, p.observed, 'real');
  const flat = Array.isArray(p.design) && Array.isArray(p.design[0]) ? (p.design as number[][]).flat() : (p.design as ArrayLike<number>);
  const x = observed(`${name}'s design`, flat, 'real');
  if (x.length !== y.length * w.dim)
    throw new ShapeError(`vmp: the design of '${name}' has ${x.length} numbers; ${y.length} observations × ${w.dim} weights need ${y.length * w.dim}`);
  g.addFactor(new LinearGaussianFactor(name, x, y, y.length, w, tau));
}
