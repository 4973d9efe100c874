/** Reductions of the np namespace: `axis` (number or list, negative allowed) and `keepdims`. @module */
import type { NDArray, ReduceOptions } from "../core/array.js";
import { isFloat } from "../core/dtype.js";
import { checkOptions, describeValue, normalizeAxes, normalizeAxis } from "../core/shape.js";
import { bind1 } from "../core/trace.js";
import * as E from "../primitives/elementwise.js";
import { type ArrayLike, asArray } from "../primitives/elementwise.js";
import { argmax_p, argmin_p, expandReduced, keptShape, reduceMax, reduceMin, reduceSum } from "../primitives/reduce.js";
import { reshape } from "../primitives/shape.js";

export type { ReduceOptions };

function keep(y: NDArray, x: NDArray, axes: number[], keepdims: boolean | undefined): NDArray {
  return keepdims ? reshape(y, keptShape(x.aval.shape, axes)) : y;
}
function countOf(x: NDArray, axes: number[]): number {
  return axes.reduce((n, a) => n * x.aval.shape[a]!, 1);
}

/**
 * Sum over `axis` (all axes by default). Bool arrays sum as int32.
 * @example
 * ```ts
 * import { np } from "cotangent";
 * const x = np.array([[1, 2], [3, 4]]);
 * console.log(np.sum(x).item(), np.sum(x, { axis: 0 }).toJs(), np.sum(x, { axis: -1, keepdims: true }).toJs()); // 10 [4, 6] [[3], [7]]
 * ```
 */
export function sum(x: ArrayLike, opts: ReduceOptions = {}): NDArray {
  opts = checkOptions("sum", opts, "{ axis: 0, keepdims: true }", ["axis", "keepdims"]);
  let a = asArray(x, undefined, "sum");
  if (a.dtype === "bool") a = E.convert(a, "int32");
  const axes = normalizeAxes("sum", opts.axis, a.ndim);
  return keep(reduceSum(a, axes), a, axes, opts.keepdims);
}
/**
 * Arithmetic mean over `axis` (integer input gives float32).
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.mean(np.array([[1, 2], [3, 4]]), { axis: 1 }).toJs()); // [1.5, 3.5]
 * ```
 */
export function mean(x: ArrayLike, opts: ReduceOptions = {}): NDArray {
  opts = checkOptions("mean", opts, "{ axis: 0, keepdims: true }", ["axis", "keepdims"]);
  const a = asArray(x, undefined, "mean");
  const axes = normalizeAxes("mean", opts.axis, a.ndim);
  const s = sum(isFloat(a.dtype) ? a : E.convert(a, "float32"), opts);
  return E.div(s, countOf(a, axes));
}
/**
 * Maximum over `axis`. The gradient is split equally among tied maxima.
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.max(np.array([[1, 5], [3, 2]]), { axis: 0 }).toJs()); // [3, 5]
 * ```
 */
export function max(x: ArrayLike, opts: ReduceOptions = {}): NDArray {
  opts = checkOptions("max", opts, "{ axis: 0, keepdims: true }", ["axis", "keepdims"]);
  const a = asArray(x, undefined, "max");
  const axes = normalizeAxes("max", opts.axis, a.ndim);
  checkNonEmpty("max", a, axes);
  return keep(reduceMax(a.dtype === "bool" ? E.convert(a, "int32") : a, axes), a, axes, opts.keepdims);
}
/**
 * Minimum over `axis`.
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.min(np.array([[1, 5], [3, 2]])).item()); // 1
 * ```
 */
export function min(x: ArrayLike, opts: ReduceOptions = {}): NDArray {
  opts = checkOptions("min", opts, "{ axis: 0, keepdims: true }", ["axis", "keepdims"]);
  const a = asArray(x, undefined, "min");
  const axes = normalizeAxes("min", opts.axis, a.ndim);
  checkNonEmpty("min", a, axes);
  return keep(reduceMin(a.dtype === "bool" ? E.convert(a, "int32") : a, axes), a, axes, opts.keepdims);
}
function checkNonEmpty(op: string, a: NDArray, axes: number[]): void {
  if (axes.some((ax) => a.aval.shape[ax] === 0))
    throw new Error(`${op}: zero-size reduction over axes (${axes.join(",")}) of shape [${a.shape.join(",")}] has no identity.`);
}

/**
 * Product over `axis`. Its gradient is exact also where elements are zero.
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.prod(np.array([1, 2, 3, 4])).item()); // 24
 * ```
 */
export function prod(x: ArrayLike, opts: ReduceOptions = {}): NDArray {
  opts = checkOptions("prod", opts, "{ axis: 0, keepdims: true }", ["axis", "keepdims"]);
  let a = asArray(x, undefined, "prod");
  if (a.dtype === "bool") a = E.convert(a, "int32");
  const axes = normalizeAxes("prod", opts.axis, a.ndim);
  return keep(prodAxes(a, axes), a, axes, opts.keepdims);
}
function rawProd(a: NDArray, axes: number[]): NDArray {
  // product as exp(sum(log|x|)) loses precision; multiply along each axis instead
  let y = a;
  for (let k = axes.length - 1; k >= 0; k--) y = prodOneAxis(y, axes[k]!);
  return y;
}
function prodOneAxis(a: NDArray, axis: number): NDArray {
  const n = a.aval.shape[axis]!;
  const parts: NDArray[] = [];
  const shape = a.shape;
  let acc: NDArray | null = null;
  for (let i = 0; i < n; i++) {
    const starts = shape.map((_, d) => (d === axis ? i : 0));
    const stops = shape.map((s, d) => (d === axis ? i + 1 : s));
    const sl = sliceRaw(a, starts, stops);
    acc = acc ? E.mul(acc, sl) : sl;
  }
  void parts;
  const outShape = shape.filter((_, d) => d !== axis);
  return acc ? reshape(acc, outShape) : E.full(outShape, 1, a.dtype);
}
import { slice as sliceRaw } from "../primitives/shape.js";
/**
 * prod as a chain of multiplications: differentiating the chain (product rule) gives
 * d prod / d x_i = product of the other elements exactly, zeros included, to every
 * order (a rule that divides by x_i or special-cases zeros gets the second derivative
 * wrong where two elements are zero, and underflows for tiny x_i).
 */
function prodAxes(a: NDArray, axes: number[]): NDArray {
  return rawProd(a, axes);
}

/**
 * `log(sum(exp(x)))` over `axis`, computed stably by subtracting the maximum.
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.logSumExp(np.array([1000, 1000])).item()); // 1000.6931762695312
 * ```
 */
export function logSumExp(x: ArrayLike, opts: ReduceOptions = {}): NDArray {
  opts = checkOptions("logSumExp", opts, "{ axis: 0, keepdims: true }", ["axis", "keepdims"]);
  let a = asArray(x, undefined, "logSumExp");
  if (!isFloat(a.dtype)) a = E.convert(a, "float32");
  const axes = normalizeAxes("logSumExp", opts.axis, a.ndim);
  const m0 = E.stopGradientArray(reduceMax(a, axes));
  const m = E.where(E.less(E.abs(m0), Infinity), m0, 0);
  const shifted = E.sub(a, expandReduced(m, a.aval.shape, axes));
  const out = E.add(E.log(reduceSum(E.exp(shifted), axes)), m);
  return keep(out, a, axes, opts.keepdims);
}

/** Options of {@link var_} and {@link std}. */
export interface VarOptions extends ReduceOptions {
  /** Delta degrees of freedom: the divisor is `n - ddof` (default 0, as NumPy). */
  ddof?: number;
}
/**
 * Variance over `axis` (`ddof` 0 by default: the biased estimator, as NumPy).
 * Exported as `np.var`.
 * @example
 * ```ts
 * import { np } from "cotangent";
 * const x = np.array([1, 2, 3, 4]);
 * console.log(np.var(x).item(), np.var(x, { ddof: 1 }).item()); // 1.25 1.6666666269302368
 * ```
 */
export function var_(x: ArrayLike, opts: VarOptions = {}): NDArray {
  return varImpl("var", x, opts);
}
function varImpl(op: string, x: ArrayLike, opts: VarOptions): NDArray {
  opts = checkOptions(op, opts, "{ axis: 0, ddof: 1 }", ["axis", "keepdims", "ddof"]);
  if (opts.ddof !== undefined && (typeof opts.ddof !== "number" || !Number.isFinite(opts.ddof)))
    throw new Error(`${op}: ddof must be a finite number (the divisor is n - ddof), got ${describeValue(opts.ddof)}.`);
  let a = asArray(x, undefined, op);
  if (!isFloat(a.dtype)) a = E.convert(a, "float32");
  const axes = normalizeAxes(op, opts.axis, a.ndim);
  const n = countOf(a, axes);
  const ddof = opts.ddof ?? 0;
  const mu = reduceSum(a, axes);
  const centered = E.sub(a, expandReduced(E.div(mu, n), a.aval.shape, axes));
  const out = E.div(reduceSum(E.mul(centered, centered), axes), Math.max(0, n - ddof));
  return keep(out, a, axes, opts.keepdims);
}
/**
 * Standard deviation: `sqrt(var(x, opts))`.
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.std(np.array([1, 3])).item()); // 1
 * ```
 */
export function std(x: ArrayLike, opts: VarOptions = {}): NDArray {
  return E.sqrt(varImpl("std", x, opts));
}

/** Options of {@link argmax} and {@link argmin}. */
export interface ArgOptions {
  /** The axis to search; the flattened array when omitted. */
  axis?: number;
  keepdims?: boolean;
}
function argReduce(op: string, prim: typeof argmax_p, x: ArrayLike, opts: ArgOptions): NDArray {
  opts = checkOptions(op, opts, "{ axis: 0 }", ["axis", "keepdims"]);
  let a = asArray(x, undefined, op);
  if (a.dtype === "bool") a = E.convert(a, "int32");
  if (opts.axis === undefined || opts.axis === null) {
    const y = bind1(prim, [reshape(a, [a.size])], { axis: 0 });
    return opts.keepdims
      ? reshape(
          y,
          a.shape.map(() => 1),
        )
      : y;
  }
  const axis = normalizeAxis(op, opts.axis, a.ndim);
  const y = bind1(prim, [a], { axis });
  return opts.keepdims ? reshape(y, keptShape(a.aval.shape, [axis])) : y;
}
/**
 * Index of the maximum along `axis` (int32; first occurrence).
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.argmax(np.array([[1, 9], [8, 2]]), { axis: 1 }).toJs()); // [1, 0]
 * ```
 */
export function argmax(x: ArrayLike, opts: ArgOptions = {}): NDArray {
  return argReduce("argmax", argmax_p, x, opts);
}
/**
 * Index of the minimum along `axis`.
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.argmin(np.array([3, 1, 2])).item()); // 1
 * ```
 */
export function argmin(x: ArrayLike, opts: ArgOptions = {}): NDArray {
  return argReduce("argmin", argmin_p, x, opts);
}
