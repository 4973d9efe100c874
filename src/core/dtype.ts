/**
 * Data types and the promotion lattice.
 *
 * The promotion order is a chain: `bool < int32 < float32 < float64`. A binary
 * operation on two arrays computes in the larger of the two dtypes, so float64 is
 * never silently downcast. JavaScript numbers are "weak": `x * 2` keeps the dtype of
 * `x` (an int32 array times a non-integer number gives float32).
 *
 * | a \\ b   | bool    | int32   | float32 | float64 |
 * |---------|---------|---------|---------|---------|
 * | bool    | bool    | int32   | float32 | float64 |
 * | int32   | int32   | int32   | float32 | float64 |
 * | float32 | float32 | float32 | float32 | float64 |
 * | float64 | float64 | float64 | float64 | float64 |
 *
 * @module
 */

import { takePooled } from "./pool.js";

/** The element types an array can hold. */
export type DType = "float32" | "float64" | "int32" | "bool";

/** The typed array that stores each dtype on the CPU. */
export type TypedArray = Float32Array | Float64Array | Int32Array | Uint8Array;

const RANK: Record<DType, number> = { bool: 0, int32: 1, float32: 2, float64: 3 };

export const DTYPES: readonly DType[] = ["bool", "int32", "float32", "float64"];

export function isDType(x: unknown): x is DType {
  return typeof x === "string" && x in RANK;
}

export function isFloat(d: DType): boolean {
  return d === "float32" || d === "float64";
}

/** Short name used by the IR printer, as JAX's: `f32`, `f64`, `i32`, `bool`. */
export function shortName(d: DType): string {
  return d === "float32" ? "f32" : d === "float64" ? "f64" : d === "int32" ? "i32" : "bool";
}

/** The smallest dtype both `a` and `b` convert to without loss of kind. */
export function promoteTypes(a: DType, b: DType): DType {
  return RANK[a] >= RANK[b] ? a : b;
}

/** The dtype a JS number takes next to an array of dtype `d` (weak typing). */
export function weakNumberDType(value: number, d: DType): DType {
  if (isFloat(d)) return d;
  if (Number.isInteger(value)) return d === "bool" ? "int32" : d;
  return "float32";
}

/** The dtype of a floating result computed from `d` (ints and bools become float32). */
export function floatResult(d: DType): DType {
  return isFloat(d) ? d : "float32";
}

/** A zero-filled typed array for `size` elements of `dtype` (a pooled buffer when one is free, see core/pool.ts). */
export function allocate(dtype: DType, size: number): TypedArray {
  const pooled = takePooled(dtype, size);
  return pooled !== null ? typedArray(dtype, pooled).fill(0) : typedArray(dtype, size);
}

/** Like {@link allocate} but with undefined contents: for callers that write every element. */
export function allocateForWrite(dtype: DType, size: number): TypedArray {
  return typedArray(dtype, takePooled(dtype, size) ?? size);
}

/** A typed array of `dtype`: fresh and zeroed for `size` elements, or a new view of `buffer`. */
function typedArray(dtype: DType, sizeOrBuffer: number | ArrayBuffer): TypedArray {
  switch (dtype) {
    case "float32":
      return new Float32Array(sizeOrBuffer as ArrayBuffer);
    case "float64":
      return new Float64Array(sizeOrBuffer as ArrayBuffer);
    case "int32":
      return new Int32Array(sizeOrBuffer as ArrayBuffer);
    case "bool":
      return new Uint8Array(sizeOrBuffer as ArrayBuffer);
  }
}

/** Converts a number to what `dtype` stores (truncation for int32, 0/1 for bool). */
export function castScalar(v: number, dtype: DType): number {
  if (dtype === "int32") return Math.trunc(v) | 0;
  if (dtype === "bool") return v !== 0 && !Number.isNaN(v) ? 1 : 0;
  if (dtype === "float32") return Math.fround(v);
  return v;
}
