/** Eight schools (non-centered) as a module that fitMany jobs name (bench/vi/fit-many.ts). */
import { HalfCauchy, Normal, add, mul, plate, sample, type Tensor } from '../../../ts/index.js';

/** y_j ~ N(mu + tau·theta_raw_j, sigma_j), mu ~ N(0, 5), tau ~ HalfCauchy(5), theta_raw_j ~ N(0, 1). */
export function model(y: Tensor, sigma: Tensor): void {
  const mu = sample('mu', new Normal(0, 5));
  const tau = sample('tau', new HalfCauchy(5));
  plate('J', y.shape[0], () => {
    const raw = sample('theta_raw', new Normal(0, 1));
    sample('obs', new Normal(add(mu, mul(tau, raw)), sigma), { obs: y });
  });
}

/**
 * D data sets at once, as one model with a plate over them (the counterpart of `vmap`): with a
 * mean-field guide and Adam, whose updates are per coordinate, each data set's parameters follow
 * their own fit. y: [8, D] (schools × data sets), sigma: [8, 1].
 */
export function batched(y: Tensor, sigma: Tensor): void {
  plate('sets', y.shape[1], () => {
    const mu = sample('mu', new Normal(0, 5));
    const tau = sample('tau', new HalfCauchy(5));
    plate('J', y.shape[0], () => {
      const raw = sample('theta_raw', new Normal(0, 1));
      sample('obs', new Normal(add(mu, mul(tau, raw)), sigma), { obs: y });
    });
  });
}
