/**
 * What the core knows of backends: their names and the buffers a device backend hands
 * to arrays. Backends themselves live above the core (src/backends/, one folder each,
 * registered in src/backends/registry.ts).
 * @module
 */
import type { NDArray, ShapedArray } from "./array.js";
import type { TypedArray } from "./dtype.js";

/**
 * The backends arrays can live on.
 * @group backends
 */
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

/** Moves an array to a backend and commits it there (`x.to(backend)`; inside a transform, placement follows the inputs at run time); errors name `op`. */
export type ArrayMover = (x: NDArray, backend: BackendName, op: string) => NDArray;

let mover: ArrayMover = () => {
  throw new Error("to(): the backends module is not loaded; import from the package root.");
};
/** Part of the backend door (core/trace.ts `openBackendDoor`). @internal */
export function setMover(m: ArrayMover): void {
  mover = m;
}
/** Moves an array to `backend` through the backend door; errors name `op` (`"to()"`, `"np.array"`, ...). @internal */
export function moveTo(x: NDArray, backend: BackendName, op: string): NDArray {
  return mover(x, backend, op);
}
