import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseStan } from '../../ts/stan/parser.js';
import { StanSyntaxError } from '../../ts/stan/errors.js';
import { tokenize } from '../../ts/stan/lexer.js';

const FIX = join(__dirname, '..', 'fixtures', 'stan');
// posteriordb's programs sit in ../shared beside the repository (two levels up from a worktree).
const ROOT = join(__dirname, '..', '..');
const PDB = [join(ROOT, '..', 'shared'), join(ROOT, '..', '..', 'shared')].map((s) => join(s, 'data', 'posteriordb')).find((p) => existsSync(p)) ?? join(ROOT, '..', 'shared', 'data', 'posteriordb');

describe('Stan lexer', () => {
  it('gives tokens with line and column, skipping comments', () => {
    const toks = tokenize('real x; // c\n/* a\n b */ x .*= 1.5e-3;');
    expect(toks.map((t) => t.text)).toEqual(['real', 'x', ';', 'x', '.*=', '1.5e-3', ';', '']);
    expect(toks[3].loc).toEqual({ line: 3, col: 7 });
  });
});

describe('Stan parser', () => {
  it('parses the committed fixtures', () => {
    const files = readdirSync(FIX).filter((f) => f.endsWith('.stan'));
    expect(files.length).toBeGreaterThan(2);
    for (const f of files) expect(() => parseStan(readFileSync(join(FIX, f), 'utf8')), f).not.toThrow();
  });

  it("follows Stan's precedence", () => {
    const p = parseStan('model { target += -a^2 * b .* c + d \' * e; }');
    const s = p.model[0];
    if (s.kind !== 'target') throw new Error('expected target');
    // (-(a^2) * (b .* c)) + (d' * e)
    expect(s.expr).toMatchObject({
      op: '+',
      left: { op: '*', left: { kind: 'unary', operand: { op: '^' } }, right: { op: '.*' } },
      right: { op: '*', left: { kind: 'transpose' } },
    });
  });

  it('reads declarations in old and new array syntax with bounds', () => {
    const p = parseStan('data { int<lower=0> N; real y[N]; array[N, 2] vector<lower=-1, upper=N>[3] z; cholesky_factor_cov[4, 3] L; }');
    expect(p.data.map((d) => (d.kind === 'decl' ? [d.name, d.type.base, d.type.arrayDims.length, d.type.sizes.length] : null))).toEqual([
      ['N', 'int', 0, 0],
      ['y', 'real', 1, 0],
      ['z', 'vector', 2, 1],
      ['L', 'cholesky_factor_cov', 0, 2],
    ]);
  });

  it('reads statements: loops, conditionals, truncation, conditional calls, slices, functions', () => {
    const src = `functions { real f_lpdf(real y, real mu) { return normal_lpdf(y | mu, 1); } void g(); }
      parameters { real mu; } model {
        for (n in 1:10) { if (n > 2) break; else continue; }
        while (0) {} 
        for (v in {1, 2}) print("v=", v);
        mu ~ normal(0, 1) T[-1, ];
        target += f_lpdf(mu | 0) + sum(x[2:, :3]) + (mu > 0 ? 1 : 0);
        x[1, 2:3] .*= [1, 2];
      }`;
    const p = parseStan(src);
    expect(p.functions.map((f) => f.name)).toEqual(['f_lpdf', 'g']);
    expect(p.model.map((s) => s.kind)).toEqual(['for', 'while', 'foreach', 'tilde', 'target', 'assign']);
  });

  it('reports syntax errors with line:col, expected and found', () => {
    expect(() => parseStan('parameters {\n  real mu\n}')).toThrow(/2:10.*expected.*';'.*found '}'|3:1: expected ';' ending the declaration, found '}'/);
    try {
      parseStan('model {\n  y ~ normal(0, 1;\n}');
      throw new Error('no error');
    } catch (e) {
      expect(e).toBeInstanceOf(StanSyntaxError);
      const err = e as StanSyntaxError;
      expect(err.loc).toEqual({ line: 2, col: 18 });
      expect(err.expected).toMatch(/'\)'/);
      expect(err.found).toBe("';'");
    }
    expect(() => parseStan('data { } model { } parameters { }')).toThrow(/1:20: expected a program block/);
  });

  it.skipIf(!existsSync(PDB))('parses all 128 posteriordb programs', () => {
    const dirs = readdirSync(PDB).filter((d) => existsSync(join(PDB, d, 'model.stan')));
    const bad = dirs.filter((d) => {
      try {
        parseStan(readFileSync(join(PDB, d, 'model.stan'), 'utf8'));
        return false;
      } catch {
        return true;
      }
    });
    expect(dirs.length).toBe(128);
    expect(bad).toEqual([]);
  });
  if (!existsSync(PDB)) it.skip(`posteriordb programs: ${PDB} is absent (a clone without ../shared)`, () => {});
});
