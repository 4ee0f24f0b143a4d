/** Bayesian logistic regression with a subsampled plate, for the data-parallel bench and example. */
import { Bernoulli, Normal, add, gather, matmul, plate, reshape, sample, zeros, type Tensor } from '../../../ts/index.js';

/** w ~ N(0, I), b ~ N(0, 2), y_i ~ Bernoulli(logit = x_i·w + b) on a subsample of `batch` rows of x [N, D]. */
export function logreg(x: Tensor, y: Tensor, batch: number): void {
  const [N, D] = x.shape;
  const w = sample('w', new Normal(zeros([D]), 1).toEvent(1));
  const b = sample('b', new Normal(0, 2));
  plate(
    'N',
    N,
    (idx) => {
      const xi = idx === null ? x : gather(x, idx, 0);
      const logits = add(reshape(matmul(xi, reshape(w, [D, 1])), [batch]), b);
      sample('y', new Bernoulli({ logits }), { obs: idx === null ? y : gather(y, idx, 0) });
    },
    { subsampleSize: batch },
  );
}
