/**
 * Effect handlers: each wraps a model (any function) and returns a function with the same
 * signature that runs it with a handler on the stack.
 * - `seed(fn, key)`: gives every sample site without a value its own key (split from `key`).
 * - `trace(fn).getTrace(...args)`: records every site, in order, as a `Trace`.
 * - `replay(fn, trace)`: sample sites take their values from a trace (e.g. the guide's).
 * - `substitute(fn, values)`, `condition(fn, data)`: fix sites to values (condition marks them observed).
 * - `block(fn, {hide, expose})`: hides sites from the handlers outside.
 * - `scale(fn, s)`, `mask(fn, m)`: multiply or mask the log densities of the sites inside.
 */
import { ValueError, VarinfError } from '../core/errors.js';
import type { Tensor } from '../core/tensor.js';
import { asTensor, type TensorLike } from '../ops/creation.js';
import { mul } from '../ops/elementwise.js';
import { split, type Key } from '../random/key.js';
import { withHandler, type Handler, type Message, type ModelFn } from './runtime.js';

/** A recorded site: the message as it left the handler stack. */
export type Site = Readonly<Message>;

/** The sites of one run, by name, in execution order. */
export type Trace = Map<string, Site>;


function wrap<A extends unknown[], R>(fn: ModelFn<A, R>, h: Handler): ModelFn<A, R> {
  return (...args: A): R => withHandler(h, () => fn(...args));
}

/** Splits a key into one per call, for handlers that seed many sites. */
class KeyStream {
  constructor(private key: Key) {}
  next(): Key {
    const [a, b] = split(this.key);
    this.key = a;
    return b;
  }
}

/**
 * Runs `fn` with each sample site (and param initializer, and plate subsample) keyed from `key`.
 * @example const y = seed(model, key(0))(data); // the model's sample sites draw with keys split from key(0)
 */
export function seed<A extends unknown[], R>(fn: ModelFn<A, R>, key: Key): ModelFn<A, R> {
  return (...args: A): R => {
    const keys = new KeyStream(key);
    return withHandler(
      {
        process(msg) {
          if (msg.key === null && msg.value === null) msg.key = keys.next();
        },
      },
      () => fn(...args),
    );
  };
}

/** A function wrapped by {@link trace}: callable as the original, plus `getTrace` for its sites. */
export interface Traced<A extends unknown[], R> {
  /** Runs the function as the original would. */
  (...args: A): R;
  /** Runs the function and returns its trace. */
  getTrace(...args: A): Trace;
}

/**
 * Records the sites of `fn`.
 * @example const tr = trace(seed(model, key(0))).getTrace(data);
 * tr.get('mu')?.value; // the drawn value of site 'mu'
 */
export function trace<A extends unknown[], R>(fn: ModelFn<A, R>): Traced<A, R> {
  const run = (...args: A): [R, Trace] => {
    const tr: Trace = new Map();
    const r = withHandler(
      {
        postprocess(msg) {
          if (msg.type === 'plate') return;
          if (tr.has(msg.name)) throw new VarinfError(`trace: site '${msg.name}' appears twice; every site needs a unique name`);
          tr.set(msg.name, { ...msg, cond: msg.cond.slice() });
        },
      },
      () => fn(...args),
    );
    return [r, tr];
  };
  const f = ((...args: A) => run(...args)[0]) as Traced<A, R>;
  f.getTrace = (...args: A) => run(...args)[1];
  return f;
}

/**
 * Sample sites take their values from `tr` (sites absent from it run as usual).
 * @example const modelTr = trace(replay(model, guideTr)).getTrace(data); // latents from the guide's trace
 */
export function replay<A extends unknown[], R>(fn: ModelFn<A, R>, tr: Trace): ModelFn<A, R> {
  return wrap(fn, {
    process(msg) {
      if (msg.type !== 'sample' || msg.isObserved) return;
      const site = tr.get(msg.name);
      if (site !== undefined) {
        msg.value = site.value;
        msg.done = true;
      }
    },
  });
}

/** SubstituteValues to substitute: by site name, or computed from the site's message. */
export type SubstituteValues = Record<string, TensorLike> | ((site: Message) => Tensor | null | undefined);

function lookup(values: SubstituteValues, msg: Message): Tensor | null {
  if (typeof values === 'function') return values(msg) ?? null;
  const v = values[msg.name];
  return v === undefined ? null : asTensor(v);
}

/**
 * Fixes sample and param sites to given values (by name, or from a function of the site).
 * @example const lp = traceLogProb(trace(substitute(model, { mu: tensor(1.5) })).getTrace(data)); // log p at mu = 1.5
 */
export function substitute<A extends unknown[], R>(fn: ModelFn<A, R>, values: SubstituteValues): ModelFn<A, R> {
  return wrap(fn, {
    process(msg) {
      if (msg.type !== 'sample' && msg.type !== 'param' && msg.type !== 'plate') return;
      const v = lookup(values, msg);
      if (v !== null) {
        msg.value = v;
        msg.done = true;
      }
    },
  });
}

/**
 * Conditions sample sites on data: they become observed with the given values.
 * @example const conditioned = condition(model, { y: tensor([0.3, 1.2]) }); // y is now observed
 */
export function condition<A extends unknown[], R>(fn: ModelFn<A, R>, data: Record<string, TensorLike>): ModelFn<A, R> {
  return wrap(fn, {
    process(msg) {
      if (msg.type !== 'sample') return;
      const v = data[msg.name];
      if (v === undefined) return;
      if (msg.isObserved) throw new ValueError(`condition: site '${msg.name}' is already observed`);
      msg.value = asTensor(v);
      msg.isObserved = true;
      msg.done = true;
    },
  });
}

/**
 * Hides sites from the handlers outside: those named in `hide` (default: all), or all but `expose`.
 * @example const inner = block(seed(guide, key(1)), { hide: ['z'] }); // outer handlers do not see 'z'
 */
export function block<A extends unknown[], R>(fn: ModelFn<A, R>, opts: { hide?: string[]; expose?: string[] } = {}): ModelFn<A, R> {
  const hidden = (name: string): boolean =>
    opts.hide !== undefined ? opts.hide.includes(name) : opts.expose !== undefined ? !opts.expose.includes(name) : true;
  return wrap(fn, {
    process(msg) {
      if (hidden(msg.name)) msg.stop = true;
    },
  });
}

/**
 * Multiplies the log densities of the sites inside by `factor` (e.g. N/|S| for minibatches).
 * @example const tempered = scale(model, 0.5); // every log density halved
 */
export function scale<A extends unknown[], R>(fn: ModelFn<A, R>, factor: number): ModelFn<A, R> {
  if (!(factor > 0)) throw new ValueError(`scale: factor must be positive, got ${factor}`);
  return wrap(fn, {
    process(msg) {
      if (msg.type === 'sample') msg.scale *= factor;
    },
  });
}

/**
 * Masks the log densities of the sites inside (0 = ignore the term), broadcasting over the batch.
 * @example const partial = mask(model, tensor([1, 0, 1], [3], 'int32')); // the second plate entry drops out
 */
export function mask<A extends unknown[], R>(fn: ModelFn<A, R>, m: Tensor): ModelFn<A, R> {
  return wrap(fn, {
    process(msg) {
      if (msg.type === 'sample') msg.mask = msg.mask === null ? m : mul(msg.mask, m);
    },
  });
}
