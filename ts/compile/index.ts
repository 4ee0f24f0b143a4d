/* Compiled steps: trace a function of tensors and keys once, replay it as generated code. */
export { compile, DEFAULT_LARGE_THRESHOLD, type CompileOptions, type CompiledFunction, type Lowered } from './compile.js';
export { CompileError } from './errors.js';
export { cudaGraphsByDefault, setCudaGraphs } from './device-plan.js';
export { isTracing } from './recorder.js';
export type { Plan, PlanStats } from './codegen.js';
