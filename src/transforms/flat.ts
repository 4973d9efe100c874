/** Flattening user functions over pytrees into functions over lists of arrays. @module */
import { NDArray } from "../core/array.js";
import { type TreeDef, flatten, unflatten } from "../core/tree.js";
import { asArray } from "../primitives/elementwise.js";

/** Converts pytree leaves to arrays (JS numbers become float32 scalars, booleans bool). */
export function leavesToArrays(op: string, leaves: readonly unknown[], what = "argument"): NDArray[] {
  return leaves.map((l) => {
    if (l instanceof NDArray) return l;
    if (typeof l === "number" || typeof l === "boolean") return asArray(l);
    throw new Error(`${op}: every leaf of ${/^[aeiou]/.test(what) ? "an" : "a"} ${what} must be an array or a number, got ${l === null ? "null" : typeof l === "object" ? (l as object).constructor?.name : typeof l}.`);
  });
}

/** Flattens a list of arguments. */
export function flattenArgs(op: string, args: readonly unknown[]): [NDArray[], TreeDef] {
  const [leaves, def] = flatten([...args]);
  return [leavesToArrays(op, leaves), def];
}

/** A flat version of `f`, plus a cell that receives the output structure after a call. */
export function flattenFun(op: string, f: (...args: any[]) => unknown, inDef: TreeDef): [(xs: NDArray[]) => NDArray[], { outDef?: TreeDef }] {
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

export function normalizeArgnums(op: string, argnums: number | readonly number[] | undefined, nargs: number): number[] {
  const list = argnums === undefined ? [0] : typeof argnums === "number" ? [argnums] : [...argnums];
  return list.map((a) => {
    const b = a < 0 ? a + nargs : a;
    if (!Number.isInteger(b) || b < 0 || b >= nargs) throw new Error(`${op}: argnums ${JSON.stringify(argnums)} is out of range for a call with ${nargs} argument(s).`);
    return b;
  });
}
