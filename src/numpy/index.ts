/**
 * The `np` namespace: NumPy's API over cotangent arrays, composed from primitives, so
 * every function works eagerly and under every transform.
 *
 * Broadcasting and dtype promotion follow NumPy (see the promotion table in
 * {@link DType}): `bool < int32 < float32 < float64`, JS numbers are weakly typed,
 * and float64 is never silently downcast.
 * @module
 */
import { NDArray, type ReduceOptions, installFluent } from "../core/array.js";
import type { DType } from "../core/dtype.js";
import * as E from "../primitives/elementwise.js";
import { cholesky, det, eigh, inv, norm, qr, slogdet, solve, solveTriangular, svd } from "./linalg.js";
import { matmul } from "./linalg.js";
import { max, mean, min, prod, sum } from "./reductions.js";
import { at } from "./indexing.js";
import { all, any, round } from "./math.js";
import { argsort, cumprod, cumsum, diagonal, flip, ravel, sort, swapaxes } from "./more.js";
import { reshape, transpose } from "./shapes.js";
import { negative, square } from "./elementwise.js";

export * from "./creation.js";
export * from "./elementwise.js";
export { dot, matmul, outer, type NormOptions, type QrOptions, type SvdOptions, type SolveTriangularOptions } from "./linalg.js";
export { argmax, argmin, logSumExp, max, mean, min, prod, std, sum, var_ as var, type ArgOptions, type VarOptions } from "./reductions.js";
export * from "./shapes.js";
export { takeAlongAxis, type AtIndexer, type IndexElement, type IndexRef } from "./indexing.js";
export * from "./math.js";
export * from "./more.js";
export type { DType, ReduceOptions };

/** The array type (concrete arrays and tracers alike). */
export type Array = NDArray;

/**
 * Linear algebra functions.
 * @namespace
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.linalg.norm(np.array([[1, 2], [2, 4]])).item()); // 5
 * ```
 */
export const linalg = { norm, inv, solve, det, slogdet, cholesky, qr, eigh, svd, solveTriangular };

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const methodsByName: Record<string, (a: NDArray, ...args: any[]) => NDArray> = {
  prod,
  cumsum,
  cumprod,
  sort,
  argsort,
  flip,
  ravel,
  swapaxes,
  any,
  all,
  round,
  floor: E.floor,
  ceil: E.ceil,
  diagonal,
};

const unaryByName: Record<string, (x: E.ArrayLike) => NDArray> = {
  exp: E.exp,
  log: E.log,
  sin: E.sin,
  cos: E.cos,
  tanh: E.tanh,
  sqrt: E.sqrt,
  abs: E.abs,
  square,
};

installFluent({
  add: E.add,
  subtract: E.sub,
  multiply: E.mul,
  divide: E.div,
  power: E.power,
  negative,
  matmul,
  sum,
  mean,
  max,
  min,
  reshape,
  transpose,
  unary: (name, a) => unaryByName[name]!(a),
  astype: (a: NDArray, d: DType) => E.convert(a, d),
  at,
  method: (name, a, ...args) => methodsByName[name]!(a, ...args),
});
