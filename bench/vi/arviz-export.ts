/**
 * varinf fits exported to ArviZ and read back by ArviZ itself: eight schools fitted by `fit`
 * with a mean-field and a full-rank guide, each exported by `saveArvizFromModel` (posterior,
 * posterior_predictive, observed_data, log_likelihood, dims from the plate 'school'), then
 * bench/peers/arviz_check.py runs az.loo on each, az.compare on both, and az.plot_ppc. The table
 * sets ArviZ's elpd_loo, SE and p_loo beside varinf's own `loo` on the same log-likelihoods (same
 * run; ArviZ estimates the relative efficiency r_eff from the 4 chains where varinf's `loo` takes
 * r_eff = 1, the right value for independent VI draws, so the two differ in the last digit), and the
 * posterior predictive p-values of `ppcTest`. Needs bash bench/peers/setup-arviz.sh.
 *
 * Run: npx tsx bench/vi/arviz-export.ts [--draws 2000]
 */
import { mkdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { HalfCauchy, Normal, add, fit, key, loo, mul, plate, ppcTest, sample, saveArvizFromModel, savePpcStatistics, arvizFromModel, tensor, type Tensor } from '../../ts/index.js';
import { fmt, runPeer } from './cavi-peers.js';

const { values } = parseArgs({ options: { draws: { type: 'string', default: '2000' } } });
process.env.VARINF_QUIET = '1';
const names = ['Choate', 'Deerfield', 'Phillips Andover', 'Phillips Exeter', 'Hotchkiss', 'Lawrenceville', "St. Paul's", 'Mt. Hermon'];
const y = tensor([28, 8, -3, 7, -1, 1, 18, 12]);
const sigma = tensor([15, 10, 16, 11, 9, 11, 10, 18]);

function schools(obs: Tensor | undefined, s: Tensor): void {
  const mu = sample('mu', new Normal(0, 5));
  const tau = sample('tau', new HalfCauchy(5));
  plate('school', 8, () => {
    const raw = sample('theta_raw', new Normal(0, 1));
    sample('obs', new Normal(add(mu, mul(tau, raw)), s), { obs });
  });
}

console.log(`load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
const outDir = fileURLToPath(new URL('../results/', import.meta.url));
mkdirSync(outDir, { recursive: true });
const rows: string[][] = [];
const files: string[] = [];
for (const guide of ['normal', 'mvn'] as const) {
  const r = await fit(schools, [y, sigma], { guide, key: key(0), numDraws: Number(values.draws), progressBar: false });
  const path = `${outDir}arviz-eight-schools-${guide}.json`;
  const opts = { key: key(1), chains: 4, coords: { school: names } };
  saveArvizFromModel(path, schools, [y, sigma], r.draws, opts);
  const idata = arvizFromModel(schools, [y, sigma], r.draws, opts);
  const ll = (idata.log_likelihood!.obs as number[][][]).flat(); // [chains × draws][8]
  const own = loo(ll);
  const rep = (idata.posterior_predictive!.obs as number[][][]).flat();
  const ppc = ppcTest(rep, [28, 8, -3, 7, -1, 1, 18, 12], ['min', 'max', 'mean', 'sd']);
  savePpcStatistics(`${outDir}ppc-stats-eight-schools-${guide}.svg`, ppc);
  rows.push([guide, fmt(own.elpdLoo, 2), fmt(own.se, 2), fmt(own.pLoo, 2), fmt(Math.max(...own.pointwise.khat), 2), ppc.checks.map((c) => `${c.name} ${c.pValue.toFixed(2)}`).join(', ')]);
  files.push(`${guide}=${path}`);
}
interface PeerOut {
  arviz: string;
  fits: Record<string, { groups: string[]; obs_dims: string[]; elpd_loo: number; se: number; p_loo: number; max_khat: number; ppc_png: string }>;
  compare?: Record<string, { rank: number; elpd_loo: number; weight: number }>;
}
const peer = runPeer<PeerOut>('arviz_check.py', [outDir, ...files]);
console.log('guide   varinf loo: elpd     se  p_loo  max k̂ | ArviZ az.loo: elpd     se  p_loo  max k̂ | varinf PPC p-values');
for (const row of rows) {
  const p = typeof peer === 'string' ? undefined : peer.fits[row[0]];
  const pz = p ? `${fmt(p.elpd_loo, 2).padStart(18)} ${fmt(p.se, 2).padStart(6)} ${fmt(p.p_loo, 2).padStart(6)} ${fmt(p.max_khat, 2).padStart(6)}` : ' '.repeat(39);
  console.log(`${row[0].padEnd(6)} ${row[1].padStart(18)} ${row[2].padStart(6)} ${row[3].padStart(6)} ${row[4].padStart(6)} |${pz} | ${row[5]}`);
}
if (typeof peer === 'string') console.log(`ArviZ: ${peer} (bash bench/peers/setup-arviz.sh)`);
else {
  console.log(`ArviZ ${peer.arviz} read both exports: groups ${peer.fits.normal.groups.join(', ')}; posterior_predictive obs dims ${peer.fits.normal.obs_dims.join(', ')}`);
  if (peer.compare) console.log(`az.compare: ${Object.entries(peer.compare).map(([k, v]) => `${k} rank ${v.rank} elpd ${v.elpd_loo.toFixed(2)} weight ${v.weight.toFixed(2)}`).join('; ')}`);
  console.log(`az.plot_ppc figures: ${Object.values(peer.fits).map((f) => f.ppc_png).join(', ')}`);
}
