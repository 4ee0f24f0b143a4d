/** Guide draws with their importance log weights: the diagnostics' raw material. */
import type { ModelFn } from '../../ppl/runtime.js';
import { ValueError } from '../../core/errors.js';
import type { Tensor } from '../../core/tensor.js';
import { tensor } from '../../ops/creation.js';
import { add, neg } from '../../ops/elementwise.js';
import { foldIn, type Key } from '../../random/key.js';
import type { AutoGuide } from '../autoguide.js';
import { getTraces, perParticle } from '../elbo.js';

/**
 * S draws from the fitted guide (in chunks of vectorized particles) with their log ratios
 * log p(x, z) − log q(z). Draws come back per latent site as [S, ...batch, ...event].
 */
export function evaluateGuide<A extends unknown[]>(
  model: ModelFn<A>,
  args: A,
  guide: AutoGuide<A>,
  params: Record<string, Tensor>,
  S: number,
  key: Key,
  chunk = 500,
): { draws: Record<string, Tensor>; logWeights: Float64Array } {
  const gen = evaluateGuideSteps(model, args, guide, params, S, key, chunk);
  for (;;) {
    const r = gen.next();
    if (r.done) return r.value;
  }
}

/** {@link evaluateGuide} as a generator that yields after each chunk of draws. */
export function* evaluateGuideSteps<A extends unknown[]>(
  model: ModelFn<A>,
  args: A,
  guide: AutoGuide<A>,
  params: Record<string, Tensor>,
  S: number,
  key: Key,
  chunk = 500,
): Generator<void, { draws: Record<string, Tensor>; logWeights: Float64Array }, void> {
  if (!Number.isInteger(S) || S < 2) throw new ValueError(`evaluateGuide: S must be an integer >= 2, got ${S}`);
  const logWeights = new Float64Array(S);
  const parts: Record<string, Float64Array[]> = {};
  let done = 0;
  let c = 0;
  while (done < S) {
    const P = Math.max(2, Math.min(chunk, S - done));
    const take = Math.min(P, S - done);
    const { guideTr, modelTr } = getTraces(
      { model, guide: guide.guide, args, params, key: foldIn(key, c++), maxPlateNesting: guide.maxPlateNesting },
      P,
    );
    let lw: Tensor | null = null;
    for (const s of modelTr.values()) if (s.type === 'sample') lw = lw === null ? perParticle(s, P) : add(lw, perParticle(s, P));
    for (const s of guideTr.values()) if (s.type === 'sample') lw = add(lw as Tensor, neg(perParticle(s, P)));
    logWeights.set((lw as Tensor).dataSync().subarray(0, take), done);
    for (const site of guide.sites) {
      const v = (guideTr.get(site.name) as { value: Tensor }).value.dataSync();
      const per = v.length / P;
      (parts[site.name] ??= []).push(Float64Array.from(v.subarray(0, take * per)));
    }
    done += take;
    yield;
  }
  const draws: Record<string, Tensor> = {};
  for (const site of guide.sites) {
    const flat = new Float64Array(parts[site.name].reduce((a, p) => a + p.length, 0));
    let off = 0;
    for (const p of parts[site.name]) {
      flat.set(p, off);
      off += p.length;
    }
    draws[site.name] = tensor(flat, [S, ...site.batchShape, ...site.eventShape]);
  }
  return { draws, logWeights };
}
