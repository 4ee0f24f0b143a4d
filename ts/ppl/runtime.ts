/**
 * The effect-handler runtime (as NumPyro's): primitives build a message and send it up the stack
 * of active handlers; each handler may read or change it in `process` (top of the stack first)
 * and `postprocess` (bottom first); a handler that sets `stop` hides the message from those below.
 * If no handler supplied a value, the default behaviour runs (draw a sample, read a param).
 */
import { VarinfError } from '../core/errors.js';
import type { Tensor } from '../core/tensor.js';
import type { Distribution } from '../distributions/distribution.js';
import type { Constraint } from '../distributions/constraints.js';
import type { Key } from '../random/key.js';

/** A plate on the conditional-independence stack of a site. */
export interface PlateFrame {
  /** The plate's name (unique in a model). */
  readonly name: string;
  /** The full size of the plate. */
  readonly size: number;
  /** How many entries this run uses (the subsample size, or the size). */
  readonly subsampleSize: number;
  /** The batch dimension (negative, counted from the right of the batch shape). */
  readonly dim: number;
}

/** The kind of a site: a random variable, a learnable parameter, a recorded value, or a plate entered. */
export type SiteType = 'sample' | 'param' | 'deterministic' | 'plate';

/** A model or guide: any function of its arguments. */
export type ModelFn<A extends unknown[] = unknown[], R = unknown> = (...args: A) => R;

/** What a primitive sends to the handlers. */
export interface Message {
  /** The kind of site. */
  readonly type: SiteType;
  /** The site's name (unique in a run). */
  readonly name: string;
  /** The distribution of a sample site. */
  fn: Distribution | null;
  /**
   * The site's value: observed data, a replayed or substituted value, the draw, or null before a handler or
   * the default supplies it.
   */
  value: Tensor | null;
  /** Whether the value is observed data (a likelihood term). */
  isObserved: boolean;
  /** Extra leading shape of the draw. */
  sampleShape: number[];
  /** Multiplier of the site's log density (plates' N/|S|, the `scale` handler). */
  scale: number;
  /** int32/float mask multiplying the log density (the `mask` handler); null = all on. */
  mask: Tensor | null;
  /** The random key the default behaviour draws with (set by `seed`). */
  key: Key | null;
  /** The plates enclosing the site, innermost last. */
  cond: PlateFrame[];
  /** For params: the initial value or its initializer, and the constraint. */
  init?: Tensor | ((key: Key) => Tensor);
  /** A param's support; the param is optimized unconstrained and mapped onto it. */
  constraint?: Constraint;
  /** Free-form flags for inference algorithms (e.g. `{enumerate: false}`). */
  infer: Record<string, unknown>;
  /** Set by a handler to hide the message from the handlers below it. */
  stop: boolean;
  /** A handler supplied the value; the default behaviour is skipped. */
  done: boolean;
}

/** A handler on the stack. */
export interface Handler {
  process?(msg: Message): void;
  postprocess?(msg: Message): void;
}

const STACK: Handler[] = [];

/** Runs `fn` with `h` pushed on the handler stack. */
export function withHandler<T>(h: Handler, fn: () => T): T {
  STACK.push(h);
  const depth = STACK.length;
  try {
    return fn();
  } finally {
    // A handler that leaked (an exception inside a nested run) is removed with ours.
    STACK.length = depth - 1;
  }
}

/** Sends `msg` through the stack and runs the default behaviour if no handler supplied a value. */
export function applyStack(msg: Message, defaultFn: (msg: Message) => void): Message {
  let pointer = STACK.length - 1;
  for (; pointer >= 0; pointer--) {
    STACK[pointer].process?.(msg);
    if (msg.stop) break;
  }
  if (!msg.done && msg.value === null) defaultFn(msg);
  for (let i = Math.max(pointer, 0); i < STACK.length; i++) STACK[i].postprocess?.(msg);
  return msg;
}

export function newMessage(type: SiteType, name: string, fields: Partial<Message> = {}): Message {
  if (typeof name !== 'string' || name.length === 0) throw new VarinfError(`${type}: a site needs a non-empty name`);
  return {
    type,
    name,
    fn: null,
    value: null,
    isObserved: false,
    sampleShape: [],
    scale: 1,
    mask: null,
    key: null,
    cond: [],
    infer: {},
    stop: false,
    done: false,
    ...fields,
  };
}
