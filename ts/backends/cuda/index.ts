/** The cuda backend: kernels from cuda/ over device memory. */
import type { LoadResult } from '../cpu/index.js';

/** Loads the CUDA addon if it was built and sees a device; never throws. */
export function loadCudaBackend(): LoadResult {
  return { reason: 'the CUDA addon is not built' };
}
