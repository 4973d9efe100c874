/**
 * Functional layers: parameters are plain pytrees and every function is pure.
 * @module
 */
import { NDArray } from "../core/array.js";
import type { DType } from "../core/dtype.js";
import { checkOptions, describeValue, fmtShape } from "../core/shape.js";
import * as np from "../numpy/index.js";
import * as random from "../random/index.js";
import { stopGradient } from "../transforms/ad.js";
import { relu } from "./activations.js";

function checkDim(op: string, name: string, d: unknown): number {
  if (typeof d !== "number" || !Number.isInteger(d) || d < 1) throw new Error(`${op}: ${name} must be a positive integer, got ${describeValue(d)}.`);
  return d;
}

function checkArray(op: string, name: string, x: unknown): NDArray {
  if (!(x instanceof NDArray)) throw new Error(`${op}: ${name} must be an array, got ${describeValue(x)}.`);
  return x;
}

/** Parameters of a linear layer, in PyTorch's layout. */
export interface LinearParams {
  /** `[outDim, inDim]`. */
  weight: NDArray;
  /** `[outDim]`. */
  bias: NDArray;
}

/** Options of {@link linear}`.init` and {@link mlp}`.init`. */
export interface InitOptions {
  /** float32 (default) or float64. */
  dtype?: DType;
}

/**
 * Parameters of a linear layer: `weight` `[outDim, inDim]` and `bias` `[outDim]`, both
 * uniform in `[-1/sqrt(inDim), 1/sqrt(inDim))` (PyTorch's `nn.Linear` default:
 * kaiming-uniform with `a = sqrt(5)` for the weight).
 *
 * @example
 * ```ts
 * import { nn, random } from "cotangent";
 * const { weight, bias } = nn.linear.init(random.key(0), 4, 2, { dtype: "float64" });
 * console.log(weight.shape, bias.shape, weight.dtype); // [2, 4] [2] float64
 * console.log(Math.max(...Array.from(weight.data(), Math.abs)) <= 0.5); // true
 * ```
 */
function linearInit(key: random.Key, inDim: number, outDim: number, opts: InitOptions = {}): LinearParams {
  checkDim("nn.linear.init", "inDim", inDim);
  checkDim("nn.linear.init", "outDim", outDim);
  opts = checkOptions("nn.linear.init", opts, `{ dtype: "float64" }`, ["dtype"]);
  const [wKey, bKey] = random.split(key);
  // PyTorch: kaiming_uniform_(a=sqrt(5)) on the weight gives bound = gain * sqrt(3 / fanIn)
  // with gain = sqrt(2 / (1 + 5)), i.e. 1/sqrt(fanIn); the bias uses the same bound.
  const bound = 1 / Math.sqrt(inDim);
  const dtype = opts.dtype ?? "float32";
  return {
    weight: random.uniform(wKey, [outDim, inDim], { minval: -bound, maxval: bound, dtype }),
    bias: random.uniform(bKey, [outDim], { minval: -bound, maxval: bound, dtype }),
  };
}

/**
 * `x @ weight.T + bias` for `x` of shape `[..., inDim]`.
 *
 * @example
 * ```ts
 * import { nn, np } from "cotangent";
 * const params = { weight: np.array([[1, 2], [0, -1]]), bias: np.array([0.5, 0]) };
 * console.log(nn.linear.apply(params, np.array([[1, 1]])).toJs()); // [[3.5, -1]]
 * ```
 */
function linearApply(params: LinearParams, x: NDArray): NDArray {
  const op = "nn.linear.apply";
  if (!params || typeof params !== "object") throw new Error(`${op}: params must be { weight, bias } from nn.linear.init, got ${describeValue(params)}.`);
  const w = checkArray(op, "params.weight", params.weight);
  const b = checkArray(op, "params.bias", params.bias);
  checkArray(op, "x", x);
  const inDim = w.shape[1];
  if (w.ndim !== 2 || b.ndim !== 1 || b.shape[0] !== w.shape[0]) {
    throw new Error(`${op}: expected weight [outDim, inDim] and bias [outDim], got weight ${fmtShape(w.shape)} and bias ${fmtShape(b.shape)}.`);
  }
  if (x.ndim === 0 || x.shape[x.ndim - 1] !== inDim) {
    throw new Error(
      `${op}: the input has shape ${fmtShape(x.shape)} but the layer expects ${inDim} features in its last axis (weight ${fmtShape(w.shape)}); reshape the input to [batch, ${inDim}].`,
    );
  }
  return np.add(np.matmul(x, np.transpose(w)), b);
}

/**
 * A fully connected layer, `y = x @ weight.T + bias`, with PyTorch's parameter
 * layout and default initialization (`nn.Linear`): weight and bias uniform in
 * `[-1/sqrt(inDim), 1/sqrt(inDim))`.
 *
 * @namespace
 * @example
 * ```ts
 * import { nn, np, random } from "cotangent";
 * const params = nn.linear.init(random.key(0), 3, 2);
 * console.log(params.weight.shape, params.bias.shape); // [2, 3] [2]
 * const y = nn.linear.apply(params, np.ones([5, 3]));
 * console.log(y.shape); // [5, 2]
 * ```
 */
export const linear = {
  /** Parameters for `inDim` inputs and `outDim` outputs. */
  init: linearInit,
  /** `x @ weight.T + bias` for `x` of shape `[..., inDim]`. */
  apply: linearApply,
};

/** Options of {@link mlp}`.apply`. */
export interface MlpApplyOptions {
  /** Applied after every layer but the last (default {@link relu}). */
  activation?: (x: NDArray) => NDArray;
}

/** Parameters of a multilayer perceptron: one linear layer per consecutive pair of sizes. */
export type MlpParams = LinearParams[];

/**
 * One linear layer (PyTorch's default init) per consecutive pair of `sizes`
 * (`[in, hidden..., out]`), each from its own key split from `key`.
 *
 * @example
 * ```ts
 * import { nn, random } from "cotangent";
 * const params = nn.mlp.init(random.key(1), [784, 128, 10]);
 * console.log(params.map((l) => l.weight.shape)); // [[128, 784], [10, 128]]
 * ```
 */
function mlpInit(key: random.Key, sizes: number[], opts: InitOptions = {}): MlpParams {
  if (!Array.isArray(sizes) || sizes.length < 2)
    throw new Error(`nn.mlp.init: sizes must list at least an input and an output size, e.g. [784, 128, 10], got ${describeValue(sizes)}.`);
  opts = checkOptions("nn.mlp.init", opts, `{ dtype: "float64" }`, ["dtype"]);
  sizes.forEach((s, i) => checkDim("nn.mlp.init", `sizes[${i}]`, s));
  const keys = random.split(key, sizes.length - 1);
  return keys.map((k, i) => linearInit(k, sizes[i]!, sizes[i + 1]!, opts));
}

/**
 * Runs the layers on `x` (shape `[..., sizes[0]]`), with `activation` (default
 * `nn.relu`) between layers and none after the last.
 *
 * @example
 * ```ts
 * import { nn, np } from "cotangent";
 * const params = [
 *   { weight: np.array([[1], [-1]]), bias: np.array([0, 0]) },
 *   { weight: np.array([[1, 1]]), bias: np.array([0]) },
 * ];
 * console.log(nn.mlp.apply(params, np.array([[2], [-3]])).toJs()); // [[2], [3]]
 * ```
 */
function mlpApply(params: MlpParams, x: NDArray, opts: MlpApplyOptions = {}): NDArray {
  if (!Array.isArray(params) || params.length === 0)
    throw new Error(`nn.mlp.apply: params must be the array of layers from nn.mlp.init, got ${describeValue(params)}.`);
  opts = checkOptions("nn.mlp.apply", opts, "{ activation: nn.tanh }", ["activation"]);
  const act = opts.activation ?? relu;
  let h = x;
  params.forEach((layer, i) => {
    h = linearApply(layer, h);
    if (i < params.length - 1) h = act(h);
  });
  return h;
}

/**
 * A multilayer perceptron: linear layers with an activation between them (none
 * after the last layer, which gives logits or regression outputs).
 *
 * @namespace
 * @example
 * ```ts
 * import { nn, np, random } from "cotangent";
 * const params = nn.mlp.init(random.key(0), [4, 16, 3]);
 * console.log(params.map((layer) => layer.weight.shape)); // [[16, 4], [3, 16]]
 * console.log(nn.mlp.apply(params, np.ones([8, 4]), { activation: nn.tanh }).shape); // [8, 3]
 * ```
 */
export const mlp = {
  /** Layers for `sizes = [in, hidden..., out]`. */
  init: mlpInit,
  /** Runs the layers on `x` of shape `[..., sizes[0]]`. */
  apply: mlpApply,
};

/** Learned affine parameters of batch normalization. */
export interface BatchNormParams {
  gamma: NDArray;
  beta: NDArray;
}
/** Running statistics of batch normalization. */
export interface BatchNormState {
  mean: NDArray;
  var: NDArray;
}
/** Options of {@link batchNorm}`.apply`. */
export interface BatchNormOptions {
  /** Training mode normalizes with the batch's statistics and updates the running ones; eval mode uses the running ones. */
  training: boolean;
  /** Weight of the new batch statistics in the running averages (default 0.1, as PyTorch). */
  momentum?: number;
  /** Added to the variance (default 1e-5). */
  eps?: number;
}

/**
 * Batch-norm parameters (`gamma` 1, `beta` 0) and running statistics (mean 0,
 * variance 1) for `features` features, as PyTorch's `BatchNorm1d` initializes them.
 *
 * @example
 * ```ts
 * import { nn } from "cotangent";
 * const { params, state } = nn.batchNorm.init(3);
 * console.log(params.gamma.toJs(), state.var.toJs()); // [1, 1, 1] [1, 1, 1]
 * ```
 */
function batchNormInit(features: number, opts: InitOptions = {}): { params: BatchNormParams; state: BatchNormState } {
  checkDim("nn.batchNorm.init", "features", features);
  opts = checkOptions("nn.batchNorm.init", opts, `{ dtype: "float64" }`, ["dtype"]);
  const dtype = opts.dtype ?? "float32";
  return {
    params: { gamma: np.ones([features], dtype), beta: np.zeros([features], dtype) },
    state: { mean: np.zeros([features], dtype), var: np.ones([features], dtype) },
  };
}

/**
 * Normalizes `x` (`[batch, features]` or `[batch, features, length]`) and returns
 * `[y, newState]`: with batch statistics and updated running statistics when
 * `training`, with the running statistics (unchanged) otherwise.
 *
 * @example
 * ```ts
 * import { nn, np } from "cotangent";
 * const { params, state } = nn.batchNorm.init(2);
 * const x = np.array([[0, 10], [2, 30]]);
 * const [y] = nn.batchNorm.apply(params, state, x, { training: true, eps: 0 });
 * console.log(y.toJs()); // [[-1, -1], [1, 1]]
 * const [z, same] = nn.batchNorm.apply(params, state, x, { training: false });
 * console.log(same === state); // true
 * ```
 */
function batchNormApply(params: BatchNormParams, state: BatchNormState, x: NDArray, opts: BatchNormOptions): [NDArray, BatchNormState] {
  const op = "nn.batchNorm.apply";
  opts = checkOptions(op, opts, "{ training: true }", ["training", "momentum", "eps"]);
  if (typeof opts.training !== "boolean")
    throw new Error(`${op}: pass { training: true } (batch statistics) or { training: false } (running statistics), got ${describeValue(opts.training)}.`);
  const momentum = opts.momentum ?? 0.1;
  const eps = opts.eps ?? 1e-5;
  checkArray(op, "x", x);
  const c = params.gamma.shape[0]!;
  if ((x.ndim !== 2 && x.ndim !== 3) || x.shape[1] !== c) {
    throw new Error(`${op}: expected input of shape [batch, ${c}] or [batch, ${c}, length] (features on axis 1, as BatchNorm1d), got ${fmtShape(x.shape)}.`);
  }
  const axes = x.ndim === 2 ? [0] : [0, 2];
  const bshape = x.ndim === 2 ? [1, c] : [1, c, 1];
  const per = (v: NDArray): NDArray => np.reshape(v, bshape);
  let mean: NDArray;
  let variance: NDArray;
  let newState: BatchNormState;
  if (opts.training) {
    const n = axes.reduce((s, a) => s * x.shape[a]!, 1);
    if (n < 2)
      throw new Error(
        `${op}: training mode needs more than one value per feature to compute batch statistics, got input of shape ${fmtShape(x.shape)}; use a larger batch or { training: false }.`,
      );
    mean = np.mean(x, { axis: axes });
    variance = np.mean(np.square(np.subtract(x, per(mean))), { axis: axes }); // biased, used to normalize
    // The running variance uses the unbiased estimate, as PyTorch.
    const m = stopGradient(mean);
    const unbiased = np.multiply(stopGradient(variance), n / (n - 1));
    newState = {
      mean: np.add(np.multiply(state.mean, 1 - momentum), np.multiply(m, momentum)),
      var: np.add(np.multiply(state.var, 1 - momentum), np.multiply(unbiased, momentum)),
    };
  } else {
    mean = state.mean;
    variance = state.var;
    newState = state;
  }
  const xhat = np.multiply(np.subtract(x, per(mean)), per(np.rsqrt(np.add(variance, eps))));
  return [np.add(np.multiply(xhat, per(params.gamma)), per(params.beta)), newState];
}

/**
 * Batch normalization over the features on axis 1, as PyTorch's `BatchNorm1d`
 * (inputs `[batch, features]` or `[batch, features, length]`). In training mode it
 * normalizes with the batch mean and the biased batch variance and returns running
 * statistics updated with `momentum` (the running variance takes the unbiased batch
 * variance); in eval mode it normalizes with the running statistics.
 *
 * @namespace
 * @example
 * ```ts
 * import { nn, np } from "cotangent";
 * const { params, state } = nn.batchNorm.init(1);
 * const x = np.array([[1], [2], [3], [4]]);
 * const [y, newState] = nn.batchNorm.apply(params, state, x, { training: true });
 * console.log(Array.from(y.data(), (v) => v.toFixed(4))); // ["-1.3416", "-0.4472", "0.4472", "1.3416"]
 * console.log(newState.mean.toJs(), newState.var.toJs()); // [0.25] [1.0666667222976685]
 * ```
 */
export const batchNorm = {
  /** gamma = 1, beta = 0; running mean 0, running variance 1. */
  init: batchNormInit,
  /** Returns `[y, newState]`. */
  apply: batchNormApply,
};
