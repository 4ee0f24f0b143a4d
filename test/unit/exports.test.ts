/**
 * What a user needs is importable from the package root: the corpus readers that ldaCavi takes
 * and posteriordb's data helpers (under `models`).
 */
import { describe, expect, it } from 'vitest';
import * as varinf from '../../ts/index.js';

describe('root exports', () => {
  it('has the corpus readers', () => {
    for (const name of ['readDocTermFile', 'docTermFromTriplets', 'readVocabFile', 'parseDocTermTriplets', 'selectDocs', 'ldaCavi'])
      expect(typeof (varinf as Record<string, unknown>)[name], name).toBe('function');
  });

  it('has expectation propagation', () => {
    for (const name of ['epGp', 'epLinear', 'runEp', 'rbfKernel', 'probitLikelihood', 'logisticLikelihood', 'studentTLikelihood', 'functionSpaceGaussian', 'weightSpaceGaussian', 'tiltedByQuadrature'])
      expect(typeof (varinf as Record<string, unknown>)[name], name).toBe('function');
  });

  it('has the VMP factor graph and its error', () => {
    for (const name of ['FactorGraph', 'NonConjugateError', 'linearRegressionGraph', 'gaussianMixtureGraph', 'ldaGraph', 'defaultSchedule'])
      expect(typeof (varinf as Record<string, unknown>)[name], name).toBe('function');
  });

  it('has the scale-out pieces', () => {
    for (const name of ['fitMany', 'communicator', 'LocalCommunicator', 'DataParallelSVI', 'DataParallelTrainer', 'shardOf', 'allReduceStep', 'abortOnError'])
      expect(typeof (varinf as Record<string, unknown>)[name], name).toBe('function');
  });

  it('has the continuous flow (FFJORD), flow matching, batch norm and the shared ODE solver', () => {
    for (const name of ['ffjord', 'concatSquashField', 'batchNorm', 'AutoFFJORD', 'cfmLoss', 'fitFlowMatching', 'flowMatchingFlow', 'straightPath', 'odeDopri5', 'odeRk4', 'OdeStepError'])
      expect(typeof (varinf as Record<string, unknown>)[name], name).toBe('function');
  });

  it("has posteriordb's data helpers under models", () => {
    const json = { N: 2, y: [1, 2], X: [[1, 2], [3, 4]] };
    expect(varinf.models.num(json, 'N')).toBe(2);
    expect(Array.from(varinf.models.vec(json, 'y', 2))).toEqual([1, 2]);
    expect(varinf.models.matrix(json, 'X', 2, 2).toArray()).toEqual([[1, 2], [3, 4]]);
  });

  it('has denoising diffusion under diffusion', () => {
    for (const name of ['linearSchedule', 'cosineSchedule', 'diffusionSchedule', 'qSample', 'qPosterior', 'EpsilonMLP', 'UNet', 'timeEmbedding', 'ddpmSimpleLoss', 'ddpmVlbLoss', 'ddpmBound', 'decoderLogLik', 'ddpmSample'])
      expect(typeof (varinf.diffusion as Record<string, unknown>)[name], name).toBe('function');
  });

  it('has SBC, PPC and the model ArviZ export', () => {
    for (const name of ['sbc', 'sbcResults', 'functionGenerator', 'modelGenerator', 'functionBackend', 'fitBackend', 'rankChiSquare', 'rankEcdfTest', 'ecdfBand', 'saveSbcPlot', 'ppcTest', 'posteriorPredictiveSamples', 'ppcDensitySvg', 'ppcStatisticsSvg', 'arvizFromModel', 'saveArvizFromModel'])
      expect(typeof (varinf as Record<string, unknown>)[name], name).toBe('function');
  });
});
