/** Linear algebra: matmul, dot, outer, and norms. @module */
import type { NDArray } from "../core/array.js";
import { isFloat } from "../core/dtype.js";
import { checkOptions, describeValue, fmtShape, normalizeAxes, normalizeAxis } from "../core/shape.js";
import { matmulRaw } from "../primitives/dot.js";
import * as E from "../primitives/elementwise.js";
import { type ArrayLike, asArray, promoteArgs } from "../primitives/elementwise.js";
import { keptShape, reduceMax, reduceMin, reduceSum } from "../primitives/reduce.js";
import { reshape } from "../primitives/shape.js";

/**
 * Matrix product with NumPy's rules: 1-d operands are promoted to a row / column and
 * the added axis removed; leading (batch) axes broadcast.
 * @example
 * ```ts
 * import { np } from "cotangent";
 * const a = np.array([[1, 2], [3, 4]]);
 * console.log(np.matmul(a, np.array([1, 1])).toJs()); // [3, 7]
 * console.log(np.matmul(np.ones([5, 2, 3]), np.ones([3, 4])).shape); // [5, 2, 4]
 * ```
 */
export function matmul(x: ArrayLike, y: ArrayLike): NDArray {
  const [a, b] = promoteArgs("matmul", x, y);
  if (a.ndim === 0 || b.ndim === 0) throw new Error(`matmul: operands must be at least 1-d, got shapes ${fmtShape(a.shape)} and ${fmtShape(b.shape)}; use np.multiply for scalars.`);
  if (a.dtype === "bool") throw new Error(`matmul: bool operands are not supported; convert with astype("float32").`);
  const a2 = a.ndim === 1 ? reshape(a, [1, a.shape[0]!]) : a;
  const b2 = b.ndim === 1 ? reshape(b, [b.shape[0]!, 1]) : b;
  const ka = a2.shape[a2.ndim - 1]!;
  const kb = b2.shape[b2.ndim - 2]!;
  if (ka !== kb) {
    throw new Error(`matmul: shapes ${fmtShape(a.shape)} and ${fmtShape(b.shape)} are not aligned: ${ka} (last axis of the first) != ${kb} (${b.ndim === 1 ? "length" : "second-to-last axis"} of the second). Transpose one operand or check the layer sizes.`);
  }
  const ba = a2.shape.slice(0, -2);
  const bb = b2.shape.slice(0, -2);
  for (let i = 1; i <= Math.min(ba.length, bb.length); i++) {
    const x = ba[ba.length - i]!;
    const y = bb[bb.length - i]!;
    if (x !== y && x !== 1 && y !== 1) {
      throw new Error(`matmul: the batch axes of shapes ${fmtShape(a.shape)} and ${fmtShape(b.shape)} cannot be broadcast together (${fmtShape(ba)} vs ${fmtShape(bb)}); batch axes must be equal or 1.`);
    }
  }
  let out = matmulRaw(a2, b2);
  if (a.ndim === 1) out = reshape(out, [...out.shape.slice(0, -2), out.shape[out.ndim - 1]!]);
  if (b.ndim === 1) out = reshape(out, out.shape.slice(0, -1));
  return out;
}

/**
 * Dot product: scalar for two vectors, matrix product for matrices, scaling for scalars.
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.dot(np.array([1, 2, 3]), np.array([4, 5, 6])).item()); // 32
 * ```
 */
export function dot(x: ArrayLike, y: ArrayLike): NDArray {
  const [a, b] = promoteArgs("dot", x, y);
  if (a.ndim === 0 || b.ndim === 0) return E.mul(a, b);
  if (b.ndim > 2) throw new Error(`dot: the second operand has shape ${fmtShape(b.shape)}; for stacks of matrices use np.matmul (NumPy's dot contracts differently there).`);
  return matmul(a, b);
}

/**
 * Outer product of two vectors (inputs are flattened).
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.outer(np.array([1, 2]), np.array([3, 4])).toJs()); // [[3, 4], [6, 8]]
 * ```
 */
export function outer(x: ArrayLike, y: ArrayLike): NDArray {
  const [a, b] = promoteArgs("outer", x, y);
  return E.mul(reshape(a, [a.size, 1]), reshape(b, [1, b.size]));
}

/** Options of `np.linalg.norm`. */
export interface NormOptions {
  /** Vector norms: any p, `Infinity`, `-Infinity`, 0. Matrix norms: `"fro"`, 1, -1, `Infinity`, `-Infinity`. */
  ord?: number | "fro";
  /** One axis (vector norm) or two (matrix norm); default: all axes (Frobenius / 2-norm). */
  axis?: number | [number, number];
  keepdims?: boolean;
}

/**
 * Vector or matrix norm, as `numpy.linalg.norm`. The default is the 2-norm of the
 * flattened array.
 * @example
 * ```ts
 * import { np } from "cotangent";
 * const v = np.array([3, -4]);
 * console.log(np.linalg.norm(v).item(), np.linalg.norm(v, { ord: 1 }).item(), np.linalg.norm(v, { ord: Infinity }).item()); // 5 7 4
 * ```
 */
export function norm(x: ArrayLike, opts: NormOptions = {}): NDArray {
  opts = checkOptions("linalg.norm", opts, `{ ord: 2, axis: -1 }`, ["ord", "axis", "keepdims"]);
  let a = asArray(x, undefined, "linalg.norm");
  if (!isFloat(a.dtype)) a = E.convert(a, "float32");
  const { ord } = opts;
  if (ord !== undefined && ord !== "fro" && (typeof ord !== "number" || Number.isNaN(ord))) throw new Error(`linalg.norm: ord must be a number, Infinity, -Infinity or "fro", got ${describeValue(ord)}.`);
  const axes = normalizeAxes("linalg.norm", opts.axis as number | number[] | undefined, a.ndim);
  const keep = (y: NDArray): NDArray => (opts.keepdims ? reshape(y, keptShape(a.aval.shape, axes)) : y);
  const frob = (): NDArray => E.sqrt(reduceSum(E.mul(a, a), axes));
  if (ord === undefined || (ord === "fro" && axes.length === 2)) return keep(frob());
  const isMatrix = opts.axis === undefined ? a.ndim === 2 : axes.length === 2;
  if (isMatrix) {
    if (axes.length !== 2) throw new Error(`linalg.norm: a matrix norm needs a 2-d array or two axes, got shape ${fmtShape(a.shape)}.`);
    // (row axis, column axis) in the order given, as NumPy: axis [1, 0] transposes the matrix
    const [r, c] = opts.axis === undefined ? [0, 1] : (opts.axis as number[]).map((ax) => normalizeAxis("linalg.norm", ax, a.ndim));
    const absA = E.abs(a);
    if (ord === 1 || ord === -1) {
      // largest (smallest) absolute column sum
      const colSums = reduceSum(absA, [r!]);
      const red = ord === 1 ? reduceMax : reduceMin;
      return keep(red(colSums, [c! > r! ? c! - 1 : c!]));
    }
    if (ord === Infinity || ord === -Infinity) {
      // largest (smallest) absolute row sum
      const rowSums = reduceSum(absA, [c!]);
      const red = ord === Infinity ? reduceMax : reduceMin;
      return keep(red(rowSums, [r! > c! ? r! - 1 : r!]));
    }
    throw new Error(`linalg.norm: matrix norm ord=${String(ord)} is not supported (it needs a singular value decomposition); use "fro", 1, -1, Infinity or -Infinity.`);
  }
  if (axes.length !== 1 && a.ndim !== 1) throw new Error(`linalg.norm: ord=${String(ord)} needs a vector: pass one axis, got shape ${fmtShape(a.shape)}.`);
  if (ord === "fro") throw new Error(`linalg.norm: ord "fro" is a matrix norm; pass two axes or a 2-d array.`);
  const absA = E.abs(a);
  if (ord === Infinity) return keep(reduceMax(absA, axes));
  if (ord === -Infinity) return keep(reduceMin(absA, axes));
  if (ord === 0) return keep(reduceSum(E.convert(E.notEqual(a, 0), a.dtype), axes));
  if (ord === 1) return keep(reduceSum(absA, axes));
  if (ord === 2) return keep(frob());
  return keep(E.power(reduceSum(E.power(absA, ord), axes), 1 / ord));
}
