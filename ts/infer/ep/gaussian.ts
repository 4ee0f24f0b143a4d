/** The Gaussian approximation EP refines, seen through the scalar latents fᵢ its sites act on. */

/** A Gaussian marginal N(mean, variance). */
export interface Marginal {
  /** The mean. */
  readonly mean: number;
  /** The variance. */
  readonly variance: number;
}

/**
 * q(w) ∝ p₀(w) Π tᵢ(fᵢ) with a Gaussian prior p₀ and Gaussian sites tᵢ(f) ∝ exp(ν̃ᵢ f − ½ τ̃ᵢ f²)
 * on the projections fᵢ = aᵢᵀ w. Two representations implement it: function space (a Gaussian
 * process, fᵢ = w ᵢ, prior N(0, K)) and weight space (a linear model, fᵢ = xᵢᵀ w).
 */
export interface EpGaussian {
  /** The number of sites (data points). */
  readonly sites: number;
  /** q's marginal of fᵢ. */
  marginal(i: number): Marginal;
  /** Site i's parameters change by (Δτ̃, Δν̃); the caller has checked that 1 + Δτ̃·Var(fᵢ) > 0. */
  rankOne(i: number, dTau: number, dNu: number): void;
  /** Rebuilds q from all the site parameters (numerically fresh); false, leaving q as it was, if q would not be a proper Gaussian. */
  rebuild(tau: Float64Array, nu: Float64Array): boolean;
  /**
   * log ∫ p₀(w) Π exp(ν̃ᵢ fᵢ − ½ τ̃ᵢ fᵢ²) dw, the log normalizer of q's unnormalized product,
   * for the sites of the last `rebuild`.
   */
  logNormalizer(): number;
}
