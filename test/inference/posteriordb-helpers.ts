/** Shared setup of the posteriordb suites: load a fixture, fit, compare with the reference. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { fromStan, key } from '../../ts/index.js';
import { fit, type FitOptions, type FitPhase } from '../../ts/infer/fit/index.js';
import { columns, compareToReference, posteriors, type Comparison, type Quantities, type Reference } from '../../ts/models/posteriordb/index.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/posteriordb/', import.meta.url));

export interface PdbFit {
  cmp: Comparison;
  khat: number;
  khatText: string;
  steps: number;
  laplace: boolean;
}

/** Phases for CI: the defaults' minimum lengths, with caps that keep each suite within CI time. */
export const CI_PHASES: FitPhase[] = [
  { lr: 0.1, particles: 4, minSteps: 500, maxSteps: 1000 },
  { lr: 0.03, particles: 8, minSteps: 250, maxSteps: 500 },
  { lr: 0.01, particles: 16, minSteps: 250, maxSteps: 500 },
];

/**
 * Fits posterior `name` with `guide` and a fixed key; compares every reference quantity. Async
 * `fit` yields to the event loop, so a fit of tens of seconds on a loaded machine does not block
 * the vitest worker (whose RPC then times out).
 */
export async function fitPosterior(name: string, guide: 'normal' | 'mvn', opts: Partial<FitOptions> = {}): Promise<PdbFit> {
  const p = posteriors[name];
  const data = p.loadData(JSON.parse(readFileSync(`${FIXTURES}${name}/data.json`, 'utf8')) as Record<string, unknown>);
  const ref = JSON.parse(readFileSync(`${FIXTURES}${name}/reference.json`, 'utf8')) as Reference;
  const r = await fit(p.model, [data] as never, { guide, key: key(20240611), numDraws: 2000, phases: CI_PHASES, ...opts });
  const cmp = compareToReference(p.quantities(r.draws, data as never), ref);
  return { cmp, khat: r.khat, khatText: r.khatText, steps: r.timings.steps, laplace: r.laplace.used };
}

/** One line for the test log: worst z, range of r, k̂. */
export function report(name: string, guide: string, f: PdbFit): void {
  console.log(
    `${name} ${guide}: worst z ${f.cmp.worstZ.toFixed(3)} (${f.cmp.worstName}), r ${f.cmp.rMin.toFixed(2)}–${f.cmp.rMax.toFixed(2)}, k̂ ${f.khat.toFixed(2)}, ${f.steps} steps`,
  );
}

/** A fit of a posterior compiled from its Stan program: the comparison plus what `fit` reported. */
export interface StanPdbFit extends PdbFit {
  /** The warnings that say a phase diverged. */
  diverged: string[];
  /** The chosen candidate's ELBO minus the Laplace start's on the common draws (NaN: no start). */
  gainOverStart: number;
  /** The chosen candidate's name. */
  chosen: string;
}

/**
 * Compiles posterior `name` from the Stan program in its fixture folder (model.stan, data.json,
 * reference.json) with `fromStan`, fits it with `guide` and a fixed key, and compares every
 * reference quantity (latent and deterministic sites, Stan's 1-based names).
 */
export async function fitStanPosterior(name: string, guide: 'normal' | 'mvn', opts: Partial<FitOptions> = {}): Promise<StanPdbFit> {
  const read = (f: string): string => readFileSync(`${FIXTURES}${name}/${f}`, 'utf8');
  const m = fromStan(read('model.stan'), JSON.parse(read('data.json')) as Record<string, unknown>);
  const ref = JSON.parse(read('reference.json')) as Reference;
  const r = await fit(m.model, [] as never, { guide, key: key(20240611), numDraws: 2000, phases: CI_PHASES, ...opts });
  const q: Quantities = {};
  for (const [site, d] of Object.entries(r.draws)) columns(site, d, q);
  const start = r.chosen.candidates.find((c) => c.name === 'laplace start');
  return {
    cmp: compareToReference(q, ref),
    khat: r.khat,
    khatText: r.khatText,
    steps: r.timings.steps,
    laplace: r.laplace.used,
    diverged: r.warnings.filter((w) => w.includes('diverged')),
    gainOverStart: start === undefined ? NaN : r.chosen.elbo - start.elbo,
    chosen: r.chosen.name,
  };
}
