/**
 * Predictive evaluation shared by Bayesian networks and MC dropout, on S stochastic forward
 * passes ŷ_s (s = 1..S) of a test set:
 * - regression: the predictive is the mixture (1/S) Σ_s N(ŷ_s, σ²) with observation noise σ;
 *   test RMSE of its mean, test log-likelihood log((1/S) Σ_s N(y; ŷ_s, σ²)) per point (the UCI
 *   benchmark's definition), and the coverage of central intervals of the moment-matched Gaussian;
 * - classification: the mean of the passes' class probabilities, accuracy, NLL, the expected
 *   calibration error (Naeini et al. 2015; Guo et al. 2017) and a reliability diagram as SVG.
 */
import { ShapeError, ValueError } from '../../core/errors.js';
import type { Tensor } from '../../core/tensor.js';
import { tidy } from '../../core/memory.js';
import { foldIn, type Key } from '../../random/key.js';

const LOG_2PI = Math.log(2 * Math.PI);

/**
 * S stochastic passes of a function of a key, as one row-major array [S, ...output]: pass s uses
 * `foldIn(key, s)`. Compile `pass` (compile(fn)) for many passes.
 * @example const draws = predictiveSamples((k) => net.apply(p, xTest, { key: k }), 1000, key(9))
 */
export function predictiveSamples(pass: (k: Key) => Tensor, samples: number, k: Key): {
  /** The passes' outputs, row-major [S, output size]; pass s is row s. */
  data: Float64Array;
  /** [S, number of output values per pass]. */
  shape: number[];
} {
  if (!(Number.isInteger(samples) && samples >= 1)) throw new ValueError(`predictiveSamples: samples must be a positive integer, got ${samples}`);
  let data: Float64Array | null = null;
  let shape: number[] = [];
  for (let s = 0; s < samples; s++) {
    const y = tidy(() => pass(foldIn(k, s)).dataSync().slice());
    if (data === null) {
      data = new Float64Array(samples * y.length);
      shape = [samples, y.length];
    } else if (y.length !== shape[1]) throw new ShapeError(`predictiveSamples: pass ${s} gave ${y.length} values, pass 0 gave ${shape[1]}`);
    data.set(y, s * y.length);
  }
  return { data: data as Float64Array, shape };
}

/** Options of `regressionPredictive`. */
export interface RegressionPredictiveOptions {
  /** Observation noise sd σ of the likelihood (> 0), in the same units as the samples; or its precision `tau`. */
  noiseSd?: number;
  /** Precision τ = 1/σ² (Gal & Ghahramani's notation); give this or `noiseSd`. */
  tau?: number;
  /** Un-standardize the samples as ŷ·scale + shift before scoring (targets stay in original units). Default 1 and 0. */
  scale?: number;
  /** Offset added after scaling when un-standardizing the samples; default 0. */
  shift?: number;
  /** Central interval probabilities whose coverage to report; default [0.5, 0.9, 0.95]. */
  levels?: readonly number[];
}

/** What `regressionPredictive` returns. */
export interface RegressionPredictive {
  /** Predictive mean and sd per point (sd² = σ² + the passes' variance). */
  mean: Float64Array;
  /** Predictive sd per point: √(σ² + the passes' variance). */
  sd: Float64Array;
  /** √(mean (y − mean)²). */
  rmse: number;
  /** Mean over points of log((1/S) Σ_s N(y; ŷ_s, σ²)). */
  logLik: number;
  /** Fraction of points inside the central interval mean ± z·sd of each level. */
  coverage: {
    /** The central interval's probability, e.g. 0.9. */
    level: number;
    /** Fraction of points whose target lies inside that interval. */
    fraction: number;
  }[];
}

/** Φ⁻¹(p) by bisection on Φ (interval levels need no more). */
function normalQuantile(p: number): number {
  let lo = -10;
  let hi = 10;
  for (let i = 0; i < 80; i++) {
    const m = (lo + hi) / 2;
    if (normalCdf(m) < p) lo = m;
    else hi = m;
  }
  return (lo + hi) / 2;
}

/** Φ(x) via the complementary error function (Numerical Recipes' erfc Chebyshev fit, |ε| < 1.2e−7). */
function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.5 * z);
  const r = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return x >= 0 ? 1 - r / 2 : r / 2;
}

/**
 * Scores S passes [S, n] of a regression network against targets y [n] (see the file comment).
 * @example
 * const { data } = predictiveSamples((k) => net.apply(p, xTest, { key: k }), 1000, key(0));
 * const r = regressionPredictive(data, yTest, { tau: 0.2, scale: ySd, shift: yMean });
 * r.rmse; r.logLik; r.coverage; // [{ level: 0.5, fraction }, ...]
 */
export function regressionPredictive(samples: ArrayLike<number>, y: ArrayLike<number>, o: RegressionPredictiveOptions): RegressionPredictive {
  const n = y.length;
  if (n === 0 || samples.length % n !== 0) throw new ShapeError(`regressionPredictive: ${samples.length} sample values are not a whole number of passes over ${n} targets`);
  const S = samples.length / n;
  if ((o.noiseSd === undefined) === (o.tau === undefined)) throw new ValueError('regressionPredictive: give exactly one of noiseSd and tau');
  const sigma = o.noiseSd ?? 1 / Math.sqrt(o.tau as number);
  if (!(Number.isFinite(sigma) && sigma > 0)) throw new ValueError(`regressionPredictive: the noise sd must be a finite number > 0, got ${o.noiseSd ?? `tau = ${o.tau}`}`);
  const { scale = 1, shift = 0, levels = [0.5, 0.9, 0.95] } = o;
  for (const l of levels) if (!(l > 0 && l < 1)) throw new ValueError(`regressionPredictive: interval levels must be in (0, 1), got ${l}`);
  const mean = new Float64Array(n);
  const sd = new Float64Array(n);
  const lse = new Float64Array(S);
  let se = 0;
  let ll = 0;
  const inv2s2 = 1 / (2 * sigma * sigma);
  const c = -Math.log(S) - 0.5 * LOG_2PI - Math.log(sigma);
  for (let i = 0; i < n; i++) {
    let m = 0;
    let m2 = 0;
    let mx = -Infinity;
    for (let s = 0; s < S; s++) {
      const v = samples[s * n + i] * scale + shift;
      m += v;
      m2 += v * v;
      const d = y[i] - v;
      lse[s] = -d * d * inv2s2;
      if (lse[s] > mx) mx = lse[s];
    }
    let acc = 0;
    for (let s = 0; s < S; s++) acc += Math.exp(lse[s] - mx);
    ll += mx + Math.log(acc) + c;
    m /= S;
    mean[i] = m;
    sd[i] = Math.sqrt(sigma * sigma + Math.max(0, m2 / S - m * m));
    se += (y[i] - m) ** 2;
  }
  const coverage = levels.map((level) => {
    const z = normalQuantile(0.5 + level / 2);
    let inside = 0;
    for (let i = 0; i < n; i++) if (Math.abs(y[i] - mean[i]) <= z * sd[i]) inside++;
    return { level, fraction: inside / n };
  });
  return { mean, sd, rmse: Math.sqrt(se / n), logLik: ll / n, coverage };
}

/** One bin of a reliability diagram. */
export interface CalibrationBin {
  /** Bin edges on the confidence axis. */
  lo: number;
  /** Upper bin edge on the confidence axis. */
  hi: number;
  /** Points in the bin, their mean confidence and their accuracy (NaN when empty). */
  count: number;
  /** Mean confidence (largest predictive probability) of the points in the bin; NaN when empty. */
  confidence: number;
  /** Fraction of the bin's points whose most probable class is the label; NaN when empty. */
  accuracy: number;
}

/** What `classificationPredictive` returns. */
export interface ClassificationPredictive {
  /** Mean class probabilities over the passes, [n, C] row-major. */
  probs: Float64Array;
  /** Fraction of points whose most probable class under the predictive is the label. */
  accuracy: number;
  /** Mean −log p̄(y_n). */
  nll: number;
  /** ECE = Σ_b (|b|/n)·|acc(b) − conf(b)| over equal-width confidence bins. */
  ece: number;
  /** The equal-width confidence bins of the reliability diagram, from low to high confidence. */
  bins: CalibrationBin[];
}

/**
 * Scores S passes of class probabilities [S, n, C] (row-major, each row summing to 1) against
 * labels [n]: the predictive is their mean; confidence is its largest probability.
 * @example
 * const { data } = predictiveSamples((k) => softmax(net.apply(p, x, { key: k })), 100, key(0));
 * const r = classificationPredictive(data, labels, 10); r.ece; reliabilityDiagramSvg(r.bins);
 */
export function classificationPredictive(probSamples: ArrayLike<number>, labels: ArrayLike<number>, numClasses: number, nBins = 15): ClassificationPredictive {
  const n = labels.length;
  const C = numClasses;
  if (!(Number.isInteger(C) && C >= 2)) throw new ValueError(`classificationPredictive: numClasses must be an integer >= 2, got ${C}`);
  if (!(Number.isInteger(nBins) && nBins >= 1)) throw new ValueError(`classificationPredictive: nBins must be a positive integer, got ${nBins}`);
  if (n === 0 || probSamples.length % (n * C) !== 0) throw new ShapeError(`classificationPredictive: ${probSamples.length} values are not a whole number of [${n}, ${C}] passes`);
  const S = probSamples.length / (n * C);
  const probs = new Float64Array(n * C);
  for (let s = 0; s < S; s++) for (let j = 0; j < n * C; j++) probs[j] += probSamples[s * n * C + j] / S;
  const cnt = new Float64Array(nBins);
  const conf = new Float64Array(nBins);
  const hit = new Float64Array(nBins);
  let correct = 0;
  let nll = 0;
  for (let i = 0; i < n; i++) {
    const lab = labels[i];
    if (!(Number.isInteger(lab) && lab >= 0 && lab < C)) throw new ValueError(`classificationPredictive: label ${i} is ${lab}, outside [0, ${C})`);
    let best = 0;
    for (let c = 1; c < C; c++) if (probs[i * C + c] > probs[i * C + best]) best = c;
    const pmax = probs[i * C + best];
    const b = Math.min(nBins - 1, Math.floor(pmax * nBins));
    cnt[b]++;
    conf[b] += pmax;
    if (best === lab) {
      hit[b]++;
      correct++;
    }
    nll -= Math.log(Math.max(probs[i * C + lab], 1e-300));
  }
  let ece = 0;
  const bins: CalibrationBin[] = [];
  for (let b = 0; b < nBins; b++) {
    const count = cnt[b];
    const confidence = count > 0 ? conf[b] / count : Number.NaN;
    const accuracy = count > 0 ? hit[b] / count : Number.NaN;
    if (count > 0) ece += (count / n) * Math.abs(accuracy - confidence);
    bins.push({ lo: b / nBins, hi: (b + 1) / nBins, count, confidence, accuracy });
  }
  return { probs, accuracy: correct / n, nll: nll / n, ece, bins };
}

/**
 * A reliability diagram as a standalone SVG document: one bar per bin at its accuracy, the
 * diagonal of perfect calibration, and the gap to each bin's mean confidence outlined.
 * @example writeFileSync('reliability.svg', reliabilityDiagramSvg(r.bins, { title: 'MC dropout' }))
 */
export function reliabilityDiagramSvg(bins: readonly CalibrationBin[], opts: { size?: number; title?: string } = {}): string {
  const size = opts.size ?? 320;
  const pad = 40;
  const w = size - 2 * pad;
  const X = (v: number): number => pad + v * w;
  const Y = (v: number): number => size - pad - v * w;
  const f = (v: number): string => v.toFixed(1);
  const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}" viewBox="0 0 ${size} ${size}" font-family="sans-serif" font-size="11">`,
    `<rect x="${pad}" y="${pad}" width="${w}" height="${w}" fill="none" stroke="#444"/>`,
  ];
  for (const b of bins) {
    if (!(b.count > 0)) continue;
    const x0 = X(b.lo);
    const bw = X(b.hi) - x0;
    parts.push(`<rect x="${f(x0)}" y="${f(Y(b.accuracy))}" width="${f(bw)}" height="${f(Y(0) - Y(b.accuracy))}" fill="#3b6fb6" stroke="#fff"/>`);
    const top = Math.max(b.accuracy, b.confidence);
    const bot = Math.min(b.accuracy, b.confidence);
    parts.push(`<rect x="${f(x0)}" y="${f(Y(top))}" width="${f(bw)}" height="${f(Y(bot) - Y(top))}" fill="#d9534f" fill-opacity="0.3" stroke="#d9534f"/>`);
  }
  parts.push(`<line x1="${X(0)}" y1="${Y(0)}" x2="${X(1)}" y2="${Y(1)}" stroke="#888" stroke-dasharray="4 3"/>`);
  parts.push(`<text x="${size / 2}" y="${size - 8}" text-anchor="middle">confidence</text>`);
  parts.push(`<text x="12" y="${size / 2}" text-anchor="middle" transform="rotate(-90 12 ${size / 2})">accuracy</text>`);
  if (opts.title !== undefined) parts.push(`<text x="${size / 2}" y="20" text-anchor="middle" font-size="13">${esc(opts.title)}</text>`);
  parts.push('</svg>');
  return parts.join('\n');
}
