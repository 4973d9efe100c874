/**
 * Convolution and pooling layers in PyTorch's conventions: `NCHW` inputs, `OIHW`
 * weights, PyTorch's default initialization, `stride`/`padding`/`dilation`/`groups`
 * options. They are thin wrappers over `lax.convGeneralDilated` and `lax.reduceWindow`,
 * so every transform applies.
 * @module
 */
import { NDArray } from "../core/array.js";
import { checkOptions, describeValue, fmtShape } from "../core/shape.js";
import { convGeneralDilated, reduceWindow } from "../lax/conv.js";
import * as np from "../numpy/index.js";
import * as random from "../random/index.js";
import type { InitOptions } from "./layers.js";

/** A size per spatial axis: one number for both, or `[height, width]`. */
export type Size2d = number | [number, number];

function pair(op: string, name: string, v: unknown, min: number): [number, number] {
  const p = typeof v === "number" ? [v, v] : v;
  if (!Array.isArray(p) || p.length !== 2 || !p.every((d) => Number.isInteger(d) && d >= min)) {
    throw new Error(`${op}: ${name} must be an integer >= ${min} or a pair [h, w] of them, got ${describeValue(v)}.`);
  }
  return p as [number, number];
}

function positiveInt(op: string, name: string, d: unknown): number {
  if (typeof d !== "number" || !Number.isInteger(d) || d < 1) throw new Error(`${op}: ${name} must be a positive integer, got ${describeValue(d)}.`);
  return d;
}

/** The input as `[N, C, H, W]` (a `[C, H, W]` input gets a batch axis) and whether one was added. */
function nchw(op: string, x: unknown, channels?: number): [NDArray, boolean] {
  if (!(x instanceof NDArray)) throw new Error(`${op}: x must be an array, got ${describeValue(x)}.`);
  if (x.ndim !== 3 && x.ndim !== 4)
    throw new Error(`${op}: x must be [batch, channels, height, width] (or [channels, height, width]), got shape ${fmtShape(x.shape)}.`);
  const b = x.ndim === 3 ? np.expandDims(x, 0) : x;
  if (channels !== undefined && b.shape[1] !== channels) {
    throw new Error(
      `${op}: x has ${b.shape[1]} channels on axis ${x.ndim - 3} (shape ${fmtShape(x.shape)}) but the weight expects ${channels}; inputs are NCHW — transpose NHWC data with np.transpose(x, [0, 3, 1, 2]).`,
    );
  }
  return [b, x.ndim === 3];
}

/** Parameters of a 2-d convolution, in PyTorch's layout. */
export interface Conv2dParams {
  /** `[outChannels, inChannels / groups, kernelHeight, kernelWidth]`. */
  weight: NDArray;
  /** `[outChannels]`. */
  bias: NDArray;
}

/** Options of {@link conv2d}`.init`. */
export interface Conv2dInitOptions extends InitOptions {
  /** Feature groups (default 1); both channel counts must be divisible by it. */
  groups?: number;
}

/** Options of {@link conv2d}`.apply`. */
export interface Conv2dOptions {
  /** Window step (default 1). */
  stride?: Size2d;
  /** Zero padding on each side (default 0), or `"same"` / `"valid"` as PyTorch. */
  padding?: Size2d | "same" | "valid";
  /** Spacing of the kernel taps (default 1). */
  dilation?: Size2d;
  /** Feature groups (default 1). */
  groups?: number;
}

/**
 * Conv2d parameters with PyTorch's default initialization: weight and bias uniform in
 * `±1/sqrt(fanIn)`, `fanIn = inChannels / groups · kh · kw`.
 *
 * @example
 * ```ts
 * import { nn, random } from "cotangent";
 * const p = nn.conv2d.init(random.key(0), 3, 8, 5);
 * console.log(p.weight.shape, p.bias.shape); // [8, 3, 5, 5] [8]
 * ```
 */
function conv2dInit(key: random.Key, inChannels: number, outChannels: number, kernelSize: Size2d, opts: Conv2dInitOptions = {}): Conv2dParams {
  const op = "nn.conv2d.init";
  positiveInt(op, "inChannels", inChannels);
  positiveInt(op, "outChannels", outChannels);
  const [kh, kw] = pair(op, "kernelSize", kernelSize, 1);
  const o = checkOptions(op, opts, `{ groups: 2, dtype: "float64" }`, ["groups", "dtype"]);
  const groups = positiveInt(op, "groups", o.groups ?? 1);
  if (inChannels % groups !== 0 || outChannels % groups !== 0)
    throw new Error(`${op}: inChannels ${inChannels} and outChannels ${outChannels} must both be divisible by groups ${groups}.`);
  const dtype = o.dtype ?? "float32";
  const bound = 1 / Math.sqrt((inChannels / groups) * kh * kw);
  const [wk, bk] = random.split(key);
  return {
    weight: random.uniform(wk, [outChannels, inChannels / groups, kh, kw], { minval: -bound, maxval: bound, dtype }),
    bias: random.uniform(bk, [outChannels], { minval: -bound, maxval: bound, dtype }),
  };
}

/**
 * Cross-correlates `x` `[N, C, H, W]` (or `[C, H, W]`) with the weight and adds the
 * bias, as PyTorch's `F.conv2d`; the result is `[N, O, H', W']`.
 *
 * @example
 * ```ts
 * import { nn, np } from "cotangent";
 * const params = { weight: np.ones([1, 1, 3, 3]), bias: np.array([1]) };
 * const y = nn.conv2d.apply(params, np.ones([1, 1, 4, 4]), { padding: 1, stride: 2 });
 * console.log(y.toJs()); // [[[[5, 7], [7, 10]]]]
 * ```
 */
function conv2dApply(params: Conv2dParams, x: NDArray, opts: Conv2dOptions = {}): NDArray {
  const op = "nn.conv2d.apply";
  const o = checkOptions(op, opts, `{ stride: 2, padding: "same" }`, ["stride", "padding", "dilation", "groups"]);
  const w = params?.weight;
  if (!(w instanceof NDArray) || w.ndim !== 4)
    throw new Error(`${op}: params.weight must be [out, in / groups, kh, kw] from nn.conv2d.init, got ${describeValue(w)}.`);
  const groups = positiveInt(op, "groups", o.groups ?? 1);
  const [xb, added] = nchw(op, x, w.shape[1]! * groups);
  if (w.shape[0]! % groups !== 0) throw new Error(`${op}: the weight's ${w.shape[0]} output channels must be divisible by groups ${groups}.`);
  const stride = pair(op, "stride", o.stride ?? 1, 1);
  const dilation = pair(op, "dilation", o.dilation ?? 1, 1);
  let padding: "SAME" | "VALID" | [number, number][];
  if (o.padding === "same" || o.padding === "valid") {
    if (o.padding === "same" && (stride[0] !== 1 || stride[1] !== 1))
      throw new Error(`${op}: padding "same" needs stride 1 (as PyTorch), got stride ${JSON.stringify(stride)}; pass explicit padding.`);
    padding = o.padding === "same" ? "SAME" : "VALID";
  } else {
    const [ph, pw] = pair(op, "padding", o.padding ?? 0, 0);
    padding = [
      [ph, ph],
      [pw, pw],
    ];
  }
  let y = convGeneralDilated(xb, w, stride, padding, { rhsDilation: dilation, featureGroupCount: groups });
  const b = params.bias;
  if (b !== undefined && b !== null) {
    if (!(b instanceof NDArray) || b.ndim !== 1 || b.shape[0] !== w.shape[0])
      throw new Error(`${op}: params.bias must be [${w.shape[0]}], got ${describeValue(b)}.`);
    y = np.add(y, np.reshape(b, [1, b.shape[0]!, 1, 1]));
  }
  return added ? np.squeeze(y, 0) : y;
}

/**
 * A 2-d convolution layer, as PyTorch's `nn.Conv2d` (NCHW inputs, OIHW weights).
 *
 * @namespace
 * @example
 * ```ts
 * import { nn, random } from "cotangent";
 * const params = nn.conv2d.init(random.key(0), 1, 16, 3);
 * const y = nn.conv2d.apply(params, random.normal(random.key(1), [8, 1, 28, 28]), { padding: 1 });
 * console.log(y.shape); // [8, 16, 28, 28]
 * ```
 */
export const conv2d = {
  /** PyTorch's default initialization. */
  init: conv2dInit,
  /** Convolves and adds the bias. */
  apply: conv2dApply,
};

/** Options of {@link maxPool2d} and {@link avgPool2d}. */
export interface Pool2dOptions {
  /** Window step (default: the kernel size, as PyTorch). */
  stride?: Size2d;
  /** Implicit padding on each side (default 0): `-inf` for max pooling, zeros for average pooling. */
  padding?: Size2d;
}

/** Options of {@link avgPool2d}. */
export interface AvgPool2dOptions extends Pool2dOptions {
  /** Count padded zeros in the divisor (default true, as PyTorch). */
  countIncludePad?: boolean;
}

function poolWindows(op: string, x: NDArray, kernelSize: Size2d, o: Pool2dOptions): { k: [number, number]; s: [number, number]; pads: [number, number][] } {
  const k = pair(op, "kernelSize", kernelSize, 1);
  const s = pair(op, "stride", o.stride ?? k, 1);
  const [ph, pw] = pair(op, "padding", o.padding ?? 0, 0);
  if (ph > k[0] / 2 || pw > k[1] / 2)
    throw new Error(`${op}: padding ${JSON.stringify([ph, pw])} must be at most half the kernel size ${JSON.stringify(k)} (as PyTorch).`);
  const [H, W] = [x.shape[2]!, x.shape[3]!];
  if (H + 2 * ph < k[0] || W + 2 * pw < k[1])
    throw new Error(`${op}: the window ${JSON.stringify(k)} is larger than the padded input ${H + 2 * ph}x${W + 2 * pw} (x has shape ${fmtShape(x.shape)}).`);
  return {
    k,
    s,
    pads: [
      [0, 0],
      [0, 0],
      [ph, ph],
      [pw, pw],
    ],
  };
}

/**
 * Max pooling over `kernelSize` windows of `x` `[N, C, H, W]` (or `[C, H, W]`), as
 * PyTorch's `F.max_pool2d` (stride defaults to the kernel size; padding counts as
 * `-inf`). The gradient goes to the first maximum of each window.
 *
 * @example
 * ```ts
 * import { nn, np } from "cotangent";
 * const x = np.arange(16).reshape([1, 1, 4, 4]);
 * console.log(nn.maxPool2d(x, 2).toJs()); // [[[[5, 7], [13, 15]]]]
 * ```
 */
export function maxPool2d(x: NDArray, kernelSize: Size2d, opts: Pool2dOptions = {}): NDArray {
  const op = "nn.maxPool2d";
  const o = checkOptions(op, opts, "{ stride: 2, padding: 1 }", ["stride", "padding"]);
  const [xb, added] = nchw(op, x);
  const { k, s, pads } = poolWindows(op, xb, kernelSize, o);
  const y = reduceWindow(xb, -Infinity, "max", [1, 1, ...k], [1, 1, ...s], pads);
  return added ? np.squeeze(y, 0) : y;
}

/**
 * Average pooling over `kernelSize` windows of `x` `[N, C, H, W]` (or `[C, H, W]`), as
 * PyTorch's `F.avg_pool2d` (stride defaults to the kernel size; padded zeros count in
 * the average unless `countIncludePad: false`).
 *
 * @example
 * ```ts
 * import { nn, np } from "cotangent";
 * const x = np.arange(16).reshape([1, 1, 4, 4]);
 * console.log(nn.avgPool2d(x, 2).toJs()); // [[[[2.5, 4.5], [10.5, 12.5]]]]
 * ```
 */
export function avgPool2d(x: NDArray, kernelSize: Size2d, opts: AvgPool2dOptions = {}): NDArray {
  const op = "nn.avgPool2d";
  const o = checkOptions(op, opts, "{ stride: 2, padding: 1, countIncludePad: false }", ["stride", "padding", "countIncludePad"]);
  const [xb, added] = nchw(op, x);
  const { k, s, pads } = poolWindows(op, xb, kernelSize, o);
  const sums = reduceWindow(xb, 0, "add", [1, 1, ...k], [1, 1, ...s], pads);
  let y: NDArray;
  if (o.countIncludePad === false && (pads[2]![0] > 0 || pads[3]![0] > 0)) {
    const counts = reduceWindow(np.onesLike(np.slice(xb, [0, 0, 0, 0], [1, 1, xb.shape[2]!, xb.shape[3]!])), 0, "add", [1, 1, ...k], [1, 1, ...s], pads);
    y = np.divide(sums, counts);
  } else {
    y = np.divide(sums, k[0] * k[1]);
  }
  return added ? np.squeeze(y, 0) : y;
}
