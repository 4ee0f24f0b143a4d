/** The tables of bench/vi/posteriordb-stan.ts, rendered from its per-fit records. */
import type { FitRecord, PeerRecord, Score } from './posteriordb-stan-lib.js';

/** One posterior's records: varinf's fits by `guide/key`, the peer's runs, or why it was skipped. */
export interface PosteriorResult {
  dim?: number;
  skipped?: string;
  errors?: string[];
  fits: Record<string, FitRecord>;
  peers: Partial<Record<'meanfield' | 'fullrank', PeerRecord[]>>;
}

/** Everything a run wrote: per posterior, and notes on each run (time, load, peers found). */
export interface Results {
  posteriors: Record<string, PosteriorResult>;
  notes: string[];
}

const f2 = (x: number): string => (Number.isFinite(x) ? (Math.abs(x) >= 100 ? x.toExponential(1) : x.toFixed(2)) : String(x));
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** The full-rank target of issue 19: worst z ≤ 0.1 and r within [0.9, 1.1]. */
export const missed = (s: Score): boolean => !(s.worstZ <= 0.1 && s.rMin >= 0.9 && s.rMax <= 1.1);

/** "worst z (median z) / r range" over keys or seeds. */
function cell(scores: Score[]): string {
  if (scores.length === 0) return '—';
  const zs = scores.map((s) => s.worstZ);
  return `${f2(Math.max(...zs))} (${f2(median(zs))}) / ${f2(Math.min(...scores.map((s) => s.rMin)))}–${f2(Math.max(...scores.map((s) => s.rMax)))}`;
}

function fitCells(p: PosteriorResult, guide: 'mvn' | 'normal'): string[] {
  const fs = Object.entries(p.fits)
    .filter(([id]) => id.startsWith(`${guide}/`))
    .map(([, f]) => f);
  if (fs.length === 0) return ['—', '—', '—', '—', '—'];
  const div = fs.filter((f) => f.diverged.length > 0).length;
  const gain = Math.min(...fs.map((f) => f.gainOverStart));
  return [
    `${cell(fs)}${fs.length < 3 ? ` (${fs.length} key${fs.length === 1 ? '' : 's'})` : ''}`,
    f2(Math.max(...fs.map((f) => f.khat))),
    div === 0 ? 'no' : `${div} of ${fs.length}`,
    `${gain < 0 ? '**below** ' : ''}${f2(gain)}`,
    `${median(fs.map((f) => f.seconds)).toFixed(1)} s`,
  ];
}

function peerCell(runs: PeerRecord[] | undefined): string {
  if (runs === undefined) return 'not run';
  const ok = runs.filter((r) => r.score !== undefined).map((r) => r.score!);
  const failed = runs.length - ok.length;
  return `${cell(ok)}${failed > 0 ? ` (${failed} of ${runs.length} failed)` : ''}`;
}

function confusion(results: Results, names: string[], guide: 'mvn' | 'normal'): string {
  const n = { tp: 0, fp: 0, fn: 0, tn: 0 };
  const fns: string[] = [];
  const fps: string[] = [];
  for (const name of names) {
    for (const [id, f] of Object.entries(results.posteriors[name]?.fits ?? {})) {
      if (!id.startsWith(`${guide}/`)) continue;
      const flag = f.khat > 0.7;
      const miss = missed(f);
      const what = `${name} key ${id.split('/')[1]} (k̂ ${f2(f.khat)}, z ${f2(f.worstZ)}, r ${f2(f.rMin)}–${f2(f.rMax)})`;
      if (flag && miss) n.tp++;
      else if (flag) {
        n.fp++;
        fps.push(what);
      } else if (miss) {
        n.fn++;
        fns.push(what);
      } else n.tn++;
    }
  }
  return [
    '| | missed the target | met the target |',
    '|---|---|---|',
    `| k̂ > 0.7 | ${n.tp} | ${n.fp} |`,
    `| k̂ ≤ 0.7 | ${n.fn} | ${n.tn} |`,
    '',
    `Missed but not flagged: ${fns.length === 0 ? 'none' : fns.join('; ')}.`,
    `Flagged but on target: ${fps.length === 0 ? 'none' : fps.join('; ')}.`,
  ].join('\n');
}

/** The markdown page: the table, the confusion tables, skipped posteriors, errors, run notes. */
export function renderReport(results: Results, names: string[]): string {
  const header =
    '| posterior | dim | varinf full-rank z (median) / r | k̂ max | diverged | ELBO gain over start (min) | time/fit | varinf mean-field z (median) / r | k̂ max | diverged | ELBO gain over start (min) | time/fit | Stan full-rank | Stan mean-field |';
  const rule = `|${'---|'.repeat(14)}`;
  const rows: string[] = [];
  const skipped: string[] = [];
  const errors: string[] = [];
  const defects: string[] = [];
  const budgets: string[] = [];
  for (const name of names) {
    const p = results.posteriors[name];
    if (p === undefined) continue;
    if (p.skipped !== undefined) skipped.push(`- ${name}: ${p.skipped}`);
    for (const e of p.errors ?? []) errors.push(`- ${name} ${e}`);
    if (Object.keys(p.fits).length === 0) continue;
    const budget = Object.values(p.fits).find((f) => f.budget !== undefined)?.budget;
    if (budget !== undefined) budgets.push(`- ${name}: ${budget}`);
    rows.push(`| ${name} | ${p.dim ?? '?'} | ${fitCells(p, 'mvn').join(' | ')} | ${fitCells(p, 'normal').join(' | ')} | ${peerCell(p.peers.fullrank)} | ${peerCell(p.peers.meanfield)} |`);
    const fr = Object.entries(p.fits).filter(([id]) => id.startsWith('mvn/'));
    const bad = fr.filter(([, f]) => missed(f) || f.diverged.length > 0 || f.gainOverStart < 0);
    if (bad.length > 0) defects.push(`- ${name}: ${bad.map(([id, f]) => `key ${id.split('/')[1]} z ${f2(f.worstZ)} (${f.worstName}), r ${f2(f.rMin)}–${f2(f.rMax)}, k̂ ${f2(f.khat)}${f.diverged.length > 0 ? ', diverged' : ''}`).join('; ')}`);
  }
  return `# posteriordb through the Stan front end: \`fit\` against NUTS references and Stan's ADVI

Generated by \`nice npx tsx bench/vi/posteriordb-stan.ts --peers --write\` (reads \`../shared/data/posteriordb\`).
Every reference posterior of posteriordb that has no hand-written varinf model (those are in
\`bench/README-posteriordb.md\`) is compiled by \`fromStan\` and fitted by \`fit\` with its defaults
(Laplace start, three Adam phases, the best candidate on common draws; 4000 guide draws for the
summaries and k̂), keys 0, 1, 2. Each fit cell is worst z (median z) / range of r over the three keys
and every reference quantity: z = |mean − ref mean| / ref sd, r = sd / ref sd, on the quantities
posteriordb's reference names (parameters and transformed parameters, Stan's 1-based \`name[i]\`
mapped to varinf's arrays). "ELBO gain over start" is the chosen candidate's ELBO minus the Laplace
start's on the same common draws (smallest over the keys; negative would mean \`fit\` ended below
its start). Stan's columns: rstan::vb (Stan 2.21 from Debian's r-cran-rstan, defaults: iter 10000,
tol_rel_obj 0.01, adapted eta, 1000 draws), seeds 1, 2, 3 (Stan's generator takes seed 0 as 1), same cell format, run by the same program
(\`--peers\`) on the same machine; where the run notes list several runs, varinf's fits were stored by
the first and later runs (\`--resume --peers\`) added rstan's. "not run" in Stan's columns: its model
was not compiled in time (each compile took 10–15 minutes under nice -n 19 on the loaded machine;
\`bench/peers/setup-rstan.sh\` compiles them). Timings are wall-clock on the shared 2-core
development machine under heavy load (see the run notes), so they are rough.

${header}
${rule}
${rows.join('\n')}

## k̂ as a flag: full-rank fits (each posterior × key)

"Missed the target": worst z > 0.1 or r outside [0.9, 1.1].

${confusion(results, names, 'mvn')}

## k̂ as a flag: mean-field fits (same criterion; a mean-field guide is not expected to meet it on correlated posteriors)

${confusion(results, names, 'normal')}

## Full-rank fits off the issue's targets (open defects unless the posterior is far from Gaussian)

${defects.length === 0 ? 'None.' : defects.join('\n')}

## Notes (by hand, from the runs below and one longer fit)

- The mesquite misses are the Gaussian family's limit, not a fit that stopped early: mesquite-logmesquite
  full-rank with key 0 and long phases (1500–3000 steps each, 8 → 16 → 32 particles, 20,000 draws) ends
  on the same ELBO plateau as the default fit (every phase's end and average within 0.07 nats of each
  other) and still has r = 0.89 for sigma (betas 0.95–0.98): with 46 trees the posterior of log sigma
  is skewed, and the Gaussian in log sigma under-disperses sigma. k̂ ≈ 0.5 does not flag it: the
  confusion table's three misses are all of this kind, so k̂ > 0.7 does not flag exactly the misses.
- The two flagged-but-on-target fits (earnings key 2, k̂ 0.77) are k̂ estimates near the threshold
  from 4000 draws; the same posteriors with keys 0 and 1 have k̂ 0.32–0.50.
- Every full-rank fit: no diverged phase; the chosen candidate is never below the Laplace start (the
  selection guarantees it on the common draws; the gain column shows by how much it rose).
- Mean-field: varinf's median worst z is below the better of rstan's two algorithms' median on every
  posterior that both ran; its under-dispersion (r down to 0.01–0.2 for correlated coefficients) is in
  the r column, and k̂ > 0.7 flags 49 of its 63 fits (all 63 miss the full-rank target).
- rstan::vb with Stan's defaults stops early (tol_rel_obj 0.01, 1–10 s per run) and is often far off
  (full-rank worst z up to 10¹⁶ on earnings with an interaction); some seeds fail outright
  ("dropped evaluations has reached its maximum"), reported as failed runs.
- The AutoMVN times above were taken when fit's full-rank whitening (\`whitenFactor\`) read the
  scale factor on the host, so those fits ran eager; it is tensor ops now and they compile
  (bench/README-fit-compiled.md: compiled phases 1.2–2× faster on two of these regressions at load 6, same trajectory).

## Reduced budgets

Posteriors whose log density is slow to evaluate ran under these budgets (\`BUDGETS\` in
bench/vi/posteriordb-stan-lib.ts) instead of fit's defaults:

${budgets.length === 0 ? 'None.' : budgets.join('\n')}

## Skipped

${skipped.length === 0 ? 'None.' : skipped.join('\n')}

## Errors

${errors.length === 0 ? 'None.' : errors.join('\n')}

## Run notes

${results.notes.map((n) => `- ${n}`).join('\n')}
`;
}
