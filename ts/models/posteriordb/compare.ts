/** Comparing fitted draws of reference quantities with a posteriordb reference. */
import { ValueError } from '../../core/errors.js';
import type { Quantities } from './common.js';

/** posteriordb's summary of one quantity over the gold-standard draws. */
export interface ReferenceStat {
  mean: number;
  sd: number;
  q5: number;
  q50: number;
  q95: number;
  kind: 'parameter' | 'transformed_parameter';
}

/** The parts of reference.json that the comparison reads. */
export interface Reference {
  posterior_name: string;
  param_names: string[];
  params: Record<string, ReferenceStat>;
}

/** One quantity: z = |mean − ref mean| / ref sd, r = sd / ref sd. */
export interface QuantityComparison {
  name: string;
  mean: number;
  sd: number;
  refMean: number;
  refSd: number;
  z: number;
  r: number;
}

export interface Comparison {
  rows: QuantityComparison[];
  /** max z over the quantities. */
  worstZ: number;
  /** The quantity with the largest z. */
  worstName: string;
  rMin: number;
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
