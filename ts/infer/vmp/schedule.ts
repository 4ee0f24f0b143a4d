/**
 * The default update order, derived from the graph: latent variables parents first (a
 * topological order of the directed model, ties broken by declaration order), except that
 * variables the user initialized go last, so the first sweep propagates that information into the
 * others before it is overwritten.
 */
import { ValueError } from '../../core/errors.js';
import type { VmpVariable } from './node.js';

/** The default schedule of `vars` (in declaration order). */
export function defaultSchedule(vars: readonly VmpVariable[]): VmpVariable[] {
  // parents(v): the other latent variables of v's prior factor.
  const indeg = new Map<VmpVariable, number>();
  const children = new Map<VmpVariable, VmpVariable[]>();
  for (const v of vars) {
    indeg.set(v, 0);
    children.set(v, []);
  }
  for (const v of vars) {
    const prior = v.factors[0];
    for (const p of prior.variables) {
      if (p === v) continue;
      indeg.set(v, (indeg.get(v) ?? 0) + 1);
      children.get(p)?.push(v);
    }
  }
  const order: VmpVariable[] = [];
  const ready = vars.filter((v) => indeg.get(v) === 0);
  while (ready.length > 0) {
    ready.sort((a, b) => a.index - b.index);
    const v = ready.shift() as VmpVariable;
    order.push(v);
    for (const c of children.get(v) ?? []) {
      const d = (indeg.get(c) ?? 0) - 1;
      indeg.set(c, d);
      if (d === 0) ready.push(c);
    }
  }
  // Builders only take parents that already exist, so the graph is acyclic by construction.
  return [...order.filter((v) => !v.initialized), ...order.filter((v) => v.initialized)];
}

/** Resolves a user's schedule (names of latent variables, each exactly once). */
export function namedSchedule(vars: readonly VmpVariable[], names: readonly string[]): VmpVariable[] {
  const byName = new Map(vars.map((v) => [v.name, v]));
  const seen = new Set<string>();
  const out: VmpVariable[] = [];
  for (const n of names) {
    const v = byName.get(n);
    if (v === undefined) throw new ValueError(`vmp: the schedule names '${n}', which is not a latent variable of the graph (latent: ${[...byName.keys()].join(', ')})`);
    if (seen.has(n)) throw new ValueError(`vmp: the schedule names '${n}' twice`);
    seen.add(n);
    out.push(v);
  }
  const missing = vars.filter((v) => !seen.has(v.name)).map((v) => v.name);
  if (missing.length > 0) throw new ValueError(`vmp: the schedule leaves out latent variable(s) ${missing.join(', ')}; every latent variable must be updated`);
  return out;
}
