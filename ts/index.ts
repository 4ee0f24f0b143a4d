/**
 * varinf: variational inference for TypeScript.
 * @packageDocumentation
 */
import './backends/registry.js';

export type { DType, TypedArray } from './core/dtype.js';
export { Tensor, type NestedArray } from './core/tensor.js';
export {
  VarinfError,
  ShapeError,
  DTypeError,
  AxisError,
  ValueError,
  NotPositiveDefiniteError,
  BackendError,
  FormatError,
  SingularMatrixError,
  AllocationError,
  NonFiniteError,
  DisposedError,
  AbortError,
  ImproperPosteriorError,
} from './core/errors.js';
export { setBackend, getBackend, listBackends, fallbacks, setMatmulPrecision, getMatmulPrecision, withSettings, type MatmulPrecision, type Settings } from './backends/registry.js';
export { toDevice, toHost } from './backends/device.js';
export { valueAndGrad, grad, stopGradient, customGradient } from './core/autodiff.js';
export { tidy, keep, dispose } from './core/memory.js';
export type { Tree } from './core/tree.js';
export type { Shape } from './core/shape.js';
export type { Backend, Device, DeviceGraphs, DeviceKey, View } from './backends/backend.js';
export type { DocTermMatrix } from './data/docterm.js';
export * from './ops/index.js';
export { Key, key, split, foldIn } from './random/key.js';
export * from './random/samplers.js';
export * from './optim/index.js';
export * from './distributions/index.js';
export * from './bijectors/index.js';
export * from './ppl/index.js';
export * as handlers from './ppl/handlers.js';
export * from './infer/index.js';
export * from './diagnostics/index.js';
export * from './nn/index.js';
export * from './io/index.js';
export * from './infer/cavi/index.js';
export * from './infer/ep/index.js';
export * from './infer/vmp/index.js';
export { compile, CompileError, cudaGraphsByDefault, isTracing, setCudaGraphs, type CompileOptions, type CompiledFunction, type Lowered } from './compile/index.js';
export type { Plan, PlanStats } from './compile/codegen.js';
export { KERNELS, KERNEL_NAMES, UNARY_OPS, BINARY_OPS, COMPARE_OPS, REDUCE_OPS, ARG_REDUCE_OPS, type KernelAttrs, type KernelName, type KernelSpec, type TensorInfo, type UnaryOp, type BinaryOp, type CompareOp, type ReduceOp, type ArgReduceOp, type KeyAttr } from './kernels/spec.js';
export * as models from './models/posteriordb/index.js';
export * from './data/idx.js';
export * from './data/docterm.js';
export * from './data/mnist.js';
export * from './data/loader.js';
export * from './data/prefetch.js';
export * from './models/vae/index.js';
export * from './flows/index.js';
export { dopri5 as odeDopri5, rk4 as odeRk4, hairerController, boostController, OdeStepError, type OdeAlgebra, type StepController, type Dopri5Options } from './ode/dopri5.js';
export * as diffusion from './models/diffusion/index.js';
export { fromStan, StanSyntaxError, StanSemanticError, StanUnsupportedError, StanDataError, StanRuntimeError, type Loc, type StanModel, type StanVariable, type StanData } from './stan/index.js';
export * from './distributed/index.js';
