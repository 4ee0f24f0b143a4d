/**
 * The conformance suite: every kernel of the spec, on every registered backend other than js,
 * against the js reference, on the cases of ./cases.ts with per-dtype tolerances.
 */
import './env.js';
import '../../ts/index.js';
import { describe, expect, it } from 'vitest';
import { jsBackend } from '../../ts/backends/js/index.js';
import { backendByName, listBackends } from '../../ts/backends/registry.js';
import { KERNEL_NAMES, KERNELS } from '../../ts/kernels/spec.js';
import { compareOutputs, kernelCases, runCase, toleranceFor } from './cases.js';

const { available, missing } = listBackends();
const natives = available.filter((n) => n !== 'js');

it('every kernel has a conformance case', () => {
  expect(KERNEL_NAMES.filter((n) => kernelCases(n).length === 0)).toEqual([]);
});

describe('the js reference runs every case', () => {
  it.each(KERNEL_NAMES)('%s', (name) => {
    for (const c of kernelCases(name)) expect(() => runCase(jsBackend, c), c.label).not.toThrow();
  });
});

for (const [name, why] of Object.entries(missing))
  describe.skip(`${name} vs js — skipped: backend not present (${why})`, () => {
    it('every kernel matches js', () => {});
  });

describe.each(natives)('%s vs js', (bname) => {
  const backend = backendByName(bname);
  for (const name of KERNEL_NAMES) {
    const has = backend.has(name);
    it.skipIf(!has)(has ? name : `${name} — skipped: ${bname} lacks it and falls back to js`, () => {
      const failures: string[] = [];
      for (const c of kernelCases(name)) {
        const want = runCase(jsBackend, c);
        const got = runCase(backend, c);
        const infos = KERNELS[name].infer(c.inputs, c.attrs as never);
        want.forEach((w, k) => {
          const diff = compareOutputs(got[k], w, toleranceFor(c, infos[k].dtype));
          if (diff !== null) failures.push(`${c.label}: ${diff}`);
        });
      }
      expect(failures).toEqual([]);
    });
  }
});
