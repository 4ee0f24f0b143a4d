/**
 * The Markov-chain variable: hidden states z_{1:T} of one or more sequences with the structured
 * q(z) ∝ exp(ℓπ_{z_1} + Σ_t ℓA_{z_{t−1} z_t} + Σ_t ℓB_{t, z_t}) — its natural parameters are the
 * log-start ℓπ (K), log-transition ℓA (K × K) and per-step log-emission ℓB (N × K) messages,
 * summed. Its moments, by scaled forward–backward per sequence in O(T K²), are the marginals γ
 * (`probs`, so the gates that take a categorical selector take a chain too), the summed start
 * marginals Σ_s γ^{(s)}_1 and pair marginals Σ ξ_t; the entropy comes from the normalizer:
 * H = Σ_s log Z_s − Σ_s γ^{(s)}_1·ℓπ − Σ ξ·ℓA − Σ_t γ_t·ℓB_t.
 */
import { ShapeError, ValueError } from '../../core/errors.js';
import { type FbWork, fbWork, forwardBackwardCore } from '../cavi/forward-backward.js';
import { CategoricalVariable } from './categorical.js';

/** A latent Markov chain over K states for sequences laid end to end (N steps in all). */
export class MarkovChainVariable extends CategoricalVariable {
  /** Accumulated log-start message ℓπ (K). */
  readonly logStart: Float64Array;
  /** Accumulated log-transition message ℓA (K × K, row = from). */
  readonly logTrans: Float64Array;
  /** Σ_s q(z^{(s)}_1 = k) (K). */
  readonly startCounts: Float64Array;
  /** Σ_{s,t} q(z_{t−1} = i, z_t = j) (K × K). */
  readonly transCounts: Float64Array;
  private readonly work: FbWork;
  private chainEntropy = Number.NaN;
  /** A chain's q is structured: its update always runs forward–backward on the summed log messages. */
  protected override productForm = false;

  /** @internal Made by `FactorGraph.markovChain`. */
  constructor(
    name: string,
    k: number,
    /** Sequence boundaries: sequence s is steps starts[s] .. starts[s + 1] − 1. */
    readonly starts: Int32Array,
    index: number,
  ) {
    super(name, k, starts[starts.length - 1], index);
    this.logStart = new Float64Array(k);
    this.logTrans = new Float64Array(k * k);
    this.startCounts = new Float64Array(k);
    this.transCounts = new Float64Array(k * k);
    let maxT = 0;
    for (let s = 0; s + 1 < starts.length; s++) maxT = Math.max(maxT, starts[s + 1] - starts[s]);
    this.work = fbWork(maxT, k);
  }

  /** Hard initial states (one label per step); the expected counts follow from them. */
  override initialize(init: ArrayLike<number>): void {
    if (init.length !== this.size) throw new ShapeError(`vmp: the initial states of chain '${this.name}' have ${init.length} entries; expected ${this.size} labels`);
    super.initialize(init);
    const { k, starts } = this;
    this.startCounts.fill(0);
    this.transCounts.fill(0);
    for (let s = 0; s + 1 < starts.length; s++) {
      this.startCounts[init[starts[s]]] += 1;
      for (let t = starts[s] + 1; t < starts[s + 1]; t++) this.transCounts[init[t - 1] * k + init[t]] += 1;
    }
    this.chainEntropy = 0;
  }

  protected override clear(): void {
    super.clear();
    this.logStart.fill(0);
    this.logTrans.fill(0);
  }

  protected override finish(): void {
    const { k, starts, logits, probs } = this;
    const pi = this.logStart.map(Math.exp);
    const a = this.logTrans.map(Math.exp);
    this.startCounts.fill(0);
    this.transCounts.fill(0);
    let logZ = 0;
    for (let s = 0; s + 1 < starts.length; s++) {
      const off = starts[s];
      logZ += forwardBackwardCore(pi, a, logits, off, starts[s + 1] - off, k, probs, this.transCounts, this.work, `vmp: chain '${this.name}' sequence ${s}`);
      for (let j = 0; j < k; j++) this.startCounts[j] += probs[off * k + j];
    }
    let h = logZ;
    for (let i = 0; i < this.size * k; i++) if (probs[i] > 0) h -= probs[i] * logits[i];
    for (let j = 0; j < k; j++) if (this.startCounts[j] > 0) h -= this.startCounts[j] * this.logStart[j];
    for (let j = 0; j < k * k; j++) if (this.transCounts[j] > 0) h -= this.transCounts[j] * this.logTrans[j];
    if (!Number.isFinite(h)) throw new ValueError(`vmp: chain '${this.name}' has entropy ${h} after forward–backward`);
    this.chainEntropy = h;
  }

  /** H[q(z_{1:T})], from the forward–backward normalizer (0 for hard initial states). */
  override entropy(): number {
    return this.chainEntropy;
  }
}
