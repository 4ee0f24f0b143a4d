/**
 * One model, many data sets: eight schools fitted to G simulated data sets with `fitMany` on
 * worker threads (plain SVI per job: AutoNormal, Adam, a fixed number of steps), results taken
 * as they finish, one bad job kept to itself.
 *
 * Run: npx tsx examples/scale-out/groups.ts [--groups 200] [--workers 2] [--steps 2000]
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { fitMany, key, normal, split, type Job, type SviJobValue } from 'varinf';

const { values: opt } = parseArgs({ options: { groups: { type: 'string', default: '200' }, workers: { type: 'string', default: '2' }, steps: { type: 'string', default: '2000' } } });
const G = Number(opt.groups);
const module = fileURLToPath(new URL('../server/eight-schools.ts', import.meta.url));

// G data sets drawn from the model with mu = 4, tau = 3.6
const sigma = [15, 10, 16, 11, 9, 11, 10, 18];
const [k1, k2] = split(key(1));
const theta = normal(k1, [G, 8]).dataSync();
const noise = normal(k2, [G, 8]).dataSync();
const jobs: Job[] = Array.from({ length: G }, (_, g) => ({
  kind: 'svi',
  module,
  args: [sigma.map((s, j) => 4 + 3.6 * theta[g * 8 + j] + s * noise[g * 8 + j]), sigma],
  options: { key: g, steps: Number(opt.steps), lr: 0.05 },
}));
// a job whose data has the wrong length fails alone, with its index and a ShapeError
jobs.push({ kind: 'svi', module, args: [[1, 2, 3], sigma], options: { key: 0, steps: 10 } });

const t0 = performance.now();
const mus: number[] = [];
const run = fitMany(jobs, { workers: Number(opt.workers), onProgress: (p) => p.done % 50 === 0 && console.log(`${p.done}/${p.total} done`) });
for await (const r of run) {
  if (r.ok) mus.push((r.value as SviJobValue).params.auto_mu_loc.data[0]);
  else console.log(`job ${r.index} failed: ${r.error.name}: ${r.error.message.split('\n')[0]}`);
}
const s = (performance.now() - t0) / 1000;
const mean = mus.reduce((a, b) => a + b, 0) / mus.length;
console.log(`${mus.length} of ${jobs.length} fits in ${s.toFixed(1)} s (${(mus.length / s).toFixed(1)} fits/s); mean fitted mu ${mean.toFixed(2)} (data drawn with mu = 4)`);
