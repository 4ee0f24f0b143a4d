#!/usr/bin/env node
// Builds the CUDA addon into build/Release/varinf_cuda.node (npm run build:cuda).
// No nvcc on PATH: says so in one line and exits 0, since the library works without the GPU.
// A failed build also exits 0, with the reason, so an install never breaks on it.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'build', 'Release', 'varinf_cuda.node');

function onPath(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).status === 0;
}

function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  return r.status === 0;
}

if (!onPath('nvcc')) {
  console.log('varinf: nvcc not found; skipping the CUDA addon');
  process.exit(0);
}
if (!onPath('cmake')) {
  console.log('varinf: cmake not found; skipping the CUDA addon (install CMake >= 3.18 to build it)');
  process.exit(0);
}

// Node's own headers where the install has them; cmake-js supplies them otherwise.
const nodeInc = [join(dirname(process.execPath), '..', 'include', 'node'), '/usr/include/node'].find((d) =>
  existsSync(join(d, 'node_api.h')),
);
const cmakeJs = join(root, 'node_modules', 'cmake-js', 'bin', 'cmake-js');
let ok;
if (nodeInc === undefined && existsSync(cmakeJs)) {
  ok = run(process.execPath, [cmakeJs, 'compile', '--out', 'build']);
} else {
  const args = ['-S', '.', '-B', 'build', '-DCMAKE_BUILD_TYPE=Release'];
  if (nodeInc !== undefined) args.push(`-DNODE_INCLUDE_DIRS=${nodeInc}`);
  ok = run('cmake', args) && run('cmake', ['--build', 'build', '--parallel']);
}
if (!ok || !existsSync(out)) {
  console.log('varinf: building the CUDA addon failed (see the compiler output above); the cuda backend stays unavailable');
  process.exit(0);
}
console.log(`varinf: built ${out}`);
