/**
 * More array functions of the np namespace: cumulative reductions, sorting, flips and
 * rolls, padding, tiling, triangles and diagonals, einsum / tensordot / inner, axis
 * moves and meshgrid. Each is composed from primitives, so all work eagerly and under
 * every transform.
 * @module
 */
import { ConcreteArray, NDArray, ShapedArray } from "../core/array.js";
import { promoteTypes } from "../core/dtype.js";
import { broadcastShapes, checkOptions, describeValue, fmtShape, normalizeAxes, normalizeAxis, sizeOf } from "../core/shape.js";
import { cumulative } from "../primitives/cumulative.js";
import * as E from "../primitives/elementwise.js";
import { type ArrayLike, asArray } from "../primitives/elementwise.js";
import { matmulRaw } from "../primitives/dot.js";
import { gather } from "../primitives/gather.js";
import { reduceSum } from "../primitives/reduce.js";
import { rev } from "../primitives/rev.js";
import { argsort as argsortPrim, sort as sortPrim } from "../primitives/sort.js";
import * as S from "../primitives/shape.js";
import { indexGet, indexUpdate } from "./indexing.js";

/** An `{ axis }` option; `null` flattens first (NumPy's `axis=None`). */
export interface AxisOptions {
  axis?: number | null;
}

/** The array and axis an `{ axis }` option selects (`null` → the flattened array, axis 0). */
function axisOf(op: string, x: ArrayLike, opts: AxisOptions | undefined, dflt: number | null): [NDArray, number] {
  const o = checkOptions(op, opts, "{ axis: 0 }", ["axis"]);
  const a = asArray(x, undefined, op);
  const axis = o.axis === undefined ? dflt : o.axis;
  if (axis === null || a.ndim === 0) return [S.reshape(a, [a.size]), 0];
  return [a, normalizeAxis(op, axis, a.ndim)];
}

function cumOp(op: "sum" | "prod" | "max" | "min", name: string, x: ArrayLike, opts: AxisOptions | undefined, dflt: number | null): NDArray {
  const [a, ax] = axisOf(name, x, opts, dflt);
  const b = a.dtype === "bool" ? E.convert(a, "int32") : a;
  return cumulative(op, b, ax);
}

/**
 * Cumulative sum along `axis` (the flattened array by default, as NumPy). Its
 * derivative is the reversed cumulative sum.
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.cumsum(np.array([[1, 2], [3, 4]])).toJs(), np.cumsum(np.array([[1, 2], [3, 4]]), { axis: 1 }).toJs()); // [1, 3, 6, 10] [[1, 3], [3, 7]]
 * ```
 */
export function cumsum(x: ArrayLike, opts?: AxisOptions): NDArray {
  return cumOp("sum", "cumsum", x, opts, null);
}
/**
 * Cumulative product along `axis` (the flattened array by default).
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.cumprod(np.array([1, 2, 3, 4])).toJs()); // [1, 2, 6, 24]
 * ```
 */
export function cumprod(x: ArrayLike, opts?: AxisOptions): NDArray {
  return cumOp("prod", "cumprod", x, opts, null);
}
/**
 * Running maximum along `axis` (axis 0 by default, as `lax.cummax`).
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.cummax(np.array([1, 3, 2, 5])).toJs()); // [1, 3, 3, 5]
 * ```
 */
export function cummax(x: ArrayLike, opts?: AxisOptions): NDArray {
  return cumOp("max", "cummax", x, opts, 0);
}
/**
 * Running minimum along `axis` (axis 0 by default, as `lax.cummin`).
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.cummin(np.array([4, 3, 5, 1])).toJs()); // [4, 3, 3, 1]
 * ```
 */
export function cummin(x: ArrayLike, opts?: AxisOptions): NDArray {
  return cumOp("min", "cummin", x, opts, 0);
}

/**
 * Sorted copy along `axis` (last axis by default; `null` sorts the flattened array).
 * NaNs go last. Its derivative permutes the cotangent back.
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.sort(np.array([[3, 1, 2], [0, -1, 5]])).toJs()); // [[1, 2, 3], [-1, 0, 5]]
 * ```
 */
export function sort(x: ArrayLike, opts?: AxisOptions): NDArray {
  const [a, ax] = axisOf("sort", x, opts, -1);
  return sortPrim(a, ax);
}
/**
 * The indices that sort `x` along `axis` (stable; last axis by default), as int32.
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.argsort(np.array([3, 1, 2, 1])).toJs()); // [1, 3, 2, 0]
 * ```
 */
export function argsort(x: ArrayLike, opts?: AxisOptions): NDArray {
  const [a, ax] = axisOf("argsort", x, opts, -1);
  return argsortPrim(a, ax);
}

/**
 * Reverses the order of elements along `axis` (all axes by default).
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.flip(np.array([[1, 2], [3, 4]]), { axis: 1 }).toJs(), np.flip(np.array([[1, 2], [3, 4]])).toJs()); // [[2, 1], [4, 3]] [[4, 3], [2, 1]]
 * ```
 */
export function flip(x: ArrayLike, opts: { axis?: number | number[] | null } = {}): NDArray {
  const o = checkOptions("flip", opts, "{ axis: 0 }", ["axis"]);
  const a = asArray(x, undefined, "flip");
  return rev(a, normalizeAxes("flip", o.axis, a.ndim));
}

/**
 * Rolls elements by `shift` along `axis` (the flattened array when `axis` is omitted);
 * elements pushed off one end come back at the other.
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.roll(np.arange(5), 2).toJs(), np.roll(np.array([[1, 2, 3], [4, 5, 6]]), -1, { axis: 1 }).toJs()); // [3, 4, 0, 1, 2] [[2, 3, 1], [5, 6, 4]]
 * ```
 */
export function roll(x: ArrayLike, shift: number | number[], opts: { axis?: number | number[] | null } = {}): NDArray {
  const o = checkOptions("roll", opts, "{ axis: 0 }", ["axis"]);
  const a = asArray(x, undefined, "roll");
  const shifts = typeof shift === "number" ? [shift] : shift;
  if (!Array.isArray(shifts) || !shifts.every((s) => Number.isInteger(s)))
    throw new Error(`roll: shift must be an integer or an array of integers, got ${describeValue(shift)}.`);
  if (o.axis === undefined || o.axis === null) {
    if (shifts.length !== 1) throw new Error(`roll: without an axis, shift must be one integer, got ${describeValue(shift)}.`);
    return S.reshape(roll(S.reshape(a, [a.size]), shifts[0]!, { axis: 0 }), a.aval.shape);
  }
  const axes = (typeof o.axis === "number" ? [o.axis] : o.axis).map((ax) => normalizeAxis("roll", ax, a.ndim));
  if (shifts.length !== axes.length && shifts.length !== 1)
    throw new Error(`roll: got ${shifts.length} shifts for ${axes.length} axes; give one shift per axis.`);
  let y = a;
  axes.forEach((ax, i) => {
    const n = y.aval.shape[ax]!;
    if (n === 0) return;
    const s = (((shifts.length === 1 ? shifts[0]! : shifts[i]!) % n) + n) % n;
    if (s === 0) return;
    const sh = y.aval.shape;
    const zeros = sh.map(() => 0);
    const tail = S.slice(
      y,
      sh.map((_, k) => (k === ax ? n - s : 0)),
      sh,
    );
    const head = S.slice(
      y,
      zeros,
      sh.map((d, k) => (k === ax ? n - s : d)),
    );
    y = S.concatenateArrays([tail, head], ax);
  });
  return y;
}

export interface PadOptions {
  /** `"constant"` (default), `"edge"`, `"reflect"`, `"symmetric"` or `"wrap"`, as NumPy. */
  mode?: "constant" | "edge" | "reflect" | "symmetric" | "wrap";
  /** The fill value of `"constant"` mode (default 0). */
  constantValues?: number;
}
/** `padWidth` as NumPy takes it: n, [n], [before, after], or one [before, after] per axis. */
function padPairs(padWidth: number | number[] | number[][], nd: number): [number, number][] {
  const bad = (): Error =>
    new Error(
      `pad: padWidth must be n, [before, after] or one [before, after] per axis (${nd} axes) of non-negative integers, got ${describeValue(padWidth)}.`,
    );
  let pairs: [number, number][];
  if (typeof padWidth === "number") pairs = Array.from({ length: nd }, () => [padWidth, padWidth]);
  else if (Array.isArray(padWidth) && padWidth.every((p) => typeof p === "number")) {
    const p = padWidth as number[];
    if (p.length === 1) pairs = Array.from({ length: nd }, () => [p[0]!, p[0]!]);
    else if (p.length === 2) pairs = Array.from({ length: nd }, () => [p[0]!, p[1]!]);
    else throw bad();
  } else if (Array.isArray(padWidth) && padWidth.length === nd && padWidth.every((p) => Array.isArray(p) && p.length === 2))
    pairs = (padWidth as number[][]).map((p) => [p[0]!, p[1]!]);
  else throw bad();
  if (pairs.some(([lo, hi]) => !Number.isInteger(lo) || !Number.isInteger(hi) || lo < 0 || hi < 0)) throw bad();
  return pairs;
}
/** The source position along an axis of size n for padded position p (p in [-lo, n + hi)). */
function padSource(mode: Exclude<PadOptions["mode"], "constant" | undefined>, p: number, n: number): number {
  switch (mode) {
    case "edge":
      return Math.min(Math.max(p, 0), n - 1);
    case "wrap":
      return ((p % n) + n) % n;
    case "reflect": {
      if (n === 1) return 0;
      const period = 2 * (n - 1);
      const q = ((p % period) + period) % period;
      return q < n ? q : period - q;
    }
    case "symmetric": {
      const period = 2 * n;
      const q = ((p % period) + period) % period;
      return q < n ? q : period - 1 - q;
    }
  }
}
/**
 * Pads `x` with `padWidth` elements before and after each axis.
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.pad(np.array([1, 2, 3]), [1, 2]).toJs()); // [0, 1, 2, 3, 0, 0]
 * console.log(np.pad(np.array([1, 2, 3]), 2, { mode: "reflect" }).toJs()); // [3, 2, 1, 2, 3, 2, 1]
 * console.log(np.pad(np.array([[1]]), [[0, 1], [1, 0]], { constantValues: 9 }).toJs()); // [[9, 1], [9, 9]]
 * ```
 */
export function pad(x: ArrayLike, padWidth: number | number[] | number[][], opts: PadOptions = {}): NDArray {
  const o = checkOptions("pad", opts, '{ mode: "edge" }', ["mode", "constantValues"]);
  const a = asArray(x, undefined, "pad");
  const pairs = padPairs(padWidth, a.ndim);
  const mode = o.mode ?? "constant";
  if (mode === "constant") {
    const c = o.constantValues ?? 0;
    if (typeof c !== "number") throw new Error(`pad: constantValues must be a number, got ${describeValue(c)}.`);
    const lo = pairs.map((p) => p[0]);
    const hi = pairs.map((p) => p[1]);
    const p = S.pad(a, lo, hi);
    if (c === 0) return p;
    const inside = S.pad(E.full(a.aval.shape, 1, "bool"), lo, hi);
    return E.where(inside, p, c);
  }
  if (o.constantValues !== undefined) throw new Error(`pad: constantValues only applies to mode "constant", not ${JSON.stringify(mode)}.`);
  if (!["edge", "reflect", "symmetric", "wrap"].includes(mode))
    throw new Error(`pad: unknown mode ${describeValue(mode)}; use "constant", "edge", "reflect", "symmetric" or "wrap".`);
  let y = a;
  pairs.forEach(([lo, hi], ax) => {
    if (lo === 0 && hi === 0) return;
    const n = a.aval.shape[ax]!;
    if (n === 0) throw new Error(`pad: mode ${JSON.stringify(mode)} cannot pad the empty axis ${ax} of ${fmtShape(a.shape)}.`);
    const src = Int32Array.from({ length: n + lo + hi }, (_, i) => padSource(mode, i - lo, n));
    const idx = new ConcreteArray(new ShapedArray([src.length, 1], "int32"), src);
    y = S.moveAxis(gather(y, idx, { axes: [ax], batchDims: 0 }), 0, ax);
  });
  return y;
}

/**
 * Repeats `x` `reps` times along each axis (NumPy's `tile`).
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.tile(np.array([1, 2]), 2).toJs(), np.tile(np.array([1, 2]), [2, 1]).toJs()); // [1, 2, 1, 2] [[1, 2], [1, 2]]
 * ```
 */
export function tile(x: ArrayLike, reps: number | number[]): NDArray {
  let a = asArray(x, undefined, "tile");
  const r = typeof reps === "number" ? [reps] : reps;
  if (!Array.isArray(r) || !r.every((v) => Number.isInteger(v) && v >= 0))
    throw new Error(`tile: reps must be a non-negative integer or an array of them, got ${describeValue(reps)}.`);
  const nd = Math.max(a.ndim, r.length);
  const reps2 = [...new Array<number>(nd - r.length).fill(1), ...r];
  a = S.reshape(a, [...new Array<number>(nd - a.ndim).fill(1), ...a.aval.shape]);
  const s = a.aval.shape;
  // [r0, s0, r1, s1, ...] broadcast, then merged pairwise
  const inter = S.reshape(
    a,
    s.flatMap((d) => [1, d]),
  );
  const b = S.broadcastTo(
    inter,
    s.flatMap((d, i) => [reps2[i]!, d]),
  );
  return S.reshape(
    b,
    s.map((d, i) => d * reps2[i]!),
  );
}

/**
 * Repeats each element `repeats` times along `axis` (the flattened array by default);
 * `repeats` is one count or one per element.
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.repeat(np.array([1, 2]), 2).toJs(), np.repeat(np.array([[1, 2]]), [1, 3], { axis: 1 }).toJs()); // [1, 1, 2, 2] [[1, 2, 2, 2]]
 * ```
 */
export function repeat(x: ArrayLike, repeats: number | number[], opts: AxisOptions = {}): NDArray {
  const [a, ax] = axisOf("repeat", x, opts, null);
  const n = a.aval.shape[ax]!;
  const reps = typeof repeats === "number" ? new Array<number>(n).fill(repeats) : repeats;
  if (!Array.isArray(reps) || !reps.every((v) => Number.isInteger(v) && v >= 0))
    throw new Error(`repeat: repeats must be a non-negative integer or an array of them, got ${describeValue(repeats)}.`);
  if (reps.length !== n) throw new Error(`repeat: got ${reps.length} repeat counts for axis ${ax} of size ${n}; give one count or one per element.`);
  const src = Int32Array.from(reps.flatMap((r, i) => new Array<number>(r).fill(i)));
  const idx = new ConcreteArray(new ShapedArray([src.length, 1], "int32"), src);
  return S.moveAxis(gather(a, idx, { axes: [ax], batchDims: 0 }), 0, ax);
}

/** A constant bool mask over the last two axes: true where col - row compares with k. */
function triMask(rows: number, cols: number, keep: (d: number) => boolean): NDArray {
  const m = new Uint8Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) m[i * cols + j] = keep(j - i) ? 1 : 0;
  return new ConcreteArray(new ShapedArray([rows, cols], "bool"), m);
}
function triangle(op: string, x: ArrayLike, opts: { k?: number }, keep: (d: number, k: number) => boolean): NDArray {
  const { k = 0 } = checkOptions(op, opts, "{ k: 1 }", ["k"]);
  if (!Number.isInteger(k)) throw new Error(`${op}: k must be an integer, got ${describeValue(k)}.`);
  const a = asArray(x, undefined, op);
  if (a.ndim < 2) throw new Error(`${op}: expects an array of rank >= 2, got shape ${fmtShape(a.shape)}.`);
  const s = a.aval.shape;
  const mask = triMask(s[s.length - 2]!, s[s.length - 1]!, (d) => keep(d, k));
  return E.where(mask, a, E.full([], 0, a.dtype));
}
/**
 * The upper triangle of the last two axes (zero below diagonal `k`).
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.triu(np.ones([3, 3])).toJs(), np.triu(np.ones([2, 2]), { k: 1 }).toJs()); // [[1, 1, 1], [0, 1, 1], [0, 0, 1]] [[0, 1], [0, 0]]
 * ```
 */
export function triu(x: ArrayLike, opts: { k?: number } = {}): NDArray {
  return triangle("triu", x, opts, (d, k) => d >= k);
}
/**
 * The lower triangle of the last two axes (zero above diagonal `k`).
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.tril(np.ones([2, 3]), { k: -1 }).toJs()); // [[0, 0, 0], [1, 0, 0]]
 * ```
 */
export function tril(x: ArrayLike, opts: { k?: number } = {}): NDArray {
  return triangle("tril", x, opts, (d, k) => d <= k);
}

export interface DiagonalOptions {
  /** Which diagonal: 0 the main one, > 0 above it, < 0 below it. */
  offset?: number;
  /** The first axis of the 2-d sub-arrays (default 0). */
  axis1?: number;
  /** The second axis of the 2-d sub-arrays (default 1). */
  axis2?: number;
}
function diagonalOf(op: string, x: ArrayLike, opts: DiagonalOptions): NDArray {
  const o = checkOptions(op, opts, "{ offset: 1, axis1: 0, axis2: 1 }", ["offset", "axis1", "axis2"]);
  const a = asArray(x, undefined, op);
  if (a.ndim < 2) throw new Error(`${op}: expects an array of rank >= 2, got shape ${fmtShape(a.shape)}.`);
  const offset = o.offset ?? 0;
  if (!Number.isInteger(offset)) throw new Error(`${op}: offset must be an integer, got ${describeValue(offset)}.`);
  const a1 = normalizeAxis(op, o.axis1 ?? 0, a.ndim);
  const a2 = normalizeAxis(op, o.axis2 ?? 1, a.ndim);
  if (a1 === a2) throw new Error(`${op}: axis1 and axis2 are both ${a1}; they must differ.`);
  const rest = a.shape.map((_, i) => i).filter((i) => i !== a1 && i !== a2);
  const y = S.transpose(a, [...rest, a1, a2]);
  const n1 = a.aval.shape[a1]!;
  const n2 = a.aval.shape[a2]!;
  const len = Math.max(0, offset >= 0 ? Math.min(n1, n2 - offset) : Math.min(n1 + offset, n2));
  const r0 = offset >= 0 ? 0 : -offset;
  const c0 = offset >= 0 ? offset : 0;
  const rows = new ConcreteArray(
    new ShapedArray([len], "int32"),
    Int32Array.from({ length: len }, (_, i) => r0 + i),
  );
  const cols = new ConcreteArray(
    new ShapedArray([len], "int32"),
    Int32Array.from({ length: len }, (_, i) => c0 + i),
  );
  return indexGet(op, y, ["...", rows, cols]);
}
/**
 * The diagonal(s) of the 2-d sub-arrays spanned by `axis1` and `axis2`, as the last
 * axis of the result.
 * @example
 * ```ts
 * import { np } from "cotangent";
 * const x = np.arange(9).reshape([3, 3]);
 * console.log(np.diagonal(x).toJs(), np.diagonal(x, { offset: 1 }).toJs(), np.diagonal(x, { offset: -1 }).toJs()); // [0, 4, 8] [1, 5] [3, 7]
 * ```
 */
export function diagonal(x: ArrayLike, opts: DiagonalOptions = {}): NDArray {
  return diagonalOf("diagonal", x, opts);
}
/**
 * The sum of a diagonal (see {@link diagonal} for the options).
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.trace(np.arange(9).reshape([3, 3])).item()); // 12
 * ```
 */
export function trace(x: ArrayLike, opts: DiagonalOptions = {}): NDArray {
  const d = diagonalOf("trace", x, opts);
  return reduceSum(d, [d.ndim - 1]);
}
/**
 * For a 1-d `v`: the square matrix with `v` on diagonal `k`. For a 2-d array: its
 * diagonal `k`.
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.diag(np.array([1, 2])).toJs(), np.diag(np.array([1]), { k: 1 }).toJs(), np.diag(np.eye(2)).toJs()); // [[1, 0], [0, 2]] [[0, 1], [0, 0]] [1, 1]
 * ```
 */
export function diag(v: ArrayLike, opts: { k?: number } = {}): NDArray {
  const { k = 0 } = checkOptions("diag", opts, "{ k: 1 }", ["k"]);
  const a = asArray(v, undefined, "diag");
  if (a.ndim === 2) return diagonalOf("diag", a, { offset: k });
  if (a.ndim !== 1) throw new Error(`diag: expects a 1-d or 2-d array, got shape ${fmtShape(a.shape)}.`);
  if (!Number.isInteger(k)) throw new Error(`diag: k must be an integer, got ${describeValue(k)}.`);
  const n = a.aval.shape[0]!;
  const m = n + Math.abs(k);
  const rows = Int32Array.from({ length: n }, (_, i) => (k >= 0 ? i : i - k));
  const cols = Int32Array.from({ length: n }, (_, i) => (k >= 0 ? i + k : i));
  const int = (b: Int32Array): NDArray => new ConcreteArray(new ShapedArray([n], "int32"), b);
  return indexUpdate("diag", E.full([m, m], 0, a.dtype), [int(rows), int(cols)], a, "set");
}

/**
 * Moves axes `source` to positions `destination` (the others keep their order).
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.moveaxis(np.zeros([2, 3, 4]), 0, -1).shape, np.moveaxis(np.zeros([2, 3, 4]), [0, 1], [2, 0]).shape); // [3, 4, 2] [3, 4, 2]
 * ```
 */
export function moveaxis(x: ArrayLike, source: number | number[], destination: number | number[]): NDArray {
  const a = asArray(x, undefined, "moveaxis");
  for (const v of [source, destination]) {
    if (typeof v !== "number" && !(Array.isArray(v) && v.every((e) => typeof e === "number")))
      throw new Error(`moveaxis: source and destination must be axes (an integer or an array of integers), got ${describeValue(v)}.`);
  }
  const src = (typeof source === "number" ? [source] : source).map((s) => normalizeAxis("moveaxis", s, a.ndim));
  const dst = (typeof destination === "number" ? [destination] : destination).map((s) => normalizeAxis("moveaxis", s, a.ndim));
  if (src.length !== dst.length)
    throw new Error(`moveaxis: source ${describeValue(source)} and destination ${describeValue(destination)} need the same number of axes.`);
  if (new Set(src).size !== src.length || new Set(dst).size !== dst.length)
    throw new Error(`moveaxis: repeated axis in source ${describeValue(source)} or destination ${describeValue(destination)}.`);
  const perm = new Array<number>(a.ndim).fill(-1);
  dst.forEach((d, i) => (perm[d] = src[i]!));
  const rest = a.shape.map((_, i) => i).filter((i) => !src.includes(i));
  let r = 0;
  for (let i = 0; i < perm.length; i++) if (perm[i] === -1) perm[i] = rest[r++]!;
  return S.transpose(a, perm);
}
/**
 * Exchanges two axes.
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.swapaxes(np.zeros([2, 3, 4]), 0, 2).shape); // [4, 3, 2]
 * ```
 */
export function swapaxes(x: ArrayLike, axis1: number, axis2: number): NDArray {
  const a = asArray(x, undefined, "swapaxes");
  const i = normalizeAxis("swapaxes", axis1, a.ndim);
  const j = normalizeAxis("swapaxes", axis2, a.ndim);
  const perm = a.shape.map((_, k) => (k === i ? j : k === j ? i : k));
  return S.transpose(a, perm);
}
/**
 * The elements as a 1-d array (row-major).
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.ravel(np.array([[1, 2], [3, 4]])).toJs()); // [1, 2, 3, 4]
 * ```
 */
export function ravel(x: ArrayLike): NDArray {
  const a = asArray(x, undefined, "ravel");
  return S.reshape(a, [a.size]);
}

/**
 * Coordinate arrays from 1-d coordinate vectors; the last argument may be the options
 * `{ indexing: "xy" | "ij" }` ("xy", the default, swaps the first two output axes, as
 * NumPy).
 * @example
 * ```ts
 * import { np } from "cotangent";
 * const [X, Y] = np.meshgrid(np.array([1, 2, 3]), np.array([4, 5]));
 * console.log(X!.toJs(), Y!.toJs()); // [[1, 2, 3], [1, 2, 3]] [[4, 4, 4], [5, 5, 5]]
 * console.log(np.meshgrid(np.array([1, 2, 3]), np.array([4, 5]), { indexing: "ij" })[0]!.shape); // [3, 2]
 * ```
 */
export function meshgrid(...args: (ArrayLike | { indexing?: "xy" | "ij" })[]): NDArray[] {
  const last = args[args.length - 1];
  const hasOpts = last !== undefined && typeof last === "object" && !(last instanceof NDArray);
  const o = hasOpts ? checkOptions("meshgrid", last as { indexing?: "xy" | "ij" }, '{ indexing: "ij" }', ["indexing"]) : {};
  const indexing = o.indexing ?? "xy";
  if (indexing !== "xy" && indexing !== "ij") throw new Error(`meshgrid: indexing must be "xy" or "ij", got ${describeValue(indexing)}.`);
  const xs = (hasOpts ? args.slice(0, -1) : args).map((x, i) => {
    const a = asArray(x as ArrayLike, undefined, `meshgrid (argument ${i})`);
    return S.reshape(a, [a.size]);
  });
  const sizes = xs.map((a) => a.aval.shape[0]!);
  const swap = indexing === "xy" && xs.length >= 2;
  const outShape = [...sizes];
  if (swap) [outShape[0], outShape[1]] = [outShape[1]!, outShape[0]!];
  return xs.map((a, i) => {
    const pos = swap && i < 2 ? 1 - i : i;
    const shape = outShape.map((_, k) => (k === pos ? sizes[i]! : 1));
    return S.broadcastTo(S.reshape(a, shape), outShape);
  });
}

// ------------------------------------------------------------------ contractions

/**
 * A dot_general-style product: `a`'s axes `[batch..., free..., contracted...]` against
 * `b`'s `[batch..., contracted..., free...]` as one batched matmul; the result has axes
 * `[batch..., freeA..., freeB...]`.
 */
function contract(a: NDArray, b: NDArray, aBatch: number[], bBatch: number[], aCon: number[], bCon: number[]): NDArray {
  const aFree = a.shape.map((_, i) => i).filter((i) => !aBatch.includes(i) && !aCon.includes(i));
  const bFree = b.shape.map((_, i) => i).filter((i) => !bBatch.includes(i) && !bCon.includes(i));
  const sa = a.aval.shape;
  const sb = b.aval.shape;
  const bs = aBatch.map((i) => sa[i]!);
  const fa = aFree.map((i) => sa[i]!);
  const fb = bFree.map((i) => sb[i]!);
  const k = sizeOf(aCon.map((i) => sa[i]!));
  const at = S.reshape(S.transpose(a, [...aBatch, ...aFree, ...aCon]), [sizeOf(bs), sizeOf(fa), k]);
  const bt = S.reshape(S.transpose(b, [...bBatch, ...bCon, ...bFree]), [sizeOf(bs), k, sizeOf(fb)]);
  return S.reshape(matmulRaw(at, bt), [...bs, ...fa, ...fb]);
}

function promotePair(op: string, x: ArrayLike, y: ArrayLike): [NDArray, NDArray] {
  const a = asArray(x, undefined, op);
  const b = asArray(y, undefined, op);
  let d = promoteTypes(a.dtype, b.dtype);
  if (d === "bool") d = "int32";
  return [E.convert(a, d), E.convert(b, d)];
}

/**
 * Sums products over axes: `axes = n` contracts the last n axes of `a` with the first
 * n of `b` (default 2); `axes = [axesA, axesB]` names them.
 * @example
 * ```ts
 * import { np } from "cotangent";
 * const a = np.arange(6).reshape([2, 3]);
 * console.log(np.tensordot(a, np.ones([3, 2]), { axes: 1 }).toJs(), np.tensordot(a, a, { axes: [[0, 1], [0, 1]] }).item()); // [[3, 3], [12, 12]] 55
 * ```
 */
export function tensordot(x: ArrayLike, y: ArrayLike, opts: { axes?: number | [number[], number[]] } = {}): NDArray {
  const o = checkOptions("tensordot", opts, "{ axes: 1 }", ["axes"]);
  const [a, b] = promotePair("tensordot", x, y);
  const axes = o.axes ?? 2;
  let ca: number[];
  let cb: number[];
  if (typeof axes === "number") {
    if (!Number.isInteger(axes) || axes < 0 || axes > a.ndim || axes > b.ndim)
      throw new Error(`tensordot: axes = ${axes} needs that many axes in both ${fmtShape(a.shape)} and ${fmtShape(b.shape)}.`);
    ca = Array.from({ length: axes }, (_, i) => a.ndim - axes + i);
    cb = Array.from({ length: axes }, (_, i) => i);
  } else if (Array.isArray(axes) && axes.length === 2 && Array.isArray(axes[0]) && Array.isArray(axes[1])) {
    ca = axes[0].map((i) => normalizeAxis("tensordot", i, a.ndim));
    cb = axes[1].map((i) => normalizeAxis("tensordot", i, b.ndim));
    if (ca.length !== cb.length)
      throw new Error(`tensordot: axes ${describeValue(axes)} name ${ca.length} axes of a and ${cb.length} of b; they must pair up.`);
  } else throw new Error(`tensordot: axes must be an integer or [axesOfA, axesOfB], got ${describeValue(axes)}.`);
  ca.forEach((i, k) => {
    if (a.aval.shape[i] !== b.aval.shape[cb[k]!])
      throw new Error(
        `tensordot: axis ${i} of a ${fmtShape(a.shape)} (length ${a.aval.shape[i]}) does not match axis ${cb[k]} of b ${fmtShape(b.shape)} (length ${b.aval.shape[cb[k]!]}).`,
      );
  });
  return contract(a, b, [], [], ca, cb);
}
/**
 * Inner product over the last axes (`sum(a[..., :] * b[..., :])` for every pair of
 * leading indices).
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.inner(np.array([1, 2, 3]), np.array([4, 5, 6])).item(), np.inner(np.eye(2), np.array([1, 2])).toJs()); // 32 [1, 2]
 * ```
 */
export function inner(x: ArrayLike, y: ArrayLike): NDArray {
  const [a, b] = promotePair("inner", x, y);
  if (a.ndim === 0 || b.ndim === 0) return E.mul(a, b);
  if (a.aval.shape[a.ndim - 1] !== b.aval.shape[b.ndim - 1]) throw new Error(`inner: the last axes of ${fmtShape(a.shape)} and ${fmtShape(b.shape)} differ.`);
  return contract(a, b, [], [], [a.ndim - 1], [b.ndim - 1]);
}

interface Term {
  x: NDArray;
  subs: string[];
}
/** Sums the axes of `t` whose letters are in `drop`, and takes diagonals of repeated letters. */
function simplifyTerm(t: Term, keep: (c: string) => boolean): Term {
  let { x, subs } = t;
  // repeated letters within one operand: take the diagonal
  for (let i = 0; i < subs.length; i++) {
    const j = subs.indexOf(subs[i]!, i + 1);
    if (j < 0) continue;
    const rest = subs.filter((_, k) => k !== i && k !== j);
    x = diagonalOf("einsum", x, { axis1: i, axis2: j });
    subs = [...rest, subs[i]!];
    i = -1;
  }
  const drop = subs.flatMap((c, i) => (keep(c) ? [] : [i]));
  if (drop.length) {
    x = reduceSum(x, drop);
    subs = subs.filter((_, i) => !drop.includes(i));
  }
  return { x, subs };
}

/**
 * Einstein summation: `"ij,jk->ik"` (an omitted `->` keeps the letters that appear
 * once, in alphabetical order); `"..."` stands for the remaining (broadcast) axes, as
 * in `"...ij,...jk->...ik"`. Lowered to pairwise dot_general-style products, the
 * pair with the smallest result first, never to an outer product of all operands.
 * @example
 * ```ts
 * import { np } from "cotangent";
 * const a = np.arange(6).reshape([2, 3]);
 * console.log(np.einsum("ij,jk->ik", a, np.ones([3, 2])).toJs(), np.einsum("ii", np.eye(3)).item(), np.einsum("ij->ji", a).shape); // [[3, 3], [12, 12]] 3 [3, 2]
 * console.log(np.einsum("i,i,i->", np.array([1, 2]), np.array([3, 4]), np.array([5, 6])).item()); // 63
 * console.log(np.einsum("...ij,jk->...ik", np.ones([4, 2, 3]), np.ones([3, 5])).shape); // [4, 2, 5]
 * ```
 */
export function einsum(subscripts: string, ...operands: ArrayLike[]): NDArray {
  if (typeof subscripts !== "string")
    throw new Error(`einsum: the first argument must be a subscripts string such as "ij,jk->ik", got ${describeValue(subscripts)}.`);
  const spec = subscripts.replace(/\s+/g, "");
  const arrow = spec.indexOf("->");
  const lhs = (arrow >= 0 ? spec.slice(0, arrow) : spec).replace(/\.\.\./g, "*");
  const rhs = arrow >= 0 ? spec.slice(arrow + 2).replace(/\.\.\./g, "*") : null;
  const inputs = lhs.split(",");
  for (const part of [...inputs, rhs ?? ""]) {
    if (!/^[a-zA-Z]*\*?[a-zA-Z]*$/.test(part))
      throw new Error(`einsum: subscripts ${JSON.stringify(subscripts)} may only contain letters, one "..." per operand, "," and "->".`);
  }
  if (inputs.length !== operands.length)
    throw new Error(`einsum: subscripts ${JSON.stringify(subscripts)} name ${inputs.length} operand(s) but ${operands.length} were given.`);
  let arrs = operands.map((o, i) => asArray(o, undefined, `einsum (operand ${i})`));
  let d = arrs.map((a) => a.dtype).reduce(promoteTypes);
  if (d === "bool") d = "int32";
  // "...": the broadcast of the operands' remaining leading axes, named by letters outside a-z, A-Z
  const named = inputs.map((p) => p.replace("*", "").length);
  arrs.forEach((a, i) => {
    const hasEll = inputs[i]!.includes("*");
    if (hasEll ? a.ndim < named[i]! : a.ndim !== named[i]) {
      throw new Error(
        `einsum: operand ${i} has rank ${a.ndim} (shape ${fmtShape(a.shape)}) but its subscripts ${JSON.stringify(inputs[i]!.replace("*", "..."))} have rank ${hasEll ? `${named[i]} plus "..."` : named[i]}.`,
      );
    }
  });
  const ellShapes = arrs.map((a, i) => {
    if (!inputs[i]!.includes("*")) return null;
    const at = inputs[i]!.indexOf("*");
    return a.aval.shape.slice(at, at + a.ndim - named[i]!);
  });
  const ellShape = broadcastShapes("einsum (the axes under ...)", ...ellShapes.filter((e): e is number[] => e !== null));
  const ellLetters = ellShape.map((_, k) => String.fromCharCode(0x3b1 + k));
  const expanded = (part: string): string[] => {
    const at = part.indexOf("*");
    return at < 0 ? [...part] : [...part.slice(0, at), ...ellLetters, ...part.slice(at + 1)];
  };
  arrs = arrs.map((a, i) => {
    const e = ellShapes[i];
    if (e === null || e === undefined) return a;
    const at = inputs[i]!.indexOf("*");
    const sh = a.aval.shape;
    const full = [...sh.slice(0, at), ...ellShape, ...sh.slice(at + e.length)];
    const padded = S.reshape(a, [...sh.slice(0, at), ...new Array<number>(ellShape.length - e.length).fill(1), ...sh.slice(at)]);
    return S.broadcastTo(padded, full);
  });
  const sizes = new Map<string, number>();
  const terms: Term[] = arrs.map((a, i) => {
    const subs = expanded(inputs[i]!);
    subs.forEach((c, k) => {
      const n = a.aval.shape[k]!;
      const prev = sizes.get(c);
      if (prev !== undefined && prev !== n)
        throw new Error(`einsum: index ${c} has length ${prev} in one place and ${n} in operand ${i} (shape ${fmtShape(a.shape)}).`);
      sizes.set(c, n);
    });
    return { x: E.convert(a, d), subs };
  });
  const counts = new Map<string, number>();
  for (const t of terms) for (const c of t.subs) counts.set(c, (counts.get(c) ?? 0) + 1);
  const out = rhs !== null ? expanded(rhs) : [...ellLetters, ...[...counts.keys()].filter((c) => counts.get(c) === 1 && !ellLetters.includes(c)).sort()];
  for (const c of out) if (!sizes.has(c)) throw new Error(`einsum: output index ${c} in ${JSON.stringify(subscripts)} appears in no operand.`);
  if (new Set(out).size !== out.length) throw new Error(`einsum: output subscripts in ${JSON.stringify(subscripts)} repeat an index.`);
  // letters still needed by the output or by another operand
  const neededOutside = (c: string, skip: Term[]): boolean => out.includes(c) || terms.some((t) => !skip.includes(t) && t.subs.includes(c));
  for (let i = 0; i < terms.length; i++) terms[i] = simplifyTerm(terms[i]!, (c) => neededOutside(c, [terms[i]!]));
  while (terms.length > 1) {
    // greedy: contract the pair with the smallest result
    let best: [number, number, number] = [0, 1, Infinity];
    for (let i = 0; i < terms.length; i++) {
      for (let j = i + 1; j < terms.length; j++) {
        const ti = terms[i]!;
        const tj = terms[j]!;
        const letters = new Set([...ti.subs, ...tj.subs]);
        let size = 1;
        for (const c of letters) if (neededOutside(c, [ti, tj])) size *= sizes.get(c)!;
        if (size < best[2]) best = [i, j, size];
      }
    }
    const [i, j] = best;
    const A = terms[i]!;
    const B = terms[j]!;
    const shared = A.subs.filter((c) => B.subs.includes(c));
    const batch = shared.filter((c) => neededOutside(c, [A, B]));
    const con = shared.filter((c) => !batch.includes(c));
    const x = contract(
      A.x,
      B.x,
      batch.map((c) => A.subs.indexOf(c)),
      batch.map((c) => B.subs.indexOf(c)),
      con.map((c) => A.subs.indexOf(c)),
      con.map((c) => B.subs.indexOf(c)),
    );
    const subs = [...batch, ...A.subs.filter((c) => !shared.includes(c)), ...B.subs.filter((c) => !shared.includes(c))];
    terms.splice(j, 1);
    terms.splice(i, 1);
    const t: Term = { x, subs };
    terms.push(simplifyTerm(t, (c) => neededOutside(c, [t])));
  }
  const last = terms[0]!;
  return S.transpose(
    last.x,
    out.map((c) => last.subs.indexOf(c)),
  );
}
