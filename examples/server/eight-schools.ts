/**
 * Eight schools (non-centered) as a module that `fitMany` jobs name by path and export: the worker
 * threads import it themselves (models do not cross threads; their module path does).
 */
import { HalfCauchy, Normal, add, mul, plate, sample, type Tensor } from 'varinf';

/** y_j ~ N(mu + tau·theta_raw_j, sigma_j), mu ~ N(0, 5), tau ~ HalfCauchy(5), theta_raw_j ~ N(0, 1). */
export function model(y: Tensor, sigma: Tensor): void {
  const mu = sample('mu', new Normal(0, 5));
  const tau = sample('tau', new HalfCauchy(5));
  plate('J', y.shape[0], () => {
    const raw = sample('theta_raw', new Normal(0, 1));
    sample('obs', new Normal(add(mu, mul(tau, raw)), sigma), { obs: y });
  });
}
