/**
 * `lax.cumsum`, `lax.cumprod`, `lax.cummax`, `lax.cummin`: cumulative reductions along
 * one axis (axis 0 by default), optionally from the end (`reverse`), as `jax.lax`.
 * @module
 */
import type { NDArray, Operand } from "../core/array.js";
import { checkOptions, describeValue, normalizeAxis } from "../core/shape.js";
import { type CumulativeOp, cumulative } from "../primitives/cumulative.js";
import { asArray, convert } from "../primitives/elementwise.js";

/** Options of the lax cumulative reductions. */
export interface CumulativeOptions {
  /** The axis to accumulate along (default 0; negative counts from the end). */
  axis?: number;
  /** Accumulate from the last element towards the first. */
  reverse?: boolean;
}

function cum(op: CumulativeOp, name: string, x: Operand, opts: CumulativeOptions | undefined): NDArray {
  const o = checkOptions(name, opts, "{ axis: 0, reverse: true }", ["axis", "reverse"]);
  if (o.reverse !== undefined && typeof o.reverse !== "boolean") throw new Error(`${name}: reverse must be a boolean, got ${describeValue(o.reverse)}.`);
  let a = asArray(x, undefined, name);
  if (a.ndim === 0) throw new Error(`${name}: expects an array of rank >= 1, got a 0-d array.`);
  if (a.dtype === "bool") a = convert(a, "int32");
  return cumulative(op, a, normalizeAxis(name, o.axis ?? 0, a.ndim), o.reverse ?? false);
}

/**
 * Cumulative sum along `axis` (0 by default); with `reverse`, from the end.
 * @example
 * ```ts
 * import { lax, np } from "cotangent";
 * console.log(lax.cumsum(np.array([1, 2, 3])).toJs(), lax.cumsum(np.array([1, 2, 3]), { reverse: true }).toJs()); // [1, 3, 6] [6, 5, 3]
 * ```
 */
export function cumsum(x: Operand, opts?: CumulativeOptions): NDArray {
  return cum("sum", "cumsum", x, opts);
}
/**
 * Cumulative product along `axis` (0 by default).
 * @example
 * ```ts
 * import { lax, np } from "cotangent";
 * console.log(lax.cumprod(np.array([[1, 2], [3, 4]]), { axis: 1 }).toJs()); // [[1, 2], [3, 12]]
 * ```
 */
export function cumprod(x: Operand, opts?: CumulativeOptions): NDArray {
  return cum("prod", "cumprod", x, opts);
}
/**
 * Running maximum along `axis` (0 by default).
 * @example
 * ```ts
 * import { lax, np } from "cotangent";
 * console.log(lax.cummax(np.array([2, 1, 3, 0]), { reverse: true }).toJs()); // [3, 3, 3, 0]
 * ```
 */
export function cummax(x: Operand, opts?: CumulativeOptions): NDArray {
  return cum("max", "cummax", x, opts);
}
/**
 * Running minimum along `axis` (0 by default).
 * @example
 * ```ts
 * import { lax, np } from "cotangent";
 * console.log(lax.cummin(np.array([2, 1, 3, 0])).toJs()); // [2, 1, 1, 0]
 * ```
 */
export function cummin(x: Operand, opts?: CumulativeOptions): NDArray {
  return cum("min", "cummin", x, opts);
}
