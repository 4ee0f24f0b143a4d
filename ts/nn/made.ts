/**
 * MADE: the masked autoencoder for distribution estimation (Germain, Gregor, Murray & Larochelle,
 * ICML 2015), the conditioner of IAF (Kingma et al. 2016) and MAF (Papamakarios et al. 2017).
 */
import { allocArray } from '../core/dtype.js';
import { keep } from '../core/memory.js';
import { ShapeError, ValueError, fmtShape } from '../core/errors.js';
import type { Tensor } from '../core/tensor.js';
import { tensor, zeros } from '../ops/creation.js';
import { add, mul, onDeviceOf } from '../ops/elementwise.js';
import { reshape } from '../ops/shape.js';
import { split, type Key } from '../random/key.js';
import { uniform, type FloatDType } from '../random/samplers.js';
import { activation, type Activation } from './activations.js';
import { defaultBiasInit, defaultWeightInit, type Initializer } from './init.js';
import { linear, type LinearParams } from './linear.js';
import type { ApplyOptions, Module } from './module.js';

/** Parameters of `MADE`: one Linear per layer (weights [out, in], unmasked) and the context weight. */
export interface MADEParams {
  /** One unmasked Linear per layer (hidden layers, then the output layer [outputsPerInput·D, last hidden]). */
  layers: LinearParams[];
  /** [hidden[0], contextFeatures], present when the MADE is conditional. */
  context?: Tensor;
}

/** Options of `MADE`. */
export interface MADEOptions {
  /** Outputs per input dimension (e.g. 2 for shift and log-scale); default 1. */
  outputsPerInput?: number;
  /**
   * The autoregressive order: input i is the `order[i]`-th variable (0-based), so output i depends
   * on exactly the inputs j with order[j] < order[i]. A permutation of 0..D−1; default 0, 1, …, D−1.
   */
  order?: readonly number[];
  /** Hidden activation; default 'relu'. */
  activation?: Activation;
  /** Width of an optional context input (e.g. an encoder summary), connected to every hidden unit of the first layer unmasked. Default 0. */
  contextFeatures?: number;
  /** Parameter dtype; default float32. */
  dtype?: FloatDType;
  /** Weight initializer (before masking); default PyTorch's U(±1/√in). */
  weightInit?: Initializer;
  /**
   * Residual blocks (a residual MADE, Durkan et al. 2019's ResMADE, nflows' MaskedResidualBlock):
   * with b > 0, `hidden` is one width h and the network is a masked input layer to h, b blocks
   * h ↦ h + W₂·act(W₁·act(h)) with masked h×h weights (the second starting at U(±10⁻³), so each
   * block starts near the identity), and a masked output layer after an activation. Default 0.
   */
  residualBlocks?: number;
}

/** Options of `MADE.apply`. */
export interface MADEApplyOptions extends ApplyOptions {
  /** Context [..., contextFeatures] for a conditional MADE. */
  context?: Tensor;
}

/** The degrees and masks of a MADE. */
export interface MADEStructure {
  /** Degree of each input, order[i] + 1 ∈ 1..D. */
  readonly inputDegrees: readonly number[];
  /** Degrees of the hidden units, per hidden layer, each in 1..max(1, D−1). */
  readonly hiddenDegrees: readonly (readonly number[])[];
  /** The 0/1 mask of each layer, [out, in] like its weight, as a tensor of `dtype`. */
  masks(dtype?: FloatDType): Tensor[];
}

/**
 * A MADE: an MLP whose weights are multiplied by constant 0/1 masks so that output (o, i) depends
 * only on inputs j that come before i in the order (order[j] < order[i]).
 * Degrees: m(input i) = order[i] + 1; hidden unit k of every layer gets m(k) = (k mod max(1, D−1)) + 1;
 * a hidden weight keeps connection j → k when m(k) ≥ m(j), an output weight keeps k → (o, i) when
 * m(input i) > m(k). The outputs are shaped [..., outputsPerInput, D]: `y[..., o, i]`.
 * Input x [..., D] (plus `opts.context` [..., contextFeatures] when conditional). The outputs of
 * the first variable in the order connect to no hidden unit: they are their biases alone (its
 * conditional is unconditional, as in Germain et al.), even in a conditional MADE.
 * @example
 * const made = MADE(4, [32, 32], { outputsPerInput: 2 });
 * const y = made.apply(made.init(key(0)), x); // x [n, 4] → y [n, 2, 4]
 * const shift = squeeze(slice(y, [0, 0], [-1, 1]), [1]); // [n, 4]
 */
export function MADE(
  inputs: number,
  hidden: readonly number[],
  opts: MADEOptions = {},
): Module<MADEParams, Tensor, Tensor, MADEApplyOptions> & MADEStructure & {
  /** D, the number of autoregressive inputs. */
  readonly inputs: number;
  /** Outputs per input: y is [..., outputsPerInput, D]. */
  readonly outputsPerInput: number;
} {
  const { outputsPerInput = 1, activation: actName = 'relu', contextFeatures = 0, dtype = 'float32', weightInit = defaultWeightInit } = opts;
  if (!Number.isInteger(inputs) || inputs < 1) throw new ValueError(`MADE: inputs must be a positive integer, got ${inputs}`);
  if (!Number.isInteger(outputsPerInput) || outputsPerInput < 1) throw new ValueError(`MADE: outputsPerInput must be a positive integer, got ${outputsPerInput}`);
  if (hidden.some((h) => !Number.isInteger(h) || h < 1)) throw new ValueError(`MADE: hidden sizes must be positive integers, got [${hidden.join(', ')}]`);
  if (!Number.isInteger(contextFeatures) || contextFeatures < 0) throw new ValueError(`MADE: contextFeatures must be a non-negative integer, got ${contextFeatures}`);
  if (contextFeatures > 0 && hidden.length === 0) throw new ValueError('MADE: a context input needs at least one hidden layer');
  const order = opts.order ?? Array.from({ length: inputs }, (_, i) => i);
  if (order.length !== inputs || new Set(order).size !== inputs || order.some((o) => !Number.isInteger(o) || o < 0 || o >= inputs))
    throw new ValueError(`MADE: order must be a permutation of 0..${inputs - 1}, got [${order.join(', ')}]`);

  const blocks = opts.residualBlocks ?? 0;
  if (!Number.isInteger(blocks) || blocks < 0) throw new ValueError(`MADE: residualBlocks must be a non-negative integer, got ${blocks}`);
  if (blocks > 0 && hidden.length !== 1) throw new ValueError(`MADE: a residual MADE (residualBlocks ${blocks}) takes one hidden width, got [${hidden.join(', ')}]`);
  // A residual MADE is a plain MADE of 2b + 1 equal hidden layers (so equal degrees: the skips keep the masks' order) with skips.
  const widths = blocks > 0 ? Array.from({ length: 2 * blocks + 1 }, () => hidden[0]) : hidden;
  const inputDegrees = order.map((o) => o + 1);
  const cycle = Math.max(1, inputs - 1);
  const hiddenDegrees = widths.map((h) => Array.from({ length: h }, (_, k) => (k % cycle) + 1));
  // 0/1 masks [out, in]: hidden layers keep m(k) ≥ m(j), the output layer keeps m(i) > m(k).
  const maskRows: { rows: number; cols: number; keep: (r: number, c: number) => boolean }[] = [];
  let prev: readonly number[] = inputDegrees;
  for (const hd of hiddenDegrees) {
    const p = prev;
    maskRows.push({ rows: hd.length, cols: p.length, keep: (r, c) => hd[r] >= p[c] });
    prev = hd;
  }
  const last = prev;
  maskRows.push({ rows: outputsPerInput * inputs, cols: last.length, keep: (r, c) => inputDegrees[r % inputs] > last[c] });

  const cache = new Map<string, Tensor[]>();
  const masks = (dt: FloatDType = dtype): Tensor[] => {
    let ms = cache.get(dt);
    if (ms === undefined) {
      ms = maskRows.map(({ rows, cols, keep: k }) => {
        const a = allocArray(dt, rows * cols);
        for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) a[r * cols + c] = k(r, c) ? 1 : 0;
        // Module constants outlive any tidy scope the module happens to be used in.
        return keep(tensor(a, [rows, cols]));
      });
      cache.set(dt, ms);
    }
    return ms;
  };

  // Copies of the masks on the parameters' device, made once rather than on every apply.
  const onDevice = new Map<string, Tensor[]>();
  const masksLike = (w: Tensor): Tensor[] => {
    const ms = masks(w.dtype as FloatDType);
    if (ms.length === 0 || ms[0].backend.device === w.backend.device) return ms;
    const k = `${w.dtype}:${w.backend.name}`;
    let dev = onDevice.get(k);
    if (dev === undefined) {
      dev = ms.map((m) => keep(onDeviceOf(m, w)));
      onDevice.set(k, dev);
    }
    return dev;
  };

  const sizes = [inputs, ...widths, outputsPerInput * inputs];
  const act = activation(actName);
  return {
    inputs,
    outputsPerInput,
    inputDegrees,
    hiddenDegrees,
    masks,
    init(k: Key): MADEParams {
      const ks = split(k, sizes.length);
      const layers = sizes.slice(1).map((out, i) => {
        const [kw, kb] = split(ks[i], 2);
        // The second layer of each residual block starts small, so the block starts near the identity.
        if (blocks > 0 && i > 0 && i % 2 === 0 && i <= 2 * blocks) return { weight: uniform(kw, [out, sizes[i]], { dtype, low: -1e-3, high: 1e-3 }), bias: zeros([out], dtype) };
        return { weight: weightInit(kw, [out, sizes[i]], dtype), bias: defaultBiasInit(sizes[i])(kb, [out], dtype) };
      });
      if (contextFeatures === 0) return { layers };
      return { layers, context: weightInit(ks[sizes.length - 1], [hidden[0], contextFeatures], dtype) };
    },
    apply(p: MADEParams, x: Tensor, o: MADEApplyOptions = {}): Tensor {
      if (x.shape.length === 0 || x.shape[x.shape.length - 1] !== inputs) throw new ShapeError(`MADE: input ${fmtShape(x.shape)} must end in ${inputs} features`);
      if (p.layers.length !== maskRows.length) throw new ValueError(`MADE: expected ${maskRows.length} layer parameters, got ${p.layers.length}`);
      if ((contextFeatures > 0) !== (o.context !== undefined))
        throw new ValueError(contextFeatures > 0 ? `MADE: this MADE is conditional; pass opts.context [..., ${contextFeatures}]` : 'MADE: got a context but contextFeatures is 0');
      const ms = masksLike(p.layers[0].weight);
      const masked = (l: number, h: Tensor): Tensor => linear(h, mul(p.layers[l].weight, ms[l]), p.layers[l].bias, 'MADE');
      let h = masked(0, x);
      if (o.context !== undefined && p.context !== undefined) h = add(h, linear(o.context, p.context, undefined, 'MADE context'));
      if (blocks > 0) {
        for (let b = 0; b < blocks; b++) h = add(h, masked(2 * b + 2, act(masked(2 * b + 1, act(h)))));
        h = masked(p.layers.length - 1, act(h));
      } else
        for (let l = 1; l < p.layers.length; l++) h = masked(l, act(h));
      return reshape(h, [...x.shape.slice(0, -1), outputsPerInput, inputs]);
    },
  };
}
