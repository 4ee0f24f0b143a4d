#!/usr/bin/env node
// Packs the prebuilt native addon of this machine's platform as its npm package: copies
// native/varinf.node (build it first: npm run build:native) into npm/<triple>/ as
// varinf.<triple>.node (with the LICENSE), sets the package's version to the main package's, and runs `npm pack`
// there. The tarball goes to --out (default: the repository root). Each platform's package is made
// the same way on a machine of that platform.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { triple } from './triple.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: { out: { type: 'string', default: root } } });

const t = triple();
const dir = join(root, 'npm', t);
const addon = join(root, 'native', 'varinf.node');
if (!existsSync(join(dir, 'package.json'))) throw new Error(`pack-native: no platform package for ${t} under npm/`);
if (!existsSync(addon)) throw new Error('pack-native: native/varinf.node is not built (run npm run build:native)');
copyFileSync(addon, join(dir, `varinf.${t}.node`));
copyFileSync(join(root, 'LICENSE'), join(dir, 'LICENSE'));
const version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;
const pkgPath = join(dir, 'package.json');
const pkg = JSON.parse(readFileSync(pkgPath, 'utf8'));
if (pkg.version !== version) writeFileSync(pkgPath, `${JSON.stringify({ ...pkg, version }, null, 2)}\n`);
const file = execFileSync('npm', ['pack', '--silent', '--pack-destination', resolve(values.out)], { cwd: dir, encoding: 'utf8' }).trim().split('\n').pop();
process.stdout.write(`${join(resolve(values.out), file)}\n`);
