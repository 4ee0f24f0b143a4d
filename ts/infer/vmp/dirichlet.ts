/**
 * The Dirichlet variable: q(π) = Dirichlet(α) over K categories per plate element; its natural
 * parameters are α − 1, held here as α.
 */
import { ShapeError, ValueError } from '../../core/errors.js';
import { kernelMath } from '../cavi/lda-kernel.js';
import { VmpVariable } from './node.js';

// ψ and ln Γ with one division / one log for small arguments (~1e-13): a topic model's Dirichlets
// hold K × V concentrations, most of them small, and these run once per entry per update.
const { psi, lgamma } = kernelMath;

/** A latent Dirichlet over a plate. Read `alpha` (size × K) and `meanLog` (E[log π]) after a run. */
export class DirichletVariable extends VmpVariable {
  /** Always 'dirichlet'. */
  readonly family = 'dirichlet';
  /** Concentrations α (size × K). */
  readonly alpha: Float64Array;
  /** E[log π_k] = ψ(α_k) − ψ(Σα) (size × K). */
  readonly meanLog: Float64Array;
  /** exp E[log π_k] (size × K), for messages sent in the exponentiated domain. */
  readonly expMeanLog: Float64Array;
  private cachedEntropy = Number.NaN;

  /** @internal Made by `FactorGraph.dirichlet`. */
  constructor(
    name: string,
    /** The number of categories K. */
    readonly k: number,
    size: number,
    index: number,
  ) {
    super(name, size, index);
    this.alpha = new Float64Array(size * k);
    this.meanLog = new Float64Array(size * k);
    this.expMeanLog = new Float64Array(size * k);
  }

  /**
   * Sets q before the first sweep to Dirichlet(alpha) (size × K, or K for every element); the
   * default schedule then updates this variable last.
   */
  initialize(alpha: ArrayLike<number>): void {
    const { k, size } = this;
    if (alpha.length !== k && alpha.length !== size * k)
      throw new ShapeError(`vmp: the initial concentration of '${this.name}' has ${alpha.length} entries; expected ${k} or ${size} × ${k}`);
    for (let i = 0; i < size * k; i++) this.alpha[i] = alpha[alpha.length === k ? i % k : i];
    this.finish();
    this.initialized = true;
    this.version++;
  }

  protected clear(): void {
    this.alpha.fill(0);
  }

  protected finish(): void {
    // E[log π] and, from the same ψ values, the entropy (see `entropy`).
    const { k, alpha, meanLog } = this;
    let h = 0;
    for (let i = 0; i < this.size; i++) {
      const o = i * k;
      let s = 0;
      for (let j = 0; j < k; j++) {
        const a = alpha[o + j];
        if (!(a > 0 && Number.isFinite(a))) throw new ValueError(`vmp: Dirichlet '${this.name}' element ${i} got α_${j} = ${a} from its messages; q is not a proper Dirichlet`);
        s += a;
      }
      const ps = psi(s);
      h += -lgamma(s) + (s - k) * ps;
      for (let j = 0; j < k; j++) {
        const a = alpha[o + j];
        const pa = psi(a);
        meanLog[o + j] = pa - ps;
        this.expMeanLog[o + j] = Math.exp(pa - ps);
        h += lgamma(a) - (a - 1) * pa;
      }
    }
    this.cachedEntropy = h;
  }

  /** Σ_i log B(α) + (α₀ − K) ψ(α₀) − Σ_k (α_k − 1) ψ(α_k), α₀ = Σ_k α_k (computed with the moments). */
  entropy(): number {
    return this.cachedEntropy;
  }
}
