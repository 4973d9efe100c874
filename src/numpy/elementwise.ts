/** Elementwise functions of the np namespace. Binary ones broadcast and promote dtypes. @module */
import { NDArray as NDArrayClass, type NDArray } from "../core/array.js";
import { describeValue } from "../core/shape.js";
import * as E from "../primitives/elementwise.js";
import type { ArrayLike } from "../primitives/elementwise.js";

export type { ArrayLike };

/**
 * `x + y` elementwise, with NumPy broadcasting.
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.add(np.array([[1], [2]]), np.array([10, 20])).toJs()); // [[11, 21], [12, 22]]
 * ```
 */
export function add(x: ArrayLike, y: ArrayLike): NDArray {
  return E.add(x, y);
}
/**
 * `x - y` elementwise.
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.subtract(np.array([3, 4]), 1).toJs()); // [2, 3]
 * ```
 */
export function subtract(x: ArrayLike, y: ArrayLike): NDArray {
  return E.sub(x, y);
}
/**
 * `x * y` elementwise.
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.multiply(np.array([1, 2]), np.array([3, 4])).toJs()); // [3, 8]
 * ```
 */
export function multiply(x: ArrayLike, y: ArrayLike): NDArray {
  return E.mul(x, y);
}
/**
 * True division `x / y` (integer inputs give float32).
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.divide(np.array([1, 3]), 2).toJs()); // [0.5, 1.5]
 * ```
 */
export function divide(x: ArrayLike, y: ArrayLike): NDArray {
  return E.div(x, y);
}
/**
 * `-x`.
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.negative(np.array([1, -2])).toJs()); // [-1, 2]
 * ```
 */
export function negative(x: ArrayLike): NDArray {
  return E.neg(x);
}
/**
 * `x ** y`. An integer JS exponent is exact for negative `x`.
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.power(np.array([-2, 3]), 2).toJs()); // [4, 9]
 * ```
 */
export function power(x: ArrayLike, y: ArrayLike): NDArray {
  return E.power(x, y);
}
/**
 * `x * x`.
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.square(np.array([2, -3])).toJs()); // [4, 9]
 * ```
 */
export function square(x: ArrayLike): NDArray {
  return E.integerPow(x, 2, "square");
}
/**
 * `1 / x`.
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.reciprocal(np.array([2, 4])).toJs()); // [0.5, 0.25]
 * ```
 */
export function reciprocal(x: ArrayLike): NDArray {
  return E.div(1, E.asArray(x, undefined, "reciprocal"));
}
/**
 * Elementwise larger value (ties split the gradient equally, as JAX).
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.maximum(np.array([1, 5]), 3).toJs()); // [3, 5]
 * ```
 */
export function maximum(x: ArrayLike, y: ArrayLike): NDArray {
  return E.maximum(x, y);
}
/**
 * Elementwise smaller value.
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.minimum(np.array([1, 5]), 3).toJs()); // [1, 3]
 * ```
 */
export function minimum(x: ArrayLike, y: ArrayLike): NDArray {
  return E.minimum(x, y);
}
/**
 * Limits values to `[lo, hi]`.
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.clip(np.array([-2, 0.5, 3]), 0, 1).toJs()); // [0, 0.5, 1]
 * ```
 */
export function clip(x: ArrayLike, lo: ArrayLike, hi: ArrayLike): NDArray {
  const a = E.asArray(x, undefined, "clip");
  for (const [name, v] of [
    ["lo", lo],
    ["hi", hi],
  ] as const) {
    if (!(v instanceof NDArrayClass) && typeof v !== "number" && typeof v !== "boolean")
      throw new Error(`clip: ${name} must be an array or a number, got ${describeValue(v)}.`);
  }
  return E.minimum(E.maximum(a, lo), hi);
}
/**
 * `cond ? x : y` elementwise; `cond` is a bool array.
 * @example
 * ```ts
 * import { np } from "cotangent";
 * const x = np.array([-1, 2]);
 * console.log(np.where(np.greater(x, 0), x, 0).toJs()); // [0, 2]
 * ```
 */
export function where(cond: ArrayLike, x: ArrayLike, y: ArrayLike): NDArray {
  return E.where(cond, x, y);
}

/** A unary elementwise function. */
export type Unary = (x: ArrayLike) => NDArray;
/**
 * `e^x`.
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.exp(np.array([0])).toJs()); // [1]
 * ```
 */
export const exp: Unary = E.exp;
/**
 * Natural logarithm.
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.log(np.array([1])).toJs()); // [0]
 * ```
 */
export const log: Unary = E.log;
/**
 * `log(1 + x)`, accurate for small x.
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.log1p(np.array([0])).toJs()); // [0]
 * ```
 */
export const log1p: Unary = E.log1p;
/**
 * `e^x - 1`, accurate for small x.
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.expm1(np.array([0])).toJs()); // [0]
 * ```
 */
export const expm1: Unary = E.expm1;
/**
 * Sine.
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.sin(np.array([0])).toJs()); // [0]
 * ```
 */
export const sin: Unary = E.sin;
/**
 * Cosine.
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.cos(np.array([0])).toJs()); // [1]
 * ```
 */
export const cos: Unary = E.cos;
/**
 * Tangent.
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.tan(np.array([0])).toJs()); // [0]
 * ```
 */
export const tan: Unary = E.tan;
/**
 * Hyperbolic tangent.
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.tanh(np.array([0])).toJs()); // [0]
 * ```
 */
export const tanh: Unary = E.tanh;
/**
 * Square root.
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.sqrt(np.array([4, 9])).toJs()); // [2, 3]
 * ```
 */
export const sqrt: Unary = E.sqrt;
/**
 * `1 / sqrt(x)`.
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.rsqrt(np.array([4])).toJs()); // [0.5]
 * ```
 */
export const rsqrt: Unary = E.rsqrt;
/**
 * Absolute value.
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.abs(np.array([-1, 2])).toJs()); // [1, 2]
 * ```
 */
export const abs: Unary = E.abs;
/**
 * -1, 0 or 1 by the sign of x.
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.sign(np.array([-3, 0, 2])).toJs()); // [-1, 0, 1]
 * ```
 */
export const sign: Unary = E.sign;
/**
 * The logistic sigmoid `1 / (1 + e^-x)`, stable for large |x|.
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.sigmoid(np.array([0])).toJs()); // [0.5]
 * ```
 */
export const sigmoid: Unary = E.logistic;
/**
 * Rounds down.
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.floor(np.array([1.5, -1.5])).toJs()); // [1, -2]
 * ```
 */
export const floor: Unary = E.floor;
/**
 * Rounds up.
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.ceil(np.array([1.5])).toJs()); // [2]
 * ```
 */
export const ceil: Unary = E.ceil;

/** A binary elementwise function. */
export type Compare = (x: ArrayLike, y: ArrayLike) => NDArray;
/**
 * `x == y` elementwise (a bool array).
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.equal(np.array([1, 2]), 2).toJs()); // [false, true]
 * ```
 */
export const equal: Compare = E.equal;
/**
 * `x != y` elementwise.
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.notEqual(np.array([1, 2]), 2).toJs()); // [true, false]
 * ```
 */
export const notEqual: Compare = E.notEqual;
/**
 * `x < y` elementwise.
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.less(np.array([1, 2]), 2).toJs()); // [true, false]
 * ```
 */
export const less: Compare = E.less;
/**
 * `x <= y` elementwise.
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.lessEqual(np.array([1, 2]), 2).toJs()); // [true, true]
 * ```
 */
export const lessEqual: Compare = E.lessEqual;
/**
 * `x > y` elementwise.
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.greater(np.array([1, 3]), 2).toJs()); // [false, true]
 * ```
 */
export const greater: Compare = E.greater;
/**
 * `x >= y` elementwise.
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.greaterEqual(np.array([1, 2]), 2).toJs()); // [false, true]
 * ```
 */
export const greaterEqual: Compare = E.greaterEqual;
/**
 * Elementwise AND of bool arrays.
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.logicalAnd(np.array([true, true]), np.array([true, false])).toJs()); // [true, false]
 * ```
 */
export const logicalAnd: Compare = (x, y) => E.logicalAnd(boolArg("logicalAnd", x), boolArg("logicalAnd", y));
/**
 * Elementwise OR of bool arrays.
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.logicalOr(np.array([false, true]), np.array([false, false])).toJs()); // [false, true]
 * ```
 */
export const logicalOr: Compare = (x, y) => E.logicalOr(boolArg("logicalOr", x), boolArg("logicalOr", y));
/**
 * Elementwise NOT of a bool array.
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.logicalNot(np.array([true, false])).toJs()); // [false, true]
 * ```
 */
export const logicalNot: Unary = (x) => E.logicalNot(boolArg("logicalNot", x));

function boolArg(op: string, x: ArrayLike): ArrayLike {
  if (typeof x === "boolean") return x;
  const a = E.asArray(x, undefined, op);
  if (a.dtype !== "bool")
    throw new Error(`${op}: expects bool arrays, got ${a.aval.toString()}; compare first (np.greater etc.) or convert with astype("bool").`);
  return a;
}
