/**
 * Loading the native addon: the candidates in order, and the one-line reasons a user sees when a
 * file is corrupt, from another version (ABI), or missing, each with a fix a consumer can run.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCpuBackend } from '../../ts/backends/cpu/index.js';
import { addonCandidates, nativeFixHint, platformTriple } from '../../ts/backends/cpu/locate.js';

const dir = mkdtempSync(join(tmpdir(), 'varinf-loader-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('native addon loader', () => {
  it('names the platform package by napi-rs triple', () => {
    expect(platformTriple('linux', 'x64', false)).toBe('linux-x64-gnu');
    expect(platformTriple('linux', 'arm64', true)).toBe('linux-arm64-musl');
    expect(platformTriple('darwin', 'arm64')).toBe('darwin-arm64');
    expect(platformTriple('win32', 'x64')).toBe('win32-x64-msvc');
  });

  it('tries VARINF_NATIVE_PATH first', () => {
    const old = process.env.VARINF_NATIVE_PATH;
    process.env.VARINF_NATIVE_PATH = '/nowhere/varinf.node';
    try {
      expect(addonCandidates()[0]).toEqual({ path: '/nowhere/varinf.node', origin: 'VARINF_NATIVE_PATH' });
    } finally {
      if (old === undefined) delete process.env.VARINF_NATIVE_PATH;
      else process.env.VARINF_NATIVE_PATH = old;
    }
  });

  it('says why a corrupt file does not load, and how to fix it', () => {
    const bad = join(dir, 'corrupt.node');
    writeFileSync(bad, 'not a shared library');
    const r = loadCpuBackend([{ path: bad, origin: 'VARINF_NATIVE_PATH' }]);
    expect(r.backend).toBeUndefined();
    expect(r.reason).toContain(`VARINF_NATIVE_PATH (${bad}) failed to load`);
    expect(r.reason).toContain('npx varinf-build-native');
    expect(r.reason).not.toContain('\n');
  });

  it('refuses an addon of another version (ABI) by name', () => {
    const old = join(dir, 'old-abi.cjs');
    writeFileSync(old, 'module.exports = { abiVersion: () => 1 };');
    const r = loadCpuBackend([{ path: old, origin: 'varinf-linux-x64-gnu' }]);
    expect(r.backend).toBeUndefined();
    expect(r.reason).toMatch(/varinf-linux-x64-gnu .* has native ABI 1, this varinf needs \d+: it is from another version/);
  });

  it('goes on to the next candidate when one fails', () => {
    const good = addonCandidates().find((c) => c.origin !== 'VARINF_NATIVE_PATH');
    if (good === undefined) return; // no native build here: the js backend is what a user gets
    const r = loadCpuBackend([{ path: join(dir, 'corrupt.node'), origin: 'VARINF_NATIVE_PATH' }, good]);
    expect(r.backend?.name).toBe('cpu');
  });

  it('says what to do when nothing is installed', () => {
    const r = loadCpuBackend([]);
    expect(r.reason).toBe(`no native addon for ${platformTriple()} is installed; ${nativeFixHint()}`);
    expect(nativeFixHint()).toContain('npx varinf-build-native');
  });
});
