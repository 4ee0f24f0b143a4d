/**
 * The test images of the VAE benches, binarized once with a fixed key and written as an IDX file
 * for the Python peer, so that both sides score exactly the same pixels.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeIdx } from '../../ts/data/idx.js';
import { binarizeStatic } from '../../ts/data/loader.js';
import { key, tensor, type Tensor } from '../../ts/index.js';

/** Binarizes `raw` (statically, key 2), writes it to `results/file` and returns the path and a [n, rows·cols] float32 tensor. */
export function frozenBinarizedTest(results: string, file: string, raw: { images: Uint8Array; n: number; rows: number; cols: number }): { path: string; x: Tensor } {
  const bin = binarizeStatic(raw.images, key(2));
  const path = join(results, file);
  writeFileSync(path, encodeIdx('uint8', [raw.n, raw.rows, raw.cols], bin));
  return { path, x: tensor(Float32Array.from(bin), [raw.n, raw.rows * raw.cols], 'float32') };
}
