/**
 * Optimizers as pure gradient transformations, in the style of optax: an optimizer
 * is `{ init(params) → state, update(grads, state, params?) → [updates, state] }`
 * and {@link applyUpdates} adds the updates to the parameters. Nothing is mutated;
 * states are frozen (immer) pytrees that can be stored, compared or passed through
 * transforms. The formulas follow PyTorch's `torch.optim` so that runs can be compared
 * step by step. PyTorch-style eager helpers {@link clipGradNorm} and
 * {@link clipGradValue} are here too.
 *
 * ```ts
 * import { grad, np, optim } from "cotangent";
 * let params = { w: np.array([1, -2]) };
 * const loss = (p: typeof params) => np.sum(np.square(p.w));
 * const opt = optim.adam(0.1);
 * let state = opt.init(params);
 * for (let i = 0; i < 3; i++) {
 *   const [updates, next] = opt.update(grad(loss)(params), state, params);
 *   params = optim.applyUpdates(params, updates);
 *   state = next;
 * }
 * ```
 * @module
 */
import { castDraft, freeze, produce } from "immer";
import { ConcreteArray, NDArray } from "../core/array.js";
import { isFloat } from "../core/dtype.js";
import { checkOptions, describeValue } from "../core/shape.js";
import { type PyTree, flatten, map as treeMap, unflatten } from "../core/tree.js";
import * as np from "../numpy/index.js";
import { type LearningRate, type Schedule } from "./schedules.js";
import { leafArray, leafPaths, zipTrees } from "./trees.js";

export type { PyTree, LearningRate, Schedule };
export * as schedules from "./schedules.js";

/**
 * A gradient transformation (an optimizer or a step of one). `update` maps
 * gradients to updates, to be added to the parameters with {@link applyUpdates}.
 */
export interface GradientTransformation<S = unknown> {
  /** The initial state for parameters `params`. */
  init(params: unknown): S;
  /** `[updates, newState]` from gradients (a tree with the structure of the params). */
  update<G>(grads: G, state: S, params?: unknown): [G, S];
}

/** State of {@link sgd}: the momentum buffer (null without momentum). */
export interface SgdState {
  readonly trace: PyTree | null;
  /** Steps taken (int32, 0-d), kept only when the learning rate is a schedule. */
  readonly count?: NDArray;
}
/** State of {@link adam} and {@link adamw}. */
export interface AdamState {
  /** Number of steps taken (int32, 0-d). */
  readonly count: NDArray;
  /** First-moment (mean) estimate, shaped like the params. */
  readonly mu: PyTree;
  /** Second-moment (uncentered variance) estimate, shaped like the params. */
  readonly nu: PyTree;
}
/** State of stateless transformations. */
export type EmptyState = Readonly<Record<string, never>>;

function checkRate(op: string, name: string, v: unknown, { positive = false, max }: { positive?: boolean; max?: number } = {}): number {
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0 || (positive && v === 0) || (max !== undefined && v >= max)) {
    const range = `${positive ? "> 0" : ">= 0"}${max !== undefined ? ` and < ${max}` : ""}`;
    throw new Error(`${op}: ${name} must be a finite number ${range}, got ${describeValue(v)}.`);
  }
  return v;
}

function checkLearningRate(op: string, lr: unknown): LearningRate {
  if (typeof lr === "function") return lr as LearningRate;
  return checkRate(op, "lr", lr);
}

/**
 * The learning rate at step `count` (the count before this step, as optax): the number
 * itself, or the schedule's value — evaluated on a JS number when the count is known
 * now (and checked to be finite), on the traced count under `jit`.
 */
function rateAt(op: string, lr: LearningRate, count: NDArray | undefined): number | NDArray {
  if (typeof lr === "number") return lr;
  if (count === undefined) throw new Error(`${op}: the optimizer state has no step count; pass the state from this optimizer's init.`);
  const known = count instanceof ConcreteArray ? count.item() : null;
  const v = known !== null ? lr(known) : lr(count);
  const value = v instanceof ConcreteArray && v.size === 1 ? v.item() : v;
  if (typeof value === "number" ? !Number.isFinite(value) : !(value instanceof NDArray)) {
    throw new Error(
      `${op}: the learning-rate schedule returned ${describeValue(value)} at step ${known ?? "(traced)"}; a schedule must return a finite number (or a 0-d array under jit).`,
    );
  }
  if (value instanceof NDArray && value.size !== 1)
    throw new Error(
      `${op}: the learning-rate schedule returned an array of shape [${value.shape.join(", ")}] at step ${known ?? "(traced)"}; it must be a scalar.`,
    );
  return value;
}

/** `-rate · x` in the dtype of `x`. */
function descend(x: NDArray, rate: number | NDArray): NDArray {
  return np.multiply(x, typeof rate === "number" ? -rate : np.negative(rate).astype(x.dtype));
}

function floatLeaves(op: string, tree: unknown, what: string): NDArray[] {
  const [leaves] = flatten(tree);
  const paths = leafPaths(tree);
  return leaves.map((l, i) => {
    const a = leafArray(op, `${what} ${paths[i]}`, l);
    if (!isFloat(a.dtype)) throw new Error(`${op}: the ${what} leaf at ${paths[i]} has dtype ${a.dtype}; optimizers work on float32/float64 parameters.`);
    return a;
  });
}

/** `1 - b^count`, computed in float64 (as PyTorch computes it in Python floats). */
function biasCorrection(b: number, count: NDArray): NDArray {
  return np.subtract(1, np.power(np.array(b, { dtype: "float64" }), count.astype("float64")));
}

/** Options of {@link sgd}. */
export interface SgdOptions {
  /** Momentum factor (default 0: plain gradient descent). */
  momentum?: number;
  /** Nesterov momentum (needs momentum > 0). */
  nesterov?: boolean;
  /** L2 penalty added to the gradient, `g + weightDecay * p` (needs params in update). */
  weightDecay?: number;
}

/**
 * Stochastic gradient descent with optional (Nesterov) momentum, as `torch.optim.SGD`
 * (dampening 0): `buf = momentum * buf + g`, step along `buf` (or `g + momentum * buf`
 * with Nesterov); the update is `-lr` times the step.
 *
 * @example
 * ```ts
 * import { np, optim } from "cotangent";
 * const opt = optim.sgd(0.1, { momentum: 0.9 });
 * const params = { w: np.array([1]) };
 * let state = opt.init(params);
 * const g = { w: np.array([1]) };
 * let u;
 * [u, state] = opt.update(g, state);
 * console.log(u.w.toJs()); // [-0.10000000149011612]
 * [u, state] = opt.update(g, state);
 * console.log(u.w.toJs()); // [-0.1900000125169754]
 * ```
 */
export function sgd(lr: LearningRate, opts: SgdOptions = {}): GradientTransformation<SgdState> {
  const op = "optim.sgd";
  checkLearningRate(op, lr);
  opts = checkOptions(op, opts, "{ momentum: 0.9, nesterov: true }", ["momentum", "nesterov", "weightDecay"]);
  const momentum = checkRate(op, "momentum", opts.momentum ?? 0);
  const wd = checkRate(op, "weightDecay", opts.weightDecay ?? 0);
  const nesterov = opts.nesterov ?? false;
  if (nesterov && momentum === 0) throw new Error(`${op}: Nesterov momentum needs momentum > 0, e.g. optim.sgd(0.1, { momentum: 0.9, nesterov: true }).`);
  return {
    init(params) {
      floatLeaves(`${op}.init`, params, "params");
      const trace = momentum > 0 ? (treeMap((p: NDArray) => np.zerosLike(leafArray(op, "params", p)), params) as PyTree) : null;
      return freeze(typeof lr === "number" ? { trace } : { trace, count: np.array(0, { dtype: "int32" }) }, true);
    },
    update<G>(grads: G, state: SgdState, params?: unknown): [G, SgdState] {
      const uop = `${op}.update`;
      let g: NDArray[];
      let rebuild: (l: NDArray[]) => PyTree;
      if (wd > 0) {
        if (params === undefined) throw new Error(`${uop}: weightDecay needs the parameters: call update(grads, state, params).`);
        const z = zipTrees(uop, grads, "grads", params, "params");
        g = z.aLeaves.map((gi, i) => np.add(gi, np.multiply(z.bLeaves[i]!, wd)));
        rebuild = z.rebuild;
      } else if (params !== undefined) {
        const z = zipTrees(uop, grads, "grads", params, "params");
        g = z.aLeaves;
        rebuild = z.rebuild;
      } else {
        const [gl, gd] = flatten(grads);
        g = gl.map((x, i) => leafArray(uop, `grads ${leafPaths(grads)[i]}`, x));
        rebuild = (l) => unflatten(gd, l) as PyTree;
      }
      const rate = rateAt(uop, lr, state.count);
      const counted = (d: { count?: NDArray }): void => {
        if (state.count !== undefined) d.count = castDraft(np.add(state.count, 1));
      };
      if (momentum === 0) return [rebuild(g.map((x) => descend(x, rate))) as G, state.count === undefined ? state : produce(state, counted)];
      const z = zipTrees(uop, rebuild(g), "grads", state.trace, "the momentum state");
      const buf = z.bLeaves.map((b, i) => np.add(np.multiply(b, momentum), z.aLeaves[i]!));
      const step = nesterov ? z.aLeaves.map((x, i) => np.add(x, np.multiply(buf[i]!, momentum))) : buf;
      const next = produce(state, (d) => {
        d.trace = castDraft(z.rebuild(buf));
        counted(d);
      });
      return [z.rebuild(step.map((s) => descend(s, rate))) as G, next];
    },
  };
}

/** Options of {@link adam}. */
export interface AdamOptions {
  /** Decay of the first-moment estimate (default 0.9). */
  b1?: number;
  /** Decay of the second-moment estimate (default 0.999). */
  b2?: number;
  /** Added to the denominator (default 1e-8). */
  eps?: number;
}
/** Options of {@link adamw}. */
export interface AdamWOptions extends AdamOptions {
  /** Decoupled weight decay (default 0.01, as `torch.optim.AdamW`). */
  weightDecay?: number;
}

function adamLike(op: string, lr: LearningRate, opts: AdamWOptions, decoupled: boolean): GradientTransformation<AdamState> {
  checkLearningRate(op, lr);
  opts = checkOptions(op, opts, "{ b1: 0.9, b2: 0.999, eps: 1e-8 }", decoupled ? ["b1", "b2", "eps", "weightDecay"] : ["b1", "b2", "eps"]);
  const b1 = checkRate(op, "b1", opts.b1 ?? 0.9, { max: 1 });
  const b2 = checkRate(op, "b2", opts.b2 ?? 0.999, { max: 1 });
  const eps = checkRate(op, "eps", opts.eps ?? 1e-8);
  const wd = decoupled ? checkRate(op, "weightDecay", opts.weightDecay ?? 0.01) : 0;
  return {
    init(params) {
      floatLeaves(`${op}.init`, params, "params");
      const zeros = (): PyTree => treeMap((p: NDArray) => np.zerosLike(leafArray(op, "params", p)), params) as PyTree;
      return freeze({ count: np.array(0, { dtype: "int32" }), mu: zeros(), nu: zeros() }, true);
    },
    update<G>(grads: G, state: AdamState, params?: unknown): [G, AdamState] {
      const uop = `${op}.update`;
      const m = zipTrees(uop, grads, "grads", state.mu, "the optimizer state");
      const v = zipTrees(uop, grads, "grads", state.nu, "the optimizer state");
      let p: NDArray[] = [];
      if (wd > 0) {
        if (params === undefined) throw new Error(`${uop}: decoupled weight decay needs the parameters: call update(grads, state, params).`);
        p = zipTrees(uop, grads, "grads", params, "params").bLeaves;
      }
      const rate = rateAt(uop, lr, state.count);
      const count = np.add(state.count, 1);
      const bc1 = biasCorrection(b1, count);
      const bc2Sqrt = np.sqrt(biasCorrection(b2, count));
      const mu: NDArray[] = [];
      const nu: NDArray[] = [];
      const updates = m.aLeaves.map((g, i) => {
        const mi = np.add(np.multiply(m.bLeaves[i]!, b1), np.multiply(g, 1 - b1));
        const vi = np.add(np.multiply(v.bLeaves[i]!, b2), np.multiply(np.square(g), 1 - b2));
        mu.push(mi);
        nu.push(vi);
        // PyTorch: p -= (lr / bc1) * m / (sqrt(v) / sqrt(bc2) + eps)
        const stepSize = np.divide(rate, bc1).astype(g.dtype);
        const denom = np.add(np.divide(np.sqrt(vi), bc2Sqrt.astype(g.dtype)), eps);
        let u = np.negative(np.multiply(stepSize, np.divide(mi, denom)));
        if (wd > 0) u = np.add(u, descend(np.multiply(p[i]!, wd), rate));
        return u;
      });
      const next = produce(state, (d) => {
        d.count = castDraft(count);
        d.mu = castDraft(m.rebuild(mu));
        d.nu = castDraft(m.rebuild(nu));
      });
      return [m.rebuild(updates) as G, next];
    },
  };
}

/**
 * Adam, as `torch.optim.Adam` (and optax's `adam`): moment estimates
 * `m = b1 m + (1 - b1) g`, `v = b2 v + (1 - b2) g²`, bias-corrected, and the update
 * `-lr · m̂ / (sqrt(v̂) + eps)`. The first update is about `-lr · sign(g)`.
 *
 * @example
 * ```ts
 * import { np, optim } from "cotangent";
 * const opt = optim.adam(0.1);
 * const params = np.array([1, 1], { dtype: "float64" });
 * const [u] = opt.update(np.array([0.5, -3], { dtype: "float64" }), opt.init(params));
 * console.log(u.toJs()); // [-0.09999998000000401, 0.09999999666666677]
 * ```
 */
export function adam(lr: LearningRate, opts: AdamOptions = {}): GradientTransformation<AdamState> {
  return adamLike("optim.adam", lr, opts, false);
}

/**
 * Adam with decoupled weight decay, as `torch.optim.AdamW`: the update adds
 * `-lr · weightDecay · p` to Adam's (so `update` needs the params).
 *
 * @example
 * ```ts
 * import { np, optim } from "cotangent";
 * const opt = optim.adamw(0.1, { weightDecay: 0.5 });
 * const params = np.array([2], { dtype: "float64" });
 * const [u] = opt.update(np.array([0], { dtype: "float64" }), opt.init(params), params);
 * console.log(u.toJs()); // [-0.1]
 * ```
 */
export function adamw(lr: LearningRate, opts: AdamWOptions = {}): GradientTransformation<AdamState> {
  return adamLike("optim.adamw", lr, opts, true);
}

/** Options of {@link rmsprop}. */
export interface RmspropOptions {
  /** Decay of the moving average of squared gradients (default 0.9). */
  decay?: number;
  /** Added to the mean square inside the square root (default 1e-8). */
  eps?: number;
  /** Momentum of the (learning-rate scaled) updates (default: none). */
  momentum?: number;
  /** Divide by the centered second moment, `E[g²] - E[g]²` (default false). */
  centered?: boolean;
}

/** State of {@link rmsprop}. */
export interface RmspropState {
  /** Steps taken (int32, 0-d). */
  readonly count: NDArray;
  /** Moving average of squared gradients. */
  readonly nu: PyTree;
  /** Moving average of gradients (centered only, else null). */
  readonly mu: PyTree | null;
  /** Momentum buffer (with momentum only, else null). */
  readonly trace: PyTree | null;
}

/**
 * RMSProp, as optax's `rmsprop` (defaults included): `nu = decay·nu + (1 - decay)·g²`,
 * the step `g / sqrt(nu + eps)` (centered: `g / sqrt(nu - mu² + eps)` with
 * `mu = decay·mu + (1 - decay)·g`), scaled by `-lr`; with `momentum`, the scaled steps
 * accumulate in a buffer `trace = momentum·trace + step`, which is the update.
 *
 * @example
 * ```ts
 * import { np, optim } from "cotangent";
 * const opt = optim.rmsprop(0.1);
 * const w = np.array([1], { dtype: "float64" });
 * const [u] = opt.update(np.array([2], { dtype: "float64" }), opt.init(w));
 * console.log(u.toJs()); // [-0.316227762063991]
 * ```
 */
export function rmsprop(lr: LearningRate, opts: RmspropOptions = {}): GradientTransformation<RmspropState> {
  const op = "optim.rmsprop";
  checkLearningRate(op, lr);
  opts = checkOptions(op, opts, "{ decay: 0.9, eps: 1e-8, momentum: 0.9, centered: true }", ["decay", "eps", "momentum", "centered"]);
  const decay = checkRate(op, "decay", opts.decay ?? 0.9, { max: 1 });
  const eps = checkRate(op, "eps", opts.eps ?? 1e-8);
  const momentum = opts.momentum === undefined ? null : checkRate(op, "momentum", opts.momentum);
  const centered = opts.centered ?? false;
  if (typeof centered !== "boolean") throw new Error(`${op}: centered must be a boolean, got ${describeValue(centered)}.`);
  return {
    init(params) {
      floatLeaves(`${op}.init`, params, "params");
      const zeros = (): PyTree => treeMap((p: NDArray) => np.zerosLike(leafArray(op, "params", p)), params);
      return freeze({ count: np.array(0, { dtype: "int32" }), nu: zeros(), mu: centered ? zeros() : null, trace: momentum !== null ? zeros() : null }, true);
    },
    update<G>(grads: G, state: RmspropState): [G, RmspropState] {
      const uop = `${op}.update`;
      const rate = rateAt(uop, lr, state.count);
      const v = zipTrees(uop, grads, "grads", state.nu, "the optimizer state");
      const nu = v.aLeaves.map((g, i) => np.add(np.multiply(v.bLeaves[i]!, decay), np.multiply(np.square(g), 1 - decay)));
      let mu: NDArray[] | null = null;
      if (centered) {
        const m = zipTrees(uop, grads, "grads", state.mu, "the optimizer state");
        mu = m.aLeaves.map((g, i) => np.add(np.multiply(m.bLeaves[i]!, decay), np.multiply(g, 1 - decay)));
      }
      let updates = v.aLeaves.map((g, i) => {
        const second = mu ? np.subtract(nu[i]!, np.square(mu[i]!)) : nu[i]!;
        return descend(np.multiply(g, np.rsqrt(np.add(second, eps))), rate);
      });
      let trace: NDArray[] | null = null;
      if (momentum !== null) {
        const t = zipTrees(uop, grads, "grads", state.trace, "the optimizer state");
        trace = updates.map((u, i) => np.add(np.multiply(t.bLeaves[i]!, momentum), u));
        updates = trace;
      }
      const next = produce(state, (d) => {
        d.count = castDraft(np.add(state.count, 1));
        d.nu = castDraft(v.rebuild(nu));
        if (mu) d.mu = castDraft(v.rebuild(mu));
        if (trace) d.trace = castDraft(v.rebuild(trace));
      });
      return [v.rebuild(updates) as G, next];
    },
  };
}

/** Options of {@link adagrad}. */
export interface AdagradOptions {
  /** Starting value of the sum of squared gradients (default 0.1). */
  initialAccumulatorValue?: number;
  /** Added to the sum inside the square root (default 1e-7). */
  eps?: number;
}

/** State of {@link adagrad}. */
export interface AdagradState {
  /** Steps taken (int32, 0-d). */
  readonly count: NDArray;
  /** Sum of squared gradients. */
  readonly sumOfSquares: PyTree;
}

/**
 * Adagrad, as optax's `adagrad` (defaults included): `s = s + g²` starting from
 * `initialAccumulatorValue`, and the update `-lr · g / sqrt(s + eps)`.
 *
 * @example
 * ```ts
 * import { np, optim } from "cotangent";
 * const opt = optim.adagrad(1, { initialAccumulatorValue: 0, eps: 0 });
 * const w = np.array([1], { dtype: "float64" });
 * const [u] = opt.update(np.array([3], { dtype: "float64" }), opt.init(w));
 * console.log(u.toJs()); // [-1]
 * ```
 */
export function adagrad(lr: LearningRate, opts: AdagradOptions = {}): GradientTransformation<AdagradState> {
  const op = "optim.adagrad";
  checkLearningRate(op, lr);
  opts = checkOptions(op, opts, "{ initialAccumulatorValue: 0.1, eps: 1e-7 }", ["initialAccumulatorValue", "eps"]);
  const initial = checkRate(op, "initialAccumulatorValue", opts.initialAccumulatorValue ?? 0.1);
  const eps = checkRate(op, "eps", opts.eps ?? 1e-7);
  return {
    init(params) {
      floatLeaves(`${op}.init`, params, "params");
      const sums = treeMap((p: NDArray) => np.add(np.zerosLike(leafArray(op, "params", p)), initial).astype(p.dtype), params);
      return freeze({ count: np.array(0, { dtype: "int32" }), sumOfSquares: sums }, true);
    },
    update<G>(grads: G, state: AdagradState): [G, AdagradState] {
      const uop = `${op}.update`;
      const rate = rateAt(uop, lr, state.count);
      const z = zipTrees(uop, grads, "grads", state.sumOfSquares, "the optimizer state");
      const sums = z.aLeaves.map((g, i) => np.add(z.bLeaves[i]!, np.square(g)));
      const updates = z.aLeaves.map((g, i) => {
        const s = sums[i]!;
        return descend(np.multiply(g, np.where(np.greater(s, 0), np.rsqrt(np.add(s, eps)), 0)), rate);
      });
      const next = produce(state, (d) => {
        d.count = castDraft(np.add(state.count, 1));
        d.sumOfSquares = castDraft(z.rebuild(sums));
      });
      return [z.rebuild(updates) as G, next];
    },
  };
}

/**
 * Composes transformations: each one's updates are the next one's gradients; the
 * state is the array of their states.
 *
 * @example
 * ```ts
 * import { np, optim } from "cotangent";
 * const opt = optim.chain(optim.clipByGlobalNorm(1), optim.sgd(0.5));
 * const params = { w: np.array([0, 0]) };
 * const [u] = opt.update({ w: np.array([3, 4]) }, opt.init(params));
 * console.log(u.w.toJs()); // [-0.30000001192092896, -0.4000000059604645]
 * ```
 */
export function chain(...transforms: GradientTransformation<any>[]): GradientTransformation<unknown[]> {
  transforms.forEach((t, i) => {
    if (!t || typeof t.init !== "function" || typeof t.update !== "function")
      throw new Error(`optim.chain: argument ${i} is not an optimizer ({ init, update }), got ${describeValue(t)}.`);
  });
  return {
    init(params) {
      return freeze(
        transforms.map((t) => t.init(params)),
        true,
      );
    },
    update<G>(grads: G, state: unknown[], params?: unknown): [G, unknown[]] {
      if (!Array.isArray(state) || state.length !== transforms.length)
        throw new Error(
          `optim.chain.update: expected the state from this chain's init (an array of ${transforms.length} states), got ${describeValue(state)}.`,
        );
      let u: G = grads;
      const next = produce(state, (d) => {
        transforms.forEach((t, i) => {
          const [ui, si] = t.update(u, state[i], params);
          u = ui;
          d[i] = castDraft(si);
        });
      });
      return [u, next];
    },
  };
}

/**
 * The 2-norm of all leaves of a tree taken together, `sqrt(sum of all squares)`.
 *
 * @example
 * ```ts
 * import { np, optim } from "cotangent";
 * console.log(optim.globalNorm({ a: np.array([3]), b: np.array([[4]]) }).item()); // 5
 * ```
 */
export function globalNorm(tree: unknown): NDArray {
  const leaves = floatLeaves("optim.globalNorm", tree, "tree");
  if (leaves.length === 0) return np.array(0);
  return np.sqrt(leaves.map((l) => np.sum(np.square(l))).reduce((a, b) => np.add(a, b)));
}

/**
 * Scales the updates so that their global norm is at most `maxNorm` (optax's
 * `clip_by_global_norm`): unchanged when the norm is below `maxNorm`, else
 * multiplied by `maxNorm / norm`. Stateless; use it first in {@link chain}.
 *
 * @example
 * ```ts
 * import { np, optim } from "cotangent";
 * const clip = optim.clipByGlobalNorm(1);
 * const [u] = clip.update({ w: np.array([3, 4]) }, clip.init({}));
 * console.log(u.w.toJs()); // [0.6000000238418579, 0.800000011920929]
 * ```
 */
export function clipByGlobalNorm(maxNorm: number): GradientTransformation<EmptyState> {
  const op = "optim.clipByGlobalNorm";
  checkRate(op, "maxNorm", maxNorm, { positive: true });
  return {
    init: () => freeze({}) as EmptyState,
    update<G>(grads: G, state: EmptyState): [G, EmptyState] {
      const norm = globalNorm(grads);
      const scale = np.where(np.less(norm, maxNorm), 1, np.divide(maxNorm, norm));
      return [treeMap((g: NDArray) => np.multiply(g, scale.astype(g.dtype)), grads as unknown) as G, state];
    },
  };
}

/**
 * Adds updates to parameters leafwise, keeping each parameter's dtype. The trees must
 * have the same structure and shapes (the error names the first mismatch).
 *
 * @example
 * ```ts
 * import { np, optim } from "cotangent";
 * const p = optim.applyUpdates({ w: np.array([1, 2]) }, { w: np.array([0.5, -1]) });
 * console.log(p.w.toJs()); // [1.5, 1]
 * ```
 */
export function applyUpdates<T>(params: T, updates: unknown): T {
  const op = "optim.applyUpdates";
  const z = zipTrees(op, params, "params", updates, "updates");
  return z.rebuild(z.aLeaves.map((p, i) => np.add(p, z.bLeaves[i]!).astype(p.dtype))) as T;
}

/** Options of {@link clipGradNorm}. */
export interface ClipGradNormOptions {
  /** Which p-norm (default 2; `Infinity` for the largest absolute value). */
  normType?: number;
}

/**
 * PyTorch's `clip_grad_norm_` without mutation: the total norm of all gradients
 * (as if concatenated) and the gradients scaled by
 * `min(1, maxNorm / (totalNorm + 1e-6))`. Returns `[clipped, totalNorm]`.
 *
 * @example
 * ```ts
 * import { np, optim } from "cotangent";
 * const [clipped, total] = optim.clipGradNorm({ a: np.array([3, 4], { dtype: "float64" }) }, 1);
 * console.log(total.item(), clipped.a.toJs()); // 5 [0.5999998800000241, 0.7999998400000321]
 * ```
 */
export function clipGradNorm<G>(grads: G, maxNorm: number, opts: ClipGradNormOptions = {}): [G, NDArray] {
  const op = "optim.clipGradNorm";
  checkRate(op, "maxNorm", maxNorm);
  opts = checkOptions(op, opts, "{ normType: Infinity }", ["normType"]);
  const p = opts.normType ?? 2;
  if (typeof p !== "number" || !(p > 0)) throw new Error(`${op}: normType must be a positive number or Infinity, got ${describeValue(p)}.`);
  const leaves = floatLeaves(op, grads, "grads");
  if (leaves.length === 0) return [grads, np.array(0)];
  let total: NDArray;
  if (p === Infinity) {
    total = leaves.map((l) => np.max(np.abs(l))).reduce((a, b) => np.maximum(a, b));
  } else {
    const sums = leaves.map((l) => np.sum(np.power(np.abs(l), p)));
    total = np.power(
      sums.reduce((a, b) => np.add(a, b)),
      1 / p,
    );
  }
  const coef = np.minimum(np.divide(maxNorm, np.add(total, 1e-6)), 1);
  return [treeMap((g: NDArray) => np.multiply(g, coef.astype(g.dtype)), grads as unknown) as G, total];
}

/**
 * PyTorch's `clip_grad_value_` without mutation: every gradient element clamped to
 * `[-clip, clip]`.
 *
 * @example
 * ```ts
 * import { np, optim } from "cotangent";
 * console.log(optim.clipGradValue({ w: np.array([-3, 0.5, 2]) }, 1).w.toJs()); // [-1, 0.5, 1]
 * ```
 */
export function clipGradValue<G>(grads: G, clip: number): G {
  const op = "optim.clipGradValue";
  checkRate(op, "clip", clip);
  floatLeaves(op, grads, "grads");
  return treeMap((g: NDArray) => np.clip(g, -clip, clip), grads as unknown) as G;
}
