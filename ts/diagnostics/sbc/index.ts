/* Simulation-based calibration: generators, backends, ranks, the χ² and ECDF tests, the runner and its figures. */
export { functionGenerator, modelGenerator, firstNonFinite, type ParameterValue, type SbcDataset, type SbcGenerator, type ModelGeneratorOptions } from './generator.js';
export { functionBackend, fitBackend, sviBackend, type SbcBackend, type SbcDraws, type FitBackendOptions, type SviBackendOptions } from './backend.js';
export { flattenParameters, thinIndices, rankOf, type FlatVariables, type VariableOrigin } from './ranks.js';
export { rankChiSquare, gammaQ, defaultBins, type ChiSquareTest } from './chisq.js';
export { ecdfBand, rankEcdfTest, type EcdfBand, type EcdfBandOptions, type EcdfTest } from './ecdf.js';
export { runSimulation, type SbcSpec, type SbcSimulation, type SbcFailure } from './replication.js';
export { sbc, sbcResults, formatSbc, type SbcOptions, type SbcResult, type SbcVariableTests } from './runner.js';
export { type SbcModule } from './workers.js';
export { sbcPlotSvg, saveSbcPlot, type SbcPlotOptions } from './plots.js';
