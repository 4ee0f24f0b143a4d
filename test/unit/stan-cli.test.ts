import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../ts/stan/cli.js';
import { columnNames } from '../../ts/stan/output.js';

function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  return main(args, { out: (s) => (out += s), err: (s) => (err += s) }).then((code) => ({ code, out, err }));
}

describe('varinf command line', () => {
  it('names columns as CmdStan does, first index fastest', () => {
    expect(columnNames('S', [2, 3]).map((c) => `${c.label}@${c.offset}`)).toEqual(['S.1.1@0', 'S.2.1@3', 'S.1.2@1', 'S.2.2@4', 'S.1.3@2', 'S.2.3@5']);
    expect(columnNames('mu', [])).toEqual([{ label: 'mu', offset: 0 }]);
  });

  it('--help, and bad arguments with the expected and the found', async () => {
    expect((await run(['--help'])).out).toMatch(/Usage: varinf fit MODEL.stan DATA.json/);
    const g = await run(['fit', 'a.stan', 'b.json', '--guide', 'maf']);
    expect(g.code).toBe(2);
    expect(g.err).toMatch(/--guide: expected one of normal, mvn, lowrank, iaf, nsf, realnvp, bnaf, ffjord, found 'maf'/);
    const d = await run(['fit', 'a.stan', 'b.json', '--draws=-3']);
    expect(d.err).toMatch(/--draws: expected a positive integer, found '-3'/);
    const missing = await run(['fit', '/nonexistent/a.stan', 'b.json']);
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/ENOENT/);
  });

  it('fits a program, prints the summary and writes a CmdStan CSV', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'varinf-cli-'));
    writeFileSync(
      join(dir, 'm.stan'),
      'data { int N; vector[N] y; } parameters { real mu; } model { mu ~ normal(0, 10); y ~ normal(mu, 1); } generated quantities { real y_rep = normal_rng(mu, 1); }',
    );
    writeFileSync(join(dir, 'm.json'), JSON.stringify({ N: 4, y: [1, 2, 3, 2] }));
    const r = await run(['fit', join(dir, 'm.stan'), join(dir, 'm.json'), '--draws', '200', '--seed', '3', '--output', dir]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    // Posterior: mu ~ N(8/4.01, 1/4.01).
    const row = /^mu\s+(\S+)\s+(\S+)/m.exec(r.out);
    expect(Math.abs(Number(row![1]) - 8 / 4.01)).toBeLessThan(0.15);
    expect(Math.abs(Number(row![2]) - 1 / Math.sqrt(4.01))).toBeLessThan(0.1);
    expect(r.out).toMatch(/y_rep/);
    expect(r.out).toMatch(/k̂ = /);
    const csv = readFileSync(join(dir, 'm.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe('# varinf fit m.stan m.json');
    const header = csv.findIndex((l) => l.startsWith('lp__'));
    expect(csv[header]).toBe('lp__,mu,y_rep');
    expect(csv.length - header - 1).toBe(200);
    expect(csv[header + 1].split(',').map(Number).every(Number.isFinite)).toBe(true);
    // A flow guide from the command line: the same posterior.
    const f = await run(['fit', join(dir, 'm.stan'), join(dir, 'm.json'), '--guide', 'iaf', '--draws', '400', '--output', dir]);
    expect(f.code).toBe(0);
    const frow = /^mu\s+(\S+)\s+(\S+)/m.exec(f.out);
    expect(Math.abs(Number(frow![1]) - 8 / 4.01)).toBeLessThan(0.15);
    expect(Math.abs(Number(frow![2]) - 1 / Math.sqrt(4.01))).toBeLessThan(0.1);
  }, 120_000);
});
