/**
 * Data-parallel SVI: Bayesian logistic regression on 20,000 simulated rows, each rank taking its
 * share of every minibatch, gradients all-reduced once per step. The same script runs as one
 * process (the local communicator) and under MPI:
 *
 *   npx tsx examples/scale-out/train-dp.ts [--steps 300] [--batch 256]
 *   mpirun -np 2 node --import tsx examples/scale-out/train-dp.ts      (as root: mpirun --allow-run-as-root …)
 *
 * (MPI needs `apt-get install -y openmpi-bin libopenmpi-dev` and `npm run build:mpi`.) `--batch`
 * is the batch per rank; two ranks with 128 each take the same steps as one process with 256.
 */
import { parseArgs } from 'node:util';
import { AutoNormal, Bernoulli, DataParallelSVI, Normal, SVI, TraceELBO, abortOnError, adam, add, communicator, gather, key, matmul, normal, plate, reshape, sample, split, tensor, uniform, zeros, type Tensor } from 'varinf';

const { values: opt } = parseArgs({ options: { steps: { type: 'string', default: '300' }, batch: { type: 'string', default: '256' } } });
const comm = communicator();
const B = Number(opt.batch);
const N = 20_000;
const D = 5;
const wTrue = [1, -2, 0.5, 0, 1.5];

// every rank builds the same data set from the same key (a real job would read its shard)
const [kx, ky] = split(key(7));
const x = normal(kx, [N, D]);
const logit = matmul(x, tensor(wTrue, [D, 1])).dataSync();
const u = uniform(ky, [N]).dataSync();
// y = 1 where logit + logistic noise > 0, i.e. with probability sigmoid(logit)
const y = tensor(Array.from(logit, (l, i) => (l + Math.log(u[i] / (1 - u[i])) > 0 ? 1 : 0)));

function model(xs: Tensor, ys: Tensor, batch: number): void {
  const w = sample('w', new Normal(zeros([D]), 1).toEvent(1));
  const b = sample('b', new Normal(0, 2));
  plate(
    'N',
    N,
    (idx) => {
      const logits = add(reshape(matmul(gather(xs, idx!, 0), reshape(w, [D, 1])), [batch]), b);
      sample('y', new Bernoulli({ logits }), { obs: gather(ys, idx!, 0) });
    },
    { subsampleSize: batch },
  );
}

await abortOnError(comm, () => {
  const dp = new DataParallelSVI(new SVI(model, new AutoNormal(model), adam(0.02), new TraceELBO()), comm);
  let state = dp.init(key(0), x, y, B);
  const t0 = performance.now();
  for (let t = 1; t <= Number(opt.steps); t++) {
    const r = dp.update(state, x, y, B);
    state = r.state;
    if (comm.rank === 0 && (t % 100 === 0 || t === Number(opt.steps))) console.log(`step ${t}: loss ${r.loss.toFixed(1)}`);
  }
  const w = dp.svi.getParams(state).auto_w_loc.dataSync();
  if (comm.rank === 0)
    console.log(`${comm.size} rank(s) (${comm.kind}), batch ${B} per rank: ${((performance.now() - t0) / Number(opt.steps)).toFixed(2)} ms/step; w ≈ [${Array.from(w, (v) => v.toFixed(2)).join(', ')}] (true [${wTrue.join(', ')}])`);
  comm.close();
});
