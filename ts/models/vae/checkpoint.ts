/**
 * Training checkpoints as safetensors: the tensors of `{ params, opt }` under dotted names
 * (`params.enc.0.mu.weight`, `opt.0.mu.3`, …), and the numbers of the optimizer state (step
 * counters), the step and the model configuration in the metadata. Loading rebuilds the state in
 * the structure of a template (fresh parameters and `optimizer.init`), so a missing tensor or one
 * of the wrong shape is named in the error. The file is written atomically (a crash mid-save leaves
 * the previous checkpoint) and carries a SHA-256 of its tensors and numbers, which loading verifies.
 */
import { createHash } from 'node:crypto';
import { FormatError, ShapeError, ValueError } from '../../core/errors.js';
import { Tensor } from '../../core/tensor.js';
import { loadSafetensors, saveSafetensors } from '../../io/safetensors.js';
import type { OptState } from '../../optim/transform.js';

/** What a checkpoint holds: enough to continue training exactly where it stopped. */
export interface TrainState<P = unknown> {
  /** The model parameters (any pytree of tensors). */
  params: P;
  /** The optimizer's state, as its `init` made it and `update` advanced it. */
  optState: OptState;
  /** Steps taken so far (the next step's index). */
  step: number;
}

const FORMAT = 'varinf-train-state-2';
/** Checkpoints written before the checksum: still read, without verification. */
const FORMAT_V1 = 'varinf-train-state-1';

/** SHA-256 over every tensor (name, dtype, shape, bytes, in name order) and every metadata entry but the checksum. */
function checksum(tensors: Record<string, Tensor>, metadata: Record<string, string>): string {
  const h = createHash('sha256');
  for (const name of Object.keys(tensors).sort()) {
    const t = tensors[name];
    const a = t.storageSync();
    h.update(`${name}\0${t.dtype}\0${t.shape.join(',')}\0`);
    h.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  }
  for (const k of Object.keys(metadata).sort()) if (k !== 'checksum') h.update(`${k}\0${metadata[k]}\0`);
  return h.digest('hex');
}

function walk(tree: unknown, prefix: string, tensors: Record<string, Tensor>, numbers: Record<string, number | boolean | string | null>): void {
  if (tree instanceof Tensor) tensors[prefix] = tree;
  else if (Array.isArray(tree)) tree.forEach((v, i) => walk(v, `${prefix}.${i}`, tensors, numbers));
  else if (tree !== null && typeof tree === 'object') for (const k of Object.keys(tree).sort()) walk((tree as Record<string, unknown>)[k], `${prefix}.${k}`, tensors, numbers);
  else if (typeof tree === 'number' || typeof tree === 'boolean' || typeof tree === 'string' || tree === null) numbers[prefix] = tree;
  else if (tree !== undefined) throw new ValueError(`saveTrainState: cannot store ${typeof tree} at '${prefix}'`);
}

/**
 * Writes a training state (parameters, optimizer state, step) and optional string metadata to a
 * .safetensors file, atomically: the bytes go to a temporary file in the same folder that is then
 * renamed over `path`, so an interrupted save leaves the previous checkpoint intact.
 * @example saveTrainState('vae.safetensors', { params, optState, step: 1000 }, { config: JSON.stringify(vae.config) })
 */
export function saveTrainState(path: string, state: TrainState, metadata: Record<string, string> = {}): void {
  if (!Number.isInteger(state.step) || state.step < 0) throw new ValueError(`saveTrainState: step must be a non-negative integer, got ${state.step}`);
  const tensors: Record<string, Tensor> = {};
  const numbers: Record<string, number | boolean | string | null> = {};
  walk(state.params, 'params', tensors, numbers);
  walk(state.optState, 'opt', tensors, numbers);
  // JSON keeps integers exactly and floats to 17 significant digits: enough to round-trip.
  const meta = { ...metadata, format: FORMAT, step: String(state.step), numbers: JSON.stringify(numbers) };
  saveSafetensors(path, tensors, { ...meta, checksum: checksum(tensors, meta) });
}

/**
 * Reads a training state saved by `saveTrainState` into the structure of `template` (for example
 * `{ params: vae.init(key(0)), optState: opt.init(params), step: 0 }`). Every tensor of the template
 * must be in the file with the same dtype and shape; the error names the first one that is not. A
 * truncated file, or one whose contents do not match its checksum, raises a `FormatError`.
 * @example const state = loadTrainState('vae.safetensors', template)
 */
export function loadTrainState<P>(path: string, template: TrainState<P>): TrainState<P> & {
  /** The file's string metadata (the caller's, plus the format tags the checkpoint writes). */
  metadata: Record<string, string>;
} {
  const { tensors, metadata } = loadSafetensors(path);
  if (metadata.format !== FORMAT && metadata.format !== FORMAT_V1)
    throw new ValueError(`loadTrainState: ${path} is not a varinf training checkpoint (format '${metadata.format ?? 'none'}', expected '${FORMAT}')`);
  if (metadata.format === FORMAT) {
    const sum = checksum(tensors, metadata);
    if (metadata.checksum !== sum)
      throw new FormatError(`loadTrainState: ${path} is corrupt: its contents hash to ${sum.slice(0, 16)}…, the checkpoint records ${(metadata.checksum ?? 'none').slice(0, 16)}…`);
  }
  let numbers: Record<string, unknown>;
  try {
    numbers = JSON.parse(metadata.numbers ?? '{}') as Record<string, unknown>;
  } catch (e) {
    throw new FormatError(`loadTrainState: ${path} has optimizer numbers that are not JSON (${(e as Error).message})`, { cause: e });
  }
  const rebuild = (x: unknown, name: string): unknown => {
    if (x instanceof Tensor) {
      const t = tensors[name];
      if (t === undefined) throw new ValueError(`loadTrainState: tensor '${name}' is missing from ${path}`);
      if (t.dtype !== x.dtype || t.shape.length !== x.shape.length || t.shape.some((d, i) => d !== x.shape[i]))
        throw new ShapeError(`loadTrainState: tensor '${name}' is ${t.dtype} [${t.shape.join(', ')}] in ${path} but the model expects ${x.dtype} [${x.shape.join(', ')}]`);
      return t;
    }
    if (Array.isArray(x)) return x.map((v, i) => rebuild(v, `${name}.${i}`));
    if (x !== null && typeof x === 'object') {
      const o: Record<string, unknown> = {};
      for (const k of Object.keys(x)) o[k] = rebuild((x as Record<string, unknown>)[k], `${name}.${k}`);
      return o;
    }
    if (x === undefined) return x;
    if (!(name in numbers)) throw new ValueError(`loadTrainState: value '${name}' is missing from ${path}`);
    return numbers[name];
  };
  const step = Number(metadata.step);
  if (!Number.isInteger(step) || step < 0) throw new ValueError(`loadTrainState: ${path} has no valid step (got '${metadata.step}')`);
  return {
    params: rebuild(template.params, 'params') as P,
    optState: rebuild(template.optState, 'opt'),
    step,
    metadata,
  };
}
