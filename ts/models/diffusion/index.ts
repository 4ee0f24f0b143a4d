/** Denoising diffusion as a hierarchical VAE: schedules, ε-networks (MLP, U-Net), L_simple and L_vlb, the exact bound, sampling. */
export * from './schedule.js';
export * from './embedding.js';
export * from './forward.js';
export * from './ddpm.js';
export * from './decoder.js';
export * from './bound.js';
export * from './unet.js';
export * from './sample.js';
