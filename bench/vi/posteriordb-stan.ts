/**
 * `fit` on the posteriordb reference posteriors that run only through the Stan front end
 * (`fromStan`): full-rank (`guide: 'mvn'`) and mean-field (`'normal'`), keys 0, 1, 2, against
 * posteriordb's gold-standard NUTS summaries, beside Stan's own ADVI (rstan::vb, Debian's
 * r-cran-rstan, Stan 2.21: mean-field and full-rank, seeds 1, 2, 3) run by the same program.
 *
 * Reads ../shared/data/posteriordb (program, data, reference.json); a user's clone lacks it.
 * Per posterior and guide: worst-key z = max over keys of max |mean − ref mean| / ref sd over the
 * reference's quantities, the range of r = sd / ref sd over keys and quantities, the largest k̂,
 * whether any phase diverged (result.warnings), the chosen candidate's ELBO gain over the Laplace
 * start on the common draws (negative would mean `fit` ended below its start), the median time
 * per fit. Then the k̂ confusion table of the full-rank fits: k̂ > 0.7 against "missed the target"
 * (worst z > 0.1 or r outside [0.9, 1.1]).
 *
 * Each fit's record is kept in bench/results/posteriordb-stan.json (git-ignored), so a run can be
 * resumed (--resume) and the tables printed again without fitting (--report).
 *
 * Run: nice npx tsx bench/vi/posteriordb-stan.ts [--keys 0,1,2] [--guides mvn,normal] [--slow-s 180] [--store posteriordb-stan.json] [--mode-starts 1]
 *        [--peers] [--resume] [--report] [--write] [name ...]
 * The two slow posteriors run under the reduced budgets of BUDGETS (posteriordb-stan-lib.ts), e.g.
 *   nice npx tsx bench/vi/posteriordb-stan.ts --guides mvn --slow-s 1500 --store slow.json hudson_lynx_hare-lotka_volterra
 *      nice npx tsx bench/vi/posteriordb-stan.ts --compile-peers   (rstan models, once, serially)
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg, cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { compile, compilePeer, readSource, rstanAvailable, runFit, runPeer, stanOnlyPosteriors, RESULTS, type FitRecord, type PeerRecord } from './posteriordb-stan-lib.js';
import { renderReport, type Results } from './posteriordb-stan-report.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    keys: { type: 'string', default: '0,1,2' },
    peers: { type: 'boolean', default: false },
    resume: { type: 'boolean', default: false },
    report: { type: 'boolean', default: false },
    write: { type: 'boolean', default: false },
    'compile-peers': { type: 'boolean', default: false },
    'slow-s': { type: 'string', default: '180' },
    guides: { type: 'string', default: 'mvn,normal' },
    store: { type: 'string', default: 'posteriordb-stan.json' },
    'mode-starts': { type: 'string', default: '1' },
  },
});
const keys = values.keys.split(',').map(Number);
const slowS = Number(values['slow-s']);
const todo = positionals.length > 0 ? positionals : stanOnlyPosteriors();
const store = `${RESULTS}${values.store}`;
const guides = values.guides.split(',') as ('mvn' | 'normal')[];
const results: Results = existsSync(store) && (values.resume || values.report) ? (JSON.parse(readFileSync(store, 'utf8')) as Results) : { posteriors: {}, notes: [] };
const save = (): void => writeFileSync(store, JSON.stringify(results, null, 1));

const load = (): string => `load average ${loadavg().map((x) => x.toFixed(1)).join(' ')} on ${cpus().length} cores`;
console.log(`posteriordb through fromStan: ${todo.length} posteriors, keys ${keys.join(', ')}; reads ../shared/data/posteriordb; ${load()}`);

if (values['compile-peers']) {
  const av = rstanAvailable();
  if (!av.ok) throw new Error(`rstan is not available: ${av.why}`);
  for (const name of todo) console.log(`${name}: ${compilePeer(readSource(name))}`);
  process.exit(0);
}

if (!values.report) {
  const peer = values.peers ? rstanAvailable() : { ok: false, why: 'not asked for (--peers)' };
  results.notes.push(`run at ${new Date().toISOString()}: ${load()}; peers: ${peer.ok ? peer.why : `none (${peer.why})`}`);
  console.log(`peers: ${peer.ok ? peer.why : `none (${peer.why})`}`);
  for (const name of todo) {
    const s = readSource(name);
    const entry = (results.posteriors[name] ??= { fits: {}, peers: {} });
    const m = compile(s);
    if (typeof m === 'string') {
      entry.skipped = `fromStan does not compile it: ${m}`;
      console.log(`${name}: skipped (${entry.skipped})`);
      save();
      continue;
    }
    entry.dim = m.unconstrainedDim;
    for (const guide of guides) {
      for (const k of keys) {
        const id = `${guide}/${k}`;
        if (entry.fits[id] !== undefined || entry.skipped !== undefined) continue;
        let rec: FitRecord;
        try {
          rec = await runFit(name, m, s.ref, guide, k, slowS, Number(values['mode-starts']));
        } catch (e) {
          const err = `${(e as Error).constructor.name}: ${(e as Error).message.split('\n')[0]}`;
          // A feature fromStan lacks shows up when the model first runs: skip the posterior and say why.
          if (err.startsWith('StanUnsupportedError')) entry.skipped = `fromStan cannot run it: ${err}`;
          else if (err.startsWith('AbortError')) entry.skipped = `very slow: a ${guide} fit was still running after ${slowS} s (${err}); left out of the runs`;
          else entry.errors = [...(entry.errors ?? []), `${id}: ${err}`];
          console.log(`${name} ${id}: ${err}`);
          save();
          continue;
        }
        entry.fits[id] = rec;
        console.log(
          `${name} ${id}: z ${rec.worstZ.toFixed(3)} (${rec.worstName}) r ${rec.rMin.toFixed(2)}–${rec.rMax.toFixed(2)} k̂ ${rec.khat.toFixed(2)} ${rec.chosen} +${rec.gainOverStart.toFixed(2)} ${rec.diverged.length > 0 ? 'DIVERGED ' : ''}${rec.seconds.toFixed(1)} s`,
        );
        if (rec.seconds > slowS) entry.skipped = `very slow: one ${guide} fit took ${rec.seconds.toFixed(0)} s (> ${slowS} s); the other fits were left out`;
        save();
      }
    }
    if (peer.ok && entry.skipped === undefined && (entry.peers.meanfield === undefined || !values.resume)) {
      const t = performance.now();
      // Stan seeds 1, 2, 3: Stan's generator maps seed 0 to 1 (boost's ecuyer1988), so seeds 0 and 1 give the same run.
      const p: Record<'meanfield' | 'fullrank', PeerRecord[]> | null = runPeer(s, keys.map((k) => k + 1));
      if (p === null) {
        console.log(`${name} rstan: not run (its model is not compiled: bench/peers/setup-rstan.sh ${name})`);
        continue;
      }
      entry.peers = p;
      console.log(`${name} rstan: ${((performance.now() - t) / 1000).toFixed(0)} s, ${p.meanfield.concat(p.fullrank).filter((x) => x.error !== undefined).length} failed runs`);
      save();
    }
  }
  results.notes.push(`finished at ${new Date().toISOString()}: ${load()}`);
  save();
}

const md = renderReport(results, todo);
console.log(md);
if (values.write) writeFileSync(fileURLToPath(new URL('../README-posteriordb-stan.md', import.meta.url)), md);
