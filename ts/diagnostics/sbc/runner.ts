/**
 * `sbc`: simulation-based calibration (Talts, Betancourt, Simpson, Vehtari & Gelman 2018) in the
 * shape of the R package SBC — a generator, a backend, ranks of every parameter and test
 * quantity, and the χ² and ECDF-band tests of their uniformity — run serially or on worker threads.
 */
import { ValueError, VarinfError } from '../../core/errors.js';
import { foldIn, type Key } from '../../random/key.js';
import { rankChiSquare, type ChiSquareTest } from './chisq.js';
import { ecdfBand, rankEcdfTest, type EcdfBand, type EcdfTest } from './ecdf.js';
import { runSimulation, type SbcFailure, type SbcSimulation, type SbcSpec } from './replication.js';
import { moduleHref, runInWorkers, type SbcModule } from './workers.js';

/** Options of {@link sbc}. */
export interface SbcOptions {
  /** Root key: simulation i uses foldIn(key, i); the ECDF band uses foldIn(key, −1 >>> 0). */
  key: Key;
  /** Number of simulated data sets N. */
  simulations: number;
  /** Worker threads (default 1: serial, on this thread). More than 1 needs the spec as an {@link SbcModule}. */
  workers?: number;
  /** Bins of the χ² test (default `defaultBins(N, L)`). */
  bins?: number;
  /** Family-wise level α of each variable's ECDF band (default 0.05). */
  alpha?: number;
  /** Evaluation intervals K of the ECDF test (default min(L + 1, N, 100)). */
  ecdfPoints?: number;
  /** Simulated rank samples of the ECDF band (default 2000). */
  ecdfSimulations?: number;
  /** 'record' (default): failed simulations are listed in `failures` and left out; 'throw': the first one throws. */
  onFailure?: 'record' | 'throw';
  /** Called after each simulation (in completion order). */
  onProgress?: (done: number, total: number, simulation: SbcSimulation) => void;
}

/** Tests of one variable's ranks. */
export interface SbcVariableTests {
  /** χ² on binned ranks. */
  chiSquare: ChiSquareTest;
  /** ECDF difference against the simultaneous band. */
  ecdf: EcdfTest;
}

/** What {@link sbc} returns. */
export interface SbcResult {
  /** Variable names: flattened parameters, then test quantities. */
  variables: string[];
  /** Ranks per variable over the successful simulations, [N_ok] each, in simulation order. */
  ranks: Record<string, Int32Array>;
  /** L: ranks are in 0..L. */
  maxRank: number;
  /** The successful simulations (truth, posterior mean, ranks). */
  simulations: SbcSimulation[];
  /** The failed simulations: non-finite generator draws, backend errors, non-finite draws. */
  failures: SbcFailure[];
  /** Tests per variable. */
  tests: Record<string, SbcVariableTests>;
  /** The ECDF band shared by every variable. */
  band: EcdfBand;
  /** A table of the tests, one row per variable, with failures noted. */
  summary: string;
}

function isModule<D>(s: SbcSpec<D> | SbcModule): s is SbcModule {
  return 'module' in s;
}

/**
 * Runs N simulations: for each, (θ*, y) from the generator with key k_gen, draws from the backend
 * with k_fit ([k_gen, k_fit] = split(foldIn(key, i))), ranks of θ* and of the test quantities
 * among L thinned draws; then per variable the χ² test and the ECDF test. With `workers > 1`, the
 * simulations run on that many threads, each importing the spec module; the result is identical
 * to the serial run with the same key. A failed simulation (non-finite (θ*, y), a backend error,
 * non-finite draws) is recorded in `failures` (or thrown, with `onFailure: 'throw'`); dropping
 * failures can itself bias the ranks, which `summary` says when there are any.
 * @example
 * const r = await sbc({ generator, backend }, { key: key(0), simulations: 200 });
 * console.log(r.summary); r.tests.mu.ecdf.rejected
 */
export async function sbc<D>(spec: SbcSpec<D> | SbcModule, opts: SbcOptions): Promise<SbcResult> {
  const N = opts.simulations;
  if (!Number.isInteger(N) || N < 2) throw new ValueError(`sbc: simulations must be an integer ≥ 2, got ${N}`);
  const W = opts.workers ?? 1;
  if (!Number.isInteger(W) || W < 1) throw new ValueError(`sbc: workers must be a positive integer, got ${W}`);
  const indices = Array.from({ length: N }, (_, i) => i);
  let done = 0;
  const progress = (s: SbcSimulation): void => {
    done++;
    opts.onProgress?.(done, N, s);
  };
  let sims: SbcSimulation[];
  if (W > 1) {
    if (!isModule(spec)) throw new ValueError('sbc: workers > 1 needs the spec as a module ({ module, exportName }) that each worker thread imports');
    sims = await runInWorkers(spec, opts.key, indices, W, progress);
  } else {
    let s: SbcSpec<D>;
    if (isModule(spec)) {
      const mod = (await import(moduleHref(spec))) as Record<string, SbcSpec<D> | undefined>;
      const got = mod[spec.exportName ?? 'spec'];
      if (got === undefined) throw new ValueError(`sbc: ${moduleHref(spec)} has no export '${spec.exportName ?? 'spec'}'`);
      s = got;
    } else s = spec;
    sims = [];
    for (const i of indices) {
      const r = await runSimulation(s, opts.key, i);
      if (r.failure && opts.onFailure === 'throw') throw failureError(r.failure);
      progress(r);
      sims.push(r);
    }
  }
  const failed = sims.find((s) => s.failure !== undefined);
  if (failed?.failure && opts.onFailure === 'throw') throw failureError(failed.failure);
  return sbcResults(sims, opts);
}

function failureError(f: SbcFailure): VarinfError {
  return new VarinfError(`sbc: simulation ${f.index} failed at the ${f.stage}: ${f.message}`);
}

/**
 * The tests of SBC from simulations already run (by {@link sbc}, or gathered elsewhere): ranks
 * per variable, χ² and ECDF tests, and the summary table. Every successful simulation must have
 * the same variables and the same L.
 * @example const r = sbcResults(sims, { key: key(0), simulations: sims.length });
 */
export function sbcResults(sims: readonly SbcSimulation[], opts: Omit<SbcOptions, 'workers' | 'onProgress'>): SbcResult {
  const ok = sims.filter((s) => s.failure === undefined);
  const failures = sims.flatMap((s) => (s.failure ? [s.failure] : []));
  if (ok.length < 2) throw new VarinfError(`sbc: only ${ok.length} of ${sims.length} simulations succeeded; first failure: ${failures[0]?.message ?? 'none'}`);
  const first = ok[0];
  const L = first.maxRank;
  for (const s of ok) {
    if (s.maxRank !== L) throw new ValueError(`sbc: simulation ${s.index} ranked among ${s.maxRank} draws, simulation ${first.index} among ${L}; set rankDraws so every fit is thinned to the same L`);
    if (s.variables.join('\u0000') !== first.variables.join('\u0000')) throw new ValueError(`sbc: simulation ${s.index} has variables ${s.variables.join(', ')}; simulation ${first.index} has ${first.variables.join(', ')}`);
  }
  const ranks: Record<string, Int32Array> = {};
  first.variables.forEach((v, j) => (ranks[v] = Int32Array.from(ok, (s) => s.ranks[j])));
  const band = ecdfBand(ok.length, L, { key: foldIn(opts.key, 0xffffffff), alpha: opts.alpha, points: opts.ecdfPoints, simulations: opts.ecdfSimulations });
  const tests: Record<string, SbcVariableTests> = {};
  for (const v of first.variables) tests[v] = { chiSquare: rankChiSquare(ranks[v], L, opts.bins), ecdf: rankEcdfTest(ranks[v], L, { band }) };
  const result = { variables: first.variables.slice(), ranks, maxRank: L, simulations: ok, failures, tests, band, summary: '' };
  result.summary = formatSbc(result);
  return result;
}

/**
 * The tests as a text table: per variable the χ² statistic, its df and p-value, the ECDF
 * statistic (smallest pointwise tail probability), its p-value, and whether the band is left.
 * @example console.log(formatSbc(result))
 */
export function formatSbc(r: Omit<SbcResult, 'summary'>): string {
  const w = Math.max(8, ...r.variables.map((v) => v.length));
  const lines = [
    `SBC: ${r.simulations.length} simulations, ranks in 0..${r.maxRank}, ECDF band at α = ${r.band.alpha} (γ = ${r.band.gamma.toExponential(2)}, by simulation)`,
    `${'variable'.padEnd(w)}  ${'χ²'.padStart(8)} ${'df'.padStart(3)} ${'p(χ²)'.padStart(8)}  ${'min tail'.padStart(9)} ${'p(ECDF)'.padStart(8)}  band`,
  ];
  for (const v of r.variables) {
    const t = r.tests[v];
    lines.push(
      `${v.padEnd(w)}  ${t.chiSquare.statistic.toFixed(2).padStart(8)} ${String(t.chiSquare.df).padStart(3)} ${fmtP(t.chiSquare.pValue).padStart(8)}  ${t.ecdf.statistic.toExponential(2).padStart(9)} ${fmtP(t.ecdf.pValue).padStart(8)}  ${t.ecdf.rejected ? 'LEFT' : 'inside'}`,
    );
  }
  if (r.failures.length > 0) {
    lines.push(`${r.failures.length} simulation(s) failed and are left out (which can itself bias the ranks):`);
    for (const f of r.failures.slice(0, 5)) lines.push(`  #${f.index} (${f.stage}): ${f.message}`);
    if (r.failures.length > 5) lines.push(`  … and ${r.failures.length - 5} more`);
  }
  return lines.join('\n');
}

function fmtP(p: number): string {
  return p < 1e-3 ? p.toExponential(1) : p.toFixed(3);
}
