/**
 * LDA on AssociatedPress: varinf batch CAVI and SVI against scikit-learn's LatentDirichletAllocation
 * (batch and online) in the same run, K = 10, 20 epochs, the last 10% of documents held out.
 * Run: npx tsx bench/vi/cavi-lda.ts [DATA_DIR] [--no-peer]. Prints a markdown table.
 *
 * ELBO: scikit-learn's bound (all constants included, the topic term E[log p(β) − log q(β)]
 * included), evaluated for both libraries after a fresh local step on the documents, as
 * scikit-learn's `perplexity` does; perplexity = exp(−ELBO / tokens).
 */
import { type DocTermMatrix, readDocTermFile, readVocabFile, selectDocs } from '../../ts/data/docterm.js';
import { type LdaFit, ldaCavi, ldaSvi, ldaTransform, topWords } from '../../ts/infer/cavi/index.js';
import { key } from '../../ts/index.js';
import { fmt, runPeer } from './cavi-peers.js';

const args = process.argv.slice(2);
const dataDir = args.find((a) => !a.startsWith('--')) ?? new URL('../../../shared/data/associated-press', import.meta.url).pathname;
const K = 10;
const EPOCHS = 20;

const all = readDocTermFile(`${dataDir}/ap_triplets.txt`);
const vocab = readVocabFile(`${dataDir}/ap_vocab.txt`);
const heldout = Math.round(all.nDocs / 10);
const ntrain = all.nDocs - heldout;
const train = selectDocs(all, Array.from({ length: ntrain }, (_, i) => i));
const test = selectDocs(all, Array.from({ length: heldout }, (_, i) => ntrain + i));

interface Row {
  impl: string;
  method: string;
  wall_s: number;
  iterations: number;
  train_elbo: number;
  train_perplexity: number;
  heldout_perplexity: number;
}

function evaluate(impl: string, method: string, wall: number, iters: number, fit: LdaFit, tr: DocTermMatrix, te: DocTermMatrix): Row {
  const a = ldaTransform(fit, tr);
  const b = ldaTransform(fit, te);
  return { impl, method, wall_s: wall, iterations: iters, train_elbo: a.elbo, train_perplexity: a.perplexity, heldout_perplexity: b.perplexity };
}

const rows: Row[] = [];
let t0 = performance.now();
const batch = ldaCavi(train, { k: K, maxIter: EPOCHS, tol: 0, key: key(0) });
rows.push(evaluate('varinf', 'batch CAVI', (performance.now() - t0) / 1000, batch.trace.iterations, batch, train, test));
t0 = performance.now();
const svi = ldaSvi(train, { k: K, epochs: EPOCHS, batchSize: 128, key: key(0) });
rows.push(evaluate('varinf', 'SVI (|S| = 128)', (performance.now() - t0) / 1000, svi.epochs, svi, train, test));

if (!args.includes('--no-peer')) {
  const peer = runPeer<Omit<Row, 'impl'>[]>('cavi_lda.py', [dataDir, String(K), String(EPOCHS), String(heldout)]);
  if (typeof peer === 'string') console.log(`scikit-learn: ${peer}\n`);
  else for (const r of peer) rows.push({ ...r, impl: 'scikit-learn', method: r.method === 'batch' ? 'batch' : 'online (|S| = 128)' });
}

console.log(`LDA on AssociatedPress: ${ntrain} training / ${heldout} held-out documents, ${all.nTerms} terms, K = ${K}, ${EPOCHS} epochs\n`);
console.log('| impl | method | wall s | s/epoch | epochs | train ELBO | train perplexity | held-out perplexity |');
console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const r of rows)
  console.log(
    `| ${r.impl} | ${r.method} | ${fmt(r.wall_s, 2)} | ${fmt(r.wall_s / r.iterations, 3)} | ${r.iterations} | ${fmt(r.train_elbo)} | ${fmt(r.train_perplexity)} | ${fmt(r.heldout_perplexity)} |`,
  );
console.log('\nTop words (varinf batch CAVI):');
for (const [t, ws] of topWords(batch, vocab, 8).entries()) console.log(`- topic ${t}: ${ws.join(' ')}`);
