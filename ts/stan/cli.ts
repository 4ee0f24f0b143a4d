#!/usr/bin/env node
/**
 * The `varinf` command line: `varinf fit model.stan data.json [--guide normal|mvn|lowrank|iaf|nsf|realnvp|bnaf|ffjord]
 * [--draws N] [--seed S] [--output DIR]` fits a Stan program with varinf's `fit`, prints the
 * summary table of every parameter, transformed parameter and generated quantity, the loss trace
 * as a picture and k̂ in words, and writes the draws as a CmdStan-layout CSV (`DIR/<model>.csv`).
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import '../backends/registry.js';
import { bijectTo } from '../bijectors/bijectTo.js';
import { VarinfError } from '../core/errors.js';
import type { Tensor } from '../core/tensor.js';
import { fit } from '../infer/index.js';
import { reshape, slice } from '../ops/shape.js';
import { trace } from '../ppl/handlers.js';
import { logDensity } from '../ppl/logdensity.js';
import { substitute } from '../ppl/handlers.js';
import { key } from '../random/key.js';
import type { Constraint } from '../distributions/constraints.js';
import { writeFileAtomic } from '../io/atomic.js';
import { fromStan, type StanModel } from './model.js';
import { cmdstanCsv, drawTable, sparkline, summaryTable } from './output.js';

export const USAGE = `Usage: varinf fit MODEL.stan DATA.json [options]

Fits a Stan program by variational inference (varinf's fit: a Laplace start, then the ELBO),
prints mean, sd and 5/50/95% quantiles of every parameter, transformed parameter and generated
quantity, the loss trace and the k̂ diagnostic, and writes the draws as a CmdStan CSV.

Options:
  --guide FAMILY               variational family: normal (default: mean-field Gaussian), mvn
                               (full-rank), lowrank, or a normalizing flow started at the
                               Laplace fit: iaf, nsf, realnvp, bnaf, ffjord
  --draws N                    draws of the fitted guide to summarize and write (default 1000)
  --seed S                     random seed (default 0)
  --output DIR                 folder for MODEL.csv (default: the current folder)
  -h, --help                   this text
`;

const GUIDES = ['normal', 'mvn', 'lowrank', 'iaf', 'nsf', 'realnvp', 'bnaf', 'ffjord'] as const;

interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
}

/** lp__ of each draw: the program's target plus the log-Jacobian of the constraining transforms. */
function lpOfDraws(m: StanModel, draws: Record<string, Tensor>): Float64Array {
  const S = draws[m.sites[0]]?.shape[0] ?? 0;
  const tr = trace(substitute(m.model, Object.fromEntries(m.sites.map((s) => [s, at(draws[s], 0)])))).getTrace();
  const supports: Record<string, Constraint> = {};
  for (const s of m.sites) supports[s] = (tr.get(s)!.fn as unknown as { support: Constraint }).support;
  return Float64Array.from({ length: S }, (_, i) => {
    const values = Object.fromEntries(m.sites.map((s) => [s, at(draws[s], i)]));
    let lp = logDensity(m.model, [], values).item();
    for (const s of m.sites) {
      const t = bijectTo(supports[s]);
      const x = values[s];
      const ld = t.logAbsDetJacobian(t.inverse(x), x);
      lp += ld.size === 1 ? ld.item() : Array.from(ld.dataSync()).reduce((a, b) => a + b, 0);
    }
    return lp;
  });
}

function at(t: Tensor, i: number): Tensor {
  const rest = t.shape.slice(1);
  return reshape(slice(t, [i, ...rest.map(() => 0)], [1, ...rest]), rest);
}

/**
 * Runs the command line with `argv` (without `node` and the script) and returns the exit code.
 * @example await main(['fit', 'eight_schools.stan', 'eight_schools.json', '--draws', '500'])
 */
export async function main(argv: string[], io: Io = { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) }): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        guide: { type: 'string', default: 'normal' },
        draws: { type: 'string', default: '1000' },
        seed: { type: 'string', default: '0' },
        output: { type: 'string', default: '.' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (e) {
    io.err(`varinf: ${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values: o, positionals: p } = parsed;
  if (o.help || p.length === 0) {
    io.out(USAGE);
    return o.help ? 0 : 2;
  }
  if (p[0] !== 'fit' || p.length !== 3) {
    io.err(`varinf: expected 'fit MODEL.stan DATA.json', found '${p.join(' ')}'\n\n${USAGE}`);
    return 2;
  }
  const guide = o.guide as string;
  if (!(GUIDES as readonly string[]).includes(guide)) {
    io.err(`varinf: --guide: expected one of ${GUIDES.join(', ')}, found '${guide}'\n`);
    return 2;
  }
  const draws = Number(o.draws);
  const seed = Number(o.seed);
  if (!Number.isInteger(draws) || draws < 1) {
    io.err(`varinf: --draws: expected a positive integer, found '${o.draws}'\n`);
    return 2;
  }
  if (!Number.isInteger(seed)) {
    io.err(`varinf: --seed: expected an integer, found '${o.seed}'\n`);
    return 2;
  }
  const [, modelPath, dataPath] = p;
  try {
    const code = readFileSync(modelPath, 'utf8');
    const data = JSON.parse(readFileSync(dataPath, 'utf8')) as Record<string, unknown>;
    const t0 = Date.now();
    const m = fromStan(code, data);
    const res = await fit(m.model, [], { guide: guide as (typeof GUIDES)[number], key: key(seed), numDraws: draws });
    const table = drawTable(m, res.draws, seed + 1);
    const lp = lpOfDraws(m, res.draws);
    io.out(`${basename(modelPath)}: ${m.unconstrainedDim} unconstrained parameters, guide ${guide}, ${draws} draws, ${((Date.now() - t0) / 1000).toFixed(1)} s\n\n`);
    io.out(summaryTable(table) + '\n\n');
    io.out(`loss (−ELBO) over ${res.losses.length} steps: ${sparkline(res.losses)}\n`);
    io.out(`ELBO ${res.elbo.toFixed(3)}; k̂ = ${res.khat.toFixed(2)}: ${res.khatText}\n`);
    for (const w of res.warnings) io.out(`warning: ${w}\n`);
    mkdirSync(o.output as string, { recursive: true });
    const csvPath = join(o.output as string, `${basename(modelPath).replace(/\.stan$/, '')}.csv`);
    const comments = [
      `varinf fit ${basename(modelPath)} ${basename(dataPath)}`,
      `guide = ${guide}`,
      `draws = ${draws}`,
      `seed = ${seed}`,
      `elbo = ${res.elbo}`,
      `khat = ${res.khat}`,
    ];
    writeFileAtomic(csvPath, cmdstanCsv(table, lp, comments));
    io.out(`draws written to ${csvPath}\n`);
    return 0;
  } catch (e) {
    if (e instanceof VarinfError || (e as NodeJS.ErrnoException).code === 'ENOENT' || e instanceof SyntaxError) {
      io.err(`varinf: ${(e as Error).message}\n`);
      return 1;
    }
    throw e;
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
