/**
 * The categorical (discrete) variable: q(z) = Categorical(r) over K values per plate element,
 * held by its natural parameters, the unnormalized log-probabilities; r = softmax of their sum.
 * This is the selector of a mixture (a gate's switch variable), one row per data point.
 *
 * With `copies`, plate element i stands for c_i i.i.d. copies that receive the same messages and
 * so share one q (a term that occurs c_i times in a document: LDA's word tokens). Messages to z are
 * per copy; what z sends its parents and its ELBO terms are weighted by c_i, through `mass`
 * (c_i·r_ik), which factors read instead of `probs` for everything but the messages to z.
 */
import { ShapeError, ValueError } from '../../core/errors.js';
import { rowSoftmax } from '../cavi/design.js';
import { type VmpFactor, VmpVariable } from './node.js';

/**
 * A factor whose message to a categorical variable is the log of a positive array it can multiply
 * in directly (exp E[log π] of a Dirichlet parent or a constant probability vector): the selector
 * then forms its probabilities as a product and normalizes, with no exponential per entry.
 */
export interface ExpMessageFactor extends VmpFactor {
  /** u ← u ⊙ exp(message to v), elementwise over v's size × K entries; with `first`, u ← exp(message) (u's contents are ignored). */
  multiplyExpMessage(v: CategoricalVariable, u: Float64Array, first: boolean): void;
  /** Σ_n c_n Σ_k r_nk m_nk: the message's expectation under v's current q (the selector's entropy needs it). */
  expectedMessage(v: CategoricalVariable): number;
}

function sendsExp(f: VmpFactor): f is ExpMessageFactor {
  return typeof (f as Partial<ExpMessageFactor>).multiplyExpMessage === 'function';
}

/** A latent categorical over a plate. Read `probs` (size × K) after a run. */
export class CategoricalVariable extends VmpVariable {
  /** Whether updates may take the product form (see `update`); a structured subclass turns it off. */
  protected productForm = true;
  /** Always 'categorical'. */
  readonly family = 'categorical';
  /** Accumulated log-probabilities, up to a constant per row (size × K); not written by product-form updates. */
  readonly logits: Float64Array;
  /** q's probabilities r (size × K, rows sum to 1). */
  readonly probs: Float64Array;
  private readonly countSums: Float64Array;
  private countsVersion = -1;
  /** c_n r_nk (size × K): what each element contributes to its parents' messages and to E[log f]; `probs` itself without copies. */
  readonly mass: Float64Array;
  /** −Σ r log r from the last softmax (Σ_n logsumexp_n − Σ r·logits), or NaN when q was set by `initialize`. */
  private cachedEntropy = Number.NaN;

  /** @internal Made by `FactorGraph.categorical`. */
  constructor(
    name: string,
    /** The number of categories K. */
    readonly k: number,
    size: number,
    index: number,
    /** c_n, the copies each element stands for (null: one each). */
    readonly copies: Float64Array | null = null,
  ) {
    super(name, size, index);
    this.logits = new Float64Array(size * k);
    this.probs = new Float64Array(size * k);
    this.mass = copies ? new Float64Array(size * k) : this.probs;
    this.countSums = new Float64Array(k);
  }

  /** Σ_n c_n r_nk (K): the expected counts, summed on first use after each change of q. */
  get counts(): Float64Array {
    if (this.countsVersion !== this.version) {
      const { k, mass, countSums } = this;
      countSums.fill(0);
      for (let i = 0; i < mass.length; i += k) for (let j = 0; j < k; j++) countSums[j] += mass[i + j];
      this.countsVersion = this.version;
    }
    return this.countSums;
  }

  /** c_n r_nk into `mass` (a no-op without copies: mass is probs then). */
  private weigh(): void {
    const { k, probs, mass, copies } = this;
    if (copies) for (let i = 0; i < this.size; i++) for (let j = i * k; j < (i + 1) * k; j++) mass[j] = copies[i] * probs[j];
  }

  /**
   * Sets q before the first sweep: hard labels (one integer in [0, K) per element) or
   * probabilities (size × K, rows summing to 1). The default schedule then updates this variable last.
   */
  initialize(init: ArrayLike<number>): void {
    const { k, size } = this;
    if (init.length === size) {
      this.probs.fill(0);
      for (let i = 0; i < size; i++) {
        const c = init[i];
        if (!(Number.isInteger(c) && c >= 0 && c < k)) throw new ValueError(`vmp: the initial label of '${this.name}' at ${i} is ${c}; expected an integer in [0, ${k})`);
        this.probs[i * k + c] = 1;
      }
    } else if (init.length === size * k) {
      for (let i = 0; i < size; i++) {
        let s = 0;
        for (let j = 0; j < k; j++) {
          const p = init[i * k + j];
          if (!(p >= 0 && p <= 1)) throw new ValueError(`vmp: the initial probabilities of '${this.name}' have entry (${i}, ${j}) = ${p}`);
          s += p;
        }
        if (Math.abs(s - 1) > 1e-9) throw new ValueError(`vmp: the initial probabilities of '${this.name}' in row ${i} sum to ${s}, not 1`);
      }
      this.probs.set(Array.from(init));
    } else throw new ShapeError(`vmp: the initial value of '${this.name}' has ${init.length} entries; expected ${size} labels or ${size} × ${k} probabilities`);
    this.initialized = true;
    this.cachedEntropy = Number.NaN;
    this.weigh();
    this.version++;
  }

  /**
   * The VMP step. When every message comes from a factor that can send it exponentiated (a
   * Dirichlet or constant π, a categorical gate over Dirichlet components: LDA's selectors), q is
   * formed as the product of those arrays and normalized per row, and the entropy as
   * Σ_n c_n log Σ_k u_nk − Σ_f (message f's expectation); otherwise, or when a row's product
   * underflows (s < 1e-200), by summing log messages and a softmax. Both give the same q.
   */
  override update(only?: readonly VmpFactor[]): void {
    const fs = only ?? this.factors;
    if (!this.productForm || !fs.every(sendsExp)) return super.update(only);
    const { k, probs, mass, copies } = this;
    for (let f = 0; f < fs.length; f++) fs[f].multiplyExpMessage(this, probs, f === 0);
    let lse = 0;
    for (let i = 0, o = 0; i < this.size; i++, o += k) {
      let s = 0;
      for (let j = o; j < o + k; j++) s += probs[j];
      if (!(s > 1e-200 && s < Infinity)) return super.update(only);
      const inv = 1 / s;
      const c = copies ? copies[i] : 1;
      for (let j = o; j < o + k; j++) {
        const r = probs[j] * inv;
        probs[j] = r;
        if (copies) mass[j] = c * r;
      }
      lse += c * Math.log(s);
    }
    this.version++;
    let cross = 0;
    for (const f of fs) cross += f.expectedMessage(this);
    this.cachedEntropy = lse - cross;
  }

  protected clear(): void {
    this.logits.fill(0);
  }

  protected finish(): void {
    const { k, logits, probs, mass, copies } = this;
    // The backend's row softmax (native on cpu), as the hand-written CAVI uses. Then one pass per
    // row: c·r into `mass`, and the entropy −c Σ r log r = c·(logsumexp − Σ r·logits) with
    // logsumexp = max logit − log max r (the largest r is ≥ 1/K, so its log is well conditioned);
    // a NaN or empty row fails that test. The maxima are branch-free (Math.max).
    rowSoftmax(logits, this.size, k, probs);
    let h = 0;
    for (let i = 0, o = 0; i < this.size; i++, o += k) {
      const c = copies ? copies[i] : 1;
      let rl = 0;
      let top = 0;
      let maxL = -Infinity;
      for (let j = o; j < o + k; j++) {
        const r = probs[j];
        const l = logits[j];
        if (r > 0) rl += r * l;
        top = Math.max(top, r);
        maxL = Math.max(maxL, l);
        if (copies) mass[j] = c * r;
      }
      if (!(top > 0 && Number.isFinite(rl))) throw new ValueError(`vmp: categorical '${this.name}' element ${i} got log-probabilities [${Array.from(logits.subarray(o, o + k)).join(', ')}] from its messages`);
      h += c * (maxL - Math.log(top) - rl);
    }
    this.cachedEntropy = h;
  }

  /** −Σ_n c_n Σ_k r_nk log r_nk (terms with r = 0 are 0). */
  entropy(): number {
    if (!Number.isNaN(this.cachedEntropy)) return this.cachedEntropy;
    const { k, probs, copies } = this;
    let h = 0;
    for (let i = 0; i < probs.length; i++) if (probs[i] > 0) h -= (copies ? copies[Math.floor(i / k)] : 1) * probs[i] * Math.log(probs[i]);
    return h;
  }
}
