/**
 * Child processes for tests, awaited rather than run synchronously: a test that waits on a long
 * child with spawnSync blocks its vitest worker's event loop, and on a loaded machine vitest's RPC
 * to that worker then times out.
 */
import { spawn, type SpawnOptions } from 'node:child_process';

/** What a child process printed and how it ended. */
export interface ChildResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `cmd args` to the end and resolves with its output and exit status (never rejects on a non-zero exit). */
export function run(cmd: string, args: string[], opts: SpawnOptions = {}): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** As {@link run}, but rejects with the command and its output when the exit status is not 0. */
export async function runOk(cmd: string, args: string[], opts: SpawnOptions = {}): Promise<ChildResult> {
  const r = await run(cmd, args, opts);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return r;
}
