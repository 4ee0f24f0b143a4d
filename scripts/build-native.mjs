#!/usr/bin/env node
// Builds the Rust CPU addon (native/ → native/varinf.node) from source: with the local @napi-rs/cli
// in a clone of the repository, with plain cargo in an installed package (into a temporary target
// folder that is removed afterwards, so node_modules keeps only the addon). Run by the install hook,
// by `npm run build:native` (--force) and, in a consumer's project, by `npx varinf-build-native`.
// It never fails the install: without cargo, or when the build fails, it says so in one line and
// the library runs on the js backend.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const output = join(root, 'native', 'varinf.node');
// A consumer's `npx varinf-build-native` always builds; so does `npm run build:native`.
const force = process.argv.includes('--force') || !existsSync(join(root, 'ts'));

function say(line) {
  process.stderr.write(`varinf: ${line}\n`);
}

if (process.env.VARINF_SKIP_NATIVE) {
  say('VARINF_SKIP_NATIVE is set: not building the native cpu backend; the js backend will be used.');
  process.exit(0);
}

const cargo = spawnSync('cargo', ['--version'], { encoding: 'utf8' });
if (cargo.error || cargo.status !== 0) {
  const retry = existsSync(join(root, 'ts')) ? 'npm run build:native' : 'npx varinf-build-native';
  say(`cargo is not on PATH, so the native cpu backend was not built; the js backend will be used (install Rust from rustup.rs, then run \`${retry}\`).`);
  process.exit(0);
}

/** Newest modification time among the files that feed the build. */
function newestInput() {
  let newest = 0;
  const visit = (p) => {
    if (!existsSync(p)) return;
    const st = statSync(p);
    if (st.isDirectory()) for (const e of readdirSync(p)) visit(join(p, e));
    else newest = Math.max(newest, st.mtimeMs);
  };
  for (const p of ['native/src', 'native/Cargo.toml', 'native/build.rs', 'Cargo.toml', 'Cargo.lock']) visit(join(root, p));
  return newest;
}

if (!force && existsSync(output) && statSync(output).mtimeMs >= newestInput()) {
  process.exit(0);
}

/** The local napi CLI entry, or null when devDependencies are not installed. */
function napiCli() {
  try {
    const require = createRequire(join(root, 'package.json'));
    const pkgPath = require.resolve('@napi-rs/cli/package.json');
    const pkg = require(pkgPath);
    const bin = typeof pkg.bin === 'string' ? pkg.bin : (pkg.bin?.napi ?? pkg.bin?.['napi-raw']);
    return bin ? join(dirname(pkgPath), bin) : null;
  } catch {
    return null;
  }
}

const started = Date.now();
say('building the native cpu backend (cargo build --release; a few minutes on a cold cache)...');
const cli = existsSync(join(root, 'ts')) ? napiCli() : null;
let ok;
if (cli) {
  const args = [
    cli, 'build', '--release',
    '--manifest-path', 'native/Cargo.toml',
    '--config-path', 'native/napi.json',
    '--package-json-path', 'package.json',
    '--output-dir', 'native',
  ];
  ok = spawnSync(process.execPath, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] }).status === 0;
} else {
  // No CLI (an installed package): plain cargo into a temporary target folder, then the shared
  // library copied into place and the folder removed (110 MB that node_modules need not keep).
  const target = mkdtempSync(join(tmpdir(), 'varinf-cargo-'));
  try {
    const env = { ...process.env, CARGO_TARGET_DIR: target };
    ok = spawnSync('cargo', ['build', '--release', '--manifest-path', 'native/Cargo.toml'], { cwd: root, env, stdio: ['ignore', 'inherit', 'inherit'] }).status === 0;
    if (ok) {
      const lib = { darwin: 'libvarinf_native.dylib', win32: 'varinf_native.dll' }[process.platform] ?? 'libvarinf_native.so';
      const built = join(target, 'release', lib);
      ok = existsSync(built);
      if (ok) copyFileSync(built, output);
    }
  } finally {
    rmSync(target, { recursive: true, force: true });
  }
}
if (!ok || !existsSync(output)) {
  const retry = existsSync(join(root, 'ts')) ? 'npm run build:native' : 'npx varinf-build-native';
  say(`building the native cpu backend failed (see the cargo output above); the js backend will be used. Retry with \`${retry}\`.`);
  process.exit(0);
}
say(`native cpu backend built in ${((Date.now() - started) / 1000).toFixed(0)} s: native/varinf.node`);
