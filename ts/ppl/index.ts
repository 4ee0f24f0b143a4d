/* The probabilistic-programming layer: primitives, effect handlers, log densities. */
export { sample, param, plate, deterministic, factor, type SampleOptions, type ParamOptions, type PlateOptions } from './primitives.js';
export { seed, trace, replay, substitute, condition, block, scale, mask, type Trace, type Site, type Traced, type SubstituteValues } from './handlers.js';
export { siteLogProb, traceLogProb, logDensity } from './logdensity.js';
export type { Message, PlateFrame, SiteType, ModelFn } from './runtime.js';
