/**
 * Batch normalization as a flow layer (Dinh, Sohl-Dickstein & Bengio 2017, RealNVP §3.6;
 * Papamakarios et al. 2017, MAF §3.4). In the density direction (x → z, `inverse`)
 * z = e^{logGamma}·(x − μ)/√(σ² + ε) + beta with log|det ∂z/∂x| = Σ logGamma − ½ log(σ² + ε):
 * in training mode μ, σ² are the statistics of the batch being scored (and the running averages
 * move towards them), in evaluation mode they are the running averages.
 */
import { stopGradient } from '../core/autodiff.js';
import { ValueError, VarinfError } from '../core/errors.js';
import { dispose, keep } from '../core/memory.js';
import type { Tensor } from '../core/tensor.js';
import { add, exp, log, mul, square, sub } from '../ops/elementwise.js';
import { ones, zeros } from '../ops/creation.js';
import { mean } from '../ops/reduce.js';
import { reshape } from '../ops/shape.js';
import { affineFlow } from '../ops/flow.js';
import { isTracing } from '../compile/recorder.js';
import type { Key } from '../random/key.js';
import type { FloatDType } from '../random/samplers.js';
import { checkFeatures } from './conditioner.js';
import { FlowTransform, modeSwitch, type FlowLayer, type ModalFlowLayer } from './core.js';

/** Parameters of {@link batchNorm}: the learned scale (as its log) and shift of the normalized values. */
export interface BatchNormParams {
  /** log γ per coordinate, [d] (starts at 0). */
  logGamma: Tensor;
  /** β per coordinate, [d] (starts at 0). */
  beta: Tensor;
}

/** Options of {@link batchNorm}. */
export interface BatchNormOptions {
  /** Weight of the new batch in the running averages (PyTorch's momentum); default 0.1. */
  momentum?: number;
  /** ε added to the variance; default 1e-5. */
  eps?: number;
}

/** The running statistics of a {@link batchNorm} layer. */
export interface BatchNormStats {
  /** Running mean per coordinate, [d]. */
  mean: Tensor;
  /** Running (biased) variance per coordinate, [d]. */
  var: Tensor;
}

/** The layer object {@link batchNorm} returns: a flow layer with a mode and running statistics. */
export interface BatchNormLayer extends ModalFlowLayer<BatchNormParams> {
  /** Whether the layer is in training mode (batch statistics in the density direction). */
  readonly training: boolean;
  /** Training mode (default on creation). Returns the layer. */
  train(mode?: boolean): BatchNormLayer;
  /** Evaluation mode: the running statistics in both directions. Returns the layer. */
  eval(): BatchNormLayer;
  /** The running statistics (null before the first training batch or `calibrate`). */
  readonly stats: BatchNormStats | null;
  /** Sets the running statistics to the mean and variance of `x` [n ≥ 2, d] (MAF's statistics over the training set). */
  calibrate(params: BatchNormParams, x: Tensor): void;
}

/** Mean and biased variance over every batch axis of x [..., d] → [d], [d]; refuses a single row. */
function batchStats(x: Tensor, d: number, what: string): [Tensor, Tensor] {
  const flat = reshape(x, [-1, d]);
  if (flat.shape[0] < 2)
    throw new VarinfError(`batchNorm: ${what} of shape [${x.shape.join(', ')}] has a single row; batch statistics need at least 2 (score single rows in eval mode: layer.eval())`);
  const m = mean(flat, 0);
  return [m, mean(square(sub(flat, m)), 0)];
}

class BatchNormTransform extends FlowTransform {
  constructor(
    d: number,
    private readonly p: BatchNormParams,
    private readonly layer: BatchNormState,
  ) {
    super('batchNorm', d);
  }
  /** z = x·e^s + shift with s = logGamma − ½ log(σ² + ε), shift = beta − μ·e^s. */
  private affine(m: Tensor, v: Tensor): [Tensor, Tensor] {
    const s = sub(this.p.logGamma, mul(log(add(v, this.layer.eps)), 0.5));
    return [sub(this.p.beta, mul(m, exp(s))), s];
  }
  private running(): [Tensor, Tensor] {
    const st = this.layer.stats;
    if (st !== null) return [st.mean, st.var];
    const d = this.features;
    const dt = this.p.beta.dtype as FloatDType;
    return [zeros([d], dt), ones([d], dt)];
  }
  protected callForward(z: Tensor): [Tensor, Tensor] {
    // The sampling direction has no data to take statistics from: it uses the running ones.
    const [shift, s] = this.affine(...this.running());
    return affineFlow(z, shift, s, { inverse: true });
  }
  protected callInverse(x: Tensor): [Tensor, Tensor] {
    if (!this.layer.training) return affineFlow(x, ...this.affine(...this.running()));
    const [m, v] = batchStats(x, this.features, 'the batch');
    this.layer.update(m, v);
    return affineFlow(x, ...this.affine(m, v));
  }
}

/** The mutable part of the layer: its mode and running statistics. */
class BatchNormState {
  training = true;
  stats: BatchNormStats | null = null;
  constructor(
    readonly momentum: number,
    readonly eps: number,
  ) {}
  /** Moves the running averages towards a batch's statistics (not inside a trace: those are symbolic). */
  update(m: Tensor, v: Tensor): void {
    if (isTracing()) return;
    const [bm, bv] = [stopGradient(m), stopGradient(v)];
    const old = this.stats;
    const mix = (a: Tensor, b: Tensor): Tensor => add(mul(a, 1 - this.momentum), mul(b, this.momentum));
    this.stats = old === null ? { mean: keep(bm), var: keep(bv) } : { mean: keep(mix(old.mean, bm)), var: keep(mix(old.var, bv)) };
    if (old !== null) dispose(old);
  }
  set(m: Tensor, v: Tensor): void {
    const old = this.stats;
    this.stats = { mean: keep(stopGradient(m)), var: keep(stopGradient(v)) };
    if (old !== null) dispose(old);
  }
}

/**
 * Batch normalization as an invertible layer. Density direction (`inverse`, x → z):
 * z = e^{logGamma}·(x − μ)/√(σ² + ε) + beta, log|det ∂z/∂x| = Σ_i logGamma_i − ½ log(σ²_i + ε).
 * In training mode (the default) μ, σ² are the mean and biased variance of the rows being scored
 * (over every batch axis; a single row is refused) and the running averages move towards them
 * by `momentum`; in evaluation mode (`eval()`) both directions use the running averages, so the
 * layer is a fixed affine map and inverse ∘ forward is the identity. The sampling direction
 * (`forward`) always uses the running averages. Inside a compiled step the running averages
 * are not updated (their values are symbolic there); `calibrate` sets them from data, and
 * `fitFlow` calibrates every batch-norm layer on the training rows before each validation and
 * at the end (MAF's statistics over the training set). The running statistics live on the layer
 * object, so use one layer object per flow. Shapes: [..., d] → [..., d], ladj [...].
 * @example
 * const bn = batchNorm(2);
 * const f = new Flow([maf(2), bn, maf(2)]);
 * const r = fitFlow(f, data); // bn left in eval mode, calibrated on the training rows
 * f.apply(r.params).logProb(test);
 */
export function batchNorm(features: number, opts: BatchNormOptions = {}): BatchNormLayer {
  checkFeatures('batchNorm', features);
  const momentum = opts.momentum ?? 0.1;
  const eps = opts.eps ?? 1e-5;
  if (!(momentum > 0 && momentum <= 1)) throw new ValueError(`batchNorm: momentum must be in (0, 1], got ${momentum}`);
  if (!(eps > 0) || !Number.isFinite(eps)) throw new ValueError(`batchNorm: eps must be positive and finite, got ${eps}`);
  const state = new BatchNormState(momentum, eps);
  const layer: BatchNormLayer = {
    name: 'batchNorm',
    features,
    contextFeatures: 0,
    get training() {
      return state.training;
    },
    get stats() {
      return state.stats;
    },
    ...modeSwitch(state, () => layer),
    init: (_k: Key, dtype: FloatDType): BatchNormParams => ({ logGamma: zeros([features], dtype), beta: zeros([features], dtype) }),
    bind: (p: BatchNormParams) => new BatchNormTransform(features, p, state),
    calibrate(_p: BatchNormParams, x: Tensor) {
      if (x.rank === 0 || x.shape[x.rank - 1] !== features) throw new VarinfError(`batchNorm.calibrate: data of shape [${x.shape.join(', ')}] must end in ${features} features`);
      state.set(...batchStats(x, features, 'calibration data'));
    },
  };
  return layer;
}

/** Whether a flow layer is a batch-norm layer (has a mode and calibrates). @internal */
export function isBatchNorm(l: FlowLayer): l is BatchNormLayer {
  return (l as Partial<BatchNormLayer>).calibrate !== undefined && (l as Partial<BatchNormLayer>).eval !== undefined;
}
