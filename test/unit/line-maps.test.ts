/**
 * The package's source maps at line granularity (scripts/line-maps.mjs): for every generated line
 * of a real module, the shrunk map gives the same source position as tsc's full map does for that
 * line's first mapped column — checked with Node's own source-map reader.
 */
import { readFileSync } from 'node:fs';
import { SourceMap, type SourceMapPayload } from 'node:module';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs build script without types
import { lineMappings } from '../../scripts/line-maps.mjs';

describe('line-granularity source maps', () => {
  it('map every line where tsc maps its first segment, in a fifth of the size or less', () => {
    for (const file of ['ts/core/tensor.ts', 'ts/infer/svi.ts', 'ts/flows/spline.ts']) {
      const out = ts.transpileModule(readFileSync(file, 'utf8'), { compilerOptions: { sourceMap: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, removeComments: true }, fileName: file });
      const full = JSON.parse(out.sourceMapText as string) as SourceMapPayload;
      const small: SourceMapPayload = { ...full, mappings: (lineMappings as (m: string) => string)(full.mappings), names: [] };
      const a = new SourceMap(full);
      const b = new SourceMap(small);
      const text = out.outputText.split('\n');
      let checked = 0;
      for (let line = 0; line < text.length; line++) {
        // The first column of this line that tsc's full map maps (found by Node's reader alone).
        let c0 = -1;
        for (let c = 0; c <= text[line].length && c0 < 0; c++) if ((a.findEntry(line, c) as { generatedLine?: number }).generatedLine === line) c0 = c;
        const kept = b.findEntry(line, Math.max(c0, 0)) as { generatedLine?: number; originalSource?: string; originalLine?: number; originalColumn?: number };
        if (c0 < 0) {
          expect(kept.generatedLine === line).toBe(false);
          continue;
        }
        const want = a.findEntry(line, c0) as { originalSource: string; originalLine: number; originalColumn: number };
        expect([kept.generatedLine, kept.originalSource, kept.originalLine, kept.originalColumn]).toEqual([line, want.originalSource, want.originalLine, want.originalColumn]);
        checked++;
      }
      expect(checked).toBeGreaterThan(50);
      expect(small.mappings.length).toBeLessThan(full.mappings.length / 4);
    }
  });
});
