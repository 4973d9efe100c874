/**
 * Pytree helpers for the optimizers: leaf paths for error messages and structure
 * checks between gradients, parameters and optimizer state.
 * @module
 */
import { NDArray } from "../core/array.js";
import { fmtShape } from "../core/shape.js";
import { type PyTree, flatten, flattenWithPath, unflatten } from "../core/tree.js";
import * as np from "../numpy/index.js";

/** The path of every leaf, in `tree.flatten` order (`params.layers[0].weight` style). */
export function leafPaths(tree: unknown, root = ""): string[] {
  return flattenWithPath(tree)[0].map(
    ([path]) => path.reduce<string>((s, k) => (typeof k === "number" ? `${s}[${k}]` : s ? `${s}.${k}` : k), root) || "(root)",
  );
}

/** Converts a leaf to an array (numbers become float32 scalars). */
export function leafArray(op: string, path: string, x: unknown): NDArray {
  if (x instanceof NDArray) return x;
  if (typeof x === "number") return np.array(x);
  throw new Error(`${op}: the leaf at ${path} is not an array or a number (${typeof x}).`);
}

/**
 * Flattens `a` and `b` and checks they have the same structure and leaf shapes;
 * the message names both trees, the first differing path and the fix.
 */
export function zipTrees(
  op: string,
  a: unknown,
  aName: string,
  b: unknown,
  bName: string,
): { aLeaves: NDArray[]; bLeaves: NDArray[]; rebuild: (leaves: NDArray[]) => PyTree<NDArray> } {
  const [al, ad] = flatten(a);
  const [bl, bd] = flatten(b);
  const ap = leafPaths(a);
  if (!ad.equals(bd)) {
    const bp = leafPaths(b);
    const onlyA = ap.filter((p) => !bp.includes(p));
    const onlyB = bp.filter((p) => !ap.includes(p));
    const detail = [
      onlyA.length ? `only in ${aName}: ${onlyA.slice(0, 5).join(", ")}` : "",
      onlyB.length ? `only in ${bName}: ${onlyB.slice(0, 5).join(", ")}` : "",
    ]
      .filter(Boolean)
      .join("; ");
    throw new Error(
      `${op}: ${aName} and ${bName} have different tree structures (${ad.toString()} vs ${bd.toString()})${detail ? `: ${detail}` : ""}. ` +
        `They must have the structure of the parameters the optimizer was initialized with; compute gradients with grad(loss)(params) for the same params object.`,
    );
  }
  const aLeaves = al.map((x, i) => leafArray(op, `${aName} ${ap[i]}`, x));
  const bLeaves = bl.map((x, i) => leafArray(op, `${bName} ${ap[i]}`, x));
  aLeaves.forEach((x, i) => {
    const y = bLeaves[i]!;
    if (x.ndim !== y.ndim || x.shape.some((d, j) => d !== y.shape[j])) {
      throw new Error(`${op}: at ${ap[i]}, ${aName} has shape ${fmtShape(x.shape)} but ${bName} has shape ${fmtShape(y.shape)}; they must match.`);
    }
  });
  return { aLeaves, bLeaves, rebuild: (leaves) => unflatten(ad, leaves) as PyTree<NDArray> };
}
