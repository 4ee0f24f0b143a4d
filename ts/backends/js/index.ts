/**
 * The js backend: plain TypeScript over typed arrays. It implements every kernel of the spec and
 * is the oracle the other backends are tested against, so clarity beats speed here.
 */
import { BackendError } from '../../core/errors.js';
import { allocArray, type DType, type TypedArray } from '../../core/dtype.js';
import type { KernelAttrs, KernelName } from '../../kernels/spec.js';
import type { Backend, CpuKernel, CpuKernelTable, CpuView } from '../backend.js';
import { BESSEL } from './bessel.js';
import { ELEMENTWISE } from './elementwise.js';
import { FLOW } from './flow.js';
import { LINALG } from './linalg.js';
import { MVN } from './mvn.js';
import { RANDOM } from './random.js';
import { REDUCE } from './reduce.js';
import { SHAPE } from './shape.js';
import { SPLINE } from './spline.js';
import { SUBSET } from './subset.js';
import { SVGD } from './svgd.js';
import { VON_MISES } from './vonmises.js';

/** Every js kernel, by name. */
export const JS_KERNELS: CpuKernelTable = { ...ELEMENTWISE, ...REDUCE, ...LINALG, ...SHAPE, ...RANDOM, ...SUBSET, ...BESSEL, ...VON_MISES, ...SVGD, ...MVN, ...FLOW, ...SPLINE };

class JsBackend implements Backend<TypedArray> {
  readonly name = 'js';
  readonly device = 'cpu' as const;

  alloc(dtype: DType, size: number): TypedArray {
    return allocArray(dtype, size);
  }
  upload(data: TypedArray): TypedArray {
    return data;
  }
  readSync(data: TypedArray): TypedArray {
    return data;
  }
  read(data: TypedArray): Promise<TypedArray> {
    return Promise.resolve(data);
  }
  free(): void {}
  has(name: KernelName): boolean {
    return JS_KERNELS[name] !== undefined;
  }
  run<N extends KernelName>(name: N, ins: readonly CpuView[], outs: readonly CpuView[], attrs: KernelAttrs[N]): void {
    const k = JS_KERNELS[name] as CpuKernel<N> | undefined;
    if (k === undefined) throw new BackendError(`js backend: kernel '${name}' is not implemented`);
    k(ins, outs, attrs);
  }
}

export const jsBackend = new JsBackend();
