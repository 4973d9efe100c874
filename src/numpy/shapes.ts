/** Shape manipulation of the np namespace. @module */
import { NDArray } from "../core/array.js";
import { promoteTypes } from "../core/dtype.js";
import { checkShape, describeValue, fmtShape, normalizeAxis, shapeEqual, sizeOf } from "../core/shape.js";
import { type ArrayLike, asArray } from "../primitives/elementwise.js";
import { take as takePrim } from "../primitives/indexing.js";
import * as S from "../primitives/shape.js";
import { array } from "./creation.js";
import { type AxisSlice, sliceIndices, stridedSlice } from "./indexing.js";

/**
 * Gives `x` a new shape with the same number of elements; one entry may be -1.
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.reshape(np.arange(6), [2, -1]).shape); // [2, 3]
 * ```
 */
export function reshape(x: ArrayLike, shape: number[]): NDArray {
  const a = asArray(x, undefined, "reshape");
  if (!Array.isArray(shape)) throw new Error(`reshape: the shape must be an array of integers, got ${describeValue(shape)}.`);
  const unknown = shape.filter((d) => d === -1).length;
  if (unknown > 1) throw new Error(`reshape: only one dimension can be -1, got ${fmtShape(shape)}.`);
  let s = shape;
  if (unknown === 1) {
    const known = shape.filter((d) => d !== -1).reduce((p, d) => p * d, 1);
    if (known === 0 || a.size % known !== 0)
      throw new Error(
        `reshape: cannot reshape an array of shape ${fmtShape(a.shape)} (${a.size} elements) into ${fmtShape(shape)}: the other dimensions (product ${known}) must divide ${a.size}.`,
      );
    s = shape.map((d) => (d === -1 ? a.size / known : d));
  }
  checkShape("reshape", s);
  return S.reshape(a, s);
}

/**
 * Permutes axes (reverses them by default).
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.transpose(np.zeros([2, 3, 4]), [1, 0, 2]).shape); // [3, 2, 4]
 * ```
 */
export function transpose(x: ArrayLike, axes?: number[]): NDArray {
  const a = asArray(x, undefined, "transpose");
  if (axes !== undefined && axes !== null && !Array.isArray(axes))
    throw new Error(`transpose: axes must be an array with a permutation of the axes, e.g. [1, 0], got ${describeValue(axes)}.`);
  const perm = axes ? axes.map((ax) => normalizeAxis("transpose", ax, a.ndim)) : a.shape.map((_, i) => a.ndim - 1 - i);
  return S.transpose(a, perm);
}

/**
 * Inserts a size-1 axis at `axis` (negative counts from the end of the result).
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.expandDims(np.zeros([3]), 0).shape, np.expandDims(np.zeros([3]), -1).shape); // [1, 3] [3, 1]
 * ```
 */
export function expandDims(x: ArrayLike, axis: number): NDArray {
  const a = asArray(x, undefined, "expandDims");
  const ax = normalizeAxis("expandDims", axis, a.ndim + 1);
  const s = a.shape;
  s.splice(ax, 0, 1);
  return S.reshape(a, s);
}

/**
 * Removes size-1 axes (all of them, or the given one(s), which must have size 1).
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.squeeze(np.zeros([1, 3, 1])).shape); // [3]
 * ```
 */
export function squeeze(x: ArrayLike, axis?: number | number[]): NDArray {
  const a = asArray(x, undefined, "squeeze");
  if (axis !== undefined && axis !== null && typeof axis !== "number" && !Array.isArray(axis))
    throw new Error(`squeeze: axis must be an integer or an array of integers, got ${describeValue(axis)}.`);
  const axes =
    axis === undefined || axis === null
      ? a.shape.flatMap((d, i) => (d === 1 ? [i] : []))
      : (typeof axis === "number" ? [axis] : axis).map((ax) => normalizeAxis("squeeze", ax, a.ndim));
  for (const ax of axes)
    if (a.shape[ax] !== 1)
      throw new Error(`squeeze: axis ${ax} of shape ${fmtShape(a.shape)} has size ${a.shape[ax]}, not 1; only size-1 axes can be removed.`);
  return S.reshape(
    a,
    a.shape.filter((_, i) => !axes.includes(i)),
  );
}

/**
 * Broadcasts `x` to `shape` with NumPy's rules.
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.broadcastTo(np.array([1, 2]), [2, 2]).toJs()); // [[1, 2], [1, 2]]
 * ```
 */
export function broadcastTo(x: ArrayLike, shape: number[]): NDArray {
  return S.broadcastTo(asArray(x, undefined, "broadcastTo"), checkShape("broadcastTo", shape));
}

function promoteAll(op: string, xs: readonly ArrayLike[]): NDArray[] {
  if (!Array.isArray(xs) || xs.length === 0) throw new Error(`${op}: needs a non-empty JS array of arrays, got ${describeValue(xs)}; e.g. np.${op}([a, b]).`);
  const arrs = xs.map((x, i) => asArray(x, undefined, `${op} (element ${i})`));
  const d = arrs.map((a) => a.dtype).reduce(promoteTypes);
  return arrs.map((a) => asArray(a, d));
}

/**
 * Joins arrays along an existing axis.
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.concatenate([np.zeros([2, 2]), np.ones([1, 2])]).shape); // [3, 2]
 * ```
 */
export function concatenate(xs: ArrayLike[], axis = 0): NDArray {
  const arrs = promoteAll("concatenate", xs);
  const nd = arrs[0]!.ndim;
  if (nd === 0) throw new Error("concatenate: zero-dimensional arrays cannot be concatenated; use np.stack.");
  const ax = normalizeAxis("concatenate", axis, nd);
  for (const a of arrs) {
    if (a.ndim !== nd || a.shape.some((d, i) => i !== ax && d !== arrs[0]!.shape[i])) {
      throw new Error(`concatenate: shapes ${arrs.map((b) => fmtShape(b.shape)).join(", ")} must match on every axis except axis ${ax}.`);
    }
  }
  return S.concatenateArrays(arrs, ax);
}

/**
 * Joins same-shaped arrays along a new axis.
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.stack([np.array([1, 2]), np.array([3, 4])], 1).toJs()); // [[1, 3], [2, 4]]
 * ```
 */
export function stack(xs: ArrayLike[], axis = 0): NDArray {
  const arrs = promoteAll("stack", xs);
  const s0 = arrs[0]!.aval.shape;
  for (const a of arrs)
    if (!shapeEqual(a.aval.shape, s0)) throw new Error(`stack: all arrays need the same shape, got ${arrs.map((b) => fmtShape(b.shape)).join(", ")}.`);
  const ax = normalizeAxis("stack", axis, s0.length + 1);
  return S.concatenateArrays(
    arrs.map((a) => expandDims(a, ax)),
    ax,
  );
}

/**
 * Splits into `sections` equal parts, or at the given indices, along `axis`.
 * @example
 * ```ts
 * import { np } from "cotangent";
 * const [a, b] = np.split(np.arange(6), 2);
 * console.log(a!.toJs(), b!.toJs()); // [0, 1, 2] [3, 4, 5]
 * console.log(np.split(np.arange(5), [1, 3]).map((p) => p.toJs())); // [[0], [1, 2], [3, 4]]
 * ```
 */
export function split(x: ArrayLike, sections: number | number[], axis = 0): NDArray[] {
  const a = asArray(x, undefined, "split");
  const ax = normalizeAxis("split", axis, a.ndim);
  const n = a.shape[ax]!;
  let cuts: number[];
  if (typeof sections === "number") {
    if (!Number.isInteger(sections) || sections <= 0 || n % sections !== 0) {
      throw new Error(
        `split: axis ${ax} of size ${n} (shape ${fmtShape(a.shape)}) cannot be split into ${sections} equal sections; pass split indices instead (e.g. [${Math.ceil(n / 2)}]).`,
      );
    }
    cuts = Array.from({ length: sections - 1 }, (_, i) => ((i + 1) * n) / sections);
  } else if (Array.isArray(sections) && sections.every((c) => Number.isInteger(c))) {
    cuts = sections.map((c) => Math.min(Math.max(c < 0 ? c + n : c, 0), n));
  } else {
    throw new Error(`split: sections must be a positive integer or an array of integer split indices, got ${describeValue(sections)}.`);
  }
  const bounds = [0, ...cuts, n];
  const out: NDArray[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) {
    const lo = bounds[i]!;
    const hi = Math.max(lo, bounds[i + 1]!);
    out.push(
      S.slice(
        a,
        a.shape.map((_, d) => (d === ax ? lo : 0)),
        a.shape.map((s, d) => (d === ax ? hi : s)),
      ),
    );
  }
  return out;
}

/**
 * The block `x[starts[0]:stops[0]:steps[0], starts[1]:stops[1]:steps[1], ...]` (stops
 * exclusive; negative values count from the end; missing trailing entries take the
 * whole axis). Without `steps` (or with positive steps) a start or stop outside the
 * axis throws. A negative step walks backwards from `start` (inclusive) to `stop`
 * (exclusive); `null` as a start or stop means "from the first element in the step's
 * direction" / "through the last one", as an empty part of a Python slice.
 * @example
 * ```ts
 * import { np } from "cotangent";
 * const x = np.arange(12).reshape([3, 4]);
 * console.log(np.slice(x, [1, 1], [3, -1]).toJs()); // [[5, 6], [9, 10]]
 * console.log(np.slice(x, [0, 0], [3, 4], [2, 3]).toJs()); // [[0, 3], [8, 11]]
 * console.log(np.slice(np.arange(5), [null], [null], [-2]).toJs()); // [4, 2, 0]
 * ```
 */
export function slice(x: ArrayLike, starts: (number | null)[], stops: (number | null)[], steps?: number[]): NDArray {
  const a = asArray(x, undefined, "slice");
  const s = a.shape;
  const isEntry = (i: unknown): boolean => i === null || Number.isInteger(i);
  for (const [name, v] of [
    ["starts", starts],
    ["stops", stops],
  ] as const) {
    if (!Array.isArray(v) || !v.every(isEntry))
      throw new Error(`slice: ${name} must be an array of integers (one per axis; null for a default), got ${describeValue(v)}.`);
  }
  if (steps !== undefined && (!Array.isArray(steps) || !steps.every((d) => Number.isInteger(d) && d !== 0)))
    throw new Error(`slice: steps must be an array of non-zero integers (one per axis), got ${describeValue(steps)}.`);
  const nSteps = steps?.length ?? 0;
  if (starts.length > s.length || stops.length > s.length || nSteps > s.length)
    throw new Error(`slice: got ${starts.length} starts, ${stops.length} stops and ${nSteps} steps for an array of rank ${s.length}.`);
  const specs = s.map((d, i): AxisSlice => {
    const step = steps?.[i] ?? 1;
    const v0 = starts[i] ?? null;
    const v1 = stops[i] ?? null;
    if (step < 0) {
      const st = v0 === null ? d - 1 : v0 < 0 ? v0 + d : v0;
      const sp = v1 === null ? -1 : v1 < 0 ? v1 + d : v1;
      if (!(sp >= -1 && sp <= st && st <= d - 1) && !(sp === st))
        throw new Error(
          `slice: range [${v0}, ${v1}) with step ${step} is not valid for axis ${i} of size ${d} in shape ${fmtShape(s)}; a negative step needs stop <= start < ${d}.`,
        );
      return sliceIndices(st, sp === -1 ? null : sp, step, d);
    }
    const st = v0 === null ? 0 : v0 < 0 ? v0 + d : v0;
    const sp = v1 === null ? d : v1 < 0 ? v1 + d : v1;
    if (!(st >= 0 && st <= sp && sp <= d))
      throw new Error(`slice: range [${v0 ?? 0}, ${v1 ?? d}) is not valid for axis ${i} of size ${d} in shape ${fmtShape(s)}.`);
    return sliceIndices(st, sp, step, d);
  });
  return stridedSlice(a, specs);
}

/**
 * Takes elements along `axis` at integer `indices` (flattened array when `axis` is
 * omitted). Indices may be negative; an index out of range throws.
 * @example
 * ```ts
 * import { np } from "cotangent";
 * const x = np.array([[1, 2], [3, 4], [5, 6]]);
 * console.log(np.take(x, [2, 0], 0).toJs()); // [[5, 6], [1, 2]]
 * console.log(np.take(x, np.array([1, 1], { dtype: "int32" }), 1).toJs()); // [[2, 2], [4, 4], [6, 6]]
 * ```
 */
export function take(x: ArrayLike, indices: NDArray | number | number[] | number[][], axis?: number): NDArray {
  let a = asArray(x, undefined, "take");
  let idx: NDArray;
  if (indices instanceof NDArray) idx = indices;
  else {
    const raw = typeof indices === "number" ? indices : indices;
    const allInts = (v: unknown): boolean => (Array.isArray(v) ? v.every(allInts) : Number.isInteger(v));
    if (!allInts(raw)) throw new Error(`take: indices must be integers (a number, a JS array of numbers or an int32 array), got ${describeValue(raw)}.`);
    idx = array(raw, { dtype: "int32" });
  }
  if (idx.dtype !== "int32")
    throw new Error(`take: indices must be an int32 array, got ${idx.aval.toString()}; create them with { dtype: "int32" } or astype("int32").`);
  if (axis === undefined) {
    a = S.reshape(a, [sizeOf(a.aval.shape)]);
    return takePrim(a, idx, 0);
  }
  return takePrim(a, idx, normalizeAxis("take", axis, a.ndim));
}
