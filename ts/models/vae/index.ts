/**
 * Variational autoencoders (survey §7–8): the VAE with one or more stochastic layers, the ELBO,
 * IWAE and DReG objectives, KL schedules against posterior collapse, the training loop with
 * checkpoints, and evaluation (test ELBO, importance-sampled log p(x), active units, amortization gap).
 */
export * from './terms.js';
export * from './model.js';
export * from './objectives.js';
export * from './checkpoint.js';
export * from './loop.js';
export * from './train.js';
export * from './evaluate.js';
export * from './sbn.js';
export * from './sbn-estimators.js';
export * from './sbn-train.js';
export * from './cvae.js';
export * from './m2.js';
export * from './ladder.js';
export * from './vampprior.js';
export * from './gumbel.js';
export * from './vqvae.js';
export * from './conv.js';
export * from './flow-encoder.js';
