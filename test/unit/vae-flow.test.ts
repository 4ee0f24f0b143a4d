/**
 * VAEs with flow posteriors (IAF, NSF, amortized Sylvester) and flow priors: log q(z|x) of the
 * encoder's own draws against the change of variables with the autodiff Jacobian (float64, 1e-8)
 * and, where the inverse exists, against inverting the draws; log p(z) of a flow prior likewise;
 * the losses' gradients against central differences; on a toy whose true posterior is curved (a
 * fixed nonlinear decoder, one observed coordinate, two latents) the IAF and Sylvester encoders
 * reach a higher ELBO than the Gaussian one; the compiled training step against the eager one;
 * bad input.
 */
import { describe, expect, it } from 'vitest';
import type { Tensor } from '../../ts/core/tensor.js';
import { VarinfError } from '../../ts/core/errors.js';
import { leaves, mapLeaves } from '../../ts/core/tree.js';
import * as V from '../../ts/index.js';
import { MinibatchLoader } from '../../ts/data/loader.js';
import { hasMnist, loadMnist, subset } from '../../ts/data/mnist.js';
import { FlowVAE, flowVaeLoss, trainFlowVAE, type FlowVAEConfig, type FlowVAEModel, type FlowVAEParams, type PosteriorFlow } from '../../ts/models/vae/index.js';
import { applyUpdates } from '../../ts/optim/transform.js';
import { autodiffLogDet, perturb } from './flows-helpers.js';

const f64 = <T>(p: T): T => mapLeaves(p, (t) => V.cast(t, 'float64'));
const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);
const B = 4;
const d = 3;

/** A tiny model in float64 with its flows moved off their near-identity start. */
function tiny(posterior: PosteriorFlow, extra: Partial<FlowVAEConfig> = {}): { m: FlowVAEModel; p: FlowVAEParams; x: Tensor } {
  const m = FlowVAE({ xDim: 5, z: d, hidden: [6], posterior, flowHidden: [8], contextFeatures: 4, reflections: 2, bins: 4, ...extra });
  const p0 = f64(m.init(V.key(0)));
  const p = { ...p0, flow: perturb(p0.flow, 1, 0.3), prior: perturb(p0.prior, 2, 0.3) };
  const x = V.uniform(V.key(3), [B, 5], { dtype: 'float64' });
  return { m, p, x };
}

const stdNormal = (e: ArrayLike<number>, row: number): number => {
  let s = 0;
  for (let j = 0; j < d; j++) s += -0.5 * e[row * d + j] ** 2 - HALF_LOG_2PI;
  return s;
};

describe('flow posteriors score their own draws', () => {
  it.each(['iaf', 'nsf', 'sylvester', 'gaussian'] as const)('%s: log q(z|x) = log N(ε) − log|det ∂z/∂ε| with the autodiff Jacobian (float64)', (post) => {
    const { m, p, x } = tiny(post);
    const eps = V.normal(V.key(5), [1, B, d], { dtype: 'float64', scale: 1.5 });
    const { z, logQ } = m.posterior(p, x, eps);
    const ld = autodiffLogDet((e) => V.reshape(m.posterior(p, x, V.reshape(e, [1, B, d])).z, [B, d]), V.reshape(eps, [B, d]));
    const e = eps.dataSync();
    const lq = logQ.dataSync();
    for (let b = 0; b < B; b++) expect(Math.abs(lq[b] - (stdNormal(e, b) - ld[b]))).toBeLessThan(1e-8);
    // The flow moved the draws (it is not the identity) except for the Gaussian posterior.
    const z0 = m.posterior(p, x, eps).z0;
    const moved = V.max(V.abs(V.sub(z, z0))).item();
    if (post === 'gaussian') expect(moved).toBe(0);
    else expect(moved).toBeGreaterThan(1e-2);
  });

  it('nsf: inverting the draws layer by layer gives z₀ back and the same log-determinant', () => {
    const { m, p, x } = tiny('nsf');
    const eps = V.normal(V.key(6), [2, B, d], { dtype: 'float64', scale: 2 }); // some draws in the linear tails
    const { z0, z, logQ } = m.posterior(p, x, eps);
    const ts = (m.posteriorFlow as V.Flow).transforms(p.flow, m.encode(p, x).context);
    let cur = z;
    let ladjInv: Tensor = V.zeros([2, B], 'float64');
    for (let i = ts.length - 1; i >= 0; i--) {
      const [prev, l] = ts[i].inverseAndLadj(cur);
      ladjInv = V.add(ladjInv, l);
      cur = prev;
    }
    expect(V.max(V.abs(V.sub(cur, z0))).item()).toBeLessThan(1e-10);
    // log q(z) = log N(z₀; μ, σ²) + log|det ∂z₀/∂z|, with log N(z₀; μ, σ²) = log N(ε) − Σ log σ.
    const q = m.encode(p, x);
    const halfLv = V.sum(V.mul(q.logVar, 0.5), -1).dataSync();
    const e = eps.dataSync();
    const li = ladjInv.dataSync();
    const lq = logQ.dataSync();
    for (let s = 0; s < 2; s++) for (let b = 0; b < B; b++) expect(Math.abs(lq[s * B + b] - (stdNormal(e, s * B + b) - halfLv[b] + li[s * B + b]))).toBeLessThan(1e-9);
  });

  it.each(['maf', 'nsf'] as const)('a %s prior: log p(z) = log N(f⁻¹(z)) + log|det ∂f⁻¹/∂z| with the autodiff Jacobian', (prior) => {
    const { m, p } = tiny('iaf', { prior, priorHidden: [8] });
    const z = V.normal(V.key(8), [B, d], { dtype: 'float64', scale: 2 });
    const lp = m.logPrior(p, z).dataSync();
    const ts = (m.priorFlow as V.Flow).transforms(p.prior);
    const inv = (u: Tensor): Tensor => ts.reduceRight((acc, t) => t.inverse(acc), u);
    const u = inv(z).dataSync();
    const ld = autodiffLogDet(inv, z);
    for (let b = 0; b < B; b++) expect(Math.abs(lp[b] - (stdNormal(u, b) + ld[b]))).toBeLessThan(1e-8);
  });
});

/** Max relative error of the autodiff gradient of `f` against central differences, over every entry of every leaf. */
function gradError<P>(f: (q: P) => Tensor, p: P): number {
  const [, g] = V.valueAndGrad(f)(p);
  const gl = leaves(g).map((t) => t.dataSync());
  let err = 0;
  leaves(p).forEach((leaf, li) => {
    const base = leaf.dataSync() as Float64Array;
    for (let j = 0; j < base.length; j++) {
      const h = 1e-6 * Math.max(1, Math.abs(base[j]));
      const at = (dd: number): number =>
        V.tidy(() => {
          const c = base.slice();
          c[j] += dd;
          let k = 0;
          return f(mapLeaves(p, (t) => (k++ === li ? V.tensor(c, t.shape) : t))).item();
        });
      const fd = (at(h) - at(-h)) / (2 * h);
      err = Math.max(err, Math.abs(gl[li][j] - fd) / Math.max(1, Math.abs(fd)));
    }
  });
  return err;
}

describe('gradients of the flow VAE losses', () => {
  it.each([
    ['iaf', 'elbo', 'normal'],
    ['nsf', 'iwae', 'normal'],
    ['sylvester', 'iwae', 'maf'],
  ] as const)('%s posterior, %s objective, %s prior: against central differences (float64)', (post, objective, prior) => {
    const { m, p } = tiny(post, { prior, priorHidden: [6] });
    const x = V.tensor(Float64Array.from({ length: 2 * 5 }, (_, i) => (i * 7) % 3 === 0 ? 1 : 0), [2, 5], 'float64');
    const eps = [V.normal(V.key(11), [2, 2, d], { dtype: 'float64' })];
    expect(gradError((q: FlowVAEParams) => flowVaeLoss(m, q, x, eps, { objective }).loss, p)).toBeLessThan(1e-5);
  });
});

describe('a flow posterior fits a curved posterior better than a Gaussian', () => {
  // p(z) = N(0, I₂), x | z ~ N(g(z), 0.3²) with g a fixed random tanh MLP: the posterior of z given
  // one number x lies along a curved level set of g. Only the encoder (and flow) train; the
  // decoder stays fixed, so the ELBO gap is KL(q ‖ p(z|x)) alone.
  const N = 16;
  const result: Record<string, number> = {};
  const run = async (post: PosteriorFlow): Promise<number> => {
    const m = FlowVAE({ xDim: 1, z: 2, hidden: [16], posterior: post, likelihood: 'gaussian', flowHidden: [16], contextFeatures: 8 });
    const p = f64(m.init(V.key(0)));
    const dec = p.vae.dec[0];
    const g = (i: number, s: readonly number[], scale: number): Tensor => V.normal(V.key(50 + i), s, { dtype: 'float64', scale });
    const fixed = {
      net: dec.net.map((l, i) => ({ weight: g(i, l.weight.shape, 1.5), bias: g(10 + i, [l.weight.shape[0]], 0.5) })),
      mu: { weight: g(20, dec.mu.weight.shape, 1), bias: V.zeros([1], 'float64') },
      logVar: { weight: V.zeros((dec.logVar as { weight: Tensor }).weight.shape, 'float64'), bias: V.tensor([Math.log(0.09)], [1], 'float64') },
    };
    const mean = m.vae.decodeLayer({ enc: p.vae.enc, dec: [fixed] }, 0, V.normal(V.key(3), [N, 2], { dtype: 'float64' })).mu;
    const x = V.add(mean, V.normal(V.key(4), mean.shape, { dtype: 'float64', scale: 0.3 }));
    type Trained = Pick<FlowVAEParams, 'context' | 'flow'> & { enc: FlowVAEParams['vae']['enc'] };
    const full = (t: Trained): FlowVAEParams => ({ vae: { enc: t.enc, dec: [fixed] }, ...(t.context ? { context: t.context } : {}), flow: t.flow, prior: [] });
    const elbo = (t: Trained, k: V.Key, n: number): Tensor => {
      const r = m.forward(full(t), x, [V.normal(k, [n, N, 2], { dtype: 'float64' })]);
      return V.mean(V.sub(r.logPx, V.sum(r.kl[0], -1)));
    };
    const opt = V.adam(1e-2);
    let t: Trained = { enc: p.vae.enc, flow: p.flow, ...(p.context ? { context: p.context } : {}) };
    let os: ReturnType<typeof opt.init> = opt.init(t);
    for (let s = 0; s < 400; s++) {
      [t, os] = V.tidy(() => {
        const [, gr] = V.valueAndGrad((q: Trained) => V.neg(elbo(q, V.foldIn(V.key(9), s), 4)))(t);
        const [u, o2] = opt.update(gr, os, t);
        return [applyUpdates(t, u), o2] as [Trained, typeof os];
      });
      if (s % 50 === 49) await new Promise((r) => setTimeout(r, 0)); // keep the event loop free
    }
    return elbo(t, V.key(99), 2000).item();
  };
  it.each(['gaussian', 'iaf', 'sylvester'] as const)('trains the %s encoder (400 Adam steps, deterministic keys)', async (post) => {
    result[post] = await run(post);
    expect(Number.isFinite(result[post])).toBe(true);
  });
  it('the IAF and Sylvester ELBOs beat the Gaussian encoder\'s by more than a nat', () => {
    const msg = `ELBOs ${JSON.stringify(result)}`;
    expect(result.iaf - result.gaussian, msg).toBeGreaterThan(1);
    expect(result.sylvester - result.gaussian, msg).toBeGreaterThan(1);
  });
});

describe.skipIf(!hasMnist())('compiled training steps of flow VAEs', () => {
  const data = hasMnist() ? subset(loadMnist('train'), 100) : null;
  const opt = V.adam(2e-3);
  it.each([
    ['iaf', 'elbo', 'normal'],
    ['nsf', 'iwae', 'normal'],
    ['sylvester', 'elbo', 'maf'],
  ] as const)('%s posterior, %s, %s prior: compiled by default, the same losses as eager', async (posterior, objective, prior) => {
    const m = FlowVAE({ xDim: 784, z: 4, hidden: [16], posterior, prior, flowHidden: [8], contextFeatures: 8, reflections: 2 });
    const run = (compile: boolean): Promise<V.TrainResult<FlowVAEParams>> => {
      const p = m.init(V.key(0));
      const loader = new MinibatchLoader(data as NonNullable<typeof data>, { batchSize: 25, key: V.key(1), binarize: 'dynamic' });
      return trainFlowVAE(m, { params: p, optState: opt.init(p), step: 0 }, loader, { steps: 5, key: V.key(4), optimizer: opt, objective, k: objective === 'iwae' ? 3 : 1, logEvery: 1, compile });
    };
    const eager = await run(false);
    const comp = await run(true);
    expect(comp.compiled).toEqual({ used: true });
    comp.history.forEach((h, i) => expect(Math.abs(h.loss - eager.history[i].loss), `step ${i}`).toBeLessThan(1e-4 * Math.max(1, Math.abs(eager.history[i].loss))));
    const a = leaves(comp.state.params).map((t) => t.dataSync());
    leaves(eager.state.params).forEach((t, i) => {
      const e = t.dataSync();
      for (let j = 0; j < e.length; j++) expect(Math.abs(a[i][j] - e[j])).toBeLessThan(1e-4);
    });
  });
});

describe('flow VAE bad input', () => {
  it('a context of the wrong shape names the layer', () => {
    const h = V.zeros([B, 5], 'float64');
    const layers: V.FlowLayer[] = [V.iaf(d, { contextFeatures: 4 }) as V.FlowLayer, V.splineAutoregressive(d, { contextFeatures: 4 }) as V.FlowLayer, V.conditionalSylvester(d, { contextFeatures: 4 }) as V.FlowLayer];
    for (const layer of layers) {
      const p = layer.init(V.key(0), 'float64');
      let err: unknown = null;
      try {
        layer.bind(p, h);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(VarinfError);
      expect((err as Error).message).toMatch(new RegExp(`^${layer.name}: context of shape \\[4, 5\\] must end in 4 features`));
      expect(() => layer.bind(p)).toThrow(new RegExp(`${layer.name}: the layer is conditional`));
    }
  });

  it('configuration, parameters and shapes are checked', () => {
    expect(() => FlowVAE({ xDim: 5, z: 2, hidden: [4], posterior: 'maf' as PosteriorFlow })).toThrow(/FlowVAE: posterior must be one of gaussian, iaf, nsf, sylvester, got 'maf'/);
    expect(() => FlowVAE({ xDim: 5, z: 2, hidden: [4], prior: 'iaf' as never })).toThrow(/FlowVAE: prior must be one of normal, maf, nsf/);
    expect(() => FlowVAE({ xDim: 5, z: 2, hidden: [4], flowLayers: 0 })).toThrow(/FlowVAE: flowLayers must be an integer ≥ 1, got 0/);
    expect(() => V.conditionalSylvester(3, { contextFeatures: 0 })).toThrow(/conditionalSylvester: contextFeatures must be an integer ≥ 1/);
    const { m, p, x } = tiny('iaf');
    expect(() => m.posterior(p, x, V.zeros([1, B, d + 1], 'float64'))).toThrow(/FlowVAE.posterior: eps must be \[k, 4, 3\], got \[1, 4, 4\]/);
    expect(() => m.forward(p, V.zeros([B, 6], 'float64'), m.noise(V.key(0), 1, B))).toThrow(/FlowVAE.posterior: x must be \[batch, 5\], got \[4, 6\]/);
    const { context: _c, ...noCtx } = p;
    expect(() => m.posterior(noCtx, x, V.zeros([1, B, d], 'float64'))).toThrow(/FlowVAE: the iaf posterior needs params.context/);
    expect(() => m.logPrior(p, V.zeros([2, d + 1], 'float64'))).toThrow(/FlowVAE.logPrior: z must end in the latent size 3/);
    const sy = V.conditionalSylvester(3, { contextFeatures: 4, reflections: 2 });
    expect(() => sy.bind({ head: { weight: V.zeros([5, 4], 'float64'), bias: V.zeros([5], 'float64') } }, V.zeros([2, 4], 'float64'))).toThrow(/conditionalSylvester: head.weight must be \[33, 4\]/);
    expect(() => sy.bind(sy.init(V.key(0), 'float64'), V.zeros([2, 4], 'float64')).inverse(V.zeros([2, 3], 'float64'))).toThrow(/conditionalSylvester: the inverse has no closed form/);
  });
});
