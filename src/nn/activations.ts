/**
 * Activation functions, composed from `np` (so every transform applies to them).
 * @module
 */
import { NDArray } from "../core/array.js";
import { isFloat } from "../core/dtype.js";
import { checkOptions, describeValue, normalizeAxis } from "../core/shape.js";
import * as np from "../numpy/index.js";
import { stopGradient } from "../transforms/ad.js";

/** An array or a JS number. */
export type ArrayLike = NDArray | number;

function asFloat(op: string, x: ArrayLike): NDArray {
  if (typeof x === "number") return np.array(x);
  if (!(x instanceof NDArray)) throw new Error(`nn.${op}: expected an array or a number, got ${describeValue(x)}.`);
  return isFloat(x.dtype) ? x : x.astype("float32");
}

/**
 * Rectified linear unit, `max(x, 0)`. Its derivative at exactly 0 is 0, as PyTorch's; a
 * NaN stays NaN (a diverging model is not hidden).
 *
 * @example
 * ```ts
 * import { grad, nn, np } from "cotangent";
 * console.log(nn.relu(np.array([-1, 0, 2])).toJs()); // [0, 0, 2]
 * console.log(grad((x: np.Array) => nn.relu(x).sum())(np.array([-1, 0, 2])).toJs()); // [0, 0, 1]
 * ```
 */
export function relu(x: ArrayLike): NDArray {
  const a = asFloat("relu", x);
  // NaN <= 0 is false, so a NaN passes through (as JAX's relu) instead of becoming 0
  return np.where(np.lessEqual(a, 0), 0, a);
}

/**
 * Leaky ReLU: `x` for `x > 0`, else `negativeSlope * x` (default 0.01, as PyTorch).
 *
 * @example
 * ```ts
 * import { nn, np } from "cotangent";
 * console.log(nn.leakyRelu(np.array([-2, 3]), 0.1).toJs()); // [-0.20000000298023224, 3]
 * ```
 */
export function leakyRelu(x: ArrayLike, negativeSlope = 0.01): NDArray {
  const a = asFloat("leakyRelu", x);
  return np.where(np.greater(a, 0), a, np.multiply(a, negativeSlope));
}

/**
 * The logistic sigmoid `1 / (1 + exp(-x))`, stable for large |x|.
 *
 * @example
 * ```ts
 * import { nn, np } from "cotangent";
 * console.log(nn.sigmoid(np.array([0, 1000, -1000])).toJs()); // [0.5, 1, 0]
 * ```
 */
export function sigmoid(x: ArrayLike): NDArray {
  return np.sigmoid(asFloat("sigmoid", x));
}

/**
 * Hyperbolic tangent.
 *
 * @example
 * ```ts
 * import { nn, np } from "cotangent";
 * console.log(nn.tanh(np.array([0])).toJs()); // [0]
 * ```
 */
export function tanh(x: ArrayLike): NDArray {
  return np.tanh(asFloat("tanh", x));
}

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/** Options of {@link gelu}. */
export interface GeluOptions {
  /** `true` (default, as JAX): the tanh approximation; `false`: the exact form `x Φ(x)` with the normal CDF (erf). */
  approximate?: boolean;
}

/**
 * Gaussian error linear unit. With `approximate: true` (JAX's default, PyTorch's
 * `gelu(x, approximate="tanh")`): `0.5 x (1 + tanh(sqrt(2/π) (x + 0.044715 x³)))`, within
 * 5e-4 of the exact form. With `approximate: false` (PyTorch's default): the exact
 * `x Φ(x) = 0.5 x (1 + erf(x / √2))`, accurate to float64 rounding.
 *
 * @example
 * ```ts
 * import { nn, np } from "cotangent";
 * const x = np.array([0, 1], { dtype: "float64" });
 * console.log(nn.gelu(x).toJs()); // [0, 0.8411919906082768]
 * console.log(nn.gelu(x, { approximate: false }).toJs()); // [0, 0.8413447460685429]
 * ```
 */
export function gelu(x: ArrayLike, opts: GeluOptions = {}): NDArray {
  opts = checkOptions("nn.gelu", opts, "{ approximate: false }", ["approximate"]);
  const approximate = opts.approximate ?? true;
  if (typeof approximate !== "boolean")
    throw new Error(`nn.gelu: approximate must be true (tanh form) or false (exact erf form), got ${describeValue(approximate)}.`);
  const a = asFloat("gelu", x);
  if (!approximate) return np.multiply(a, normalCdf(a));
  const inner = np.multiply(np.add(a, np.multiply(np.power(a, 3), 0.044715)), SQRT_2_OVER_PI);
  return np.multiply(np.multiply(a, 0.5), np.add(np.tanh(inner), 1));
}

/** The standard normal CDF Φ(x) = erfc(-x/√2)/2, accurate in both tails. */
function normalCdf(x: NDArray): NDArray {
  return np.multiply(np.erfc(np.multiply(x, -Math.SQRT1_2)), 0.5);
}

/**
 * Softmax along `axis` (default the last): `exp(x) / sum(exp(x))`, computed after
 * subtracting the maximum so large logits do not overflow.
 *
 * @example
 * ```ts
 * import { nn, np } from "cotangent";
 * const p = nn.softmax(np.array([[1, 2, 3], [1000, 1000, 1000]]));
 * console.log(p.toJs()); // [[0.09003057330846786, 0.2447284758090973, 0.6652409434318542], [0.3333333432674408, 0.3333333432674408, 0.3333333432674408]]
 * ```
 */
export function softmax(x: ArrayLike, axis = -1): NDArray {
  const a = asFloat("softmax", x);
  axis = normalizeAxis("nn.softmax", axis, a.ndim);
  const shifted = np.subtract(a, stopGradient(np.max(a, { axis, keepdims: true })));
  const e = np.exp(shifted);
  return np.divide(e, np.sum(e, { axis, keepdims: true }));
}

/**
 * `log(softmax(x))` along `axis` (default the last), computed stably as
 * `x - max - log(sum(exp(x - max)))`.
 *
 * @example
 * ```ts
 * import { nn, np } from "cotangent";
 * console.log(nn.logSoftmax(np.array([0, 1000])).toJs()); // [-1000, 0]
 * ```
 */
export function logSoftmax(x: ArrayLike, axis = -1): NDArray {
  const a = asFloat("logSoftmax", x);
  axis = normalizeAxis("nn.logSoftmax", axis, a.ndim);
  const shifted = np.subtract(a, stopGradient(np.max(a, { axis, keepdims: true })));
  return np.subtract(shifted, np.log(np.sum(np.exp(shifted), { axis, keepdims: true })));
}

/**
 * One-hot encoding of integer labels: `labels` of shape `S` gives `S ++ [numClasses]`
 * with a 1 at each label (all zeros for labels outside `0..numClasses-1`).
 *
 * @example
 * ```ts
 * import { nn, np } from "cotangent";
 * const y = nn.oneHot(np.array([2, 0], { dtype: "int32" }), 3);
 * console.log(y.toJs()); // [[0, 0, 1], [1, 0, 0]]
 * ```
 */
export function oneHot(labels: NDArray, numClasses: number, dtype: np.DType = "float32"): NDArray {
  if (!(labels instanceof NDArray) || labels.dtype !== "int32") {
    throw new Error(
      `nn.oneHot: labels must be an int32 array, got ${labels instanceof NDArray ? labels.aval.toString() : describeValue(labels)}; convert with astype("int32").`,
    );
  }
  if (!Number.isInteger(numClasses) || numClasses < 1) throw new Error(`nn.oneHot: numClasses must be a positive integer, got ${describeValue(numClasses)}.`);
  const classes = np.arange(0, numClasses, 1, "int32");
  return np.equal(np.expandDims(labels, -1), classes).astype(dtype);
}

/**
 * Softplus, `log(1 + exp(x))`, computed stably as `max(x, 0) + log1p(exp(-|x|))`
 * (PyTorch's `nn.Softplus` with beta 1, JAX's `nn.softplus`).
 *
 * @example
 * ```ts
 * import { grad, nn, np } from "cotangent";
 * console.log(nn.softplus(np.array([0, 1000], { dtype: "float64" })).toJs()); // [0.6931471805599453, 1000]
 * console.log(grad((x: np.Array) => nn.softplus(x).sum())(np.array([0])).toJs()); // [0.5]
 * ```
 */
export function softplus(x: ArrayLike): NDArray {
  const a = asFloat("softplus", x);
  return np.add(np.maximum(a, 0), np.log1p(np.exp(np.negative(np.abs(a)))));
}

/**
 * Sigmoid linear unit (swish), `x · sigmoid(x)`.
 *
 * @example
 * ```ts
 * import { nn, np } from "cotangent";
 * console.log(nn.silu(np.array([0, 1], { dtype: "float64" })).toJs()); // [0, 0.7310585786300049]
 * ```
 */
export function silu(x: ArrayLike): NDArray {
  const a = asFloat("silu", x);
  return np.multiply(a, np.sigmoid(a));
}

/**
 * Exponential linear unit: `x` for `x > 0`, else `alpha · (exp(x) - 1)` (alpha
 * default 1, as PyTorch and JAX).
 *
 * @example
 * ```ts
 * import { nn, np } from "cotangent";
 * console.log(nn.elu(np.array([-1, 2], { dtype: "float64" })).toJs()); // [-0.6321205588285577, 2]
 * ```
 */
export function elu(x: ArrayLike, alpha = 1): NDArray {
  const a = asFloat("elu", x);
  if (typeof alpha !== "number" || !Number.isFinite(alpha)) throw new Error(`nn.elu: alpha must be a finite number, got ${describeValue(alpha)}.`);
  // expm1 of min(x, 0): the untaken branch never overflows, so its gradient stays finite.
  return np.where(np.greater(a, 0), a, np.multiply(np.expm1(np.minimum(a, 0)), alpha));
}

/**
 * `log(sigmoid(x))`, computed stably as `-softplus(-x)`.
 *
 * @example
 * ```ts
 * import { nn, np } from "cotangent";
 * console.log(nn.logSigmoid(np.array([0, -1000], { dtype: "float64" })).toJs()); // [-0.6931471805599453, -1000]
 * ```
 */
export function logSigmoid(x: ArrayLike): NDArray {
  return np.negative(softplus(np.negative(asFloat("logSigmoid", x))));
}
