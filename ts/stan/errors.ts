/**
 * Errors of the Stan front end. Each names a source position (`line:col`) or a variable, what was
 * expected, and what was found, so a Stan user can fix the program or the data without reading
 * varinf's source.
 */
import { VarinfError } from '../core/errors.js';

/** A position in a Stan program: 1-based line and column. */
export interface Loc {
  readonly line: number;
  readonly col: number;
}

/** `12:5`. */
export function fmtLoc(loc: Loc): string {
  return `${loc.line}:${loc.col}`;
}

/** A program that does not lex or parse: the position, what the grammar expected, the text found. */
export class StanSyntaxError extends VarinfError {
  constructor(
    readonly loc: Loc,
    readonly expected: string,
    readonly found: string,
  ) {
    super(`Stan syntax error at ${fmtLoc(loc)}: expected ${expected}, found ${found}`);
  }
}

/** A well-formed program that is wrong: an undeclared variable, a bad argument type, assignment to data. */
export class StanSemanticError extends VarinfError {
  constructor(
    readonly loc: Loc,
    message: string,
  ) {
    super(`Stan error at ${fmtLoc(loc)}: ${message}`);
  }
}

/** A language feature, type, function or distribution the front end does not implement yet. */
export class StanUnsupportedError extends VarinfError {
  constructor(
    readonly loc: Loc,
    readonly what: string,
  ) {
    super(`Stan: not supported yet: ${what} (${fmtLoc(loc)})`);
  }
}

/** Data that do not match the data block: a missing variable, a wrong shape, a value outside its constraint. */
export class StanDataError extends VarinfError {
  constructor(
    readonly variable: string,
    readonly expected: string,
    readonly found: string,
  ) {
    super(`Stan data: variable '${variable}': expected ${expected}, found ${found}`);
  }
}

/** A `reject(...)`/`fatal_error(...)` statement reached while running the program, or a runtime failure at a position. */
export class StanRuntimeError extends VarinfError {
  constructor(
    readonly loc: Loc,
    message: string,
  ) {
    super(`Stan runtime error at ${fmtLoc(loc)}: ${message}`);
  }
}
