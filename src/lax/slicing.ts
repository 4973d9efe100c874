/**
 * Dynamic slicing: `lax.dynamicSlice` and `lax.dynamicUpdateSlice`, whose start
 * indices may be traced scalars (clamped so the block stays inside the array, as JAX).
 * @module
 */
import { ConcreteArray, NDArray, type Operand, ShapedArray } from "../core/array.js";
import { describeValue, fmtShape, stridesOf } from "../core/shape.js";
import { add, asArray, convert, maximum, minimum, mul } from "../primitives/elementwise.js";
import { gather, scatter } from "../primitives/gather.js";
import * as S from "../primitives/shape.js";

/** A start index: a JS integer or a 0-d integer array (possibly traced). */
export type StartIndex = number | NDArray;

/** The start indices as one entry per axis (JS numbers kept static), checked against `x`. */
function starts(op: string, x: NDArray, startIndices: readonly StartIndex[] | NDArray): StartIndex[] {
  let list: StartIndex[];
  if (startIndices instanceof NDArray) {
    if (startIndices.ndim !== 1) throw new Error(`${op}: start indices given as an array must be 1-d, got shape ${fmtShape(startIndices.shape)}.`);
    list = Array.from({ length: startIndices.shape[0]! }, (_, i) => S.reshape(S.slice(startIndices, [i], [i + 1]), []));
  } else if (Array.isArray(startIndices)) list = [...startIndices];
  else throw new Error(`${op}: startIndices must be a JS array with one start per axis or a 1-d int32 array, got ${describeValue(startIndices)}.`);
  if (list.length !== x.ndim)
    throw new Error(`${op}: got ${list.length} start indices for an array of rank ${x.ndim} (shape ${fmtShape(x.shape)}); give one per axis.`);
  return list.map((s, i) => {
    if (typeof s === "number") {
      if (!Number.isInteger(s)) throw new Error(`${op}: start index ${s} for axis ${i} is not an integer.`);
      return s;
    }
    if (!(s instanceof NDArray) || s.ndim !== 0)
      throw new Error(`${op}: start index for axis ${i} must be an integer or a 0-d int32 array, got ${describeValue(s)}.`);
    if (s.dtype !== "int32")
      throw new Error(
        `${op}: start index for axis ${i} must be int32, got ${s.aval.toString()}; a float is never used as an index (astype("int32") if you mean it).`,
      );
    return s;
  });
}

/** A start clamped to `[0, dim - size]`: a number when static, else a 0-d int32 array. */
function clampStart(s: StartIndex, dim: number, size: number): StartIndex {
  const hi = dim - size;
  if (typeof s === "number") return Math.min(Math.max(s, 0), hi);
  return minimum(maximum(s, 0), hi);
}

function checkSizes(op: string, x: NDArray, sizes: readonly number[]): void {
  if (!Array.isArray(sizes) || sizes.length !== x.ndim || sizes.some((d, i) => !Number.isInteger(d) || d < 0 || d > x.aval.shape[i]!)) {
    throw new Error(`${op}: sizes ${describeValue(sizes)} must give one size per axis of ${fmtShape(x.shape)}, each between 0 and the axis length.`);
  }
}

/** `clamp(start) + [0, 1, ..., size-1]` for one axis, as int32. */
function axisRange(s: StartIndex, size: number): NDArray {
  const r = new ConcreteArray(
    new ShapedArray([size], "int32"),
    Int32Array.from({ length: size }, (_, k) => k),
  );
  return add(r, s);
}

/**
 * The block of `x` of shape `sizes` starting at `startIndices` (JS integers or 0-d
 * int32 arrays, which may be traced). Starts are clamped so that the block lies inside
 * `x`, as in JAX. Differentiable, and batched under `vmap` without a loop.
 * @example
 * ```ts
 * import { lax, np } from "cotangent";
 * const x = np.arange(10);
 * console.log(lax.dynamicSlice(x, [np.array(3, { dtype: "int32" })], [4]).toJs()); // [3, 4, 5, 6]
 * console.log(lax.dynamicSlice(x, [8], [4]).toJs()); // [6, 7, 8, 9]
 * ```
 */
export function dynamicSlice(x: Operand, startIndices: readonly StartIndex[] | NDArray, sizes: readonly number[]): NDArray {
  const a = asArray(x, undefined, "dynamicSlice");
  checkSizes("dynamicSlice", a, sizes);
  const st = starts("dynamicSlice", a, startIndices).map((s, i) => clampStart(s, a.aval.shape[i]!, sizes[i]!));
  // static starts: one slice; traced ones: a 1-d gather per traced axis
  const stat = st.map((s) => (typeof s === "number" ? s : 0));
  const lim = a.aval.shape.map((d, i) => (typeof st[i] === "number" ? stat[i]! + sizes[i]! : d));
  let y = S.slice(a, stat, lim);
  st.forEach((s, i) => {
    if (typeof s === "number") return;
    const idx = S.reshape(axisRange(s, sizes[i]!), [sizes[i]!, 1]);
    y = S.moveAxis(gather(y, idx, { axes: [i], batchDims: 0 }), 0, i);
  });
  return y;
}

/**
 * `x` with the block starting at `startIndices` replaced by `update` (starts clamped so
 * that the block lies inside `x`, as JAX). Differentiable in `x` and `update`.
 * @example
 * ```ts
 * import { lax, np } from "cotangent";
 * const x = np.zeros([5]);
 * console.log(lax.dynamicUpdateSlice(x, np.ones([2]), [np.array(1, { dtype: "int32" })]).toJs()); // [0, 1, 1, 0, 0]
 * console.log(lax.dynamicUpdateSlice(x, np.ones([2]), [9]).toJs()); // [0, 0, 0, 1, 1]
 * ```
 */
export function dynamicUpdateSlice(x: Operand, update: Operand, startIndices: readonly StartIndex[] | NDArray): NDArray {
  const a = asArray(x, undefined, "dynamicUpdateSlice");
  let u = asArray(update, undefined, "dynamicUpdateSlice");
  if (u.dtype !== a.dtype) {
    if (update instanceof NDArray)
      throw new Error(`dynamicUpdateSlice: update ${u.aval.toString()} and operand ${a.aval.toString()} have different dtypes; convert with astype.`);
    u = convert(u, a.dtype);
  }
  if (u.ndim !== a.ndim) throw new Error(`dynamicUpdateSlice: update of shape ${fmtShape(u.shape)} needs the rank of the operand ${fmtShape(a.shape)}.`);
  checkSizes("dynamicUpdateSlice", a, u.aval.shape);
  const st = starts("dynamicUpdateSlice", a, startIndices).map((s, i) => clampStart(s, a.aval.shape[i]!, u.aval.shape[i]!));
  // flat positions of the block: Σ (start_i + r_i) · stride_i, broadcast over the block
  const strides = stridesOf(a.aval.shape);
  const us = u.aval.shape;
  let pos: NDArray | null = null;
  st.forEach((s, i) => {
    const r = S.reshape(
      mul(axisRange(s, us[i]!), strides[i]!),
      us.map((d, k) => (k === i ? d : 1)),
    );
    pos = pos === null ? r : add(pos, r);
  });
  const p = S.broadcastTo(pos ?? ConcreteArray.scalar(0, "int32"), [...us]);
  const out = scatter(S.reshape(a, [a.size]), S.reshape(p, [...us, 1]), u, { axes: [0], batchDims: 0, mode: "set" });
  return S.reshape(out, a.aval.shape);
}
