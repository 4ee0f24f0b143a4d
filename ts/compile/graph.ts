/**
 * The traced graph: values (inputs, constants, kernel outputs), kernel nodes in execution order,
 * and the derivation of every key the function used from its input keys. Passes here rewrite it
 * before code generation: constant folding happens while recording (a kernel none of whose inputs
 * depends on the function's inputs is not recorded: its eager result is a constant), then
 * algebraic identities, common subexpressions and dead code.
 */
import type { DType, TypedArray } from '../core/dtype.js';
import { BINARY_OPS, COMPARE_OPS, UNARY_OPS, type KernelName } from '../kernels/spec.js';

export interface Value {
  readonly id: number;
  readonly shape: readonly number[];
  readonly size: number;
  readonly dtype: DType;
  readonly kind: 'input' | 'const' | 'node';
  /** For inputs: the index among the tensor leaves of the arguments. */
  readonly input?: number;
  /** For constants: the data, captured at trace time (tensors are immutable). */
  readonly data?: TypedArray;
}

export interface Node {
  readonly op: KernelName;
  ins: number[];
  readonly outs: number[];
  readonly attrs: unknown;
  /** The key slot a random kernel draws from, or −1. */
  readonly keySlot: number;
}

/** How a key slot is obtained at replay: an input key, or split/foldIn of another slot. */
export type KeyDef = { readonly kind: 'input'; readonly index: number } | { readonly kind: 'split' | 'fold'; readonly parent: number; readonly arg: number };

export interface Graph {
  values: Value[];
  nodes: Node[];
  keys: KeyDef[];
  /** Output value ids, in output-leaf order. */
  outputs: number[];
  /** Output key slots (or −1 for a constant key) in output order. */
  outputKeys: number[];
}

/** Formats attributes for hashing (numbers exactly, including NaN, ±Infinity and −0). */
export function attrKey(a: unknown): string {
  if (typeof a === 'number') return Object.is(a, -0) ? '-0' : String(a);
  if (Array.isArray(a)) return `[${a.map(attrKey).join(',')}]`;
  if (a !== null && typeof a === 'object')
    return `{${Object.keys(a)
      .sort()
      .map((k) => `${k}:${attrKey((a as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return String(a);
}

function constKey(v: Value, limit = 64): string | null {
  if (v.kind !== 'const' || v.size > limit) return null;
  return `${v.dtype}|${v.shape.join(',')}|${Array.from(v.data as TypedArray, (x) => (Object.is(x, -0) ? '-0' : String(x))).join(',')}`;
}

/** Replaces every use of a value by another, in nodes and outputs. */
function substitute(g: Graph, repl: Map<number, number>): void {
  if (repl.size === 0) return;
  const r = (id: number): number => {
    let x = id;
    for (let y = repl.get(x); y !== undefined; y = repl.get(x)) x = y;
    return x;
  };
  for (const n of g.nodes) n.ins = n.ins.map(r);
  g.outputs = g.outputs.map(r);
}

function isConstScalar(g: Graph, id: number, value: number): boolean {
  const v = g.values[id];
  return v.kind === 'const' && v.size === 1 && (v.data as TypedArray)[0] === value && !Object.is((v.data as TypedArray)[0], -0);
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Kernels that read a size-1 operand as a scalar against a full-size one (both loop kinds do). */
const SCALAR_OPERAND = new Set<string>([...BINARY_OPS, ...COMPARE_OPS]);

/**
 * A constant array whose elements are all equal (a prior's zeros and ones broadcast over a plate,
 * their gradients' −½ and 0.5 factors) becomes a scalar when it is not an output and every kernel
 * reading it is a binary or comparison kernel with another operand of the output's full size:
 * the loops then hold it in a register instead of streaming the array (and x − 0, x·1 simplify).
 */
export function scalarizeConsts(g: Graph): void {
  const ok = new Map<number, boolean>();
  for (const n of g.nodes)
    n.ins.forEach((x, j) => {
      const v = g.values[x];
      if (v.kind !== 'const' || v.size <= 1) return;
      const size = g.values[n.outs[0]].size;
      const fine = SCALAR_OPERAND.has(n.op) && v.size === size && n.ins.some((y, i) => i !== j && g.values[y].size === size && g.values[y].kind !== 'const');
      ok.set(x, (ok.get(x) ?? true) && fine);
    });
  for (const id of g.outputs) ok.set(id, false);
  for (const [id, fine] of ok) {
    const v = g.values[id];
    const d = v.data as TypedArray;
    if (fine && d.every((x) => Object.is(x, d[0]))) g.values[id] = { ...v, shape: [], size: 1, data: d.slice(0, 1) };
  }
}

/**
 * Identities exact in floating point: x·1, x/1, x − 0, and casts or reshapes to what x already is.
 * (x + 0 is not exact: −0 + 0 = +0.)
 */
export function simplify(g: Graph): void {
  const repl = new Map<number, number>();
  for (const n of g.nodes) {
    const out = g.values[n.outs[0]];
    const [a, b] = n.ins;
    const keepsA = a !== undefined && sameShape(g.values[a].shape, out.shape) && g.values[a].dtype === out.dtype;
    if (!keepsA) continue;
    if ((n.op === 'mul' || n.op === 'div') && isConstScalar(g, b, 1)) repl.set(out.id, a);
    else if (n.op === 'sub' && isConstScalar(g, b, 0)) repl.set(out.id, a);
    else if (n.op === 'cast' || n.op === 'reshape' || n.op === 'broadcastTo') repl.set(out.id, a);
  }
  substitute(g, repl);
}

const ELEMENTWISE = new Set<string>([...UNARY_OPS, ...BINARY_OPS, ...COMPARE_OPS]);

/**
 * Moves a reshape above the elementwise kernel that produces its input: reshape(f(a, b)) becomes
 * f(reshape(a), b) when f's output feeds only the reshape and every operand either has f's full
 * shape (reshaped too: a view) or is smaller and lies within the trailing dimensions both shapes
 * share (so it broadcasts the same way). A dense layer's bias add on [k·B, H] then joins the loop
 * of the activation on [k, B, H] instead of making a pass of its own; repeated up a chain.
 */
export function hoistReshapes(g: Graph): void {
  const uses = new Map<number, number>();
  for (const n of g.nodes) for (const x of n.ins) uses.set(x, (uses.get(x) ?? 0) + 1);
  for (const o of g.outputs) uses.set(o, (uses.get(o) ?? 0) + 2);
  const producer = new Map<number, Node>();
  for (const n of g.nodes) for (const o of n.outs) producer.set(o, n);
  const V = g.values;
  let changed = true;
  while (changed) {
    changed = false;
    for (let ri = 0; ri < g.nodes.length; ri++) {
      const r = g.nodes[ri];
      if (r.op !== 'reshape') continue;
      const y = producer.get(r.ins[0]);
      if (y === undefined || !ELEMENTWISE.has(y.op) || y.outs.length !== 1 || uses.get(y.outs[0]) !== 1) continue;
      const S = V[y.outs[0]].shape;
      const R = V[r.outs[0]].shape;
      let shared = 0;
      while (shared < Math.min(S.length, R.length) && S[S.length - 1 - shared] === R[R.length - 1 - shared]) shared++;
      const fits = (x: number): boolean => {
        const sh = V[x].shape;
        if (V[x].size === 1 || sameShape(sh, S)) return true;
        let lead = 0;
        while (lead < sh.length && sh[lead] === 1) lead++;
        return sh.length - lead <= shared && sh.length <= R.length;
      };
      if (!y.ins.every(fits)) continue;
      const yi = g.nodes.indexOf(y);
      const added: Node[] = [];
      const ins = y.ins.map((x) => {
        if (V[x].size === 1 || !sameShape(V[x].shape, S)) return x;
        // A reshape of a reshape reads the original.
        const p = producer.get(x);
        const src = p !== undefined && p.op === 'reshape' ? p.ins[0] : x;
        if (sameShape(V[src].shape, R)) return src;
        const id = V.length;
        V.push({ id, shape: R, size: V[x].size, dtype: V[x].dtype, kind: 'node' });
        const n: Node = { op: 'reshape', ins: [src], outs: [id], attrs: { shape: [...R] }, keySlot: -1 };
        added.push(n);
        producer.set(id, n);
        uses.set(src, (uses.get(src) ?? 0) + 1);
        uses.set(id, 1);
        return id;
      });
      const moved: Node = { op: y.op, ins, outs: [r.outs[0]], attrs: y.attrs, keySlot: y.keySlot };
      producer.set(r.outs[0], moved);
      g.nodes.splice(ri, 1);
      g.nodes.splice(yi, 1, ...added, moved);
      changed = true;
    }
  }
}

/** Merges equal small constants and nodes with the same op, inputs, attributes, key and output shapes. */
export function cse(g: Graph): void {
  const repl = new Map<number, number>();
  const consts = new Map<string, number>();
  for (const v of g.values) {
    const k = constKey(v);
    if (k === null) continue;
    const prev = consts.get(k);
    if (prev === undefined) consts.set(k, v.id);
    else repl.set(v.id, prev);
  }
  substitute(g, repl);
  repl.clear();
  const seen = new Map<string, Node>();
  for (const n of g.nodes) {
    const r = (id: number): number => repl.get(id) ?? id;
    n.ins = n.ins.map(r);
    // The output shapes are part of the key: an elementwise op of size-1 inputs moved past a
    // reshape (hoistReshapes) has the reshape's shape ([1]) beside the unmoved one's ([]).
    const k = `${n.op}|${n.ins.join(',')}|${attrKey(n.attrs)}|${n.keySlot}|${n.outs.map((o) => g.values[o].shape.join('x')).join(',')}`;
    const prev = seen.get(k);
    if (prev === undefined) seen.set(k, n);
    else for (let i = 0; i < n.outs.length; i++) repl.set(n.outs[i], prev.outs[i]);
  }
  substitute(g, repl);
}

/** Drops nodes whose outputs nothing uses. */
export function dce(g: Graph): void {
  const live = new Set<number>(g.outputs);
  const keep: Node[] = [];
  for (let i = g.nodes.length - 1; i >= 0; i--) {
    const n = g.nodes[i];
    if (!n.outs.some((o) => live.has(o))) continue;
    keep.push(n);
    for (const x of n.ins) live.add(x);
  }
  g.nodes = keep.reverse();
}

/** A 32-bit hash of an array's bytes (large constants in fingerprints: data baked in at trace time). */
function contentHash(a: TypedArray): number {
  const w = new Int32Array(a.buffer, a.byteOffset, a.byteLength >> 2);
  let h = 0x811c9dc5 | 0;
  for (let i = 0; i < w.length; i++) h = Math.imul(h ^ w[i], 0x01000193);
  return h >>> 0;
}

/**
 * A string that is equal for two traces when they record the same computation (constants of more
 * than 65,536 elements compare by a hash of their bytes).
 */
export function fingerprint(g: Graph): string {
  const parts: string[] = [];
  for (const v of g.values) {
    if (v.kind === 'const' && v.size <= 65536) parts.push(`c${v.id}:${constKey(v, 65536)}`);
    else if (v.kind === 'const') parts.push(`c${v.id}:${v.dtype}[${v.shape.join(',')}]#${contentHash(v.data as TypedArray)}`);
    else parts.push(`${v.kind[0]}${v.id}:${v.dtype}[${v.shape.join(',')}]${v.input ?? ''}`);
  }
  for (const n of g.nodes) parts.push(`${n.op}(${n.ins.join(',')})>${n.outs.join(',')}${attrKey(n.attrs)}@${n.keySlot}`);
  parts.push(`keys:${g.keys.map((k) => (k.kind === 'input' ? `i${k.index}` : `${k.kind}${k.parent}.${k.arg}`)).join(',')}`);
  parts.push(`out:${g.outputs.join(',')}|${g.outputKeys.join(',')}`);
  return parts.join(';');
}

/** Runs the passes in order. */
export function optimize(g: Graph): void {
  scalarizeConsts(g);
  simplify(g);
  hoistReshapes(g);
  cse(g);
  dce(g);
}
