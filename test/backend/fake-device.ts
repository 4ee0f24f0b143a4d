/**
 * A stand-in GPU for tests on machines without one: the js kernels over boxed storage, registered
 * under the name 'cuda' with device 'cuda'. Boxing keeps device storage opaque, so code that
 * treats it as a typed array fails here as it would on a real GPU; freed boxes reject use, and
 * allocations are counted (a replayed compiled step must allocate nothing).
 */
import { allocArray, type DType, type TypedArray } from '../../ts/core/dtype.js';
import { ENGINE } from '../../ts/core/engine.js';
import type { Backend, View } from '../../ts/backends/backend.js';
import { jsBackend } from '../../ts/backends/js/index.js';
import type { KernelAttrs, KernelName } from '../../ts/kernels/spec.js';

export interface Box {
  a: TypedArray;
  live: boolean;
}

class FakeDevice implements Backend<Box> {
  readonly name = 'cuda';
  readonly device = 'cuda' as const;
  /** Allocations and uploads so far. */
  allocs = 0;
  /** Host reads so far. */
  reads = 0;

  alloc(dtype: DType, size: number): Box {
    this.allocs++;
    return { a: allocArray(dtype, size), live: true };
  }
  upload(data: TypedArray): Box {
    this.allocs++;
    return { a: data.slice(), live: true };
  }
  readSync(d: Box, _dtype: DType, size: number): TypedArray {
    this.reads++;
    return open(d, 'readSync').slice(0, size);
  }
  read(d: Box, dtype: DType, size: number): Promise<TypedArray> {
    return Promise.resolve(this.readSync(d, dtype, size));
  }
  free(d: Box): void {
    d.live = false;
  }
  has(name: KernelName): boolean {
    return jsBackend.has(name);
  }
  run<N extends KernelName>(name: N, ins: readonly View<Box>[], outs: readonly View<Box>[], attrs: KernelAttrs[N]): void {
    const un = (v: View<Box>): View<TypedArray> => ({ data: open(v.data, name), shape: v.shape, dtype: v.dtype });
    jsBackend.run(name, ins.map(un), outs.map(un), attrs);
  }
}

function open(d: Box, what: string): TypedArray {
  if (d === null || typeof d !== 'object' || !(d.a instanceof Object)) throw new Error(`fake device ${what}: not a device buffer: ${String(d)}`);
  if (!d.live) throw new Error(`fake device ${what}: buffer used after free`);
  return d.a;
}

/** Registers the fake device as 'cuda' unless a real one is there; returns it, or null. */
export function installFakeDevice(): FakeDevice | null {
  if (ENGINE.backendNames().includes('cuda')) return null;
  const d = new FakeDevice();
  ENGINE.register(d as Backend);
  return d;
}
