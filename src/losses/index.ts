/**
 * Loss functions. Each returns the mean over examples by default
 * (`{ reduction: "mean" }`, as PyTorch's losses); `"sum"` sums and `"none"` returns
 * the per-element (or per-example) losses.
 *
 * ```ts
 * import { losses, np } from "cotangent";
 * const logits = np.array([[2, 0, 0], [0, 0, 3]]);
 * const labels = np.array([0, 2], { dtype: "int32" });
 * const loss = losses.softmaxCrossEntropy(logits, labels);
 * ```
 * @module
 */
import { ConcreteArray, NDArray } from "../core/array.js";
import { isFloat } from "../core/dtype.js";
import { checkOptions, describeValue, fmtShape, shapeEqual } from "../core/shape.js";
import { Tracer } from "../core/trace.js";
import * as np from "../numpy/index.js";
import { logSoftmax, oneHot } from "../nn/activations.js";
import { customJvp } from "../transforms/custom.js";

/** How per-example losses are combined. */
export type Reduction = "mean" | "sum" | "none";

/** Options shared by the losses. */
export interface LossOptions {
  /** `"mean"` (default), `"sum"` or `"none"`. */
  reduction?: Reduction;
}

function reduce(op: string, x: NDArray, reduction: Reduction | undefined): NDArray {
  switch (reduction ?? "mean") {
    case "mean":
      return np.mean(x);
    case "sum":
      return np.sum(x);
    case "none":
      return x;
    default:
      throw new Error(`losses.${op}: reduction must be "mean", "sum" or "none", got ${describeValue(reduction)}.`);
  }
}

function checkArray(op: string, name: string, x: unknown): NDArray {
  if (x instanceof NDArray) return x;
  if (typeof x === "number") return np.array(x);
  throw new Error(`losses.${op}: ${name} must be an array, got ${describeValue(x)}.`);
}

function checkSameShape(op: string, a: NDArray, b: NDArray, names: [string, string]): void {
  if (!shapeEqual(a.shape, b.shape)) {
    throw new Error(
      `losses.${op}: ${names[0]} has shape ${fmtShape(a.shape)} but ${names[1]} has shape ${fmtShape(b.shape)}; they must match ` +
        `(broadcasting them would silently compare every prediction with every target). Reshape one, e.g. target.reshape(${JSON.stringify(a.shape)}).`,
    );
  }
}

/** Predictions and targets as float arrays of one shape and dtype (a number target is broadcast). */
function predAndTarget(op: string, pred: NDArray, target: NDArray | number): [NDArray, NDArray] {
  const p = floatOf(op, "pred", checkArray(op, "pred", pred));
  const t = typeof target === "number" ? np.full(p.shape, target, p.dtype) : floatOf(op, "target", checkArray(op, "target", target)).astype(p.dtype);
  checkSameShape(op, p, t, ["pred", "target"]);
  return [p, t];
}

function floatOf(op: string, name: string, x: NDArray): NDArray {
  if (isFloat(x.dtype)) return x;
  if (x.dtype === "bool" || x.dtype === "int32") return x.astype("float32");
  throw new Error(`losses.${op}: ${name} must be numeric, got ${x.aval.toString()}.`);
}

/**
 * Mean squared error, `mean((pred - target)²)` (or its sum). The shapes must match.
 *
 * @example
 * ```ts
 * import { losses, np } from "cotangent";
 * const pred = np.array([1, 2, 3]);
 * const target = np.array([1, 0, 0]);
 * console.log(losses.mse(pred, target).item(), losses.mse(pred, target, { reduction: "sum" }).item()); // 4.333333492279053 13
 * ```
 */
export function mse(pred: NDArray, target: NDArray | number, opts: LossOptions = {}): NDArray {
  opts = checkOptions("losses.mse", opts, `{ reduction: "sum" }`, ["reduction"]);
  return reduce("mse", np.square(errorOf("mse", pred, target)), opts.reduction);
}

/** The concrete values of `x` when they are known now (eagerly or under grad), else null (under jit). */
function concreteOrNull(x: NDArray): ConcreteArray | null {
  if (x instanceof ConcreteArray) return x;
  if (!(x instanceof Tracer)) return null;
  try {
    return x.concreteValue("losses.softmaxCrossEntropy");
  } catch {
    return null;
  }
}

/**
 * The target rows for class scores `z` `[..., C]`: one-hot rows of int32 labels `[...]`
 * (checked to be in range when their values are known), or float rows `[..., C]`.
 */
function targetRows(op: string, z: NDArray, y: NDArray, zName: string): NDArray {
  const c = z.shape[z.ndim - 1]!;
  if (y.dtype === "int32" && shapeEqual(y.shape, z.shape.slice(0, -1))) {
    const vals = concreteOrNull(y);
    if (vals) {
      const bad = vals.buffer.findIndex((v) => v < 0 || v >= c);
      if (bad >= 0)
        throw new Error(`losses.${op}: label ${vals.buffer[bad]} (at flat index ${bad}) is out of range for ${c} classes; labels must be in 0..${c - 1}.`);
    }
    return oneHot(y, c, z.dtype);
  }
  if (isFloat(y.dtype) && shapeEqual(y.shape, z.shape)) return y.dtype === z.dtype ? y : y.astype(z.dtype);
  throw new Error(
    `losses.${op}: ${zName} have shape ${fmtShape(z.shape)}, so labels must be int32 class indices of shape ${fmtShape(z.shape.slice(0, -1))} ` +
      `or float probabilities / one-hot rows of shape ${fmtShape(z.shape)}; got ${y.aval.toString()}` +
      (y.dtype !== "int32" && shapeEqual(y.shape, z.shape.slice(0, -1)) ? `. Convert class indices with astype("int32").` : "."),
  );
}

/**
 * Softmax cross-entropy between `logits` `[..., C]` and either integer class labels
 * (int32, shape `[...]`) or target probabilities / one-hot rows (float, shape
 * `[..., C]`): `-sum(target * logSoftmax(logits), -1)`, computed stably, then
 * averaged over examples (PyTorch's `CrossEntropyLoss`, optax's
 * `softmax_cross_entropy` with `reduction: "none"`).
 *
 * @example
 * ```ts
 * import { losses, np } from "cotangent";
 * const logits = np.array([[0, 0], [1000, 0]]);
 * const labels = np.array([0, 1], { dtype: "int32" });
 * console.log(losses.softmaxCrossEntropy(logits, labels, { reduction: "none" }).toJs()); // [0.6931471824645996, 1000]
 * const oneHot = np.array([[1, 0], [0, 1]]);
 * console.log(losses.softmaxCrossEntropy(logits, oneHot).item()); // 500.3465881347656
 * ```
 */
export function softmaxCrossEntropy(logits: NDArray, labelsOrOneHot: NDArray, opts: LossOptions = {}): NDArray {
  const op = "softmaxCrossEntropy";
  opts = checkOptions(`losses.${op}`, opts, `{ reduction: "none" }`, ["reduction"]);
  const z = checkArray(op, "logits", logits);
  if (!isFloat(z.dtype)) throw new Error(`losses.${op}: logits must be a float array, got ${z.aval.toString()}.`);
  if (z.ndim === 0) throw new Error(`losses.${op}: logits must have a class axis (shape [..., numClasses]), got a 0-d array.`);
  const y = checkArray(op, "labels", labelsOrOneHot);
  const target = targetRows(op, z, y, "logits");
  const perExample = np.negative(np.sum(np.multiply(target, logSoftmax(z, -1)), { axis: -1 }));
  return reduce(op, perExample, opts.reduction);
}

/** Options of {@link binaryCrossEntropy}. */
export interface BinaryCrossEntropyOptions extends LossOptions {
  /** `pred` holds logits rather than probabilities (the stable `BCEWithLogitsLoss` form). Default false. */
  fromLogits?: boolean;
}

/**
 * Binary cross-entropy `-(t log p + (1 - t) log(1 - p))` between predictions and
 * targets in [0, 1] of the same shape. With probabilities, each log is clamped at
 * -100 (as PyTorch's `BCELoss`); with `fromLogits: true` it is computed from logits
 * `z` as `max(z, 0) - z t + log1p(exp(-|z|))`, exact for any `z` (as
 * `BCEWithLogitsLoss`).
 *
 * @example
 * ```ts
 * import { losses, np } from "cotangent";
 * const t = np.array([1, 0]);
 * console.log(losses.binaryCrossEntropy(np.array([0.5, 0.5]), t).item()); // 0.6931471824645996
 * console.log(losses.binaryCrossEntropy(np.array([200, -200]), t, { fromLogits: true }).item()); // 0
 * console.log(losses.binaryCrossEntropy(np.array([0, 1]), t).item()); // 100
 * ```
 */
export function binaryCrossEntropy(pred: NDArray, target: NDArray | number, opts: BinaryCrossEntropyOptions = {}): NDArray {
  const op = "binaryCrossEntropy";
  opts = checkOptions(`losses.${op}`, opts, "{ fromLogits: true }", ["fromLogits", "reduction"]);
  const [p, t] = predAndTarget(op, pred, target);
  let perElement: NDArray;
  if (opts.fromLogits) {
    const z = p;
    perElement = np.add(np.subtract(np.maximum(z, 0), np.multiply(z, t)), np.log1p(np.exp(np.negative(np.abs(z)))));
  } else {
    perElement = bceProbabilities(p, t);
  }
  return reduce(op, perElement, opts.reduction);
}

/** The logs of BCE, each clamped at -100 as PyTorch's (the inner where keeps log's argument in range). */
function clampedLogs(p: NDArray): [NDArray, NDArray] {
  const inside = np.greater(p, 0);
  const below = np.less(p, 1);
  const logP = np.maximum(np.where(inside, np.log(np.where(inside, p, 1)), -100), -100);
  const log1mP = np.maximum(np.where(below, np.log1p(np.negative(np.where(below, p, 0))), -100), -100);
  return [logP, log1mP];
}

/**
 * `-(t log p + (1 - t) log(1 - p))` per element, logs clamped at -100. Its derivative in
 * `p` is PyTorch's BCELoss backward, `(p - t) / max(p (1 - p), 1e-12)` (the clamp is not
 * differentiated, so p = 0 with t = 1 still pushes p up); in `t` it is
 * `log(1 - p) - log(p)` with the clamped logs.
 */
function bceValue(p: NDArray, t: NDArray): NDArray {
  const [logP, log1mP] = clampedLogs(p);
  return np.negative(np.add(np.multiply(t, logP), np.multiply(np.subtract(1, t), log1mP)));
}
const bceProbabilities = customJvp(bceValue, ([p, t]: NDArray[], [dp, dt]: NDArray[]): [NDArray, NDArray] => {
  const [logP, log1mP] = clampedLogs(p!);
  const out = bceValue(p!, t!);
  const dOut = np.divide(np.subtract(p!, t!), np.maximum(np.multiply(p!, np.subtract(1, p!)), 1e-12));
  return [out, np.add(np.multiply(dp!, dOut), np.multiply(dt!, np.subtract(log1mP, logP)))];
});

/** Options of {@link huber}. */
export interface HuberOptions extends LossOptions {
  /** Where the loss turns from quadratic to linear (default 1). */
  delta?: number;
}

/**
 * Huber loss of the error `x = pred - target`: `0.5 x²` where `|x| <= delta`, else
 * `delta · (|x| - 0.5 delta)` (optax's `huber_loss`; PyTorch's `HuberLoss`).
 *
 * @example
 * ```ts
 * import { losses, np } from "cotangent";
 * const pred = np.array([0.5, 3]);
 * console.log(losses.huber(pred, np.array([0, 0]), { reduction: "none" }).toJs()); // [0.125, 2.5]
 * console.log(losses.huber(pred, np.array([0, 0]), { delta: 2 }).item()); // 2.0625
 * ```
 */
export function huber(pred: NDArray, target: NDArray | number, opts: HuberOptions = {}): NDArray {
  const op = "huber";
  opts = checkOptions(`losses.${op}`, opts, "{ delta: 1 }", ["delta", "reduction"]);
  const delta = opts.delta ?? 1;
  if (typeof delta !== "number" || !(delta > 0) || !Number.isFinite(delta))
    throw new Error(`losses.huber: delta must be a finite number > 0, got ${describeValue(delta)}.`);
  const x = np.abs(errorOf(op, pred, target));
  const quadratic = np.minimum(x, delta);
  // 0.5 q² + delta (x - q): equal to both branches and differentiable everywhere.
  const perElement = np.add(np.multiply(np.square(quadratic), 0.5), np.multiply(np.subtract(x, quadratic), delta));
  return reduce(op, perElement, opts.reduction);
}

/**
 * Mean absolute error `|pred - target|` (PyTorch's `L1Loss`).
 *
 * @example
 * ```ts
 * import { losses, np } from "cotangent";
 * console.log(losses.l1(np.array([1, -2]), np.array([0, 0])).item()); // 1.5
 * ```
 */
export function l1(pred: NDArray, target: NDArray | number, opts: LossOptions = {}): NDArray {
  opts = checkOptions("losses.l1", opts, `{ reduction: "sum" }`, ["reduction"]);
  return reduce("l1", np.abs(errorOf("l1", pred, target)), opts.reduction);
}

/** `pred - target` for two float arrays of the same shape (a number target is broadcast). */
function errorOf(op: string, pred: NDArray, target: NDArray | number): NDArray {
  const [p, t] = predAndTarget(op, pred, target);
  return np.subtract(p, t);
}

/**
 * Kullback–Leibler divergence `sum(t · (log t - logPredictions))` over the last axis,
 * between target probabilities `t` and log-probabilities (as optax's
 * `kl_divergence(log_predictions, targets)`; terms with `t = 0` count 0), then
 * reduced over examples (`"mean"`: PyTorch's `KLDivLoss(reduction="batchmean")`).
 *
 * @example
 * ```ts
 * import { losses, np } from "cotangent";
 * const logP = np.log(np.array([[0.5, 0.5]], { dtype: "float64" }));
 * console.log(losses.klDivergence(logP, np.array([[1, 0]], { dtype: "float64" })).item()); // 0.6931471805599453
 * ```
 */
export function klDivergence(logPredictions: NDArray, targets: NDArray, opts: LossOptions = {}): NDArray {
  const op = "klDivergence";
  opts = checkOptions(`losses.${op}`, opts, `{ reduction: "sum" }`, ["reduction"]);
  const lp = floatOf(op, "logPredictions", checkArray(op, "logPredictions", logPredictions));
  const t = floatOf(op, "targets", checkArray(op, "targets", targets)).astype(lp.dtype);
  checkSameShape(op, lp, t, ["logPredictions", "targets"]);
  if (lp.ndim === 0) throw new Error(`losses.${op}: expected distributions along a last axis (shape [..., classes]), got a 0-d array.`);
  const positive = np.greater(t, 0);
  const logT = np.log(np.where(positive, t, 1));
  const perElement = np.where(positive, np.multiply(t, np.subtract(logT, lp)), 0);
  return reduce(op, np.sum(perElement, { axis: -1 }), opts.reduction);
}

/**
 * Negative log-likelihood of int32 class `labels` `[...]` under log-probabilities
 * `logProbs` `[..., C]`: `-logProbs[label]` (PyTorch's `NLLLoss`; pair it with
 * `nn.logSoftmax`).
 *
 * @example
 * ```ts
 * import { losses, nn, np } from "cotangent";
 * const logProbs = nn.logSoftmax(np.array([[0, 0], [0, 0]], { dtype: "float64" }));
 * console.log(losses.nll(logProbs, np.array([0, 1], { dtype: "int32" })).item()); // 0.6931471805599453
 * ```
 */
export function nll(logProbs: NDArray, labels: NDArray, opts: LossOptions = {}): NDArray {
  const op = "nll";
  opts = checkOptions(`losses.${op}`, opts, `{ reduction: "sum" }`, ["reduction"]);
  const lp = checkArray(op, "logProbs", logProbs);
  if (!isFloat(lp.dtype)) throw new Error(`losses.${op}: logProbs must be a float array, got ${lp.aval.toString()}.`);
  if (lp.ndim === 0) throw new Error(`losses.${op}: logProbs must have a class axis (shape [..., numClasses]), got a 0-d array.`);
  const y = checkArray(op, "labels", labels);
  if (y.dtype !== "int32")
    throw new Error(
      `losses.${op}: labels must be int32 class indices of shape ${fmtShape(lp.shape.slice(0, -1))}, got ${y.aval.toString()}; convert with astype("int32").`,
    );
  const target = targetRows(op, lp, y, "logProbs");
  return reduce(op, np.negative(np.sum(np.multiply(target, lp), { axis: -1 })), opts.reduction);
}
