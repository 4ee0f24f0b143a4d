/**
 * Data-parallel scaling on this machine: Bayesian logistic regression on 100,000 simulated rows
 * (D features), SVI with a global minibatch of G rows per step, as one single-threaded process
 * and as two single-threaded MPI ranks with G/2 rows each (the same steps, checked: the final
 * parameters must agree to 1e-9). Per step: wall time, the time inside the all-reduce, and its
 * bytes; efficiency = t(1 process) / (2 · t(2 ranks)). Single-threaded: RAYON_NUM_THREADS=1.
 * Needs mpirun and the MPI binding (npm run build:mpi); says so otherwise.
 *
 * Run: npx tsx bench/vi/dp-scaling.ts [--rows 100000] [--features 20] [--batch 50000] [--steps 20]
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { AutoNormal, DataParallelSVI, SVI, TraceELBO, adam, communicator, getBackend, key, matmul, mpiAddonPath, normal, split, tensor, uniform, type Communicator, type FloatBuffer, type CollectiveOp } from '../../ts/index.js';
import { logreg } from './models/logreg.js';

const { values: opt } = parseArgs({
  options: {
    rows: { type: 'string', default: '100000' },
    features: { type: 'string', default: '20' },
    batch: { type: 'string', default: '50000' },
    steps: { type: 'string', default: '20' },
    worker: { type: 'boolean', default: false },
  },
});

interface RankReport {
  size: number;
  msPerStep: number;
  commMsPerStep: number;
  bytes: number;
  final: number[];
  backend: string;
  compiled: string;
}

/** A communicator that times its all-reduces. */
function timed(c: Communicator): Communicator & { ms: number; bytes: number } {
  const t = Object.create(c) as Communicator & { ms: number; bytes: number };
  t.ms = 0;
  t.bytes = 0;
  t.allReduce = <T extends FloatBuffer>(buf: T, op?: CollectiveOp): T => {
    const t0 = performance.now();
    c.allReduce(buf, op);
    t.ms += performance.now() - t0;
    t.bytes = buf.byteLength;
    return buf;
  };
  return t;
}

function worker(): void {
  const comm = timed(communicator());
  const N = Number(opt.rows);
  const D = Number(opt.features);
  const B = Number(opt.batch) / comm.size;
  const [kx, ky, kw] = split(key(3), 3);
  const x = normal(kx, [N, D]);
  const logit = matmul(x, normal(kw, [D, 1])).dataSync();
  const u = uniform(ky, [N]).dataSync();
  const y = tensor(Array.from(logit, (l, i) => (l + Math.log(u[i] / (1 - u[i])) > 0 ? 1 : 0)));
  const dp = new DataParallelSVI(new SVI(logreg, new AutoNormal(logreg), adam(0.01), new TraceELBO()), comm);
  let st = dp.init(key(0), x, y, B);
  for (let t = 0; t < 3; t++) st = dp.update(st, x, y, B).state; // warm-up
  comm.barrier();
  comm.ms = 0;
  const steps = Number(opt.steps);
  const t0 = performance.now();
  for (let t = 0; t < steps; t++) st = dp.update(st, x, y, B).state;
  const ms = performance.now() - t0;
  const p = dp.svi.getParams(st);
  const final = Object.keys(p)
    .sort()
    .flatMap((n) => Array.from(p[n].dataSync()));
  const rep: RankReport = { size: comm.size, msPerStep: ms / steps, commMsPerStep: comm.ms / steps, bytes: comm.bytes, final, backend: getBackend(), compiled: dp.compiled?.used ? 'compiled' : `eager: ${dp.compiled?.reason ?? '?'}` };
  if (comm.rank === 0) console.log(JSON.stringify(rep));
  comm.close();
}

function run(cmd: string[]): RankReport | string {
  const env = { ...process.env, RAYON_NUM_THREADS: '1', OMP_NUM_THREADS: '1' };
  const r = spawnSync(cmd[0], cmd.slice(1), { encoding: 'utf8', env, timeout: 1_200_000 });
  const line = r.stdout.split('\n').find((l) => l.startsWith('{'));
  if (r.status !== 0 || line === undefined) return `failed: ${r.stderr.trim().split('\n').slice(-2).join(' ')}`;
  return JSON.parse(line) as RankReport;
}

function main(): void {
  const self = fileURLToPath(import.meta.url);
  const args = ['--rows', opt.rows, '--features', opt.features, '--batch', opt.batch, '--steps', opt.steps, '--worker'];
  const node = [process.execPath, '--import', 'tsx', self, ...args];
  const load0 = loadavg()[0];
  const one = run(node);
  const mpiOk = spawnSync('sh', ['-c', 'command -v mpirun']).status === 0 && existsSync(mpiAddonPath());
  const two = mpiOk ? run(['mpirun', '--allow-run-as-root', '--oversubscribe', '--bind-to', 'none', '-np', '2', ...node]) : 'mpirun or the MPI binding missing (apt-get install -y openmpi-bin libopenmpi-dev; npm run build:mpi)';
  console.log(`\n### Data-parallel SVI scaling: logistic regression, ${opt.rows} rows × ${opt.features} features, global batch ${opt.batch}, ${opt.steps} steps (${availableParallelism()} CPUs; load ${load0.toFixed(2)} at start, ${loadavg()[0].toFixed(2)} at end)\n`);
  console.log('| run | ms / step | all-reduce ms / step | all-reduce bytes | speed-up | efficiency |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
  const row = (name: string, r: RankReport | string, base?: RankReport): void => {
    if (typeof r === 'string') return console.log(`| ${name} | ${r} | | | | |`);
    const sp = base ? base.msPerStep / r.msPerStep : 1;
    console.log(`| ${name} (backend ${r.backend}, ${r.compiled}) | ${r.msPerStep.toFixed(1)} | ${r.commMsPerStep.toFixed(3)} | ${r.bytes} | ${sp.toFixed(2)} | ${((sp / r.size) * 100).toFixed(0)}% |`);
  };
  row('1 process, 1 thread', one);
  row('2 MPI ranks, 1 thread each', two, typeof one === 'string' ? undefined : one);
  if (typeof one !== 'string' && typeof two !== 'string') {
    const d = Math.max(...one.final.map((v, i) => Math.abs(v - two.final[i])));
    console.log(`\nFinal parameters, 1 process vs 2 ranks: max |difference| ${d.toExponential(1)} (same steps${d < 1e-9 ? '' : ' — NOT the same: check'}).`);
  }
}

if (opt.worker) worker();
else main();
