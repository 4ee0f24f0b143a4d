/*
 * Reference posteriors of posteriordb (stan-dev/posteriordb), each Stan program written as a
 * varinf model, with a loader for posteriordb's data.json and the map from fitted latent draws
 * to the quantities of its reference.json.
 */
export { OnSupport, col, columns, matrix, num, vec, type Posterior, type Quantities } from './common.js';
export { compareToReference, type Comparison, type QuantityComparison, type Reference, type ReferenceStat } from './compare.js';
export { arK, loadArK, arKPosterior, type ArKData } from './arK.js';
export {
  eightSchoolsCentered,
  eightSchoolsNoncentered,
  loadEightSchools,
  eightSchoolsCenteredPosterior,
  eightSchoolsNoncenteredPosterior,
  type EightSchoolsData,
} from './eightSchools.js';
export { garch11, loadGarch, garchPosterior, type GarchData } from './garch.js';
export { gpRegr, loadGpRegr, gpRegrPosterior, type GpRegrData } from './gpRegr.js';
export { gaussMix, loadGaussMix, gaussMixPosterior, type GaussMixData } from './gaussMix.js';
export { radon, loadRadon, radonPosterior, type RadonData } from './radon.js';
export { blr, loadBlr, sblriPosterior, sblrcPosterior, type BlrData } from './blr.js';
export { wells, loadWells, wellsPosterior, type WellsData } from './wells.js';

import type { Posterior } from './common.js';
import { arKPosterior } from './arK.js';
import { eightSchoolsCenteredPosterior, eightSchoolsNoncenteredPosterior } from './eightSchools.js';
import { garchPosterior } from './garch.js';
import { gpRegrPosterior } from './gpRegr.js';
import { gaussMixPosterior } from './gaussMix.js';
import { radonPosterior } from './radon.js';
import { sblrcPosterior, sblriPosterior } from './blr.js';
import { wellsPosterior } from './wells.js';

/** Every posterior, by posteriordb name. */
export const posteriors: Record<string, Posterior<never>> = Object.fromEntries(
  [
    arKPosterior,
    eightSchoolsCenteredPosterior,
    eightSchoolsNoncenteredPosterior,
    garchPosterior,
    gpRegrPosterior,
    gaussMixPosterior,
    radonPosterior,
    sblrcPosterior,
    sblriPosterior,
    wellsPosterior,
  ].map((p) => [p.name, p as unknown as Posterior<never>]),
);
