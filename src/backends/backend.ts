/**
 * Backends: where arrays live and kernels run.
 *
 * A backend owns buffers and runs kernels of the kernel expression language
 * ({@link Kernel}). The interface is deliberately narrow — allocate, upload, read, run a
 * kernel, free — so that a third backend (WebGPU, ONNX Runtime) can be added without
 * touching the transforms. Two implement it: the CPU backend (typed arrays, kernels
 * compiled to JavaScript) and the GPU backend (gpu.js textures, kernels compiled to
 * gpu.js kernel source; see `backends/gpu/`).
 *
 * Placement of eager operations follows JAX's rule:
 * 1. arrays explicitly put on a backend (`np.array(x, { backend })`, `x.to(backend)`,
 *    {@link devicePut}) are *committed* there; an operation whose committed arguments
 *    disagree throws, naming both backends and the fix;
 * 2. otherwise an operation runs on the GPU when one of its arguments lives there;
 * 3. otherwise it runs on the default backend ({@link setDefaultBackend}).
 * Uncommitted arguments (plain `np.array(...)`, JS numbers, results of uncommitted
 * arrays) move to where the operation runs. Results are committed when an argument was.
 * @module
 */
import { ConcreteArray, NDArray, type ShapedArray, installMover } from "../core/array.js";
import { type TypedArray, allocate } from "../core/dtype.js";
import * as treeUtil from "../core/tree.js";
import { compileKernel } from "./cpu/codegen.js";
import type { Kernel } from "./kernel/ir.js";
import { outputDtype, outputShape } from "./kernel/ir.js";
import { describeValue, sizeOf } from "../core/shape.js";
import { gpuAvailability, moveToGpu } from "./gpu/dispatch.js";

/** The backends arrays can live on. */
export type BackendName = "cpu" | "gpu";

/**
 * A buffer owned by a device backend. Arrays whose values live on the GPU hold one and
 * read it back to host memory only when their values are asked for. @internal
 */
export interface DeviceBuffer {
  readonly backend: BackendName;
  /** Copies the values to a new typed array of the aval's dtype. */
  read(aval: ShapedArray): TypedArray;
  /** Releases the device memory now (later calls do nothing). */
  free(): void;
  /** True once {@link free} ran. */
  readonly freed: boolean;
}

/**
 * What every backend implements: buffers of one kind `B` and a way to run kernels of
 * the kernel expression language on them.
 */
export interface Backend<B> {
  readonly name: BackendName;
  /** A zero-filled buffer for an array of this aval. */
  allocate(aval: ShapedArray): B;
  /** A buffer holding these row-major values. */
  upload(data: TypedArray, aval: ShapedArray): B;
  /** The values of a buffer, as a new typed array of the aval's dtype. */
  read(buf: B, aval: ShapedArray): TypedArray;
  /** Runs a kernel: one buffer per kernel input in, one buffer per kernel output out. */
  run(kernel: Kernel, inputs: readonly B[]): B[];
  /** Releases a buffer (a no-op where the garbage collector owns memory). */
  free(buf: B): void;
}

/** The CPU backend: typed arrays, kernels compiled to JavaScript loops. */
export const cpuBackend: Backend<TypedArray> = {
  name: "cpu",
  allocate: (aval) => allocate(aval.dtype, aval.size),
  upload: (data, aval) => {
    const b = allocate(aval.dtype, aval.size);
    b.set(data);
    return b;
  },
  read: (buf, aval) => {
    const b = allocate(aval.dtype, aval.size);
    b.set(buf);
    return b;
  },
  run(kernel, inputs) {
    const outs = kernel.outputs.map((_, j) => allocate(outputDtype(kernel, j), sizeOf(outputShape(kernel, j))));
    compileKernel(kernel)(...inputs, ...outs);
    return outs;
  },
  free: () => {},
};

let defaultBackend: BackendName = "cpu";

/**
 * Sets the backend that operations on uncommitted arrays run on. `"gpu"` runs kernels
 * through gpu.js: WebGL2 in a browser, headless-gl in Node when an X display is
 * available (for example under `xvfb-run`). Where no GPU context can be had it says so
 * once (a console warning naming the reason) and keeps the CPU backend; results are
 * never computed with a silently different precision: float64 arrays cannot move to
 * the GPU (an Error says so).
 *
 * @example
 * ```ts
 * import { getDefaultBackend, setDefaultBackend } from "cotangent";
 * setDefaultBackend("cpu");
 * console.log(getDefaultBackend()); // cpu
 * ```
 */
export function setDefaultBackend(backend: BackendName): void {
  if (backend === "cpu") {
    defaultBackend = "cpu";
    return;
  }
  if (backend !== "gpu") throw new Error(`setDefaultBackend: unknown backend ${JSON.stringify(backend)}; use "cpu" or "gpu".`);
  const why = gpuAvailability();
  if (why === null) {
    defaultBackend = "gpu";
    return;
  }
  warnOnce(`cotangent: setDefaultBackend("gpu"): no GPU context is available (${why}); using the "cpu" backend instead.`);
  defaultBackend = "cpu";
}

/**
 * The backend that operations on uncommitted arrays run on: `"cpu"` unless
 * {@link setDefaultBackend} chose `"gpu"` and a GPU context exists.
 *
 * @example
 * ```ts
 * import { getDefaultBackend } from "cotangent";
 * console.log(getDefaultBackend()); // cpu
 * ```
 */
export function getDefaultBackend(): BackendName {
  return defaultBackend;
}

/** Throws an Error naming `op` unless `backend` is `"cpu"` or `"gpu"`. @internal */
export function checkBackendName(op: string, backend: unknown): asserts backend is BackendName {
  if (backend !== "cpu" && backend !== "gpu") throw new Error(`${op}: unknown backend ${describeValue(backend)}; use "cpu" or "gpu".`);
}

const warned = new Set<string>();
function warnOnce(msg: string): void {
  if (warned.has(msg)) return;
  warned.add(msg);
  console.warn(msg);
}

/** Copies an array to `backend` and commits it there (the implementation of `x.to(backend)`). */
function moveArray(x: NDArray, backend: BackendName, op = "to()"): NDArray {
  checkBackendName(op, backend);
  if (!(x instanceof ConcreteArray)) return x; // inside a transform placement follows the inputs at run time
  if (backend === "cpu") {
    if (x.device === null && x.committed === "cpu") return x;
    const c = new ConcreteArray(x.aval, x.buffer);
    c.committed = "cpu";
    return c;
  }
  const why = gpuAvailability();
  if (why !== null) throw new Error(`${op}: cannot move an array to the GPU: no GPU context is available (${why}). Keep it on the CPU, or run where WebGL is available (a browser, or Node under xvfb-run).`);
  if (x.device !== null && x.committed === "gpu") return x;
  return moveToGpu(x, op);
}
installMover(moveArray);

/**
 * Puts every array of a pytree on `backend` (committing it there), like JAX's
 * `device_put`. Non-array leaves are kept.
 *
 * @example
 * ```ts
 * import { devicePut, np } from "cotangent";
 * const params = devicePut({ w: np.ones([2]), b: np.zeros([1]) }, "cpu");
 * console.log(params.w.backend, params.b.toJs()); // cpu [0]
 * ```
 */
export function devicePut<T>(tree: T, backend: BackendName): T {
  return putTree(tree, backend, "devicePut");
}

/** {@link devicePut} whose errors name `op` (for `jit(f, { backend })`). @internal */
export function putTree<T>(tree: T, backend: BackendName, op: string): T {
  checkBackendName(op, backend);
  return treeUtil.map((leaf: unknown) => (leaf instanceof NDArray ? moveArray(leaf, backend, op) : leaf), tree as never) as T;
}
