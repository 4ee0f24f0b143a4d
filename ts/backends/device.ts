/**
 * Moving tensors between the host and a GPU: `toDevice(x, 'cuda')` uploads, `toHost(x)` reads
 * back. Ops run where their inputs live, so moving the parameters (and the data) is all a model
 * needs to train on another device.
 */
import { customGradient } from '../core/autodiff.js';
import { ENGINE } from '../core/engine.js';
import { BackendError, ValueError } from '../core/errors.js';
import type { Tensor } from '../core/tensor.js';
import { mapLeaves } from '../core/tree.js';
import type { Backend, Device } from './backend.js';
import { whyMissing } from './registry.js';

const DEVICES: readonly Device[] = ['cpu', 'cuda'];

function backendFor(where: string, device: Device): Backend {
  if (!DEVICES.includes(device)) throw new ValueError(`${where}: device must be one of ${DEVICES.join(', ')}, got ${String(device)}`);
  if (device === 'cpu') return ENGINE.computeFor('cpu');
  if (!ENGINE.backendNames().includes(device)) {
    const why = whyMissing(device);
    throw new BackendError(`${where}: device '${device}' is not available${why !== undefined ? `: ${why}` : ''}`);
  }
  return ENGINE.computeFor(device);
}

/** One tensor moved to `target`, the gradient moved back to where it came from. */
function move(where: string, x: Tensor, target: Backend): Tensor {
  const src = x.backend;
  if (src.device === target.device) return x;
  if (ENGINE.recorder !== null)
    throw new BackendError(
      `${where}: a compiled function cannot move a tensor (shape [${x.shape.join(', ')}]) from ${src.device} to ${target.device}; move its inputs before calling it`,
    );
  return customGradient((t: Tensor) => ({
    value: ENGINE.toBackend(t, target),
    grad: (dy: Tensor) => [ENGINE.toBackend(dy, src)],
  }))(x);
}

/**
 * `x` (a tensor or a pytree of them: parameters, optimizer state, a batch) on `device`, by
 * default the active backend's device. Tensors already there are returned as they are, others
 * are copied (a read from the GPU waits for its queued work). Differentiable: a gradient taken
 * through the copy arrives on the source device. Inside `compile` it is an error: move the
 * inputs before calling a compiled function.
 * @example setBackend('cuda'); const p = toDevice(params) // every leaf on the GPU
 * @example const w = toDevice(tensor([1, 2]), 'cuda')
 */
export function toDevice<T>(x: T, device: Device = ENGINE.backend.device): T {
  const target = backendFor('toDevice', device);
  return mapLeaves(x, (t) => move('toDevice', t, target));
}

/**
 * `x` (a tensor or a pytree) on the host: {@link toDevice} with the cpu device, computed on by
 * the cpu backend in use ('cpu' when the native addon is there, else 'js').
 * @example const p = toHost(params); p.w.dataSync()
 */
export function toHost<T>(x: T): T {
  return toDevice(x, 'cpu');
}
