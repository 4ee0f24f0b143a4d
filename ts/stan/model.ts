/**
 * `fromStan(code, data)`: a Stan program as a varinf model.
 *
 * Each parameter becomes a `sample` site with a flat density on its support (Stan's implicit
 * prior), so every autoguide maps it through `bijectTo` of its constraint; a parameter whose
 * bounds depend on other parameters (`real<upper=1 - a> b`) is sampled unconstrained as
 * `<name>__unconstrained` and constrained with Stan's own transform, its log-Jacobian added to
 * `target`. Transformed parameters are `deterministic` sites; the `~` and `target +=` statements of
 * the model block are accumulated into `target` and added once with `factor('target', ...)`.
 */
import { bijectTo } from '../bijectors/bijectTo.js';
import type { Tensor } from '../core/tensor.js';
import { corrCholesky, greaterThan, independentConstraint, interval, lessThan, ordered, real, simplex, type Constraint } from '../distributions/constraints.js';
import { corrMatrix, covMatrix, positiveOrdered, sumToZero, unitVector } from '../distributions/stan-constraints.js';
import { OnSupport } from '../models/posteriordb/common.js';
import { add, exp, log, mul, neg, sigmoid, softplus, sub } from '../ops/elementwise.js';
import { sum } from '../ops/reduce.js';
import { reshape, slice, stack, transpose } from '../ops/shape.js';
import { logDensity } from '../ppl/logdensity.js';
import { mulberry32 } from '../random/mulberry.js';
import { deterministic, factor, sample } from '../ppl/primitives.js';
import type { Decl, Expr, Program, Stmt } from './ast.js';
import { readData } from './data.js';
import { StanSemanticError, StanUnsupportedError, type Loc } from './errors.js';
import { Interpreter, newSlot, type Slot } from './interpreter.js';
import { parseStan } from './parser.js';
import { installRng } from './rng.js';
import { T, host, isScalar, toNum, type Ty, type V } from './values.js';

/** A variable of the program that a fit reports. */
export interface StanVariable {
  /** The variable's name as declared in the program. */
  readonly name: string;
  /** The program block that declares it. */
  readonly block: 'parameters' | 'transformed parameters' | 'generated quantities';
  /** Stan's type as declared, e.g. `vector<lower=0>[8]`. */
  readonly type: string;
  /** Full shape: array dimensions, then vector/matrix sizes. */
  readonly shape: number[];
  /** The support of a parameter (`real`, `greaterThan(0)`, `simplex`, or `stan(...)` for dependent bounds). */
  readonly constraint: string;
}

/** The compiled program. */
export interface StanModel {
  /** The model: call with no arguments (it closes over the data). Usable with fit, SVI, autoguides. */
  readonly model: () => void;
  /** The variables of the `parameters` block, in declaration order. */
  readonly parameters: StanVariable[];
  /** The variables of the `transformed parameters` block, in declaration order. */
  readonly transformedParameters: StanVariable[];
  /** The variables of the `generated quantities` block, in declaration order. */
  readonly generatedQuantities: StanVariable[];
  /** Length of Stan's unconstrained parameter vector. */
  readonly unconstrainedDim: number;
  /**
   * Stan's log density at an unconstrained point in Stan's own layout (parameters in declaration
   * order; matrices column-major): target plus the log-Jacobian of the constraining transforms.
   */
  logDensityUnconstrained(u: Tensor): Tensor;
  /** The names of the model's latent sample sites (one per parameter; dependent bounds add `__unconstrained`). */
  readonly sites: string[];
  /**
   * Transformed parameters and generated quantities for one draw of the parameters (site values
   * as the model's trace holds them), with `_rng` functions drawing from `seed`.
   */
  generate(values: Record<string, Tensor>, seed?: number): Record<string, number | Tensor>;
  /** The parsed program (its syntax tree; not a stable API yet). @internal */
  readonly program: Program;
}

/** Stan data as parsed from Stan's JSON data format. */
export type StanData = Record<string, unknown>;

interface ParamPlan {
  decl: Decl;
  ty: Ty;
  shape: number[];
  /** The site's support, or null for Stan's own transform on an unconstrained site. */
  constraint: Constraint | null;
  uncShape: number[];
  info: StanVariable;
}

/**
 * The support of a parameter declared with a base type and data-valued bounds, or null when the
 * front end applies Stan's transform itself (bounds that are vectors or depend on parameters,
 * offset/multiplier). Types whose transforms are not in varinf yet raise StanUnsupportedError;
 * this is the one place to wire them in.
 * @example constraintFor('real', 0, null, loc) // greaterThan(0)
 */
export function constraintFor(base: string, lower: number | null, upper: number | null, loc: Loc): Constraint {
  switch (base) {
    case 'real': case 'vector': case 'row_vector': case 'matrix':
      if (lower !== null && upper !== null) return interval(lower, upper);
      if (lower !== null) return greaterThan(lower);
      if (upper !== null) return lessThan(upper);
      return real;
    case 'simplex': return simplex;
    case 'ordered': return ordered;
    case 'cholesky_factor_corr': return corrCholesky;
    case 'positive_ordered': return positiveOrdered;
    case 'unit_vector': return unitVector;
    case 'sum_to_zero_vector': return sumToZero;
    case 'corr_matrix': return corrMatrix;
    case 'cov_matrix': return covMatrix;
    case 'int': throw new StanSemanticError(loc, 'parameters cannot be int');
  }
  throw new StanUnsupportedError(loc, `parameter type ${base}`);
}

function typeText(d: Decl, shape: number[]): string {
  const b = d.type.bounds;
  const bounds = Object.keys(b).length === 0 ? '' : `<${Object.keys(b).join(',')}>`;
  return `${d.type.arrayDims.length > 0 ? `array[${shape.slice(0, d.type.arrayDims.length).join(',')}] ` : ''}${d.type.base}${bounds}${d.type.sizes.length > 0 ? `[${shape.slice(d.type.arrayDims.length).join(',')}]` : ''}`;
}

function varsOf(e: Expr | undefined, out: Set<string>): Set<string> {
  if (e === undefined) return out;
  const visit = (x: Expr): void => {
    switch (x.kind) {
      case 'var': out.add(x.name); break;
      case 'call': x.args.forEach(visit); break;
      case 'binary': visit(x.left); visit(x.right); break;
      case 'unary': case 'transpose': visit(x.operand); break;
      case 'ternary': visit(x.cond); visit(x.then); visit(x.else); break;
      case 'index': visit(x.target); x.indices.forEach((i) => { if (i.kind === 'single') visit(i.expr); if (i.kind === 'slice') { if (i.lo) visit(i.lo); if (i.hi) visit(i.hi); } }); break;
      case 'array': case 'rowvec': x.elements.forEach(visit); break;
    }
  };
  visit(e);
  return out;
}

const decls = (ss: Stmt[]): Decl[] => ss.filter((s): s is Decl => s.kind === 'decl');

/**
 * Compiles a Stan program with its data into a varinf model.
 * @throws StanSyntaxError, StanSemanticError, StanUnsupportedError (line:col), StanDataError (the variable).
 * @example
 * const m = fromStan('data { int N; vector[N] y; } parameters { real mu; } model { y ~ normal(mu, 1); }', { N: 2, y: [0.1, -0.3] });
 * const res = await fit(m.model, [], { guide: 'normal', steps: 2000 });
 */
export function fromStan(code: string, data: StanData = {}): StanModel {
  const program = parseStan(code);
  const globals = new Map<string, Slot>();
  const I = new Interpreter(globals, program.functions);

  // Data: read, check shape and bounds.
  for (const d of decls(program.data)) {
    const { ty, shape } = I.declShape(d);
    const lo = d.type.bounds.lower === undefined ? null : boundNum(I, d.type.bounds.lower, d.name);
    const hi = d.type.bounds.upper === undefined ? null : boundNum(I, d.type.bounds.upper, d.name);
    const value = readData(data, d.name, shape, ty.base === 'int', lo, hi);
    checkStructured(d, value);
    globals.set(d.name, newSlot(d.name, ty, shape, 'data', value));
  }
  for (const s of program.data) if (s.kind !== 'decl') throw new StanSemanticError(s.loc, 'the data block holds declarations only');
  // Transformed data: run once; the result is data.
  I.writable.add('transformed data');
  installRng(I, mulberry32(20240229));
  for (const s of program.transformedData) {
    if (s.kind === 'decl') I.execDecl(s, 'transformed data');
    else I.exec(s);
  }
  I.writable.clear();
  I.rng = null;

  const dataNames = new Set(globals.keys());
  const plans: ParamPlan[] = [];
  for (const s of program.parameters) {
    if (s.kind !== 'decl') throw new StanSemanticError(s.loc, 'the parameters block holds declarations only');
    const { ty, shape } = I.declShape(s);
    const b = s.type.bounds;
    const depends = [...varsOf(b.lower, new Set()), ...varsOf(b.upper, new Set()), ...varsOf(b.offset, new Set()), ...varsOf(b.multiplier, new Set())].some((v) => !dataNames.has(v));
    let constraint: Constraint | null = null;
    if (!depends && b.offset === undefined && b.multiplier === undefined) {
      const lo = b.lower === undefined ? null : I.eval(b.lower);
      const hi = b.upper === undefined ? null : I.eval(b.upper);
      if ((lo === null || isScalar(lo.ty)) && (hi === null || isScalar(hi.ty))) {
        const c = constraintFor(s.type.base, lo === null ? null : toNum(lo), hi === null ? null : toNum(hi), s.type.loc);
        constraint = independentConstraint(c, shape.length - c.eventDim);
      }
    }
    if (constraint === null && !['real', 'vector', 'row_vector', 'matrix'].includes(s.type.base)) throw new StanUnsupportedError(s.type.loc, `parameter type ${s.type.base} with bounds that are not data scalars`);
    const uncShape = constraint === null ? shape : bijectTo(constraint).inverseShape(shape);
    plans.push({
      decl: s,
      ty,
      shape,
      constraint,
      uncShape,
      info: { name: s.name, block: 'parameters', type: typeText(s, shape), shape, constraint: constraint === null ? 'stan(bounds depend on parameters)' : constraint.name },
    });
    // Later declarations' sizes may not use parameters; record the name so bounds see it as non-data.
    globals.set(s.name, newSlot(s.name, ty, shape, 'parameters'));
  }
  for (const p of plans) globals.delete(p.decl.name);

  const sizeOnly = (ss: Stmt[], block: StanVariable['block']): StanVariable[] =>
    decls(ss).map((d) => {
      let shape: number[] = [];
      try {
        shape = I.declShape(d).shape;
      } catch {
        shape = [];
      }
      return { name: d.name, block, type: typeText(d, shape), shape, constraint: Object.keys(d.type.bounds).join(',') || d.type.base };
    });
  const transformedParameters = sizeOnly(program.transformedParameters, 'transformed parameters');
  const generatedQuantities = sizeOnly(program.generatedQuantities, 'generated quantities');

  /**
   * Runs the parameters and transformed parameters blocks with parameter values from `get`;
   * returns the values to record (dependent-bound parameters constrained, transformed parameters).
   */
  const runParams = (R: Interpreter, get: (p: ParamPlan) => Tensor): Record<string, Tensor> => {
    const rec: Record<string, Tensor> = {};
    for (const p of plans) {
      const d = p.decl;
      const raw = get(p);
      let x = raw;
      if (p.constraint === null) {
        const [v, ladj] = stanTransform(R, d, raw);
        x = v;
        R.addTarget({ v: ladj, ty: { base: 'real', arr: 0 }, dep: true });
        rec[d.name] = x;
      }
      R.declare(newSlot(d.name, p.ty, p.shape, 'parameters', x, true), d.loc);
    }
    R.writable.add('transformed parameters');
    const tps: Slot[] = [];
    for (const s of program.transformedParameters) {
      if (s.kind === 'decl') tps.push(R.execDecl(s, 'transformed parameters'));
      else R.exec(s);
    }
    R.writable.delete('transformed parameters');
    for (const [i, s] of decls(program.transformedParameters).entries()) {
      const v = R.read(tps[i]);
      if (!boundsHold(R, s, v)) R.addTarget({ v: -Infinity, ty: { base: 'real', arr: 0 }, dep: false });
      rec[s.name] = T(v.v);
    }
    return rec;
  };

  const siteName = (p: ParamPlan): string => (p.constraint === null ? `${p.decl.name}__unconstrained` : p.decl.name);

  /** One pass of the program at one point: its target and the values to record. */
  const runOnce = (get: (p: ParamPlan) => Tensor): { target: Tensor; rec: Record<string, Tensor> } => {
    const R = new Interpreter(globals, program.functions);
    let rec: Record<string, Tensor> = {};
    R.withScope(() => {
      rec = runParams(R, get);
      R.withScope(() => R.execAll(program.model));
    });
    return { target: T(R.target), rec };
  };

  const model = (): void => {
    const raw = plans.map((p) => sample(siteName(p), new OnSupport(p.constraint ?? independentConstraint(real, p.shape.length), null, { eventShape: p.shape })));
    // Under a particle plate (fit, SVI with several particles) the values carry leading batch
    // dimensions: run the program once per point and stack.
    const batch = raw.length === 0 ? [] : raw[0].shape.slice(0, raw[0].rank - plans[0].shape.length);
    const B = batch.reduce((a, b) => a * b, 1);
    if (batch.length === 0) {
      const { target, rec } = runOnce((p) => raw[plans.indexOf(p)]);
      for (const [k, v] of Object.entries(rec)) deterministic(k, v);
      factor('target', target);
      return;
    }
    const flat = raw.map((r, i) => reshape(r, [B, ...plans[i].shape]));
    const runs = Array.from({ length: B }, (_, b) => runOnce((p) => {
      const i = plans.indexOf(p);
      return reshape(slice(flat[i], [b, ...p.shape.map(() => 0)], [1, ...p.shape]), p.shape);
    }));
    for (const k of Object.keys(runs[0].rec)) {
      const v = stack(runs.map((r) => r.rec[k]), 0);
      deterministic(k, reshape(v, [...batch, ...v.shape.slice(1)]));
    }
    factor('target', reshape(stack(runs.map((r) => r.target), 0), batch));
  };

  const unconstrainedDim = plans.reduce((s, p) => s + p.uncShape.reduce((a, b) => a * b, 1), 0);

  const logDensityUnconstrained = (u: Tensor): Tensor => {
    if (u.size !== unconstrainedDim) throw new StanSemanticError({ line: 0, col: 0 }, `logDensityUnconstrained: expected ${unconstrainedDim} numbers, found ${u.size}`);
    const flat = reshape(u, [u.size]);
    const values: Record<string, Tensor> = {};
    let off = 0;
    let ladj: Tensor | number = 0;
    for (const p of plans) {
      const n = p.uncShape.reduce((a, b) => a * b, 1);
      let uu = slice(flat, [off], [n]);
      off += n;
      uu = stanOrder(uu, p);
      if (p.constraint === null) values[siteName(p)] = uu;
      else {
        const t = bijectTo(p.constraint);
        const x = t.forward(uu);
        ladj = add(T(ladj), sum(t.logAbsDetJacobian(uu, x)));
        values[p.decl.name] = x;
      }
    }
    return add(logDensity(model, [], values), T(ladj));
  };

  const generate = (values: Record<string, Tensor>, seed = 1): Record<string, number | Tensor> => {
    const R = new Interpreter(globals, program.functions);
    const out: Record<string, number | Tensor> = {};
    R.withScope(() => {
      const rec = runParams(R, (p) => {
        const v = values[siteName(p)];
        if (v === undefined) throw new StanSemanticError(p.decl.loc, `generate: no value for parameter site '${siteName(p)}'`);
        return v;
      });
      Object.assign(out, rec);
      installRng(R, mulberry32(seed));
      R.writable.add('generated quantities');
      for (const s of program.generatedQuantities) {
        if (s.kind === 'decl') R.execDecl(s, 'generated quantities');
        else R.exec(s);
      }
      for (const d of decls(program.generatedQuantities)) out[d.name] = R.read(R.lookup(d.name, d.loc)).v;
    });
    return out;
  };

  return {
    model,
    parameters: plans.map((p) => p.info),
    transformedParameters,
    generatedQuantities,
    unconstrainedDim,
    logDensityUnconstrained,
    sites: plans.map(siteName),
    generate,
    program,
  };
}

function boundNum(I: Interpreter, e: Expr, name: string): number {
  const v = I.eval(e);
  if (!isScalar(v.ty)) throw new StanUnsupportedError(e.loc, `non-scalar bounds on data variable '${name}'`);
  return toNum(v);
}

/** Simplex and other structured data types are checked loosely (bounds are checked by readData). */
function checkStructured(d: Decl, value: number | Tensor): void {
  if (d.type.base === 'simplex' && typeof value !== 'number') {
    const h = host(value);
    const k = value.shape[value.shape.length - 1];
    for (let i = 0; i < h.length; i += k) {
      let s = 0;
      for (let j = 0; j < k; j++) s += h[i + j];
      if (Math.abs(s - 1) > 1e-8) throw new StanSemanticError(d.loc, `data '${d.name}' must be a simplex; a row sums to ${s}`);
    }
  }
}

/** Stan's transforms for scalar-wise bounds and offset/multiplier, with the log-Jacobian summed. */
function stanTransform(R: Interpreter, d: Decl, u: Tensor): [Tensor, Tensor] {
  const b = d.type.bounds;
  const ev = (e: Expr | undefined): Tensor | null => (e === undefined ? null : T(R.eval(e).v));
  if (b.offset !== undefined || b.multiplier !== undefined) {
    const o = ev(b.offset) ?? T(0);
    const m = ev(b.multiplier) ?? T(1);
    const x = add(o, mul(m, u));
    return [x, sum(mul(log(m), mul(u, 0).size === 0 ? 0 : add(mul(u, 0), 1)))];
  }
  const lo = ev(b.lower);
  const hi = ev(b.upper);
  if (lo !== null && hi !== null) {
    const w = sub(hi, lo);
    const x = add(lo, mul(w, sigmoid(u)));
    return [x, sum(sub(add(log(w), mul(u, 0)), add(softplus(u), softplus(neg(u)))))];
  }
  if (lo !== null) return [add(lo, exp(u)), sum(u)];
  if (hi !== null) return [sub(hi, exp(u)), sum(u)];
  return [u, sum(mul(u, 0))];
}

/** Reorders a parameter's slice of Stan's unconstrained vector into varinf's row-major layout. */
function stanOrder(u: Tensor, p: ParamPlan): Tensor {
  if (p.ty.base === 'matrix' && (p.constraint === null || p.constraint.eventDim === 0 || p.constraint.name.startsWith('independent'))) {
    if (p.decl.type.base !== 'matrix') return reshape(u, p.uncShape);
    const lead = p.shape.slice(0, -2);
    const [r, c] = p.shape.slice(-2);
    const cm = reshape(u, [...lead, c, r]);
    const perm = [...lead.map((_, i) => i), lead.length + 1, lead.length];
    return transpose(cm, perm);
  }
  return reshape(u, p.uncShape);
}

/** Whether a transformed parameter's value satisfies its declared scalar bounds. */
function boundsHold(R: Interpreter, d: Decl, v: V): boolean {
  const b = d.type.bounds;
  if (b.lower === undefined && b.upper === undefined) return true;
  const xs = typeof v.v === 'number' ? [v.v] : Array.from(host(v.v));
  const lo = b.lower === undefined ? null : R.eval(b.lower);
  const hi = b.upper === undefined ? null : R.eval(b.upper);
  const at = (w: V | null, i: number): number | null => (w === null ? null : typeof w.v === 'number' ? w.v : host(w.v)[i % w.v.size]);
  return xs.every((x, i) => {
    const l = at(lo, i);
    const h = at(hi, i);
    return (l === null || x >= l) && (h === null || x <= h);
  });
}
