#!/usr/bin/env node
// Compiles ts/ into dist/ (ESM JavaScript, .d.ts and source maps), after removing the previous
// dist/ so no file of a deleted module ships. Two passes: the JavaScript without comments (the
// package stays small; source maps, at line granularity, lead back to ts/ lines), the declarations with their TSDoc.
// Then the CommonJS entry beside them. Run by `npm run build` and by `npm pack` (prepack).
import { spawnSync } from 'node:child_process';
import { copyFileSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { shrinkMap } from './line-maps.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
rmSync(join(root, 'dist'), { recursive: true, force: true });
const tsc = createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc');
for (const flags of [['--removeComments', '--declaration', 'false'], ['--emitDeclarationOnly']]) {
  const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', ...flags], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
// Source maps at line granularity (what stack traces use): a fifth of the size.
for (const f of readdirSync(join(root, 'dist'), { recursive: true })) if (String(f).endsWith('.js.map')) shrinkMap(join(root, 'dist', String(f)));
// The CommonJS entry and its types (scripts/cjs/): a require() of the same ES module.
for (const f of ['index.cjs', 'index.d.cts']) copyFileSync(join(root, 'scripts', 'cjs', f), join(root, 'dist', f));
