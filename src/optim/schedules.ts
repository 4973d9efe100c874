/**
 * Learning-rate schedules, as optax's: each is a function of the step count `count`
 * (a JS number eagerly; a traced int32 scalar when an optimizer step runs under `jit`,
 * which is why the formulas are written with `np`) returning the value for that step.
 * Pass one wherever an optimizer takes a learning rate.
 *
 * ```ts
 * import { optim } from "cotangent";
 * const lr = optim.schedules.cosineDecay(0.1, 1000);
 * const opt = optim.adam(lr);
 * ```
 * @module
 */
import { NDArray } from "../core/array.js";
import { checkOptions, describeValue } from "../core/shape.js";
import * as np from "../numpy/index.js";

/** A learning rate as a function of the step count: a number for a number, an array for an array. */
export interface Schedule {
  (count: number): number;
  (count: NDArray): NDArray;
}

/**
 * A learning rate: a number, or a function of the step count (a {@link Schedule}, or
 * any `(count) => number | Array` written with `np`).
 */
export type LearningRate = number | Schedule | ((count: number | NDArray) => number | NDArray);

function finite(op: string, name: string, v: unknown, { positive = false }: { positive?: boolean } = {}): number {
  if (typeof v !== "number" || !Number.isFinite(v) || (positive && !(v > 0))) {
    throw new Error(`optim.schedules.${op}: ${name} must be a finite number${positive ? " > 0" : ""}, got ${describeValue(v)}.`);
  }
  return v;
}

/**
 * Evaluates a formula written with `np` at `count`: a JS number gives a JS number
 * (computed in float64), an array count gives a float32 0-d array.
 */
function evaluate(op: string, count: number | NDArray, formula: (c: NDArray) => NDArray): number | NDArray {
  if (typeof count === "number") {
    if (!Number.isFinite(count)) throw new Error(`optim.schedules.${op}: count must be a finite number, got ${describeValue(count)}.`);
    return formula(np.array(count, { dtype: "float64" })).item();
  }
  if (!(count instanceof NDArray) || count.size !== 1)
    throw new Error(`optim.schedules.${op}: count must be a number or a scalar array, got ${describeValue(count)}.`);
  return formula(count.astype("float32"));
}

/** A schedule from its formula over a float count. */
function schedule(op: string, formula: (c: NDArray) => NDArray): Schedule {
  return ((count: number | NDArray) => evaluate(op, count, formula)) as Schedule;
}

/**
 * The same value at every step (optax's `constant_schedule`).
 *
 * @example
 * ```ts
 * import { optim } from "cotangent";
 * console.log(optim.schedules.constant(0.1)(500)); // 0.1
 * ```
 */
export function constant(value: number): Schedule {
  finite("constant", "value", value);
  return schedule("constant", (c) => np.add(np.multiply(c, 0), value));
}

/** Options of {@link exponentialDecay}. */
export interface ExponentialDecayOptions {
  /** Steps before the decay starts (default 0). */
  transitionBegin?: number;
  /** Decay in whole `transitionSteps` intervals (default false: continuously). */
  staircase?: boolean;
  /** A floor (when decaying) or ceiling (when `decayRate > 1`) of the value. */
  endValue?: number;
}

/**
 * `initValue · decayRate^((count - transitionBegin) / transitionSteps)` after
 * `transitionBegin` steps (`initValue` before), the exponent floored with `staircase`,
 * bounded by `endValue` (optax's `exponential_decay`).
 *
 * @example
 * ```ts
 * import { optim } from "cotangent";
 * const s = optim.schedules.exponentialDecay(1, 10, 0.5);
 * console.log(s(0), s(10), s(20)); // 1 0.5 0.25
 * const stairs = optim.schedules.exponentialDecay(1, 10, 0.5, { staircase: true, transitionBegin: 5 });
 * console.log(stairs(5), stairs(14), stairs(15)); // 1 1 0.5
 * ```
 */
export function exponentialDecay(initValue: number, transitionSteps: number, decayRate: number, opts: ExponentialDecayOptions = {}): Schedule {
  const op = "exponentialDecay";
  finite(op, "initValue", initValue);
  finite(op, "transitionSteps", transitionSteps, { positive: true });
  finite(op, "decayRate", decayRate, { positive: true });
  opts = checkOptions(`optim.schedules.${op}`, opts, "{ staircase: true }", ["transitionBegin", "staircase", "endValue"]);
  const begin = finite(op, "transitionBegin", opts.transitionBegin ?? 0);
  const end = opts.endValue === undefined ? undefined : finite(op, "endValue", opts.endValue);
  return schedule(op, (c) => {
    const steps = np.subtract(c, begin);
    let p = np.divide(steps, transitionSteps);
    if (opts.staircase) p = np.floor(p);
    let v = np.where(np.lessEqual(steps, 0), initValue, np.multiply(np.power(decayRate, p), initValue));
    if (end !== undefined) v = decayRate < 1 ? np.maximum(v, end) : np.minimum(v, end);
    return v;
  });
}

/** Options of {@link cosineDecay}. */
export interface CosineDecayOptions {
  /** The final value as a fraction of `initValue` (default 0). */
  alpha?: number;
  /** Power of the cosine factor (default 1). */
  exponent?: number;
}

/**
 * Cosine decay from `initValue` to `alpha · initValue` over `decaySteps` steps, then
 * constant: `initValue · ((1 - alpha) · (0.5 (1 + cos(π · min(count, decaySteps) / decaySteps)))^exponent + alpha)`
 * (optax's `cosine_decay_schedule`).
 *
 * @example
 * ```ts
 * import { optim } from "cotangent";
 * const s = optim.schedules.cosineDecay(1, 100, { alpha: 0.1 });
 * console.log(s(0), s(50).toFixed(6), s(100).toFixed(6), s(1000).toFixed(6)); // 1 0.550000 0.100000 0.100000
 * ```
 */
export function cosineDecay(initValue: number, decaySteps: number, opts: CosineDecayOptions = {}): Schedule {
  const op = "cosineDecay";
  finite(op, "initValue", initValue);
  finite(op, "decaySteps", decaySteps, { positive: true });
  opts = checkOptions(`optim.schedules.${op}`, opts, "{ alpha: 0.1 }", ["alpha", "exponent"]);
  const alpha = finite(op, "alpha", opts.alpha ?? 0);
  const exponent = finite(op, "exponent", opts.exponent ?? 1);
  return schedule(op, (c) => cosineAt(c, initValue, decaySteps, alpha, exponent));
}

function cosineAt(c: NDArray, initValue: number, decaySteps: number, alpha: number, exponent: number): NDArray {
  const t = np.divide(np.clip(c, 0, decaySteps), decaySteps);
  const cosine = np.multiply(np.add(np.cos(np.multiply(t, Math.PI)), 1), 0.5);
  return np.multiply(np.add(np.multiply(np.power(cosine, exponent), 1 - alpha), alpha), initValue);
}

function linearAt(c: NDArray, initValue: number, endValue: number, transitionSteps: number, begin: number): NDArray {
  const t = np.divide(np.clip(np.subtract(c, begin), 0, transitionSteps), transitionSteps);
  return np.add(np.multiply(np.subtract(1, t), initValue - endValue), endValue);
}

/** Options of {@link linear}. */
export interface LinearOptions {
  /** Steps before the transition starts (default 0). */
  transitionBegin?: number;
}

/**
 * Linear interpolation from `initValue` to `endValue` over `transitionSteps` steps
 * after `transitionBegin`, constant outside (optax's `linear_schedule`).
 *
 * @example
 * ```ts
 * import { optim } from "cotangent";
 * const s = optim.schedules.linear(1, 0, 10, { transitionBegin: 5 });
 * console.log(s(0), s(10), s(15), s(100)); // 1 0.5 0 0
 * ```
 */
export function linear(initValue: number, endValue: number, transitionSteps: number, opts: LinearOptions = {}): Schedule {
  const op = "linear";
  finite(op, "initValue", initValue);
  finite(op, "endValue", endValue);
  finite(op, "transitionSteps", transitionSteps, { positive: true });
  opts = checkOptions(`optim.schedules.${op}`, opts, "{ transitionBegin: 100 }", ["transitionBegin"]);
  const begin = finite(op, "transitionBegin", opts.transitionBegin ?? 0);
  return schedule(op, (c) => linearAt(c, initValue, endValue, transitionSteps, begin));
}

/** Arguments of {@link warmupCosineDecay}. */
export interface WarmupCosineDecayOptions {
  /** The value at step 0. */
  initValue: number;
  /** The value reached after the warmup. */
  peakValue: number;
  /** Steps of linear warmup from `initValue` to `peakValue`. */
  warmupSteps: number;
  /** Total steps, warmup included, after which the value stays at `endValue`. */
  decaySteps: number;
  /** The final value (default 0). */
  endValue?: number;
}

/**
 * Linear warmup from `initValue` to `peakValue` over `warmupSteps`, then cosine decay
 * to `endValue` at `decaySteps` (optax's `warmup_cosine_decay_schedule`).
 *
 * @example
 * ```ts
 * import { optim } from "cotangent";
 * const s = optim.schedules.warmupCosineDecay({ initValue: 0, peakValue: 1, warmupSteps: 10, decaySteps: 110 });
 * console.log(s(0), s(5), s(10), s(60).toFixed(6), s(110).toFixed(6)); // 0 0.5 1 0.500000 0.000000
 * ```
 */
export function warmupCosineDecay(opts: WarmupCosineDecayOptions): Schedule {
  const op = "warmupCosineDecay";
  opts = checkOptions(`optim.schedules.${op}`, opts, "{ initValue: 0, peakValue: 1e-3, warmupSteps: 100, decaySteps: 1000 }", [
    "initValue",
    "peakValue",
    "warmupSteps",
    "decaySteps",
    "endValue",
  ]);
  const init = finite(op, "initValue", opts.initValue);
  const peak = finite(op, "peakValue", opts.peakValue);
  const warmup = finite(op, "warmupSteps", opts.warmupSteps);
  const total = finite(op, "decaySteps", opts.decaySteps, { positive: true });
  const end = finite(op, "endValue", opts.endValue ?? 0);
  if (warmup < 0 || warmup >= total) throw new Error(`optim.schedules.${op}: warmupSteps must be in [0, decaySteps), got ${warmup} with decaySteps ${total}.`);
  if (peak === 0 && end !== 0) throw new Error(`optim.schedules.${op}: endValue ${end} needs a non-zero peakValue (the decay is a fraction of the peak).`);
  const alpha = peak === 0 ? 0 : end / peak;
  return schedule(op, (c) => {
    const warm = warmup > 0 ? linearAt(c, init, peak, warmup, 0) : np.add(np.multiply(c, 0), peak);
    return np.where(np.less(c, warmup), warm, cosineAt(np.subtract(c, warmup), peak, total - warmup, alpha, 1));
  });
}
