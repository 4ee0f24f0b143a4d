#!/usr/bin/env node
// Builds the optional MPI binding into mpi/build/Release/varinf_mpi.node (npm run build:mpi).
// Needs CMake and an MPI with development files (Debian: apt-get install -y openmpi-bin libopenmpi-dev).
// Unlike the install-time builds, a missing tool or a failed build exits 1 with the reason: this
// script only runs when asked for.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const onPath = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).status === 0;
const fail = (why) => {
  console.error(`varinf build:mpi: ${why}`);
  process.exit(1);
};
if (!onPath('cmake')) fail('cmake not found (Debian: apt-get install -y cmake)');
if (!onPath('mpicc')) fail('no MPI compiler wrapper (mpicc) found; install MPI with its headers (Debian: apt-get update && apt-get install -y openmpi-bin libopenmpi-dev)');
const nodeInc = [join(dirname(process.execPath), '..', 'include', 'node'), '/usr/include/node'].find((d) => existsSync(join(d, 'node_api.h')));
const args = ['-S', 'mpi', '-B', 'mpi/build', '-DCMAKE_BUILD_TYPE=Release'];
if (nodeInc !== undefined) args.push(`-DNODE_INCLUDE_DIRS=${nodeInc}`);
for (const a of [args, ['--build', 'mpi/build', '-j']]) {
  const r = spawnSync('cmake', a, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) fail(`cmake ${a.join(' ')} failed`);
}
console.log('varinf build:mpi: wrote mpi/build/Release/varinf_mpi.node');
