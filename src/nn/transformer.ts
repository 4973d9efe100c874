/**
 * Layers of sequence models: layer normalization, embeddings, dropout and
 * multi-head attention. Parameters are plain pytrees; every function is pure.
 * @module
 */
import { NDArray } from "../core/array.js";
import { checkOptions, describeValue, fmtShape } from "../core/shape.js";
import * as np from "../numpy/index.js";
import * as random from "../random/index.js";
import { softmax } from "./activations.js";
import { glorotUniform } from "./initializers.js";
import { type InitOptions, type LinearParams, linear } from "./layers.js";

function positiveInt(op: string, name: string, d: unknown): number {
  if (typeof d !== "number" || !Number.isInteger(d) || d < 1) throw new Error(`${op}: ${name} must be a positive integer, got ${describeValue(d)}.`);
  return d;
}

function arrayArg(op: string, name: string, x: unknown): NDArray {
  if (!(x instanceof NDArray)) throw new Error(`${op}: ${name} must be an array, got ${describeValue(x)}.`);
  return x;
}

// ------------------------------------------------------------------ layerNorm

/** Parameters of {@link layerNorm}: the elementwise scale and shift of the normalized shape. */
export interface LayerNormParams {
  /** Scale, shaped like the normalized trailing axes (ones at init). */
  weight: NDArray;
  /** Shift, shaped like the normalized trailing axes (zeros at init). */
  bias: NDArray;
}

/** Options of {@link layerNorm}`.apply`. */
export interface LayerNormOptions {
  /** Added to the variance (default 1e-5, as PyTorch). */
  eps?: number;
}

/**
 * Layer-norm parameters for the trailing shape `shape` (a number for one axis):
 * `weight` ones and `bias` zeros, as PyTorch's `LayerNorm` initializes them.
 *
 * @example
 * ```ts
 * import { nn } from "cotangent";
 * const p = nn.layerNorm.init(3);
 * console.log(p.weight.toJs(), p.bias.toJs()); // [1, 1, 1] [0, 0, 0]
 * ```
 */
function layerNormInit(shape: number | number[], opts: InitOptions = {}): LayerNormParams {
  const op = "nn.layerNorm.init";
  const s = typeof shape === "number" ? [shape] : shape;
  if (!Array.isArray(s) || s.length === 0)
    throw new Error(`${op}: shape must be a positive integer or a non-empty array of them, got ${describeValue(shape)}.`);
  s.forEach((d, i) => positiveInt(op, `shape[${i}]`, d));
  const o = checkOptions(op, opts, `{ dtype: "float64" }`, ["dtype"]);
  const dtype = o.dtype ?? "float32";
  return { weight: np.ones([...s], dtype), bias: np.zeros([...s], dtype) };
}

/**
 * Normalizes `x` over its trailing axes (those of `params.weight`) with their mean and
 * biased variance, then scales and shifts: `(x - mean) / sqrt(var + eps) · weight + bias`
 * (PyTorch's `LayerNorm`).
 *
 * @example
 * ```ts
 * import { nn, np } from "cotangent";
 * const y = nn.layerNorm.apply(nn.layerNorm.init(2), np.array([[1, 3], [0, -4]]), { eps: 0 });
 * console.log(y.toJs()); // [[-1, 1], [1, -1]]
 * ```
 */
function layerNormApply(params: LayerNormParams, x: NDArray, opts: LayerNormOptions = {}): NDArray {
  const op = "nn.layerNorm.apply";
  const o = checkOptions(op, opts, "{ eps: 1e-6 }", ["eps"]);
  const eps = o.eps ?? 1e-5;
  const w = arrayArg(op, "params.weight", params?.weight);
  const b = arrayArg(op, "params.bias", params?.bias);
  arrayArg(op, "x", x);
  const k = w.ndim;
  const trailing = x.shape.slice(x.ndim - k);
  if (x.ndim < k || trailing.some((d, i) => d !== w.shape[i])) {
    throw new Error(
      `${op}: x of shape ${fmtShape(x.shape)} must end with the normalized shape ${fmtShape(w.shape)} of the parameters; initialize with nn.layerNorm.init(${JSON.stringify(x.shape.slice(-k))}) or reshape x.`,
    );
  }
  const axis = Array.from({ length: k }, (_, i) => x.ndim - k + i);
  const mean = np.mean(x, { axis, keepdims: true });
  const centered = np.subtract(x, mean);
  const variance = np.mean(np.square(centered), { axis, keepdims: true });
  return np.add(np.multiply(np.multiply(centered, np.rsqrt(np.add(variance, eps))), w), b);
}

/**
 * Layer normalization over trailing axes, as PyTorch's `LayerNorm(normalizedShape)`.
 *
 * @namespace
 * @example
 * ```ts
 * import { nn, np, random } from "cotangent";
 * const params = nn.layerNorm.init(4);
 * const y = nn.layerNorm.apply(params, random.normal(random.key(0), [2, 4]));
 * console.log(np.max(np.abs(np.mean(y, { axis: -1 }))).item() < 1e-6); // true
 * ```
 */
export const layerNorm = {
  /** weight = 1, bias = 0 over the normalized shape. */
  init: layerNormInit,
  /** Normalizes over the trailing axes of the parameters' shape. */
  apply: layerNormApply,
};

// ------------------------------------------------------------------ embedding

/** Parameters of {@link embedding}: one row per token. */
export interface EmbeddingParams {
  /** `[n, dim]`. */
  weight: NDArray;
}

/**
 * An embedding table `[n, dim]` of standard normal values (PyTorch's `nn.Embedding`
 * default).
 *
 * @example
 * ```ts
 * import { nn, random } from "cotangent";
 * console.log(nn.embedding.init(random.key(0), 10, 4).weight.shape); // [10, 4]
 * ```
 */
function embeddingInit(key: random.Key, n: number, dim: number, opts: InitOptions = {}): EmbeddingParams {
  const op = "nn.embedding.init";
  positiveInt(op, "n", n);
  positiveInt(op, "dim", dim);
  const o = checkOptions(op, opts, `{ dtype: "float64" }`, ["dtype"]);
  return { weight: random.normal(key, [n, dim], o.dtype ?? "float32") };
}

/**
 * The rows of `params.weight` for int32 token ids of any shape `S` (result
 * `S ++ [dim]`); an id outside `0..n-1` is an Error naming it.
 *
 * @example
 * ```ts
 * import { nn, np } from "cotangent";
 * const params = { weight: np.array([[0, 0], [1, 2], [3, 4]]) };
 * console.log(nn.embedding.apply(params, np.array([2, 1], { dtype: "int32" })).toJs()); // [[3, 4], [1, 2]]
 * ```
 */
function embeddingApply(params: EmbeddingParams, ids: NDArray): NDArray {
  const op = "nn.embedding.apply";
  const w = arrayArg(op, "params.weight", params?.weight);
  if (w.ndim !== 2) throw new Error(`${op}: params.weight must be [n, dim], got shape ${fmtShape(w.shape)}.`);
  const i = arrayArg(op, "ids", ids);
  if (i.dtype !== "int32") throw new Error(`${op}: ids must be int32 token indices, got ${i.aval.toString()}; convert with astype("int32").`);
  return np.take(w, i, 0);
}

/**
 * A lookup table of learned vectors, as PyTorch's `nn.Embedding`; its gradient
 * accumulates into the rows that were looked up.
 *
 * @namespace
 * @example
 * ```ts
 * import { grad, nn, np, random } from "cotangent";
 * const params = nn.embedding.init(random.key(0), 5, 3);
 * const ids = np.array([1, 1, 4], { dtype: "int32" });
 * const g = grad((p: typeof params) => nn.embedding.apply(p, ids).sum())(params);
 * console.log(g.weight.sum({ axis: 1 }).toJs()); // [0, 6, 0, 0, 3]
 * ```
 */
export const embedding = {
  /** A `[n, dim]` table of standard normal values. */
  init: embeddingInit,
  /** Looks up the rows of int32 ids. */
  apply: embeddingApply,
};

// ------------------------------------------------------------------ dropout

/** Options of {@link dropout}. */
export interface DropoutOptions {
  /** Drop (true, the default) or pass `x` through unchanged (false: evaluation). */
  training?: boolean;
}

/**
 * Inverted dropout: each element is zeroed with probability `rate` and the kept ones
 * are scaled by `1 / (1 - rate)`, so the expected value is unchanged; with
 * `{ training: false }` (or rate 0) it returns `x` (PyTorch's `nn.Dropout`, flax's
 * `Dropout`).
 *
 * @example
 * ```ts
 * import { nn, np, random } from "cotangent";
 * const y = nn.dropout(random.key(0), np.ones([1000]), 0.25);
 * console.log(new Set(y.data()).size, Math.abs(y.mean().item() - 1) < 0.1); // 2 true
 * console.log(nn.dropout(random.key(0), np.ones([2]), 0.5, { training: false }).toJs()); // [1, 1]
 * ```
 */
export function dropout(key: random.Key, x: NDArray, rate: number, opts: DropoutOptions = {}): NDArray {
  const op = "nn.dropout";
  const o = checkOptions(op, opts, "{ training: false }", ["training"]);
  arrayArg(op, "x", x);
  if (typeof rate !== "number" || !(rate >= 0 && rate < 1))
    throw new Error(`${op}: rate is the probability of dropping an element and must be in [0, 1), got ${describeValue(rate)}.`);
  const training = o.training ?? true;
  if (typeof training !== "boolean") throw new Error(`${op}: training must be a boolean, got ${describeValue(training)}.`);
  if (!training || rate === 0) return x;
  const keep = random.bernoulli(key, 1 - rate, x.shape);
  return np.where(keep, np.divide(x, 1 - rate), 0);
}

// ------------------------------------------------------------------ multi-head attention

/** One projection per head: `weight` `[heads, dim / heads, dim]` (PyTorch's `[out, in]` per head), `bias` `[heads, dim / heads]`. */
export interface HeadProjection {
  weight: NDArray;
  bias: NDArray;
}

/**
 * Parameters of {@link multiHeadAttention}: per-head query, key and value projections
 * (the number of heads is the leading axis of their weights) and the output
 * projection `[dim, dim]`.
 */
export interface MultiHeadAttentionParams {
  q: HeadProjection;
  k: HeadProjection;
  v: HeadProjection;
  out: LinearParams;
}

/** Options of {@link multiHeadAttention}`.apply`. */
export interface AttentionOptions {
  /** `true` where a query may attend to a key (flax's convention), broadcastable to `[..., heads, Lq, Lk]`. */
  mask?: NDArray;
}

/**
 * Projections for queries, keys and values (`[heads, dim / heads, dim]` each: PyTorch's
 * `[out, in]` in_proj split by head) and the output (`[dim, dim]`), Glorot-uniform
 * weights over `dim → dim` and zero biases (as PyTorch's `nn.MultiheadAttention`);
 * `dim` must be divisible by `heads`.
 *
 * @example
 * ```ts
 * import { nn, random } from "cotangent";
 * const p = nn.multiHeadAttention.init(random.key(0), 8, 2);
 * console.log(p.q.weight.shape, p.out.weight.shape); // [2, 4, 8] [8, 8]
 * ```
 */
function attentionInit(key: random.Key, dim: number, heads: number, opts: InitOptions = {}): MultiHeadAttentionParams {
  const op = "nn.multiHeadAttention.init";
  positiveInt(op, "dim", dim);
  positiveInt(op, "heads", heads);
  if (dim % heads !== 0) throw new Error(`${op}: dim ${dim} must be divisible by heads ${heads} (each head gets dim / heads features).`);
  const o = checkOptions(op, opts, `{ dtype: "float64" }`, ["dtype"]);
  const dtype = o.dtype ?? "float32";
  const keys = random.split(key, 4);
  const init = glorotUniform({ inAxis: 1, outAxis: 0 });
  const dh = dim / heads;
  const head = (k: random.Key): HeadProjection => ({ weight: np.reshape(init(k, [dim, dim], dtype), [heads, dh, dim]), bias: np.zeros([heads, dh], dtype) });
  return { q: head(keys[0]!), k: head(keys[1]!), v: head(keys[2]!), out: { weight: init(keys[3]!, [dim, dim], dtype), bias: np.zeros([dim], dtype) } };
}

/** Swaps the last two axes. */
function swapLast(x: NDArray): NDArray {
  const n = x.ndim;
  return np.transpose(x, [...Array.from({ length: n - 2 }, (_, i) => i), n - 1, n - 2]);
}

/**
 * Scaled dot-product attention over `heads` heads: queries `q` `[..., Lq, dim]`
 * attend to keys `k` and values `v` `[..., Lk, dim]`;
 * `softmax(Q Kᵀ / sqrt(dim / heads)) V` per head, heads concatenated and projected.
 * Returns `[..., Lq, dim]`.
 *
 * @example
 * ```ts
 * import { nn, random } from "cotangent";
 * const p = nn.multiHeadAttention.init(random.key(0), 8, 2);
 * const x = random.normal(random.key(1), [3, 5, 8]);
 * console.log(nn.multiHeadAttention.apply(p, x, x, x).shape); // [3, 5, 8]
 * ```
 */
function attentionApply(params: MultiHeadAttentionParams, q: NDArray, k: NDArray, v: NDArray, opts: AttentionOptions = {}): NDArray {
  const op = "nn.multiHeadAttention.apply";
  const o = checkOptions(op, opts, "{ mask }", ["mask"]);
  const wq = arrayArg(op, "params.q.weight", params?.q?.weight);
  if (wq.ndim !== 3)
    throw new Error(`${op}: params.q.weight must be [heads, dim / heads, dim], got ${fmtShape(wq.shape)}; use the params from nn.multiHeadAttention.init.`);
  const [heads, dh, dim] = wq.shape as [number, number, number];
  // [..., L, dim] -> [..., heads, L, dh]
  const project = (name: "q" | "k" | "v", x: NDArray): NDArray => {
    arrayArg(op, name, x);
    if (x.ndim < 2 || x.shape[x.ndim - 1] !== dim) throw new Error(`${op}: ${name} must have shape [..., length, ${dim}], got ${fmtShape(x.shape)}.`);
    const w = arrayArg(op, `params.${name}.weight`, params[name]?.weight);
    const b = arrayArg(op, `params.${name}.bias`, params[name]?.bias);
    return np.add(np.matmul(np.expandDims(x, -3), swapLast(w)), np.expandDims(b, -2));
  };
  const Q = project("q", q);
  const K = project("k", k);
  const V = project("v", v);
  if (k.shape[k.ndim - 2] !== v.shape[v.ndim - 2])
    throw new Error(`${op}: k and v must have the same length, got k ${fmtShape(k.shape)} and v ${fmtShape(v.shape)}.`);
  let scores = np.divide(np.matmul(Q, swapLast(K)), Math.sqrt(dh)); // [..., heads, Lq, Lk]
  if (o.mask !== undefined) {
    const mask = arrayArg(op, "opts.mask", o.mask);
    if (mask.dtype !== "bool") throw new Error(`${op}: mask must be a bool array (true where attention is allowed), got ${mask.aval.toString()}.`);
    try {
      np.broadcastTo(mask, scores.shape);
    } catch {
      throw new Error(
        `${op}: mask of shape ${fmtShape(mask.shape)} does not broadcast to the attention scores' shape ${fmtShape(scores.shape)} ([..., heads, Lq, Lk]).`,
      );
    }
    scores = np.where(mask, scores, scores.dtype === "float64" ? -1.7976931348623157e308 : -3.4028234663852886e38);
  }
  const attended = np.matmul(softmax(scores, -1), V); // [..., heads, Lq, dh]
  const n = attended.ndim;
  const merged = np.transpose(attended, [...Array.from({ length: n - 3 }, (_, i) => i), n - 2, n - 3, n - 1]); // [..., Lq, heads, dh]
  return linear.apply(params.out, np.reshape(merged, [...merged.shape.slice(0, -2), heads * dh]));
}

/**
 * Multi-head scaled dot-product attention (Vaswani et al.), as PyTorch's
 * `nn.MultiheadAttention` with `batch_first` inputs and flax's mask convention.
 *
 * @namespace
 * @example
 * ```ts
 * import { nn, np, random } from "cotangent";
 * const p = nn.multiHeadAttention.init(random.key(0), 4, 2);
 * const x = random.normal(random.key(1), [6, 4]);
 * const causal = np.greaterEqual(np.arange(0, 6).reshape([6, 1]), np.arange(0, 6).reshape([1, 6]));
 * console.log(nn.multiHeadAttention.apply(p, x, x, x, { mask: causal }).shape); // [6, 4]
 * ```
 */
export const multiHeadAttention = {
  /** Projections with Glorot-uniform weights and zero biases. */
  init: attentionInit,
  /** Attends `q` to `k`/`v`, with an optional boolean mask. */
  apply: attentionApply,
};
