/**
 * A stand-in GPU for tests on machines without one: the js kernels over boxed storage, registered
 * under the name 'cuda' with device 'cuda'. Boxing keeps device storage opaque, so code that
 * treats it as a typed array fails here as it would on a real GPU; freed boxes reject use, and
 * allocations are counted (a replayed compiled step must allocate nothing).
 *
 * It records graphs as the cuda backend does (CUDA stream capture): between `graphs.begin()` and
 * `end()` kernels are recorded, not run, with their storage and attributes frozen as a captured
 * launch's pointers and arguments are; a host read or a kernel that reads the device back
 * (cholesky, on the real device) fails while recording; a random kernel given a `deviceKey` reads
 * its key from storage when the graph is launched.
 */
import { allocArray, type DType, type TypedArray } from '../../ts/core/dtype.js';
import { ENGINE } from '../../ts/core/engine.js';
import type { Backend, DeviceGraphs, DeviceKey, View } from '../../ts/backends/backend.js';
import { jsBackend } from '../../ts/backends/js/index.js';
import type { KernelAttrs, KernelName } from '../../ts/kernels/spec.js';

export interface Box {
  a: TypedArray;
  live: boolean;
  /** Allocated while recording: the graph owns it, a free does not end it. */
  recorded?: boolean;
}

interface Recorded {
  readonly name: KernelName;
  readonly ins: readonly View<Box>[];
  readonly outs: readonly View<Box>[];
  readonly attrs: Record<string, unknown>;
}

/** Kernels the real device cannot record: they read a status back from the device. */
const READS_BACK = new Set<KernelName>(['cholesky']);

const freeze = (v: View<Box>): View<Box> => ({ data: v.data, shape: v.shape.slice(), dtype: v.dtype });

class FakeDevice implements Backend<Box> {
  readonly name = 'cuda';
  readonly device = 'cuda' as const;
  /** Allocations and uploads so far. */
  allocs = 0;
  /** Host reads so far. */
  reads = 0;
  /** Kernels run one by one so far, and graph launches. */
  kernels = 0;
  launches = 0;
  private recording: Recorded[] | null = null;
  readonly graphs: DeviceGraphs<Box> = {
    begin: () => {
      if (this.recording !== null) throw new Error('fake device graphs.begin: already recording');
      this.recording = [];
    },
    end: () => {
      if (this.recording === null) throw new Error('fake device graphs.end: not recording');
      const g = { calls: this.recording, live: true };
      this.recording = null;
      return g;
    },
    abort: () => {
      this.recording = null;
    },
    launch: (g) => {
      const graph = g as { calls: Recorded[]; live: boolean };
      if (!graph.live) throw new Error('fake device graphs.launch: graph used after free');
      this.launches++;
      for (const c of graph.calls) {
        const dk = c.attrs.deviceKey as DeviceKey<Box> | undefined;
        const words = dk === undefined ? null : open(dk.data, c.name);
        const attrs = words === null ? c.attrs : { ...c.attrs, key: [words[2 * dk!.index] >>> 0, words[2 * dk!.index + 1] >>> 0] };
        this.exec(c.name, c.ins, c.outs, attrs as never);
      }
    },
    free: (g) => {
      (g as { live: boolean }).live = false;
    },
    write: (d, words) => {
      open(d, 'write').set(words);
    },
  };

  alloc(dtype: DType, size: number): Box {
    this.allocs++;
    return { a: allocArray(dtype, size), live: true, recorded: this.recording !== null };
  }
  upload(data: TypedArray): Box {
    this.allocs++;
    return { a: data.slice(), live: true };
  }
  readSync(d: Box, _dtype: DType, size: number): TypedArray {
    if (this.recording !== null) throw new Error('fake device readSync: a host read while recording a graph');
    this.reads++;
    return open(d, 'readSync').slice(0, size);
  }
  read(d: Box, dtype: DType, size: number): Promise<TypedArray> {
    return Promise.resolve(this.readSync(d, dtype, size));
  }
  free(d: Box): void {
    if (d.recorded !== true) d.live = false;
  }
  has(name: KernelName): boolean {
    return jsBackend.has(name);
  }
  run<N extends KernelName>(name: N, ins: readonly View<Box>[], outs: readonly View<Box>[], attrs: KernelAttrs[N]): void {
    if (this.recording === null) {
      this.kernels++;
      return this.exec(name, ins, outs, attrs);
    }
    if (READS_BACK.has(name)) throw new Error(`fake device ${name}: reads the device back, which fails while recording a graph`);
    // Storage and arguments are frozen as a captured launch's are: later changes to the views or attrs do not reach the graph.
    const at = { ...(attrs as Record<string, unknown>) };
    if (Array.isArray(at.key)) at.key = at.key.slice();
    this.recording.push({ name, ins: ins.map(freeze), outs: outs.map(freeze), attrs: at });
  }

  private exec<N extends KernelName>(name: N, ins: readonly View<Box>[], outs: readonly View<Box>[], attrs: KernelAttrs[N]): void {
    const un = (v: View<Box>): View<TypedArray> => ({ data: open(v.data, name), shape: v.shape, dtype: v.dtype });
    jsBackend.run(name, ins.map(un), outs.map(un), attrs);
  }
}

function open(d: Box, what: string): TypedArray {
  if (d === null || typeof d !== 'object' || !(d.a instanceof Object)) throw new Error(`fake device ${what}: not a device buffer: ${String(d)}`);
  if (!d.live) throw new Error(`fake device ${what}: buffer used after free`);
  return d.a;
}

/** Registers the fake device as 'cuda' unless a real one is there; returns it (also when already registered), or null. */
export function installFakeDevice(): FakeDevice | null {
  if (ENGINE.backendNames().includes('cuda')) {
    const b = ENGINE.getBackend('cuda');
    return b instanceof FakeDevice ? b : null;
  }
  const d = new FakeDevice();
  ENGINE.register(d as Backend);
  return d;
}
