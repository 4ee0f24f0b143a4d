/**
 * A vitest setup file that reports how long each test blocked its worker's event loop: the
 * longest gap between 20 ms timer ticks, printed for tests above VARINF_LAG_MS (default 2000).
 * Long synchronous stretches are what make vitest's worker RPC time out on a loaded machine.
 * Usage: npx vitest run <files> --config scripts/vitest.loop-lag.config.ts
 */
import { afterEach, beforeEach } from 'vitest';

const limit = Number(process.env.VARINF_LAG_MS ?? '2000');
let timer: ReturnType<typeof setInterval> | null = null;
let last = 0;
let worst = 0;

beforeEach(() => {
  last = performance.now();
  worst = 0;
  timer = setInterval(() => {
    const now = performance.now();
    worst = Math.max(worst, now - last);
    last = now;
  }, 20);
});

afterEach((ctx) => {
  if (timer !== null) clearInterval(timer);
  worst = Math.max(worst, performance.now() - last);
  if (worst > limit) process.stderr.write(`LOOP-BLOCK ${Math.round(worst)} ms  ${ctx.task.file?.name ?? ''} > ${ctx.task.name}\n`);
});
