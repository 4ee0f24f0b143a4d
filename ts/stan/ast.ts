/**
 * The typed syntax tree of a Stan program. Every node carries its source position so that the
 * type checker, the data checker and the model builder can name the line and column of a problem.
 */
import type { Loc } from './errors.js';

// ---- expressions ----
export type Expr =
  | { kind: 'int'; value: number; loc: Loc }
  | { kind: 'real'; value: number; loc: Loc }
  | { kind: 'string'; value: string; loc: Loc }
  | { kind: 'var'; name: string; loc: Loc }
  | { kind: 'call'; name: string; args: Expr[]; conditional: boolean; loc: Loc }
  | { kind: 'binary'; op: string; left: Expr; right: Expr; loc: Loc }
  | { kind: 'unary'; op: string; operand: Expr; loc: Loc }
  | { kind: 'ternary'; cond: Expr; then: Expr; else: Expr; loc: Loc }
  | { kind: 'index'; target: Expr; indices: Index[]; loc: Loc }
  | { kind: 'transpose'; operand: Expr; loc: Loc }
  | { kind: 'array'; elements: Expr[]; loc: Loc }
  | { kind: 'rowvec'; elements: Expr[]; loc: Loc };

/** One index: a single position, a slice `lo:hi` (either side optional), or `:`/empty (all). */
export type Index = { kind: 'single'; expr: Expr } | { kind: 'slice'; lo: Expr | null; hi: Expr | null } | { kind: 'all' };

// ---- types ----
/** Base types of declarations; `array` dims are held separately. */
export type BaseType =
  | 'int' | 'real' | 'complex' | 'vector' | 'row_vector' | 'matrix'
  | 'simplex' | 'unit_vector' | 'sum_to_zero_vector' | 'ordered' | 'positive_ordered'
  | 'cholesky_factor_corr' | 'cholesky_factor_cov' | 'corr_matrix' | 'cov_matrix'
  | 'complex_vector' | 'complex_row_vector' | 'complex_matrix';

/** `<lower=…, upper=…>` or `<offset=…, multiplier=…>`. */
export interface Bounds {
  lower?: Expr;
  upper?: Expr;
  offset?: Expr;
  multiplier?: Expr;
}

/** A sized type as in a block declaration: `array[N] vector<lower=0>[K]`. */
export interface SizedType {
  base: BaseType;
  /** Sizes of the base type (`[K]`, `[M, N]`), empty for scalars. */
  sizes: Expr[];
  /** Array dimensions, outermost first. */
  arrayDims: Expr[];
  bounds: Bounds;
  loc: Loc;
}

/** An unsized type of a function argument or return: `array[,] real`, `vector`, `data real`. */
export interface UnsizedType {
  base: BaseType | 'void';
  arrayRank: number;
  dataOnly: boolean;
  loc: Loc;
}

// ---- statements ----
export interface Decl {
  kind: 'decl';
  type: SizedType;
  name: string;
  init: Expr | null;
  loc: Loc;
}

export interface LValue {
  name: string;
  /** Successive index groups: `x[i][j, k]` has two. */
  indices: Index[][];
  loc: Loc;
}

export type Stmt =
  | Decl
  | { kind: 'assign'; lhs: LValue; op: string; rhs: Expr; loc: Loc }
  | { kind: 'tilde'; lhs: Expr; dist: string; distLoc: Loc; args: Expr[]; truncation: { lo: Expr | null; hi: Expr | null } | null; loc: Loc }
  | { kind: 'target'; expr: Expr; loc: Loc }
  | { kind: 'for'; var: string; lo: Expr; hi: Expr; body: Stmt; loc: Loc }
  | { kind: 'foreach'; var: string; iter: Expr; body: Stmt; loc: Loc }
  | { kind: 'while'; cond: Expr; body: Stmt; loc: Loc }
  | { kind: 'if'; cond: Expr; then: Stmt; else: Stmt | null; loc: Loc }
  | { kind: 'block'; body: Stmt[]; loc: Loc }
  | { kind: 'print'; args: Expr[]; loc: Loc }
  | { kind: 'reject'; args: Expr[]; fatal: boolean; loc: Loc }
  | { kind: 'return'; expr: Expr | null; loc: Loc }
  | { kind: 'break'; loc: Loc }
  | { kind: 'continue'; loc: Loc }
  | { kind: 'callstmt'; name: string; args: Expr[]; loc: Loc }
  | { kind: 'profile'; name: string; body: Stmt[]; loc: Loc }
  | { kind: 'empty'; loc: Loc };

export interface FunArg {
  type: UnsizedType;
  name: string;
}

export interface FunDef {
  returnType: UnsizedType;
  name: string;
  args: FunArg[];
  /** null for a forward declaration. */
  body: Stmt | null;
  loc: Loc;
}

/** The program's blocks; each is null when absent. */
export interface Program {
  functions: FunDef[];
  data: Stmt[];
  transformedData: Stmt[];
  parameters: Stmt[];
  transformedParameters: Stmt[];
  model: Stmt[];
  generatedQuantities: Stmt[];
}
