/** Linear algebra: matmul, dot, outer, and norms. @module */
import type { NDArray } from "../core/array.js";
import { isFloat } from "../core/dtype.js";
import { broadcastShapes, checkOptions, sizeOf, describeValue, fmtShape, normalizeAxes, normalizeAxis } from "../core/shape.js";
import { matmulRaw } from "../primitives/dot.js";
import {
  checkMatrix,
  cholesky as choleskyRaw,
  diagonalOf,
  eighFactor,
  iotaInt32,
  luFactor,
  permutationMatrix,
  qrFactor,
  svdFactor,
  triangularSolve,
} from "../primitives/linalg.js";
import * as E from "../primitives/elementwise.js";
import { type ArrayLike, asArray, promoteArgs } from "../primitives/elementwise.js";
import { keptShape, reduceMax, reduceMin, reduceSum } from "../primitives/reduce.js";
import { broadcastTo, concatenateArrays, reshape, slice, transpose } from "../primitives/shape.js";

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
  if (a.ndim === 0 || b.ndim === 0)
    throw new Error(`matmul: operands must be at least 1-d, got shapes ${fmtShape(a.shape)} and ${fmtShape(b.shape)}; use np.multiply for scalars.`);
  if (a.dtype === "bool") throw new Error(`matmul: bool operands are not supported; convert with astype("float32").`);
  const a2 = a.ndim === 1 ? reshape(a, [1, a.shape[0]!]) : a;
  const b2 = b.ndim === 1 ? reshape(b, [b.shape[0]!, 1]) : b;
  const ka = a2.shape[a2.ndim - 1]!;
  const kb = b2.shape[b2.ndim - 2]!;
  if (ka !== kb) {
    throw new Error(
      `matmul: shapes ${fmtShape(a.shape)} and ${fmtShape(b.shape)} are not aligned: ${ka} (last axis of the first) != ${kb} (${b.ndim === 1 ? "length" : "second-to-last axis"} of the second). Transpose one operand or check the layer sizes.`,
    );
  }
  const ba = a2.shape.slice(0, -2);
  const bb = b2.shape.slice(0, -2);
  for (let i = 1; i <= Math.min(ba.length, bb.length); i++) {
    const x = ba[ba.length - i]!;
    const y = bb[bb.length - i]!;
    if (x !== y && x !== 1 && y !== 1) {
      throw new Error(
        `matmul: the batch axes of shapes ${fmtShape(a.shape)} and ${fmtShape(b.shape)} cannot be broadcast together (${fmtShape(ba)} vs ${fmtShape(bb)}); batch axes must be equal or 1.`,
      );
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
  if (b.ndim > 2)
    throw new Error(`dot: the second operand has shape ${fmtShape(b.shape)}; for stacks of matrices use np.matmul (NumPy's dot contracts differently there).`);
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
  if (ord !== undefined && ord !== "fro" && (typeof ord !== "number" || Number.isNaN(ord)))
    throw new Error(`linalg.norm: ord must be a number, Infinity, -Infinity or "fro", got ${describeValue(ord)}.`);
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
    throw new Error(
      `linalg.norm: matrix norm ord=${String(ord)} is not supported (it needs a singular value decomposition); use "fro", 1, -1, Infinity or -Infinity.`,
    );
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

// ------------------------------------------------------------------ decompositions and solvers

/** A float matrix operand (rank >= 2; square when asked) of a `np.linalg` function, or an Error naming it and the shape. */
function matrixArg(op: string, x: ArrayLike, square: boolean): NDArray {
  const a = asArray(x, undefined, op);
  checkMatrix(op, a.aval, square);
  return a;
}

/** `a` and `b` with their batch axes (all but the last `keepA` / `keepB`) broadcast to a common shape. */
function broadcastBatch(op: string, a: NDArray, keepA: number, b: NDArray, keepB: number): [NDArray, NDArray] {
  const ba = a.shape.slice(0, a.ndim - keepA);
  const bb = b.shape.slice(0, b.ndim - keepB);
  let batch: number[];
  try {
    batch = broadcastShapes(op, ba, bb);
  } catch {
    throw new Error(
      `${op}: the batch axes of shapes ${fmtShape(a.shape)} and ${fmtShape(b.shape)} cannot be broadcast together (${fmtShape(ba)} vs ${fmtShape(bb)}).`,
    );
  }
  return [broadcastTo(a, [...batch, ...a.shape.slice(a.ndim - keepA)]), broadcastTo(b, [...batch, ...b.shape.slice(b.ndim - keepB)])];
}

/** The right-hand side of a solve as matrices `[..., n, k]`, and how to give the result back its shape. */
function rhsMatrix(op: string, a: NDArray, b: NDArray, vector: boolean): [NDArray, NDArray, (x: NDArray) => NDArray] {
  const n = a.shape[a.ndim - 1]!;
  const bm = vector ? reshape(b, [...b.shape, 1]) : b;
  if (bm.ndim < 2 || bm.shape[bm.ndim - 2] !== n) {
    throw new Error(
      `${op}: a of shape ${fmtShape(a.shape)} and b of shape ${fmtShape(b.shape)} do not match: b needs ${n} ${vector ? "elements in its last axis" : "rows (its second-to-last axis)"}.`,
    );
  }
  const unvector = (x: NDArray): NDArray => (vector ? reshape(x, x.shape.slice(0, -1)) : x);
  if (a.ndim === 2 && bm.ndim > 2) {
    // one matrix, a stack of right-hand sides: solve them all as the columns of one [n, batch·k] matrix
    const batch = bm.shape.slice(0, -2);
    const k = bm.shape[bm.ndim - 1]!;
    const nb = bm.ndim - 2;
    const toFront = [nb, ...batch.map((_, i) => i), nb + 1];
    const folded = reshape(transpose(bm, toFront), [n, sizeOf(batch) * k]);
    const fromFront = [...batch.map((_, i) => i + 1), 0, nb + 1];
    return [a, folded, (x) => unvector(transpose(reshape(x, [n, ...batch, k]), fromFront))];
  }
  const [a2, b2] = broadcastBatch(op, a, 2, bm, 2);
  return [a2, b2, unvector];
}

/** Solves `A X = B` from A's LU factors (for broadcast-equal batch axes); `b` null stands for the identity. */
function luSolve(a: NDArray, b: NDArray | null): NDArray {
  const [lu, , perm] = luFactor(a);
  const p = permutationMatrix(perm, a.dtype);
  const pb = b === null ? p : matmulRaw(p, b);
  const y = triangularSolve(lu, pb, { leftSide: true, lower: true, transposeA: false, unitDiagonal: true });
  return triangularSolve(lu, y, { leftSide: true, lower: false, transposeA: false, unitDiagonal: false });
}

/**
 * Solves `a @ x = b` for x, as `numpy.linalg.solve` (LU with partial pivoting): `a` is
 * `[..., n, n]`; `b` is `[..., n, k]`, or a vector `[n]` (NumPy 2's rule: 1-d `b` is a
 * vector). Batch axes broadcast. A singular `a` gives inf/NaN (NumPy raises; JAX does
 * the same as here). Differentiable in both arguments.
 * @example
 * ```ts
 * import { np } from "cotangent";
 * const a = np.array([[3, 1], [1, 2]], { dtype: "float64" });
 * console.log(np.linalg.solve(a, np.array([9, 8], { dtype: "float64" })).toJs()); // [2, 3]
 * ```
 */
export function solve(a: ArrayLike, b: ArrayLike): NDArray {
  const [x, y] = promoteArgs("linalg.solve", a, b);
  const A = matrixArg("linalg.solve", x, true);
  if (!isFloat(y.dtype) || y.ndim === 0) throw new Error(`linalg.solve: b must be a float vector or matrix, got ${y.aval.toString()}.`);
  const [a2, b2, back] = rhsMatrix("linalg.solve", A, y, y.ndim === 1);
  return back(luSolve(a2, b2));
}

/**
 * The inverse of each square matrix, as `numpy.linalg.inv` (an LU solve against the
 * identity). A singular matrix gives inf/NaN entries instead of NumPy's exception.
 * @example
 * ```ts
 * import { np } from "cotangent";
 * const a = np.array([[2, 0], [0, 4]], { dtype: "float64" });
 * console.log(np.linalg.inv(a).toJs()); // [[0.5, 0], [0, 0.25]]
 * ```
 */
export function inv(a: ArrayLike): NDArray {
  const A = matrixArg("linalg.inv", a, true);
  return luSolve(A, null);
}

/** `[sign, logabsdet]` and the parity of the row swaps from LU factors. */
function luDeterminantParts(a: NDArray): { diag: NDArray; swapSign: NDArray } {
  const [lu, pivots] = luFactor(a);
  const n = a.shape[a.ndim - 1]!;
  const iota = iotaInt32(n);
  const swaps = reduceSum(E.convert(E.notEqual(pivots, iota), a.dtype), [pivots.ndim - 1]);
  return { diag: diagonalOf(lu), swapSign: parityToSign(swaps) };
}
/** `(-1)^k` for integer-valued k. */
function parityToSign(k: NDArray): NDArray {
  const odd = E.sub(k, E.mul(E.floor(E.mul(k, 0.5)), 2));
  return E.sub(1, E.mul(odd, 2));
}

/**
 * Sign and natural log of the absolute determinant, `[sign, logabsdet]`, as
 * `numpy.linalg.slogdet` (from the LU factorization; stable where `det` over- or
 * underflows). A singular matrix gives sign 0 and logabsdet -inf. `logabsdet` is
 * differentiable (its gradient is `inv(a)ᵀ`).
 * @example
 * ```ts
 * import { np } from "cotangent";
 * const [sign, logdet] = np.linalg.slogdet(np.array([[0, 2], [3, 0]], { dtype: "float64" }));
 * console.log(sign.item(), Math.exp(logdet.item()).toFixed(6)); // -1 6.000000
 * ```
 */
export function slogdet(a: ArrayLike): [NDArray, NDArray] {
  const A = matrixArg("linalg.slogdet", a, true);
  const { diag, swapSign } = luDeterminantParts(A);
  const last = diag.ndim - 1;
  const logabsdet = reduceSum(E.log(E.abs(diag)), [last]);
  const d = E.stopGradientArray(diag);
  const negatives = reduceSum(E.convert(E.less(d, 0), A.dtype), [last]);
  const nonzero = E.convert(E.equal(reduceSum(E.convert(E.equal(d, 0), A.dtype), [last]), 0), A.dtype);
  return [E.mul(E.mul(swapSign, parityToSign(negatives)), nonzero), logabsdet];
}

/**
 * The determinant of each square matrix, as `numpy.linalg.det`: the product of U's
 * diagonal from the LU factorization, signed by the row swaps. Differentiable
 * (`d det = det · tr(a⁻¹ ȧ)` for a nonsingular `a`; the derivative at a singular
 * matrix is NaN).
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.linalg.det(np.array([[1, 2], [3, 4]], { dtype: "float64" })).item()); // -2
 * ```
 */
export function det(a: ArrayLike): NDArray {
  const A = matrixArg("linalg.det", a, true);
  const { diag, swapSign } = luDeterminantParts(A);
  return E.mul(swapSign, productOfLast(diag));
}

/**
 * The product over the last axis as a tree of halvings (log2(n) multiplications of
 * slices): the product rule then gives exact derivatives, zeros included, with a short
 * program even for large matrices.
 */
function productOfLast(x: NDArray): NDArray {
  if (x.shape[x.ndim - 1] === 0) return E.full(x.shape.slice(0, -1), 1, x.dtype);
  let y = x;
  while (y.shape[y.ndim - 1]! > 1) {
    const n = y.shape[y.ndim - 1]!;
    const h = Math.floor(n / 2);
    const lead = y.shape.slice(0, -1);
    const part = (from: number, to: number): NDArray => slice(y, [...lead.map(() => 0), from], [...lead, to]);
    const prodPairs = E.mul(part(0, h), part(h, 2 * h));
    y = n % 2 === 0 ? prodPairs : concatenateArrays([prodPairs, part(2 * h, n)], y.ndim - 1);
  }
  return reshape(y, y.shape.slice(0, -1));
}

/**
 * The lower-triangular Cholesky factor `L` with `a = L Lᵀ`, as `numpy.linalg.cholesky`.
 * As JAX, the factored matrix is the symmetric part `(a + aᵀ)/2` (so the gradient is
 * symmetric). A matrix that is not positive definite gives a factor full of NaN (NumPy
 * raises instead).
 * @example
 * ```ts
 * import { np } from "cotangent";
 * const a = np.array([[4, 2], [2, 5]], { dtype: "float64" });
 * console.log(np.linalg.cholesky(a).toJs()); // [[2, 0], [1, 2]]
 * ```
 */
export function cholesky(a: ArrayLike): NDArray {
  return choleskyRaw(matrixArg("linalg.cholesky", a, true));
}

/** Options of `np.linalg.qr`. */
export interface QrOptions {
  /** `"reduced"` (default: q is m×k, r is k×n, k = min(m, n)) or `"complete"` (q is m×m, r is m×n), as NumPy. */
  mode?: "reduced" | "complete";
}

/**
 * QR decomposition `[q, r]` with `a = q @ r`, q with orthonormal columns and r upper
 * triangular, as `numpy.linalg.qr` (Householder reflections, LAPACK's signs).
 * Differentiable for m >= n in reduced mode (as JAX).
 * @example
 * ```ts
 * import { np } from "cotangent";
 * const [q, r] = np.linalg.qr(np.array([[3, 1], [4, 2]], { dtype: "float64" }));
 * console.log(q.shape, (r.toJs() as number[][]).map((row) => row.map((v) => +v.toFixed(6)))); // [2, 2] [[-5, -2.2], [0, 0.4]]
 * ```
 */
export function qr(a: ArrayLike, opts: QrOptions = {}): [NDArray, NDArray] {
  opts = checkOptions("linalg.qr", opts, `{ mode: "complete" }`, ["mode"]);
  const mode = opts.mode ?? "reduced";
  if (mode !== "reduced" && mode !== "complete") throw new Error(`linalg.qr: mode must be "reduced" or "complete", got ${describeValue(mode)}.`);
  return qrFactor(matrixArg("linalg.qr", a, false), mode === "complete");
}

/**
 * Eigenvalues (ascending) and eigenvectors (the columns of v) of symmetric matrices,
 * `[w, v]` with `a @ v = v * w`, as `numpy.linalg.eigh` (Jacobi rotations; Householder
 * tridiagonalization and QL iterations for large matrices).
 * As JAX, the symmetric part `(a + aᵀ)/2` is decomposed. Differentiable where the
 * eigenvalues are distinct; eigenvectors are determined up to sign, so differentiate
 * sign-invariant functions of them.
 * @example
 * ```ts
 * import { np } from "cotangent";
 * const [w, v] = np.linalg.eigh(np.array([[2, 1], [1, 2]], { dtype: "float64" }));
 * console.log((w.toJs() as number[]).map((x) => +x.toFixed(12)), v.shape); // [1, 3] [2, 2]
 * ```
 */
export function eigh(a: ArrayLike): [NDArray, NDArray] {
  return eighFactor(matrixArg("linalg.eigh", a, true));
}

/** Options of `np.linalg.svd`. */
export interface SvdOptions {
  /** u is m×m and vh n×n (default, as NumPy), or m×k and k×n with k = min(m, n). */
  fullMatrices?: boolean;
}

/**
 * Singular value decomposition `[u, s, vh]` with `a = u @ diag(s) @ vh` and s
 * descending, as `numpy.linalg.svd` (one-sided Jacobi; `fullMatrices` defaults to true
 * as NumPy). Differentiable where the singular values are distinct and nonzero; with
 * `fullMatrices: true` only for square matrices (as JAX).
 * @example
 * ```ts
 * import { np } from "cotangent";
 * const [u, s, vh] = np.linalg.svd(np.array([[3, 0], [0, -2], [0, 0]], { dtype: "float64" }), { fullMatrices: false });
 * console.log(u.shape, s.toJs(), vh.shape); // [3, 2] [3, 2] [2, 2]
 * ```
 */
export function svd(a: ArrayLike, opts: SvdOptions = {}): [NDArray, NDArray, NDArray] {
  opts = checkOptions("linalg.svd", opts, `{ fullMatrices: false }`, ["fullMatrices"]);
  const full = opts.fullMatrices ?? true;
  if (typeof full !== "boolean") throw new Error(`linalg.svd: fullMatrices must be a boolean, got ${describeValue(full)}.`);
  return svdFactor(matrixArg("linalg.svd", a, false), full);
}

/** Options of `np.linalg.solveTriangular`. */
export interface SolveTriangularOptions {
  /** Use a's lower triangle (default false: the upper, as SciPy). */
  lower?: boolean;
  /** Solve `aᵀ x = b` instead of `a x = b`. */
  transA?: boolean;
  /** Take a's diagonal as ones. */
  unitDiagonal?: boolean;
}

/**
 * Solves `a @ x = b` (or `aᵀ @ x = b` with `transA`) for triangular `a`, as
 * `scipy.linalg.solve_triangular`: only the upper (default) or `lower` triangle is read.
 * `a` is `[..., n, n]`; `b` is `[..., n, k]` or a vector `[..., n]` (when it has one
 * axis fewer than `a`, as JAX). A zero on the diagonal gives inf/NaN.
 * @example
 * ```ts
 * import { np } from "cotangent";
 * const l = np.array([[2, 0], [1, 4]], { dtype: "float64" });
 * console.log(np.linalg.solveTriangular(l, np.array([2, 9], { dtype: "float64" }), { lower: true }).toJs()); // [1, 2]
 * ```
 */
export function solveTriangular(a: ArrayLike, b: ArrayLike, opts: SolveTriangularOptions = {}): NDArray {
  opts = checkOptions("linalg.solveTriangular", opts, `{ lower: true, transA: false }`, ["lower", "transA", "unitDiagonal"]);
  for (const k of ["lower", "transA", "unitDiagonal"] as const) {
    if (opts[k] !== undefined && typeof opts[k] !== "boolean")
      throw new Error(`linalg.solveTriangular: ${k} must be a boolean, got ${describeValue(opts[k])}.`);
  }
  const [x, y] = promoteArgs("linalg.solveTriangular", a, b);
  const A = matrixArg("linalg.solveTriangular", x, true);
  if (!isFloat(y.dtype) || y.ndim === 0) throw new Error(`linalg.solveTriangular: b must be a float vector or matrix, got ${y.aval.toString()}.`);
  const [a2, b2, back] = rhsMatrix("linalg.solveTriangular", A, y, y.ndim === A.ndim - 1);
  return back(
    triangularSolve(a2, b2, { leftSide: true, lower: opts.lower ?? false, transposeA: opts.transA ?? false, unitDiagonal: opts.unitDiagonal ?? false }),
  );
}
