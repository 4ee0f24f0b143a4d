/**
 * Bayesian deep learning: mean-field Gaussian layers with their priors and estimators (plain
 * reparameterization, local reparameterization, Flipout), conversion of deterministic networks,
 * the minibatch ELBO, a compiled minibatch trainer, MC dropout and predictive evaluation.
 */
export * from './priors.js';
export * from './linear.js';
export * from './conv.js';
export * from './convert.js';
export * from './elbo.js';
export * from './fit.js';
export * from './predictive.js';
export * from './mc-dropout.js';
export * from './standardize.js';
