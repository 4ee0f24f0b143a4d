/**
 * GARCH(1,1), `garch-garch11`: y_t ~ N(μ, σ_t), σ_1 given,
 * σ_t² = α₀ + α₁ (y_{t−1} − μ)² + β₁ σ_{t−1}², with Stan's flat priors on μ ∈ ℝ, α₀ > 0,
 * α₁ ∈ (0, 1) and β₁ ∈ (0, 1 − α₁).
 *
 * β₁'s bound depends on α₁, so the model samples β₁/(1 − α₁) ~ Uniform(0, 1) (Stan's own
 * unconstrained coordinate for β₁ is logit of this ratio) and adds log(1 − α₁), the Jacobian of
 * the rescaling, so that the density is flat in (α₁, β₁) as in Stan.
 *
 * The recurrence is linear in σ²: σ_t² = Σ_{s≤t} β₁^{t−s} c_s with c_1 = σ_1², c_t = α₀ +
 * α₁ (y_{t−1} − μ)²; it is computed by a log-depth scan (h_t += β₁^k h_{t−k}, k = 1, 2, 4, …).
 */
import type { Tensor } from '../../core/tensor.js';
import { Normal, Uniform } from '../../distributions/continuous.js';
import { positive, real } from '../../distributions/constraints.js';
import { full, tensor } from '../../ops/creation.js';
import { add, log1p, mul, neg, sqrt, square, sub } from '../../ops/elementwise.js';
import { concat, pad, slice } from '../../ops/shape.js';
import { deterministic, factor, plate, sample } from '../../ppl/primitives.js';
import { OnSupport, columns, num, vec, type Posterior } from './common.js';

/** The data of {@link garch11}, built by {@link loadGarch}. */
export interface GarchData {
  /** The series length T. */
  T: number;
  /** The series y_1..y_T, [T]. */
  y: Tensor;
  /** y_1..y_{T−1} [T−1]. */
  yPrev: Tensor;
  /** The given initial volatility σ_1. */
  sigma1: number;
}

/**
 * Reads posteriordb's `garch` data.json (`T`, `y`, `sigma1`).
 * @example const data = models.loadGarch(JSON.parse(readFileSync('data.json', 'utf8'))); // posteriordb's data.json
 */
export function loadGarch(json: Record<string, unknown>): GarchData {
  const T = num(json, 'T');
  const y = vec(json, 'y', T);
  return { T, y: tensor(y), yPrev: tensor(y.subarray(0, T - 1)), sigma1: num(json, 'sigma1') };
}

/** x shifted right by k along the last axis, zeros entering. */
function shiftRight(x: Tensor, k: number): Tensor {
  const n = x.shape[x.shape.length - 1];
  const lead = x.shape.slice(0, -1);
  const kept = slice(x, lead.map(() => 0).concat(0), lead.concat(n - k));
  return pad(kept, [...lead.map(() => 0), k], lead.map(() => 0).concat(0));
}

/**
 * Latent `mu`, `alpha0`, `alpha1`, `beta1_ratio` = β₁/(1 − α₁); `beta1` is deterministic.
 * @example const r = await fit(models.garch11, [data], { key: key(0) });
 */
export function garch11(d: GarchData): void {
  const mu = sample('mu', new OnSupport(real));
  const alpha0 = sample('alpha0', new OnSupport(positive));
  const alpha1 = sample('alpha1', new Uniform(0, 1));
  const ratio = sample('beta1_ratio', new Uniform(0, 1));
  const oneMinusA1 = sub(1, alpha1);
  factor('beta1_jacobian', log1p(neg(alpha1)));
  const beta1 = deterministic('beta1', mul(ratio, oneMinusA1));
  // c [..., T]: σ₁² then α₀ + α₁ (y_{t−1} − μ)²; mu etc. are [..., 1] under particles.
  const innov = add(alpha0, mul(alpha1, square(sub(d.yPrev, mu))));
  const first = full([...innov.shape.slice(0, -1), 1], d.sigma1 * d.sigma1);
  let h = concat([first, innov], -1);
  let bk = beta1;
  for (let k = 1; k < d.T; k *= 2) {
    h = add(h, mul(bk, shiftRight(h, k)));
    bk = square(bk);
  }
  plate('time', d.T, () => sample('y', new Normal(mu, sqrt(h)), { obs: d.y }));
}

/**
 * posteriordb's `garch-garch11`: the model {@link garch11}, its data loader and reference quantities `mu`,
 * `alpha0`, `alpha1`, `beta1`.
 */
export const garchPosterior: Posterior<GarchData> = {
  name: 'garch-garch11',
  model: garch11,
  loadData: loadGarch,
  quantities: (draws) => {
    const out = columns('mu', draws.mu);
    columns('alpha0', draws.alpha0, out);
    columns('alpha1', draws.alpha1, out);
    return columns('beta1', mul(draws.beta1_ratio, sub(1, draws.alpha1)), out);
  },
};
