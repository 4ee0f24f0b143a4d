/**
 * posteriordb: hierarchical radon regression (90 quantities: 85 county intercepts α, β, μ_α, σ_α,
 * σ_y), the largest of the reference posteriors. Best peer worst z 0.42 (NumPyro AutoMVN, 20k
 * steps; published in issue 4, not re-run).
 */
import { describe, expect, it } from 'vitest';
import { CI_PHASES, fitPosterior, report } from './posteriordb-helpers.js';

const NAME = 'radon_mn-radon_hierarchical_intercept_noncentered';

describe('posteriordb, radon', () => {
  for (const guide of ['normal', 'mvn'] as const)
    it(`${guide}: worst z over 90 quantities below the best peer's 0.42`, async () => {
      // 90 dimensions: the first phase runs 20·d steps, as fit's defaults do.
      const phases = [{ ...CI_PHASES[0], minSteps: 1840, maxSteps: 1840 }, ...CI_PHASES.slice(1)];
      const f = await fitPosterior(NAME, guide, { phases });
      report(NAME, guide, f);
      expect(f.cmp.worstZ).toBeLessThan(0.42);
      expect(Number.isFinite(f.khat)).toBe(true);
    });
});
