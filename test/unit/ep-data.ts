/**
 * Ionosphere and Sonar (test/fixtures/ep-*.csv, exported from R's mlbench by
 * bench/ep/export-mlbench.R), preprocessed as bench/peers/ep_gpy.py does: each feature standardized
 * to mean 0 and population sd 1, constant columns dropped; rows with index % 3 == 2 are the test set.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A train/test split of a binary classification set. */
export interface EpSplit {
  xTrain: number[][];
  yTrain: number[];
  xTest: number[][];
  yTest: number[];
}

/** Reads a fixture CSV (header, features, 0/1 label last) from `dir` and splits it. */
export function loadEpSplit(csv: string, dir = join(import.meta.dirname, '..', 'fixtures')): EpSplit {
  const lines = readFileSync(join(dir, csv), 'utf8').trim().split('\n').slice(1);
  const rows = lines.map((l) => l.split(',').map(Number));
  const d = rows[0].length - 1;
  const keep: number[] = [];
  const mean: number[] = [];
  const sd: number[] = [];
  for (let j = 0; j < d; j++) {
    const col = rows.map((r) => r[j]);
    const m = col.reduce((a, b) => a + b, 0) / col.length;
    const s = Math.sqrt(col.reduce((a, b) => a + (b - m) ** 2, 0) / col.length);
    mean.push(m); sd.push(s);
    if (s > 0) keep.push(j);
  }
  const out: EpSplit = { xTrain: [], yTrain: [], xTest: [], yTest: [] };
  rows.forEach((r, i) => {
    const x = keep.map((j) => (r[j] - mean[j]) / sd[j]);
    if (i % 3 === 2) { out.xTest.push(x); out.yTest.push(r[d]); } else { out.xTrain.push(x); out.yTrain.push(r[d]); }
  });
  return out;
}
