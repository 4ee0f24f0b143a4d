#!/usr/bin/env node
// Runs its arguments as a command when cargo is on PATH; otherwise says the Rust checks were
// skipped and exits 0. Used by `npm test` for `npm run test:rust`.
import { spawnSync } from 'node:child_process';

const [cmd, ...args] = process.argv.slice(2);
if (!cmd) {
  process.stderr.write('usage: node scripts/if-cargo.mjs COMMAND [ARGS...]\n');
  process.exit(2);
}
const cargo = spawnSync('cargo', ['--version'], { encoding: 'utf8' });
if (cargo.error || cargo.status !== 0) {
  process.stdout.write(`Rust checks skipped: cargo is not on PATH (${[cmd, ...args].join(' ')} not run).\n`);
  process.exit(0);
}
const r = spawnSync(cmd, args, { stdio: 'inherit', shell: process.platform === 'win32' });
if (r.error) {
  process.stderr.write(`if-cargo: could not run ${cmd}: ${r.error.message}\n`);
  process.exit(1);
}
process.exit(r.status ?? 1);
