/**
 * cotangent — JAX's composable function transforms for TypeScript.
 *
 * ```ts
 * import { grad, np } from "cotangent";
 * const f = (x: np.Array) => np.sum(np.tanh(x));
 * console.log(grad(f)(np.array([0, 1])).toJs());
 * ```
 * @module
 */
export * as np from "./numpy/index.js";
export * as lax from "./lax/index.js";
export * as tree from "./core/tree.js";
export {
  NDArray as Array,
  ConcreteArray,
  ShapedArray,
  type NestedArray,
  type ReduceOptions,
  type Operand,
  type IndexElement,
  type IndexRef,
} from "./core/array.js";
export type { Shape } from "./core/shape.js";
export type { TypedArray } from "./core/dtype.js";
export type { Primitive, Params, BatchDim } from "./core/trace.js";
export { UndefPrimal } from "./core/trace.js";
export type { DType } from "./core/dtype.js";
export { grad, valueAndGrad, vjp, jvp, linearize, hessianVectorProduct, stopGradient, type GradOptions } from "./transforms/ad.js";
export { jacfwd, jacrev, hessian, type JacobianOptions } from "./transforms/jacobian.js";
export { customJvp, customVjp } from "./transforms/custom.js";
export { checkpoint, remat, type CheckpointOptions } from "./lax/control.js";
export { checkGrads, type CheckGradsOptions } from "./transforms/check_grads.js";
export { makeJaxpr, type MakeJaxprOptions } from "./transforms/make_jaxpr.js";
export type { PyTree } from "./core/tree.js";
export { vmap, type VmapOptions, type AxisSpec } from "./transforms/vmap.js";
export { exportOnnx, type ExportOnnxOptions } from "./export/onnx.js";
export { jit, type JitOptions, type Jitted, type Lowered } from "./transforms/jit.js";
export * as random from "./random/index.js";
export * as nn from "./nn/index.js";
export * as losses from "./losses/index.js";
export * as optim from "./optim/index.js";
export { ClosedJaxpr, Jaxpr, Var, Literal, type Atom, type JaxprEqn, typecheckJaxpr, evalJaxpr } from "./ir/jaxpr.js";
export { toDot, type DotOptions } from "./ir/dot.js";
export { setDefaultBackend, getDefaultBackend, devicePut } from "./backends/registry.js";
export type { BackendOptions } from "./backends/registry.js";
export { initGpu } from "./backends/gpu/index.js";
export type { GpuApi, GpuStatus } from "./backends/gpu/index.js";
export type { BackendName } from "./core/device.js";
export { setThreadCount, threadCount } from "./backends/wasm/runtime.js";
export { config, type ConfigValues } from "./core/config.js";
export * as io from "./io/index.js";
