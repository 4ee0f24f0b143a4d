/**
 * The generated replay function in pieces: the statements of a large graph (a flow's training
 * step is ~1,000 lines) go into functions of about {@link PIECE_LINES} lines each, called in order
 * by `run`. V8 compiles a function whole: one 1,000-line function took TurboFan ~0.7 s of CPU (on a
 * background thread) and ran in its slow tiers for the ~40 calls before that, 5–10 times a steady
 * step each; pieces reach the optimizing tier after a few calls and compile in a fraction of the
 * time (bench/README-flows.md).
 *
 * Statements never straddle pieces. A piece rebinds the per-call arrays it reads (inputs, outputs)
 * from `I`/`O`; a scalar local (`s<id>`, a JavaScript number) defined in one piece and read in a
 * later one passes through a Float64Array slot, which holds any number exactly.
 */

/** Lines of generated code per piece (statements are kept whole, so a piece may run over). */
export const PIECE_LINES = 80;

/** The source text of `run` and its pieces, to follow the closure-level bindings. */
export function splitRun(perCall: readonly string[], units: readonly (readonly string[])[], pieceLines = PIECE_LINES): string {
  const total = units.reduce((a, u) => a + u.length, 0);
  if (total <= pieceLines) return `return function run(I, KW, O) {\n${[...perCall, ...units.flat()].map((l) => `  ${l}`).join('\n')}\n};`;
  // The per-call bindings by the array name they define (`const b7 = I[3];`), and the other
  // per-call lines (key derivation, input scalars), which open the first piece.
  const bindings = new Map<string, string>();
  const opening: string[] = [];
  for (const l of perCall) {
    const m = /^const (b\d+) = [IO]\[\d+\];$/.exec(l);
    if (m !== null) bindings.set(m[1], l);
    else opening.push(l);
  }
  const pieces: string[][] = [];
  let cur: string[] = [...opening];
  for (const u of units) {
    if (cur.length > 0 && cur.length + u.length > pieceLines) {
      pieces.push(cur);
      cur = [];
    }
    cur.push(...u);
  }
  if (cur.length > 0) pieces.push(cur);

  // Scalars each piece defines (at its top level) and reads.
  const defines = pieces.map((p) => new Set(p.flatMap((l) => /^const (s\d+) = /.exec(l)?.[1] ?? [])));
  const reads = pieces.map((p) => new Set(p.join('\n').match(/\bs\d+\b/g) ?? []));
  const slot = new Map<string, number>();
  const imports = pieces.map((_, k) => [...reads[k]].filter((s) => !defines[k].has(s)));
  for (const list of imports)
    for (const s of list) if (!slot.has(s)) slot.set(s, slot.size);

  const fns = pieces.map((p, k) => {
    const text = p.join('\n');
    const arrays = [...new Set(text.match(/\bb\d+\b/g) ?? [])].filter((b) => bindings.has(b));
    const head = [...arrays.map((b) => bindings.get(b) as string), ...imports[k].map((s) => `const ${s} = L[${slot.get(s)}];`)];
    const tail = [...defines[k]].filter((s) => slot.has(s)).map((s) => `L[${slot.get(s)}] = ${s};`);
    return `function p${k}(I, KW, O) {\n${[...head, ...p, ...tail].map((l) => `  ${l}`).join('\n')}\n}`;
  });
  return [
    `const L = new Float64Array(${Math.max(1, slot.size)});`,
    ...fns,
    `return function run(I, KW, O) {\n${pieces.map((_, k) => `  p${k}(I, KW, O);`).join('\n')}\n};`,
  ].join('\n');
}
