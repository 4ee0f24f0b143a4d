import { describe, expect, it } from 'vitest';
import { mpiMissing, runRanks } from './mpi-helpers.js';

const missing = mpiMissing();
if (missing !== null) console.warn(`mpi-faults: MPI tests skipped: ${missing}`);
const why = missing ? ` (skipped: ${missing})` : '';

describe.skipIf(missing !== null)(`data-parallel faults under mpirun -np 2${why}`, () => {
  it('a step that raises on rank 1 raises the same DistributedError, naming rank 1, on both ranks', async () => {
    const { lines } = await runRanks(2, ['--mode', 'fail']);
    expect(lines.map((l) => l.rank)).toEqual([0, 1]);
    for (const l of lines) expect(l.error).toBe('DistributedError: DataParallelSVI step 3 failed on rank 1 of 2 (rank 1: ValueError: injected failure in the model)');
  });

  it('ranks with different parameter shapes are stopped at init, the parameters named', async () => {
    const { lines } = await runRanks(2, ['--mode', 'shape']);
    expect(lines).toHaveLength(2);
    for (const l of lines) expect(l.error).toMatch(/DataParallelSVI\.init: rank 1 disagrees with rank 0 on the parameters .*rank 0 has auto_w_loc: float64\[3\]; auto_w_scale: float64\[3\], rank 1 has auto_w_loc: float64\[4\]/);
  });

  it('a global subsample larger than the plate is named on every rank', async () => {
    const { lines } = await runRanks(2, ['--mode', 'exact', '--batch', '200']);
    expect(lines).toHaveLength(2);
    for (const l of lines) expect(l.error).toMatch(/DataParallelSVI step 0 failed on ranks 0, 1 of 2 \(rank 0: ValueError: DataParallelSVI: plate 'N': 2 ranks × subsample 200 = 400 rows exceed the plate's size 240/);
  });

  it('an error outside the step under abortOnError ends every rank (MPI_Abort), no hang', async () => {
    const { status, stderr } = await runRanks(2, ['--mode', 'abort']);
    expect(status).not.toBe(0);
    expect(stderr).toMatch(/rank 1 of 2 aborts the job: ValueError: injected failure outside the step/);
  });
});
