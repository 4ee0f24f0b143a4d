/**
 * The two kinds of object a VMP factor graph is made of (Winn & Bishop 2005, §3): latent
 * variables, each holding its q in an exponential family, and factors, each a conditional density
 * that sends every latent variable it touches a message in that variable's natural parameters and
 * reports its expected log value for the ELBO. Observed data live inside the factor they belong to.
 *
 * A variable's update is the VMP step: reset its natural parameters to zero, let every factor it
 * touches add its message (computed from the other variables' current expected sufficient
 * statistics), and recompute its moments. Each update maximizes the ELBO in that variable, so a
 * sweep never lowers it.
 */
import { VarinfError } from '../../core/errors.js';

/**
 * A factor graph that VMP cannot handle: a node whose parent is not conjugate to it (a Gaussian
 * precision given by a Gaussian variable), so no closed-form message exists. The message names
 * both nodes and what would be conjugate.
 */
export class NonConjugateError extends VarinfError {
  static override readonly CODE: string = 'VARINF_NON_CONJUGATE';
}

/** One factor of the graph: a conditional density over the variables it touches. */
export interface VmpFactor {
  /** The name of the node this factor defines (the variable's or the observed data's name). */
  readonly name: string;
  /** The latent variables this factor touches, the node it defines first when that is latent. */
  readonly variables: readonly VmpVariable[];
  /** Adds this factor's message to `v`'s natural-parameter accumulators. */
  sendTo(v: VmpVariable): void;
  /** E_q[log f], all constants included. */
  expectedLog(): number;
}

/** A latent variable with its q(·) in one exponential family, over a plate of `size` i.i.d. copies. */
export abstract class VmpVariable {
  /** The family, as used in messages ('gaussian', 'gamma', …). */
  abstract readonly family: string;
  /** Factors that touch this variable; the first is its prior. */
  readonly factors: VmpFactor[] = [];
  /** Increments on every update: factors key their caches on it. */
  version = 0;
  /** Whether the user supplied an initial q (the default schedule then updates it last). */
  initialized = false;

  constructor(
    /** The node's name, used in errors and results. */
    readonly name: string,
    /** Plate size: the number of i.i.d. copies held in the arrays. */
    readonly size: number,
    /** Declaration order within the graph. */
    readonly index: number,
  ) {}

  /** Sets the natural parameters to zero before the factors add their messages. */
  protected abstract clear(): void;
  /** Recomputes the moments from the accumulated natural parameters; throws when they are not proper. */
  protected abstract finish(): void;
  /** The entropy H[q], summed over the plate. */
  abstract entropy(): number;

  /** The VMP step: q ∝ exp(Σ_f message_f). With `only`, from those factors alone (initialization). */
  update(only?: readonly VmpFactor[]): void {
    this.clear();
    for (const f of only ?? this.factors) f.sendTo(this);
    this.finish();
    this.version++;
  }
}

/** A constant or a per-plate array of constants, or a latent variable of family V. */
export type Param<V extends VmpVariable> = number | ArrayLike<number> | V;

/** The name of whatever was passed as a parameter, for messages. */
export function describe(p: unknown): string {
  if (p instanceof VmpVariable) return `${p.family} variable '${p.name}'`;
  if (typeof p === 'number') return `the constant ${p}`;
  if (p !== null && typeof p === 'object' && 'length' in p) return `an array of ${(p as ArrayLike<number>).length} constants`;
  return `${typeof p} ${String(p)}`;
}
