/**
 * The SBC spec of bench/vi/sbc.ts (a module of its own, so that worker threads can import it):
 * non-centered eight schools, simulated from its prior with `modelGenerator`, fitted by `fit`.
 * VARINF_SBC_GUIDE ('normal' or 'mvn', default 'normal') and VARINF_SBC_DRAWS (draws per fit,
 * default 1000) choose the variational family and the draws; L = 99 thinned draws are ranked.
 */
import { HalfCauchy, Normal, add, fitBackend, modelGenerator, mul, plate, sample, tensor, type SbcSpec, type Tensor } from '../../ts/index.js';

/** The schools' standard errors (Rubin 1981). */
export const sigma = tensor([15, 10, 16, 11, 9, 11, 10, 18]);

/** Eight schools, non-centered; `y` undefined draws the data. */
export function eightSchools(y: Tensor | undefined, s: Tensor): void {
  const mu = sample('mu', new Normal(0, 5));
  const tau = sample('tau', new HalfCauchy(5));
  plate('J', 8, () => {
    const raw = sample('theta_raw', new Normal(0, 1));
    sample('obs', new Normal(add(mu, mul(tau, raw)), s), { obs: y });
  });
}

const guide = process.env.VARINF_SBC_GUIDE === 'mvn' ? 'mvn' : 'normal';
const numDraws = Number(process.env.VARINF_SBC_DRAWS ?? 1000);

/** Generator, backend, the school-1 effect θ₁ = μ + τ θ̃₁ and log τ as test quantities, and L = 99. */
export const spec: SbcSpec<Record<string, Tensor>> = {
  generator: modelGenerator(eightSchools, [undefined, sigma], { dataSites: ['obs'] }),
  backend: fitBackend(eightSchools, (d: Record<string, Tensor>) => [d.obs, sigma] as [Tensor, Tensor], { guide, numDraws }),
  testQuantities: (p) => ({ 'theta[0]': p.mu[0] + p.tau[0] * p.theta_raw[0], log_tau: Math.log(p.tau[0]) }),
  rankDraws: 99,
};
