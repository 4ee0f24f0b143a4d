/**
 * The semi-supervised generative model M2 of Kingma, Rezende, Mohamed & Welling (2014):
 * p(y) = Cat(1/C), p(z) = N(0, I), p(x|y,z) Bernoulli with logits from an MLP on [z; onehot(y)];
 * inference q(y|x) = Cat(softmax(MLP(x))) and q(z|x,y) = N(μ(x,y), diag σ²(x,y)).
 *
 * Labelled bound (their eq. 6): log p(x,y) ≥ L(x,y) = E_q(z|x,y)[log p(x|y,z)] + log p(y) − KL(q(z|x,y) ‖ p(z)).
 * Unlabelled bound (eq. 7): log p(x) ≥ U(x) = Σ_y q(y|x)·L(x,y) + H(q(y|x)), with the sum over the C
 * classes computed in one batched pass: the batch is broadcast to [C, B, ·], class c in slice c.
 * Objective (eq. 9): J^α = Σ_labelled −L(x,y) + Σ_unlabelled −U(x) + α·E_labelled[−log q(y|x)],
 * α = 0.1·N, i.e. a weight α/N_l on each labelled example's cross-entropy.
 */
import { DTypeError, ShapeError, ValueError, fmtShape } from '../../core/errors.js';
import { tidy } from '../../core/memory.js';
import type { Tensor } from '../../core/tensor.js';
import { tensor } from '../../ops/creation.js';
import { add, exp, mul, neg, oneHot, sigmoid, sub } from '../../ops/elementwise.js';
import { argmax, logSoftmax, sum } from '../../ops/reduce.js';
import { concat, gather, reshape, slice, transpose } from '../../ops/shape.js';
import { activation, type Activation } from '../../nn/activations.js';
import { Linear, MLP, type LinearParams } from '../../nn/linear.js';
import { permutation, type MinibatchLoader } from '../../data/loader.js';
import type { ImageDataset } from '../../data/mnist.js';
import { foldIn, split, type Key } from '../../random/key.js';
import { normal, type FloatDType } from '../../random/samplers.js';
import type { TrainState } from './checkpoint.js';
import { checkClassLabels, condNet, type CondHeadParams, type LabelsLike } from './cvae.js';
import { trainLoop, type LoopOptions, type TrainResult } from './loop.js';
import { bernoulliLogLik, checkInt, clampLogVar, DEFAULT_LOGVAR_RANGE, dense, klStdNormalPerDim, reparameterize } from './terms.js';

/** Configuration of `M2`. */
export interface M2Config {
  /** Data dimension, e.g. 784. */
  xDim: number;
  /** Latent dimension (Kingma et al.: 50). */
  zDim: number;
  /** Hidden widths of q(z|x,y) (at least one); p(x|y,z) mirrors them (Kingma et al.: [500]). */
  hidden: readonly number[];
  /** Hidden widths of the classifier q(y|x); default `hidden`. */
  classifierHidden?: readonly number[];
  /** Number of classes C; default 10. */
  numClasses?: number;
  /** Hidden activation; default 'softplus' (Kingma et al.). */
  activation?: Activation;
  /** Clamp of the log-variance head; default [−10, 10]. */
  logVarRange?: readonly [number, number];
  /** Parameter dtype; default 'float32'. */
  dtype?: FloatDType;
}

/** Parameters of `M2`: the classifier (hidden layers and the logits layer), q(z|x,y) and p(x|y,z). */
export interface M2Params {
  /** The classifier q(y|x): hidden layers, then the logits layer [C, last hidden]. */
  cls: LinearParams[];
  /** q(z | x, y). */
  enc: CondHeadParams;
  /** p(x | y, z) (Bernoulli logits). */
  dec: CondHeadParams;
}

/** The unlabelled bound of a batch and its parts. */
export interface UnlabelledTerms {
  /** U(x) per example [B]. */
  u: Tensor;
  /** L(x, c) for every class c: [C, B]. */
  l: Tensor;
  /** log q(y|x): [B, C]. */
  logQ: Tensor;
}

/** M2 as a functional module. */
export interface M2Model {
  /** The configuration with every default filled in. */
  readonly config: Readonly<Required<M2Config>>;
  /** Fresh parameters (PyTorch's default Linear initialization). */
  init(k: Key): M2Params;
  /** The classifier's logits of q(y|x): [B, C]. */
  classify(params: M2Params, x: Tensor): Tensor;
  /** L(x, y) per example [B] with noise eps [B, zDim]. */
  labelledBound(params: M2Params, x: Tensor, labels: LabelsLike, eps: Tensor): Tensor;
  /** U(x), every class enumerated in one pass, with noise eps [C, B, zDim] (slice c for class c). */
  unlabelledBound(params: M2Params, x: Tensor, eps: Tensor): UnlabelledTerms;
  /** Standard-normal noise [C, B, zDim] for `m2Loss` / `unlabelledBound`. */
  noise(k: Key, batch: number): Tensor;
  /** Pixel probabilities of one sample z ~ N(0, I) per label: [n, xDim]. */
  sample(params: M2Params, k: Key, labels: LabelsLike): Tensor;
}

/**
 * Builds the M2 model of Kingma et al. (2014).
 * @example
 * const m2 = M2({ xDim: 784, zDim: 50, hidden: [500] });
 * const params = m2.init(key(0));
 * const { u } = m2.unlabelledBound(params, x, m2.noise(key(1), x.shape[0])); // [B]
 */
export function M2(config: M2Config): M2Model {
  const cfg: Required<M2Config> = {
    classifierHidden: config.hidden,
    numClasses: 10,
    activation: 'softplus',
    logVarRange: DEFAULT_LOGVAR_RANGE,
    dtype: 'float32',
    ...config,
  };
  checkInt('M2', 'xDim', cfg.xDim, 1);
  checkInt('M2', 'zDim', cfg.zDim, 1);
  checkInt('M2', 'numClasses', cfg.numClasses, 2);
  if (!Array.isArray(cfg.hidden as unknown) || cfg.hidden.length === 0) throw new ValueError('M2: hidden must list at least one hidden width');
  cfg.hidden.forEach((h, i) => checkInt('M2', `hidden[${i}]`, h, 1));
  cfg.classifierHidden.forEach((h, i) => checkInt('M2', `classifierHidden[${i}]`, h, 1));
  if (!(cfg.logVarRange[0] < cfg.logVarRange[1])) throw new ValueError(`M2: logVarRange must be [lo, hi] with lo < hi, got [${cfg.logVarRange.join(', ')}]`);
  const { xDim, zDim, numClasses: C, dtype, activation: act } = cfg;
  const clsNet = MLP([xDim, ...cfg.classifierHidden, C], { activation: act, dtype });
  const encNet = condNet(xDim, C, cfg.hidden, act, dtype);
  const decNet = condNet(zDim, C, [...cfg.hidden].reverse(), act, dtype);
  const encMu = Linear(encNet.outDim, zDim, { dtype });
  const encLv = Linear(encNet.outDim, zDim, { dtype });
  const decMu = Linear(decNet.outDim, xDim, { dtype });
  const logPrior = -Math.log(C);
  const head = (p: LinearParams, h: Tensor): Tensor => dense(h, p.weight, p.bias);
  const actOf = activation(act);

  const checkX = (op: string, x: Tensor): number => {
    if (x.shape.length !== 2 || x.shape[1] !== xDim) throw new ShapeError(`M2.${op}: x must be [batch, ${xDim}], got ${fmtShape(x.shape)}`);
    if (x.dtype !== dtype) throw new DTypeError(`M2.${op}: x must be ${dtype} like the parameters, got ${x.dtype}`);
    return x.shape[0];
  };
  const classify = (params: M2Params, x: Tensor): Tensor => {
    const n = params.cls.length;
    let h = x;
    for (let i = 0; i < n; i++) {
      h = dense(h, params.cls[i].weight, params.cls[i].bias);
      if (i < n - 1) h = actOf(h);
    }
    return h;
  };

  // L(x, y) from the encoder's first-layer pre-activation `pre` ([..., B, H], class term included)
  // and noise eps [..., B, zDim]; returns [..., B]. The pixels x [B, D] broadcast over leading axes.
  const boundFromPre = (params: M2Params, pre: Tensor, x: Tensor, eps: Tensor, decClass: Tensor): Tensor => {
    const h = encNet.finish(params.enc.net, pre);
    const mu = head(params.enc.mu, h);
    const logVar = clampLogVar(head(params.enc.logVar as LinearParams, h), cfg.logVarRange);
    const z = reparameterize(mu, logVar, eps);
    const hd = decNet.finish(params.dec.net, add(decNet.dataTerm(params.dec.net, z), decClass));
    const logPx = bernoulliLogLik(head(params.dec.mu, hd), x);
    return sub(add(logPx, logPrior), sum(klStdNormalPerDim(mu, logVar), -1));
  };
  const labelled = (params: M2Params, hx: Tensor, x: Tensor, y: Tensor, eps: Tensor): Tensor =>
    boundFromPre(params, add(hx, gather(encNet.classRows(params.enc.net), y)), x, eps, gather(decNet.classRows(params.dec.net), y));
  const enumerated = (params: M2Params, hx: Tensor, x: Tensor, eps: Tensor): Tensor => {
    // [1, B, H] + [C, 1, H] → [C, B, H]: every example paired with every class in one pass.
    const H = hx.shape[1];
    const pre = add(reshape(hx, [1, hx.shape[0], H]), reshape(encNet.classRows(params.enc.net), [C, 1, H]));
    const decRows = decNet.classRows(params.dec.net);
    return boundFromPre(params, pre, x, eps, reshape(decRows, [C, 1, decRows.shape[1]]));
  };
  const unlabelledFrom = (l: Tensor, logQ: Tensor): Tensor => {
    // U = Σ_c q_c (L_c − log q_c) = Σ_c q_c L_c + H(q).
    return sum(mul(exp(logQ), sub(transpose(l), logQ)), -1);
  };
  const checkEps = (op: string, eps: Tensor, shape: number[]): void => {
    if (eps.shape.length !== shape.length || eps.shape.some((d, i) => d !== shape[i])) throw new ShapeError(`M2.${op}: eps must be ${fmtShape(shape)}, got ${fmtShape(eps.shape)}`);
  };

  const model: M2Model = {
    config: cfg,
    init(k: Key): M2Params {
      const ks = split(k, 6);
      return {
        cls: clsNet.init(ks[0]),
        enc: { net: encNet.init(ks[1]), mu: encMu.init(ks[2]), logVar: encLv.init(ks[3]) },
        dec: { net: decNet.init(ks[4]), mu: decMu.init(ks[5]) },
      };
    },
    classify(params, x) {
      checkX('classify', x);
      return classify(params, x);
    },
    labelledBound(params, x, labels, eps) {
      const B = checkX('labelledBound', x);
      const y = checkClassLabels('M2.labelledBound', labels, C, B);
      checkEps('labelledBound', eps, [B, zDim]);
      return labelled(params, encNet.dataTerm(params.enc.net, x), x, y, eps);
    },
    unlabelledBound(params, x, eps) {
      const B = checkX('unlabelledBound', x);
      checkEps('unlabelledBound', eps, [C, B, zDim]);
      const l = enumerated(params, encNet.dataTerm(params.enc.net, x), x, eps);
      const logQ = logSoftmax(classify(params, x), -1);
      return { u: unlabelledFrom(l, logQ), l, logQ };
    },
    noise(k: Key, batch: number): Tensor {
      checkInt('M2.noise', 'batch', batch, 1);
      return normal(k, [C, batch, zDim], { dtype });
    },
    sample(params, k, labels) {
      const y = checkClassLabels('M2.sample', labels, C);
      if (y.shape[0] === 0) throw new ValueError('M2.sample: needs at least one label');
      const z = normal(k, [y.shape[0], zDim], { dtype });
      const hd = decNet.finish(params.dec.net, add(decNet.dataTerm(params.dec.net, z), gather(decNet.classRows(params.dec.net), y)));
      return sigmoid(head(params.dec.mu, hd));
    },
  };
  INTERNALS.set(model, { checkX, classify, labelled, enumerated, unlabelledFrom, dataTerm: (p, x) => encNet.dataTerm(p.enc.net, x) });
  return model;
}

/** What `m2Loss` reaches inside the model (the batch split shares one classifier and one first-layer pass). */
interface M2Internal {
  checkX(op: string, x: Tensor): number;
  classify(params: M2Params, x: Tensor): Tensor;
  labelled(params: M2Params, hx: Tensor, x: Tensor, y: Tensor, eps: Tensor): Tensor;
  enumerated(params: M2Params, hx: Tensor, x: Tensor, eps: Tensor): Tensor;
  unlabelledFrom(l: Tensor, logQ: Tensor): Tensor;
  dataTerm(params: M2Params, x: Tensor): Tensor;
}

const INTERNALS = new WeakMap<M2Model, M2Internal>();

function internals(model: M2Model, op: string): M2Internal {
  const m = INTERNALS.get(model);
  if (m === undefined) throw new ValueError(`${op}: the model must be built by M2()`);
  return m;
}

/** Options of `m2Loss`. */
export interface M2LossOptions {
  /** Weight of −log q(y|x) per labelled example, α/N_l (Kingma et al.: α = 0.1·N); default 1. */
  classWeight?: number;
}

/** The loss of a batch and its parts (means per example of the batch). */
export interface M2LossResult {
  /** (Σ_labelled [−L + w·(−log q(y|x))] + Σ_unlabelled −U) / B. */
  loss: Tensor;
  /** (Σ_labelled L + Σ_unlabelled U) / B: the bound on log p(x, y) / log p(x), per example. */
  bound: Tensor;
  /** Labelled and unlabelled examples in the batch. */
  nLabelled: number;
  /** Unlabelled examples in the batch. */
  nUnlabelled: number;
}

/**
 * The M2 objective (Kingma et al. 2014, eq. 9) of a batch x [B, D] whose rows `labelled[i]` are
 * labelled (their `labels[i]` are used; the others' labels are ignored), with noise eps
 * [C, B, zDim] from `model.noise` (labelled rows use slice 0):
 * loss = (1/B)(Σ_labelled [−L(x,y) − w·log q(y|x)] + Σ_unlabelled −U(x)).
 * @example
 * const { loss } = m2Loss(m2, params, batch.x, batch.labels, isLabelled, m2.noise(key(1), batch.size), { classWeight: 50 });
 */
export function m2Loss(model: M2Model, params: M2Params, x: Tensor, labels: LabelsLike, labelled: ArrayLike<boolean | number>, eps: Tensor, opts: M2LossOptions = {}): M2LossResult {
  const m = internals(model, 'm2Loss');
  const { numClasses: C, zDim } = model.config;
  const w = opts.classWeight ?? 1;
  if (!(w >= 0) || !Number.isFinite(w)) throw new ValueError(`m2Loss: classWeight must be a finite number ≥ 0, got ${w}`);
  const B = m.checkX('m2Loss', x);
  if (labelled.length !== B) throw new ShapeError(`m2Loss: labelled has ${labelled.length} entries for a batch of ${B}`);
  if (eps.shape.length !== 3 || eps.shape[0] !== C || eps.shape[1] !== B || eps.shape[2] !== zDim) throw new ShapeError(`m2Loss: eps must be [${C}, ${B}, ${zDim}], got ${fmtShape(eps.shape)}`);
  const idxL: number[] = [];
  const idxU: number[] = [];
  for (let i = 0; i < B; i++) (Number(labelled[i]) !== 0 ? idxL : idxU).push(i);
  const labelVals: ArrayLike<number> = typeof (labels as Tensor).dataSync === 'function' ? (labels as Tensor).dataSync() : (labels as ArrayLike<number>);
  if (labelVals.length !== B) throw new ShapeError(`m2Loss: ${labelVals.length} labels for a batch of ${B}`);
  const y = checkClassLabels('m2Loss', idxL.map((i) => labelVals[i]), C);
  const logQ = logSoftmax(m.classify(params, x), -1); // [B, C]
  const hx = m.dataTerm(params, x); // the encoder's data term, shared by both parts
  const take = (t: Tensor, idx: number[], axis = 0): Tensor => (idx.length === B ? t : gather(t, tensor(Int32Array.from(idx), [idx.length], 'int32'), axis));
  let total: Tensor | null = null;
  let bound: Tensor | null = null;
  const acc = (a: Tensor | null, b: Tensor): Tensor => (a === null ? b : add(a, b));
  if (idxL.length > 0) {
    const eps0 = reshape(slice(eps, [0, 0, 0], [1, B, zDim]), [B, zDim]);
    const l = sum(m.labelled(params, take(hx, idxL), take(x, idxL), y, take(eps0, idxL)));
    const ce = neg(sum(mul(take(logQ, idxL), oneHot(y, C, model.config.dtype))));
    total = acc(total, sub(w === 0 ? mul(ce, 0) : mul(ce, w), l));
    bound = acc(bound, l);
  }
  if (idxU.length > 0) {
    const u = sum(m.unlabelledFrom(m.enumerated(params, take(hx, idxU), take(x, idxU), take(eps, idxU, 1)), take(logQ, idxU)));
    total = acc(total, neg(u));
    bound = acc(bound, u);
  }
  return { loss: mul(total as Tensor, 1 / B), bound: mul(bound as Tensor, 1 / B), nLabelled: idxL.length, nUnlabelled: idxU.length };
}

/**
 * A labelled subset balanced across classes: `n / C` images of every class, chosen uniformly by
 * `k` (n must be a multiple of C). Returns a mask over the data set (1 = labelled).
 * @example const mask = balancedLabelledMask(loadMnist('train').labels, 100, key(5)) // 10 per digit
 */
export function balancedLabelledMask(labels: ArrayLike<number>, n: number, k: Key, numClasses = 10): Uint8Array {
  checkInt('balancedLabelledMask', 'n', n, numClasses);
  if (n % numClasses !== 0) throw new ValueError(`balancedLabelledMask: n must be a multiple of the ${numClasses} classes, got ${n}`);
  const per = n / numClasses;
  const counts = new Array<number>(numClasses).fill(0);
  const mask = new Uint8Array(labels.length);
  const order = permutation(k, labels.length);
  let chosen = 0;
  for (let i = 0; i < order.length && chosen < n; i++) {
    const c = labels[order[i]];
    if (!Number.isInteger(c) || c < 0 || c >= numClasses) throw new ValueError(`balancedLabelledMask: label ${c} of image ${order[i]} is out of range [0, ${numClasses})`);
    if (counts[c] < per) {
      counts[c]++;
      mask[order[i]] = 1;
      chosen++;
    }
  }
  if (chosen < n) {
    const short = counts.findIndex((c) => c < per);
    throw new ValueError(`balancedLabelledMask: class ${short} has only ${counts[short]} images, fewer than the ${per} per class that n = ${n} needs`);
  }
  return mask;
}

/** Options of `trainM2`. */
export interface TrainM2Options extends LoopOptions {
  /** The labels of the loader's data set, in data-set order (e.g. `ds.labels`). */
  datasetLabels: ArrayLike<number>;
  /** How many images keep their label (balanced across classes), e.g. 100; ignored when `labelledMask` is given. */
  nLabelled?: number;
  /** The key choosing them; default `foldIn(key, 0x4c41)`. */
  labelKey?: Key;
  /** An explicit mask over the data set (1 = labelled) instead of `nLabelled`. */
  labelledMask?: Uint8Array;
  /** α of eq. 9; default 0.1·N (N the data-set size), i.e. a weight α/N_l per labelled example. */
  alpha?: number;
  /**
   * A loader over the labelled images only (see `labelledImages`). When given, every step adds one
   * of its batches, all labelled, beside the main batch, whose rows then all count as unlabelled:
   * the labelled images are oversampled instead of appearing at their natural rate (≈ 0.17 per
   * batch of 100 with 100 labels out of 60,000), as semi-supervised VAE code usually trains.
   */
  labelledLoader?: MinibatchLoader;
}

/**
 * The images of `ds` whose mask entry is non-zero, as a data set of their own (for the
 * `labelledLoader` of `trainM2`).
 * @example const lab = labelledImages(train, r.labelledMask) // 100 images with their labels
 */
export function labelledImages(ds: ImageDataset, mask: Uint8Array): ImageDataset {
  if (mask.length !== ds.n) throw new ShapeError(`labelledImages: mask has ${mask.length} entries for the ${ds.n} images of ${ds.name}`);
  const d = ds.rows * ds.cols;
  const idx: number[] = [];
  mask.forEach((v, i) => v !== 0 && idx.push(i));
  const images = new Uint8Array(idx.length * d);
  idx.forEach((i, j) => images.set(ds.images.subarray(i * d, (i + 1) * d), j * d));
  return { ...ds, name: `${ds.name} (labelled)`, images, labels: Uint8Array.from(idx, (i) => ds.labels[i]), n: idx.length };
}

/**
 * Trains M2 with `trainLoop`: each batch's rows are labelled or not by `batch.indices` against the
 * labelled mask, and the loss is `m2Loss` with classWeight α/N_l. Returns the loop's result and the mask.
 * @example
 * const train = loadMnist('train');
 * const r = await trainM2(m2, { params, optState: opt.init(params), step: 0 }, loader,
 *   { steps: 2000, key: key(1), optimizer: opt, datasetLabels: train.labels, nLabelled: 100 });
 */
export async function trainM2(model: M2Model, state: TrainState<M2Params>, loader: MinibatchLoader, opts: TrainM2Options): Promise<TrainResult<M2Params> & {
  /** Which training examples were treated as labelled (1) or not (0), [N]. */
  labelledMask: Uint8Array;
}> {
  const N = loader.n;
  if (opts.datasetLabels.length !== N) throw new ValueError(`trainM2: datasetLabels has ${opts.datasetLabels.length} labels but the loader serves ${N} images`);
  let mask = opts.labelledMask;
  if (mask === undefined) {
    if (opts.nLabelled === undefined) throw new ValueError('trainM2: give nLabelled (how many images keep their label) or labelledMask');
    mask = balancedLabelledMask(opts.datasetLabels, opts.nLabelled, opts.labelKey ?? foldIn(opts.key, 0x4c41), model.config.numClasses);
  } else if (mask.length !== N) throw new ValueError(`trainM2: labelledMask has ${mask.length} entries but the loader serves ${N} images`);
  let nL = 0;
  for (const v of mask) nL += v === 0 ? 0 : 1;
  if (nL === 0) throw new ValueError('trainM2: no image is labelled; M2 needs at least one label per class to name the classes');
  const alpha = opts.alpha ?? 0.1 * N;
  if (!(alpha >= 0) || !Number.isFinite(alpha)) throw new ValueError(`trainM2: alpha must be a finite number ≥ 0, got ${alpha}`);
  const classWeight = alpha / nL;
  const m = mask;
  const lab = opts.labelledLoader;
  if (lab !== undefined && lab.dim !== loader.dim) throw new ValueError(`trainM2: the labelled loader gives images of ${lab.dim} pixels, the main one ${loader.dim}`);
  const isL = new Uint8Array(loader.batchSize);
  const asModel = (x: Tensor): Tensor => (x.dtype === model.config.dtype ? x : tensor(Float64Array.from(x.dataSync()), x.shape, model.config.dtype));
  const r = await trainLoop(state, loader, {
    ...opts,
    name: 'trainM2',
    xDim: model.config.xDim,
    config: model.config,
    loss: (p, batch, key: Key, step) => {
      if (lab !== undefined) {
        const bpe = lab.batchesPerEpoch;
        const lb = lab.batch(Math.floor(step / bpe), step % bpe);
        const flags = new Uint8Array(batch.size + lb.size).fill(1, batch.size);
        const x = asModel(concat([batch.x, lb.x], 0));
        return m2Loss(model, p, x, concat([batch.labels, lb.labels], 0), flags, model.noise(key, batch.size + lb.size), { classWeight });
      }
      const flags = batch.size === isL.length ? isL : new Uint8Array(batch.size);
      for (let i = 0; i < batch.size; i++) flags[i] = m[batch.indices[i]];
      return m2Loss(model, p, asModel(batch.x), batch.labels, flags, model.noise(key, batch.size), { classWeight });
    },
  });
  return { ...r, labelledMask: mask };
}

/**
 * The test classification error of q(y|x): the fraction of rows of images [n, D] whose argmax
 * class differs from the label.
 * @example m2ClassificationError(m2, params, testX, testLabels) // e.g. 0.12
 */
export function m2ClassificationError(model: M2Model, params: M2Params, images: Tensor, labels: LabelsLike, opts: { batchSize?: number } = {}): number {
  const m = internals(model, 'm2ClassificationError');
  const n = m.checkX('m2ClassificationError (images)', images);
  const y = checkClassLabels('m2ClassificationError', labels, model.config.numClasses, n).dataSync();
  const bs = opts.batchSize ?? 1000;
  checkInt('m2ClassificationError', 'batchSize', bs, 1);
  let wrong = 0;
  for (let s = 0; s < n; s += bs) {
    const c = Math.min(bs, n - s);
    const pred = tidy(() => argmax(m.classify(params, slice(images, [s, 0], [c, images.shape[1]])), -1).dataSync());
    for (let i = 0; i < c; i++) if (pred[i] !== y[s + i]) wrong++;
  }
  return wrong / n;
}

/**
 * The mean unlabelled bound U(x) ≤ log p(x) over the rows of x [n, D] (one z sample per class),
 * in chunks without gradients: M2's test ELBO.
 * @example m2TestElbo(m2, params, testX, { key: key(3) }) // e.g. −100
 */
export function m2TestElbo(model: M2Model, params: M2Params, x: Tensor, opts: { key: Key; batchSize?: number }): number {
  const m = internals(model, 'm2TestElbo');
  const n = m.checkX('m2TestElbo', x);
  const bs = opts.batchSize ?? 250;
  checkInt('m2TestElbo', 'batchSize', bs, 1);
  let total = 0;
  for (let s = 0, c = 0; s < n; s += bs, c++) {
    const b = Math.min(bs, n - s);
    total += tidy(() => sum(model.unlabelledBound(params, slice(x, [s, 0], [b, x.shape[1]]), model.noise(foldIn(opts.key, c), b)).u).item());
  }
  return total / n;
}
