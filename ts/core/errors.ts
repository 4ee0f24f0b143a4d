/*
 * Errors raised by varinf. Every message names the op (or distribution), the argument and the
 * offending shapes or values, so a user can find the bad call without a debugger.
 *
 * Every error varinf raises is a `VarinfError`, and each class carries a stable `code` (as Node's
 * errors do) that programs can test instead of the message:
 *
 * | class | code |
 * | --- | --- |
 * | `VarinfError` (anything else: a diverging fit, an internal failure) | `VARINF_ERROR` |
 * | `ShapeError` | `VARINF_SHAPE` |
 * | `DTypeError` | `VARINF_DTYPE` |
 * | `AxisError` | `VARINF_AXIS` |
 * | `ValueError` | `VARINF_VALUE` |
 * | `FormatError` (a corrupt, truncated or foreign file) | `VARINF_FORMAT` |
 * | `NotPositiveDefiniteError` | `VARINF_NOT_POSITIVE_DEFINITE` |
 * | `SingularMatrixError` | `VARINF_SINGULAR_MATRIX` |
 * | `AllocationError` | `VARINF_ALLOCATION` |
 * | `DisposedError` | `VARINF_DISPOSED` |
 * | `BackendError` | `VARINF_BACKEND` |
 * | `CompileError` | `VARINF_COMPILE` |
 * | `NonFiniteError` (a loss, gradient or parameter that is not finite in a step) | `VARINF_NON_FINITE` |
 * | `ImproperPosteriorError` (a posterior with no normalizing constant) | `VARINF_IMPROPER_POSTERIOR` |
 * | `AbortError` (a run stopped by its AbortSignal, as Node's own) | `ABORT_ERR` |
 *
 * @example try { cholesky(a) } catch (e) { if (e instanceof VarinfError && e.code === 'VARINF_NOT_POSITIVE_DEFINITE') … }
 */

/**
 * The base of every error varinf raises; `name` is the subclass's name. Catch it to handle any
 * varinf error, or a subclass for one kind.
 * @example
 * try { reshape(x, [7]); } catch (e) { if (e instanceof ShapeError) console.error(e.message); }
 */
export class VarinfError extends Error {
  /** The class's code, stable across releases (the message may change). */
  static readonly CODE: string = 'VARINF_ERROR';
  /** A stable identifier of the kind of error, e.g. `'VARINF_SHAPE'`. */
  readonly code: string;

  /** `options.cause` keeps the lower-level error this one wraps (a JSON `SyntaxError`, a zlib error). */
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = (new.target as typeof VarinfError).CODE;
  }
}

/** Shapes that do not fit: broadcasting, matmul inner dimensions, reshape sizes. */
export class ShapeError extends VarinfError {
  static override readonly CODE: string = 'VARINF_SHAPE';
}

/** A dtype the op does not accept, or two inputs whose dtypes differ. */
export class DTypeError extends VarinfError {
  static override readonly CODE: string = 'VARINF_DTYPE';
}

/** An axis out of range, repeated, or otherwise invalid. */
export class AxisError extends VarinfError {
  static override readonly CODE: string = 'VARINF_AXIS';
}

/** An invalid argument value: a negative scale, an index out of range, NaN in a loss. */
export class ValueError extends VarinfError {
  static override readonly CODE: string = 'VARINF_VALUE';
}

/**
 * A file (or bytes) that is corrupt, truncated or not in the format the reader expects: a
 * safetensors header that does not cover the data, a checkpoint whose checksum fails, a broken
 * gzip stream. The message names the reader and the file. A `ValueError`, so older handlers still match.
 */
export class FormatError extends ValueError {
  static override readonly CODE: string = 'VARINF_FORMAT';
}

/** A matrix handed to cholesky (or anything built on it) that is not positive definite. */
export class NotPositiveDefiniteError extends VarinfError {
  static override readonly CODE: string = 'VARINF_NOT_POSITIVE_DEFINITE';
}

/** A triangular matrix with a zero on its diagonal handed to a solve: the system has no unique solution. */
export class SingularMatrixError extends VarinfError {
  static override readonly CODE: string = 'VARINF_SINGULAR_MATRIX';
}

/** Storage that cannot be allocated: more elements than a typed array holds, or more memory than there is. */
export class AllocationError extends VarinfError {
  static override readonly CODE: string = 'VARINF_ALLOCATION';
}

/** A tensor used after `dispose`, or after the `tidy` scope that owned it ended. */
export class DisposedError extends VarinfError {
  static override readonly CODE: string = 'VARINF_DISPOSED';
}

/**
 * A loss, gradient or parameter that is not finite where a step needed it finite (a diverging
 * optimization): the message names the step and the first site or parameter at fault.
 */
export class NonFiniteError extends VarinfError {
  static override readonly CODE: string = 'VARINF_NON_FINITE';
}

/** A backend that is missing, failed to load, or lacks a kernel. */
export class BackendError extends VarinfError {
  static override readonly CODE: string = 'VARINF_BACKEND';
}

/** Formats a shape as `[2, 3]` for error messages. */
export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/**
 * The AllocationError for `elements` of `bytesPer` bytes that `op` could not allocate as `shape`,
 * or `e` itself when it is already a varinf error (or not an allocation failure).
 */
export function allocationError(op: string, shape: readonly number[], dtype: string, bytesPer: number, e: unknown): unknown {
  if (e instanceof VarinfError || !(e instanceof RangeError || (e instanceof Error && /alloc|memory/i.test(e.message)))) return e;
  let n = 1;
  for (const d of shape) n *= d;
  return new AllocationError(`${op}: cannot allocate ${dtype} ${fmtShape(shape)}: ${n} elements, ${n * bytesPer} bytes = ${((n * bytesPer) / 2 ** 30).toPrecision(3)} GiB (${e.message})`, { cause: e });
}

/**
 * A run stopped by its AbortSignal, as Node's own APIs report it: `code` 'ABORT_ERR', `cause` the
 * signal's reason, and `partial` what was computed before the abort (for `fit`, the result of the
 * steps done; for `SVI.run`, the run's result so far).
 * @example
 * try { await fit(model, args, { key: key(0), signal }); }
 * catch (e) { if (e instanceof AbortError) console.log(e.partial); }
 */
export class AbortError<P = unknown> extends VarinfError {
  static override readonly CODE: string = 'ABORT_ERR';
  constructor(
    message: string,
    /** What was computed before the abort (for `fit`, the result of the steps done; for `SVI.run`, the run's result so far). */
    readonly partial: P,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * A model whose posterior is not a probability distribution: −log p does not increase in some
 * direction of the unconstrained space (a flat prior without a likelihood that pins the site).
 * `site` names the latent site of that direction.
 * @example
 * try { fitSync(flatModel, [], { key: key(0) }); } catch (e) { if (e instanceof ImproperPosteriorError) e.site; }
 */
export class ImproperPosteriorError extends VarinfError {
  static override readonly CODE: string = 'VARINF_IMPROPER_POSTERIOR';
  constructor(
    message: string,
    /** The name of the latent site along whose direction −log p stays flat. */
    readonly site: string,
  ) {
    super(message);
  }
}
