/**
 * Stan's operators on interpreter values: arithmetic with Stan's matrix semantics (`*` is a matrix
 * product between vectors and matrices, `.*` elementwise), integer arithmetic on ints, comparisons
 * and logical operators (ints 0/1). Data-only scalars are computed on JS numbers.
 */
import type { Tensor } from '../core/tensor.js';
import { add, div, equal, greater, greaterEqual, less, lessEqual, mul, neg, notEqual, pow, sub } from '../ops/elementwise.js';
import { matmul } from '../ops/linalg.js';
import { sum } from '../ops/reduce.js';
import { reshape, transpose } from '../ops/shape.js';
import { StanSemanticError, type Loc } from './errors.js';
import { INT, MAT, NotVectorizable, REAL, ROWVEC, VEC, T, fmtTy, isScalar, toNum, type Ty, type V } from './values.js';

const realOf = (t: Ty): Ty => (t.base === 'int' ? { base: 'real', arr: t.arr } : t);

function bad(op: string, a: V, b: V, loc: Loc): never {
  throw new StanSemanticError(loc, `operator ${op} does not take (${fmtTy(a.ty)}, ${fmtTy(b.ty)})`);
}

function jsBinary(op: string, x: number, y: number, ints: boolean, loc: Loc): number {
  switch (op) {
    case '+': return x + y;
    case '-': return x - y;
    case '*': case '.*': return x * y;
    case '/': case './':
      if (ints) {
        if (y === 0) throw new StanSemanticError(loc, 'integer division by zero');
        return Math.trunc(x / y);
      }
      return x / y;
    case '%/%':
      if (y === 0) throw new StanSemanticError(loc, 'integer division by zero');
      return Math.trunc(x / y);
    case '%': return x % y;
    case '^': case '.^': return Math.pow(x, y);
    case '==': return x === y ? 1 : 0;
    case '!=': return x !== y ? 1 : 0;
    case '<': return x < y ? 1 : 0;
    case '<=': return x <= y ? 1 : 0;
    case '>': return x > y ? 1 : 0;
    case '>=': return x >= y ? 1 : 0;
    case '&&': return x !== 0 && y !== 0 ? 1 : 0;
    case '||': return x !== 0 || y !== 0 ? 1 : 0;
  }
  throw new StanSemanticError(loc, `unknown operator ${op}`);
}

const CMP: Record<string, (a: Tensor, b: Tensor) => Tensor> = { '==': equal, '!=': notEqual, '<': less, '<=': lessEqual, '>': greater, '>=': greaterEqual };

/** `a op b` with Stan's typing rules. */
export function binary(op: string, a: V, b: V, loc: Loc): V {
  if (a.b === true || b.b === true) return batchedBinary(op, a, b);
  const dep = a.dep || b.dep;
  const sa = isScalar(a.ty);
  const sb = isScalar(b.ty);
  if (sa && sb) {
    const ints = a.ty.base === 'int' && b.ty.base === 'int';
    if (op in CMP || op === '&&' || op === '||') return { v: jsBinary(op, toNum(a), toNum(b), false, loc), ty: INT, dep: false };
    if ((op === '%' || op === '%/%') && !ints) bad(op, a, b, loc);
    const ty = ints && op !== '^' && op !== '.^' ? INT : REAL;
    if (typeof a.v === 'number' && typeof b.v === 'number') return { v: jsBinary(op, a.v, b.v, ints, loc), ty, dep };
    return { v: tensorOp(op, T(a.v), T(b.v), loc), ty, dep };
  }
  if (op in CMP || op === '&&' || op === '||' || op === '%' || op === '%/%') bad(op, a, b, loc);
  const x = T(a.v);
  const y = T(b.v);
  switch (op) {
    case '+':
    case '-':
      if (sa) return { v: tensorOp(op, x, y, loc), ty: realOf(b.ty), dep };
      if (sb || sameTy(a.ty, b.ty)) return { v: tensorOp(op, x, y, loc), ty: realOf(a.ty), dep };
      return bad(op, a, b, loc);
    case '.*':
    case './':
    case '.^':
      if (sa) return { v: tensorOp(op, x, y, loc), ty: realOf(b.ty), dep };
      if (sb || sameTy(a.ty, b.ty)) return { v: tensorOp(op, x, y, loc), ty: realOf(a.ty), dep };
      return bad(op, a, b, loc);
    case '/':
      if (sb) return { v: div(x, y), ty: realOf(a.ty), dep };
      if (sa && b.ty.arr === 0) return { v: div(x, y), ty: realOf(b.ty), dep };
      if (a.ty.arr === 0 && b.ty.base === 'matrix' && b.ty.arr === 0 && a.ty.base !== 'vector')
        throw new StanSemanticError(loc, 'not supported yet: matrix right division (B / A)');
      return bad(op, a, b, loc);
    case '*':
      if (sa || sb) {
        if ((sa ? b : a).ty.arr > 0) return bad(op, a, b, loc);
        return { v: mul(x, y), ty: realOf(sa ? b.ty : a.ty), dep };
      }
      if (a.ty.arr > 0 || b.ty.arr > 0) return bad(op, a, b, loc);
      return matProduct(a.ty.base, b.ty.base, x, y, dep, op, a, b, loc);
    case '^':
      return bad(op, a, b, loc);
    case '\\':
      throw new StanSemanticError(loc, 'not supported yet: matrix left division (A \\ b); use mdivide_left_tri_low or a Cholesky factor');
  }
  return bad(op, a, b, loc);
}

function sameTy(a: Ty, b: Ty): boolean {
  const ba = a.base === 'int' ? 'real' : a.base;
  const bb = b.base === 'int' ? 'real' : b.base;
  return ba === bb && a.arr === b.arr;
}

function matProduct(ba: string, bb: string, x: Tensor, y: Tensor, dep: boolean, op: string, a: V, b: V, loc: Loc): V {
  if (ba === 'row_vector' && bb === 'vector') return { v: sum(mul(x, y)), ty: REAL, dep };
  if (ba === 'vector' && bb === 'row_vector') return { v: mul(reshape(x, [x.shape[0], 1]), reshape(y, [1, y.shape[0]])), ty: MAT, dep };
  if (ba === 'matrix' && bb === 'vector') return { v: reshape(matmul(x, reshape(y, [y.shape[0], 1])), [x.shape[0]]), ty: VEC, dep };
  if (ba === 'row_vector' && bb === 'matrix') return { v: reshape(matmul(reshape(x, [1, x.shape[0]]), y), [y.shape[1]]), ty: ROWVEC, dep };
  if (ba === 'matrix' && bb === 'matrix') return { v: matmul(x, y), ty: MAT, dep };
  return bad(op, a, b, loc);
}

function tensorOp(op: string, x: Tensor, y: Tensor, loc: Loc): Tensor {
  switch (op) {
    case '+': return add(x, y);
    case '-': return sub(x, y);
    case '*': case '.*': return mul(x, y);
    case '/': case './': return div(x, y);
    case '^': case '.^': return pow(x, y);
  }
  throw new StanSemanticError(loc, `operator ${op} on tensors`);
}

/** An elementwise operator on per-iteration scalars of a vectorized loop. */
function batchedBinary(op: string, a: V, b: V): V {
  if (!isScalar(a.ty) || !isScalar(b.ty) || !['+', '-', '*', '/', '^', '.*', './', '.^'].includes(op)) throw new NotVectorizable(`operator ${op}`);
  const ints = a.ty.base === 'int' && b.ty.base === 'int';
  if (ints && (op === '/' || op === './')) throw new NotVectorizable('integer division');
  const ty = ints && op !== '^' && op !== '.^' ? INT : REAL;
  return { v: tensorOp(op, T(a.v), T(b.v), { line: 0, col: 0 }), ty, dep: a.dep || b.dep, b: true };
}

/** `-a`, `!a`. */
export function unary(op: string, a: V, loc: Loc): V {
  if (op === '-') return { v: typeof a.v === 'number' ? -a.v : neg(a.v), ty: a.ty, dep: a.dep, b: a.b };
  if (op === '!') {
    if (!isScalar(a.ty)) throw new StanSemanticError(loc, `operator ! takes an int or real, found ${fmtTy(a.ty)}`);
    return { v: toNum(a) === 0 ? 1 : 0, ty: INT, dep: false };
  }
  throw new StanSemanticError(loc, `unknown operator ${op}`);
}

/** `a'`: vector ↔ row_vector, matrix transposed. */
export function transposeV(a: V, loc: Loc): V {
  if (a.b === true) throw new NotVectorizable('transpose');
  if (a.ty.arr > 0 || isScalar(a.ty)) throw new StanSemanticError(loc, `transpose (') takes a vector, row_vector or matrix, found ${fmtTy(a.ty)}`);
  if (a.ty.base === 'matrix') return { v: transpose(T(a.v)), ty: MAT, dep: a.dep };
  return { v: a.v, ty: a.ty.base === 'vector' ? ROWVEC : VEC, dep: a.dep };
}
