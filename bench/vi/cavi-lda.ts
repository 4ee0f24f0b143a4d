/**
 * LDA on AssociatedPress: varinf batch CAVI and SVI (1 and 2 threads) against scikit-learn's
 * LatentDirichletAllocation (batch and online) in the same run, K = 10, 20 epochs, the last 10% of
 * documents held out. Run: npx tsx bench/vi/cavi-lda.ts [DATA_DIR] [--no-peer] [--seeds N]. Prints two markdown
 * tables.
 *
 * Held-out evaluation, three ways (each side evaluates its own fit in the first table; the second
 * table evaluates every fit's topics, scikit-learn's included, with varinf's evaluator):
 *   - scikit-learn's perplexity formula: exp(−bound / tokens) after a fresh local step, the bound
 *     including the topic term E[log p(β) − log q(β)] (counted once, whatever the document count);
 *   - the per-document bound only (the same without the topic term);
 *   - document completion: the non-zeros of each held-out document with an even term index are
 *     observed, θ̄ = E[θ | observed], and the perplexity is that of the odd-index non-zeros under
 *     p(w) = Σ_k θ̄_k β̄_kw, β̄ = E[β] (the same split and formula in cavi_lda.py).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DocTermMatrix, docTermFromTriplets, readDocTermFile, readVocabFile, selectDocs } from '../../ts/data/docterm.js';
import { type LdaFit, ldaCavi, ldaSvi, ldaTransform, topWords } from '../../ts/infer/cavi/index.js';
import { key } from '../../ts/index.js';
import { fmt, runPeer } from './cavi-peers.js';

const args = process.argv.slice(2);
const seedsAt = args.indexOf('--seeds');
const seeds = seedsAt >= 0 ? Number(args.splice(seedsAt, 2)[1]) : 0;
const dataDir = args.find((a) => !a.startsWith('--')) ?? new URL('../../../shared/data/associated-press', import.meta.url).pathname;
const K = 10;
const EPOCHS = 20;

const all = readDocTermFile(`${dataDir}/ap_triplets.txt`);
const vocab = readVocabFile(`${dataDir}/ap_vocab.txt`);
const heldout = Math.round(all.nDocs / 10);
const ntrain = all.nDocs - heldout;
const train = selectDocs(all, Array.from({ length: ntrain }, (_, i) => i));
const test = selectDocs(all, Array.from({ length: heldout }, (_, i) => ntrain + i));

/** Splits each document's non-zeros by term parity: [even terms (observed), odd terms (evaluated)]. */
function paritySplit(m: DocTermMatrix): [DocTermMatrix, DocTermMatrix] {
  const parts = [0, 1].map((par) => {
    const d: number[] = [];
    const t: number[] = [];
    const c: number[] = [];
    for (let i = 0; i < m.nDocs; i++)
      for (let p = m.indptr[i]; p < m.indptr[i + 1]; p++)
        if (m.indices[p] % 2 === par) {
          d.push(i);
          t.push(m.indices[p]);
          c.push(m.counts[p]);
        }
    return docTermFromTriplets(d, t, c, { nDocs: m.nDocs, nTerms: m.nTerms });
  });
  return [parts[0], parts[1]];
}
const [observed, evaluated] = paritySplit(test);

function completionPerplexity(fit: LdaFit): number {
  const { k, nTerms, lambda } = fit;
  const { gamma } = ldaTransform(fit, observed);
  const colSum = new Float64Array(k);
  for (let w = 0; w < nTerms; w++) for (let t = 0; t < k; t++) colSum[t] += lambda[w * k + t];
  let ll = 0;
  let n = 0;
  for (let d = 0; d < evaluated.nDocs; d++) {
    let gs = 0;
    for (let t = 0; t < k; t++) gs += gamma[d * k + t];
    for (let p = evaluated.indptr[d]; p < evaluated.indptr[d + 1]; p++) {
      const w = evaluated.indices[p];
      let pw = 0;
      for (let t = 0; t < k; t++) pw += (gamma[d * k + t] / gs) * (lambda[w * k + t] / colSum[t]);
      ll += evaluated.counts[p] * Math.log(pw);
      n += evaluated.counts[p];
    }
  }
  return Math.exp(-ll / n);
}

interface Evaluation {
  train_elbo: number;
  train_perplexity: number;
  heldout_perplexity: number;
  heldout_doc_perplexity: number;
  completion_perplexity: number;
}
interface Row extends Evaluation {
  impl: string;
  method: string;
  threads: string;
  wall_s: number;
  iterations: number;
}

function evaluate(fit: LdaFit): Evaluation {
  const a = ldaTransform(fit, train, { threads: 2 });
  const b = ldaTransform(fit, test);
  const c = ldaTransform(fit, test, { includeTopicTerm: false });
  return { train_elbo: a.elbo, train_perplexity: a.perplexity, heldout_perplexity: b.perplexity, heldout_doc_perplexity: c.perplexity, completion_perplexity: completionPerplexity(fit) };
}

if (seeds > 0) {
  seedStudy(seeds);
  process.exit(0);
}

/**
 * --seeds N: SVI only, N seeds a side (varinf key(s), scikit-learn online random_state = s), each
 * side evaluating its own fit; the table gives every seed, then mean ± sd and Welch's t per metric.
 */
function seedStudy(n: number): void {
  const l0 = loadavg()[0];
  const mine: Evaluation[] = [];
  for (let s = 0; s < n; s++) mine.push(evaluate(ldaSvi(train, { k: K, epochs: EPOCHS, batchSize: 128, key: key(s), threads: 2 })));
  const peer = args.includes('--no-peer') ? 'skipped (--no-peer)' : runPeer<Evaluation[]>('cavi_lda.py', [dataDir, String(K), String(EPOCHS), String(heldout), '--seeds', String(n)], 3_600_000);
  const theirs = typeof peer === 'string' ? [] : peer;
  if (typeof peer === 'string') console.log(`scikit-learn: ${peer}\n`);
  console.log(`LDA SVI (|S| = 128, ρ_t = (10 + t)^−0.7, ${EPOCHS} epochs, K = ${K}) over ${n} seeds a side; 1-minute load ${l0.toFixed(1)} → ${loadavg()[0].toFixed(1)}\n`);
  const metrics: [keyof Evaluation, string][] = [
    ['train_perplexity', 'train perplexity'],
    ['heldout_perplexity', 'held-out perplexity (sklearn formula)'],
    ['heldout_doc_perplexity', 'held-out, per-doc bound'],
    ['completion_perplexity', 'held-out, doc. completion'],
  ];
  console.log(`| seed | impl | ${metrics.map((m) => m[1]).join(' | ')} |`);
  console.log(`| ---: | --- | ${metrics.map(() => '---:').join(' | ')} |`);
  for (let s = 0; s < n; s++)
    for (const [impl, e] of [['varinf', mine[s]], ['scikit-learn online', theirs[s]]] as const)
      if (e !== undefined) console.log(`| ${s} | ${impl} | ${metrics.map(([m]) => fmt(e[m])).join(' | ')} |`);
  const stats = (v: number[]): [number, number] => {
    const m = v.reduce((a, b) => a + b, 0) / v.length;
    return [m, Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / Math.max(1, v.length - 1))];
  };
  console.log('\n| metric | varinf mean ± sd | scikit-learn mean ± sd | varinf − sklearn | Welch t |');
  console.log('| --- | ---: | ---: | ---: | ---: |');
  for (const [m, label] of metrics) {
    const [a, sa] = stats(mine.map((e) => e[m]));
    if (theirs.length === 0) {
      console.log(`| ${label} | ${fmt(a)} ± ${fmt(sa)} | — | — | — |`);
      continue;
    }
    const [b, sb] = stats(theirs.map((e) => e[m]));
    const t = (a - b) / Math.sqrt((sa * sa) / mine.length + (sb * sb) / theirs.length);
    console.log(`| ${label} | ${fmt(a)} ± ${fmt(sa)} | ${fmt(b)} ± ${fmt(sb)} | ${(100 * (a / b - 1)).toFixed(1)}% | ${t.toFixed(2)} |`);
  }
}

const load0 = loadavg()[0];
const rows: Row[] = [];
const fits: [string, LdaFit][] = [];
let batch: LdaFit | null = null;
for (const threads of [1, 2]) {
  let t0 = performance.now();
  const b = ldaCavi(train, { k: K, maxIter: EPOCHS, tol: 0, key: key(0), threads });
  rows.push({ impl: 'varinf', method: 'batch CAVI', threads: String(threads), wall_s: (performance.now() - t0) / 1000, iterations: b.trace.iterations, ...evaluate(b) });
  t0 = performance.now();
  const s = ldaSvi(train, { k: K, epochs: EPOCHS, batchSize: 128, key: key(0), threads });
  rows.push({ impl: 'varinf', method: 'SVI (\\|S\\| = 128)', threads: String(threads), wall_s: (performance.now() - t0) / 1000, iterations: s.epochs, ...evaluate(s) });
  if (threads === 1) {
    // The fits do not depend on the thread count (bit-identical); keep one of each.
    batch = b;
    fits.push(['varinf batch CAVI', b], ['varinf SVI', s]);
  }
}

if (!args.includes('--no-peer')) {
  const out = mkdtempSync(join(tmpdir(), 'cavi-lda-'));
  const peer = runPeer<(Evaluation & { method: string; wall_s: number; iterations: number })[]>('cavi_lda.py', [dataDir, String(K), String(EPOCHS), String(heldout), out]);
  if (typeof peer === 'string') console.log(`scikit-learn: ${peer}\n`);
  else
    for (const r of peer) {
      rows.push({ ...r, impl: 'scikit-learn', method: r.method === 'batch' ? 'batch' : 'online (\\|S\\| = 128)', threads: '1 (n_jobs default)' });
      // components_ is K × V; varinf's λ is V × K.
      const c = new Float64Array(readFileSync(join(out, `sklearn_${r.method}.f64`)).buffer.slice(0));
      const lambda = new Float64Array(all.nTerms * K);
      for (let t = 0; t < K; t++) for (let w = 0; w < all.nTerms; w++) lambda[w * K + t] = c[t * all.nTerms + w];
      fits.push([`scikit-learn ${r.method}`, { k: K, nTerms: all.nTerms, alpha: 1 / K, eta: 1 / K, lambda, maxDocIter: 100, docTol: 1e-3 }]);
    }
}
const load1 = loadavg()[0];

console.log(`LDA on AssociatedPress: ${ntrain} training / ${heldout} held-out documents, ${all.nTerms} terms, K = ${K}, ${EPOCHS} epochs`);
console.log(`(${availableParallelism()} cores; 1-minute load average ${load0.toFixed(1)} at the start, ${load1.toFixed(1)} at the end)\n`);
console.log('Each side evaluating its own fit:\n');
console.log('| impl | method | threads | wall s | s/epoch | epochs | train ELBO | train perplexity | held-out perplexity (sklearn formula) | held-out, per-doc bound | held-out, doc. completion |');
console.log('| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const r of rows)
  console.log(
    `| ${r.impl} | ${r.method} | ${r.threads} | ${fmt(r.wall_s, 2)} | ${fmt(r.wall_s / r.iterations, 3)} | ${r.iterations} | ${fmt(r.train_elbo)} | ${fmt(r.train_perplexity)} | ${fmt(r.heldout_perplexity)} | ${fmt(r.heldout_doc_perplexity)} | ${fmt(r.completion_perplexity)} |`,
  );
console.log("\nEvery fit's topics through varinf's evaluator (same local step, same init, same formulas):\n");
console.log('| topics from | train perplexity | held-out perplexity (sklearn formula) | held-out, per-doc bound | held-out, doc. completion |');
console.log('| --- | ---: | ---: | ---: | ---: |');
for (const [name, f] of fits) {
  const e = evaluate(f);
  console.log(`| ${name} | ${fmt(e.train_perplexity)} | ${fmt(e.heldout_perplexity)} | ${fmt(e.heldout_doc_perplexity)} | ${fmt(e.completion_perplexity)} |`);
}
if (batch) {
  console.log('\nTop words (varinf batch CAVI):');
  for (const [t, ws] of topWords(batch, vocab, 8).entries()) console.log(`- topic ${t}: ${ws.join(' ')}`);
}
