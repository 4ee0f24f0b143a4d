/** The builder of `FactorGraph.factorAnalysis`, checked as the other nodes are. */
import { ShapeError } from '../../core/errors.js';
import { FactorAnalysisFactor } from './factor-analysis.js';
import { GaussianVariable } from './gaussian.js';
import type { FactorGraph } from './graph.js';
import { NonConjugateError, describe } from './node.js';
import { checkValues, constants, observed } from './params.js';

/** Parameters of `FactorGraph.factorAnalysis`. */
export interface FactorAnalysisParams {
  /** W: D × k row-major (flat) or D rows of k. */
  loadings: ArrayLike<number> | readonly (readonly number[])[];
  /** b (D). */
  bias: ArrayLike<number>;
  /** σ² > 0. */
  noiseVariance: number;
  /** The k latent coordinates, Gaussian variables of plate N. */
  factors: readonly GaussianVariable[];
  /** Observed rows, N × D row-major (flat) or N rows of D. */
  observed: ArrayLike<number> | readonly (readonly number[])[];
}

const flat = (a: ArrayLike<number> | readonly (readonly number[])[]): ArrayLike<number> =>
  Array.isArray(a) && Array.isArray(a[0]) ? (a as number[][]).flat() : (a as ArrayLike<number>);

/** @internal */
export function addFactorAnalysis(g: FactorGraph, name: string, p: FactorAnalysisParams): void {
  g.claim(name);
  const z = p.factors;
  if (z.length === 0) throw new ShapeError(`vmp: '${name}' needs at least one latent factor`);
  for (const v of z)
    if (!(v instanceof GaussianVariable)) throw new NonConjugateError(`vmp: a factor of '${name}' is ${describe(v)}; VMP needs Gaussian variables there`);
  const n = z[0].size;
  for (const v of z) if (v.size !== n) throw new ShapeError(`vmp: the factors of '${name}' have plate sizes ${z.map((u) => u.size).join(', ')}; they must agree`);
  const k = z.length;
  const b = constants(name, 'bias', p.bias, 1, p.bias.length, 'real');
  const d = b.length;
  const w = observed(`${name}'s loadings`, flat(p.loadings), 'real');
  if (w.length !== d * k) throw new ShapeError(`vmp: the loadings of '${name}' have ${w.length} entries; bias of ${d} × ${k} factors needs ${d * k}`);
  checkValues(name, 'noiseVariance', [p.noiseVariance], 'positive');
  const x = observed(name, flat(p.observed), 'real');
  if (x.length !== n * d) throw new ShapeError(`vmp: '${name}' has ${x.length} numbers observed; ${n} rows (the factors' plate) × ${d} columns need ${n * d}`);
  g.addFactor(new FactorAnalysisFactor(name, x, n, d, w, b, p.noiseVariance, z));
}
