/**
 * The Distribution base class. Shapes follow NumPyro/TFP: a draw has shape
 * `sampleShape + batchShape + eventShape`; `logProb` sums over the event axes and returns
 * `sampleShape + batchShape`.
 *
 * Validation (`validateArgs`, on by default, switched globally with `setValidateArgs` or per
 * distribution): parameters are checked when the distribution is made, and `logProb` of a value
 * outside the support throws a ValueError naming the distribution. With validation off, nothing
 * is checked up front and `logProb` returns −Infinity outside the support.
 */
import { ENGINE } from '../core/engine.js';
import { ShapeError, ValueError, VarinfError, fmtShape } from '../core/errors.js';
import { broadcastShapes, type Shape } from '../core/shape.js';
import type { Tensor } from '../core/tensor.js';
import type { DType } from '../core/dtype.js';
import { asTensor, type TensorLike } from '../ops/creation.js';
import { cast, where } from '../ops/elementwise.js';
import { min } from '../ops/reduce.js';
import { broadcastTo } from '../ops/shape.js';
import type { Key } from '../random/key.js';
import type { Constraint } from './constraints.js';
import { scopedSettings } from '../core/settings.js';

let validateDefault = true;

/**
 * Turns parameter and support validation on or off for distributions made afterwards.
 * @example setValidateArgs(false); // distributions made from now on skip the checks
 */
export function setValidateArgs(on: boolean): void {
  validateDefault = on;
}

/** Whether validation is on for distributions made from now on. */
export function getValidateArgs(): boolean {
  return scopedSettings()?.validateArgs ?? validateDefault;
}

/** Options every distribution's constructor takes. */
export interface DistributionOptions {
  /** Check parameters now and values in `logProb` (default: the global `setValidateArgs` switch, on). */
  validateArgs?: boolean;
}

/** A parameter to check: its name, value and constraint. */
export interface ParamCheck {
  readonly name: string;
  readonly value: Tensor;
  readonly constraint: Constraint;
}

/**
 * The base of every distribution. Shapes follow NumPyro/TFP: a draw has shape
 * `sampleShape + batchShape + eventShape`; `logProb` sums over the event axes and returns
 * `sampleShape + batchShape` (the value's leading axes broadcast against the batch shape).
 * Parameters broadcast NumPy-style to the batch shape.
 *
 * Validation (`validateArgs`, on by default, switched globally with `setValidateArgs` or per
 * distribution): parameters are checked when the distribution is made, and `logProb` of a value
 * outside the support throws a ValueError naming the distribution. With validation off, nothing
 * is checked up front and `logProb` returns −Infinity outside the support.
 * @example
 * const d = new Normal(tensor([0, 1]), 2); // batchShape [2], eventShape []
 * const x = d.sample(key(0), [5]);          // [5, 2]
 * d.logProb(x);                             // [5, 2]
 * d.toEvent(1).logProb(x);                  // [5]: the batch axis summed as an event
 */
export abstract class Distribution {
  /** Shape of independent, non-identical draws (the parameters' broadcast shape). */
  readonly batchShape: Shape;
  /** Shape of one draw (`[]` for scalar distributions, `[d]` for a d-variate one). */
  readonly eventShape: Shape;
  /** Whether parameters and `logProb` values are checked. */
  readonly validateArgs: boolean;
  /** Whether `rsample` gives reparameterized (differentiable) draws. */
  readonly hasRsample: boolean = false;

  constructor(batchShape: Shape, eventShape: Shape, opts: DistributionOptions = {}) {
    this.batchShape = batchShape;
    this.eventShape = eventShape;
    this.validateArgs = opts.validateArgs ?? getValidateArgs();
  }

  /** The set the draws live in. */
  abstract get support(): Constraint;

  /** The distribution's name in messages. */
  get name(): string {
    return this.constructor.name;
  }

  /** The shape of `sample(key, sampleShape)`. */
  shape(sampleShape: Shape = []): number[] {
    return [...sampleShape, ...this.batchShape, ...this.eventShape];
  }

  /** Draws without gradients. */
  sample(key: Key, sampleShape: Shape = []): Tensor {
    if (this.hasRsample) {
      const tape = ENGINE.tape;
      ENGINE.tape = null;
      try {
        return this.rsample(key, sampleShape);
      } finally {
        ENGINE.tape = tape;
      }
    }
    throw new ValueError(`${this.name}.sample is not implemented`);
  }

  /** Reparameterized draws: differentiable with respect to the parameters. */
  rsample(key: Key, sampleShape: Shape = []): Tensor {
    void key;
    void sampleShape;
    throw new ValueError(`${this.name} has no reparameterized sampler; use sample (score-function gradients)`);
  }

  /** log density (or mass) of `value`, summed over event axes; int32 values are cast to the distribution's dtype. */
  logProb(value: TensorLike): Tensor {
    if (typeof value !== 'number' && !(value !== null && typeof value === 'object' && 'shape' in value))
      throw new ValueError(`${this.name}.logProb: value must be a number or a Tensor, got ${Array.isArray(value) ? 'an array (wrap it in tensor(...))' : typeof value}`);
    let v = asTensor(value, this.paramLike());
    // Integer data (what the discrete samplers return, or counts read from a file) is evaluated in the distribution's float dtype.
    if (v.dtype === 'int32' && this.dtype !== 'int32') v = cast(v, this.dtype);
    this.checkValueShape(v);
    if (!this.validateArgs) {
      const ok = this.supportMask(v);
      return ok === null ? this.logProbRaw(v) : where(ok, this.logProbRaw(v), -Infinity);
    }
    // (A real support is not checked at all: see supportMask.)
    if (this.support.name !== 'real' && holdsOnHost(this.support, v)) return this.logProbRaw(v);
    const ok = this.supportMask(v);
    if (ok !== null && min(cast(ok, 'int32')).item() === 0) {
      const data = v.dataSync();
      const mask = broadcastTo(ok, ok.shape).dataSync();
      const bad = mask.findIndex((m) => m === 0);
      const shown = this.eventShape.length === 0 ? String(data[bad]) : `event #${bad}`;
      throw new ValueError(`${this.name}.logProb: value ${shown} is outside the support ${this.support}`);
    }
    return this.logProbRaw(v);
  }

  /** log density without support checks; `value` has the right trailing shape. */
  protected abstract logProbRaw(value: Tensor): Tensor;

  /** A tensor whose dtype and device new constants should share. */
  protected abstract paramLike(): Tensor;

  /** The dtype of draws and densities. */
  get dtype(): DType {
    return this.paramLike().dtype;
  }

  private supportMask(v: Tensor): Tensor | null {
    const s = this.support;
    if (s.name === 'real') return null;
    return s.check(v);
  }

  private checkValueShape(v: Tensor): void {
    const e = this.eventShape.length;
    const tail = v.shape.slice(v.shape.length - e);
    const ok = v.shape.length >= e && tail.every((d, i) => d === this.eventShape[i] || d === 1);
    if (!ok)
      throw new ShapeError(`${this.name}.logProb: value of shape ${fmtShape(v.shape)} does not end in the event shape ${fmtShape(this.eventShape)}`);
    try {
      broadcastShapes(`${this.name}.logProb`, v.shape.slice(0, v.shape.length - e), this.batchShape);
    } catch {
      throw new ShapeError(`${this.name}.logProb: value of shape ${fmtShape(v.shape)} does not broadcast with the batch shape ${fmtShape(this.batchShape)}`);
    }
  }

  /** Throws a ValueError naming the parameter if any element violates its constraint. */
  protected checkParams(checks: readonly ParamCheck[]): void {
    if (!this.validateArgs) return;
    for (const c of checks) {
      if (holdsOnHost(c.constraint, c.value)) continue;
      const ok = c.constraint.check(c.value);
      if (ok.size > 0 && min(ok).item() === 0) {
        const d = c.value.dataSync();
        const m = broadcastTo(ok, ok.shape).dataSync();
        const bad = m.findIndex((x) => x === 0);
        const shown = c.constraint.eventDim === 0 ? String(d[bad]) : `at batch index ${bad}`;
        throw new ValueError(`${this.name}: parameter ${c.name} must be ${c.constraint}, got ${shown}`);
      }
    }
  }

  /** E[X], of shape batchShape + eventShape; throws a ValueError where there is no closed form. */
  get mean(): Tensor {
    throw new ValueError(`${this.name} has no closed-form mean`);
  }

  /** Var[X] elementwise, of shape batchShape + eventShape; throws a ValueError where there is no closed form. */
  get variance(): Tensor {
    throw new ValueError(`${this.name} has no closed-form variance`);
  }

  /** Differential entropy (nats), where closed-form. */
  entropy(): Tensor {
    throw new ValueError(`${this.name} has no closed-form entropy`);
  }

  /** The same distribution with its batch broadcast to `batchShape`. */
  abstract expand(batchShape: Shape): Distribution;

  /** Reinterprets the rightmost `n` batch axes as event axes. */
  toEvent(n = 1): Distribution {
    return makeIndependent(this, n);
  }
}

/** Checks that `to` is a valid expansion of `from` for `expand`. */
export function checkExpand(name: string, from: Shape, to: Shape): void {
  const b = broadcastShapes(`${name}.expand`, from, to);
  if (b.length !== to.length || b.some((d, i) => d !== to[i]))
    throw new ShapeError(`${name}.expand: batch shape ${fmtShape(from)} cannot be expanded to ${fmtShape(to)}`);
}

/** Converts parameters to tensors sharing the first tensor's dtype (float64 if all are numbers). */
export function params(...xs: TensorLike[]): Tensor[] {
  for (const x of xs as unknown[])
    if (typeof x !== 'number' && !(x !== null && typeof x === 'object' && !Array.isArray(x) && 'shape' in x)) {
      const got = Array.isArray(x) ? `the array ${JSON.stringify(x).slice(0, 60)} (wrap it in tensor(...))` : x === null ? 'null' : typeof x;
      throw new ValueError(`distribution parameter: expected a number or a Tensor, got ${got}`);
    }
  const like = xs.find((x): x is Tensor => typeof x !== 'number');
  return xs.map((x) => asTensor(x, like));
}

/** PyTorch's (and NumPyro's) spellings of varinf's parameterization keys, for the hint in `oneOf`'s error. */
const SPELLINGS: Record<string, string> = {
  covarianceMatrix: 'covariance',
  covariance_matrix: 'covariance',
  precisionMatrix: 'precision',
  precision_matrix: 'precision',
  scale_tril: 'scaleTril',
  prob: 'probs',
  logit: 'logits',
};

/**
 * The one parameterization given in `opts` (an object such as `{ probs }` or `{ covariance }`):
 * exactly one of `keys` must be defined and no other key present; otherwise a ValueError names
 * the distribution, the argument, the accepted keys and what was given (with PyTorch's spelling
 * translated, e.g. `covarianceMatrix` → `covariance`).
 * @example oneOf('MultivariateNormal', 'scale', { covariance: s }, ['scaleTril', 'covariance', 'precision']) // 'covariance'
 */
export function oneOf<K extends string>(name: string, arg: string, opts: unknown, keys: readonly K[]): K {
  const isObj = opts !== null && typeof opts === 'object' && !ArrayBuffer.isView(opts) && !Array.isArray(opts) && !('shape' in opts);
  const given = isObj ? Object.keys(opts).filter((k) => (opts as Record<string, unknown>)[k] !== undefined) : [];
  const hits = given.filter((k): k is K => (keys as readonly string[]).includes(k));
  const others = given.filter((k) => !(keys as readonly string[]).includes(k));
  if (isObj && hits.length === 1 && others.length === 0) return hits[0];
  const accepted = keys.map((k) => `'${k}'`).join(', ');
  const got = !isObj ? (typeof opts === 'number' ? `the number ${opts}` : opts === null ? 'null' : `a ${typeof opts === 'object' ? 'Tensor or array' : typeof opts}`) : `{ ${given.join(', ')} }`;
  const hint = others.filter((k) => SPELLINGS[k] !== undefined).map((k) => `; '${k}' is spelled '${SPELLINGS[k]}' here`).join('');
  throw new ValueError(`${name}: ${arg} must be an object with exactly one of ${accepted}, got ${got}${hint}`);
}

/** Broadcast batch shape of parameters, naming the distribution on mismatch. */
export function batchOf(name: string, ...xs: readonly Tensor[]): number[] {
  let s: number[] = [];
  for (const x of xs) s = broadcastShapes(name, s, x.shape);
  return s;
}

type IndependentFactory = (base: Distribution, n: number) => Distribution;
let makeIndependent: IndependentFactory = () => {
  throw new VarinfError('Independent is not loaded (import varinf from its entry point)');
};

/** @internal lets independent.ts register itself without an import cycle. */
export function registerIndependent(f: IndependentFactory): void {
  makeIndependent = f;
}

/**
 * Whether every element of a float64 host tensor passes `c.holds`, scanned without kernels (the
 * eager step validates every distribution it builds). False when it cannot tell (no scalar test,
 * another dtype or device) or an element fails: the caller then runs the kernel check, which
 * also words the error.
 */
function holdsOnHost(c: Constraint, x: Tensor): boolean {
  const h = c.holds;
  if (h === undefined || x.dtype !== 'float64' || x.device !== 'cpu') return false;
  const d = x.dataSync();
  for (let i = 0; i < d.length; i++) if (!h(d[i])) return false;
  return true;
}
