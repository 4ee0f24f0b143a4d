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

/**
 * Shapes that do not fit: broadcasting, matmul inner dimensions, reshape sizes.
 * @example add(zeros([2, 3]), zeros([4])) // throws ShapeError: the shapes do not broadcast
 */
export class ShapeError extends VarinfError {}

/**
 * A dtype the op does not accept, or two inputs whose dtypes differ.
 * @example add(tensor([1], [1], 'int32'), tensor([1])) // throws DTypeError: int32 and float64
 */
export class DTypeError extends VarinfError {}

/**
 * An axis out of range, repeated, or otherwise invalid.
 * @example sum(zeros([2, 3]), 5) // throws AxisError: axis 5 of a rank-2 tensor
 */
export class AxisError extends VarinfError {}

/**
 * An invalid argument value: a negative scale, an index out of range, NaN in a loss.
 * @example new Normal(0, -1) // throws ValueError: scale must be positive
 */
export class ValueError extends VarinfError {}

/**
 * A matrix handed to cholesky (or anything built on it) that is not positive definite.
 * @example cholesky(tensor([[1, 2], [2, 1]])) // throws NotPositiveDefiniteError
 */
export class NotPositiveDefiniteError extends VarinfError {}

/**
 * A backend that is missing, failed to load, or lacks a kernel.
 * @example setBackend('cuda') // throws BackendError where the CUDA addon did not load, saying why
 */
export class BackendError extends VarinfError {}

/** Formats a shape as `[2, 3]` for error messages. */
export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}
