/** Comparing fitted draws of reference quantities with a posteriordb reference. */
import { ValueError } from '../../core/errors.js';
import type { Quantities } from './common.js';

/** posteriordb's summary of one quantity over the gold-standard draws. */
export interface ReferenceStat {
  /** Posterior mean. */
  mean: number;
  /** Posterior standard deviation. */
  sd: number;
  /** 5% quantile. */
  q5: number;
  /** Median. */
  q50: number;
  /** 95% quantile. */
  q95: number;
  /** Whether the quantity is a model parameter or a transformed parameter. */
  kind: 'parameter' | 'transformed_parameter';
}

/** The parts of reference.json that the comparison reads. */
export interface Reference {
  /** posteriordb's posterior name, `<data>-<model>`. */
  posterior_name: string;
  /** The reference quantities' names, e.g. `theta[1]`. */
  param_names: string[];
  /** The summary of each quantity, by name. */
  params: Record<string, ReferenceStat>;
}

/** One quantity: z = |mean − ref mean| / ref sd, r = sd / ref sd. */
export interface QuantityComparison {
  /** The quantity's name, e.g. `theta[1]`. */
  name: string;
  /** Mean of the fitted draws. */
  mean: number;
  /** Standard deviation of the fitted draws. */
  sd: number;
  /** The reference mean. */
  refMean: number;
  /** The reference standard deviation. */
  refSd: number;
  /** |mean − refMean| / refSd. */
  z: number;
  /** sd / refSd (1 when the spread is right; VI typically gives r < 1). */
  r: number;
}

/** The result of {@link compareToReference}: one row per reference quantity and the summaries. */
export interface Comparison {
  /** One row per reference quantity, in the reference's order. */
  rows: QuantityComparison[];
  /** max z over the quantities. */
  worstZ: number;
  /** The quantity with the largest z. */
  worstName: string;
  /** min r over the quantities. */
  rMin: number;
  /** max r over the quantities. */
  rMax: number;
}

/**
 * Compares draws of every reference quantity with the reference's mean and sd.
 * @example compareToReference(posterior.quantities(fit.draws, data), reference).worstZ
 */
export function compareToReference(q: Quantities, ref: Reference): Comparison {
  const rows: QuantityComparison[] = [];
  for (const name of ref.param_names) {
    const d = q[name];
    if (d === undefined) throw new ValueError(`compareToReference: no draws for '${name}' (have ${Object.keys(q).slice(0, 5).join(', ')}…)`);
    const n = d.length;
    const mean = d.reduce((a, b) => a + b, 0) / n;
    const sd = Math.sqrt(d.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
    const rs = ref.params[name];
    rows.push({ name, mean, sd, refMean: rs.mean, refSd: rs.sd, z: Math.abs(mean - rs.mean) / rs.sd, r: sd / rs.sd });
  }
  let worst = rows[0];
  for (const r of rows) if (r.z > worst.z) worst = r;
  return {
    rows,
    worstZ: worst.z,
    worstName: worst.name,
    rMin: Math.min(...rows.map((r) => r.r)),
    rMax: Math.max(...rows.map((r) => r.r)),
  };
}
