/**
 * Parity cases for the ONNX rows of the NumPy-level primitives (src/export/onnx_numpy.ts):
 * shared by test/export/numpy.test.ts, which runs them in ONNX Runtime, and by the
 * coverage check of test/export/parity.test.ts (every lowered row is exercised).
 */
import { type Array as NDArray, grad, np, random, vmap } from "../../src/index.js";
import * as G from "../../src/primitives/gather.js";
import * as X from "../../src/primitives/special.js";
import { rand } from "./ort.js";

export interface NumpyCase {
  name: string;
  f: (...a: any[]) => unknown;
  args: unknown[];
}

const i32 = (v: number[] | number[][] | number[][][]): NDArray => np.array(v, { dtype: "int32" });
const x34 = rand([3, 4], "float32", -2, 2, 21);
const x64 = rand([3, 4], "float64", -2, 2, 22);
const i34 = rand([3, 4], "int32", -9, 9, 23);
const x234 = rand([2, 3, 4], "float32", -2, 2, 24);
/** Values with ties, NaNs, signed zeros and infinities, for sort and the scans. */
const awkward = np.array([3, Number.NaN, -0, 1, 0, -Infinity, 1, Number.NaN, Infinity, -0, 2, 0]);
const awkward64 = awkward.astype("float64");
/** Unit interval (asin, acos, atanh), ≥ 1 (acosh), wide (sinh, cosh, asinh, atan, erf). */
const unit = np.array([-0.999, -0.7, -0.3, -1e-6, 0, -0, 1e-9, 0.2, 0.5, 0.75, 0.99, 0.999999]);
const unit64 = unit.astype("float64");
const aboveOne = np.array([1, 1 + 1e-6, 1.01, 1.5, 2, 10, 1e3, 1e7, 3e10, 1e30, Infinity, 0.5]);
const aboveOne64 = np.array([1, 1 + 1e-12, 1 + 1e-6, 1.5, 2, 10, 1e3, 1e7, 3e10, 1e200, Infinity, 0.5], { dtype: "float64" });
const wide = np.array([-30, -5, -1, -0.1, -1e-5, -0, 0, 1e-8, 0.3, 2, 8, 20, 80, 1e10, Infinity, -Infinity, Number.NaN]);
const wide64 = np.array([-700, -30, -5, -1, -0.1, -1e-5, -1e-300, -0, 0, 1e-8, 0.3, 2, 8, 20, 80, 709, 1e10, 1e200, Infinity, -Infinity, Number.NaN], {
  dtype: "float64",
});
/** erf / erfc: a fine sweep of [-11, 11] and [-28, 28] (where erfc underflows), plus the special values. */
const sweep = (lim: number, n: number): number[] => Array.from({ length: n }, (_, i) => -lim + (2 * lim * i) / (n - 1) + 1e-3 * Math.sin(i));
const erfSpecial = [0, -0, 1e-30, -1e-8, 3e-5, 0.49999, 0.5, 1 / 64, 1 / 32, 3 / 64, Infinity, -Infinity, Number.NaN];
const erfArgs = np.array([...sweep(11, 700), ...erfSpecial]);
const erfArgs64 = np.array([...sweep(28, 1500), ...erfSpecial, 1e-300], { dtype: "float64" });
const erfinvArgs = np.array([
  ...Array.from({ length: 399 }, (_, i) => -1 + (i + 1) / 200 + 1e-4 * Math.sin(i)),
  ...[1, -1, 0, -0, 1e-30, -1e-7, 0.4999, 0.5, 0.9999, 0.999999, -0.9999999, 1.5, -2, Number.NaN],
]);
const gammaArgs = np.array([
  ...Array.from({ length: 300 }, (_, i) => -12 + (i * 36) / 299 + 1e-3 * Math.cos(i)),
  ...[
    1,
    2,
    1 + 1e-7,
    2 - 1e-6,
    1.4616321,
    0.5,
    0.96,
    1.96,
    2.5,
    8,
    10,
    1e-5,
    -1e-5,
    0,
    -0,
    -1,
    -2,
    -7,
    -2.5,
    -0.3,
    -99.7,
    -100.5,
    -150.3,
    -12345.75,
    -1e8 + 0.25,
    -1e20,
    1e3,
    3e6,
    1e20,
    Infinity,
    -Infinity,
    Number.NaN,
  ],
]);
/** atan2 / hypot / mod operands on a grid with every sign, zero and infinity. */
const grid = [-Infinity, -3.5, -1, -0, 0, 1e-3, 2, 7, Infinity, Number.NaN];
const gy = np.array(grid.flatMap((a) => grid.map(() => a)));
const gx = np.array(grid.flatMap(() => grid));
const finiteGrid = [-7.5, -3, -2, -0.5, -0, 0, 0.25, 1, 3, 5.5];
const my = np.array(finiteGrid.flatMap((a) => finiteGrid.map(() => a)));
const mx = np.array(finiteGrid.flatMap(() => finiteGrid));

const emb = rand([10, 4], "float32", -1, 1, 25);
/** An embedding lookup, a running sum over the sequence, then the features sorted: the pipeline of the brief. */
function embedCumsumSort(table: NDArray, tokens: NDArray): NDArray[] {
  const e = np.take(table, tokens, 0); // [seq, dim]
  const c = np.cumsum(e, { axis: 0 });
  return [np.sort(c, { axis: 1 }), np.argsort(c, { axis: 0 })];
}

export const numpyCases: NumpyCase[] = [
  // ---------------------------------------------------------------- gather
  {
    name: "gather: x[i] and x[i, j] with negative indices (float32, float64, int32)",
    f: (x: NDArray, y: NDArray, z: NDArray, i: NDArray, j: NDArray) => [x.at(i).get(), x.at(i, j).get(), y.at(":", j).get(), z.at(j, i).get()],
    args: [x34, x64, np.transpose(i34), i32([-1, 0, 2, -3]), i32([3, -4, 1, 0])],
  },
  {
    name: "gather: non-adjacent index arrays, slices and new axes",
    f: (x: NDArray, i: NDArray, j: NDArray) => [x.at(i, ":", j).get(), x.at(null, 1, "1:", i).get(), x.at("...", j).get()],
    args: [x234, i32([1, 0, -1]), i32([[0], [-1]])],
  },
  {
    name: "gather: scalar index and scalar result",
    f: (x: NDArray, i: NDArray) => [x.at(i).get(), np.take(x, i)],
    args: [rand([5], "float32", -1, 1, 26), np.array(-2, { dtype: "int32" })],
  },
  {
    name: "gather: np.take along axes and np.takeAlongAxis",
    f: (x: NDArray, i: NDArray, a: NDArray) => [np.take(x, i, 1), np.takeAlongAxis(x, a, 1), np.takeAlongAxis(x, a, null)],
    args: [
      x34,
      i32([
        [0, -1],
        [2, 2],
      ]),
      i32([
        [3, 0, -1, 1],
        [0, 0, 0, 0],
        [-4, 1, 2, 3],
      ]),
    ],
  },
  {
    name: "gather: size-0 index arrays and a size-0 operand",
    f: (x: NDArray, i: NDArray, z: NDArray) => [x.at(i).get(), np.take(z, i, 1)],
    args: [x34, np.zeros([0], "int32"), np.zeros([0, 3])],
  },
  {
    name: "gather with batch axes: vmap of indexing (batched operand, batched indices, both)",
    f: (xs: NDArray, is: NDArray, i: NDArray) => [
      vmap((x: NDArray, j: NDArray) => x.at(j).get())(xs, is),
      vmap((x: NDArray) => x.at(i, 1).get())(xs),
      vmap((j: NDArray) => xs.at(0, j).get())(is),
      vmap((x: NDArray, j: NDArray) => np.takeAlongAxis(x, j, 0))(xs, np.reshape(is, [2, 2, 1])),
    ],
    args: [
      rand([2, 3, 4], "float32", -1, 1, 27),
      i32([
        [0, -1],
        [2, 1],
      ]),
      i32([2, 0, -3]),
    ],
  },
  {
    name: "gather: general form (two indexed axes after a batch axis)",
    f: (x: NDArray, i: NDArray) => G.gather(x, i, { axes: [2, 1], batchDims: 1 }),
    args: [
      rand([2, 3, 4, 2], "float32", -1, 1, 28),
      i32([
        [
          [0, 1],
          [-1, -2],
          [3, 2],
        ],
        [
          [1, 0],
          [2, 2],
          [0, 0],
        ],
      ]),
    ],
  },
  {
    name: "gather: the general form with no indexed axis (indices with a last axis of length 0 broadcast the operand)",
    f: (x: NDArray, i: NDArray) => G.gather(x, i, { axes: [], batchDims: 1 }),
    args: [x34, np.zeros([3, 2, 0], "int32")],
  },
  // ---------------------------------------------------------------- scatter
  {
    name: "scatter: at().set / add / multiply / min / max with repeated and negative indices",
    f: (x: NDArray, i: NDArray, v: NDArray) => [
      x.at(i).set(v),
      x.at(i).add(v),
      x.at(i).multiply(v),
      x.at(i).min(v),
      x.at(i).max(v),
      x.at(i, 1).set(7),
      x.at(":", i).add(1),
    ],
    args: [rand([5, 5], "float32", -2, 2, 29), i32([1, -1, 1, 4, 0]), rand([5, 5], "float32", -2, 2, 30)],
  },
  {
    name: "scatter: int32 and float64 operands",
    f: (x: NDArray, y: NDArray, i: NDArray) => [
      x.at(i).set(-3),
      x.at(i).add(5),
      x.at(i).multiply(-2),
      x.at(i).min(0),
      x.at(i).max(1),
      y.at(i).add(0.5),
      y.at(i).max(y.at(0).get()),
    ],
    args: [rand([6], "int32", -9, 9, 31), rand([6], "float64", -1, 1, 32), i32([0, 5, -1, 2, 2])],
  },
  {
    name: "scatter min/max: NaN among the operand and the updates wins, as in cotangent",
    f: (x: NDArray, i: NDArray, v: NDArray) => [x.at(i).min(v), x.at(i).max(v)],
    args: [np.array([1, Number.NaN, 3, 4]), i32([0, 0, 2, 1, 3]), np.array([2, Number.NaN, -1, 5, 6])],
  },
  {
    name: "scatter with batch axes: vmap of at().set / add",
    f: (xs: NDArray, is: NDArray, vs: NDArray) => [
      vmap((x: NDArray, j: NDArray, v: NDArray) => x.at(j).set(v))(xs, is, vs),
      vmap((x: NDArray, j: NDArray) => x.at(j).add(1))(xs, is),
      vmap((j: NDArray) => np.zeros([4]).at(j).max(2))(is),
    ],
    args: [
      rand([3, 4], "float32", -1, 1, 33),
      i32([
        [0, 0],
        [-1, 2],
        [3, 3],
      ]),
      rand([3, 2], "float32", -1, 1, 34),
    ],
  },
  {
    name: "scatter: size-0 updates leave the operand as it is",
    f: (x: NDArray, i: NDArray) => [x.at(i).set(1), x.at(i).add(1)],
    args: [x34, np.zeros([0], "int32")],
  },
  // ---------------------------------------------------------------- grads of indexing: gather's transpose is a scatter-add
  {
    name: "grad of indexing functions (gather → scatter add; set → scatter set of zeros)",
    f: (x: NDArray, i: NDArray) => [
      grad((y: NDArray) => np.sum(np.sin(y.at(i).get())))(x),
      grad((y: NDArray) =>
        np.sum(
          np
            .takeAlongAxis(y, np.argsort(y, { axis: 1 }), 1)
            .at(":", 0)
            .get(),
        ),
      )(x),
      grad((y: NDArray) => np.sum(np.square(y.at(i, 0).set(2))))(x),
      grad((y: NDArray) => np.sum(vmap((r: NDArray) => r.at(i).get())(y)))(x),
    ],
    args: [x34, i32([0, -1, 0])],
  },
  // ---------------------------------------------------------------- rev
  {
    name: "rev: np.flip over one and several axes (float32, int32), negative-step slices",
    f: (x: NDArray, i: NDArray) => [np.flip(x), np.flip(x, { axis: 1 }), np.flip(i, { axis: 0 }), x.at("::-2", "::-1").get()],
    args: [x234, i34],
  },
  // ---------------------------------------------------------------- elementwise
  {
    name: "asin acos atanh (float32, on the unit interval)",
    f: (x: NDArray) => [np.arcsin(x), np.arccos(x), np.arctanh(x)],
    args: [unit],
  },
  { name: "acosh (float32, ≥ 1 and below)", f: (x: NDArray) => np.arccosh(x), args: [aboveOne] },
  {
    name: "atan sinh cosh asinh erf (float32, wide range)",
    f: (x: NDArray) => [np.arctan(x), np.sinh(x), np.cosh(x), np.arcsinh(x)],
    args: [wide],
  },
  {
    name: "erf erfc (float32, float64): relative accuracy where erfc is tiny, both signs, ±0, ±∞, NaN",
    f: (x: NDArray, y: NDArray) => [np.erf(x), np.erfc(x), np.erf(y), np.erfc(y)],
    args: [erfArgs, erfArgs64],
  },
  {
    name: "erfinv (float32, float64): the whole of [-1, 1], near ±1, tiny, and outside",
    f: (x: NDArray, y: NDArray) => [np.erfinv(x), np.erfinv(y)],
    args: [erfinvArgs, erfinvArgs.astype("float64")],
  },
  {
    name: "lgamma digamma polygamma (float32, float64): near the roots, poles, negative arguments, large, ±∞, NaN",
    f: (x: NDArray, y: NDArray) => [
      np.lgamma(x),
      np.digamma(x),
      X.polygamma(1, x),
      X.polygamma(2, x),
      np.lgamma(y),
      np.digamma(y),
      X.polygamma(1, y),
      X.polygamma(3, y),
    ],
    args: [gammaArgs, gammaArgs.astype("float64")],
  },
  {
    name: "log2 log10 exp2 (float32, float64)",
    f: (x: NDArray, y: NDArray) => [np.log2(x), np.log10(x), np.exp2(np.negative(np.log(x))), np.log2(y), np.log10(y), np.exp2(y)],
    args: [np.array([1e-30, 1e-5, 0.3, 1, 2, 8, 1000, 1e30, 0, -1, Infinity, Number.NaN]), rand([3, 4], "float64", 0.01, 50, 35)],
  },
  {
    name: "atan2 (every sign, zero and infinity)",
    f: (y: NDArray, x: NDArray) => np.arctan2(y, x),
    args: [gy, gx],
  },
  {
    name: "hypot (every sign, zero and infinity; large and tiny)",
    f: (y: NDArray, x: NDArray, a: NDArray, b: NDArray) => [np.hypot(y, x), np.hypot(a, b)],
    args: [gy, gx, np.array([1e30, 3e-30, 1e-45, 3]), np.array([1e30, 4e-30, 0, 4])],
  },
  {
    name: "mod: the sign of the divisor (float32, float64, int32 with zero divisors and INT_MIN % -1)",
    f: (y: NDArray, x: NDArray, a: NDArray, b: NDArray) => [np.mod(y, x), np.mod(y.astype("float64"), x.astype("float64")), np.mod(a, b)],
    args: [my, mx, i32([7, -7, 7, -7, 0, 5, -2147483648, 2147483647, 3]), i32([3, 3, -3, -3, 4, 0, -1, -1, 0])],
  },
  // ---------------------------------------------------------------- cumulative
  {
    name: "cumsum (both directions; float32, float64, int32)",
    f: (x: NDArray, y: NDArray, i: NDArray) => [np.cumsum(x, { axis: 1 }), np.cumsum(x), np.cumsum(y, { axis: 0 }), np.cumsum(i, { axis: 1 })],
    args: [x34, x64, i34],
  },
  {
    name: "cumprod cummax cummin (lengths 1 to 12; NaN and infinities; int32)",
    f: (x: NDArray, a: NDArray, i: NDArray, one: NDArray) => [
      np.cumprod(x, { axis: 1 }),
      np.cummax(x, { axis: 1 }),
      np.cummin(x, { axis: 0 }),
      np.cummax(a),
      np.cummin(a),
      np.cumprod(i, { axis: 1 }),
      np.cummax(i, { axis: 0 }),
      np.cummin(i, { axis: 1 }),
      np.cumprod(one),
      np.cummax(a.at("2:9").get()),
    ],
    args: [rand([3, 7], "float32", 0.5, 1.5, 36), awkward, rand([5, 4], "int32", -4, 5, 37), np.array([3])],
  },
  {
    name: "reverse scans (vjp of cumsum; grad of cumprod, cummax through the scans)",
    f: (x: NDArray) => [grad((y: NDArray) => np.sum(np.multiply(np.cumsum(y, { axis: 1 }), y)))(x), grad((y: NDArray) => np.sum(np.cummax(y, { axis: 1 })))(x)],
    args: [x34],
  },
  {
    name: "float64 scans and rev; 0-d operands of the elementwise rows",
    f: (a: NDArray, y: NDArray, s: NDArray, t: NDArray) => [
      np.cumprod(y, { axis: 1 }),
      np.cummax(a),
      np.cummin(y, { axis: 0 }),
      np.cumsum(a),
      np.flip(y),
      np.arcsin(s),
      np.erf(s),
      np.erfc(s),
      np.erfinv(s),
      np.lgamma(s),
      np.digamma(s),
      np.arctan2(s, t),
      np.hypot(s, t),
      np.mod(t, s),
      np.log2(t),
      np.cosh(s),
    ],
    args: [awkward64, x64, np.array(0.375), np.array(-2.5)],
  },
  // ---------------------------------------------------------------- sort
  {
    name: "sort and argsort: stable, NaNs last, signed zeros, infinities (float32, float64)",
    f: (a: NDArray, b: NDArray) => [np.sort(a), np.argsort(a), np.sort(b), np.argsort(b)],
    args: [awkward, awkward64],
  },
  {
    name: "sort and argsort along every axis, int32 with ties, length 1",
    f: (x: NDArray, i: NDArray, one: NDArray) => [
      np.sort(x, { axis: 0 }),
      np.argsort(x, { axis: 1 }),
      np.sort(i, { axis: 0 }),
      np.argsort(i, { axis: 0 }),
      np.argsort(i),
      np.sort(one),
      np.argsort(one),
    ],
    args: [x234, rand([6, 5], "int32", -3, 3, 38), np.array([[2], [1]])],
  },
  {
    name: "sort and argsort of bool arrays (false first, stable)",
    f: (b: NDArray) => [np.sort(b), np.argsort(b), np.argsort(b, { axis: 0 })],
    args: [rand([3, 7], "bool", 0, 1, 39)],
  },
  { name: "sort and argsort of size-0 arrays", f: (x: NDArray) => [np.sort(x, { axis: 0 }), np.argsort(x)], args: [np.zeros([0, 3])] },
  {
    name: "grad through sort (its jvp gathers by argsort)",
    f: (x: NDArray) => grad((y: NDArray) => np.sum(np.multiply(np.sort(y, { axis: 1 }), np.arange(4))))(x),
    args: [x34],
  },
  {
    name: "random.permutation inside the function (stable sorts of random keys): the same permutation as cotangent",
    f: (k: NDArray, ks: NDArray, x: NDArray) => [
      random.permutation(k, 1),
      random.permutation(k, 7),
      random.permutation(k, 70000),
      random.permutation(k, x),
      vmap((kk: NDArray) => random.permutation(kk, 5))(ks),
    ],
    args: [random.key(3), np.stack(random.split(random.key(9), 3)), x34],
  },
  // ---------------------------------------------------------------- a composition
  { name: "embedding lookup + cumsum + sort", f: embedCumsumSort, args: [emb, i32([3, 9, -1, 0, 3, 5])] },
];

/** The float64 elementwise cases (ONNX Runtime has no float64 kernels for Asin...Atanh, Atan, Erf: compositions). */
export const float64Cases: NumpyCase[] = [
  { name: "asin acos atanh (float64)", f: (x: NDArray) => [np.arcsin(x), np.arccos(x), np.arctanh(x)], args: [unit64] },
  { name: "acosh (float64)", f: (x: NDArray) => np.arccosh(x), args: [aboveOne64] },
  { name: "atan sinh cosh asinh (float64, wide range)", f: (x: NDArray) => [np.arctan(x), np.sinh(x), np.cosh(x), np.arcsinh(x)], args: [wide64] },
  {
    name: "tan (float64)",
    f: (x: NDArray) => np.tan(x),
    args: [np.array([-1.5, -0.7, -1e-9, -0, 0, 0.3, 1, 1.5707, 3, 100, Infinity, Number.NaN], { dtype: "float64" })],
  },
  {
    name: "hypot (float64: every sign, zero and infinity; near overflow and underflow)",
    f: (y: NDArray, x: NDArray, a: NDArray, b: NDArray) => [np.hypot(y, x), np.hypot(a, b)],
    args: [
      gy.astype("float64"),
      gx.astype("float64"),
      np.array([1e300, 3e-300, 5e-324, 3, 1], { dtype: "float64" }),
      np.array([1e300, 4e-300, 0, 4, 1e-9], { dtype: "float64" }),
    ],
  },
  { name: "atan2 (float64)", f: (y: NDArray, x: NDArray) => np.arctan2(y, x), args: [gy.astype("float64"), gx.astype("float64")] },
];
