/**
 * Code generation for the cpu device: a graph becomes one JavaScript function (`new Function`,
 * which V8 compiles) over typed arrays allocated once.
 *
 * - Elementwise kernels (unary, binary, compare, where, clamp, cast, broadcastTo, igamma) become
 *   loops; consecutive ones over the same element count fuse into one loop whose intermediates are
 *   locals, stored to an array only when something outside the loop reads them. Full reductions
 *   (sum, prod, max, min over every axis) of a loop value fuse into that loop as accumulators.
 * - Data movement (slice, pad, concat, transpose, diagonal, diagEmbed, tril, gather) joins those
 *   loops as index maps read off the js kernels (ts/compile/lower.ts): element i loads its source
 *   at a precomputed index, a contiguous range, or the traced gather index.
 * - One-element values live in JavaScript locals (no array) unless a kernel call or an output
 *   needs them in memory.
 * - matmul, triangularSolve, cholesky and scatterAdd run as closures specialized to their shapes
 *   (ts/compile/lower.ts) below `largeThreshold`, matrix-vector products included.
 * - Other kernels run as calls into the js kernels over preallocated views, or into the backend
 *   (the Rust addon through the cpu backend's `run`) when their work reaches `largeThreshold`
 *   elements (see `workOf`; for a matmul, multiply-adds). Arithmetic and data movement stay in
 *   generated code up to 16 times that size (`CHEAP_FACTOR`): fused loops beat one backend call
 *   per kernel there, while transcendental functions are faster in the backend's kernels.
 * - On a backend that runs fused loops (the cpu backend), a loop of at least NATIVE_LOOP_MIN
 *   elements whose values are float64, float32 or 0/1 int32 becomes one native call instead
 *   (ts/compile/native-loop.ts): vectorized transcendentals, both cores, memory touched once.
 * - Buffers are assigned from a liveness analysis over the statement order: a buffer is reused as
 *   soon as its last reader has run, so a replay allocates nothing.
 *
 * Generated code and specialized closures equal the js backend bit for bit (native loops give the
 * backend's results, as backend calls do): they keep the js
 * kernels' order of operations, round float32 intermediates with Math.fround and wrap int32 ones
 * exactly where the eager kernels store them. Backend calls give the backend's results.
 */
import { allocArray, type DType, type TypedArray } from '../core/dtype.js';
import { broadcastStrides, stridesOf } from '../core/shape.js';
import type { Backend, CpuView } from '../backends/backend.js';
import { REDUCERS as REDUCE_TABLE, type Reducer } from '../backends/js/reduce.js';
import { JS_KERNELS } from '../backends/js/index.js';

/** The js reducers, looked up by kernel name. */
const REDUCERS: Partial<Record<string, Reducer>> = REDUCE_TABLE;
import { reductionPlan } from '../backends/js/reduce.js';
import { digamma, erf, erfinv, lgamma, trigamma } from '../backends/js/special.js';
import { gammaSampleGrad, igamma } from '../backends/js/igamma.js';
import { BINARY_OPS, COMPARE_OPS, UNARY_OPS, type KernelAttrs, type KernelName } from '../kernels/spec.js';
import { CompileError } from './errors.js';
import type { Graph, Node, Value } from './graph.js';
import { checkIndices, dynGather, moveMap, specialKernel, type DynGather, type MoveMap } from './lower.js';
import { deriveKeys, fillBits, fillNormal, fillUniform } from './rand.js';
import { NATIVE_LOOP_MIN, NATIVE_LOOP_WORK, nativeLoop, type NativeLoop } from './native-loop.js';
import { splitRun } from './split.js';

/** A compiled graph, ready to replay. */
export interface Plan<S = TypedArray> {
  /**
   * Runs the graph: `inputs` are the tensor leaves' storage in order (typed arrays on the cpu
   * device), `keyWords` the input keys' words (two per key), `outputs` storage of the output
   * shapes (written, never read; a device plan also takes host typed arrays there, see
   * ts/compile/device-plan.ts).
   */
  run(inputs: readonly S[], keyWords: Uint32Array, outputs: readonly (S | TypedArray)[]): void;
  /** Shape and dtype of every output value. */
  readonly outputs: readonly {
    /** The output's shape. */
    readonly shape: readonly number[];
    /** The output's dtype. */
    readonly dtype: DType;
  }[];
  /** Words of every key slot after the last run (two per slot). */
  readonly keySlots: Uint32Array;
  /** The generated source, for inspection. */
  readonly source: string;
  /** What the passes produced: kernels, fused loops, calls and buffer bytes. */
  readonly stats: PlanStats;
}

/** Statistics of a compiled graph, from {@link CompiledFunction.stats} or `lower(...).plan.stats`. */
export interface PlanStats {
  /** Kernels after the graph passes. */
  nodes: number;
  /** Fused loops, and the kernels they hold. */
  loops: number;
  /** Kernels held by the fused loops. */
  fusedKernels: number;
  /** Kernel calls (js or backend). */
  calls: number;
  /** Calls into a backend's kernels (the rest run as generated js). */
  backendCalls: number;
  /** Scratch buffers and their bytes after reuse, and what one buffer per value would take. */
  buffers: number;
  /** Bytes of the scratch buffers after reuse. */
  bufferBytes: number;
  /** Bytes one buffer per value would take. */
  naiveBytes: number;
  /** Graph replay on a device (compile's `graphs` option): 'recorded: …', 'pending: …' or 'off: why'. */
  graph?: string;
}

export interface CodegenOptions {
  /** Outputs of at least this many elements run on `backend` (when it has the kernel). */
  largeThreshold: number;
  /** The cpu-device backend for large kernels. */
  backend: Backend;
}

const UNARY = new Set<string>(UNARY_OPS);
const BINARY = new Set<string>(BINARY_OPS);
const COMPARE = new Set<string>(COMPARE_OPS);
const OTHER_EW = new Set<string>(['where', 'clamp', 'cast', 'broadcastTo', 'igamma', 'gammaSampleGrad']);
const FUSED_REDUCE = new Set<string>(['sum', 'prod', 'max', 'min']);

/** Elementwise kernels the native loops run (ts/compile/native-loop.ts), so they fuse at any size. */
const NATIVE_EW = new Set<string>([...UNARY_OPS, ...BINARY_OPS, ...COMPARE_OPS, 'where', 'clamp', 'cast', 'broadcastTo']);

function isElementwise(op: string): boolean {
  return UNARY.has(op) || BINARY.has(op) || COMPARE.has(op) || OTHER_EW.has(op);
}

/** A reduction over nothing (every reduced axis has length 1): each output is its one input. */
function isIdentityReduce(n: Node, g: Graph): boolean {
  return REDUCE_NAMES.has(n.op) && g.values[n.ins[0]].size === g.values[n.outs[0]].size;
}

const REDUCE_NAMES = new Set<string>(['sum', 'prod', 'max', 'min', 'logsumexp']);

/** Kernels emitted as elementwise code. */
function isInline(n: Node, g: Graph): boolean {
  return isElementwise(n.op) || isIdentityReduce(n, g);
}

/** A JavaScript literal for a number, parenthesized when negative. */
function lit(v: number): string {
  if (v !== v) return 'NaN';
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '(-Infinity)';
  if (Object.is(v, -0)) return '(-0)';
  return v < 0 ? `(${v})` : String(v);
}

const F = {
  erf,
  erfinv,
  lgamma,
  digamma,
  trigamma,
  igamma,
  gammaSampleGrad,
  idiv: (a: number, b: number): number => (b === 0 ? 0 : Math.trunc(a / b)),
  checkIndices,
  // The js kernel's formula, with exp(x) computed once on the negative branch (same bits).
  sigmoid: (x: number): number => {
    if (x >= 0) return 1 / (1 + Math.exp(-x));
    const e = Math.exp(x);
    return e / (1 + e);
  },
  toInt32: (v: number): number => (v !== v ? 0 : v >= 2147483647 ? 2147483647 : v <= -2147483648 ? -2147483648 : Math.trunc(v)),
};

const UNARY_EXPR: Record<string, (a: string) => string> = {
  neg: (a) => `(-${a})`,
  abs: (a) => `Math.abs(${a})`,
  sign: (a) => `(${a} > 0 ? 1 : ${a} < 0 ? -1 : ${a})`,
  reciprocal: (a) => `(1 / ${a})`,
  square: (a) => `(${a} * ${a})`,
  sqrt: (a) => `Math.sqrt(${a})`,
  rsqrt: (a) => `(1 / Math.sqrt(${a}))`,
  exp: (a) => `Math.exp(${a})`,
  expm1: (a) => `Math.expm1(${a})`,
  log: (a) => `Math.log(${a})`,
  log1p: (a) => `Math.log1p(${a})`,
  sin: (a) => `Math.sin(${a})`,
  cos: (a) => `Math.cos(${a})`,
  tanh: (a) => `Math.tanh(${a})`,
  sigmoid: (a) => `F.sigmoid(${a})`,
  softplus: (a) => `(Math.max(${a}, 0) + Math.log1p(Math.exp(-Math.abs(${a}))))`,
  relu: (a) => `(${a} > 0 ? ${a} : 0)`,
  floor: (a) => `Math.floor(${a})`,
  ceil: (a) => `Math.ceil(${a})`,
  erf: (a) => `F.erf(${a})`,
  erfinv: (a) => `F.erfinv(${a})`,
  lgamma: (a) => `F.lgamma(${a})`,
  digamma: (a) => `F.digamma(${a})`,
  trigamma: (a) => `F.trigamma(${a})`,
};

const BINARY_EXPR: Record<string, (a: string, b: string) => string> = {
  add: (a, b) => `(${a} + ${b})`,
  sub: (a, b) => `(${a} - ${b})`,
  mul: (a, b) => `(${a} * ${b})`,
  div: (a, b) => `(${a} / ${b})`,
  pow: (a, b) => `Math.pow(${a}, ${b})`,
  maximum: (a, b) => `(${a} > ${b} || ${a} !== ${a} ? ${a} : ${b})`,
  minimum: (a, b) => `(${a} < ${b} || ${a} !== ${a} ? ${a} : ${b})`,
  equal: (a, b) => `(${a} === ${b} ? 1 : 0)`,
  notEqual: (a, b) => `(${a} !== ${b} ? 1 : 0)`,
  less: (a, b) => `(${a} < ${b} ? 1 : 0)`,
  lessEqual: (a, b) => `(${a} <= ${b} ? 1 : 0)`,
  greater: (a, b) => `(${a} > ${b} ? 1 : 0)`,
  greaterEqual: (a, b) => `(${a} >= ${b} ? 1 : 0)`,
  igamma: (a, b) => `F.igamma(${a}, ${b})`,
  gammaSampleGrad: (a, b) => `F.gammaSampleGrad(${a}, ${b})`,
};

/** The expression of an elementwise node over argument expressions (identifiers or literals). */
function ewExpr(n: Node, out: Value, ins: readonly Value[], a: readonly string[]): string {
  const int = out.dtype === 'int32';
  const op = n.op;
  let e: string;
  if (op === 'square' && int) e = `Math.imul(${a[0]}, ${a[0]})`;
  else if (op === 'mul' && int) e = `Math.imul(${a[0]}, ${a[1]})`;
  else if (op === 'div' && int) e = `F.idiv(${a[0]}, ${a[1]})`;
  else if (UNARY.has(op)) e = UNARY_EXPR[op](a[0]);
  else if (BINARY_EXPR[op] !== undefined) e = BINARY_EXPR[op](a[0], a[1]);
  else if (op === 'where') e = `(${a[0]} !== 0 ? ${a[1]} : ${a[2]})`;
  else if (op === 'clamp') {
    const { min, max } = n.attrs as KernelAttrs['clamp'];
    e = `(${a[0]} < ${lit(min)} ? ${lit(min)} : ${a[0]} > ${lit(max)} ? ${lit(max)} : ${a[0]})`;
  } else if (op === 'cast') e = int && ins[0].dtype !== 'int32' ? `F.toInt32(${a[0]})` : a[0];
  else if (op === 'broadcastTo' || REDUCE_NAMES.has(op)) e = a[0];
  else throw new CompileError(`compile: no code generator for elementwise kernel '${op}'`);
  if (out.dtype === 'float32') return `Math.fround(${e})`;
  if (int) return `(${e} | 0)`;
  return e;
}

type Stmt =
  | { kind: 'scalar'; node: Node }
  | { kind: 'loop'; n: number; nodes: Node[] }
  | { kind: 'call'; node: Node; backend: boolean }
  | { kind: 'reduce'; node: Node }
  | { kind: 'rand'; node: Node }
  | { kind: 'view'; node: Node };

/** Mutable view for kernel calls: `data` is rebound when the storage changes per call. */
interface MutView {
  data: TypedArray;
  shape: readonly number[];
  dtype: DType;
}

/**
 * A scatterAdd of a vector by traced indices into a vector (a gather's gradient): it can run
 * inside the loop that computes its updates.
 */
function isLoopScatter(n: Node, g: Graph): boolean {
  if (n.op !== 'scatterAdd') return false;
  const V = g.values;
  const [u, idx] = [V[n.ins[0]], V[n.ins[1]]];
  return idx.kind !== 'const' && idx.dtype === 'int32' && u.shape.length === 1 && V[n.outs[0]].shape.length === 1 && idx.size === u.size;
}

function isFullReduce(n: Node, g: Graph): boolean {
  return FUSED_REDUCE.has(n.op) && g.values[n.outs[0]].size === 1 && g.values[n.ins[0]].size > 1;
}

/**
 * The work of a kernel in element operations, compared with `largeThreshold` to choose between
 * generated code and a backend call: a matmul of a [10000, 50] matrix by a vector has a small
 * output but half a million multiply-adds.
 */
function workOf(n: Node, g: Graph): number {
  const V = g.values;
  const out = V[n.outs[0]];
  const a = V[n.ins[0]];
  switch (n.op) {
    case 'matmul': {
      const { transA } = n.attrs as KernelAttrs['matmul'];
      return out.size * a.shape[a.shape.length - (transA ? 2 : 1)];
    }
    case 'triangularSolve':
      return out.size * a.shape[a.shape.length - 1];
    case 'cholesky':
      return (a.size * a.shape[a.shape.length - 1]) / 3;
    case 'svgdPhi':
      // n² pairs, d coordinates each (and the js reference sorts all n² distances).
      return a.shape[0] * a.shape[0] * Math.max(1, a.shape[1]);
    default: {
      let w = out.size;
      for (const x of n.ins) w = Math.max(w, V[x].size);
      return w;
    }
  }
}

/**
 * Arithmetic, comparisons and data movement cost about a nanosecond an element in a fused loop,
 * less than a backend call that reads and writes whole arrays; transcendental functions are
 * where the backend's vectorized kernels win (the crossover table of bench/vi/eight-schools.ts).
 */
const CHEAP = new Set<string>(['add', 'sub', 'mul', 'div', 'neg', 'abs', 'sign', 'square', 'reciprocal', 'sqrt', 'maximum', 'minimum', 'relu', 'floor', 'ceil', 'where', 'clamp', 'cast', 'broadcastTo', ...COMPARE_OPS, 'slice', 'pad', 'concat', 'transpose', 'gather', 'diagonal', 'diagEmbed', 'tril', 'scatterAdd']);
/** How many times `largeThreshold` a cheap kernel may reach before it leaves generated code. */
const CHEAP_FACTOR = 16;
/**
 * Transcendental kernels (exp, log1p, softplus, sigmoid, lgamma, ...) leave generated code at a
 * quarter of `largeThreshold`: V8's Math.exp costs ~13 ns an element against ~1.5–5 ns in the
 * backend's vectorized float64 kernels plus ~10 µs per call, so the backend wins from a few
 * thousand elements (the 10,000-row logistic regression step of bench/vi/svi-scale.ts: 1.03 ms
 * at 16,384, 0.57 ms at 4,096). Linear algebra keeps `largeThreshold` (its work is counted in
 * multiply-adds).
 */
const TRANSCENDENTAL_FACTOR = 1 / 4;
/**
 * Random fills of at least this many draws call the backend's kernel (same stream); smaller ones
 * run generated Philox. (An earlier A/B that found the backend's 1,000 normals slower inside the
 * 1,000-group model's step never reached the backend: the call was placed as a js-kernel replay.
 * Placed as a backend call, the step went 250 → 212 µs.)
 */
const RANDOM_MIN = 256;
const RANDOM = new Set<string>(['randomNormal', 'randomUniform', 'randomBits']);
const LINALG = new Set<string>(['matmul', 'triangularSolve', 'cholesky', 'svgdPhi']);

/**
 * A gather with traced indices from a source of at least this many elements (a minibatch drawn
 * from the data set) calls the native backend's gather, which copies whole rows and prefetches
 * the next ones: its reads miss the caches, and the generated element loop waits on each miss.
 */
const FAR_GATHER_MIN = 1 << 20;

/** Whether `n` is a gather of traced indices from a large source that the native backend runs (see FAR_GATHER_MIN). */
function farGather(n: Node, g: Graph, opts: CodegenOptions): boolean {
  return n.op === 'gather' && opts.backend.name === 'cpu' && g.values[n.ins[0]].size >= FAR_GATHER_MIN && g.values[n.ins[1]].kind !== 'const' && opts.backend.has('gather');
}

/**
 * The flow steps' kernels leave generated code at a sixteenth of `largeThreshold`: their js
 * kernels are generic (broadcast offset tables built per call, an exp or a spline per element) and
 * took ~165 µs for a [512, 5] affineFlow in a profile of a MAF step, against ~33 µs as a backend call.
 */
const FLOW_FACTOR = 1 / 16;
const FLOW_KERNELS = new Set<string>(['affineFlow', 'rqSpline', 'rqSplineGrad']);

function inlineLimit(n: Node, opts: CodegenOptions): number {
  if (CHEAP.has(n.op)) return opts.largeThreshold * CHEAP_FACTOR;
  if (FLOW_KERNELS.has(n.op)) return opts.largeThreshold * FLOW_FACTOR;
  return LINALG.has(n.op) ? opts.largeThreshold : opts.largeThreshold * TRANSCENDENTAL_FACTOR;
}

/** Groups nodes into statements: scalar lines, fused loops, calls. */
function schedule(g: Graph, opts: CodegenOptions, moves: ReadonlyMap<Node, unknown>): Stmt[] {
  type Loop = { kind: 'loop'; n: number; nodes: Node[] };
  const V = g.values;
  const stmts: Stmt[] = [];
  let open: Loop | null = null;
  let members = new Set<number>();
  /** The loop that computes each loop value: a full reduction of it joins that loop, even once closed. */
  const home = new Map<number, Loop>();
  /** Statement index of each value computed by a placed statement (a closed loop's at its close). */
  const at = new Map<number, number>();
  /** The last closed loop of each element count, with its index and members. */
  const lastLoop = new Map<number, { loop: Loop; index: number; members: Set<number> }>();
  const close = (): void => {
    if (open !== null) {
      const index = stmts.length;
      stmts.push(open);
      for (const m of members) at.set(m, index);
      lastLoop.set(open.n, { loop: open, index, members });
    }
    open = null;
    members = new Set();
  };
  /** The scalar statement computing each scalar value (such statements may move before a loop). */
  const scalarStmt = new Map<number, Stmt & { kind: 'scalar' }>();
  const place = (st: Stmt, n: Node): void => {
    for (const o of n.outs) at.set(o, stmts.length);
    if (st.kind === 'scalar') scalarStmt.set(n.outs[0], st);
    stmts.push(st);
  };
  /** Whether x exists before statement i, or is a scalar statement that could move there (its inputs would). */
  const before = (x: number, i: number, depth = 0): boolean => {
    if (V[x].kind !== 'node') return true;
    const a = at.get(x);
    if (a === undefined) return false;
    if (a < i) return true;
    const st = scalarStmt.get(x);
    return st !== undefined && depth < 8 && st.node.ins.every((y) => before(y, i, depth + 1));
  };
  /** Moves the scalar statement computing x, after those it needs, to just before loop l (whose index shifts). */
  const hoist = (x: number, l: { index: number }): void => {
    const st = scalarStmt.get(x) as Stmt & { kind: 'scalar' };
    for (const y of st.node.ins) if (V[y].kind === 'node' && (at.get(y) as number) >= l.index) hoist(y, l);
    const q = at.get(x) as number;
    const p = l.index;
    stmts.splice(q, 1);
    stmts.splice(p, 0, st);
    for (const [v, i] of at) if (i === q) at.set(v, p);
    else if (i >= p && i < q) at.set(v, i + 1);
    for (const e of lastLoop.values()) if (e.index >= p && e.index < q) e.index++;
  };
  /**
   * Whether every input of `n` exists when loop `l` runs: its members, or values placed before it,
   * or scalars computable before it (which `join` then moves there).
   */
  const readyFor = (n: Node, l: { loop: Loop; index: number; members: Set<number> }, move: boolean): boolean =>
    n.ins.every((x) => (l.members.has(x) ? !move && V[x].size === l.loop.n : before(x, l.index)));
  // With native loops, elementwise kernels of any size fuse (one native call per loop); otherwise
  // large ones run as backend calls, one per kernel.
  const native = opts.backend.fusedLoop !== undefined;
  for (const n of g.nodes) {
    const out = V[n.outs[0]];
    const usesOpen = n.ins.some((x) => members.has(x));
    const move = moves.has(n);
    const fits = out.size < inlineLimit(n, opts) || (native && !move && NATIVE_EW.has(n.op));
    if (n.outs.length === 1 && (move || isInline(n, g)) && fits) {
      if (out.size === 1) {
        if (usesOpen) close();
        place({ kind: 'scalar', node: n }, n);
        continue;
      }
      const cur = open as Loop | null;
      // A moved element is read from memory at a mapped index: its sources must not be loop locals.
      const ok = cur !== null && cur.n === out.size && n.ins.every((x) => !members.has(x) || (!move && V[x].size === out.size));
      if (!ok) {
        // An earlier loop over as many elements whose inputs are all ready takes the node (the
        // optimizer's per-parameter chains interleave sizes), else a new loop opens.
        const prev = lastLoop.get(out.size);
        if (prev !== undefined && !usesOpen && readyFor(n, prev, move)) {
          for (const x of n.ins) if (!prev.members.has(x) && V[x].kind === 'node' && (at.get(x) as number) >= prev.index) hoist(x, prev);
          prev.loop.nodes.push(n);
          prev.members.add(out.id);
          home.set(out.id, prev.loop);
          at.set(out.id, prev.index);
          continue;
        }
        close();
        open = { kind: 'loop', n: out.size, nodes: [] };
      }
      (open as unknown as Loop).nodes.push(n);
      members.add(out.id);
      home.set(out.id, open as unknown as Loop);
      continue;
    }
    const src = home.get(n.ins[0]);
    if (isLoopScatter(n, g) && src !== undefined && V[n.ins[0]].size === src.n) {
      // The scatter of a loop value by traced indices accumulates inside that loop (in the js
      // kernel's order) when the indices exist before it; its output is complete after the loop.
      const idx = n.ins[1];
      const loopAt = src === open ? Infinity : (at.get(n.ins[0]) as number);
      const ready = V[idx].kind !== 'node' || (!members.has(idx) && (at.get(idx) ?? Infinity) < loopAt);
      if (ready) {
        src.nodes.push(n);
        if (src === open) members.add(out.id);
        else at.set(out.id, loopAt);
        continue;
      }
    }
    if (isFullReduce(n, g) && src !== undefined && V[n.ins[0]].size === src.n) {
      // The accumulator runs in the loop that computes the input; its scalar is ready after it.
      src.nodes.push(n);
      if (src === open) members.add(out.id);
      else at.set(out.id, at.get(n.ins[0]) as number);
      continue;
    }
    if (usesOpen) close();
    if (n.op === 'reshape') place({ kind: 'view', node: n }, n);
    // Random fills: generated Philox below RANDOM_MIN draws, the backend's kernel (same stream) from it on.
    else if (RANDOM.has(n.op)) place(out.size >= RANDOM_MIN && opts.backend.has(n.op) ? { kind: 'call', node: n, backend: true } : { kind: 'rand', node: n }, n);
    else if (REDUCERS[n.op] !== undefined && (workOf(n, g) < opts.largeThreshold || !opts.backend.has(n.op))) place({ kind: 'reduce', node: n }, n);
    else {
      // Large matrix-vector products go to the backend too: its gemv path (no panel packing)
      // measured 150 µs against 520 µs here for [10000, 50]·[50, 1] float64.
      const big = (workOf(n, g) >= inlineLimit(n, opts) || farGather(n, g, opts)) && opts.backend.has(n.op);
      if (!big && JS_KERNELS[n.op] === undefined) throw new CompileError(`compile: kernel '${n.op}' has no js implementation to replay`);
      place({ kind: 'call', node: n, backend: big }, n);
    }
  }
  close();
  return stmts;
}


/** Accumulator code of a reduction fused into a loop: [init, update over `t`]. */
function fusedReduce(op: string, acc: string, t: string, int: boolean): [string, string] {
  switch (op) {
    case 'sum':
      return ['0', int ? `${acc} = (${acc} + ${t}) | 0;` : `${acc} += ${t};`];
    case 'prod':
      return ['1', int ? `${acc} = Math.imul(${acc}, ${t});` : `${acc} *= ${t};`];
    case 'max':
      return ['-Infinity', `if (${t} !== ${t} || ${acc} !== ${acc}) ${acc} = NaN; else if (${t} > ${acc}) ${acc} = ${t};`];
    default:
      return ['Infinity', `if (${t} !== ${t} || ${acc} !== ${acc}) ${acc} = NaN; else if (${t} < ${acc}) ${acc} = ${t};`];
  }
}

/** Generates and compiles the replay function of `g`. */
export function buildPlan(g: Graph, opts: CodegenOptions): Plan {
  const V = g.values;
  const moves = new Map<Node, MoveMap>();
  const gathers = new Map<Node, DynGather>();
  for (const n of g.nodes) {
    if (V[n.outs[0]].size >= inlineLimit(n, opts)) continue;
    const m = moveMap(n, g);
    if (m !== null) moves.set(n, m);
    const dg = dynGather(n, g);
    if (dg !== null && !farGather(n, g, opts)) gathers.set(n, dg);
  }
  const stmts = schedule(g, opts, new Map<Node, unknown>([...moves, ...gathers]));
  const stmtOf = new Map<number, number>();
  stmts.forEach((s, i) => {
    if (s.kind === 'loop') for (const n of s.nodes) stmtOf.set(n.outs[0], i);
    else for (const o of s.node.outs) stmtOf.set(o, i);
  });
  const nodesOf = (s: Stmt): Node[] => (s.kind === 'loop' ? s.nodes : [s.node]);

  // Storage: a reshape shares its input's storage.
  const storage = new Map<number, number>();
  const storageOf = (id: number): number => storage.get(id) ?? id;
  for (const s of stmts) if (s.kind === 'view') storage.set(s.node.outs[0], storageOf(s.node.ins[0]));

  // How each value is read: as a scalar local, as an in-loop local, or from memory.
  const needsArray = new Set<number>();
  const needsLocal = new Set<number>();
  const lastRead = new Map<number, number>();
  const readArray = (id: number, at: number): void => {
    needsArray.add(id);
    const st = storageOf(id);
    lastRead.set(st, Math.max(lastRead.get(st) ?? -1, at));
  };
  stmts.forEach((s, i) => {
    for (const n of nodesOf(s)) {
      const mm = moves.get(n);
      if (mm !== undefined) {
        for (const x of mm.sources) readArray(x, i);
        continue;
      }
      const dg = gathers.get(n);
      if (dg !== undefined) {
        readArray(dg.x, i);
        readArray(dg.idx, i);
        continue;
      }
      for (const x of n.ins) {
        const v = V[x];
        const inlineable = s.kind === 'scalar' || s.kind === 'loop';
        if (inlineable && v.size === 1 && !(s.kind === 'loop' && stmtOf.get(x) === i)) needsLocal.add(x);
        else if (s.kind === 'loop' && stmtOf.get(x) === i) continue;
        else readArray(x, i);
      }
    }
  });
  for (const o of g.outputs) readArray(o, stmts.length);
  // A view's input is read in memory.
  for (const s of stmts) if (s.kind === 'view' && needsLocal.has(s.node.outs[0])) needsLocal.add(s.node.ins[0]);

  // Output binding: a computed storage becomes the caller's output array.
  const outBound = new Map<number, number>();
  const copies: string[] = [];
  g.outputs.forEach((o, j) => {
    const st = storageOf(o);
    const v = V[st];
    if (v.kind === 'node' && !outBound.has(st)) outBound.set(st, j);
    else copies.push(`O[${j}].set(${v.kind === 'node' ? `b${st}` : v.kind === 'input' ? `I[${v.input}]` : `c${st}`});`);
  });

  // Buffer assignment by liveness: a scratch buffer returns to the pool after its last reader.
  const scratch: TypedArray[] = [];
  const bufOf = new Map<number, number>();
  const pool = new Map<string, number[]>();
  let naiveBytes = 0;
  let bufferBytes = 0;
  const released: number[][] = stmts.map(() => []);
  stmts.forEach((s, i) => {
    for (const n of nodesOf(s))
      for (const o of n.outs) {
        if (storageOf(o) !== o || outBound.has(o)) continue;
        if (!needsArray.has(o) && !(s.kind !== 'scalar' && s.kind !== 'loop')) {
          // Reshape views of this value may still need it in memory.
          let viewed = false;
          for (const [vid, st] of storage) if (st === o && needsArray.has(vid)) viewed = true;
          if (!viewed) continue;
        }
        const v = V[o];
        const key = `${v.dtype}:${v.size}`;
        const bytes = v.size * (v.dtype === 'float64' ? 8 : 4);
        naiveBytes += bytes;
        const free = pool.get(key);
        let b: number;
        if (free !== undefined && free.length > 0) b = free.pop() as number;
        else {
          b = scratch.length;
          scratch.push(allocArray(v.dtype, v.size));
          bufferBytes += bytes;
        }
        bufOf.set(o, b);
        const last = lastRead.get(o) ?? i;
        released[Math.min(stmts.length - 1, Math.max(last, i))].push(o);
      }
    for (const o of released[i]) {
      const v = V[o];
      const key = `${v.dtype}:${v.size}`;
      const free = pool.get(key) ?? [];
      free.push(bufOf.get(o) as number);
      pool.set(key, free);
    }
  });

  const arr = (id: number): string => {
    const st = storageOf(id);
    const v = V[st];
    if (v.kind === 'input') return `b${st}`;
    if (v.kind === 'const') return `c${st}`;
    return `b${st}`;
  };
  const scal = (id: number): string => {
    const v = V[id];
    if (v.kind === 'const' && v.size === 1) return lit((v.data as TypedArray)[0]);
    return `s${id}`;
  };

  const head: string[] = [];
  const body: string[] = [];
  const consts: TypedArray[] = [];
  const maps: TypedArray[] = [];
  const calls: ((...a: TypedArray[]) => void)[] = [];
  const callAttrs: { key?: number[] }[] = [];

  // Closure-level bindings: constants, scratch buffers.
  const usedConsts = new Set<number>();
  for (const id of needsArray) {
    const st = storageOf(id);
    if (V[st].kind === 'const') usedConsts.add(st);
  }
  for (const st of usedConsts) {
    head.push(`const c${st} = C[${consts.length}];`);
    consts.push(V[st].data as TypedArray);
  }
  for (const [o, b] of bufOf) head.push(`const b${o} = S[${b}];`);

  // Per-call bindings: inputs and output-bound storages.
  for (const v of V) if (v.kind === 'input') body.push(`const b${v.id} = I[${v.input}];`);
  for (const [st, j] of outBound) body.push(`const b${st} = O[${j}];`);
  if (g.keys.length > 0) body.push('R.deriveKeys(KD, KW, KS);');
  for (const v of V) if (v.kind === 'input' && needsLocal.has(v.id)) body.push(`const s${v.id} = b${v.id}[0];`);

  let loops = 0;
  let fused = 0;
  let nCalls = 0;
  let nBackend = 0;
  const afterProduce = (id: number): void => {
    if (needsLocal.has(id) && V[id].size === 1) body.push(`const s${id} = ${arr(id)}[0];`);
  };

  const addMap = (m: TypedArray): string => {
    head.push(`const m${maps.length} = M[${maps.length}];`);
    maps.push(m);
    return `m${maps.length - 1}`;
  };
  /** The expression of a moved element: at index 0 for a one-element output, else at loop index i. */
  const moveExpr = (mm: MoveMap, dtype: DType): string => {
    const nOut = mm.src.length;
    // Fill constants as the output array would store them.
    const fillOf = (i: number): number => (dtype === 'float32' ? Math.fround(mm.fill[i]) : dtype === 'int32' ? mm.fill[i] | 0 : mm.fill[i]);
    const at = (i: number): string => (mm.src[i] < 0 ? lit(fillOf(i)) : `${arr(mm.sources[mm.src[i]])}[${mm.idx[i]}]`);
    if (nOut === 0) return '0';
    if (nOut === 1) return at(0);
    // Runs where the source is one array read contiguously (or one fill value): a short chain of ranges.
    const runs: { end: number; expr: string }[] = [];
    for (let i = 0; i < nOut && runs.length <= 4; ) {
      let j = i + 1;
      const k = mm.src[i];
      if (k < 0) while (j < nOut && mm.src[j] < 0 && Object.is(fillOf(j), fillOf(i))) j++;
      else while (j < nOut && mm.src[j] === k && mm.idx[j] === mm.idx[i] + (j - i)) j++;
      const off = k < 0 ? 0 : mm.idx[i] - i;
      const expr = k < 0 ? lit(fillOf(i)) : `${arr(mm.sources[k])}[${off === 0 ? 'i' : off > 0 ? `i + ${off}` : `i - ${-off}`}]`;
      runs.push({ end: j, expr });
      i = j;
    }
    if (runs.length <= 4) {
      let e = runs[runs.length - 1].expr;
      for (let r = runs.length - 2; r >= 0; r--) e = `(i < ${runs[r].end} ? ${runs[r].expr} : ${e})`;
      return e;
    }
    // A general map: the index per element, and the source per element when there are several.
    const idx = addMap(mm.idx);
    const used = new Set<number>();
    let fillsUniform = true;
    for (let i = 0; i < nOut; i++) {
      if (mm.src[i] >= 0) used.add(mm.src[i]);
      else if (!Object.is(fillOf(i), fillOf(mm.src.indexOf(-1)))) fillsUniform = false;
    }
    const firstFill = mm.src.indexOf(-1);
    const fill = firstFill < 0 ? '' : fillsUniform ? lit(fillOf(firstFill)) : `${addMap(Float64Array.from(mm.fill, (_, i) => fillOf(i)))}[i]`;
    if (used.size === 1 && firstFill < 0) return `${arr(mm.sources[[...used][0]])}[${idx}[i]]`;
    if (used.size === 1) return `(${idx}[i] >= 0 ? ${arr(mm.sources[[...used][0]])}[${idx}[i]] : ${fill})`;
    const sel = addMap(mm.src);
    const ks = [...used].sort((a, b) => b - a);
    let e = firstFill < 0 ? `${arr(mm.sources[ks.shift() as number])}[${idx}[i]]` : fill;
    for (const k of ks) e = `(${sel}[i] === ${k} ? ${arr(mm.sources[k])}[${idx}[i]] : ${e})`;
    return e;
  };

  /**
   * The index check of a gather or scatter; empty when the same input array was already checked
   * against the same size (inputs do not change during a run, and the first check throws first).
   */
  const checked = new Set<string>();
  const indexCheck = (op: string, idx: number, size: number, axis: number): string => {
    const key = `${arr(idx)}:${size}`;
    if (V[storageOf(idx)].kind === 'input') {
      if (checked.has(key)) return '';
      checked.add(key);
    }
    return `F.checkIndices('${op}', ${arr(idx)}, ${size}, ${axis});`;
  };
  const natives: { prog: Int32Array; s: Float64Array; a: TypedArray[]; acc: Float64Array; run(): void }[] = [];
  const backendLoop = opts.backend.fusedLoop?.bind(opts.backend);
  /** Emits a loop as one native call when the backend runs fused loops and the loop qualifies. */
  const emitNative = (s: { n: number; nodes: Node[] }): boolean => {
    // Long loops, and shorter ones with enough kernels to pay for the call (~2 µs).
    if (backendLoop === undefined || (s.n < NATIVE_LOOP_MIN && !(s.n >= 512 && s.n * s.nodes.length >= NATIVE_LOOP_WORK))) return false;
    const before = new Set(checked);
    const nl: NativeLoop | null = nativeLoop(s.nodes, s.n, {
      g,
      moves,
      gathers,
      stored: (id) => needsArray.has(id) || outBound.has(id),
      arrayOf: arr,
      scalarOf: scal,
      indexCheck,
    });
    if (nl === null) {
      // The generated loop emits its own index checks.
      checked.clear();
      for (const c of before) checked.add(c);
      return false;
    }
    const k = natives.length;
    const names = nl.arrays.map((e) => (e.startsWith('@') ? addMap(nl.maps[Number(e.slice(1))]) : e));
    const entry = { prog: nl.prog, s: new Float64Array(Math.max(1, nl.scalars.length)), a: new Array<TypedArray>(names.length), acc: new Float64Array(Math.max(1, nl.sums.size)), run: (): void => {} };
    const n = s.n;
    entry.run = (): void => backendLoop(entry.prog, entry.s, entry.a, n, entry.acc);
    natives.push(entry);
    head.push(`const N${k} = N[${k}];`);
    body.push(...nl.checks, ...nl.scalars.map((e, j) => `N${k}.s[${j}] = ${e};`), ...names.map((e, j) => `N${k}.a[${j}] = ${e};`), `N${k}.run(); // fused loop of ${s.nodes.length} kernels over ${n} elements (native${nl.prog[0] & (1 << 30) ? ', float32' : ''})`);
    for (const [o, j] of nl.sums) {
      body.push(`const s${o} = ${V[o].dtype === 'float32' ? `Math.fround(N${k}.acc[${j}])` : `N${k}.acc[${j}]`};`);
      if (needsArray.has(o) || outBound.has(o)) body.push(`${arr(o)}[0] = s${o};`);
    }
    nBackend++;
    return true;
  };

  // Everything so far is per-call bindings; each statement's lines are one unit (ts/compile/split.ts).
  const perCall = body.splice(0);
  const units: string[][] = [];
  const unit = (): void => {
    if (body.length > 0) units.push(body.splice(0));
  };
  stmts.forEach((s, si) => {
    unit();
    if (s.kind === 'scalar') {
      const n = s.node;
      const o = n.outs[0];
      const mm = moves.get(n);
      const dg = gathers.get(n);
      if (dg !== undefined) body.push(indexCheck('gather', dg.idx, dg.n, dg.axis));
      const e =
        dg !== undefined
          ? `${arr(dg.x)}[${dg.base === null || dg.q === null ? `${arr(dg.idx)}[0]` : `${dg.base[0]} + ${arr(dg.idx)}[${dg.q[0]}] * ${dg.inner}`}]`
          : mm !== undefined
            ? moveExpr(mm, V[o].dtype)
            : ewExpr(n, V[o], n.ins.map((x) => V[x]), n.ins.map(scal));
      body.push(`const s${o} = ${e};`);
      if (needsArray.has(o) || bufOf.has(o) || outBound.has(o)) body.push(`${arr(o)}[0] = s${o};`);
      return;
    }
    if (s.kind === 'loop') {
      loops++;
      fused += s.nodes.length;
      if (emitNative(s)) return;
      const pre: string[] = [];
      const loads: string[] = [];
      const lines: string[] = [];
      const stores: string[] = [];
      const post: string[] = [];
      const loaded = new Map<string, string>();
      const members = new Set(s.nodes.map((n) => n.outs[0]));
      const argOf = (x: number, n: Node): string => {
        const v = V[x];
        if (members.has(x)) return `t${x}`;
        if (v.size === 1) return scal(x);
        const out = V[n.outs[0]];
        let idx = 'i';
        if (v.size !== s.n) {
          const st = broadcastStrides(v.shape, out.shape);
          const m = new Int32Array(s.n);
          const os = stridesOf(out.shape);
          for (let i = 0; i < s.n; i++) {
            let off = 0;
            let r = i;
            for (let d = 0; d < out.shape.length; d++) {
              const q = Math.floor(r / os[d]);
              r -= q * os[d];
              off += q * st[d];
            }
            m[i] = off;
          }
          idx = `m${maps.length}[i]`;
          head.push(`const m${maps.length} = M[${maps.length}];`);
          maps.push(m);
        }
        const key = `${arr(x)}[${idx}]`;
        let name = loaded.get(key);
        if (name === undefined) {
          name = `x${si}_${loaded.size}`;
          loaded.set(key, name);
          loads.push(`const ${name} = ${key};`);
        }
        return name;
      };
      for (const n of s.nodes) {
        const o = n.outs[0];
        if (isFullReduce(n, g)) {
          const int = V[o].dtype === 'int32';
          const [init, upd] = fusedReduce(n.op, `a${o}`, argOf(n.ins[0], n), int);
          pre.push(`let a${o} = ${init};`);
          lines.push(upd);
          const fin = V[o].dtype === 'float32' ? `Math.fround(a${o})` : `a${o}`;
          post.push(`const s${o} = ${fin};`);
          if (needsArray.has(o) || outBound.has(o)) post.push(`${arr(o)}[0] = s${o};`);
          continue;
        }
        if (n.op === 'scatterAdd') {
          // In the js kernel's order: each update added to its destination as i runs.
          const { size, axis } = n.attrs as KernelAttrs['scatterAdd'];
          const [dst, ix, t] = [arr(o), arr(n.ins[1]), argOf(n.ins[0], n)];
          pre.push(indexCheck('scatterAdd', n.ins[1], size, axis), `${dst}.fill(0);`);
          lines.push(V[o].dtype === 'int32' ? `${dst}[${ix}[i]] = (${dst}[${ix}[i]] + ${t}) | 0;` : `${dst}[${ix}[i]] += ${t};`);
          continue;
        }
        const mm = moves.get(n);
        const dg = gathers.get(n);
        if (dg !== undefined) {
          pre.push(indexCheck('gather', dg.idx, dg.n, dg.axis));
          const e =
            dg.base === null || dg.q === null
              ? `${arr(dg.x)}[${arr(dg.idx)}[i]]`
              : `${arr(dg.x)}[${addMap(dg.base)}[i] + ${arr(dg.idx)}[${addMap(dg.q)}[i]] * ${dg.inner}]`;
          lines.push(`const t${o} = ${e};`);
          if (needsArray.has(o) || outBound.has(o)) stores.push(`${arr(o)}[i] = t${o};`);
          continue;
        }
        if (mm !== undefined) {
          lines.push(`const t${o} = ${moveExpr(mm, V[o].dtype)};`);
          if (needsArray.has(o) || outBound.has(o)) stores.push(`${arr(o)}[i] = t${o};`);
          continue;
        }
        const args = n.ins.map((x) => argOf(x, n));
        lines.push(`const t${o} = ${ewExpr(n, V[o], n.ins.map((x) => V[x]), args)};`);
        if (needsArray.has(o) || outBound.has(o)) stores.push(`${arr(o)}[i] = t${o};`);
      }
      body.push(...pre, `for (let i = 0; i < ${s.n}; i++) {`, ...loads.map((l) => `  ${l}`), ...lines.map((l) => `  ${l}`), ...stores.map((l) => `  ${l}`), '}', ...post);
      return;
    }
    const n = s.node;
    const o = n.outs[0];
    const out = V[o];
    if (s.kind === 'view') {
      if (needsLocal.has(o)) body.push(`const s${o} = ${arr(n.ins[0])}[0];`);
      return;
    }
    if (s.kind === 'rand') {
      const float32 = out.dtype === 'float32';
      const k = `KS[${2 * n.keySlot}], KS[${2 * n.keySlot + 1}]`;
      if (n.op === 'randomBits') body.push(`R.fillBits(${k}, ${arr(o)});`);
      else if (n.op === 'randomUniform') body.push(`R.fillUniform(${k}, ${arr(o)}, ${float32});`);
      else body.push(`R.fillNormal(${k}, ${arr(o)}, ${float32});`);
      afterProduce(o);
      return;
    }
    if (s.kind === 'reduce') {
      const x = V[n.ins[0]];
      if (isFullReduce(n, g)) {
        // A full reduction of an array: an inline loop with the js reducer's order (the shared
        // reducer, called through an offset table, is several times slower).
        const int = out.dtype === 'int32';
        const [init, upd] = fusedReduce(n.op, `a${o}`, `${arr(n.ins[0])}[i]`, int);
        body.push(`let a${o} = ${init};`, `for (let i = 0; i < ${x.size}; i++) { ${upd} }`);
        body.push(`const s${o} = ${out.dtype === 'float32' ? `Math.fround(a${o})` : `a${o}`};`);
        if (needsArray.has(o) || outBound.has(o) || bufOf.has(o)) body.push(`${arr(o)}[0] = s${o};`);
        return;
      }
      const { axes } = n.attrs as { axes: number[] };
      const plan = reductionPlan(x.shape, axes);
      const f = REDUCERS[n.op] as Reducer;
      const isInt = x.dtype === 'int32';
      const { kept, reduced } = plan;
      calls.push((xa: TypedArray, oa: TypedArray) => {
        for (let i = 0; i < kept.length; i++) oa[i] = f(xa, kept[i], reduced, isInt);
      });
      nCalls++;
      body.push(`K[${calls.length - 1}](${arr(n.ins[0])}, ${arr(o)}); // ${n.op} [${x.shape.join(', ')}] -> [${out.shape.join(', ')}]`);
      afterProduce(o);
      return;
    }
    // A kernel call over views whose storage is rebound on each call.
    const ins: MutView[] = n.ins.map((x) => ({ data: allocArray(V[x].dtype, 0), shape: V[x].shape, dtype: V[x].dtype }));
    const outs: MutView[] = n.outs.map((x) => ({ data: allocArray(V[x].dtype, 0), shape: V[x].shape, dtype: V[x].dtype }));
    const attrs = { ...(n.attrs as object) } as { key?: number[] };
    if (n.keySlot >= 0) attrs.key = [0, 0];
    const backend = opts.backend;
    const special = s.backend ? null : specialKernel(n, g);
    if (special !== null) {
      calls.push(special);
      nCalls++;
      body.push(`K[${calls.length - 1}](${[...n.ins.filter((x, j) => !(n.op === 'scatterAdd' && j === 1 && V[x].kind === 'const')), ...n.outs].map(arr).join(', ')}); // ${n.op} [${out.shape.join(', ')}] (specialized)`);
      for (const x of n.outs) afterProduce(x);
      return;
    }
    const run = s.backend
      ? (): void => backend.run(n.op, ins, outs, attrs as KernelAttrs[KernelName])
      : ((): (() => void) => {
          const k = JS_KERNELS[n.op] as (i: readonly CpuView[], o: readonly CpuView[], a: unknown) => void;
          return (): void => k(ins, outs, attrs);
        })();
    const ni = ins.length;
    calls.push((...a: TypedArray[]) => {
      for (let j = 0; j < ni; j++) ins[j].data = a[j];
      for (let j = 0; j < outs.length; j++) outs[j].data = a[ni + j];
      run();
    });
    callAttrs[calls.length - 1] = attrs;
    nCalls++;
    if (s.backend) nBackend++;
    if (n.keySlot >= 0) body.push(`A[${calls.length - 1}].key[0] = KS[${2 * n.keySlot}]; A[${calls.length - 1}].key[1] = KS[${2 * n.keySlot + 1}];`);
    body.push(`K[${calls.length - 1}](${[...n.ins, ...n.outs].map(arr).join(', ')}); // ${n.op} [${out.shape.join(', ')}]`);
    for (const x of n.outs) afterProduce(x);
  });
  unit();
  units.push(copies);

  const source = `${head.join('\n')}\n${splitRun(perCall, units)}`;
  let factory: (...a: unknown[]) => Plan['run'];
  try {
    factory = new Function('F', 'C', 'S', 'M', 'K', 'A', 'R', 'KD', 'KS', 'N', source) as (...a: unknown[]) => Plan['run'];
  } catch (e) {
    throw new CompileError(`compile: generated code does not parse (${(e as Error).message}); this is a bug in varinf`);
  }
  const R = { deriveKeys, fillBits, fillUniform, fillNormal };
  const keySlots = new Uint32Array(2 * Math.max(1, g.keys.length));
  const run = factory(F, consts, scratch, maps, calls, callAttrs, R, g.keys, keySlots, natives);
  return {
    run,
    keySlots,
    outputs: g.outputs.map((o) => ({ shape: V[o].shape, dtype: V[o].dtype })),
    source,
    stats: {
      nodes: g.nodes.length,
      loops,
      fusedKernels: fused,
      calls: nCalls,
      backendCalls: nBackend,
      buffers: scratch.length,
      bufferBytes,
      naiveBytes,
    },
  };
}
