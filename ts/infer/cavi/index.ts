/** Conjugate-exponential VI: CAVI and natural-gradient SVI with closed-form updates and ELBOs. */
import '../../backends/registry.js';
export { runCavi, naturalGradientStep, type CaviFactor, type ConjugateModel, type CaviOptions, type CaviTrace } from './conjugate.js';
export { bayesLinReg, type BlrPrior, type BlrOptions, type BlrResult } from './blr.js';
export { ppcaMeanField, type PpcaOptions, type PpcaResult } from './ppca.js';
export {
  ldaCavi,
  ldaSvi,
  ldaTransform,
  ldaPerplexity,
  topWords,
  type LdaOptions,
  type LdaFit,
  type LdaCaviResult,
  type LdaSviOptions,
  type LdaSviResult,
  type LdaPerplexityOptions,
} from './lda.js';
export { bayesGmm, bayesGmmElbo, gmmEm, adjustedRandIndex, type BgmmOptions, type BgmmPosterior, type BgmmResult, type GmmEmOptions, type GmmEmResult } from './gmm.js';
export { kmeansPlusPlus } from './kmeans.js';
export { RowDesign } from './design.js';
export { vbHmm, type HmmSequence, type VbHmmOptions, type VbHmmResult } from './hmm.js';
export { hmmPredict, hmmPredictProba, hmmScore } from './hmm-predict.js';
export { forwardBackward, viterbi } from './forward-backward.js';
export { bayesGmmSvi, type GmmSviOptions, type GmmSviResult } from './gmm-svi.js';
