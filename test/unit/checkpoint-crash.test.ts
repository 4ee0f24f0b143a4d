/**
 * Issue 26: a process killed while saving leaves the previous checkpoint loadable. A real child
 * process saves a big checkpoint repeatedly; the test SIGKILLs it while a save is in progress
 * (the destination or a temporary file beside it is partly written) and loads what is left.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { adam, FormatError, saveArviz, saveSafetensors, tensor, zeros } from '../../ts/index.js';
import { loadTrainState, saveTrainState } from '../../ts/models/vae/checkpoint.js';

const here = dirname(fileURLToPath(import.meta.url));

/** Bytes of a partly written file in `dir` (the checkpoint or a temporary beside it), or -1. */
function partial(dir: string, full: number): number {
  for (const f of readdirSync(dir)) {
    try {
      const n = statSync(join(dir, f)).size;
      if (n > 0 && n < full) return n;
    } catch {
      // Renamed away between readdir and stat.
    }
  }
  return -1;
}

describe('checkpoints survive a crash during a save', () => {
  it('SIGKILL mid-save leaves the previous checkpoint intact', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'varinf-crash-'));
    const path = join(dir, 'ckpt.safetensors');
    const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'checkpoint-writer.child.ts'), path], { stdio: ['ignore', 'pipe', 'inherit'] });
    let saved = 0;
    child.stdout.on('data', (b: Buffer) => (saved = Math.max(saved, ...b.toString().trim().split('\n').map(Number))));
    const exited = new Promise<void>((res) => child.on('exit', () => res()));
    let killedAt = -1;
    try {
      // Wait for two complete saves, then poll until a save is under way and kill the writer there.
      const t0 = Date.now();
      while (saved < 2 && Date.now() - t0 < 60_000) await new Promise((r) => setTimeout(r, 5));
      expect(saved).toBeGreaterThanOrEqual(2);
      const full = statSync(path).size;
      while (killedAt < 0 && Date.now() - t0 < 90_000) {
        const n = partial(dir, full);
        if (n >= 0) {
          child.kill('SIGKILL');
          killedAt = n;
        } else await new Promise((r) => setImmediate(r));
      }
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
    expect(killedAt).toBeGreaterThanOrEqual(0);
    const template = { params: { w: zeros([2_000_000], 'float32') }, optState: adam(1e-3).init({ w: zeros([2_000_000], 'float32') }), step: 0 };
    const back = loadTrainState(path, template);
    expect(back.step).toBeGreaterThanOrEqual(2);
    const w = back.params.w.dataSync();
    expect(w[0]).toBe(back.step);
    expect(w[w.length - 1]).toBe(back.step);
    // The killed writer's temporary file goes with the next save of the same checkpoint.
    saveTrainState(path, { ...back, step: back.step + 1 });
    expect(readdirSync(dir)).toEqual(['ckpt.safetensors']);
    rmSync(dir, { recursive: true, force: true });
  });

  it('a flipped byte fails the checksum; saves leave no temporary files behind', () => {
    const dir = mkdtempSync(join(tmpdir(), 'varinf-sum-'));
    const path = join(dir, 'ckpt.safetensors');
    const opt = adam(1e-3);
    const params = { w: tensor([1, 2, 3, 4]) };
    saveTrainState(path, { params, optState: opt.init(params), step: 5 });
    saveTrainState(path, { params, optState: opt.init(params), step: 6 });
    saveArviz(join(dir, 'draws.json'), { mu: tensor([1, 2]) });
    expect(readdirSync(dir).sort()).toEqual(['ckpt.safetensors', 'draws.json']);
    const template = { params: { w: zeros([4]) }, optState: opt.init(params), step: 0 };
    expect(loadTrainState(path, template).step).toBe(6);
    const bytes = readFileSync(path);
    bytes[bytes.length - 3] ^= 0x10;
    writeFileSync(path, bytes);
    expect(() => loadTrainState(path, template)).toThrow(FormatError);
    expect(() => loadTrainState(path, template)).toThrow(/ckpt\.safetensors is corrupt: its contents hash to [0-9a-f]{16}…, the checkpoint records [0-9a-f]{16}…/);
    // Checkpoints from before the checksum (format 1) still load, unverified.
    const v1 = join(dir, 'v1.safetensors');
    saveSafetensors(v1, { params: { w: tensor([9, 8, 7, 6]) } }, { format: 'varinf-train-state-1', step: '3', numbers: '{}' });
    const old = loadTrainState(v1, { params: { w: zeros([4]) }, optState: {}, step: 0 });
    expect(old.step).toBe(3);
    expect(Array.from(old.params.w.dataSync())).toEqual([9, 8, 7, 6]);
    rmSync(dir, { recursive: true, force: true });
  });
});
