/**
 * Sparse document–term matrices (CSR: one row per document, its non-zero terms and counts) and a
 * reader for the triplet text format: a header line `documents terms nonzeros`, then one line
 * `document term count` per non-zero cell, indices 1-based (the AssociatedPress corpus's format).
 * Memory grows with the number of non-zeros, never with documents × vocabulary.
 */
import { readFileSync } from 'node:fs';
import { ShapeError, ValueError } from '../core/errors.js';

/** A documents × terms count matrix in CSR form. Row d's entries are `indptr[d] .. indptr[d+1]`. */
export interface DocTermMatrix {
  /** Number of documents (rows). */
  readonly nDocs: number;
  /** Vocabulary size (columns). */
  readonly nTerms: number;
  /** Length nDocs + 1. */
  readonly indptr: Int32Array;
  /** Term index (0-based) of each non-zero. */
  readonly indices: Int32Array;
  /** Count of each non-zero (positive, finite; need not be an integer). */
  readonly counts: Float64Array;
}

/**
 * Builds a CSR matrix from 0-based triplets (any order; repeated cells are summed). Throws
 * ValueError naming the entry for an index out of range or a count that is negative, NaN or Inf.
 * Zero counts are dropped; documents with no terms are kept as empty rows.
 * @example docTermFromTriplets([0, 0, 1], [2, 5, 2], [1, 3, 2], { nDocs: 2, nTerms: 6 })
 */
export function docTermFromTriplets(
  docs: ArrayLike<number>,
  terms: ArrayLike<number>,
  counts: ArrayLike<number>,
  shape: { nDocs: number; nTerms: number },
): DocTermMatrix {
  const { nDocs, nTerms } = shape;
  if (!(Number.isInteger(nDocs) && nDocs >= 0 && Number.isInteger(nTerms) && nTerms >= 1))
    throw new ValueError(`docTermFromTriplets: nDocs must be a non-negative integer and nTerms a positive one, got ${nDocs}, ${nTerms}`);
  const nnz = docs.length;
  if (terms.length !== nnz || counts.length !== nnz)
    throw new ShapeError(`docTermFromTriplets: docs, terms and counts have lengths ${nnz}, ${terms.length}, ${counts.length}`);
  const rowCount = new Int32Array(nDocs + 1);
  for (let i = 0; i < nnz; i++) {
    const d = docs[i];
    const t = terms[i];
    const c = counts[i];
    if (!(Number.isInteger(d) && d >= 0 && d < nDocs)) throw new ValueError(`docTermFromTriplets: entry ${i} has document index ${d}, outside [0, ${nDocs})`);
    if (!(Number.isInteger(t) && t >= 0 && t < nTerms)) throw new ValueError(`docTermFromTriplets: entry ${i} has term index ${t}, outside the vocabulary [0, ${nTerms})`);
    if (!(Number.isFinite(c) && c >= 0)) throw new ValueError(`docTermFromTriplets: entry ${i} has count ${c}; counts must be finite and >= 0`);
    if (c > 0) rowCount[d + 1]++;
  }
  for (let d = 0; d < nDocs; d++) rowCount[d + 1] += rowCount[d];
  const indptr = rowCount.slice();
  const fill = rowCount.slice(0, nDocs);
  const total = indptr[nDocs];
  const indices = new Int32Array(total);
  const vals = new Float64Array(total);
  for (let i = 0; i < nnz; i++) {
    if (counts[i] === 0) continue;
    const p = fill[docs[i]]++;
    indices[p] = terms[i];
    vals[p] = counts[i];
  }
  return sortAndMerge({ nDocs, nTerms, indptr, indices, counts: vals });
}

/** Sorts each row by term and sums repeated terms. */
function sortAndMerge(m: DocTermMatrix): DocTermMatrix {
  const { nDocs, indptr, indices, counts } = m;
  let sorted = true;
  let dup = false;
  for (let d = 0; d < nDocs && sorted; d++)
    for (let p = indptr[d] + 1; p < indptr[d + 1]; p++) {
      if (indices[p] < indices[p - 1]) sorted = false;
      else if (indices[p] === indices[p - 1]) dup = true;
    }
  if (sorted && !dup) return m;
  const outPtr = new Int32Array(nDocs + 1);
  const outIdx: number[] = [];
  const outCnt: number[] = [];
  for (let d = 0; d < nDocs; d++) {
    const order: number[] = [];
    for (let p = indptr[d]; p < indptr[d + 1]; p++) order.push(p);
    order.sort((a, b) => indices[a] - indices[b]);
    for (const p of order) {
      if (outIdx.length > outPtr[d] && outIdx[outIdx.length - 1] === indices[p]) outCnt[outCnt.length - 1] += counts[p];
      else {
        outIdx.push(indices[p]);
        outCnt.push(counts[p]);
      }
    }
    outPtr[d + 1] = outIdx.length;
  }
  return { nDocs, nTerms: m.nTerms, indptr: outPtr, indices: Int32Array.from(outIdx), counts: Float64Array.from(outCnt) };
}

/**
 * Parses the triplet text format (header `documents terms nonzeros`, then `document term count`
 * lines, 1-based). Throws ValueError naming the line for malformed lines, indices out of range,
 * or a line count that disagrees with the header.
 */
export function parseDocTermTriplets(text: string): DocTermMatrix {
  const lines = text.split('\n');
  const header = lines[0].trim().split(/\s+/).map(Number);
  if (header.length !== 3 || header.some((v) => !Number.isInteger(v) || v < 0))
    throw new ValueError(`parseDocTermTriplets: line 1 must be 'documents terms nonzeros', got '${lines[0].slice(0, 80)}'`);
  const [nDocs, nTerms, nnz] = header;
  const docs = new Int32Array(nnz);
  const terms = new Int32Array(nnz);
  const counts = new Float64Array(nnz);
  let i = 0;
  for (let ln = 1; ln < lines.length; ln++) {
    const line = lines[ln];
    if (line.trim() === '') continue;
    const parts = line.trim().split(/\s+/);
    if (parts.length !== 3) throw new ValueError(`parseDocTermTriplets: line ${ln + 1} must be 'document term count', got '${line.slice(0, 80)}'`);
    if (i >= nnz) throw new ValueError(`parseDocTermTriplets: more than the ${nnz} non-zeros the header declares (line ${ln + 1})`);
    const d = Number(parts[0]);
    const t = Number(parts[1]);
    const c = Number(parts[2]);
    if (!(Number.isInteger(d) && d >= 1 && d <= nDocs)) throw new ValueError(`parseDocTermTriplets: line ${ln + 1} has document ${parts[0]}, outside 1..${nDocs}`);
    if (!(Number.isInteger(t) && t >= 1 && t <= nTerms)) throw new ValueError(`parseDocTermTriplets: line ${ln + 1} has term ${parts[1]}, outside the vocabulary 1..${nTerms}`);
    if (!(Number.isFinite(c) && c >= 0)) throw new ValueError(`parseDocTermTriplets: line ${ln + 1} has count ${parts[2]}; counts must be finite and >= 0`);
    docs[i] = d - 1;
    terms[i] = t - 1;
    counts[i] = c;
    i++;
  }
  if (i !== nnz) throw new ValueError(`parseDocTermTriplets: the header declares ${nnz} non-zeros but ${i} lines follow`);
  return docTermFromTriplets(docs, terms, counts, { nDocs, nTerms });
}

/** Reads a triplet file (see `parseDocTermTriplets`). */
export function readDocTermFile(path: string): DocTermMatrix {
  return parseDocTermTriplets(readFileSync(path, 'utf8'));
}

/** Reads a vocabulary file: one term per line, line i is term i (trailing empty line ignored). */
export function readVocabFile(path: string): string[] {
  const lines = readFileSync(path, 'utf8').split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** The rows `docIds` of `m`, in that order, as a new matrix over the same vocabulary. */
export function selectDocs(m: DocTermMatrix, docIds: ArrayLike<number>): DocTermMatrix {
  const n = docIds.length;
  const indptr = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) {
    const d = docIds[i];
    if (!(Number.isInteger(d) && d >= 0 && d < m.nDocs)) throw new ValueError(`selectDocs: document ${d} outside [0, ${m.nDocs})`);
    indptr[i + 1] = indptr[i] + m.indptr[d + 1] - m.indptr[d];
  }
  const indices = new Int32Array(indptr[n]);
  const counts = new Float64Array(indptr[n]);
  for (let i = 0; i < n; i++) {
    const d = docIds[i];
    indices.set(m.indices.subarray(m.indptr[d], m.indptr[d + 1]), indptr[i]);
    counts.set(m.counts.subarray(m.indptr[d], m.indptr[d + 1]), indptr[i]);
  }
  return { nDocs: n, nTerms: m.nTerms, indptr, indices, counts };
}

/** Checks a matrix built elsewhere: CSR shape, term indices in range, counts finite and >= 0. */
export function checkDocTerm(what: string, m: DocTermMatrix): void {
  const { nDocs, nTerms, indptr, indices, counts } = m;
  if (indptr.length !== nDocs + 1 || indptr[0] !== 0 || indptr[nDocs] !== indices.length || counts.length !== indices.length)
    throw new ShapeError(`${what}: malformed CSR (indptr length ${indptr.length} for ${nDocs} documents, ${indices.length} indices, ${counts.length} counts)`);
  for (let d = 0; d < nDocs; d++)
    if (indptr[d + 1] < indptr[d]) throw new ShapeError(`${what}: indptr decreases at document ${d}`);
  for (let p = 0; p < indices.length; p++) {
    const t = indices[p];
    if (!(t >= 0 && t < nTerms)) throw new ValueError(`${what}: non-zero ${p} has term index ${t}, outside the vocabulary [0, ${nTerms})`);
    const c = counts[p];
    if (!(Number.isFinite(c) && c >= 0)) throw new ValueError(`${what}: non-zero ${p} has count ${c}; counts must be finite and >= 0`);
  }
}
