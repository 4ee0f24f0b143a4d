/**
 * The factor of a Markov chain's prior, z_1 ~ Categorical(π), z_t | z_{t−1} ~ Categorical(A_{z_{t−1}·}),
 * with π a Dirichlet variable (plate 1, K) and A a Dirichlet variable (plate K, one row per state).
 * Messages: to the chain, ℓπ += E[log π] and ℓA += E[log A]; to π, α += Σ_s γ^{(s)}_1; to A,
 * α += Σ ξ. E[log f] = Σ_s γ^{(s)}_1·E[log π] + Σ ξ·E[log A].
 */
import type { DirichletVariable } from './dirichlet.js';
import type { MarkovChainVariable } from './markov-chain.js';
import type { VmpFactor, VmpVariable } from './node.js';

/** @internal Made by `FactorGraph.markovChain`. */
export class MarkovChainFactor implements VmpFactor {
  readonly variables: readonly VmpVariable[];

  constructor(
    readonly name: string,
    private readonly z: MarkovChainVariable,
    private readonly start: DirichletVariable,
    private readonly trans: DirichletVariable,
  ) {
    this.variables = [z, start, trans];
  }

  sendTo(v: VmpVariable): void {
    const { z, start, trans } = this;
    const kk = z.k * z.k;
    if (v === z) {
      for (let j = 0; j < z.k; j++) z.logStart[j] += start.meanLog[j];
      for (let j = 0; j < kk; j++) z.logTrans[j] += trans.meanLog[j];
    } else if (v === start) for (let j = 0; j < z.k; j++) start.alpha[j] += z.startCounts[j];
    else if (v === trans) for (let j = 0; j < kk; j++) trans.alpha[j] += z.transCounts[j];
  }

  expectedLog(): number {
    const { z, start, trans } = this;
    let s = 0;
    for (let j = 0; j < z.k; j++) if (z.startCounts[j] > 0) s += z.startCounts[j] * start.meanLog[j];
    for (let j = 0; j < z.k * z.k; j++) if (z.transCounts[j] > 0) s += z.transCounts[j] * trans.meanLog[j];
    return s;
  }
}
