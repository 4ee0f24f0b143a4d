/**
 * Pieces of bench/vi/posteriordb-stan.ts: the posteriors to run, one varinf fit scored against the
 * reference, and rstan's ADVI (the peer) on the same posterior. Reads ../shared/data/posteriordb.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { fromStan, key, type StanModel } from '../../ts/index.js';
import { defaultPhases, fit, type FitOptions } from '../../ts/infer/fit/index.js';
import { columns, compareToReference, posteriors, type Quantities, type Reference } from '../../ts/models/posteriordb/index.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** Where the posteriordb folders are (the shared data of this project; a user's clone lacks it). */
export const PDB = [`${ROOT}../shared/data/posteriordb`, `${ROOT}../../shared/data/posteriordb`].find((p) => existsSync(p)) ?? '';
/** Git-ignored results: the per-fit JSON, compiled rstan models, rstan's outputs. */
export const RESULTS = `${ROOT}bench/results/`;

/** The reference posteriors that have no hand-written varinf model: they run only through fromStan. */
export function stanOnlyPosteriors(): string[] {
  if (PDB === '') throw new Error('posteriordb-stan: ../shared/data/posteriordb not found (the bench reads the shared data)');
  return readdirSync(PDB)
    .filter((d) => existsSync(`${PDB}/${d}/reference.json`) && posteriors[d] === undefined)
    .sort();
}

/** One posterior's program, data and reference. */
export interface Source {
  name: string;
  code: string;
  data: Record<string, unknown>;
  ref: Reference;
}

/** Reads one posterior's folder. */
export function readSource(name: string): Source {
  const read = (f: string): string => readFileSync(`${PDB}/${name}/${f}`, 'utf8');
  return { name, code: read('model.stan'), data: JSON.parse(read('data.json')) as Record<string, unknown>, ref: JSON.parse(read('reference.json')) as Reference };
}

/** Worst z and r range against the reference (compareToReference's figures). */
export interface Score {
  worstZ: number;
  worstName: string;
  rMin: number;
  rMax: number;
}

/** One varinf fit: the score, k̂, divergences, the chosen candidate against the Laplace start, time. */
export interface FitRecord extends Score {
  khat: number;
  /** The warnings that say a phase diverged. */
  diverged: string[];
  /** Every warning of the fit. */
  warnings: string[];
  /** Which candidate won. */
  chosen: string;
  /** The winner's ELBO minus the Laplace start's, on the common draws (NaN: no Laplace start). */
  gainOverStart: number;
  laplace: boolean;
  steps: number;
  seconds: number;
  compiled: boolean;
  /** The reduced budget the fit ran under (see BUDGETS), if any. */
  budget?: string;
  /** fit's `modeStarts`: starts of the MAP search (1: the init strategy's alone). */
  modeStarts?: number;
}

/**
 * Reduced budgets for the posteriors whose log density is slow to evaluate, stated in the report.
 * Lotka–Volterra: its ODE solve reads step sizes on the host, so every step runs eagerly (about
 * 0.1 s a step with one particle on the loaded machine): fewer particles and draws. The bball HMM:
 * its 416-step forward pass compiles (a phase's trace takes about 50 s, then a step a few ms), but
 * the MAP search and the draws that score the candidates and summarize the fit run it eagerly at
 * about 1 s per point: fewer draws.
 */
export const BUDGETS: Record<string, { text: string; opts: Partial<FitOptions> }> = {
  'hudson_lynx_hare-lotka_volterra': {
    text: 'phases 0.1/2 particles/400–1500 steps, 0.03/4/200–800, 0.01/8/200–800; 500 selection draws; 2000 draws for summaries and k̂',
    opts: {
      phases: [
        { lr: 0.1, particles: 2, minSteps: 400, maxSteps: 1500 },
        { lr: 0.03, particles: 4, minSteps: 200, maxSteps: 800 },
        { lr: 0.01, particles: 8, minSteps: 200, maxSteps: 800 },
      ],
      selectionDraws: 500,
      numDraws: 2000,
    },
  },
  'bball_drive_event_0-hmm_drive_0': {
    text: "fit's default step sizes and step counts with 1 particle per step (compiled: with 4 particles the generated step overflows V8's stack and would run eagerly, at about 1 s a step); 100 selection draws; 500 draws for summaries and k̂",
    opts: {
      phases: defaultPhases(6).map((p) => ({ ...p, particles: 1 })),
      selectionDraws: 100,
      numDraws: 500,
    },
  },
};

/** The draws of every site (latent and deterministic) as Stan-named columns, `beta[2]`, `theta[1,2]`. */
export function stanColumns(draws: Record<string, import('../../ts/index.js').Tensor>): Quantities {
  const q: Quantities = {};
  for (const [name, d] of Object.entries(draws)) columns(name, d, q);
  return q;
}

/**
 * Fits posterior `name`'s model `m` with `guide` and key `k` (fit's defaults, 4000 draws for the
 * summaries and k̂, or its reduced budget in BUDGETS) and scores it; a fit still running after
 * `limitS` seconds is aborted (fit rejects with an AbortError).
 */
export async function runFit(name: string, m: StanModel, ref: Reference, guide: 'mvn' | 'normal', k: number, limitS: number, modeStarts = 1): Promise<FitRecord> {
  const t = performance.now();
  const budget = BUDGETS[name];
  const r = await fit(m.model, [] as never, { guide, key: key(k), numDraws: 4000, ...budget?.opts, modeStarts, progressBar: false, signal: AbortSignal.timeout(limitS * 1000) });
  const seconds = (performance.now() - t) / 1000;
  const c = compareToReference(stanColumns(r.draws), ref);
  const start = r.chosen.candidates.find((x) => x.name === 'laplace start');
  return {
    worstZ: c.worstZ,
    worstName: c.worstName,
    rMin: c.rMin,
    rMax: c.rMax,
    khat: r.khat,
    diverged: r.warnings.filter((w) => w.includes('diverged')),
    warnings: r.warnings,
    chosen: r.chosen.name,
    gainOverStart: start === undefined ? NaN : r.chosen.elbo - start.elbo,
    laplace: r.laplace.used,
    steps: r.timings.steps,
    seconds,
    compiled: r.compiled.used,
    budget: budget?.text,
    modeStarts,
  };
}

/** Compiles the program with fromStan, or says why it cannot run. */
export function compile(s: Source): StanModel | string {
  try {
    return fromStan(s.code, s.data);
  } catch (e) {
    return `${(e as Error).constructor.name}: ${(e as Error).message}`;
  }
}

/** rstan::vb's result for one algorithm and seed: its score, or why it has none. */
export interface PeerRecord {
  seed: number;
  score?: Score;
  error?: string;
  seconds: number;
}

/** The program in Stan 2.21's syntax, and the path of its compiled model (cached by the program's hash). */
function peerProgram(s: Source): { stan: string; rds: string } {
  const conv = spawnSync('python3', [`${ROOT}bench/peers/stan_old_syntax.py`, `${PDB}/${s.name}/model.stan`], { encoding: 'utf8' });
  if (conv.status !== 0) throw new Error(`stan_old_syntax.py failed on ${s.name}: ${conv.stderr}`);
  const dir = `${RESULTS}rstan/`;
  mkdirSync(dir, { recursive: true });
  const h = createHash('sha256').update(conv.stdout).digest('hex').slice(0, 12);
  const stan = `${dir}${h}.stan`;
  writeFileSync(stan, conv.stdout);
  return { stan, rds: `${dir}${h}.rds` };
}

/** Whether rstan loads (Debian's r-cran-rstan), with the reason when it does not. */
export function rstanAvailable(): { ok: boolean; why: string } {
  const r = spawnSync('Rscript', ['-e', 'suppressMessages(library(rstan)); suppressMessages(library(jsonlite)); cat(as.character(packageVersion("rstan")))'], { encoding: 'utf8' });
  if (r.error !== undefined) return { ok: false, why: `Rscript not found (${r.error.message})` };
  if (r.status !== 0) return { ok: false, why: r.stderr.trim().split('\n').slice(-2).join(' ') };
  return { ok: true, why: `rstan ${r.stdout.trim()}` };
}

/** Compiles the posterior's program for rstan once (cached .rds), under nice -n 19. */
export function compilePeer(s: Source): string {
  const { stan, rds } = peerProgram(s);
  if (existsSync(rds)) return 'cached';
  const r = spawnSync('nice', ['-n', '19', 'Rscript', `${ROOT}bench/peers/rstan_vb.R`, stan, `${PDB}/${s.name}/data.json`, rds, '/dev/null', '0', '--compile-only'], { encoding: 'utf8' });
  return r.status === 0 ? 'compiled' : `compile failed: ${r.stderr.trim().split('\n').slice(-3).join(' ')}`;
}

/**
 * rstan::vb mean-field and full-rank with `seeds` on the posterior, scored as varinf's fits; null
 * where the model has not been compiled (bench/peers/setup-rstan.sh), rather than compiling here.
 */
export function runPeer(s: Source, seeds: number[]): Record<'meanfield' | 'fullrank', PeerRecord[]> | null {
  const { stan, rds } = peerProgram(s);
  if (!existsSync(rds)) return null;
  const out = `${RESULTS}rstan/${s.name}.csv`;
  const r = spawnSync('nice', ['-n', '10', 'Rscript', `${ROOT}bench/peers/rstan_vb.R`, stan, `${PDB}/${s.name}/data.json`, rds, out, seeds.join(',')], { encoding: 'utf8' });
  const res: Record<'meanfield' | 'fullrank', PeerRecord[]> = { meanfield: [], fullrank: [] };
  if (r.status !== 0) {
    const why = r.stderr.trim().split('\n').slice(-3).join(' ');
    for (const alg of ['meanfield', 'fullrank'] as const) for (const seed of seeds) res[alg].push({ seed, error: why, seconds: NaN });
    return res;
  }
  // Split on the commas outside quotes: names such as "theta[1,2]" hold one.
  const rows = readFileSync(out, 'utf8').trim().split('\n').slice(1).map((l) => l.split(/,(?=(?:[^"]*"[^"]*")*[^"]*$)/).map((x) => x.replace(/^"|"$/g, '')));
  for (const alg of ['meanfield', 'fullrank'] as const) {
    for (const seed of seeds) {
      const mine = rows.filter((x) => x[0] === alg && Number(x[1]) === seed);
      const seconds = mine.length > 0 ? Number(mine[0][5]) : NaN;
      const err = mine.find((x) => x[6] !== '' && x[6] !== 'NA');
      if (err !== undefined || mine.length === 0) {
        res[alg].push({ seed, error: err?.[6] ?? 'no output', seconds });
        continue;
      }
      res[alg].push({ seed, score: scoreMoments(new Map(mine.map((x) => [x[2], [Number(x[3]), Number(x[4])] as [number, number]])), s.ref), seconds });
    }
  }
  return res;
}

/** Worst z and r range from per-quantity means and sds (the peer's draws summarized in R). */
export function scoreMoments(m: Map<string, [number, number]>, ref: Reference): Score {
  let worst = { z: -1, name: '' };
  let rMin = Infinity;
  let rMax = -Infinity;
  for (const name of ref.param_names) {
    const v = m.get(name);
    if (v === undefined) throw new Error(`scoreMoments: the peer has no '${name}'`);
    const st = ref.params[name];
    const z = Math.abs(v[0] - st.mean) / st.sd;
    const r = v[1] / st.sd;
    if (!(z <= worst.z)) worst = { z, name };
    rMin = Math.min(rMin, r);
    rMax = Math.max(rMax, r);
  }
  return { worstZ: worst.z, worstName: worst.name, rMin, rMax };
}
