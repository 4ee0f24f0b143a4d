/**
 * A compiled training loop: a step `(state, key, extra) => [state', ...scalars]` whose output
 * state has the input state's structure runs back to back over two sets of state buffers
 * (ping-pong), so steps allocate nothing and a rejected step leaves the previous state intact.
 */
import { ENGINE } from '../core/engine.js';
import type { TypedArray } from '../core/dtype.js';
import type { Tensor } from '../core/tensor.js';
import { philox4x32, TAG_FOLD } from '../random/philox.js';
import type { Key } from '../random/key.js';
import type { CompiledFunction, Lowered } from './compile.js';
import { CompileError } from './errors.js';
import { flatten, rebuild } from './tree.js';

/**
 * Runs a compiled step many times. The step takes `[state, key, extra]` and returns
 * `[state', s_1, ..., s_m]` with one-element tensors s_i (a loss, finite flags); the key of step
 * t is `foldIn(baseKey, t)`, derived here without allocating.
 */
export class CompiledLoop<S, E = unknown> {
  private readonly lowered: Lowered;
  private readonly nState: number;
  private readonly ins: TypedArray[];
  private readonly outs: TypedArray[];
  private readonly templateState: unknown;
  private readonly kw = new Uint32Array(2);
  private readonly scratch = new Uint32Array(4);
  /** The scalar outputs of the last step. */
  readonly scalars: Float64Array;

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
    this.ins = [...inFlat.tensors.map((t) => (t.live().data as TypedArray).slice()), ...extraFlat.tensors.map((t) => t.live().data as TypedArray)];
    this.outs = l.plan.outputs.map((o) => (o.dtype === 'float64' ? new Float64Array(sizeOf(o.shape)) : o.dtype === 'float32' ? new Float32Array(sizeOf(o.shape)) : new Int32Array(sizeOf(o.shape))));
  }

  /**
   * Runs one step with key `foldIn(baseKey, t)`; writes the scalar outputs into `scalars`. When
   * `accept(scalars)` is true the new state becomes current; otherwise the state stays as it was.
   */
  step(baseKey: Key, t: number, accept: (scalars: Float64Array) => boolean): boolean {
    philox4x32(t >>> 0, 0, TAG_FOLD, 0, baseKey.k0, baseKey.k1, this.scratch);
    this.kw[0] = this.scratch[0];
    this.kw[1] = this.scratch[1];
    const outs = this.outs;
    this.lowered.plan.run(this.ins, this.kw, outs);
    const n = this.nState;
    for (let i = 0; i < this.scalars.length; i++) this.scalars[i] = outs[n + i][0];
    if (!accept(this.scalars)) return false;
    const ins = this.ins;
    for (let i = 0; i < n; i++) {
      const a = ins[i];
      ins[i] = outs[i];
      outs[i] = a;
    }
    return true;
  }

  /** The current state as fresh tensors. */
  state(): S {
    const b = this.lowered.backend;
    const infos = this.lowered.plan.outputs;
    return rebuild(this.templateState, (i) => ENGINE.makeTensor(infos[i].shape, infos[i].dtype, this.ins[i].slice(), b), () => null) as S;
  }

  /** Replaces the current state (same structure) by copying its tensors' data. */
  setState(state: S): void {
    const f = flatten(state);
    for (let i = 0; i < this.nState; i++) this.ins[i].set(f.tensors[i].live().data as TypedArray);
  }

  /** Statistics of the generated step. */
  get stats(): Lowered['plan']['stats'] {
    return this.lowered.plan.stats;
  }
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
