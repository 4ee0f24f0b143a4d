/** Runs test/fixtures/distributed/dp-train.ts (or another fixture) under mpirun (or alone), for the MPI tests. */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { mpiAddonPath } from '../../ts/index.js';
import { run } from '../child.js';

export const script = fileURLToPath(new URL('../fixtures/distributed/dp-train.ts', import.meta.url));
const root = fileURLToPath(new URL('../../', import.meta.url));

/** Why the MPI tests cannot run here, or null when they can. */
export function mpiMissing(): string | null {
  if (spawnSync('sh', ['-c', 'command -v mpirun'], { encoding: 'utf8' }).status !== 0) return 'mpirun not found (apt-get install -y openmpi-bin libopenmpi-dev)';
  if (!existsSync(mpiAddonPath())) return `the MPI binding is not built (${mpiAddonPath()}; npm run build:mpi)`;
  return null;
}

/** One JSON line per rank (sorted by rank) of `file` (default dp-train.ts), the exit status and stderr; awaited, so the worker stays responsive. */
export async function runRanks(np: number, args: string[], file = script): Promise<{ lines: Record<string, unknown>[]; status: number | null; stderr: string }> {
  const cmd = np === 0 ? ['node', '--import', 'tsx', file, ...args] : ['mpirun', '--allow-run-as-root', '--oversubscribe', '-np', String(np), 'node', '--import', 'tsx', file, ...args];
  const r = await run(cmd[0], cmd.slice(1), { cwd: root, timeout: 100_000 });
  const lines = r.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .sort((a, b) => (a.rank as number) - (b.rank as number));
  return { lines, status: r.status, stderr: r.stderr };
}
