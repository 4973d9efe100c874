/** Convolutions and windowed reductions, as `jax.lax`'s. @module */
import { NDArray as NDArrayClass, type NDArray } from "../core/array.js";
import { checkOptions, describeValue, fmtShape } from "../core/shape.js";
import { type Padding, checkInts, resolvePadding } from "./args.js";
import { bind1 } from "../core/trace.js";
import { type ConvParams, convRaw, dilateDim } from "../primitives/conv.js";
import { type ArrayLike, add, asArray, full, maximum, minimum, mul, promoteArgs, sub } from "../primitives/elementwise.js";
import { type WindowParams, reduceWindowSum, reduce_window_max_p, reduce_window_min_p } from "../primitives/window.js";

const onesLikeArray = (x: NDArray): NDArray => full(x.shape, 1, x.dtype);

export type { Padding };

/** Options of {@link convGeneralDilated}. */
export interface ConvOptions {
  /** Dilation of the input per spatial dimension (holes between elements; a transposed convolution). Default 1s. */
  lhsDilation?: readonly number[];
  /** Dilation of the kernel per spatial dimension (atrous convolution). Default 1s. */
  rhsDilation?: readonly number[];
  /**
   * Layouts of input, kernel and output as strings, e.g. `["NHWC", "HWIO", "NHWC"]`:
   * `N` batch, `C` feature, `O`/`I` the kernel's output/input features, any other letter
   * a spatial dimension (spatial dimensions are matched by letter). Default
   * `["NCHW", "OIHW", "NCHW"]` (for any rank: batch, feature, then spatial axes).
   */
  dimensionNumbers?: readonly [string, string, string];
  /** Number of feature groups: the input features and the kernel's output features are split into this many independent groups (depthwise when it equals the input features). Default 1. */
  featureGroupCount?: number;
}

const CONV_KEYS = ["lhsDilation", "rhsDilation", "dimensionNumbers", "featureGroupCount"] as const;

/** Axis index tuples from layout strings (JAX's `conv_general_permutations`). */
function parseDimensionNumbers(specs: unknown, ndim: number): [number[], number[], number[]] {
  const fix = `use three layout strings such as ["NCHW", "OIHW", "NCHW"] or ["NHWC", "HWIO", "NHWC"]`;
  if (!Array.isArray(specs) || specs.length !== 3 || !specs.every((s) => typeof s === "string"))
    throw new Error(`${OP}: dimensionNumbers must be [lhsSpec, rhsSpec, outSpec], got ${describeValue(specs)}; ${fix}.`);
  const [l, r, o] = specs as [string, string, string];
  for (const [name, s, a, b] of [
    ["lhs", l, "N", "C"],
    ["rhs", r, "O", "I"],
    ["out", o, "N", "C"],
  ] as const) {
    if (s.length !== ndim) throw new Error(`${OP}: the ${name} spec "${s}" has ${s.length} letters but the operands have rank ${ndim}; ${fix}.`);
    if (new Set(s).size !== s.length) throw new Error(`${OP}: the ${name} spec "${s}" repeats a letter; each axis needs its own letter.`);
    if (!s.includes(a) || !s.includes(b)) throw new Error(`${OP}: the ${name} spec "${s}" must contain "${a}" and "${b}"; ${fix}.`);
  }
  const rSpatial = [...r].filter((c) => c !== "O" && c !== "I");
  for (const [name, s] of [
    ["lhs", l],
    ["out", o],
  ] as const) {
    const sp = [...s].filter((c) => c !== "N" && c !== "C");
    if (sp.some((c) => !rSpatial.includes(c)))
      throw new Error(`${OP}: the spatial letters of the ${name} spec "${s}" must be those of the rhs spec "${r}" (${rSpatial.join(", ")}).`);
  }
  const perm = (s: string, a: string, b: string) => [s.indexOf(a), s.indexOf(b), ...rSpatial.map((c) => s.indexOf(c))];
  return [perm(l, "N", "C"), perm(r, "O", "I"), perm(o, "N", "C")];
}

const OP = "convGeneralDilated";

/**
 * The general convolution of `jax.lax.conv_general_dilated`: `lhs` (inputs) with `rhs`
 * (kernels), any number of spatial dimensions, window strides, padding, input and
 * kernel dilation, dimension numbers and feature groups. Like JAX (and XLA) it computes
 * a cross-correlation (the kernel is not flipped). Differentiable in both operands to
 * any order (it is bilinear), and works under `jit` and `vmap`.
 *
 * Shapes (default layout): `lhs [N, C, ...spatial]`, `rhs [O, C / featureGroupCount,
 * ...window]`, result `[N, O, ...outSpatial]` with `outSpatial[d] = floor((dilated
 * input + padding - dilated window) / stride) + 1`.
 *
 * @param lhs The input, `[N, C, ...spatial]` by default.
 * @param rhs The kernel, `[O, I, ...window]` by default.
 * @param windowStrides The window's step per spatial dimension.
 * @param padding `"SAME"`, `"VALID"`, or `[lo, hi]` per spatial dimension (negative crops).
 * @example
 * ```ts
 * import { lax, np } from "cotangent";
 * const x = np.arange(5).reshape([1, 1, 5]);          // N=1, C=1, W=5
 * const w = np.array([1, 0, -1]).reshape([1, 1, 3]);  // O=1, I=1, window 3
 * console.log(lax.convGeneralDilated(x, w, [1], "VALID").toJs()); // [[[-2, -2, -2]]]
 * const y = lax.convGeneralDilated(np.ones([2, 8, 8, 3]), np.ones([3, 3, 3, 4]), [2, 2], "SAME", { dimensionNumbers: ["NHWC", "HWIO", "NHWC"] });
 * console.log(y.shape); // [2, 4, 4, 4]
 * ```
 */
export function convGeneralDilated(lhs: ArrayLike, rhs: ArrayLike, windowStrides: readonly number[], padding: Padding, opts?: ConvOptions): NDArray {
  const o = checkOptions(OP, opts, `{ featureGroupCount: 2, dimensionNumbers: ["NHWC", "HWIO", "NHWC"] }`, CONV_KEYS);
  const [x, w] = promoteArgs(OP, lhs, rhs);
  if (x.ndim < 2 || x.ndim !== w.ndim) {
    throw new Error(
      `${OP}: lhs ${fmtShape(x.shape)} and rhs ${fmtShape(w.shape)} must have the same rank, at least 2 (batch and feature axes, then the spatial axes); add axes with reshape.`,
    );
  }
  const ns = x.ndim - 2;
  const [lhsSpec, rhsSpec, outSpec] =
    o.dimensionNumbers === undefined
      ? ([0, 1, 2].map(() => Array.from({ length: x.ndim }, (_, i) => i)) as [number[], number[], number[]])
      : parseDimensionNumbers(o.dimensionNumbers, x.ndim);
  const strides = checkInts(OP, "windowStrides", windowStrides, ns, 1);
  const lhsDilation = o.lhsDilation === undefined ? new Array<number>(ns).fill(1) : checkInts(OP, "lhsDilation", o.lhsDilation, ns, 1);
  const rhsDilation = o.rhsDilation === undefined ? new Array<number>(ns).fill(1) : checkInts(OP, "rhsDilation", o.rhsDilation, ns, 1);
  const G = o.featureGroupCount ?? 1;
  if (!Number.isInteger(G) || G < 1) throw new Error(`${OP}: featureGroupCount must be a positive integer, got ${describeValue(G)}.`);
  const window = rhsSpec.slice(2).map((a, d) => dilateDim(w.shape[a]!, rhsDilation[d]!));
  const pads = resolvePadding(
    OP,
    padding,
    lhsSpec.slice(2).map((a) => x.shape[a]!),
    window,
    strides,
  );
  const p: ConvParams = {
    windowStrides: strides,
    padding: pads,
    lhsDilation,
    rhsDilation,
    lhsSpec,
    rhsSpec,
    outSpec,
    featureGroupCount: G,
    batchGroupCount: 1,
  };
  return convRaw(x, w, p);
}

/**
 * The common convolution: `lhs [N, C, ...spatial]` with `rhs [O, C, ...window]`, window
 * strides and padding, as `jax.lax.conv` (a cross-correlation, like every deep-learning
 * convolution).
 *
 * @param lhs The input, `[N, C, ...spatial]`.
 * @param rhs The kernel, `[O, C, ...window]`.
 * @param windowStrides The window's step per spatial dimension.
 * @param padding `"SAME"`, `"VALID"`, or `[lo, hi]` per spatial dimension.
 * @example
 * ```ts
 * import { lax, np } from "cotangent";
 * const x = np.ones([1, 1, 3, 3]);
 * const w = np.ones([1, 1, 3, 3]);
 * // each output sums the 3x3 window around it; "SAME" pads with zeros
 * console.log(lax.conv(x, w, [1, 1], "SAME").toJs()); // [[[[4, 6, 4], [6, 9, 6], [4, 6, 4]]]]
 * console.log(lax.conv(np.ones([8, 3, 28, 28]), np.ones([16, 3, 3, 3]), [2, 2], "SAME").shape); // [8, 16, 14, 14]
 * ```
 */
export function conv(lhs: ArrayLike, rhs: ArrayLike, windowStrides: readonly number[], padding: Padding): NDArray {
  return convGeneralDilated(lhs, rhs, windowStrides, padding);
}

/** The reductions {@link reduceWindow} takes. */
export type WindowOp = "add" | "max" | "min";

const IDENTITY: Record<WindowOp, number> = { add: 0, max: -Infinity, min: Infinity };

/**
 * A reduction over sliding windows, as `jax.lax.reduce_window` with `lax.add`,
 * `lax.max` or `lax.min`: sum pooling and max/min pooling over any axes (a window of 1
 * leaves an axis alone). As in XLA, padded positions hold `init`, and each window's
 * reduction starts from `init` — pass the identity (`0` for "add", `-Infinity` for
 * "max", `Infinity` for "min") for plain pooling. Differentiable to any order: the
 * gradient of a max (min) goes to the first maximum (minimum) of each window, as JAX's
 * select-and-scatter; works under `jit` and `vmap`.
 *
 * @param x The operand.
 * @param init The initial value (also the value of padded positions).
 * @param op `"add"`, `"max"` or `"min"`.
 * @param windowDims The window size per axis of `x`.
 * @param strides The window's step per axis of `x`.
 * @param padding `"SAME"`, `"VALID"`, or `[lo, hi]` per axis of `x`.
 * @example
 * ```ts
 * import { grad, lax, np } from "cotangent";
 * const x = np.array([[1, 5, 2, 0], [3, 4, 8, 6]]);
 * console.log(lax.reduceWindow(x, -Infinity, "max", [2, 2], [2, 2], "VALID").toJs()); // [[5, 8]]
 * console.log(lax.reduceWindow(x, 0, "add", [1, 2], [1, 1], "VALID").toJs()); // [[6, 7, 2], [7, 12, 14]]
 * const g = grad((x: np.Array) => np.sum(lax.reduceWindow(x, -Infinity, "max", [2, 2], [2, 2], "VALID")))(x);
 * console.log(g.toJs()); // [[0, 1, 0, 0], [0, 0, 1, 0]]
 * ```
 */
export function reduceWindow(
  x: ArrayLike,
  init: number | NDArray,
  op: WindowOp,
  windowDims: readonly number[],
  strides: readonly number[],
  padding: Padding,
): NDArray {
  const W = "reduceWindow";
  const a = asArray(x, undefined, W);
  if (op !== "add" && op !== "max" && op !== "min") throw new Error(`${W}: op must be "add", "max" or "min", got ${describeValue(op)}.`);
  if (typeof init !== "number" && !(init instanceof NDArrayClass && init.ndim === 0))
    throw new Error(`${W}: init must be a number or a 0-d array, got ${describeValue(init)}.`);
  const n = a.ndim;
  const windowDimensions = checkInts(W, "windowDims", windowDims, n, 1);
  const windowStrides = checkInts(W, "strides", strides, n, 1);
  const pads = resolvePadding(W, padding, a.shape, windowDimensions, windowStrides);
  const p: WindowParams = {
    windowDimensions,
    windowStrides,
    padding: pads,
    baseDilation: new Array<number>(n).fill(1),
    windowDilation: new Array<number>(n).fill(1),
  };
  const identity = typeof init === "number" && init === IDENTITY[op];
  if (op === "add") {
    const s = reduceWindowSum(a, p);
    if (identity) return s;
    // init once per window, and once more per padded position in it
    const padded = sub(
      windowDimensions.reduce((u, v) => u * v, 1),
      reduceWindowSum(onesLikeArray(a), p),
    );
    return add(s, mul(init, add(padded, 1)));
  }
  const r = bind1(op === "max" ? reduce_window_max_p : reduce_window_min_p, [a], p);
  if (identity) return r;
  return op === "max" ? maximum(r, init) : minimum(r, init);
}
