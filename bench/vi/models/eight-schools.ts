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
