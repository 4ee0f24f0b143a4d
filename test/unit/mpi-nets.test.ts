/**
 * DataParallelTrainer on a VAE and a Bayesian MLP (test/fixtures/distributed/dp-nets.ts): two
 * ranks with B rows each follow one process with 2B rows step by step, and a job restarted from
 * rank 0's checkpoint continues the uninterrupted trajectory.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { mpiMissing, runRanks } from './mpi-helpers.js';

const nets = fileURLToPath(new URL('../fixtures/distributed/dp-nets.ts', import.meta.url));
const missing = mpiMissing();
const why = missing ? ` (skipped: ${missing})` : '';
const dir = mkdtempSync(join(tmpdir(), 'varinf-dp-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('data-parallel training of networks', () => {
  it('on one process (LocalCommunicator) the compiled step follows the eager one', async () => {
    const { lines, status, stderr } = await runRanks(0, ['--net', 'bnn', '--steps', '6'], nets);
    expect(status, stderr).toBe(0);
    expect(lines[0]).toMatchObject({ size: 1, kind: 'local', compiled: { used: true } });
    expect(lines[0].maxDiff as number).toBeLessThan(1e-12);
  });

  // float64 parameters and one weight draw per step: the difference is the order of one sum
  it.skipIf(missing !== null)(`Bayesian MLP: 2 ranks × B rows = one process with 2B rows, step by step, to 1e-12${why}`, async () => {
    const { lines, status, stderr } = await runRanks(2, ['--net', 'bnn', '--steps', '12', '--batch', '8'], nets);
    expect(status, stderr).toBe(0);
    const [r0, r1] = lines;
    expect(r0).toMatchObject({ size: 2, kind: 'mpi', compiled: { used: true } });
    expect(r0.maxDiff as number).toBeLessThan(1e-12);
    expect(r0.moved as number).toBeGreaterThan(0.05);
    expect(r1.final).toEqual(r0.final);
  });

  // float32 parameters: float32 sums of B + B rows against 2B rows, then 12 Adam steps
  it.skipIf(missing !== null)(`VAE: 2 ranks × B rows = one process with 2B rows, step by step, to 1e-6 (float32)${why}`, async () => {
    const { lines, status, stderr } = await runRanks(2, ['--net', 'vae', '--steps', '12', '--batch', '8'], nets);
    expect(status, stderr).toBe(0);
    const [r0, r1] = lines;
    expect(r0.maxDiff as number).toBeLessThan(1e-6);
    expect(r0.moved as number).toBeGreaterThan(0.05);
    expect(r1.final).toEqual(r0.final);
  });

  it.skipIf(missing !== null)(`a job restarted from rank 0's checkpoint ends where the uninterrupted job ends${why}`, async () => {
    const ckpt = join(dir, 'vae.safetensors');
    const whole = await runRanks(2, ['--net', 'vae', '--steps', '10', '--save-at', '5', '--ckpt', ckpt], nets);
    expect(whole.status, whole.stderr).toBe(0);
    const resumed = await runRanks(2, ['--net', 'vae', '--steps', '10', '--resume', ckpt], nets);
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(resumed.lines[0].start).toBe(5);
    // the same compiled steps from the same state: bit for bit
    expect(resumed.lines[0].final).toEqual(whole.lines[0].final);
    expect(resumed.lines[1].final).toEqual(whole.lines[0].final);
    expect(resumed.lines[0].maxDiff as number).toBeLessThan(1e-6);
  });
});
