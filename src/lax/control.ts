/**
 * Structured control flow, as `jax.lax`: `cond`, `switch`, `whileLoop`, `foriLoop`,
 * `scan` and `map`, plus `checkpoint` (alias `remat`). Each traces its functions once
 * into jaxprs and binds a higher-order primitive (src/lax/primitives.ts), so it
 * works eagerly and under `jit` (compiled as a loop, never unrolled), `grad`, `jvp`,
 * `linearize`, `vjp`, `vmap` and `hessianVectorProduct`, to any depth. Functions may
 * close over outer (traced) values.
 * @module
 */
import { LruCache } from "../core/lru.js";
import { NDArray, ShapedArray } from "../core/array.js";
import { checkOptions } from "../core/shape.js";
import { type Params, bind, isEager } from "../core/trace.js";
import { type TreeDef, flatten, unflatten } from "../core/tree.js";
import { type Atom, ClosedJaxpr, Jaxpr, Literal, Var } from "../ir/jaxpr.js";
import { closureConvert } from "../interpreters/jaxpr_transforms.js";
import { traceToJaxpr } from "../interpreters/staging.js";
import { cse } from "../passes/cse.js";
import { dce } from "../passes/dce.js";
import { REMAT_POLICIES, type RematPolicy, cond_p, fmtAvals, remat_p, sameAvals, scan_p, while_p } from "./primitives.js";
import { add, asArray, convert, less, maximum, minimum } from "../primitives/elementwise.js";
import { flattenArgs, leavesToArrays } from "../transforms/flat.js";

// ---------------------------------------------------------------- tracing

interface Traced {
  jaxpr: ClosedJaxpr;
  /** The values the function closes over (its jaxpr's leading inputs). */
  consts: NDArray[];
  outDef: TreeDef;
}

/** Structural equality of two jaxprs without constants (variables matched by position). */
function sameJaxpr(a: ClosedJaxpr, b: ClosedJaxpr): boolean {
  if (a === b) return true;
  const ja = a.jaxpr;
  const jb = b.jaxpr;
  if (a.consts.length || b.consts.length || !sameAvals(ja.inAvals, jb.inAvals) || ja.eqns.length !== jb.eqns.length || ja.outs.length !== jb.outs.length)
    return false;
  const m = new Map<Var, Var>();
  ja.inVars.forEach((v, i) => m.set(v, jb.inVars[i]!));
  const atomEq = (x: Atom, y: Atom): boolean => {
    if (x instanceof Literal) return y instanceof Literal && x.aval.equals(y.aval) && Object.is(x.value, y.value);
    return y instanceof Var && m.get(x) === y;
  };
  const paramEq = (x: unknown, y: unknown): boolean => {
    if (x instanceof ClosedJaxpr) return y instanceof ClosedJaxpr && sameJaxpr(x, y);
    if (Array.isArray(x)) return Array.isArray(y) && x.length === y.length && x.every((v, i) => paramEq(v, y[i]));
    if (x !== null && typeof x === "object" && Object.getPrototypeOf(x) === Object.prototype) {
      if (y === null || typeof y !== "object") return false;
      const kx = Object.keys(x);
      return kx.length === Object.keys(y).length && kx.every((k) => paramEq((x as Params)[k], (y as Params)[k]));
    }
    return Object.is(x, y);
  };
  for (let i = 0; i < ja.eqns.length; i++) {
    const ea = ja.eqns[i]!;
    const eb = jb.eqns[i]!;
    if (ea.primitive !== eb.primitive || ea.inputs.length !== eb.inputs.length || ea.outVars.length !== eb.outVars.length) return false;
    if (!ea.inputs.every((x, k) => atomEq(x, eb.inputs[k]!)) || !paramEq(ea.params, eb.params)) return false;
    ea.outVars.forEach((v, k) => m.set(v, eb.outVars[k]!));
    if (!ea.outVars.every((v, k) => v.aval.equals(eb.outVars[k]!.aval))) return false;
  }
  return ja.outs.every((x, k) => atomEq(x, jb.outs[k]!));
}

/**
 * Earlier traces per function: a new trace structurally equal to an earlier one is
 * replaced by it, so its derived jaxprs (JVP, partial evaluation, ...) and compiled
 * executables are reused when the same loop runs again eagerly (each step of a
 * training loop). The function is traced every time, so closed-over values are
 * always current; they are operands, not constants.
 */
const traces = new WeakMap<object, LruCache<string, ClosedJaxpr[]>>();
const MAX_TRACES_PER_FUNCTION = 8;
function intern(f: object, cj: ClosedJaxpr): ClosedJaxpr {
  let byKey = traces.get(f);
  if (!byKey) traces.set(f, (byKey = new LruCache()));
  const key = `${fmtAvals(cj.inAvals)}->${fmtAvals(cj.outAvals)}`;
  let list = byKey.get(key);
  if (!list) byKey.set(key, (list = []));
  const hit = list.find((c) => sameJaxpr(c, cj));
  if (hit) return hit;
  if (list.length >= MAX_TRACES_PER_FUNCTION) list.shift();
  list.push(cj);
  return cj;
}

/**
 * Traces `body` (a flat function returning output leaves and their structure) on
 * `avals`; every constant becomes a leading input (closure conversion).
 */
function trace(f: object, body: (xs: NDArray[]) => [NDArray[], TreeDef], avals: readonly ShapedArray[]): Traced {
  let outDef: TreeDef | undefined;
  const traced = traceToJaxpr((xs) => {
    const [outs, def] = body(xs);
    outDef = def;
    return outs;
  }, avals);
  const { jaxpr, consts } = closureConvert(traced, true);
  // repeated computations merged before any rule sees the body, so a value the body
  // returns twice (a scan's new carry that is also its y) is one value to differentiate
  return { jaxpr: intern(f, dce(cse(jaxpr))), consts, outDef: outDef! };
}

function checkFunction(op: string, what: string, f: unknown): void {
  if (typeof f !== "function") throw new Error(`${op}: ${what} must be a function, got ${f === null ? "null" : typeof f}.`);
}

/** Output leaves of `out` and their structure. */
function leavesOf(op: string, out: unknown): [NDArray[], TreeDef] {
  const [l, d] = flatten(out);
  return [leavesToArrays(op, l, "result"), d];
}

/** Descriptions of two pytrees' types for an error: their leaf types, and their structures when those differ. */
function typesOf(a: [TreeDef, readonly ShapedArray[]], b: [TreeDef, readonly ShapedArray[]]): [string, string] {
  const same = a[0].equals(b[0]);
  const one = ([def, avals]: [TreeDef, readonly ShapedArray[]]): string => `${fmtAvals(avals)}${same ? "" : ` with structure ${def.toString()}`}`;
  return [one(a), one(b)];
}

// ---------------------------------------------------------------- cond / switch

function branchIndex(op: string, index: unknown, n: number): NDArray {
  if (typeof index === "number") {
    if (!Number.isInteger(index)) throw new Error(`${op}: the index must be an integer (a JS integer or a 0-d int32 array), got ${index}.`);
    return asArray(Math.min(Math.max(index, 0), n - 1), "int32");
  }
  if (!(index instanceof NDArray))
    throw new Error(`${op}: the index must be a 0-d int32 array or a JS integer, got ${index === null ? "null" : typeof index}.`);
  if (index.dtype !== "int32" || index.ndim !== 0) {
    throw new Error(
      `${op}: the index must be a 0-d int32 array, got ${index.aval.toString()}; ${index.ndim !== 0 ? "index or reduce it to a scalar" : 'convert it with astype("int32")'}${index.ndim !== 0 ? " (under vmap, a batched index is allowed: map over the batch instead of passing it whole)" : ""}.`,
    );
  }
  return minimum(maximum(index, 0), n - 1);
}

function switchImpl(op: string, names: (k: number) => string, index: NDArray, branches: readonly ((...args: any[]) => any)[], operands: unknown[]): any {
  const [leaves, inDef] = flattenArgs(op, operands);
  const avals = leaves.map((l) => l.aval);
  const traced = branches.map((b, k) => {
    checkFunction(op, names(k), b);
    return trace(b, (xs) => leavesOf(op, b(...(unflatten(inDef, xs) as unknown[]))), avals);
  });
  const first = traced[0]!;
  traced.forEach((t, k) => {
    if (k === 0) return;
    if (!t.outDef.equals(first.outDef) || !sameAvals(t.jaxpr.outAvals, first.jaxpr.outAvals)) {
      const [ta, tb] = typesOf([first.outDef, first.jaxpr.outAvals], [t.outDef, t.jaxpr.outAvals]);
      throw new Error(
        `${op}: ${names(0)} returns ${ta} but ${names(k)} returns ${tb}; every branch must return the same structure, shapes and dtypes (cast with astype, or broadcast).`,
      );
    }
  });
  // every branch takes the closed-over values of all branches, then the operands
  const allConsts = traced.flatMap((t) => t.consts);
  let offset = 0;
  const padded = traced.map((t) => {
    const j = t.jaxpr.jaxpr;
    const n = t.consts.length;
    const before = allConsts.slice(0, offset).map((c) => new Var(c.aval));
    const after = allConsts.slice(offset + n).map((c) => new Var(c.aval));
    offset += n;
    if (!before.length && !after.length) return t.jaxpr;
    return new ClosedJaxpr(new Jaxpr(j.constVars, [...before, ...j.inVars.slice(0, n), ...after, ...j.inVars.slice(n)], j.eqns, j.outs), t.jaxpr.consts);
  });
  const outs = bind(cond_p, [index, ...allConsts, ...leaves], { branches: padded });
  return unflatten(first.outDef, outs);
}

/**
 * Runs `trueFn(...operands)` when `pred` is true and `falseFn(...operands)` otherwise,
 * as `jax.lax.cond`. Both branches are traced and must return the same structure,
 * shapes and dtypes; only the chosen one runs. Differentiable; under `vmap` with a
 * batched `pred` both run and a select picks per example.
 *
 * @param pred - a 0-d bool array, a JS boolean, or a number (its truth value).
 * @param trueFn - the branch for a true `pred`.
 * @param falseFn - the branch for a false `pred`.
 * @param operands - the branches' arguments (any pytrees).
 * @example
 * ```ts
 * import { lax, jit, grad, np } from "cotangent";
 * const f = (x: np.Array) => lax.cond(np.greater(x, 0), (y) => np.multiply(y, 2), (y) => np.negative(y), x);
 * console.log(f(np.array(3)).item(), f(np.array(-3)).item()); // 6 3
 * console.log(jit(f)(np.array(-2)).item(), grad(f)(np.array(-2)).item()); // 2 -1
 * ```
 */
export function cond(pred: NDArray | boolean | number, trueFn: (...args: any[]) => any, falseFn: (...args: any[]) => any, ...operands: any[]): any {
  const op = "lax.cond";
  let p: NDArray;
  if (typeof pred === "boolean" || typeof pred === "number") p = asArray(Boolean(pred));
  else if (pred instanceof NDArray) {
    if (pred.ndim !== 0 || pred.dtype !== "bool") {
      throw new Error(
        `${op}: the predicate must be a 0-d bool array, got ${pred.aval.toString()}; ${pred.ndim !== 0 ? "reduce it to one value (np.all, np.any) or, for an elementwise choice, use np.where" : 'compare it, e.g. np.greater(x, 0), or convert with astype("bool")'}.`,
      );
    }
    p = pred;
  } else throw new Error(`${op}: the predicate must be a 0-d bool array, a JS boolean or a number, got ${pred === null ? "null" : typeof pred}.`);
  return switchImpl(op, (k) => (k === 1 ? "the true branch" : "the false branch"), convert(p, "int32"), [falseFn, trueFn], operands);
}

/**
 * Runs `branches[index](...operands)`, as `jax.lax.switch`; `index` is clamped to
 * the branch range. Every branch must return the same structure, shapes and dtypes.
 *
 * @param index - a 0-d int32 array or a JS integer.
 * @param branches - a non-empty JS array of functions of the operands.
 * @param operands - the branches' arguments (any pytrees).
 * @example
 * ```ts
 * import { lax, np } from "cotangent";
 * const fns = [(x: np.Array) => np.add(x, 1), (x: np.Array) => np.multiply(x, 10), (x: np.Array) => np.negative(x)];
 * console.log(lax.switch(np.array(1, { dtype: "int32" }), fns, np.array(2)).item()); // 20
 * console.log(lax.switch(7, fns, np.array(2)).item()); // -2
 * ```
 */
function switch_(index: NDArray | number, branches: readonly ((...args: any[]) => any)[], ...operands: any[]): any {
  const op = "lax.switch";
  if (!Array.isArray(branches) || branches.length === 0)
    throw new Error(`${op}: branches must be a non-empty JS array of functions, got ${Array.isArray(branches) ? "an empty array" : typeof branches}.`);
  return switchImpl(op, (k) => `branch ${k}`, branchIndex(op, index, branches.length), branches, operands);
}
export { switch_ as switch };

// ---------------------------------------------------------------- scan / map

/** Options of {@link scan}. */
export interface ScanOptions {
  /** The number of steps; required when `xs` is null, else it must equal the leading axis of `xs`. */
  length?: number;
  /** Run from the last step to the first (the ys stay in step order). Default false. */
  reverse?: boolean;
  /** Steps per iteration of the compiled loop (accepted for JAX compatibility; a positive integer or boolean). Default 1. */
  unroll?: number | boolean;
}

/**
 * Loops `f` over the leading axis of `xs` while carrying a state, as `jax.lax.scan`:
 * `f(carry, x) → [carry, y]`; returns `[finalCarry, ys]` with the `y`s stacked on a
 * new leading axis. The body is traced once and compiled as one loop under `jit`.
 * Reverse-mode differentiable (the backward pass is a reverse scan).
 *
 * @param f - the body; it must return a carry of the same structure, shapes and dtypes.
 * @param init - the initial carry (any pytree).
 * @param xs - a pytree of arrays stacked on axis 0, or null (then `opts.length` steps).
 * @param opts - `{ length?, reverse?, unroll? }`.
 * @example
 * ```ts
 * import { lax, grad, np } from "cotangent";
 * const cumsum = (xs: np.Array) => lax.scan((c: np.Array, x: np.Array) => [np.add(c, x), np.add(c, x)], np.array(0), xs);
 * const [total, partial] = cumsum(np.array([1, 2, 3]));
 * console.log(total.item(), partial.toJs()); // 6 [1, 3, 6]
 * const loss = (w: np.Array) => lax.scan((c: np.Array) => [np.multiply(c, w), null], np.array(1), null, { length: 3 })[0];
 * console.log(grad(loss)(np.array(2)).item()); // 12
 * ```
 */
export function scan<C, Y = any>(f: (carry: C, x: any) => readonly [unknown, Y], init: C, xs: unknown, opts: ScanOptions = {}): [C, Y] {
  const op = "lax.scan";
  const o = checkOptions(op, opts, "{ length: 10, reverse: true }", ["length", "reverse", "unroll"]);
  checkFunction(op, "f", f);
  if (o.reverse !== undefined && typeof o.reverse !== "boolean") throw new Error(`${op}: reverse must be a boolean, got ${typeof o.reverse}.`);
  const unroll = o.unroll === undefined || o.unroll === false ? 1 : o.unroll === true ? 0 : o.unroll;
  if (!Number.isInteger(unroll) || unroll < 0) throw new Error(`${op}: unroll must be a positive integer or a boolean, got ${String(o.unroll)}.`);
  const [carryLeaves, carryDef] = flattenArgs(op, [init]);
  const [xl, xsDef] = flatten(xs);
  const xLeaves = leavesToArrays(op, xl, "xs");
  let length = o.length;
  if (length !== undefined && (!Number.isInteger(length) || length < 0))
    throw new Error(`${op}: length must be a non-negative integer, got ${String(length)}.`);
  for (const [i, x] of xLeaves.entries()) {
    if (x.ndim === 0) throw new Error(`${op}: every leaf of xs must have a leading axis to scan over, but leaf ${i} is a scalar ${x.aval.toString()}.`);
    const n = x.shape[0]!;
    if (length === undefined) length = n;
    else if (n !== length)
      throw new Error(
        `${op}: xs leaf ${i} has leading axis ${n} but ${o.length !== undefined ? `opts.length is ${o.length}` : `leaf 0 has ${length}`}; every leaf of xs must have the same leading length.`,
      );
  }
  if (length === undefined)
    throw new Error(`${op}: xs is null (or has no arrays), so the number of steps is unknown; pass opts.length, e.g. lax.scan(f, init, null, { length: 10 }).`);
  const carryAvals = carryLeaves.map((l) => l.aval);
  const xAvals = xLeaves.map((x) => new ShapedArray(x.shape.slice(1), x.dtype));
  const nk = carryLeaves.length;
  let yDef: TreeDef | undefined;
  const traced = trace(
    f,
    (ins) => {
      const out = f((unflatten(carryDef, ins.slice(0, nk)) as unknown[])[0] as C, unflatten(xsDef, ins.slice(nk)));
      if (!Array.isArray(out) || out.length !== 2)
        throw new Error(
          `${op}: f must return [newCarry, y] (a JS array of two; y may be null), got ${Array.isArray(out) ? `an array of length ${out.length}` : typeof out}.`,
        );
      const [cl, cd] = flattenArgs(op, [out[0]]);
      if (
        !cd.equals(carryDef) ||
        !sameAvals(
          cl.map((c) => c.aval),
          carryAvals,
        )
      ) {
        const [ta, tb] = typesOf([cd, cl.map((c) => c.aval)], [carryDef, carryAvals]);
        throw new Error(
          `${op}: the body's carry output has type ${ta} but its carry input has type ${tb}; the carry must keep its structure, shapes and dtypes (cast with astype, or give the initial carry the type the body produces).`,
        );
      }
      const [yl, yd] = leavesOf(op, out[1]);
      yDef = yd;
      return [[...cl, ...yl], cd];
    },
    [...carryAvals, ...xAvals],
  );
  const outs = bind(scan_p, [...traced.consts, ...carryLeaves, ...xLeaves], {
    jaxpr: traced.jaxpr,
    numConsts: traced.consts.length,
    numCarry: nk,
    length,
    reverse: o.reverse ?? false,
    unroll,
  });
  const carry = (unflatten(carryDef, outs.slice(0, nk)) as unknown[])[0] as C;
  return [carry, unflatten(yDef!, outs.slice(nk)) as Y];
}

/**
 * Maps `f` over the leading axis of `xs` (a pytree), as `jax.lax.map`: a scan with no
 * carry, so `f` runs once per slice in a compiled loop; the results are stacked.
 *
 * @example
 * ```ts
 * import { lax, np } from "cotangent";
 * console.log(lax.map((row: np.Array) => np.sum(row), np.array([[1, 2], [3, 4]])).toJs()); // [3, 7]
 * ```
 */
export function map<Y = any>(f: (x: any) => Y, xs: unknown): Y {
  checkFunction("lax.map", "f", f);
  return scan((c: null, x: unknown) => [c, f(x)], null, xs)[1] as Y;
}

// ---------------------------------------------------------------- while / fori

/**
 * Repeats `bodyFn` while `condFn` is true, as `jax.lax.while_loop`: `condFn(val) →
 * bool scalar`, `bodyFn(val) → val` of the same structure, shapes and dtypes. The trip
 * count may depend on the data (it is compiled as one loop under `jit`).
 * Forward-mode differentiable (`jvp`, `jacfwd`); reverse mode throws an Error that
 * suggests `lax.scan` / `lax.foriLoop` with a static trip count, as JAX.
 *
 * @example
 * ```ts
 * import { lax, jit, np } from "cotangent";
 * // the first power of 2 above x
 * const f = jit((x: np.Array) => lax.whileLoop((v: np.Array) => np.lessEqual(v, x), (v: np.Array) => np.multiply(v, 2), np.array(1)));
 * console.log(f(np.array(100)).item()); // 128
 * ```
 */
export function whileLoop<T>(condFn: (val: T) => any, bodyFn: (val: T) => T, initVal: T): T {
  const op = "lax.whileLoop";
  checkFunction(op, "condFn", condFn);
  checkFunction(op, "bodyFn", bodyFn);
  const [leaves, def] = flattenArgs(op, [initVal]);
  const avals = leaves.map((l) => l.aval);
  const c = trace(
    condFn,
    (xs) => {
      const [out, od] = leavesOf(op, condFn((unflatten(def, xs) as unknown[])[0] as T));
      if (out.length !== 1 || out[0]!.dtype !== "bool" || out[0]!.ndim !== 0) {
        throw new Error(
          `${op}: condFn must return a 0-d bool array, got ${fmtAvals(out.map((x) => x.aval))}${out.length === 1 ? "" : ` (structure ${od.toString()})`}; compare, e.g. np.less(i, n), and reduce arrays with np.all/np.any.`,
        );
      }
      return [out, od];
    },
    avals,
  );
  const b = trace(
    bodyFn,
    (xs) => {
      const [out, od] = flattenArgs(op, [bodyFn((unflatten(def, xs) as unknown[])[0] as T)]);
      if (
        !od.equals(def) ||
        !sameAvals(
          out.map((x) => x.aval),
          avals,
        )
      ) {
        const [ta, tb] = typesOf([od, out.map((x) => x.aval)], [def, avals]);
        throw new Error(
          `${op}: bodyFn returns ${ta} but the loop value has type ${tb}; the body must keep the structure, shapes and dtypes (cast with astype, or give the initial value the type the body produces).`,
        );
      }
      return [out, od];
    },
    avals,
  );
  const outs = bind(while_p, [...c.consts, ...b.consts, ...leaves], {
    cond: c.jaxpr,
    body: b.jaxpr,
    condNConsts: c.consts.length,
    bodyNConsts: b.consts.length,
  });
  return (unflatten(def, outs) as unknown[])[0] as T;
}

/**
 * Runs `val = bodyFn(i, val)` for `i` from `lower` to `upper - 1`, as
 * `jax.lax.fori_loop`; `i` is a 0-d int32 array. With JS-number bounds it is a `scan`
 * (reverse-differentiable); with array bounds a `whileLoop` (forward mode only).
 *
 * @example
 * ```ts
 * import { lax, grad, np } from "cotangent";
 * const pow = (x: np.Array) => lax.foriLoop(0, 5, (_i: np.Array, v: np.Array) => np.multiply(v, x), np.array(1));
 * console.log(pow(np.array(2)).item(), grad(pow)(np.array(2)).item()); // 32 80
 * const sumTo = (n: np.Array) => lax.foriLoop(np.array(0, { dtype: "int32" }), n, (i: np.Array, s: np.Array) => np.add(s, i), np.array(0, { dtype: "int32" }));
 * console.log(sumTo(np.array(5, { dtype: "int32" })).item()); // 10
 * ```
 */
export function foriLoop<T>(lower: number | NDArray, upper: number | NDArray, bodyFn: (i: NDArray, val: T) => T, initVal: T): T {
  const op = "lax.foriLoop";
  checkFunction(op, "bodyFn", bodyFn);
  if (typeof lower === "number" && typeof upper === "number") {
    if (!Number.isInteger(lower) || !Number.isInteger(upper)) throw new Error(`${op}: the bounds must be integers, got ${lower} and ${upper}.`);
    const [, v] = scan(
      (c: [NDArray, T]): [[NDArray, T], null] => [[add(c[0], 1), bodyFn(c[0], c[1])], null],
      [asArray(lower, "int32"), initVal] as [NDArray, T],
      null,
      { length: Math.max(0, upper - lower) },
    )[0];
    return v;
  }
  const bound = (b: number | NDArray, name: string): NDArray => {
    const a = typeof b === "number" ? asArray(b, "int32") : b;
    if (!(a instanceof NDArray) || a.ndim !== 0 || a.dtype !== "int32")
      throw new Error(`${op}: ${name} must be a JS integer or a 0-d int32 array, got ${a instanceof NDArray ? a.aval.toString() : typeof a}.`);
    return a;
  };
  const lo = bound(lower, "lower");
  const hi = bound(upper, "upper");
  const [, , v] = whileLoop(
    (c: [NDArray, NDArray, T]) => less(c[0], c[1]),
    (c) => [add(c[0], 1), c[1], bodyFn(c[0], c[2])],
    [lo, hi, initVal] as [NDArray, NDArray, T],
  );
  return v;
}

// ---------------------------------------------------------------- checkpoint

/** Options of {@link checkpoint}. */
export interface CheckpointOptions {
  /**
   * Which intermediate values are saved for the backward pass: `"nothing_saveable"`
   * (the default: everything is recomputed from the inputs), `"dots_saveable"` (the
   * results of matrix products are kept, the rest recomputed), `"everything_saveable"`
   * (as without checkpoint).
   */
  policy?: RematPolicy;
  /** Arguments that are plain JS values, passed through untraced. */
  staticArgnums?: number[];
}

/**
 * `f` with the same values and derivatives, whose intermediate values are recomputed
 * in the backward pass instead of stored (JAX's `jax.checkpoint`): reverse mode keeps
 * only `f`'s inputs (and what `opts.policy` saves), trading compute for memory.
 *
 * @param f - the function (of arrays or pytrees).
 * @param opts - `{ policy?, staticArgnums? }`.
 * @example
 * ```ts
 * import { checkpoint, grad, np } from "cotangent";
 * const layer = checkpoint((x: np.Array) => np.sin(np.sin(x)));
 * console.log(grad((x: np.Array) => np.sum(layer(x)))(np.array([0])).toJs()); // [1]
 * ```
 */
export function checkpoint<F extends (...args: any[]) => any>(f: F, opts: CheckpointOptions = {}): F {
  const op = "checkpoint";
  checkFunction(op, "f", f);
  const o = checkOptions(op, opts, '{ policy: "dots_saveable" }', ["policy", "staticArgnums"]);
  const policy = o.policy ?? "nothing_saveable";
  if (!REMAT_POLICIES.includes(policy))
    throw new Error(`${op}: unknown policy ${JSON.stringify(policy)}; use one of ${REMAT_POLICIES.map((p) => JSON.stringify(p)).join(", ")}.`);
  const statics = new Set(o.staticArgnums ?? []);
  for (const s of statics) if (!Number.isInteger(s) || s < 0) throw new Error(`${op}: staticArgnums must be non-negative integers, got ${String(s)}.`);
  const wrapped = (...args: unknown[]): unknown => {
    if (isEager()) return f(...args);
    for (const s of statics)
      if (s >= args.length) throw new Error(`${op}: staticArgnums contains ${s} but the function was called with ${args.length} argument(s).`);
    const dyn = args.filter((_, i) => !statics.has(i));
    const [leaves, inDef] = flattenArgs(op, dyn);
    const t = trace(
      f,
      (xs) => {
        const d = unflatten(inDef, xs) as unknown[];
        let k = 0;
        return leavesOf(op, f(...args.map((a, i) => (statics.has(i) ? a : d[k++]))));
      },
      leaves.map((l) => l.aval),
    );
    const outs = bind(remat_p, [...t.consts, ...leaves], { jaxpr: t.jaxpr, policy });
    return unflatten(t.outDef, outs);
  };
  return wrapped as F;
}

/**
 * Alias of {@link checkpoint} (JAX's `jax.remat`).
 *
 * @example
 * ```ts
 * import { remat, grad, np } from "cotangent";
 * console.log(grad(remat((x: np.Array) => np.multiply(x, x)))(np.array(3)).item()); // 6
 * ```
 */
export const remat = checkpoint;
