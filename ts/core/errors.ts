/*
 * Errors raised by varinf. Every message names the op (or distribution), the argument and the
 * offending shapes or values, so a user can find the bad call without a debugger.
 */

/**
 * The base of every error varinf raises; `name` is the subclass's name. Catch it to handle any
 * varinf error, or a subclass for one kind.
 * @example
 * try { reshape(x, [7]); } catch (e) { if (e instanceof ShapeError) console.error(e.message); }
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
