#!/usr/bin/env node
// npm's install hook. In a clone of the repository (ts/ is there) it builds the native cpu backend
// from source and, where nvcc is, the CUDA backend. In an installed package it does nothing when the
// prebuilt platform package (varinf-<triple>, an optional dependency) is present; otherwise it builds
// from source when cargo is on PATH, and says in one line what happens when it is not. It never
// fails the install: the js backend always works.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { triple } from './triple.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const run = (script) => spawnSync(process.execPath, [join(root, 'scripts', script)], { cwd: root, stdio: 'inherit' });

if (existsSync(join(root, 'ts'))) {
  run('build-native.mjs');
  run('build-cuda.mjs');
  process.exit(0);
}

try {
  createRequire(join(root, 'package.json')).resolve(`varinf-${triple()}/package.json`);
  process.exit(0); // the prebuilt binary is installed: nothing to build
} catch {
  run('build-native.mjs');
}
