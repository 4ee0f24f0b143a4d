/** Errors of the distributed layer. */
import { VarinfError } from '../core/errors.js';

/**
 * A distributed job that cannot go on: a communicator used after `close`, ranks that disagree
 * (on parameter names or shapes, on the model), or a step that failed on some rank (the message
 * names the rank and its error; every rank raises the same error, none hangs).
 * @example
 * try { dp.update(state, batch); } catch (e) { if (e instanceof DistributedError) console.error(e.message); }
 */
export class DistributedError extends VarinfError {
  static override readonly CODE: string = 'VARINF_DISTRIBUTED';
}
