/**
 * Reverse-mode autodiff over pytrees. `valueAndGrad(f)(params, ...rest)` records the ops `f` runs
 * on `params` on a tape, then walks it backwards applying each kernel's gradient rule.
 */
import { GRADS } from '../grads/index.js';
import { onesLike, zerosLike } from '../ops/creation.js';
import { add, cast } from '../ops/elementwise.js';
import { ENGINE, Tape, type TapeEntry } from './engine.js';
import { ShapeError, DTypeError, fmtShape, VarinfError } from './errors.js';
import { Tensor } from './tensor.js';
import { mapLeaves } from './tree.js';

function trackedCopy(x: Tensor, tape: Tape): Tensor {
  const t = ENGINE.toBackend(x, x.backend);
  t.tape = tape.id;
  return t;
}

/**
 * Cotangents by tensor, in an array indexed by id from the tape's first tracked tensor: every
 * tensor that can take a cotangent was made after it (ids grow), and an array costs less than a
 * Map at several lookups per recorded op.
 */
class Cotangents {
  private readonly byId: (Tensor | undefined)[];
  constructor(
    private readonly first: number,
    last: number,
  ) {
    this.byId = new Array<Tensor | undefined>(Math.max(0, last - first + 1));
  }
  get(x: Tensor): Tensor | undefined {
    return this.byId[x.id - this.first];
  }
  set(x: Tensor, g: Tensor): void {
    this.byId[x.id - this.first] = g;
  }
}

function backward(tape: Tape, first: number, out: Tensor, seed: Tensor): Cotangents {
  const entries = tape.entries;
  // Recorded ops run in order, so the last one's outputs have the largest ids on the tape.
  let last = out.id;
  if (entries.length > 0) for (const o of entries[entries.length - 1].outputs) last = Math.max(last, o.id);
  const grads = new Cotangents(first, last);
  // A loss that does not depend on the parameters: every gradient is zero.
  if (out.tape !== tape.id) return grads;
  grads.set(out, seed);
  for (let e = entries.length - 1; e >= 0; e--) {
    const entry = entries[e];
    const { inputs, outputs } = entry;
    // Skip ops whose outputs got no cotangent, and rules none of whose inputs can take one (all
    // constants or int32: indices, masks and integer data never carry a cotangent).
    let reached = false;
    for (const o of outputs) if (grads.get(o) !== undefined) reached = true;
    if (!reached) continue;
    const needs = inputs.map((x) => x.tape === tape.id && x.dtype !== 'int32');
    if (!needs.includes(true)) continue;
    const dys = outputs.map((o) => grads.get(o) ?? zerosLike(o));
    const dxs = applyRule(entry, dys, needs);
    for (let i = 0; i < inputs.length; i++) {
      const x = inputs[i];
      const dx = dxs[i];
      if (!needs[i] || dx === null || dx === undefined) continue;
      if (dx.shape.length !== x.shape.length || dx.shape.some((d, j) => d !== x.shape[j]))
        throw new ShapeError(`gradient of ${entry.name}: input ${i} has shape ${fmtShape(x.shape)} but its gradient ${fmtShape(dx.shape)}`);
      const prev = grads.get(x);
      grads.set(x, prev === undefined ? dx : accumulate(prev, dx));
    }
  }
  return grads;
}

/** The sum of two cotangents of one input; bfloat16 ones (storage only) are added in float32. */
function accumulate(a: Tensor, b: Tensor): Tensor {
  if (a.dtype !== 'bfloat16') return add(a, b);
  return cast(add(cast(a, 'float32'), cast(b, 'float32')), 'bfloat16');
}

function applyRule(entry: TapeEntry, dys: Tensor[], needs: readonly boolean[]): readonly (Tensor | null)[] {
  if (entry.custom !== undefined) return entry.custom(dys);
  const rule = GRADS[entry.name as keyof typeof GRADS] as
    | ((dys: Tensor[], inputs: readonly Tensor[], outputs: readonly Tensor[], attrs: unknown, needs: readonly boolean[]) => (Tensor | null)[])
    | undefined;
  if (rule === undefined) throw new VarinfError(`no gradient rule for kernel '${entry.name}'`);
  return rule(dys, entry.inputs, entry.outputs, entry.attrs, needs);
}

/**
 * Returns a function computing `[f(params, ...rest), ∂f/∂params]`, the gradient a pytree shaped as
 * `params`. `f` must return a scalar float tensor.
 * @example const [loss, g] = valueAndGrad((p: {w: Tensor}) => sum(square(p.w)))({ w })
 */
export function valueAndGrad<P, R extends unknown[]>(f: (params: P, ...rest: R) => Tensor): (params: P, ...rest: R) => [Tensor, P] {
  return (params: P, ...rest: R): [Tensor, P] => {
    if (ENGINE.tape !== null) throw new VarinfError('valueAndGrad: nested gradients are not supported yet');
    const tape = new Tape();
    // The first tracked copy has the smallest id of any tensor that will be on the tape.
    let first = Infinity;
    const tracked = mapLeaves(params, (x) => {
      const t = trackedCopy(x, tape);
      first = Math.min(first, t.id);
      return t;
    });
    ENGINE.tape = tape;
    let out: Tensor;
    try {
      out = f(tracked, ...rest);
    } finally {
      ENGINE.tape = null;
    }
    if (!(out instanceof Tensor) || out.size !== 1)
      throw new ShapeError(`valueAndGrad: the function must return a scalar tensor, got ${out instanceof Tensor ? `shape ${fmtShape(out.shape)}` : typeof out}`);
    if (out.dtype === 'int32') throw new DTypeError('valueAndGrad: the function returned an int32 tensor; gradients need float');
    const grads = backward(tape, Math.min(first, out.id), out, onesLike(out));
    const g = mapLeaves(tracked, (x) => grads.get(x) ?? zerosLike(x));
    return [out, g];
  };
}

/**
 * Returns a function computing the gradient of scalar `f` with respect to its first argument.
 * @example grad((w: Tensor) => sum(square(w)))(tensor([1, 2])) // [2, 4]
 */
export function grad<P, R extends unknown[]>(f: (params: P, ...rest: R) => Tensor): (params: P, ...rest: R) => P {
  const vg = valueAndGrad(f);
  return (params: P, ...rest: R): P => vg(params, ...rest)[1];
}

/**
 * x, treated as a constant by autodiff.
 * @example grad((w: Tensor) => mul(w, stopGradient(w)))(tensor([3])) // [3], not [6]
 */
export function stopGradient(x: Tensor): Tensor {
  const t = ENGINE.toBackend(x, x.backend);
  t.tape = 0;
  return t;
}

/**
 * Defines a function with a hand-written gradient. `f` returns the value and a function from the
 * output cotangent to the input cotangents (null for inputs without one).
 * @example const safeLog = customGradient((x) => ({ value: log(x), grad: (dy) => [div(dy, x)] }))
 */
export function customGradient(
  f: (...inputs: Tensor[]) => { value: Tensor; grad: (dy: Tensor) => (Tensor | null)[] },
): (...inputs: Tensor[]) => Tensor {
  return (...inputs: Tensor[]): Tensor => {
    const tape = ENGINE.tape;
    ENGINE.tape = null;
    let r: { value: Tensor; grad: (dy: Tensor) => (Tensor | null)[] };
    try {
      r = f(...inputs);
    } finally {
      ENGINE.tape = tape;
    }
    if (tape !== null && inputs.some((x) => x.tape === tape.id)) {
      const value = ENGINE.toBackend(r.value, r.value.backend);
      value.tape = tape.id;
      tape.entries.push({ name: 'custom', inputs, outputs: [value], attrs: {}, custom: (dys) => r.grad(dys[0]) });
      return value;
    }
    return r.value;
  };
}
