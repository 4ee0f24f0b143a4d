/**
 * Eight schools (non-centered), fitted with mean-field and full-rank ADVI by `fit`, compared with
 * posteriordb's gold-standard NUTS reference, with PSIS k̂ and the ELBO traces drawn to an SVG.
 * The data and reference summaries are the repository's copies under test/fixtures/posteriordb.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { fitSync, key, models, saveLineChart, type FitResult, type Series } from 'varinf';

const DIR = fileURLToPath(new URL('../test/fixtures/posteriordb/eight_schools-eight_schools_noncentered/', import.meta.url));

export interface EightSchoolsDemo {
  rows: { name: string; refMean: number; refSd: number; fits: { mean: number; sd: number; z: number; r: number }[] }[];
  fits: { label: string; khat: number; khatText: string; worstZ: number; rMin: number; rMax: number; ms: number; steps: number; elbo: number }[];
  traces: Series[];
}

/** Fits both guides and compares them with the reference. */
export function runEightSchools(seed = 0): EightSchoolsDemo {
  const p = models.eightSchoolsNoncenteredPosterior;
  const data = p.loadData(JSON.parse(readFileSync(`${DIR}data.json`, 'utf8')) as Record<string, unknown>);
  const ref = JSON.parse(readFileSync(`${DIR}reference.json`, 'utf8')) as models.Reference;
  const out: EightSchoolsDemo = { rows: [], fits: [], traces: [] };
  const results: [string, FitResult<[models.EightSchoolsData]>][] = [];
  for (const [label, guide] of [
    ['mean-field (AutoNormal)', 'normal'],
    ['full-rank (AutoMultivariateNormal)', 'mvn'],
  ] as const)
    results.push([label, fitSync(p.model, [data], { guide, key: key(seed), numDraws: 4000 })]);
  const comparisons = results.map(([, r]) => models.compareToReference(p.quantities(r.draws, data), ref));
  for (const name of ref.param_names) {
    const rs = ref.params[name];
    out.rows.push({
      name,
      refMean: rs.mean,
      refSd: rs.sd,
      fits: comparisons.map((c) => {
        const q = c.rows.find((x) => x.name === name) as models.QuantityComparison;
        return { mean: q.mean, sd: q.sd, z: q.z, r: q.r };
      }),
    });
  }
  results.forEach(([label, r], i) => {
    const c = comparisons[i];
    out.fits.push({ label, khat: r.khat, khatText: r.khatText, worstZ: c.worstZ, rMin: c.rMin, rMax: c.rMax, ms: r.timings.totalMs, steps: r.timings.steps, elbo: r.elbo });
    out.traces.push({ label, values: Float64Array.from(r.losses, (l) => -l) });
  });
  return out;
}

/** Prints the comparison and writes the ELBO traces to `svgPath`. */
export function printEightSchools(d: EightSchoolsDemo, svgPath: string): void {
  const f = (x: number, w = 7, p = 2): string => x.toFixed(p).padStart(w);
  console.log('Eight schools (non-centered), ADVI vs the posteriordb NUTS reference (mean ± sd; z = |Δmean|/ref sd, r = sd/ref sd)\n');
  console.log(`${'quantity'.padEnd(10)}${'reference'.padStart(16)}${'mean-field'.padStart(18)}${'z'.padStart(6)}${'r'.padStart(6)}${'full-rank'.padStart(18)}${'z'.padStart(6)}${'r'.padStart(6)}`);
  for (const row of d.rows) {
    const cells = row.fits.map((x) => `${f(x.mean)} ± ${f(x.sd, 5)}${f(x.z, 6)}${f(x.r, 6)}`).join('');
    console.log(`${row.name.padEnd(10)}${f(row.refMean)} ± ${f(row.refSd, 5)} ${cells}`);
  }
  console.log('');
  for (const x of d.fits) {
    console.log(`${x.label}: worst z ${x.worstZ.toFixed(2)}, r ${x.rMin.toFixed(2)}–${x.rMax.toFixed(2)}, ELBO ${x.elbo.toFixed(2)}, ${x.steps} steps in ${(x.ms / 1000).toFixed(1)} s`);
    console.log(`  ${x.khatText}`);
  }
  saveLineChart(svgPath, d.traces, { title: 'Eight schools: ELBO per step', xLabel: 'step', yLabel: 'ELBO estimate' });
  console.log(`\nELBO traces written to ${svgPath}`);
}
