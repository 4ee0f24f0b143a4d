/**
 * Errors of the Stan front end. Each names a source position (`line:col`) or a variable, what was
 * expected, and what was found, so a Stan user can fix the program or the data without reading
 * varinf's source.
 */
import { VarinfError } from '../core/errors.js';

/** A position in a Stan program: 1-based line and column. */
export interface Loc {
  /** 1-based line number. */
  readonly line: number;
  /** 1-based column number. */
  readonly col: number;
}

/**
 * A position as `line:col`.
 * @example fmtLoc({ line: 12, col: 5 }) // '12:5'
 */
export function fmtLoc(loc: Loc): string {
  return `${loc.line}:${loc.col}`;
}

/**
 * A program that does not lex or parse: the position, what the grammar expected, the text found.
 * @example parseStan('model { y ~ normal(0, 1; }') // throws: Stan syntax error at 1:24: expected ',' or ')' …, found ';'
 */
export class StanSyntaxError extends VarinfError {
  constructor(
    /** Where in the program the lexer or parser failed. */
    readonly loc: Loc,
    /** What the grammar expected at that position. */
    readonly expected: string,
    /** The text actually found there. */
    readonly found: string,
  ) {
    super(`Stan syntax error at ${fmtLoc(loc)}: expected ${expected}, found ${found}`);
  }
}

/**
 * A well-formed program that is wrong: an undeclared variable, a bad argument type, assignment to data.
 * @example new StanSemanticError({ line: 3, col: 15 }, "variable 'nu' is not declared")
 */
export class StanSemanticError extends VarinfError {
  constructor(
    /** Where in the program the error is. */
    readonly loc: Loc,
    message: string,
  ) {
    super(`Stan error at ${fmtLoc(loc)}: ${message}`);
  }
}

/**
 * A language feature, type, function or distribution the front end does not implement yet.
 * @example new StanUnsupportedError({ line: 2, col: 3 }, 'parameter type positive_ordered') // "Stan: not supported yet: parameter type positive_ordered (2:3)"
 */
export class StanUnsupportedError extends VarinfError {
  constructor(
    /** Where in the program the unsupported feature is used. */
    readonly loc: Loc,
    /** The feature, type, function or distribution that is not supported. */
    readonly what: string,
  ) {
    super(`Stan: not supported yet: ${what} (${fmtLoc(loc)})`);
  }
}

/**
 * Data that do not match the data block: a missing variable, a wrong shape, a value outside its constraint.
 * @example new StanDataError('y[2]', 'a value >= 0', '-1')
 */
export class StanDataError extends VarinfError {
  constructor(
    /** The data variable (or element, e.g. `y[2]`) that is wrong. */
    readonly variable: string,
    /** What the data block declares for it. */
    readonly expected: string,
    /** What the data held instead. */
    readonly found: string,
  ) {
    super(`Stan data: variable '${variable}': expected ${expected}, found ${found}`);
  }
}

/**
 * A `reject(...)`/`fatal_error(...)` statement reached while running the program, or a runtime failure at a position.
 * @example new StanRuntimeError({ line: 9, col: 5 }, 'reject: sigma must be positive')
 */
export class StanRuntimeError extends VarinfError {
  constructor(
    /** The position of the statement that failed or rejected. */
    readonly loc: Loc,
    message: string,
  ) {
    super(`Stan runtime error at ${fmtLoc(loc)}: ${message}`);
  }
}
