import { describe, expect, it } from 'vitest';
import { ProgressBar, formatDuration, formatProgress, type ProgressStream } from '../../ts/infer/progress.js';
import { AutoNormal, Normal, SVI, TraceELBO, adam, key, sample } from '../../ts/index.js';

/** A stream that records what is written, as a terminal of `columns` or a file. */
function recorder(isTTY: boolean, columns?: number): ProgressStream & { out: string[] } {
  const out: string[] = [];
  return { out, isTTY, columns, write: (s: string) => out.push(s) };
}

describe('progress line', () => {
  it('shows count, rate, time remaining and the fields', () => {
    const line = formatProgress('svi', { done: 500, total: 2000, elapsedMs: 1000, fields: { loss: '31.25' } }, 100);
    expect(line).toBe(`svi [${'#'.repeat(8)}${'.'.repeat(22)}] 500/2000 500 it/s ETA 0:03 loss 31.25`);
    expect(formatProgress('svi', { done: 2000, total: 2000, elapsedMs: 65_000 }, 100)).toContain('2000/2000 31 it/s 1:05');
  });

  it('fits narrow terminals without wrapping: fields first, then the bar, go', () => {
    for (const columns of [20, 30, 40, 50, 60, 80, 120]) {
      const line = formatProgress('svi', { done: 123_456, total: 1_000_000, elapsedMs: 4321, fields: { loss: '-3143.25', 'grad norm': '12.5' } }, columns);
      expect(line.length).toBeLessThan(columns);
      expect(line).toContain('123456/1000000');
    }
    expect(formatProgress('svi', { done: 1, total: 4, elapsedMs: 1 }, 40)).not.toContain('[');
  });

  it('formats durations', () => {
    expect(formatDuration(5)).toBe('0:05');
    expect(formatDuration(3725)).toBe('1:02:05');
    expect(formatDuration(NaN)).toBe('?');
  });

  it('redraws in place on a terminal, throttled, and ends the line', () => {
    const s = recorder(true, 60);
    const bar = new ProgressBar('svi', 1000, s, 1e9);
    for (let i = 1; i <= 1000; i++) bar.update(i, { loss: '1.0' });
    bar.finish({ loss: '1.0' });
    expect(s.out.length).toBe(3); // the first update, the last (done = total) and the finish
    expect(s.out.every((w) => w.startsWith('\r'))).toBe(true);
    expect(s.out[2].endsWith('\n')).toBe(true);
  });

  it('writes one line per run when not a terminal', () => {
    const s = recorder(false);
    const bar = new ProgressBar('svi', 100, s, 0);
    for (let i = 1; i <= 100; i++) bar.update(i, { loss: '2.0' });
    bar.finish({ loss: '2.0' });
    expect(s.out).toHaveLength(1);
    expect(s.out[0]).toMatch(/^svi \[#+\] 100\/100 .* it\/s \d+:\d\d loss 2\.0\n$/);
  });

  it('SVI.run with progressBar on a non-terminal prints one line', async () => {
    const writes: string[] = [];
    const orig = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((s: string) => (writes.push(String(s)), true)) as typeof process.stderr.write;
    try {
      const model = (): void => void sample('x', new Normal(0, 1));
      const svi = new SVI(model, new AutoNormal(model), adam(0.01), new TraceELBO());
      await svi.run(key(0), 200, [], { progressBar: true });
    } finally {
      process.stderr.write = orig;
    }
    const lines = writes.join('').split('\n').filter(Boolean);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^svi .*200\/200 .* loss /);
  });
});
