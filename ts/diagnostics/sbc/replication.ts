/**
 * One SBC simulation: draw (θ*, y), fit y, and rank θ* (and the test quantities f(θ*, y)) among
 * the thinned posterior draws. The serial runner and the worker threads both call this, with
 * keys split from foldIn(root, index), so a simulation's result does not depend on where it ran.
 */
import { Key, foldIn, split } from '../../random/key.js';
import type { SbcBackend, SbcDraws } from './backend.js';
import { firstNonFinite, type ParameterValue, type SbcGenerator } from './generator.js';
import { ShapeError } from '../../core/errors.js';
import { drawRows, flattenParameters, rankOf, thinIndices, tieUniforms } from './ranks.js';

/** What SBC runs: a generator, a backend, and optionally test quantities and the rank draws L. */
export interface SbcSpec<D> {
  /** Draws (θ*, y) from the prior and the model. */
  generator: SbcGenerator<D>;
  /** Fits y and returns posterior draws. */
  backend: SbcBackend<D>;
  /**
   * Derived test quantities f(θ, y) (e.g. a log-likelihood, a parameter's square), ranked as the
   * parameters are: f(θ*, y) among f(θ_l, y) for the thinned draws θ_l. Each parameter is flat.
   */
  testQuantities?: (parameters: Record<string, Float64Array>, data: D) => Record<string, number>;
  /** L: thin each fit's draws to L evenly spaced ones, so ranks are in 0..L (default: all draws). */
  rankDraws?: number;
}

/** Why a simulation produced no ranks. */
export interface SbcFailure {
  /** The simulation's index. */
  index: number;
  /** 'generator': (θ*, y) not finite or the generator threw; 'fit': the backend threw or returned non-finite or missing draws. */
  stage: 'generator' | 'fit';
  /** What went wrong, e.g. "data.y[3] = NaN". */
  message: string;
}

/** One simulation's ranks (or its failure). Plain data, so it crosses worker threads. */
export interface SbcSimulation {
  /** The simulation's index. */
  index: number;
  /** Variable names (flattened parameters, then test quantities); empty on failure. */
  variables: string[];
  /** Rank of each variable in 0..maxRank. */
  ranks: number[];
  /** True value of each variable. */
  truth: number[];
  /** Posterior mean of each variable over the thinned draws. */
  posteriorMean: number[];
  /** L, the number of draws the ranks were taken among. */
  maxRank: number;
  /** Set when the simulation failed (its ranks are empty). */
  failure?: SbcFailure;
}

function message(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

/**
 * Runs simulation `index` of `spec` from the root key: [k_gen, k_fit] = split(foldIn(root, index)).
 * Failures are returned, not thrown.
 * @example const sim = await runSimulation(spec, key(0), 7); sim.ranks
 */
export async function runSimulation<D>(spec: SbcSpec<D>, root: Key, index: number): Promise<SbcSimulation> {
  const [kGen, kFit] = split(foldIn(root, index));
  const empty = { index, variables: [], ranks: [], truth: [], posteriorMean: [], maxRank: 0 };
  let ds;
  try {
    ds = spec.generator.generate(kGen, index);
  } catch (e) {
    return { ...empty, failure: { index, stage: 'generator', message: message(e) } };
  }
  const bad = firstNonFinite({ parameters: ds.parameters, data: ds.data });
  if (bad !== null) return { ...empty, failure: { index, stage: 'generator', message: `non-finite draw: ${bad}` } };
  let draws: SbcDraws;
  try {
    draws = await spec.backend.fit(kFit, ds.data, index);
  } catch (e) {
    return { ...empty, failure: { index, stage: 'fit', message: message(e) } };
  }
  try {
    return { index, ...rankAll(spec, ds.parameters, ds.data, draws, kFit.k0 ^ Math.imul(index + 1, 0x9e3779b1)) };
  } catch (e) {
    return { ...empty, failure: { index, stage: 'fit', message: message(e) } };
  }
}

function rankAll<D>(spec: SbcSpec<D>, parameters: Record<string, ParameterValue>, data: D, draws: SbcDraws, seed: number): Omit<SbcSimulation, 'index'> {
  const flat = flattenParameters(parameters);
  const names = Object.keys(parameters);
  const rows = names.map((n) => drawRows(n, draws));
  const truthBy: Record<string, Float64Array> = {};
  names.forEach((n, p) => {
    const size = flat.of.filter((o) => o.parameter === n).length;
    if (rows[p].cols !== size) throw new ShapeError(`sbc: draws of '${n}' have ${rows[p].cols} values per draw; the generator's '${n}' has ${size}`);
    if (p > 0 && rows[p].rows !== rows[0].rows) throw new ShapeError(`sbc: draws of '${n}' number ${rows[p].rows}; draws of '${names[0]}' number ${rows[0].rows}`);
    truthBy[n] = new Float64Array(size);
  });
  flat.of.forEach((o, v) => (truthBy[o.parameter][o.offset] = flat.values[v]));
  const S = rows.length > 0 ? rows[0].rows : 0;
  const keep = thinIndices(S, spec.rankDraws ?? S);
  const L = keep.length;
  const u = tieUniforms(seed);
  const variables = flat.names.slice();
  const ranks: number[] = [];
  const truth = Array.from(flat.values);
  const posteriorMean: number[] = [];
  const column = new Float64Array(L);
  flat.of.forEach((o, v) => {
    const r = rows[names.indexOf(o.parameter)];
    let sum = 0;
    for (let l = 0; l < L; l++) sum += column[l] = r.data[keep[l] * r.cols + o.offset];
    ranks.push(rankOf(flat.values[v], column, u, flat.names[v]));
    posteriorMean.push(sum / L);
  });
  if (spec.testQuantities) {
    const tq = spec.testQuantities;
    const atTruth = tq(truthBy, data);
    const qNames = Object.keys(atTruth);
    const perDraw = qNames.map(() => new Float64Array(L));
    for (let l = 0; l < L; l++) {
      const at: Record<string, Float64Array> = {};
      names.forEach((n, p) => (at[n] = rows[p].data.subarray(keep[l] * rows[p].cols, (keep[l] + 1) * rows[p].cols)));
      const q = tq(at, data);
      qNames.forEach((qn, i) => (perDraw[i][l] = q[qn]));
    }
    qNames.forEach((qn, i) => {
      variables.push(qn);
      truth.push(atTruth[qn]);
      ranks.push(rankOf(atTruth[qn], perDraw[i], u, `test quantity '${qn}'`));
      posteriorMean.push(perDraw[i].reduce((a, b) => a + b, 0) / L);
    });
  }
  return { variables, ranks, truth, posteriorMean, maxRank: L };
}

/** @internal The key from its two words (worker threads receive keys as numbers). */
export function keyFromWords(k0: number, k1: number): Key {
  return new Key(k0, k1);
}
