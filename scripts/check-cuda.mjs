#!/usr/bin/env node
// Compile check of the CUDA addon (npm run check:cuda); needs nvcc, no GPU.
// Compiles every cuda/*.cu for sm_90 and sm_80 and cuda/*.cc against node-addon-api and Node's
// headers into object files under build/cuda-check/, shows every warning, and exits 1 on any
// error. With libcudart and libcublas beside nvcc it also links varinf_cuda.node and loads it
// with every symbol bound (RTLD_NOW), which needs no driver either.
// No nvcc: says so in one line and exits 0.
//
//   node scripts/check-cuda.mjs                   compile (and link when it can)
//   node scripts/check-cuda.mjs --werror          warnings fail the check too
//   node scripts/check-cuda.mjs --resource-usage  also print ptxas's registers/spills per kernel
//
// nvcc is looked up as $CUDACXX, then .cuda-toolchain/ (bash scripts/install-cuda-compiler.sh),
// then PATH, then /usr/local/cuda. cuBLAS headers are used only where the toolkit has them; without
// them matmul.cu is skipped, saying so, and the addon is not linked.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, constants } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = new Set(process.argv.slice(2));
const werror = args.has('--werror');
const resourceUsage = args.has('--resource-usage');
const ARCHS = [90, 80];

function onPath(cmd) {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

function findNvcc() {
  const candidates = [
    process.env.CUDACXX,
    join(process.env.VARINF_CUDA_TOOLCHAIN ?? join(root, '.cuda-toolchain'), 'nvidia', 'cu13', 'bin', 'nvcc'),
    onPath('nvcc'),
    '/usr/local/cuda/bin/nvcc',
  ];
  return candidates.find((c) => c !== undefined && c !== '' && existsSync(c));
}

const nvcc = findNvcc();
if (nvcc === undefined) {
  console.log('check:cuda: nvcc not found; skipping the CUDA compile check (bash scripts/install-cuda-compiler.sh installs one)');
  process.exit(0);
}

const version = spawnSync(nvcc, ['--version'], { encoding: 'utf8' }).stdout.match(/V(\d+\.\d+\.\d+)/)?.[1] ?? '?';
// The toolkit root: nvcc's bin/.., or the CUDA layout's targets/<arch>-linux for headers and libs.
const home = resolve(dirname(nvcc), '..');
const incDirs = [join(home, 'include'), join(home, 'targets', 'x86_64-linux', 'include')].filter((d) =>
  existsSync(join(d, 'cuda_runtime.h')),
);
const libDirs = [join(home, 'lib64'), join(home, 'lib'), join(home, 'targets', 'x86_64-linux', 'lib')].filter((d) =>
  existsSync(d),
);
const hasCublasHeaders = [...incDirs, '/usr/include'].some((d) => existsSync(join(d, 'cublas_v2.h')));
const hasLib = (name) => libDirs.some((d) => existsSync(join(d, `lib${name}.so`)));

// Node-API's C headers and node-addon-api's napi.h, as CMakeLists.txt finds them.
const nodeInc = [
  join(dirname(process.execPath), '..', 'include', 'node'),
  '/usr/include/node',
  '/usr/local/include/node',
  join(root, 'node_modules', 'node-api-headers', 'include'),
].find((d) => existsSync(join(d, 'node_api.h')));
let naaDir;
try {
  naaDir = dirname(createRequire(join(root, 'package.json')).resolve('node-addon-api/package.json'));
} catch {
  naaDir = undefined;
}

const cudaDir = join(root, 'cuda');
const outDir = join(root, 'build', 'cuda-check');
mkdirSync(outDir, { recursive: true });

// The flags of CMakeLists.txt's Release build, plus warnings from the host compiler and ptxas's
// spill warning. Not -warn-lmem-usage: CUDA's own sin/cos argument reduction keeps a 40-byte
// local array, so every kernel calling them would warn; --resource-usage shows stack frames.
const defines = ['NAPI_VERSION=8', 'NAPI_CPP_EXCEPTIONS', 'NODE_ADDON_API_DISABLE_DEPRECATED', 'BUILDING_NODE_EXTENSION', 'NDEBUG'];
const hostWarn = ['-Wall', '-Wextra'];
const gencode = ARCHS.flatMap((a) => ['-gencode', `arch=compute_${a},code=sm_${a}`]);
const ptxasFlags = ['-warn-spills', ...(resourceUsage ? ['-v'] : [])];

function cuJob(file) {
  return {
    name: file,
    cmd: nvcc,
    args: [
      '-std=c++17', '-O3', '-lineinfo', '--expt-relaxed-constexpr', ...gencode,
      '-Xcompiler', ['-fPIC', ...hostWarn].join(','), '-Xptxas', ptxasFlags.join(','),
      ...defines.map((d) => `-D${d}`), `-I${cudaDir}`,
      '-c', join(cudaDir, file), '-o', join(outDir, `${file}.o`),
    ],
  };
}

function ccJob(file) {
  // The host compiler nvcc uses, so the objects link together; CUDA headers as system headers.
  const cxx = process.env.CXX ?? 'c++';
  return {
    name: file,
    cmd: cxx,
    args: [
      '-std=c++17', '-O2', '-fPIC', ...hostWarn, ...defines.map((d) => `-D${d}`),
      `-I${cudaDir}`, `-I${naaDir}`, `-I${nodeInc}`, ...incDirs.flatMap((d) => ['-isystem', d]),
      '-c', join(cudaDir, file), '-o', join(outDir, `${file}.o`),
    ],
  };
}

function runJob(job) {
  const t0 = performance.now();
  return new Promise((done) => {
    const child = spawn(job.cmd, job.args, { cwd: root });
    let text = '';
    child.stdout.on('data', (b) => (text += b));
    child.stderr.on('data', (b) => (text += b));
    child.on('error', (e) => done({ job, code: 127, text: `${job.cmd}: ${e.message}`, secs: 0 }));
    child.on('close', (code) => done({ job, code, text, secs: (performance.now() - t0) / 1000 }));
  });
}

async function runAll(jobs, width) {
  const results = [];
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const job = jobs[next++];
      const r = await runJob(job);
      report(r);
      results.push(r);
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, jobs.length) }, worker));
  return results;
}

// ptxas -v lines are info, not warnings; everything else the compilers print is shown as is.
const isInfo = (line) => /^ptxas info\s*:/.test(line) || /^\s+\d+ bytes stack frame/.test(line) || line.trim() === '';
function warningsOf(text) {
  return text.split('\n').filter((l) => !isInfo(l) && /warning/i.test(l));
}

function report(r) {
  const shown = r.text.split('\n').filter((l) => !isInfo(l));
  const nWarn = warningsOf(r.text).length;
  const status = r.code !== 0 ? 'FAIL' : nWarn > 0 ? 'warn' : 'ok';
  console.log(`  ${status.padEnd(4)} ${r.job.name.padEnd(16)} ${r.secs.toFixed(1)} s${nWarn > 0 ? `, ${nWarn} warning(s)` : ''}`);
  if (shown.length > 0) console.log(shown.map((l) => `       | ${l}`).join('\n'));
}

// ---- what to compile ----
const cuFiles = readdirSync(cudaDir).filter((f) => f.endsWith('.cu')).sort();
const ccFiles = readdirSync(cudaDir).filter((f) => f.endsWith('.cc')).sort();
const skipped = [];
const jobs = [];
for (const f of cuFiles) {
  if (!hasCublasHeaders && f === 'matmul.cu') {
    skipped.push(`${f} (no cublas_v2.h in ${incDirs.join(', ') || home}; install-cuda-compiler.sh without --no-cublas adds it)`);
    continue;
  }
  jobs.push(cuJob(f));
}
let setupError;
if (naaDir === undefined || !existsSync(join(naaDir, 'napi.h'))) setupError = 'node-addon-api not found (run npm install)';
else if (nodeInc === undefined) setupError = "Node's node_api.h not found (install Node's headers or npm install node-api-headers)";
else if (incDirs.length === 0) setupError = `cuda_runtime.h not found beside ${nvcc}`;
else for (const f of ccFiles) jobs.push(ccJob(f));

console.log(`check:cuda: nvcc ${version} (${nvcc}), sm_${ARCHS.join(' and sm_')}, into ${outDir}`);
if (setupError !== undefined) console.log(`  FAIL ${ccFiles.join(' ')}: ${setupError}`);
for (const s of skipped) console.log(`  skip ${s}`);

const results = await runAll(jobs, Math.max(1, Math.min(availableParallelism(), 4)));
const failed = results.filter((r) => r.code !== 0).map((r) => r.job.name);
if (setupError !== undefined) failed.push(...ccFiles);
const nWarnings = results.reduce((n, r) => n + warningsOf(r.text).length, 0);

// ---- link and load, when every object and library is there ----
let linkNote = 'not linked';
if (failed.length === 0 && skipped.length === 0 && hasLib('cudart') && hasLib('cublas')) {
  const out = join(outDir, 'varinf_cuda.node');
  const objs = results.map((r) => join(outDir, `${r.job.name}.o`));
  const link = spawnSync(
    nvcc,
    ['-shared', ...gencode, '-o', out, ...objs, ...libDirs.flatMap((d) => [`-L${d}`, `-Xlinker=-rpath,${d}`]), '-lcublas', '-lcudart', '-ldl'],
    { encoding: 'utf8' },
  );
  if (link.status !== 0) {
    failed.push('link');
    console.log(`  FAIL link\n${(link.stdout + link.stderr).trim()}`);
  } else {
    // RTLD_NOW binds every symbol at load, so a missing definition fails here, not at first call.
    try {
      const m = { exports: {} };
      process.dlopen(m, out, constants.dlopen.RTLD_NOW);
      linkNote = `linked and loaded ${basename(out)} (${Object.keys(m.exports).length} exports)`;
    } catch (e) {
      failed.push('load');
      console.log(`  FAIL load ${out}: ${e.message}`);
    }
  }
} else if (failed.length === 0) {
  linkNote = 'not linked (libcudart/libcublas or an object missing)';
}

if (resourceUsage) printResourceUsage(results);

const compiled = results.filter((r) => r.code === 0).length;
const warnNote = `${nWarnings} warning${nWarnings === 1 ? '' : 's'}`;
console.log(
  `check:cuda: ${compiled}/${cuFiles.length + ccFiles.length} compiled (${cuFiles.length} .cu for sm_${ARCHS.join(', sm_')}, ` +
    `${ccFiles.length} .cc), ${warnNote}, ${skipped.length} skipped, ${failed.length} failed; ${linkNote}` +
    (failed.length > 0 ? `; failed: ${failed.join(', ')}` : ''),
);
process.exit(failed.length > 0 || (werror && nWarnings > 0) ? 1 : 0);

// ---- ptxas -v, one row per kernel and architecture, heaviest first ----
function printResourceUsage(rs) {
  const rows = [];
  for (const r of rs) {
    let cur;
    let propsOf; // whose "Function properties" the next stack-frame line belongs to (callees too)
    for (const line of r.text.split('\n')) {
      const entry = line.match(/Compiling entry function '([^']+)' for 'sm_(\d+)'/);
      if (entry) {
        cur = { file: r.job.name, mangled: entry[1], arch: entry[2], regs: 0, stack: 0, spillSt: 0, spillLd: 0 };
        rows.push(cur);
        continue;
      }
      const props = line.match(/Function properties for (\S+)/);
      if (props) propsOf = props[1];
      if (cur === undefined) continue;
      const st = line.match(/(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads/);
      if (st && propsOf === cur.mangled) [cur.stack, cur.spillSt, cur.spillLd] = st.slice(1, 4).map(Number);
      const rg = line.match(/Used (\d+) registers/);
      if (rg) cur.regs = Number(rg[1]);
    }
  }
  const names = demangle(rows.map((x) => x.mangled));
  rows.forEach((x, i) => (x.name = names[i].replace(/\(.*$/, '').replace(/^vi::/, '')));
  rows.sort((a, b) => b.spillSt + b.spillLd - (a.spillSt + a.spillLd) || b.regs - a.regs || b.stack - a.stack);
  const spilling = rows.filter((x) => x.spillSt + x.spillLd > 0).length;
  const stacked = rows.filter((x) => x.stack > 0);
  const stackNames = [...new Set(stacked.map((x) => x.name))];
  console.log(`\nptxas resource usage: ${rows.length} kernel builds, ${spilling} with spills, ${stacked.length} with a stack frame` +
    (stacked.length > 0 ? ` (up to ${Math.max(...stacked.map((x) => x.stack))} B: ${stackNames.join('; ')})` : ''));
  console.log('heaviest 20 by spills, then registers:');
  console.log('| kernel | file | arch | registers | stack (B) | spill st/ld (B) |\n| --- | --- | --- | --- | --- | --- |');
  for (const x of rows.slice(0, 20)) {
    console.log(`| \`${x.name}\` | ${x.file} | sm_${x.arch} | ${x.regs} | ${x.stack} | ${x.spillSt}/${x.spillLd} |`);
  }
}

function demangle(names) {
  const r = spawnSync('c++filt', [], { input: names.join('\n'), encoding: 'utf8' });
  return r.status === 0 ? r.stdout.split('\n').slice(0, names.length) : names;
}
