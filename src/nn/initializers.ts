/**
 * Parameter initializers, as JAX's `jax.nn.initializers`: each factory takes its
 * options and returns an initializer `(key, shape, dtype?) => Array`. The variance
 * scaling ones compute fan-in and fan-out as JAX does: for a 2-d shape `[in, out]`
 * (JAX's dense kernels); for a convolution kernel in JAX's `HWIO` layout the input and
 * output feature axes are the last two (`inAxis: -2`, `outAxis: -1`) and the other axes
 * form the receptive field. For PyTorch layouts (`nn.linear`'s `[out, in]`,
 * `nn.conv2d`'s `OIHW`) pass `{ inAxis: 1, outAxis: 0 }`.
 *
 * ```ts
 * import { nn, random } from "cotangent";
 * const w = nn.initializers.heNormal()(random.key(0), [784, 128]);
 * ```
 * @module
 */
import type { NDArray } from "../core/array.js";
import type { DType } from "../core/dtype.js";
import { checkOptions, describeValue, fmtShape, normalizeAxis, sizeOf } from "../core/shape.js";
import * as np from "../numpy/index.js";
import * as random from "../random/index.js";

/** An initializer: an array of `shape` (float32 unless `dtype` says otherwise) drawn with `key`. */
export type Initializer = (key: random.Key, shape: number[], dtype?: DType) => NDArray;

/** Options of the variance-scaling initializers. */
export interface VarianceScalingOptions {
  /** Axis of the input features (default -2, as JAX). */
  inAxis?: number;
  /** Axis of the output features (default -1, as JAX). */
  outAxis?: number;
}

const FAN_KEYS = ["inAxis", "outAxis"] as const;

function floatDType(op: string, dtype: DType | undefined): DType {
  const d = dtype ?? "float32";
  if (d !== "float32" && d !== "float64") throw new Error(`nn.initializers.${op}: dtype must be "float32" or "float64", got ${describeValue(d)}.`);
  return d;
}

function fans(op: string, shape: number[], o: VarianceScalingOptions): [number, number] {
  if (shape.length < 1) return [1, 1];
  if (shape.length === 1) return [shape[0]!, shape[0]!];
  const i = normalizeAxis(`nn.initializers.${op}`, o.inAxis ?? -2, shape.length);
  const j = normalizeAxis(`nn.initializers.${op}`, o.outAxis ?? -1, shape.length);
  if (i === j) throw new Error(`nn.initializers.${op}: inAxis and outAxis are the same axis (${i}) of shape ${fmtShape(shape)}.`);
  const receptive = sizeOf(shape) / (shape[i]! * shape[j]!);
  return [shape[i]! * receptive, shape[j]! * receptive];
}

/** The standard deviation of a standard normal truncated to [-2, 2]. */
const TRUNCATED_STD = 0.8796256610342398;

function varianceScaling(
  op: string,
  scale: number,
  mode: "fanIn" | "fanAvg",
  distribution: "uniform" | "truncatedNormal",
  opts: VarianceScalingOptions | undefined,
): Initializer {
  const o = checkOptions(`nn.initializers.${op}`, opts, "{ inAxis: 1, outAxis: 0 }", FAN_KEYS);
  return (key, shape, dtype) => {
    const d = floatDType(op, dtype);
    const [fanIn, fanOut] = fans(op, shape, o);
    const variance = scale / Math.max(1, mode === "fanIn" ? fanIn : (fanIn + fanOut) / 2);
    if (distribution === "uniform") {
      const limit = Math.sqrt(3 * variance);
      return random.uniform(key, shape, { minval: -limit, maxval: limit, dtype: d });
    }
    return np.multiply(random.truncatedNormal(key, -2, 2, shape, d), Math.sqrt(variance) / TRUNCATED_STD);
  };
}

/**
 * Zeros.
 *
 * @example
 * ```ts
 * import { nn, random } from "cotangent";
 * console.log(nn.initializers.zeros()(random.key(0), [2]).toJs()); // [0, 0]
 * ```
 */
export function zeros(): Initializer {
  return (_key, shape, dtype) => np.zeros(shape, floatDType("zeros", dtype));
}

/**
 * Ones.
 *
 * @example
 * ```ts
 * import { nn, random } from "cotangent";
 * console.log(nn.initializers.ones()(random.key(0), [2]).toJs()); // [1, 1]
 * ```
 */
export function ones(): Initializer {
  return (_key, shape, dtype) => np.ones(shape, floatDType("ones", dtype));
}

/**
 * Normal with mean 0 and standard deviation `stddev` (default 1e-2, as JAX).
 *
 * @example
 * ```ts
 * import { np, nn, random } from "cotangent";
 * const w = nn.initializers.normal({ stddev: 2 })(random.key(0), [4000]);
 * console.log(Math.abs(np.std(w).item() - 2) < 0.1); // true
 * ```
 */
export function normal(opts: { stddev?: number } = {}): Initializer {
  const o = checkOptions("nn.initializers.normal", opts, "{ stddev: 0.02 }", ["stddev"]);
  const stddev = o.stddev ?? 1e-2;
  return (key, shape, dtype) => np.multiply(random.normal(key, shape, floatDType("normal", dtype)), stddev);
}

/**
 * Uniform in `[0, scale)` (default scale 1e-2, as JAX).
 *
 * @example
 * ```ts
 * import { nn, random } from "cotangent";
 * const w = nn.initializers.uniform({ scale: 3 })(random.key(0), [1000]);
 * console.log(w.min().item() >= 0, w.max().item() < 3); // true true
 * ```
 */
export function uniform(opts: { scale?: number } = {}): Initializer {
  const o = checkOptions("nn.initializers.uniform", opts, "{ scale: 0.1 }", ["scale"]);
  const scale = o.scale ?? 1e-2;
  return (key, shape, dtype) => random.uniform(key, shape, { minval: 0, maxval: scale, dtype: floatDType("uniform", dtype) });
}

/**
 * Glorot (Xavier) uniform: uniform in `±sqrt(6 / (fanIn + fanOut))`.
 *
 * @example
 * ```ts
 * import { nn, random } from "cotangent";
 * const w = nn.initializers.glorotUniform()(random.key(0), [20, 30]);
 * console.log(w.max().item() <= Math.sqrt(6 / 50)); // true
 * ```
 */
export function glorotUniform(opts?: VarianceScalingOptions): Initializer {
  return varianceScaling("glorotUniform", 1, "fanAvg", "uniform", opts);
}

/**
 * Glorot (Xavier) normal: truncated normal (±2 standard deviations) with variance
 * `2 / (fanIn + fanOut)`.
 *
 * @example
 * ```ts
 * import { np, nn, random } from "cotangent";
 * const w = nn.initializers.glorotNormal()(random.key(0), [100, 300]);
 * console.log(Math.abs(np.var(w).item() - 2 / 400) < 2e-4); // true
 * ```
 */
export function glorotNormal(opts?: VarianceScalingOptions): Initializer {
  return varianceScaling("glorotNormal", 1, "fanAvg", "truncatedNormal", opts);
}

/**
 * He (Kaiming) uniform: uniform in `±sqrt(6 / fanIn)`.
 *
 * @example
 * ```ts
 * import { nn, random } from "cotangent";
 * const w = nn.initializers.heUniform()(random.key(0), [24, 10]);
 * console.log(w.max().item() <= 0.5); // true
 * ```
 */
export function heUniform(opts?: VarianceScalingOptions): Initializer {
  return varianceScaling("heUniform", 2, "fanIn", "uniform", opts);
}

/**
 * He (Kaiming) normal: truncated normal with variance `2 / fanIn`.
 *
 * @example
 * ```ts
 * import { np, nn, random } from "cotangent";
 * const w = nn.initializers.heNormal()(random.key(0), [200, 200]);
 * console.log(Math.abs(np.var(w).item() - 0.01) < 5e-4); // true
 * ```
 */
export function heNormal(opts?: VarianceScalingOptions): Initializer {
  return varianceScaling("heNormal", 2, "fanIn", "truncatedNormal", opts);
}

/**
 * LeCun normal: truncated normal with variance `1 / fanIn`.
 *
 * @example
 * ```ts
 * import { np, nn, random } from "cotangent";
 * const w = nn.initializers.lecunNormal()(random.key(0), [100, 400]);
 * console.log(Math.abs(np.var(w).item() - 0.01) < 5e-4); // true
 * ```
 */
export function lecunNormal(opts?: VarianceScalingOptions): Initializer {
  return varianceScaling("lecunNormal", 1, "fanIn", "truncatedNormal", opts);
}
