/**
 * Runs one {@link Job} on the current thread: the worker side of {@link fitMany}, and its serial
 * path (`workers: 0`), so that both give the same numbers for the same keys.
 */
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as errors from '../core/errors.js';
import { ValueError, VarinfError } from '../core/errors.js';
import { AutoMultivariateNormal, AutoNormal } from '../infer/autoguide.js';
import { TraceELBO } from '../infer/elbo.js';
import { fitSync } from '../infer/fit/fit.js';
import { SVI } from '../infer/svi.js';
import { adam } from '../optim/alias.js';
import type { ModelFn } from '../ppl/runtime.js';
import { Tensor } from '../core/tensor.js';
import type { FitJobValue, Job, SviJob, SviJobValue } from './jobs.js';
import { decodeArg, encodeResult, toKey, type PortableTensor } from './portable.js';

/**
 * A job's module specifier as an import target: paths (absolute, or relative to the current
 * directory) become `file:` URLs; URLs and package names stay.
 * @example resolveJobModule('./models/eight.ts'); // 'file:///home/me/models/eight.ts'
 */
export function resolveJobModule(spec: string): string {
  if (/^[a-z][a-z0-9+.-]*:/i.test(spec) && !/^[a-z]:[\\/]/i.test(spec)) return spec;
  if (isAbsolute(spec) || spec.startsWith('.')) return pathToFileURL(resolve(spec)).href;
  return spec;
}

const loaded = new Map<string, Record<string, unknown>>();

async function exportOf(job: Job, i: number): Promise<unknown> {
  if (typeof job.module !== 'string' || job.module === '') throw new ValueError(`fitMany: job ${i} has no module (a path or package that exports the model)`);
  const url = resolveJobModule(job.module);
  let mod = loaded.get(url);
  if (mod === undefined) {
    try {
      mod = (await import(url)) as Record<string, unknown>;
    } catch (e) {
      throw new VarinfError(`fitMany: job ${i}: cannot import module '${job.module}' (${url}): ${(e as Error).message}`, { cause: e });
    }
    loaded.set(url, mod);
  }
  const name = job.export ?? 'model';
  const f = mod[name];
  if (typeof f !== 'function') throw new ValueError(`fitMany: job ${i}: module '${job.module}' has no function export '${name}' (exports: ${Object.keys(mod).join(', ') || 'none'})`);
  return f;
}

/**
 * SVI objects kept between `svi` jobs of the same model, recipe and argument shapes: a new SVI
 * traces and generates its compiled step again (tens of ms, against ~10 ms for 2000 eight-schools
 * steps), while a kept one replays it. A run depends only on its key and data (`runSync` calls
 * `init`), so a kept SVI gives the same numbers as a fresh one (the fitMany test checks it).
 */
const sviCache = new Map<string, SVI<unknown[]>>();
const SVI_CACHE_SIZE = 8;

function argSignature(args: unknown[]): string {
  return JSON.stringify(args, (_k, v: unknown) => (v instanceof Tensor ? `${v.dtype}[${v.shape.join(',')}]` : v));
}

function sviFor(url: string, job: SviJob, model: ModelFn<unknown[]>, args: unknown[]): SVI<unknown[]> {
  const o = job.options;
  const id = JSON.stringify([url, job.export ?? 'model', o.guide ?? 'normal', o.lr ?? 0.01, o.particles ?? 1, argSignature(args)]);
  let svi = sviCache.get(id);
  if (svi === undefined) {
    const G = (o.guide ?? 'normal') === 'mvn' ? AutoMultivariateNormal : AutoNormal;
    svi = new SVI(model, new G(model), adam(o.lr ?? 0.01), new TraceELBO({ numParticles: o.particles ?? 1 }));
    if (sviCache.size >= SVI_CACHE_SIZE) sviCache.delete(sviCache.keys().next().value as string);
    sviCache.set(id, svi);
  }
  return svi;
}

function portableParams(params: Record<string, unknown>): Record<string, PortableTensor> {
  return encodeResult(params) as Record<string, PortableTensor>;
}

/**
 * Runs job `i` here and returns its value as plain data (see {@link FitJobValue},
 * {@link SviJobValue}); throws what the job throws.
 * @example const v = await runJob({ module: './eight.ts', args: [y, s], options: { key: 0 } }, 0);
 */
export async function runJob(job: Job, i: number): Promise<unknown> {
  const f = await exportOf(job, i);
  const args = (job.args ?? []).map(decodeArg);
  if (job.kind === 'task') return encodeResult(await (f as (input: unknown, ...a: unknown[]) => unknown)(job.input, ...args));
  const model = f as ModelFn<unknown[]>;
  if (job.kind === 'svi') {
    const o = job.options;
    if (!Number.isInteger(o.steps) || o.steps < 1) throw new ValueError(`fitMany: job ${i}: options.steps must be a positive integer, got ${o.steps}`);
    const svi = sviFor(resolveJobModule(job.module), job, model, args);
    const r = svi.runSync(toKey(o.key, `fitMany: job ${i}: options.key`), o.steps, args, { progressBar: false, compile: o.compile ?? true });
    const value: SviJobValue = { params: portableParams(r.params), losses: r.losses, compiled: r.compiled };
    return value;
  }
  const { key: k, ...rest } = job.options;
  const r = fitSync(model, args, { ...rest, key: toKey(k, `fitMany: job ${i}: options.key`), progressBar: false });
  const value: FitJobValue = { params: portableParams(r.params), summary: r.summary, elbo: r.elbo, khat: r.khat, losses: r.losses, warnings: r.warnings, steps: r.timings.steps };
  return value;
}

/** An error as plain data, to cross a thread boundary. */
export interface WireError {
  /** The class name. */
  name: string;
  /** The message. */
  message: string;
  /** The stack, where there was one. */
  stack?: string;
}

/**
 * An error as {@link WireError}.
 * @example worker.postMessage(toWireError(e));
 */
export function toWireError(e: unknown): WireError {
  if (e instanceof Error) return { name: e.name, message: e.message, stack: e.stack };
  return { name: 'Error', message: String(e) };
}

/**
 * The error a {@link WireError} describes, of varinf's class of that name where there is one.
 * @example const e = fromWireError({ name: 'ValueError', message: 'bad' }); // instanceof ValueError
 */
export function fromWireError(w: WireError): Error {
  const C = (errors as Record<string, unknown>)[w.name];
  const e = typeof C === 'function' && (C as { prototype: unknown }).prototype instanceof Error ? new (C as new (m: string) => Error)(w.message) : new Error(w.message);
  if (!(e instanceof VarinfError)) e.name = w.name;
  if (w.stack !== undefined) e.stack = w.stack;
  return e;
}
