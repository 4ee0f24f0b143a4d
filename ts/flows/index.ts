/** Normalizing flows: layers, flow distributions, flow guides and maximum-likelihood fitting. */
export { NotInvertibleError, FlowTransform, type FlowLayer, type ModalFlowLayer } from './core.js';
export type { ConditionerOptions } from './conditioner.js';
export * from './coupling.js';
export { maf, iaf, type AutoregressiveOptions, type IAFOptions } from './autoregressive.js';
export { splineCoupling, splineAutoregressive, type SplineOptions, type SplineCouplingOptions, type SplineAutoregressiveOptions } from './spline.js';
export * from './glow.js';
export * from './residual.js';
export { Flow, FlowDistribution } from './flow.js';
export { AutoFlowGuide, AutoIAFNormal, AutoNSF, AutoRealNVP, AutoBNAFNormal, AutoFFJORD, flowGuide, type AutoFlowOptions, type FlowGuideName } from './guides.js';
export { fitFlow, flowNLL, type FitFlowOptions, type FitFlowResult } from './fit.js';
export * from './sylvester.js';
export * from './bnaf.js';
export { conditionalAffine } from './affine.js';
export { batchNorm, type BatchNormLayer, type BatchNormOptions, type BatchNormParams, type BatchNormStats } from './batchnorm.js';
export { ffjord, type FFJORDLayer, type FFJORDOptions, type TraceEstimator } from './ffjord.js';
export { concatSquashField, type ConcatSquashOptions, type ConcatSquashParams, type FieldActivation, type FieldEval, type VectorField } from './vector-field.js';
export { cfmLoss, fitFlowMatching, flowMatchingFlow, straightPath, type CFMLossOptions, type FitFlowMatchingOptions, type FitFlowMatchingResult } from './flow-matching.js';
