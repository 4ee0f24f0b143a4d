/** The names the SBC tests use: the public ones from the root, and the ECDF test's binomial tails. */
export * from '../../ts/index.js';
export { binomialTails as binomialTailsForTest } from '../../ts/diagnostics/sbc/ecdf.js';
