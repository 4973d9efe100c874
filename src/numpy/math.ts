/**
 * More elementwise functions of the np namespace: inverse trigonometric and hyperbolic
 * functions, special functions, rounding, `mod`, base-2/10 logs, `hypot`, `logaddexp`,
 * and the floating-point predicates (`isnan`, `isfinite`, `isinf`, `nanToNum`), plus
 * the logical reductions `any`, `all`, `allclose`.
 * @module
 */
import type { NDArray, ReduceOptions } from "../core/array.js";
import { isFloat } from "../core/dtype.js";
import { checkOptions, describeValue } from "../core/shape.js";
import * as E from "../primitives/elementwise.js";
import { type ArrayLike, asArray } from "../primitives/elementwise.js";
import * as X from "../primitives/special.js";
import { sum } from "./reductions.js";

type Unary = (x: ArrayLike) => NDArray;
type Binary = (x: ArrayLike, y: ArrayLike) => NDArray;

/**
 * Inverse sine, in radians (NaN outside [-1, 1]).
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.arcsin(np.array([0, 1], { dtype: "float64" })).toJs()); // [0, 1.5707963267948966]
 * ```
 */
export const arcsin: Unary = X.asin;
/**
 * Inverse cosine, in radians.
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.arccos(np.array([1], { dtype: "float64" })).toJs()); // [0]
 * ```
 */
export const arccos: Unary = X.acos;
/**
 * Inverse tangent, in radians.
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.arctan(np.array([1], { dtype: "float64" })).toJs()); // [0.7853981633974483]
 * ```
 */
export const arctan: Unary = X.atan;
/**
 * The angle of the point (x, y) from the positive x axis: `arctan2(y, x)` in (-π, π].
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.arctan2(np.array([1], { dtype: "float64" }), -1).toJs()); // [2.356194490192345]
 * ```
 */
export const arctan2: Binary = X.atan2;
/**
 * Hyperbolic sine.
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.sinh(np.array([0])).toJs()); // [0]
 * ```
 */
export const sinh: Unary = X.sinh;
/**
 * Hyperbolic cosine.
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.cosh(np.array([0])).toJs()); // [1]
 * ```
 */
export const cosh: Unary = X.cosh;
/**
 * Inverse hyperbolic sine.
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.arcsinh(np.array([0])).toJs()); // [0]
 * ```
 */
export const arcsinh: Unary = X.asinh;
/**
 * Inverse hyperbolic cosine (NaN below 1).
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.arccosh(np.array([1])).toJs()); // [0]
 * ```
 */
export const arccosh: Unary = X.acosh;
/**
 * Inverse hyperbolic tangent (±Infinity at ±1).
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.arctanh(np.array([0, 1])).toJs()); // [0, Infinity]
 * ```
 */
export const arctanh: Unary = X.atanh;
/**
 * The error function, accurate to a few ulps in float64.
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.erf(np.array([0, 1], { dtype: "float64" })).toJs()); // [0, 0.8427007929497149]
 * ```
 */
export const erf: Unary = X.erf;
/**
 * The complementary error function `1 - erf(x)`, accurate also in its tail.
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.erfc(np.array([10], { dtype: "float64" })).toJs()); // [2.088487583762545e-45]
 * ```
 */
export const erfc: Unary = X.erfc;
/**
 * The inverse error function on [-1, 1].
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.erfinv(np.array([0, 0.5], { dtype: "float64" })).toJs()); // [0, 0.4769362762044699]
 * ```
 */
export const erfinv: Unary = X.erfinv;
/**
 * `log |Γ(x)|`.
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.lgamma(np.array([1, 5], { dtype: "float64" })).toJs()); // [0, 3.1780538303479458]
 * ```
 */
export const lgamma: Unary = X.lgamma;
/**
 * The digamma function `Γ'(x) / Γ(x)` (the derivative of lgamma).
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.digamma(np.array([1], { dtype: "float64" })).toJs()); // [-0.5772156649015329]
 * ```
 */
export const digamma: Unary = X.digamma;
/**
 * Base-2 logarithm.
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.log2(np.array([8])).toJs()); // [3]
 * ```
 */
export const log2: Unary = X.log2;
/**
 * Base-10 logarithm.
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.log10(np.array([1000])).toJs()); // [3]
 * ```
 */
export const log10: Unary = X.log10;
/**
 * `2 ** x`.
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.exp2(np.array([3, -1])).toJs()); // [8, 0.5]
 * ```
 */
export const exp2: Unary = X.exp2;
/**
 * `sqrt(x² + y²)` without overflow or underflow in the squares.
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.hypot(np.array([3, 3e200], { dtype: "float64" }), np.array([4, 4e200], { dtype: "float64" })).toJs()); // [5, 5e+200]
 * ```
 */
export const hypot: Binary = X.hypot;
/**
 * NumPy's remainder: `x - floor(x / y) * y`, with the sign of the divisor.
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.mod(np.array([5, -5, 5]), np.array([3, 3, -3])).toJs()); // [2, 1, -1]
 * ```
 */
export const mod: Binary = X.mod;

/**
 * `log(exp(x) + exp(y))` without overflow.
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.logaddexp(np.array([1000, 0], { dtype: "float64" }), np.array([1000, 0], { dtype: "float64" })).toJs()); // [1000.6931471805599, 0.6931471805599453]
 * ```
 */
export function logaddexp(x: ArrayLike, y: ArrayLike): NDArray {
  const [a0, b0] = E.promoteArgs("logaddexp", x, y);
  const d = isFloat(a0.dtype) ? a0.dtype : "float32";
  const a = E.convert(a0, d);
  const b = E.convert(b0, d);
  const m = E.maximum(a, b);
  const same = E.equal(a, b);
  // equal operands (infinities included) give a + log 2; elsewhere max + log1p(exp(-|a - b|))
  const diff = E.where(same, 0, E.abs(E.sub(a, b)));
  return E.where(same, E.add(a, Math.LN2), E.add(m, E.log1p(E.exp(E.neg(diff)))));
}

export interface RoundOptions {
  /** Decimal places (may be negative); default 0. */
  decimals?: number;
}
/**
 * Rounds to the given number of decimals, halves to even (NumPy's rule). Its
 * derivative is zero.
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.round(np.array([0.5, 1.5, 2.5, -2.5])).toJs()); // [0, 2, 2, -2]
 * console.log(np.round(np.array([1.234, 15]), { decimals: 1 }).toJs(), np.round(np.array([15]), { decimals: -1 }).toJs()); // [1.2000000476837158, 15] [20]
 * ```
 */
export function round(x: ArrayLike, opts: RoundOptions = {}): NDArray {
  const { decimals = 0 } = checkOptions("round", opts, "{ decimals: 2 }", ["decimals"]);
  if (!Number.isInteger(decimals)) throw new Error(`round: decimals must be an integer, got ${describeValue(decimals)}.`);
  const a = asArray(x, undefined, "round");
  if (!isFloat(a.dtype)) return a;
  const scale = 10 ** decimals;
  const y = decimals === 0 ? a : E.mul(a, scale);
  const away = E.round(y); // halves away from zero
  const tie = E.equal(E.abs(E.sub(y, E.floor(y))), 0.5);
  const even = E.mul(E.round(E.mul(y, 0.5)), 2);
  const r = E.where(tie, even, away);
  return decimals === 0 ? r : E.div(r, scale);
}

/**
 * True where `x` is NaN.
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.isnan(np.array([1, NaN, Infinity])).toJs()); // [false, true, false]
 * ```
 */
export function isnan(x: ArrayLike): NDArray {
  const a = asArray(x, undefined, "isnan");
  return E.notEqual(a, a);
}
/**
 * True where `x` is ±Infinity.
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.isinf(np.array([1, NaN, -Infinity])).toJs()); // [false, false, true]
 * ```
 */
export function isinf(x: ArrayLike): NDArray {
  const a = asArray(x, undefined, "isinf");
  if (!isFloat(a.dtype)) return E.notEqual(a, a);
  return E.equal(E.abs(a), Infinity);
}
/**
 * True where `x` is neither NaN nor ±Infinity.
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.isfinite(np.array([1, NaN, -Infinity])).toJs()); // [true, false, false]
 * ```
 */
export function isfinite(x: ArrayLike): NDArray {
  const a = asArray(x, undefined, "isfinite");
  if (!isFloat(a.dtype)) return E.equal(a, a);
  return E.equal(E.sub(a, a), 0);
}

export interface NanToNumOptions {
  /** Replacement for NaN (default 0). */
  nan?: number;
  /** Replacement for +Infinity (default: the largest finite value of the dtype). */
  posinf?: number;
  /** Replacement for -Infinity (default: the most negative finite value of the dtype). */
  neginf?: number;
}
/**
 * Replaces NaN and infinities with finite numbers. Differentiable (the replaced
 * entries get zero derivative).
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.nanToNum(np.array([NaN, 1, -Infinity], { dtype: "float64" }), { neginf: -9 }).toJs()); // [0, 1, -9]
 * ```
 */
export function nanToNum(x: ArrayLike, opts: NanToNumOptions = {}): NDArray {
  const o = checkOptions("nanToNum", opts, "{ nan: 0, posinf: 1e6 }", ["nan", "posinf", "neginf"]);
  const a = asArray(x, undefined, "nanToNum");
  if (!isFloat(a.dtype)) return a;
  const big = a.dtype === "float32" ? 3.4028234663852886e38 : Number.MAX_VALUE;
  const r1 = E.where(isnan(a), o.nan ?? 0, a);
  const r2 = E.where(E.equal(a, Infinity), o.posinf ?? big, r1);
  return E.where(E.equal(a, -Infinity), o.neginf ?? -big, r2);
}

function truthy(op: string, x: ArrayLike): NDArray {
  const a = asArray(x, undefined, op);
  return E.convert(a.dtype === "bool" ? a : E.notEqual(a, 0), "int32");
}
/**
 * True when any element (along `axis`) is non-zero.
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.any(np.array([[0, 0], [0, 1]]), { axis: 1 }).toJs(), np.any(np.array([0, 0])).item()); // [false, true] 0
 * ```
 */
export function any(x: ArrayLike, opts: ReduceOptions = {}): NDArray {
  checkOptions("any", opts, "{ axis: 0, keepdims: true }", ["axis", "keepdims"]);
  return E.greater(sum(truthy("any", x), opts), 0);
}
/**
 * True when every element (along `axis`) is non-zero.
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.all(np.array([[1, 0], [1, 1]]), { axis: 1 }).toJs(), np.all(np.array([1, 2])).item()); // [false, true] 1
 * ```
 */
export function all(x: ArrayLike, opts: ReduceOptions = {}): NDArray {
  checkOptions("all", opts, "{ axis: 0, keepdims: true }", ["axis", "keepdims"]);
  // no element is zero: an empty reduction is true
  return E.equal(sum(E.convert(E.equal(truthy("all", x), 0), "int32"), opts), 0);
}

export interface AllcloseOptions {
  /** Relative tolerance (default 1e-5). */
  rtol?: number;
  /** Absolute tolerance (default 1e-8). */
  atol?: number;
}
/**
 * True (a 0-d bool array) when `|a - b| <= atol + rtol·|b|` everywhere (NaN is never close).
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.allclose(np.array([1, 2]), np.array([1, 2.000001])).item(), np.allclose(np.array([1]), np.array([1.1]), { atol: 0.2 }).item()); // 1 1
 * ```
 */
export function allclose(a: ArrayLike, b: ArrayLike, opts: AllcloseOptions = {}): NDArray {
  const { rtol = 1e-5, atol = 1e-8 } = checkOptions("allclose", opts, "{ rtol: 1e-5, atol: 1e-8 }", ["rtol", "atol"]);
  const [x, y] = E.promoteArgs("allclose", a, b);
  const close = E.lessEqual(E.abs(E.sub(x, y)), E.add(E.mul(E.abs(y), rtol), atol));
  const exactInf = E.equal(x, y); // equal infinities are close
  return all(E.logicalOr(close, exactInf));
}
