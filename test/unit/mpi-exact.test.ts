import { describe, expect, it } from 'vitest';
import { mpiMissing, runRanks } from './mpi-helpers.js';

const missing = mpiMissing();
if (missing !== null) console.warn(`mpi-exact: MPI tests skipped: ${missing}`);

describe('data-parallel SVI', () => {
  it('on one process (LocalCommunicator) follows SVI.update to rounding (its step is compiled, the reference eager)', async () => {
    const { lines, status } = await runRanks(0, ['--mode', 'exact', '--steps', '10']);
    expect(status).toBe(0);
    expect(lines[0]).toMatchObject({ size: 1, kind: 'local' });
    expect(lines[0].maxDiff as number).toBeLessThan(1e-12);
    expect(lines[0].maxLossDiff as number).toBeLessThan(1e-12);
    expect(lines[0].moved as number).toBeGreaterThan(0.1);
  });

  it.skipIf(missing !== null)(`under mpirun -np 2, batch B per rank equals one process with batch 2B, step by step, to 1e-12${missing ? ` (skipped: ${missing})` : ''}`, async () => {
    const { lines, status, stderr } = await runRanks(2, ['--mode', 'exact', '--steps', '25', '--batch', '16']);
    expect(status, stderr).toBe(0);
    expect(lines).toHaveLength(2);
    const [r0, r1] = lines;
    expect(r0).toMatchObject({ size: 2, kind: 'mpi', steps: 25 });
    // float64 parameters; the difference is the order of one sum (2B terms vs B + B)
    expect(r0.maxDiff as number).toBeLessThan(1e-12);
    expect(r0.maxLossDiff as number).toBeLessThan(1e-12);
    expect(r0.moved as number).toBeGreaterThan(0.1);
    // every rank ends with the same parameters
    expect(r1.final).toEqual(r0.final);
  });

  it.skipIf(missing !== null)(`with keys 'perRank' the ranks draw differently (foldIn(key, rank)) and still stay in step${missing ? ` (skipped: ${missing})` : ''}`, async () => {
    const { lines, status, stderr } = await runRanks(2, ['--mode', 'exact', '--keys', 'perRank', '--steps', '10', '--batch', '16']);
    expect(status, stderr).toBe(0);
    const [r0, r1] = lines;
    expect(r1.final).toEqual(r0.final);
    // not the one-process trajectory any more: rank 1's subsample and latent draws are its own
    expect(r0.maxDiff as number).toBeGreaterThan(1e-4);
  });
});
