/** The error `compile` raises for functions it cannot trace or replay faithfully. */
import { VarinfError } from '../core/errors.js';

/**
 * A function cannot be compiled: it reads a traced value on the host (data-dependent control
 * flow), is not a pure function of its inputs, or uses something tracing cannot capture. The
 * message names the op or the argument. Run the function uncompiled, or restructure it.
 * @example compile((x: Tensor) => (x.item() > 0 ? x : neg(x)))(tensor([1])) // throws CompileError naming item()
 */
export class CompileError extends VarinfError {
  static override readonly CODE: string = 'VARINF_COMPILE';
}
