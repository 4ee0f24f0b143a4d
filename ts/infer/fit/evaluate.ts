/** Guide draws with their importance log weights: the diagnostics' raw material. */
import type { ModelFn } from '../../ppl/runtime.js';
import { ShapeError, ValueError, fmtShape } from '../../core/errors.js';
import { sizeOf } from '../../core/shape.js';
import type { Tensor } from '../../core/tensor.js';
import { tensor } from '../../ops/creation.js';
import { add, neg } from '../../ops/elementwise.js';
import { foldIn, type Key } from '../../random/key.js';
import type { AutoGuide } from '../autoguide.js';
import { getTraces, perParticle } from '../elbo.js';

/**
 * S draws from the fitted guide (in chunks of vectorized particles) with their log ratios
 * log p(x, z) − log q(z). Draws come back per latent site as [S, ...batch, ...event], and per
 * `deterministic` site of the model as [S, ...its shape] (a deterministic site whose shape changes
 * between draws raises a `ShapeError` naming it).
 * @example
 * const { draws, logWeights } = evaluateGuide(model, [data], guide, svi.getParams(state), 1000, key(1));
 * draws.theta.shape; // [1000, 8]
 */
export function evaluateGuide<A extends unknown[]>(
  model: ModelFn<A>,
  args: A,
  guide: AutoGuide<A>,
  params: Record<string, Tensor>,
  S: number,
  key: Key,
  chunk = 500,
): {
  /** S draws per site, [S, ...site shape] (constrained). */
  draws: Record<string, Tensor>;
  /** log p(x, z_s) − log q(z_s) for each draw. */
  logWeights: Float64Array;
} {
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
  const detShapes: Record<string, number[]> = {};
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
    // Deterministic sites (Stan's transformed parameters): one value per particle, or one shared by all.
    for (const s of modelTr.values()) {
      if (s.type !== 'deterministic' || s.name.startsWith('_')) continue;
      const value = s.value as Tensor;
      const { shape, perParticle: isPer } = drawShape(value.shape, P, guide.maxPlateNesting);
      const prev = detShapes[s.name];
      if (prev !== undefined && fmtShape(prev) !== fmtShape(shape))
        throw new ShapeError(`evaluateGuide: deterministic site '${s.name}' has shape ${fmtShape(shape)} per draw in draws ${done}–${done + take}, but ${fmtShape(prev)} before: its shape must not change between draws`);
      detShapes[s.name] = shape;
      const per = sizeOf(shape);
      const v = value.dataSync();
      const out = new Float64Array(take * per);
      for (let k = 0; k < take; k++) out.set(v.subarray(isPer ? k * per : 0, (isPer ? k * per : 0) + per), k * per);
      (parts[s.name] ??= []).push(out);
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
  for (const [name, shape] of Object.entries(detShapes)) {
    const flat = new Float64Array(S * sizeOf(shape));
    let off = 0;
    for (const p of parts[name]) {
      flat.set(p, off);
      off += p.length;
    }
    draws[name] = tensor(flat, [S, ...shape]);
  }
  return { draws, logWeights };
}

/**
 * The shape of one draw of a deterministic value computed under a particle plate of size P: the
 * particles are its leftmost axis of size P with only 1s before it; the axes after it, less up to
 * `nest` leading 1s (plates the value does not vary over), are the draw's. A value without such
 * an axis is the same for every particle.
 */
function drawShape(shape: readonly number[], P: number, nest: number): { shape: number[]; perParticle: boolean } {
  const k = shape.findIndex((n) => n !== 1);
  if (k < 0 || shape[k] !== P) return { shape: shape.slice(), perParticle: false };
  const rest = shape.slice(k + 1);
  let drop = 0;
  while (drop < nest && drop < rest.length && rest[drop] === 1) drop++;
  return { shape: rest.slice(drop), perParticle: true };
}
