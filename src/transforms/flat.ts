/** Flattening user functions over pytrees into functions over lists of arrays. @module */
import { NDArray } from "../core/array.js";
import { checkOptions, describeValue } from "../core/shape.js";
import type { Fn } from "./types.js";
import { type TreeDef, flatten, unflatten } from "../core/tree.js";
import { asArray } from "../primitives/elementwise.js";

/** Converts pytree leaves to arrays (JS numbers become float32 scalars, booleans bool). */
export function leavesToArrays(op: string, leaves: readonly unknown[], what = "argument"): NDArray[] {
  return leaves.map((l) => {
    if (l instanceof NDArray) return l;
    if (isThenable(l)) throw promiseError(op, l);
    if (typeof l === "number" || typeof l === "boolean") return asArray(l);
    throw new Error(
      `${op}: every leaf of ${/^[aeiou]/.test(what) ? "an" : "a"} ${what} must be an array or a number, got ${l === null ? "null" : typeof l === "object" ? (l as object).constructor?.name : typeof l}.`,
    );
  });
}

/** Flattens a list of arguments. */
export function flattenArgs(op: string, args: readonly unknown[]): [NDArray[], TreeDef] {
  const [leaves, def] = flatten([...args]);
  return [leavesToArrays(op, leaves), def];
}

/** A flat version of `f`, plus a cell that receives the output structure after a call. */
export function flattenFun(op: string, f: Fn, inDef: TreeDef): [(xs: NDArray[]) => NDArray[], { outDef?: TreeDef }] {
  if (typeof f !== "function") throw new Error(`${op}: expects a function, got ${typeof f}; pass the function itself, e.g. ${op}((x) => np.sin(x)).`);
  const store: { outDef?: TreeDef } = {};
  const flat = (xs: NDArray[]): NDArray[] => {
    const args = unflatten(inDef, xs) as unknown[];
    const out = f(...args);
    const [leaves, def] = flatten(out);
    store.outDef = def;
    return leavesToArrays(op, leaves, "result");
  };
  return [flat, store];
}

function isThenable(x: unknown): x is PromiseLike<unknown> {
  return (typeof x === "object" || typeof x === "function") && x !== null && typeof (x as { then?: unknown }).then === "function";
}

/**
 * The Error for a function that returned a Promise (an async function). The promise
 * is given a rejection handler first, so that its failure (typically: a tracer used
 * after the transform ended) cannot become an unhandled rejection that ends the process.
 */
function promiseError(op: string, p: PromiseLike<unknown>): Error {
  Promise.resolve(p).catch(() => undefined);
  return new Error(
    `${op}: the function returned a Promise (is it async?); transforms need a synchronous function that returns arrays. Await what you need before calling the transform, and pass a function that computes with arrays synchronously.`,
  );
}

/** Throws the async-function Error (handling the promise) when `out` is a Promise. */
export function checkNotPromise(op: string, out: unknown): void {
  if (isThenable(out)) throw promiseError(op, out);
}

/** Throws at transform-creation time when `f` is not a function, naming the transform. */
export function checkFunction(op: string, f: unknown, example: string): void {
  if (typeof f !== "function") throw new Error(`${op}: expects a function to transform, got ${describeValue(f)}; pass the function itself, e.g. ${example}.`);
}

/**
 * Validates a transform's options object (unknown keys, with "did you mean") and its
 * `argnums` (integers, no repeats) and `hasAux` (a boolean) entries when present.
 */
export function checkTransformOptions<T extends object>(op: string, opts: T | undefined, example: string, allowed: readonly string[]): T {
  const o = checkOptions(op, opts, example, allowed) as T & { argnums?: unknown; hasAux?: unknown };
  if ("argnums" in o && o.argnums !== undefined) checkArgnums(op, o.argnums);
  if ("hasAux" in o && o.hasAux !== undefined && typeof o.hasAux !== "boolean")
    throw new Error(`${op}: hasAux must be true or false, got ${describeValue(o.hasAux)}.`);
  return o;
}

/** `argnums` is an integer or a JS array of distinct integers. */
export function checkArgnums(op: string, argnums: unknown, name = "argnums"): void {
  const list = Array.isArray(argnums) ? (argnums as unknown[]) : [argnums];
  if (!list.every((a) => Number.isInteger(a))) throw new Error(`${op}: ${name} must be an integer or a JS array of integers, got ${describeValue(argnums)}.`);
  const seen = new Set<number>();
  for (const a of list as number[]) {
    if (seen.has(a)) throw new Error(`${op}: ${name} ${JSON.stringify(argnums)} lists argument ${a} twice; list each argument once.`);
    seen.add(a);
  }
}

export function normalizeArgnums(op: string, argnums: number | readonly number[] | undefined, nargs: number, name = "argnums"): number[] {
  const list = argnums === undefined ? [0] : typeof argnums === "number" ? [argnums] : [...argnums];
  const out = list.map((a) => {
    const b = a < 0 ? a + nargs : a;
    if (!Number.isInteger(b) || b < 0 || b >= nargs)
      throw new Error(`${op}: ${name} ${JSON.stringify(argnums)} is out of range for a call with ${nargs} argument(s).`);
    return b;
  });
  const dup = out.find((b, i) => out.indexOf(b) !== i);
  if (dup !== undefined)
    throw new Error(
      `${op}: ${name} ${JSON.stringify(argnums)} lists argument ${dup} twice (counting negative positions from the end); list each argument once.`,
    );
  return out;
}
