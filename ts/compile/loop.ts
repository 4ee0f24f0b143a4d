/**
 * A compiled training loop: a step `(state, key, extra) => [state', ...scalars]` whose output
 * state has the input state's structure runs back to back over two sets of state buffers
 * (ping-pong), so steps allocate nothing and a rejected step leaves the previous state intact.
 */
import { ENGINE } from '../core/engine.js';
import { allocArray, type DType, type TypedArray } from '../core/dtype.js';
import type { Backend } from '../backends/backend.js';
import type { Tensor } from '../core/tensor.js';
import type { Key } from '../random/key.js';
import type { Plan } from './codegen.js';
import type { CompiledFunction, Lowered } from './compile.js';
import { CompileError } from './errors.js';
import { foldWords } from './rand.js';
import { flatten, rebuild } from './tree.js';

/** Which scalar outputs decide whether a step of `CompiledLoop.run` is accepted, and which one it records. */
export interface LoopAccept {
  /** Scalars (indices after the state) that must be finite. */
  finite: readonly number[];
  /** Scalars that must be 0 (finite flags). */
  zero: readonly number[];
  /** The scalar recorded per accepted step. Default 0. */
  record?: number;
}

/**
 * Runs a compiled step many times. The step takes `[state, key, extra]` and returns
 * `[state', s_1, ..., s_m]` with one-element tensors s_i (a loss, finite flags); the key of step
 * t is `foldIn(baseKey, t)`, derived here without allocating.
 */
export class CompiledLoop<S, E = unknown> {
  private readonly lowered: Lowered;
  private readonly nState: number;
  /** The backend's storage: typed arrays on the cpu device, device buffers elsewhere. */
  private readonly ins: unknown[];
  private readonly outs: unknown[];
  private readonly templateState: unknown;
  private readonly kw = new Uint32Array(2);
  /** The scalar outputs of the last step run (accepted or not). */
  readonly scalars: Float64Array;
  /** Generated loops, one per acceptance rule (callers pass one constant object per rule). */
  private readonly drivers = new Map<LoopAccept, Driver>();

  constructor(
    step: CompiledFunction<[S, Key, E], unknown[]>,
    state: S,
    baseKey: Key,
    extra: E,
  ) {
    this.lowered = step.lower(state, baseKey, extra);
    const l = this.lowered;
    const inFlat = flatten(state);
    const extraFlat = flatten(extra);
    this.nState = inFlat.tensors.length;
    if (inFlat.keys.length > 0) throw new CompileError('CompiledLoop: the state must not hold keys');
    const tpl = l.template as unknown[];
    if (!Array.isArray(tpl)) throw new CompileError('CompiledLoop: the step must return an array [state, ...scalars]');
    this.templateState = tpl[0];
    // The output state must have the input state's structure, shapes and dtypes.
    const outState = rebuild(tpl[0], (i) => inFlat.tensors[i], () => null);
    if (flatten(outState).sig !== inFlat.sig)
      throw new CompileError('CompiledLoop: the step returns a state whose structure differs from its input state (JS numbers in the state that change per step?)');
    for (let i = 0; i < this.nState; i++) {
      const o = l.plan.outputs[i];
      const t = inFlat.tensors[i];
      if (o.dtype !== t.dtype || o.shape.length !== t.shape.length || o.shape.some((d, j) => d !== t.shape[j]))
        throw new CompileError(`CompiledLoop: state leaf ${i} goes in as ${t.dtype}[${t.shape.join(', ')}] and comes out as ${o.dtype}[${o.shape.join(', ')}]`);
    }
    const m = l.plan.outputs.length - this.nState;
    this.scalars = new Float64Array(m);
    const b = l.backend;
    this.ins = [...inFlat.tensors.map((t) => copyOf(b, t.live().data, t.dtype, t.shape)), ...extraFlat.tensors.map((t) => t.live().data)];
    // The state's outputs are the backend's storage; the scalars are host arrays (a device plan reads them back).
    this.outs = l.plan.outputs.map((o, i) => (i < this.nState ? b.alloc(o.dtype, sizeOf(o.shape)) : allocArray(o.dtype, sizeOf(o.shape))));
  }

  /**
   * Runs steps `t0, t0 + 1, ...` (keys `foldIn(baseKey, t)`) in one generated loop until `n` are
   * done or one is rejected: a step is accepted when the scalars `accept.finite` are finite and
   * `accept.zero` are 0, and then its scalar `accept.record` goes to `record[off + i]`. Returns
   * how many steps were accepted; when fewer than `n`, the next step was rejected and the state
   * is the last accepted one. `scalars` holds the values of the last step run, accepted or not.
   */
  run(baseKey: Key, t0: number, n: number, accept: LoopAccept, record: Float64Array, off: number): number {
    let f = this.drivers.get(accept);
    if (f === undefined) {
      f = makeDriver(this.lowered.plan.run, this.nState, this.scalars.length, accept);
      this.drivers.set(accept, f);
    }
    const done = f(this.ins, this.kw, this.outs, n, t0, baseKey.k0, baseKey.k1, record, off);
    for (let i = 0; i < this.scalars.length; i++) this.scalars[i] = (this.outs[this.nState + i] as TypedArray)[0];
    return done;
  }

  /**
   * Replaces extra input `j` (flatten order of the `extra` the loop was built with) by `data`, the
   * backend's storage of the same shape and dtype: how a device loop takes each step's batch
   * (on the cpu device, callers refill the typed arrays in place instead).
   */
  setInput(j: number, data: unknown): void {
    this.ins[this.nState + j] = data;
  }

  /** The current state as fresh tensors. */
  state(): S {
    const b = this.lowered.backend;
    const infos = this.lowered.plan.outputs;
    return rebuild(this.templateState, (i) => ENGINE.makeTensor(infos[i].shape, infos[i].dtype, copyOf(b, this.ins[i], infos[i].dtype, infos[i].shape), b), () => null) as S;
  }

  /** Replaces the current state (same structure) by copying its tensors' data. */
  setState(state: S): void {
    const f = flatten(state);
    const b = this.lowered.backend;
    for (let i = 0; i < this.nState; i++) {
      const t = f.tensors[i];
      if (b.device === 'cpu') (this.ins[i] as TypedArray).set(t.live().data as TypedArray);
      else b.run('broadcastTo', [{ data: t.live().data, shape: t.shape, dtype: t.dtype }], [{ data: this.ins[i], shape: t.shape, dtype: t.dtype }], { shape: t.shape.slice() });
    }
  }

  /** Statistics of the generated step. */
  get stats(): Lowered['plan']['stats'] {
    return this.lowered.plan.stats;
  }
}

/** `CompiledLoop.run`'s loop: returns how many of the `n` steps were accepted (see there). */
type Driver = (I: unknown[], KW: Uint32Array, O: unknown[], n: number, t0: number, k0: number, k1: number, L: Float64Array, off: number) => number;

/**
 * Generates the loop around a plan's `run` for one acceptance rule: per step the key words, the
 * step, the acceptance test on the scalar outputs, the record, and the swap of the state's input
 * and output buffers. (Inlining the step's body into the loop measured slower for the larger
 * steps; V8 inlines `run` where that pays.)
 */
function makeDriver(run: Plan['run'], nState: number, nScalars: number, accept: LoopAccept): Driver {
  const { finite, zero, record = 0 } = accept;
  if ([...finite, ...zero, record].some((j) => !(Number.isInteger(j) && j >= 0 && j < nScalars)))
    throw new CompileError(`CompiledLoop.run: scalar indices must be integers in [0, ${nScalars}), got ${JSON.stringify(accept)}`);
  const q = (j: number): string => `O[${nState + j}][0]`;
  const ok = [...finite.map((j) => `${q(j)} - ${q(j)} === 0`), ...zero.map((j) => `${q(j)} === 0`)].join(' && ') || 'true';
  const swaps: string[] = [];
  for (let i = 0; i < nState; i++) swaps.push(`x = I[${i}]; I[${i}] = O[${i}]; O[${i}] = x;`);
  const body = ['fold(t0 + t, k0, k1, KW);', 'run(I, KW, O);', `if (!(${ok})) return t;`, `L[off + t] = ${q(record)};`, ...swaps];
  const src = `return function loop(I, KW, O, n, t0, k0, k1, L, off) {\n  let x;\n  for (let t = 0; t < n; t++) {\n${body.map((l) => `    ${l}`).join('\n')}\n  }\n  return n;\n};`;
  return (new Function('run', 'fold', src) as (r: Plan['run'], f: typeof foldWords) => Driver)(run, foldWords);
}

/** A copy of storage: a typed-array copy on the cpu device, a device-side copy elsewhere. */
function copyOf(b: Backend, data: unknown, dtype: DType, shape: readonly number[]): unknown {
  if (b.device === 'cpu') return (data as TypedArray).slice();
  const out = b.alloc(dtype, sizeOf(shape));
  b.run('broadcastTo', [{ data, shape, dtype }], [{ data: out, shape, dtype }], { shape: shape.slice() });
  return out;
}

function sizeOf(s: readonly number[]): number {
  let n = 1;
  for (const d of s) n *= d;
  return n;
}

/** @internal for tests: tensors of a pytree in flatten order. */
export function treeTensors(x: unknown): Tensor[] {
  return flatten(x).tensors;
}
