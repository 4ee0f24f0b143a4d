/** Runs a Python peer script in bench/peers/.venv and parses its JSON, or says why it could not. */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const peersDir = fileURLToPath(new URL('../peers/', import.meta.url));

export function runPeer<T>(script: string, args: string[], timeoutMs = 600_000): T | string {
  const py = `${peersDir}.venv/bin/python`;
  if (!existsSync(py)) return 'bench/peers/.venv absent: run bash bench/peers/setup-cavi.sh';
  const r = spawnSync(py, [`${peersDir}${script}`, ...args], { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 << 20 });
  if (r.status !== 0) return `peer failed: ${(r.stderr || r.error?.message || '').trim().split('\n').slice(-3).join(' ')}`;
  const lines = r.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]) as T;
}

export function fmt(x: number, digits = 0): string {
  return Number.isFinite(x) ? x.toFixed(digits) : String(x);
}
