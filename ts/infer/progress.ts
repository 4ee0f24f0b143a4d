/**
 * The progress line of long runs (SVI, SVGD, fit): steps done, rate, time remaining and the run's
 * own figures (loss, ...), redrawn in place on a terminal and fitted to its width, so a narrow pane
 * never wraps; on anything else (a log file, CI) one line per run when it ends.
 */

/** Where a progress line is written: a stream with, on a terminal, its width. */
export interface ProgressStream {
  /** Writes a string (a terminal gets `\r` redraws). */
  write(s: string): unknown;
  /** Whether the stream is a terminal (redraw in place). */
  isTTY?: boolean;
  /** The terminal's width in columns. */
  columns?: number;
}

/** What one progress line shows. */
export interface ProgressState {
  /** Steps done and planned. */
  done: number;
  /** Steps planned. */
  total: number;
  /** Milliseconds since the run started. */
  elapsedMs: number;
  /** The run's own figures, e.g. { loss: '123.4' }, shown in order while there is room. */
  fields?: Record<string, string>;
}

/** 1234 → '1.2k', 2.5e6 → '2.5M'. */
function compact(x: number): string {
  if (x >= 1e6) return `${(x / 1e6).toFixed(1)}M`;
  if (x >= 1e4) return `${(x / 1e3).toFixed(0)}k`;
  if (x >= 1e3) return `${(x / 1e3).toFixed(1)}k`;
  return x >= 10 ? x.toFixed(0) : x.toFixed(1);
}

/**
 * Seconds as 'm:ss' or 'h:mm:ss'.
 * @example formatDuration(75) // '1:15'
 */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/**
 * One progress line at most `columns − 1` characters wide: `label [###...] done/total rate/s ETA
 * m:ss field value …`. Parts are dropped from the right as the width shrinks (the fields, then
 * the bar), never wrapped.
 * @example formatProgress('svi', { done: 500, total: 2000, elapsedMs: 1000 }, 60)
 */
export function formatProgress(label: string, p: ProgressState, columns = 80): string {
  const rate = p.elapsedMs > 0 ? (1000 * p.done) / p.elapsedMs : 0;
  const remaining = rate > 0 ? (p.total - p.done) / rate : NaN;
  const count = `${p.done}/${p.total}`;
  const speed = `${compact(rate)} it/s`;
  const eta = p.done >= p.total ? formatDuration(p.elapsedMs / 1000) : `ETA ${formatDuration(remaining)}`;
  const fields = Object.entries(p.fields ?? {}).map(([k, v]) => `${k} ${v}`);
  const max = Math.max(10, columns - 1);
  const core = [label, count, speed, eta].filter((s) => s !== '').join(' ');
  const barWidth = Math.min(30, max - core.length - 3 - 20);
  let line = core;
  if (barWidth >= 8) {
    const filled = Math.round((barWidth * p.done) / Math.max(1, p.total));
    line = [label, `[${'#'.repeat(filled)}${'.'.repeat(barWidth - filled)}]`, count, speed, eta].filter((s) => s !== '').join(' ');
  }
  for (const f of fields) {
    if (line.length + 1 + f.length > max) break;
    line += ` ${f}`;
  }
  return line.length > max ? line.slice(0, max) : line;
}

/**
 * A progress display for a run of `total` steps: `update` redraws at most every `intervalMs` on a
 * terminal and does nothing elsewhere; `finish` ends the terminal's line, or elsewhere writes the
 * run's one summary line.
 * @example
 * const bar = new ProgressBar('svi', 5000);
 * for (let i = 1; i <= 5000; i++) bar.update(i, { loss: '12.5' });
 * bar.finish({ loss: '12.5' });
 */
export class ProgressBar {
  private readonly t0 = performance.now();
  private lastDraw = -Infinity;
  private done = 0;

  constructor(
    /** The run's name at the start of the line, e.g. 'svi'. */
    readonly label: string,
    /** Steps planned. */
    readonly total: number,
    private readonly stream: ProgressStream = process.stderr,
    private readonly intervalMs = 100,
  ) {}

  /** Records progress; on a terminal, redraws the line when `intervalMs` has passed. */
  update(done: number, fields?: Record<string, string>): void {
    this.done = done;
    if (this.stream.isTTY !== true) return;
    const now = performance.now();
    if (now - this.lastDraw < this.intervalMs && done < this.total) return;
    this.lastDraw = now;
    this.stream.write(`\r${formatProgress(this.label, this.state(fields), this.stream.columns ?? 80)}\x1b[K`);
  }

  /** Ends the run's display: the final line on a terminal, one summary line elsewhere. */
  finish(fields?: Record<string, string>): void {
    const line = formatProgress(this.label, this.state(fields), this.stream.isTTY === true ? (this.stream.columns ?? 80) : 200);
    this.stream.write(this.stream.isTTY === true ? `\r${line}\x1b[K\n` : `${line}\n`);
  }

  private state(fields?: Record<string, string>): ProgressState {
    return { done: this.done, total: this.total, elapsedMs: performance.now() - this.t0, fields };
  }
}
