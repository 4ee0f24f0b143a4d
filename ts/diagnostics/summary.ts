/** Diagnostics in words, for result summaries (the SVI summary reports k̂ with these sentences). */
import { khatCategory, khatThreshold, minDrawsForKhat } from './psis.js';

const KHAT = 'k\u0302';

function fmt(x: number): string {
  return x.toFixed(2);
}

/**
 * One or two sentences on what a PSIS k̂ from S draws means for the variational approximation
 * (as an importance-sampling proposal for the posterior: Yao et al. 2018), following the cut
 * points of {@link khatCategory}: < 0.5 good; ≤ min(1 − 1/log10 S, 0.7) ok; ≤ 0.7 needs more draws
 * (about 10^(1/(1 − k̂))); > 0.7 unreliable; ≥ 1 no finite mean.
 *
 * Shapes: scalars in, a string out.
 * @example
 * describeKhat(0.83, 4000)
 * // "k̂ = 0.83 > 0.7: the importance ratios have a heavy right tail; the variational approximation
 * //  should not be trusted for posterior expectations, ..."
 */
export function describeKhat(khat: number, S: number): string {
  const cat = khatCategory(khat, S);
  switch (cat) {
    case 'not-estimated':
      return Number.isNaN(khat)
        ? `${KHAT} is NaN: the importance ratios could not be fitted; check the log densities for NaN.`
        : `${KHAT} could not be estimated: with S = ${S} draws the tail holds at most 4 ratios, too few to fit a generalized Pareto distribution; draw at least 25 samples.`;
    case 'good':
      return `${KHAT} = ${fmt(khat)} < 0.5: the importance ratios have finite variance; the variational approximation is close to the target, and (Pareto-smoothed) importance-sampling estimates of posterior expectations are reliable.`;
    case 'ok':
      return `${KHAT} = ${fmt(khat)} ≤ ${fmt(khatThreshold(S))} (the threshold for S = ${S} draws): the importance ratios have infinite variance but PSIS is reliable at this sample size; the variational approximation is usable, and PSIS-corrected expectations can be trusted.`;
    case 'too-few-draws':
      return `${KHAT} = ${fmt(khat)} > ${fmt(khatThreshold(S))} (the threshold min(1 − 1/log10 S, 0.7) for S = ${S} draws): too few draws for a reliable PSIS estimate at this tail shape; about ${Math.ceil(minDrawsForKhat(khat))} draws would be needed.`;
    case 'bad':
      return `${KHAT} = ${fmt(khat)} > 0.7: the importance ratios have a heavy right tail; the variational approximation should not be trusted for posterior expectations, and importance sampling cannot reliably correct it (it misses or underweights part of the posterior mass).`;
    case 'very-bad':
      return `${KHAT} = ${fmt(khat)} ≥ 1: the importance ratios have no finite mean; the variational approximation is far from the posterior and should not be used for posterior expectations, with or without importance-sampling correction.`;
  }
}
