/** `checkGrads`: derivatives against central finite differences in float64. @module */
import { ConcreteArray, type NDArray, ShapedArray } from "../core/array.js";
import { isFloat } from "../core/dtype.js";
import { flatten, unflatten } from "../core/tree.js";
import * as E from "../primitives/elementwise.js";
import { jvp, vjp } from "./ad.js";
import { describeValue } from "../core/shape.js";
import { checkFunction, checkTransformOptions, leavesToArrays } from "./flat.js";
import type { ArgsOf, Fn } from "./types.js";

/** Options of {@link checkGrads}. */
export interface CheckGradsOptions {
  /** Highest derivative order to check (default 2). */
  order?: number;
  /** Which modes to check (default both). */
  modes?: ("fwd" | "rev")[];
  /** Finite-difference step (default 1e-4). */
  eps?: number;
  /** Absolute and relative tolerances (default 1e-5 each). */
  atol?: number;
  rtol?: number;
  /** Seed of the random directions (default 0). */
  seed?: number;
}

function rng(seed: number): () => number {
  let a = (seed + 0x9e3779b9) >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  };
}

function randomLike(x: NDArray, next: () => number): NDArray {
  const buf = new Float64Array(x.size);
  for (let i = 0; i < buf.length; i++) buf[i] = next();
  return new ConcreteArray(new ShapedArray(x.aval.shape, "float64"), buf);
}

type Flat = (xs: NDArray[]) => NDArray[];

function toF64(xs: NDArray[]): NDArray[] {
  return xs.map((x) => (isFloat(x.dtype) ? E.convert(x, "float64") : x));
}

function compare(what: string, got: NDArray[], want: NDArray[], atol: number, rtol: number): void {
  let worst = { excess: 0, msg: "" };
  got.forEach((g, i) => {
    const a = g.data();
    const b = want[i]!.data();
    for (let k = 0; k < a.length; k++) {
      const diff = Math.abs(a[k]! - b[k]!);
      const tol = atol + rtol * Math.abs(b[k]!);
      const excess = Number.isNaN(diff) ? Infinity : diff - tol;
      if (excess > worst.excess)
        worst = {
          excess,
          msg: `output ${i}, element ${k}: got ${a[k]}, expected ${b[k]} (|difference| ${diff.toExponential(3)} > tolerance ${tol.toExponential(3)})`,
        };
    }
  });
  if (worst.excess > 0) throw new Error(`checkGrads: ${what} disagree at ${worst.msg}.`);
}

function dot(a: NDArray[], b: NDArray[]): number {
  let s = 0;
  a.forEach((x, i) => {
    const u = x.data();
    const v = b[i]!.data();
    for (let k = 0; k < u.length; k++) s += u[k]! * v[k]!;
  });
  return s;
}

/**
 * Runs a forward-mode step; a function without forward mode (a `customVjp`) gets an
 * Error that says to check reverse mode only.
 */
function forwardMode<T>(run: () => T): T {
  try {
    return run();
  } catch (e) {
    if (e instanceof Error && /^customVjp: forward-mode/.test(e.message)) {
      throw new Error(
        `checkGrads: the function has no forward mode (it calls a customVjp function), so its jvp cannot be checked; check reverse mode only with checkGrads(f, args, { modes: ["rev"] }). (${e.message})`,
        { cause: e },
      );
    }
    throw e;
  }
}

function check(f: Flat, xs: NDArray[], order: number, o: Required<CheckGradsOptions>, next: () => number): void {
  const floats = xs.map((x) => isFloat(x.dtype));
  const v = xs.map((x) => (isFloat(x.dtype) ? randomLike(x, next) : x));
  // reverse-only checks must not run forward mode (customVjp functions have none)
  const fwd = o.modes.includes("fwd");
  const tangentsOf = (a: NDArray[]): NDArray[] => v.map((t, i) => (floats[i] ? t : E.full(a[i]!.aval.shape, 0, a[i]!.dtype)));
  const [outs, touts] = fwd ? forwardMode(() => jvp((...a: NDArray[]) => f(a), xs, tangentsOf(xs))) : [f(xs), []];
  const shifted = (sgn: number): NDArray[] => f(xs.map((x, i) => (floats[i] ? E.add(x, E.mul(v[i]!, sgn * o.eps)) : x)));
  const hi = shifted(1);
  const lo = shifted(-1);
  const numeric = hi.map((h, i) => E.div(E.sub(h, lo[i]!), 2 * o.eps));
  if (fwd) compare(`jvp and central finite differences (order ${o.order - order + 1})`, touts, numeric, o.atol, o.rtol);
  if (o.modes.includes("rev")) {
    const u = outs.map((y) => randomLike(y, next));
    const [, back] = vjp((...a: NDArray[]) => f(a), ...xs);
    const g = back(u) as NDArray[];
    const lhs = dot(
      g.filter((_, i) => floats[i]),
      v.filter((_, i) => floats[i]),
    );
    const rhs = dot(u, numeric);
    const tol = o.atol + o.rtol * Math.abs(rhs);
    if (!(Math.abs(lhs - rhs) <= tol)) {
      throw new Error(
        `checkGrads: vjp disagrees with finite differences (order ${o.order - order + 1}): <vjp(u), v> = ${lhs} but <u, (f(x+εv)-f(x-εv))/2ε> = ${rhs} (|difference| ${Math.abs(lhs - rhs).toExponential(3)} > tolerance ${tol.toExponential(3)}).`,
      );
    }
  }
  if (order > 1) {
    if (o.modes.includes("fwd")) {
      check((a) => forwardMode(() => jvp((...b: NDArray[]) => f(b), a, tangentsOf(a)))[1], xs, order - 1, o, next);
    }
    if (o.modes.includes("rev")) {
      const u = outs.map((y) => randomLike(y, next));
      check((a) => (vjp((...b: NDArray[]) => f(b), ...a)[1](u) as NDArray[]).filter((_, i) => floats[i]), xs, order - 1, o, next);
    }
  }
}

/**
 * Checks the derivatives of `f` at `args` up to `order` against central finite
 * differences computed in float64 (JAX's `check_grads`, PyTorch's `gradcheck`).
 * Float arguments are converted to float64 first. Throws an Error naming the worst
 * element when forward (jvp) or reverse (vjp) mode disagrees.
 *
 * @example
 * ```ts
 * import { checkGrads, np } from "cotangent";
 * checkGrads((x: np.Array) => np.sum(np.tanh(x)), [np.array([0.1, -0.4])]); // passes silently
 * ```
 */
export function checkGrads<F extends Fn>(f: F, args: ArgsOf<F>, opts?: CheckGradsOptions): void {
  checkFunction("checkGrads", f, "checkGrads((x) => np.sum(np.sin(x)), [x])");
  if (!Array.isArray(args))
    throw new Error(`checkGrads: args must be a JS array with one entry per argument of f, e.g. checkGrads(f, [x]), got ${describeValue(args)}.`);
  const given = checkTransformOptions("checkGrads", opts, '{ order: 2, modes: ["fwd", "rev"] }', ["order", "modes", "eps", "atol", "rtol", "seed"]);
  const o: Required<CheckGradsOptions> = { order: 2, modes: ["fwd", "rev"], eps: 1e-4, atol: 1e-5, rtol: 1e-5, seed: 0, ...given };
  if (!Array.isArray(o.modes) || o.modes.length === 0 || o.modes.some((m) => m !== "fwd" && m !== "rev")) {
    throw new Error(`checkGrads: modes must be a non-empty JS array of "fwd" and/or "rev", got ${describeValue(o.modes)}.`);
  }
  if (!Number.isInteger(o.order) || o.order < 1) throw new Error(`checkGrads: order must be a positive integer, got ${describeValue(o.order)}.`);
  const [leaves, inDef] = flatten([...args]);
  const xs = toF64(leavesToArrays("checkGrads", leaves));
  const flat: Flat = (a) => {
    const out = f(...(unflatten(inDef, a) as unknown[]));
    return leavesToArrays("checkGrads", flatten(out)[0], "result").map((y) => (isFloat(y.dtype) ? y : E.convert(y, "float64")));
  };
  check(flat, xs, o.order, o, rng(o.seed));
}
