/**
 * Errors raised by varinf. Every message names the op (or distribution), the argument and the
 * offending shapes or values, so a user can find the bad call without a debugger.
 */
export class VarinfError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Shapes that do not fit: broadcasting, matmul inner dimensions, reshape sizes. */
export class ShapeError extends VarinfError {}

/** A dtype the op does not accept, or two inputs whose dtypes differ. */
export class DTypeError extends VarinfError {}

/** An axis out of range, repeated, or otherwise invalid. */
export class AxisError extends VarinfError {}

/** An invalid argument value: a negative scale, an index out of range, NaN in a loss. */
export class ValueError extends VarinfError {}

/** A matrix handed to cholesky (or anything built on it) that is not positive definite. */
export class NotPositiveDefiniteError extends VarinfError {}

/** A backend that is missing, failed to load, or lacks a kernel. */
export class BackendError extends VarinfError {}

/** Formats a shape as `[2, 3]` for error messages. */
export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
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
  readonly code = 'ABORT_ERR';
  constructor(
    message: string,
    readonly partial: P,
    options?: { cause?: unknown },
  ) {
    super(message);
    if (options !== undefined && 'cause' in options) Object.defineProperty(this, 'cause', { value: options.cause, writable: true, configurable: true });
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
  constructor(
    message: string,
    readonly site: string,
  ) {
    super(message);
  }
}
