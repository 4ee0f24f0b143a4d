/**
 * Where the Rust addon comes from, in the napi-rs way: a prebuilt binary in a small per-platform
 * npm package (`varinf-linux-x64-gnu`, …, the main package's optionalDependencies, so npm installs
 * only the one matching the machine), or a build from source (`native/varinf.node` at the package
 * root: a clone's `npm install`, or `npx varinf-build-native` in a consumer's project).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The platform packages that are built and published, by napi-rs target triple. */
export const PLATFORM_PACKAGES = [
  'linux-x64-gnu',
  'linux-arm64-gnu',
  'linux-x64-musl',
  'darwin-x64',
  'darwin-arm64',
  'win32-x64-msvc',
] as const;

/** Whether this Linux process runs on musl libc (Alpine) rather than glibc. */
function isMusl(): boolean {
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
  return report?.header?.glibcVersionRuntime === undefined;
}

/**
 * The napi-rs target triple of the running process, e.g. `linux-x64-gnu`, `darwin-arm64`,
 * `win32-x64-msvc`: the suffix of the platform package that fits it.
 */
export function platformTriple(platform: string = process.platform, arch: string = process.arch, musl?: boolean): string {
  if (platform === 'linux') return `linux-${arch}-${(musl ?? isMusl()) ? 'musl' : 'gnu'}`;
  if (platform === 'win32') return `win32-${arch}-msvc`;
  return `${platform}-${arch}`;
}

/** One place the addon may be, and what to say when it is not there. */
export interface AddonCandidate {
  /** The file to load. */
  path: string;
  /** Where it came from: 'VARINF_NATIVE_PATH', 'source build' or the platform package's name. */
  origin: string;
}

/** The package root: ts/backends/cpu and dist/backends/cpu both sit three levels below it. */
export function packageRoot(): string {
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
}

/**
 * The addon files that exist, in the order they are tried: VARINF_NATIVE_PATH, a build from source
 * at `native/varinf.node`, then the platform package for this machine.
 */
export function addonCandidates(): AddonCandidate[] {
  const list: AddonCandidate[] = [];
  const env = process.env.VARINF_NATIVE_PATH;
  if (env !== undefined && env !== '') list.push({ path: env, origin: 'VARINF_NATIVE_PATH' });
  const built = join(packageRoot(), 'native', 'varinf.node');
  if (existsSync(built)) list.push({ path: built, origin: 'source build' });
  const name = `varinf-${platformTriple()}`;
  try {
    const require = createRequire(import.meta.url);
    const dir = dirname(require.resolve(`${name}/package.json`));
    list.push({ path: join(dir, `varinf.${platformTriple()}.node`), origin: name });
  } catch {
    // Not installed: the usual case on a platform without a prebuilt package.
  }
  return list;
}

/** How a consumer gets a native backend when none loaded: one sentence with commands that work. */
export function nativeFixHint(): string {
  const triple = platformTriple();
  const published = (PLATFORM_PACKAGES as readonly string[]).includes(triple);
  const prebuilt = published
    ? `reinstall without --no-optional/--omit=optional so npm installs varinf-${triple}, or build from source`
    : `no prebuilt binary exists for ${triple}; build from source`;
  return `${prebuilt} with \`npx varinf-build-native\` (needs Rust's cargo)`;
}
