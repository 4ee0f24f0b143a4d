/**
 * Crash-safe file writes: the bytes go to a temporary file in the destination's folder, are
 * flushed to disk, and the file is renamed over the destination. A rename within one file system
 * is atomic, so a process killed during a save leaves either the previous file or the new one,
 * never a truncated mix. The temporary files a killed writer left behind are removed by the next
 * save of the same file.
 */
import { closeSync, fsyncSync, openSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

let counter = 0;

/**
 * Writes `data` to `path` atomically (temporary file in the same folder, fsync, rename).
 * @example writeFileAtomic('params.safetensors', bytes)
 */
export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  // Dot-prefixed and unique per process and call, so concurrent writers never share a temporary file.
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${counter++}.tmp`);
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  try {
    const fd = openSync(tmp, 'wx');
    try {
      for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off, bytes.length - off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  removeStale(dirname(path), basename(path));
}

/** Removes `.<name>.<pid>.<n>.tmp` files of writers that are no longer running (killed mid-save). */
function removeStale(dir: string, name: string): void {
  const prefix = `.${name}.`;
  for (const f of readdirSync(dir)) {
    if (!f.startsWith(prefix) || !f.endsWith('.tmp')) continue;
    const pid = Number(f.slice(prefix.length).split('.')[0]);
    if (!Number.isInteger(pid) || pid === process.pid || alive(pid)) continue;
    rmSync(join(dir, f), { force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
