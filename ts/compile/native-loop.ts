/**
 * Fused loops as native calls: a loop of the generated code (elementwise kernels, index maps,
 * traced gathers and full sums over one element count) becomes a register program that the cpu
 * backend's Rust addon runs over blocks of 256 elements, with vectorized float64 transcendentals
 * and both cores (native/src/fused.rs documents the format). Above a few thousand elements this
 * beats V8's scalar loop (Math.exp costs ~13 ns an element; one call costs a few µs).
 *
 * A loop qualifies when every value in it is float64, float32 (rounded after the instruction that
 * computes it, as the js kernels store it), or int32 holding only 0 and 1 (comparisons and their
 * products, selections and casts), so float64 registers hold every value exactly.
 * Results are the backend's: transcendentals within 1–2 ulp of V8's, sums in a fixed blocked
 * order, so a compiled step equals the eager one on the cpu backend to rounding, not bit for bit.
 */
import type { TypedArray } from '../core/dtype.js';
import { BINARY_OPS, COMPARE_OPS, UNARY_OPS, type KernelAttrs } from '../kernels/spec.js';
import type { Graph, Node } from './graph.js';
import type { DynGather, MoveMap } from './lower.js';

/**
 * Loops of at least this many elements run natively when the backend can; shorter ones from 512
 * elements when elements × kernels reaches {@link NATIVE_LOOP_WORK} (ts/compile/codegen.ts).
 * Lowered from 4096 and 32k: a MAF step's 2,560–5,120-element loops (the MADE's scale and shift,
 * the flow's backward) ran as generated JavaScript, which V8 compiles on its background thread
 * and runs slowly until then; as native calls the step's CPU over a 30-epoch fit fell ~10–15 %
 * (bench/flows/density.ts, two A/B pairs).
 */
export const NATIVE_LOOP_MIN = 1024;
/** Elements × kernels from which a loop of 512 to {@link NATIVE_LOOP_MIN} elements runs natively. */
export const NATIVE_LOOP_WORK = 4096;

const OP = { load: 0, gather: 1, scalar: 2, unary: 3, binary: 4, where: 5, clamp: 6, store: 7, sum: 8, copy: 9, binaryScalar: 10, scalarBinary: 11, broadcast: 12, scatter: 13, axpby: 14, adamDir: 15 } as const;
/** The op-word flag that rounds an instruction's output to float32. */
const ROUND = 16;
/** The header flag that runs a program on float32 registers. */
const F32_REGS = 1 << 30;
/** The header flag that keeps a program on one core (a scatter adds in index order). */
const SERIAL = 1 << 29;
const UNARY_CODE = new Map<string, number>(UNARY_OPS.map((op, i) => [op, i]));
const BINARY_CODE = new Map<string, number>([...BINARY_OPS.map((op, i) => [op, i] as const), ...COMPARE_OPS.map((op, i) => [op, 7 + i] as const)]);
const ALIAS = new Set<string>(['cast', 'broadcastTo', 'sum', 'prod', 'max', 'min', 'logsumexp']);

/** What the generated code needs from its surroundings to emit a native loop. */
export interface NativeLoopContext {
  readonly g: Graph;
  readonly moves: ReadonlyMap<Node, MoveMap>;
  readonly gathers: ReadonlyMap<Node, DynGather>;
  /** Whether a loop value is stored to memory (read after the loop, or an output). */
  stored(id: number): boolean;
  /** The generated code's name of a value's array. */
  arrayOf(id: number): string;
  /** The generated code's expression of a one-element value. */
  scalarOf(id: number): string;
  /** The index check of a gather or scatter (empty when the same input array was checked already). */
  indexCheck(op: string, idx: number, size: number, axis: number): string;
}

/** A loop as a native program: which arrays and scalars to pass, and where the sums land. */
export interface NativeLoop {
  readonly prog: Int32Array;
  /** Array expressions, in array-slot order; `@k` stands for `maps[k]`, to be bound by the caller. */
  readonly arrays: readonly string[];
  /** Constant index maps the program reads. */
  readonly maps: readonly Int32Array[];
  /** Scalar expressions, in scalar-slot order. */
  readonly scalars: readonly string[];
  /** The full sums: value id → accumulator slot. */
  readonly sums: ReadonlyMap<number, number>;
  /** Index checks of traced gathers, to run before the call. */
  readonly checks: readonly string[];
}

/** The native program of a loop over `n` elements, or null when the loop does not qualify. */
export function nativeLoop(nodes: readonly Node[], n: number, ctx: NativeLoopContext): NativeLoop | null {
  const V = ctx.g.values;
  const members = new Set(nodes.map((x) => x.outs[0]));
  const arrays: string[] = [];
  const scalars: string[] = [];
  const checks: string[] = [];
  const maps: Int32Array[] = [];
  const mapSlot = (m: Int32Array): number => {
    maps.push(m);
    return slot(arrays, `@${maps.length - 1}`);
  };
  const sums = new Map<number, number>();
  let serial = false;
  // Instructions over virtual registers (one per value), mapped to physical ones at the end.
  const code: Instr[] = [];
  const reg = new Map<number, number>();
  const loaded = new Map<string, number>();
  const bools = new Set<number>();
  let nextReg = 0;
  const slot = (list: string[], e: string): number => {
    const k = list.indexOf(e);
    if (k >= 0) return k;
    list.push(e);
    return list.length - 1;
  };
  const fresh = (): number => nextReg++;
  /** The register holding element i of value x as read by node `at`. */
  const arg = (x: number, at: Node): number => {
    const r = reg.get(x);
    if (members.has(x) && r !== undefined) return r;
    const v = V[x];
    let key: string;
    let emit: () => { op: number; w: number[] };
    if (v.size === 1) {
      const s = slot(scalars, ctx.scalarOf(x));
      key = `s${s}`;
      emit = () => ({ op: OP.scalar, w: [s, 0, 0] });
    } else if (v.size === n) {
      const k = slot(arrays, ctx.arrayOf(x));
      key = `a${k}`;
      emit = () => ({ op: OP.load, w: [k, 0, 0] });
    } else {
      // A broadcast operand: element ⌊i / q⌋ mod p where its dimensions are one contiguous run of
      // the output's, else through a constant index map.
      const outShape = V[at.outs[0]].shape;
      key = `b${x}:${outShape.join(',')}`;
      const qp = broadcastRun(v.shape, outShape);
      emit = () =>
        qp !== null
          ? { op: OP.broadcast, w: [slot(arrays, ctx.arrayOf(x)), qp[0], qp[1]] }
          : { op: OP.gather, w: [slot(arrays, ctx.arrayOf(x)), mapSlot(broadcastMap(v.shape, outShape, n)), 0] };
    }
    const seen = loaded.get(key);
    if (seen !== undefined) return seen;
    const dst = fresh();
    const e = emit();
    code.push({ op: e.op, dst, ins: [], w: e.w });
    loaded.set(key, dst);
    if (V[x].dtype === 'int32' && isBoolConst(V[x])) bools.add(dst);
    return dst;
  };
  const isFloat = (id: number): boolean => V[id].dtype !== 'int32';
  /** Float32 values are rounded after the instruction that computes them, as the js kernels store them. */
  const round = (id: number): boolean => V[id].dtype === 'float32';
  for (const node of nodes) {
    const o = node.outs[0];
    const out = V[o];
    if (out.size === 1 && node.outs.length === 1 && ['sum', 'prod', 'max', 'min'].includes(node.op) && V[node.ins[0]].size > 1) {
      if (node.op !== 'sum' || !isFloat(o)) return null;
      const a = sums.size;
      sums.set(o, a);
      code.push({ op: OP.sum, dst: -1, ins: [arg(node.ins[0], node)], w: [a, 0, 0, 0] });
      continue;
    }
    if (node.op === 'scatterAdd') {
      // Updates added to their destinations in index order, as the js kernel does (one core).
      if (out.dtype === 'int32') return null;
      const { size, axis } = node.attrs as KernelAttrs['scatterAdd'];
      checks.push(ctx.indexCheck('scatterAdd', node.ins[1], size, axis), `${ctx.arrayOf(o)}.fill(0);`);
      code.push({ op: OP.scatter, dst: -1, ins: [arg(node.ins[0], node)], w: [slot(arrays, ctx.arrayOf(o)), slot(arrays, ctx.arrayOf(node.ins[1]))] });
      serial = true;
      continue;
    }
    const dg = ctx.gathers.get(node);
    const mm = ctx.moves.get(node);
    let dst: number;
    if (dg !== undefined) {
      if (dg.base !== null || !isFloat(o)) return null;
      checks.push(ctx.indexCheck('gather', dg.idx, dg.n, dg.axis));
      const k = slot(arrays, ctx.arrayOf(dg.x));
      const ik = slot(arrays, ctx.arrayOf(dg.idx));
      dst = fresh();
      code.push({ op: OP.gather, dst, ins: [], w: [k, ik, 0] });
    } else if (mm !== undefined) {
      if (!isFloat(o) || mm.sources.length !== 1 || mm.src.some((s) => s !== 0)) return null;
      const k = slot(arrays, ctx.arrayOf(mm.sources[0]));
      const mk = mapSlot(mm.idx);
      dst = fresh();
      code.push({ op: OP.gather, dst, ins: [], w: [k, mk, 0] });
    } else {
      const r = elementwise(node, out.dtype === 'int32');
      if (r === null) return null;
      // A one-element operand of a binary op is read as a scalar, not filled into a register.
      const scalarAt = r.kind === 'binary' || r.kind === 'compare' ? node.ins.findIndex((x) => V[x].size === 1 && !members.has(x)) : -1;
      if (scalarAt >= 0 && node.ins.every((x) => V[x].size === 1)) return null;
      const ins = node.ins.map((x, j) => (j === scalarAt ? -1 : arg(x, node)));
      const from = V[node.ins[0]].dtype;
      if (r.kind === 'alias') {
        if (out.dtype === 'int32' && !(from === 'int32' && bools.has(ins[0]))) return null;
        // A cast to float32 from wider values rounds; every other alias shares its input's register.
        if (!(out.dtype === 'float32' && from !== 'float32' && !bools.has(ins[0]))) {
          reg.set(o, ins[0]);
          if (out.dtype === 'int32') bools.add(ins[0]);
          if (ctx.stored(o)) code.push({ op: OP.store, dst: -1, ins: [ins[0]], w: [slot(arrays, ctx.arrayOf(o)), 0, 0, 0] });
          continue;
        }
      } else if (out.dtype === 'int32') {
        // Only exact 0/1 values: comparisons, and products and selections of them.
        const ok = r.kind === 'compare' || ((r.kind === 'binary' && node.op === 'mul') || r.kind === 'where' ? ins.slice(r.kind === 'where' ? 1 : 0).every((x) => bools.has(x)) : false);
        if (!ok) return null;
      }
      dst = fresh();
      const rd = round(o);
      if (r.kind === 'alias') code.push({ op: OP.copy, dst, ins, w: [], round: true });
      else if (r.kind === 'unary') code.push({ op: OP.unary, dst, ins, w: [r.code], round: rd });
      else if ((r.kind === 'binary' || r.kind === 'compare') && scalarAt >= 0) {
        const sc = slot(scalars, ctx.scalarOf(node.ins[scalarAt]));
        code.push({ op: scalarAt === 1 ? OP.binaryScalar : OP.scalarBinary, dst, ins: [ins[1 - scalarAt]], w: [sc, r.code], round: rd });
      } else if (r.kind === 'binary' || r.kind === 'compare') code.push({ op: OP.binary, dst, ins, w: [r.code], round: rd });
      else if (r.kind === 'where') code.push({ op: OP.where, dst, ins, w: [], round: rd });
      else {
        const { min, max } = node.attrs as KernelAttrs['clamp'];
        code.push({ op: OP.clamp, dst, ins, w: [slot(scalars, String(min)), slot(scalars, String(max))], round: rd });
      }
      if (out.dtype === 'int32') bools.add(dst);
    }
    reg.set(o, dst);
    if (ctx.stored(o)) code.push({ op: OP.store, dst: -1, ins: [dst], w: [slot(arrays, ctx.arrayOf(o)), 0, 0, 0] });
  }
  const prog = allocate(fuseKernels(code, scalars));
  if (float32Only(nodes, ctx, members)) prog[0] |= F32_REGS;
  if (serial) prog[0] |= SERIAL;
  return { prog, arrays, maps, scalars, sums, checks };
}

const [ADD, SUB, MUL, DIV] = ['add', 'sub', 'mul', 'div'].map((op) => BINARY_CODE.get(op) as number);
const SQRT = UNARY_CODE.get('sqrt') as number;

/**
 * Replaces kernel patterns whose partial results have no other reader (not stored, summed or read
 * by another instruction) with one instruction that computes them in one pass, rounding each
 * partial result as before, so values are unchanged:
 * - `x·a ± y·b`, `x ± y·b`, `x·a ± y` → AXPBY (a coefficient of 1 or −1 is exact);
 * - `x·a / (√(y·b) + c)`, Adam's direction, → ADAM_DIR.
 * New scalar slots (consecutive, as the instructions read them) are appended to `scalars`.
 */
function fuseKernels(code: readonly Instr[], scalars: string[]): Instr[] {
  const uses = new Map<number, number>();
  for (const c of code) for (const r of c.ins) uses.set(r, (uses.get(r) ?? 0) + 1);
  const def = new Map<number, Instr>();
  for (const c of code) if (c.dst >= 0) def.set(c.dst, c);
  const gone = new Set<Instr>();
  /** The operand and scalar of `r = x ∘ scalar` (∘ commutative), when `r` is read by `by` alone and rounds as it does. */
  const scaled = (r: number, op: number, by: Instr): { x: number; s: string; d: Instr } | null => {
    const d = def.get(r);
    if (d === undefined || uses.get(r) !== 1 || d.round !== by.round || (d.op !== OP.binaryScalar && d.op !== OP.scalarBinary) || d.w[1] !== op) return null;
    return { x: d.ins[0], s: scalars[d.w[0]], d };
  };
  const slots = (...es: string[]): number => scalars.push(...es) - es.length;
  const out: Instr[] = [];
  for (const c of code) {
    if (c.op === OP.binary && (c.w[0] === ADD || c.w[0] === SUB)) {
      const [a, b] = c.ins.map((r) => scaled(r, MUL, c));
      if (a !== null || b !== null) {
        const neg = c.w[0] === SUB ? '-' : '';
        const x = a ?? { x: c.ins[0], s: '1' };
        const y = b ?? { x: c.ins[1], s: '1' };
        for (const p of [a, b]) if (p !== null) gone.add(p.d);
        out.push({ op: OP.axpby, dst: c.dst, ins: [x.x, y.x], w: [slots(x.s, `${neg}(${y.s})`)], round: c.round });
        continue;
      }
    }
    if (c.op === OP.binary && c.w[0] === DIV) {
      const num = scaled(c.ins[0], MUL, c);
      const den = scaled(c.ins[1], ADD, c);
      const root = den === null ? undefined : def.get(den.x);
      const ok = root !== undefined && root.op === OP.unary && root.w[0] === SQRT && uses.get(root.dst) === 1 && root.round === c.round;
      const inner = ok ? scaled(root.ins[0], MUL, c) : null;
      if (num !== null && den !== null && inner !== null) {
        gone.add(num.d).add(den.d).add(root as Instr).add(inner.d);
        out.push({ op: OP.adamDir, dst: c.dst, ins: [num.x, inner.x], w: [slots(num.s, inner.s, den.s)], round: c.round });
        continue;
      }
    }
    out.push(c);
  }
  return out.filter((c) => !gone.has(c));
}

/**
 * Whether every value the loop reads or computes is float32, or an int32 0/1 (a comparison, or a
 * constant of zeros and ones): then it runs on float32 registers (twice the vector width, half the
 * cache), with the js kernels' results (see native/src/fused.rs).
 */
function float32Only(nodes: readonly Node[], ctx: NativeLoopContext, members: ReadonlySet<number>): boolean {
  const V = ctx.g.values;
  const ok = (x: number): boolean => {
    const v = V[x];
    if (v.dtype === 'float32') return true;
    if (v.dtype !== 'int32') return false;
    if (isBoolConst(v)) return true;
    // An int32 loop value is a 0/1 (anything else made the loop ineligible), and so is a
    // comparison's output stored by an earlier loop (a ReLU's mask, read again by its backward
    // pass); other int32 arrays may hold any integer.
    return members.has(x) || comparisons(ctx.g).has(x);
  };
  return nodes.every((n) => {
    const dg = ctx.gathers.get(n);
    const reads = dg !== undefined ? [dg.x] : n.op === 'scatterAdd' ? [n.ins[0]] : (ctx.moves.get(n)?.sources ?? n.ins);
    return ok(n.outs[0]) && reads.every(ok);
  });
}

const COMPARE = new Set<string>(COMPARE_OPS);
const comparisonsOf = new WeakMap<Graph, Set<number>>();

/** The values of `g` that comparison kernels compute (0 or 1), found once per graph. */
function comparisons(g: Graph): Set<number> {
  let s = comparisonsOf.get(g);
  if (s === undefined) {
    s = new Set(g.nodes.filter((n) => COMPARE.has(n.op)).map((n) => n.outs[0]));
    comparisonsOf.set(g, s);
  }
  return s;
}

function isBoolConst(v: { kind: string; data?: TypedArray }): boolean {
  return v.kind === 'const' && v.data !== undefined && v.data.every((x) => x === 0 || x === 1);
}

 /** An instruction over virtual registers (dst −1: none). */
interface Instr {
  op: number;
  dst: number;
  ins: number[];
  w: number[];
  /** Round the output to float32 (absent: no). */
  round?: boolean;
}

type Ew = { kind: 'alias' } | { kind: 'unary' | 'binary' | 'compare'; code: number } | { kind: 'where' } | { kind: 'clamp' };

/** The native form of an elementwise node, or null. */
function elementwise(node: Node, int: boolean): Ew | null {
  const op = node.op as string;
  if (ALIAS.has(op)) return { kind: 'alias' };
  if (op === 'where') return { kind: 'where' };
  if (op === 'clamp') return int ? null : { kind: 'clamp' };
  const u = UNARY_CODE.get(op);
  if (u !== undefined) return int ? null : { kind: 'unary', code: u };
  const b = BINARY_CODE.get(op);
  if (b === undefined) return null;
  if (b >= 7) return { kind: 'compare', code: b };
  return int && op !== 'mul' ? null : { kind: 'binary', code: b };
}

/**
 * [q, p] such that output element i reads element ⌊i / q⌋ mod p of an operand of `shape`
 * broadcast to `outShape`, when the operand's non-unit dimensions are one contiguous run of the
 * output's; else null.
 */
export function broadcastRun(shape: readonly number[], outShape: readonly number[]): [number, number] | null {
  const nd = outShape.length;
  const sh = [...new Array<number>(nd - shape.length).fill(1), ...shape];
  const big = sh.map((d, i) => (d !== 1 ? i : -1)).filter((i) => i >= 0);
  if (big.length === 0) return null;
  const [d0, d1] = [big[0], big[big.length - 1] + 1];
  for (let d = d0; d < d1; d++) if (sh[d] !== outShape[d]) return null;
  let q = 1;
  for (let d = d1; d < nd; d++) q *= outShape[d];
  let p = 1;
  for (let d = d0; d < d1; d++) p *= sh[d];
  return [q, p];
}

/** Element of `shape` read at each index of the broadcast output `outShape` (n elements). */
function broadcastMap(shape: readonly number[], outShape: readonly number[], n: number): Int32Array {
  const m = new Int32Array(n);
  const nd = outShape.length;
  const st = new Array<number>(nd).fill(0);
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    st[nd - shape.length + d] = shape[d] === 1 ? 0 : s;
    s *= shape[d];
  }
  const idx = new Array<number>(nd).fill(0);
  let off = 0;
  for (let i = 0; i < n; i++) {
    m[i] = off;
    for (let d = nd - 1; d >= 0; d--) {
      idx[d]++;
      off += st[d];
      if (idx[d] < outShape[d]) break;
      off -= st[d] * idx[d];
      idx[d] = 0;
    }
  }
  return m;
}

/**
 * Maps virtual registers to physical ones by last use, an output never sharing a register with
 * its own inputs, and encodes the program.
 */
function allocate(code: readonly Instr[]): Int32Array {
  const last = new Map<number, number>();
  code.forEach((c, t) => {
    for (const r of c.ins) last.set(r, t);
  });
  const phys = new Map<number, number>();
  const free: number[] = [];
  let count = 0;
  const words: number[] = [0];
  code.forEach((c, t) => {
    const ins = c.ins.map((r) => phys.get(r) as number);
    let d = -1;
    if (c.dst >= 0) {
      d = free.length > 0 ? (free.pop() as number) : count++;
      phys.set(c.dst, d);
    }
    for (const r of new Set(c.ins)) if (last.get(r) === t) free.push(phys.get(r) as number);
    // A value never read again still needs its register for this instruction only.
    if (c.dst >= 0 && !last.has(c.dst)) free.push(d);
    const op = c.op | (c.round === true ? ROUND : 0);
    switch (c.op) {
      case OP.load:
      case OP.gather:
      case OP.scalar:
      case OP.broadcast:
        words.push(op, d, c.w[0], c.w[1], c.w[2] ?? 0);
        break;
      case OP.unary:
        words.push(op, d, ins[0], c.w[0], 0);
        break;
      case OP.copy:
        words.push(op, d, ins[0], 0, 0);
        break;
      case OP.binary:
        words.push(op, d, ins[0], ins[1], c.w[0]);
        break;
      case OP.binaryScalar:
        words.push(op, d, ins[0], c.w[0], c.w[1]);
        break;
      case OP.axpby:
      case OP.adamDir:
        words.push(op, d, ins[0], ins[1], c.w[0]);
        break;
      case OP.scalarBinary:
        words.push(op, d, c.w[0], ins[0], c.w[1]);
        break;
      case OP.where:
        words.push(op, d, ins[0], ins[1], ins[2]);
        break;
      case OP.clamp:
        words.push(op, d, ins[0], c.w[0], c.w[1]);
        break;
      case OP.scatter:
        words.push(op, c.w[0], c.w[1], ins[0], 0);
        break;
      default:
        // store (array slot, register) and sum (accumulator, register)
        words.push(c.op, c.w[0], ins[0], 0, 0);
    }
  });
  words[0] = Math.max(1, count);
  return Int32Array.from(words);
}
