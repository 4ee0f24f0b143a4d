/**
 * A child process for checkpoint-crash.test.ts: saves a ~24 MB training checkpoint to argv[2]
 * over and over (parameter values equal to the step), printing each step once its save returned.
 * The test SIGKILLs it mid-save.
 */
import { adam, full } from '../../ts/index.js';
import { saveTrainState } from '../../ts/models/vae/checkpoint.js';

const path = process.argv[2];
const opt = adam(1e-3);
for (let step = 1; ; step++) {
  const params = { w: full([2_000_000], step, 'float32') };
  saveTrainState(path, { params, optState: opt.init(params), step });
  params.w.dispose();
  process.stdout.write(`${step}\n`);
}
