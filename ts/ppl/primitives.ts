/**
 * The primitives of a probabilistic program: `sample`, `param`, `plate`, `deterministic`,
 * `factor`. They only build messages; handlers (ts/ppl/handlers.ts) give them meaning.
 * A model is a plain function that calls them.
 * @example
 * function model(y: Tensor) {
 *   const mu = sample('mu', new Normal(0, 10));
 *   plate('data', y.shape[0], () => sample('y', new Normal(mu, 1), { obs: y }));
 * }
 */
import { ShapeError, ValueError, VarinfError, fmtShape } from '../core/errors.js';
import { ENGINE } from '../core/engine.js';
import { broadcastShapes, shapesEqual } from '../core/shape.js';
import type { Tensor } from '../core/tensor.js';
import { Delta } from '../distributions/structured.js';
import type { Distribution } from '../distributions/distribution.js';
import { real, type Constraint } from '../distributions/constraints.js';
import { asTensor, type TensorLike } from '../ops/creation.js';
import { mul } from '../ops/elementwise.js';
import type { Key } from '../random/key.js';
import { applyStack, newMessage, withHandler, type Message, type PlateFrame } from './runtime.js';

/** Options of {@link sample}. */
export interface SampleOptions {
  /** Observed data: the site becomes a likelihood term with this value. */
  obs?: TensorLike;
  /** Extra leading shape of the draw. */
  sampleShape?: number[];
  /** Flags for inference algorithms. */
  infer?: Record<string, unknown>;
}

function defaultSample(msg: Message): void {
  if (msg.key === null)
    throw new VarinfError(`sample('${msg.name}'): no random key; run the model under seed(model, key) or give obs`);
  const d = msg.fn as Distribution;
  msg.value = d.hasRsample ? d.rsample(msg.key, msg.sampleShape) : d.sample(msg.key, msg.sampleShape);
}

/**
 * A random variable named `name` with distribution `dist`; with `obs`, an observation.
 * Returns the value (drawn, observed, or supplied by a handler). Inside plates the distribution
 * is broadcast to the plates' sizes (see {@link plate}), so the value has shape
 * `sampleShape + batchShape + eventShape` after that broadcast; under a vectorized ELBO it also
 * carries a leading particle axis.
 * @example
 * const mu = sample('mu', new Normal(0, 10));                // a latent
 * sample('y', new Normal(mu, 1), { obs: tensor([0.3, 1.2]) }); // an observation
 */
export function sample(name: string, dist: Distribution, opts: SampleOptions = {}): Tensor {
  const obs = opts.obs === undefined ? null : asTensor(opts.obs);
  const msg = newMessage('sample', name, {
    fn: dist,
    value: obs,
    isObserved: obs !== null,
    sampleShape: opts.sampleShape ?? [],
    infer: { ...(opts.infer ?? {}) },
  });
  return applyStack(msg, defaultSample).value as Tensor;
}

/** Options of {@link param}. */
export interface ParamOptions {
  /** The support of the parameter; the optimizer works on ℝ^d through `bijectTo`. */
  constraint?: Constraint;
}

/**
 * A learnable parameter with an initial value (or an initializer from a key). Outside inference
 * it returns the initial value; under SVI it returns the current value, kept unconstrained by
 * the optimizer and mapped onto `constraint` through `bijectTo`.
 * @example
 * const scale = param('q_scale', 0.1, { constraint: positive });
 */
export function param(name: string, init: TensorLike | ((key: Key) => Tensor), opts: ParamOptions = {}): Tensor {
  const msg = newMessage('param', name, {
    init: typeof init === 'function' ? init : asTensor(init),
    constraint: opts.constraint ?? real,
  });
  return applyStack(msg, (m) => {
    if (typeof m.init === 'function') {
      if (m.key === null) throw new VarinfError(`param('${name}'): an initializer function needs a key; run under seed(...)`);
      m.value = m.init(m.key);
    } else m.value = m.init as Tensor;
  }).value as Tensor;
}

/**
 * Records a deterministic function of other sites, so it appears in traces and predictions.
 * @example const theta = deterministic('theta', add(mu, mul(tau, z))); // recorded in traces and predictive
 */
export function deterministic(name: string, value: Tensor): Tensor {
  const msg = newMessage('deterministic', name, { value });
  return applyStack(msg, () => {}).value as Tensor;
}

/**
 * Adds `logFactor` to the log density of the model (an unnormalized term).
 * @example factor('soft_constraint', mul(square(sub(a, b)), -10)); // adds −10 (a − b)² to log p
 */
export function factor(name: string, logFactor: TensorLike): void {
  const lf = asTensor(logFactor);
  // A Delta at 0 carrying log density `logFactor`: observed, so it only adds to the log joint.
  const zero = mul(lf, 0);
  sample(name, new Delta(zero, { logDensity: lf, validateArgs: false }), { obs: zero });
}

/** Options of {@link plate}. */
export interface PlateOptions {
  /** Use a random subset of this many indices (minibatching); log densities are scaled by size/subsampleSize. */
  subsampleSize?: number;
  /** Explicit subsample indices (int32), instead of drawing them. */
  subsample?: Tensor;
  /** The batch dimension, negative; by default the next free one from the right. */
  dim?: number;
}

/** Active plate frames, innermost last (for dim allocation). */
const activePlates: PlateFrame[] = [];

/**
 * @internal Draws `m` distinct indices of `n` with the `randomSubset` kernel (a partial
 * Fisher–Yates shuffle from the key's stream). Being a kernel keyed by the site's key, the draw is
 * recorded by `compile` and replayed inside a compiled step, so subsampled models compile;
 * data-parallel SVI slices one global draw into the ranks' blocks.
 */
export function subsampleIndices(key: Key, n: number, m: number): Tensor {
  return ENGINE.runKernel('randomSubset', [], { key: key.words, n, shape: [m] })[0];
}

/**
 * Marks the sites inside `fn` as conditionally independent along a batch dimension of size
 * `size`, and, with `subsampleSize`, runs them on a random subset, scaling their log densities
 * by size/subsampleSize. `fn` receives the subsample indices (or null without subsampling).
 *
 * Dims: the plate takes batch dim `dim` (negative, counted from the right of the batch shape);
 * by default the first free one, so the outermost plate is −1, a plate inside it −2, and so on.
 * Every sample site inside has its distribution's batch shape expanded to put the plate's size at
 * that dim (a size-1 or missing axis broadcasts; any other size is a ShapeError), so parameters
 * of shape [size] broadcast along the plate. Inference adds a particle axis to the left of all
 * plates (dim −(maxPlateNesting + 1)).
 * @example
 * plate('data', N, () => sample('y', new Normal(mu, 1), { obs: y }));   // y: [N]
 * plate('groups', G, () => {
 *   const a = sample('a', new Normal(0, 1));                            // [G]
 *   plate('items', M, () => sample('x', new Normal(a, 1), { obs: x })); // x: [M, G]
 * });
 */
export function plate<T>(name: string, size: number, fn: (indices: Tensor | null) => T, opts: PlateOptions = {}): T {
  if (!Number.isInteger(size) || size < 1) throw new ValueError(`plate('${name}'): size must be a positive integer, got ${size}`);
  const used = new Set(activePlates.map((p) => p.dim));
  let dim = opts.dim;
  if (dim === undefined) {
    dim = -1;
    while (used.has(dim)) dim--;
  } else if (!(Number.isInteger(dim) && dim < 0)) throw new ValueError(`plate('${name}'): dim must be a negative integer, got ${dim}`);
  else if (used.has(dim)) throw new ValueError(`plate('${name}'): dim ${dim} is already used by plate '${activePlates.find((p) => p.dim === dim)?.name}'`);
  const k = opts.subsampleSize;
  if (k !== undefined && !(Number.isInteger(k) && k >= 1)) throw new ValueError(`plate('${name}'): subsampleSize must be a positive integer, got ${k}`);
  // The subsample comes from a 'plate' message so that seed/substitute handlers can supply it.
  const msg = newMessage('plate', name, { value: opts.subsample ?? null, infer: { size } });
  applyStack(msg, (m) => {
    if (k === undefined || k >= size) return;
    if (m.key === null) throw new VarinfError(`plate('${name}'): subsampling needs a key; run the model under seed(...)`);
    m.value = subsampleIndices(m.key, size, k);
  });
  const idx = msg.value;
  const sub = idx === null ? size : idx.size;
  const frame: PlateFrame = { name, size, subsampleSize: sub, dim };
  activePlates.push(frame);
  try {
    return withHandler({ process: (m) => plateProcess(frame, m) }, () => fn(idx));
  } finally {
    activePlates.pop();
  }
}

/** Broadcasts a site's distribution over the plate dim and scales its log density. */
function plateProcess(frame: PlateFrame, msg: Message): void {
  if (msg.type !== 'sample' && msg.type !== 'param') return;
  // Outermost plate first, as Pyro orders its conditional-independence stack.
  msg.cond.unshift(frame);
  if (msg.type === 'param' || msg.fn === null) return;
  if (frame.size !== frame.subsampleSize) msg.scale *= frame.size / frame.subsampleSize;
  const batch = msg.fn.batchShape;
  const need = -frame.dim;
  const target = Array.from({ length: Math.max(batch.length, need) }, (_, i) => {
    const j = i - (Math.max(batch.length, need) - batch.length);
    return j >= 0 ? batch[j] : 1;
  });
  const at = target.length + frame.dim;
  if (target[at] !== 1 && target[at] !== frame.subsampleSize)
    throw new ShapeError(
      `sample('${msg.name}'): batch shape ${fmtShape(batch)} has ${target[at]} at dim ${frame.dim}, but plate '${frame.name}' has size ${frame.subsampleSize}`,
    );
  target[at] = frame.subsampleSize;
  if (!shapesEqual(target, batch)) msg.fn = msg.fn.expand(broadcastShapes(`plate('${frame.name}')`, batch, target));
}

