/**
 * Eight schools (non-centered), AutoNormal, one particle, Adam(0.01): µs per eager SVI step
 * (`compile: false`), the median of several timed runs after a warm-up, and the kernels one step
 * dispatches (a figure the machine's load does not move), for profiling the eager path
 * (`node --cpu-prof --import tsx bench/vi/eight-schools-eager.ts`). Beside it, NumPyro's jitted
 * `svi.update` for the same model from the same run (bench/peers/.venv; `--no-peer` skips it),
 * and the machine's load.
 *
 * Run: npx tsx bench/vi/eight-schools-eager.ts [--steps 2000] [--reps 5] [--no-peer]
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { ENGINE } from '../../ts/core/engine.js';
import { AutoNormal, HalfCauchy, Normal, SVI, TraceELBO, adam, add, getBackend, key, mul, plate, sample, tensor, type Tensor } from '../../ts/index.js';
import { runPeer } from './cavi-peers.js';

const { values } = parseArgs({
  options: { steps: { type: 'string', default: '2000' }, reps: { type: 'string', default: '5' }, 'no-peer': { type: 'boolean', default: false } },
});
const steps = Number(values.steps);
const reps = Number(values.reps);

const y = tensor([28, 8, -3, 7, -1, 1, 18, 12]);
const sigma = tensor([15, 10, 16, 11, 9, 11, 10, 18]);
function model(yy: Tensor, s: Tensor): void {
  const mu = sample('mu', new Normal(0, 5));
  const tau = sample('tau', new HalfCauchy(5));
  plate('J', 8, () => {
    const raw = sample('theta_raw', new Normal(0, 1));
    sample('obs', new Normal(add(mu, mul(tau, raw)), s), { obs: yy });
  });
}

const svi = new SVI(model, new AutoNormal(model), adam(0.01), new TraceELBO());
svi.runSync(key(0), 300, [y, sigma], { compile: false, progressBar: false });
// Kernels per step: count the engine's dispatches over a few steps.
let kernels = 0;
const runKernel = ENGINE.runKernel;
ENGINE.runKernel = function (this: typeof ENGINE, ...a: Parameters<typeof runKernel>) {
  kernels++;
  return runKernel.apply(this, a);
} as typeof runKernel;
svi.runSync(key(1), 100, [y, sigma], { compile: false, progressBar: false });
ENGINE.runKernel = runKernel;
// Wall and process CPU time per step: on a shared machine the CPU time moves less with the load.
const us: number[] = [];
const cpuUs: number[] = [];
for (let r = 0; r < reps; r++) {
  const c0 = process.cpuUsage();
  us.push(svi.runSync(key(0), steps, [y, sigma], { compile: false, progressBar: false }).timings.perStepUs);
  const c = process.cpuUsage(c0);
  cpuUs.push((c.user + c.system) / steps);
}
us.sort((a, b) => a - b);
cpuUs.sort((a, b) => a - b);
const load = loadavg()[0];
const median = us[Math.floor(reps / 2)];
const cpuMedian = cpuUs[Math.floor(reps / 2)];
console.log(
  `eight schools eager, AutoNormal (backend ${getBackend()}): median ${median.toFixed(1)} µs/step (CPU ${cpuMedian.toFixed(1)}), best ${us[0].toFixed(1)}, ` +
    `over ${reps} runs of ${steps} steps; ${(kernels / 100).toFixed(0)} kernels/step; load average ${load.toFixed(1)}`,
);
if (!values['no-peer']) {
  const peer = runPeer<{ step_us: number; step_cpu_us: number }>('eight_schools_numpyro.py', ['normal', '5000']);
  if (typeof peer === 'string') console.log(`NumPyro: ${peer}`);
  else
    console.log(
      `NumPyro jitted update: ${peer.step_us.toFixed(1)} µs/step (CPU ${peer.step_cpu_us.toFixed(1)}; load average ${loadavg()[0].toFixed(1)}); ` +
        `varinf eager / NumPyro: ${(median / peer.step_us).toFixed(2)}× wall (median), ${(us[0] / peer.step_us).toFixed(2)}× (best), ${(cpuMedian / peer.step_cpu_us).toFixed(2)}× CPU; target ≤ 2×`,
    );
}
