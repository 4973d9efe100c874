/**
 * The backend registry: the one door between the interpreter and the backends.
 *
 * Every backend is one row of {@link backends}; the registry decides where each eager
 * primitive runs, asks that backend to run it (or, when the backend has no kernel for
 * it, runs the primitive's reference `impl` with that backend current, so that a jitted
 * call inside compiles for it), moves arrays between backends, and compiles jaxprs for
 * the current backend ({@link compileForBackend}). The interpreter reaches it through
 * the single eager door of src/core/trace.ts, which this module opens.
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
import { ConcreteArray, NDArray, type ShapedArray } from "../core/array.js";
import type { BackendName } from "../core/device.js";
import { activeBufferLog } from "../core/pool.js";
import { checkOptions } from "../core/shape.js";
import { type Params, type Primitive, openBackendDoor } from "../core/trace.js";
import * as treeUtil from "../core/tree.js";
import { describeValue } from "../core/shape.js";
import type { ClosedJaxpr } from "../ir/jaxpr.js";
import type { Backend, Executable, HostBackend } from "./backend.js";
import { cpuBackend } from "./cpu/index.js";
import { type GpuApi, gpuBackend } from "./gpu/index.js";

/** Every backend, by name: adding one is its folder plus one row here. */
export const backends: { readonly cpu: HostBackend } & { readonly [K in BackendName]: Backend<unknown> } = {
  cpu: cpuBackend,
  gpu: gpuBackend as Backend<unknown>,
};

/** The backend whose buffers are host memory: the primitives' reference implementations ask it for matrix products and kernel functions. */
export const hostBackend: HostBackend = backends.cpu;

let defaultBackend: BackendName = "cpu";
/** True once an array lives on, or operations run on, a backend other than the host (placement is then decided per operation). */
let deviceUsed = false;
/** The backend an operation that has no kernel there runs its `impl` for (what a jitted call inside compiles for). */
let scoped: Backend<unknown> | null = null;

/** True once a device backend (the GPU) is in use: eager shortcuts that assume host memory must then go through the dispatch. @internal */
export function deviceInUse(): boolean {
  return deviceUsed;
}

/** The backend programs compile for now: the one running the current operation, else the default one. @internal */
export function currentBackend(): Backend<unknown> {
  return scoped ?? backends[defaultBackend];
}

function withBackend<T>(b: Backend<unknown>, fn: () => T): T {
  const prev = scoped;
  scoped = b;
  try {
    return fn();
  } finally {
    scoped = prev;
  }
}

const compiled = new WeakMap<ClosedJaxpr, Map<BackendName, Executable>>();
/**
 * The executable of a closed jaxpr on the current backend, compiled once per jaxpr and
 * backend. Pass a jaxpr optimized for compilation (`optimizeJaxpr` of src/passes/, as
 * `jit` does); any jaxpr runs correctly. @internal
 */
export function compileForBackend(cj: ClosedJaxpr): Executable {
  const b = currentBackend();
  let byBackend = compiled.get(cj);
  if (!byBackend) compiled.set(cj, (byBackend = new Map()));
  let exe = byBackend.get(b.name);
  if (!exe) byBackend.set(b.name, (exe = b.compile(cj)));
  return exe;
}

/** Runs a primitive in host memory: the host backend's kernel when it has one, else the reference `impl`. */
function runOnHost(prim: Primitive, args: ConcreteArray[], params: Params, outAvals: ShapedArray[]): ConcreteArray[] {
  const outs = (prim.lower !== undefined ? hostBackend.runEager(prim, args, params, outAvals) : null) ?? prim.impl(args, params, outAvals);
  const log = activeBufferLog();
  if (log !== null && log.capturing > 0) log.note(prim, outs);
  return outs;
}

const describe = (a: ConcreteArray): string => `${a.aval.toString()} on ${a.backend}${a.committed ? " (committed)" : ""}`;

function mixError(prim: Primitive, args: readonly ConcreteArray[]): Error {
  return new Error(
    `${prim.name}: arguments are committed to different backends: ${args.map(describe).join(", ")}. ` +
      `Move one explicitly, e.g. x.to("gpu") or x.to("cpu") (devicePut(tree, backend) for pytrees).`,
  );
}

/** Runs an eager primitive where the placement rule (see the module comment) says. */
function dispatch(prim: Primitive, args: ConcreteArray[], params: Params, outAvals: ShapedArray[]): ConcreteArray[] {
  if (!deviceUsed) return runOnHost(prim, args, params, outAvals);
  let committed: BackendName | null = null;
  let onDevice: BackendName | null = null;
  for (const a of args) {
    const c = a.committed;
    if (c !== null) {
      if (committed !== null && c !== committed) throw mixError(prim, args);
      committed = c;
    }
    if (a.device !== null) onDevice = a.device.backend;
  }
  const target = backends[committed ?? onDevice ?? defaultBackend];
  const outs = target.runEager(prim, args, params, outAvals) ?? withBackend(target, () => prim.impl(args, params, outAvals));
  if (committed !== null) for (const o of outs) if (o.committed === null && !args.includes(o)) o.committed = committed;
  return outs;
}

const isBackendName = (b: unknown): b is BackendName => typeof b === "string" && Object.hasOwn(backends, b);
const namesList = (): string =>
  Object.keys(backends)
    .map((n) => JSON.stringify(n))
    .join(" or ");

/** Options of `setDefaultBackend("gpu", options)`; the `"cpu"` backend takes none. */
export interface BackendOptions {
  /**
   * The graphics API the GPU backend must run on: `"webgl2"` (a browser), `"webgl"`
   * (headless-gl in Node) or `"webgpu"` (needs `await initGpu()` first; the backend
   * cannot run on WebGPU yet, so it is an Error that says why). Omitted: whichever WebGL
   * context exists here, else the CPU with one warning. A pinned API that cannot be had
   * is an Error, never a silent fallback.
   */
  api?: GpuApi;
}

/**
 * Sets the backend that operations on uncommitted arrays run on. `"gpu"` runs kernels
 * through gpu.js: WebGL2 in a browser, headless-gl in Node when an X display is
 * available (for example under `xvfb-run`). Where no GPU context can be had it says so
 * once (a console warning naming the reason) and keeps the CPU backend; results are
 * never computed with a silently different precision: float64 arrays cannot move to
 * the GPU (an Error says so). `options.api` pins the graphics API (see
 * {@link BackendOptions}); a pinned API that is not available throws.
 *
 * @example
 * ```ts
 * import { getDefaultBackend, setDefaultBackend } from "cotangent";
 * setDefaultBackend("cpu");
 * console.log(getDefaultBackend()); // cpu
 * try {
 *   setDefaultBackend("gpu", { api: "webgpu" });
 * } catch (e) {
 *   console.log((e as Error).message.startsWith('setDefaultBackend("gpu"): { api: "webgpu" }')); // true
 * }
 * ```
 */
export function setDefaultBackend(backend: BackendName, options?: BackendOptions): void {
  if (!isBackendName(backend)) throw new Error(`setDefaultBackend: unknown backend ${JSON.stringify(backend)}; use ${namesList()}.`);
  const b = backends[backend];
  const op = `setDefaultBackend(${JSON.stringify(backend)})`;
  const opts = checkOptions(op, options, b.options?.example ?? "{}", b.options?.keys ?? []) as Readonly<Record<string, unknown>>;
  if (backend === hostBackend.name) {
    defaultBackend = backend;
    return;
  }
  const why = b.select ? b.select(opts, op) : b.availability();
  if (why === null) {
    defaultBackend = backend;
    deviceUsed = true;
    return;
  }
  warnOnce(`cotangent: setDefaultBackend(${JSON.stringify(backend)}): no GPU context is available (${why}); using the "cpu" backend instead.`);
  defaultBackend = hostBackend.name;
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

/** Throws an Error naming `op` unless `backend` is a backend's name. @internal */
export function checkBackendName(op: string, backend: unknown): asserts backend is BackendName {
  if (!isBackendName(backend)) throw new Error(`${op}: unknown backend ${describeValue(backend)}; use ${namesList()}.`);
}

const warned = new Set<string>();
function warnOnce(msg: string): void {
  if (warned.has(msg)) return;
  warned.add(msg);
  console.warn(msg);
}

/** Copies an array to `backend` and commits it there (the implementation of `x.to(backend)`). */
export function moveArray(x: NDArray, backend: BackendName, op = "to()"): NDArray {
  checkBackendName(op, backend);
  if (!(x instanceof ConcreteArray)) return x; // inside a transform placement follows the inputs at run time
  const b = backends[backend];
  if (b !== hostBackend) {
    const why = b.availability();
    if (why !== null)
      throw new Error(
        `${op}: cannot move an array to the GPU: no GPU context is available (${why}). Keep it on the CPU, or run where WebGL is available (a browser, or Node under xvfb-run).`,
      );
    deviceUsed = true;
  }
  return b.move(x, op);
}

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

openBackendDoor({ dispatch, move: (x, backend, op) => moveArray(x, backend, op) });
