/** Denoising diffusion as a hierarchical VAE: schedules, the ε-network, L_simple and the exact bound. */
export * from './schedule.js';
export * from './ddpm.js';
