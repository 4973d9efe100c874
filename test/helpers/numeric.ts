/**
 * Shared numeric test utilities: float64 arrays, seeded random data, flat views of
 * pytrees, closeness assertions with readable messages, central finite differences
 * and Jacobian/Hessian references built from them.
 *
 * Everything here is an independent reference: finite differences only evaluate the
 * function (never a transform), and the linear-algebra helpers work on plain JS numbers.
 */
import { type Array as NDArray, type DType, np, tree } from "../../src/index.js";

/** A float64 array from nested JS data (the dtype every reference computation uses). */
export function f64(data: np.ArrayData, shape?: number[]): NDArray {
  return np.array(data, shape ? { dtype: "float64", shape } : { dtype: "float64" });
}

/** An array of the given shape and dtype from a flat list of numbers. */
export function fromFlat(values: ArrayLike<number>, shape: readonly number[], dtype: DType = "float64"): NDArray {
  const n = shape.reduce((a, b) => a * b, 1);
  if (values.length !== n) throw new Error(`fromFlat: ${values.length} values for shape [${shape.join(",")}]`);
  return np.array(Array.from(values), { dtype, shape: [...shape] });
}

/** The values of an array as a plain JS number list (row-major). */
export function toNumbers(x: NDArray | number): number[] {
  return typeof x === "number" ? [x] : Array.from(x.data(), Number);
}

/** All leaves of a pytree of arrays/numbers, concatenated into one number list. */
export function flatNumbers(t: unknown): number[] {
  return tree.leaves(t).flatMap((l) => toNumbers(l as NDArray | number));
}

/** Deterministic uniform random numbers in [0, 1) (mulberry32). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random array with entries uniform in [lo, hi), from `rand`. */
export function randomArray(rand: () => number, shape: readonly number[], lo = -1, hi = 1, dtype: DType = "float64"): NDArray {
  const n = shape.reduce((a, b) => a * b, 1);
  return fromFlat(
    Array.from({ length: n }, () => lo + (hi - lo) * rand()),
    shape,
    dtype,
  );
}

/** A pytree with the structure, shapes and dtypes of `like`, filled with random values. */
export function randomLike<T>(rand: () => number, like: T, lo = -1, hi = 1): T {
  return tree.map((x: NDArray) => randomArray(rand, x.shape, lo, hi, x.dtype), like as unknown) as T;
}

/** Inner product of two pytrees with the same structure. */
export function vdot(a: unknown, b: unknown): number {
  const x = flatNumbers(a);
  const y = flatNumbers(b);
  if (x.length !== y.length) throw new Error(`vdot: ${x.length} vs ${y.length} numbers`);
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]! * y[i]!;
  return s;
}

/** Tolerances: |a - b| <= atol + rtol * |b| elementwise. */
export interface Tolerance {
  rtol?: number;
  atol?: number;
}

/** The first element that violates the tolerance, described, or null when all are close. */
export function closeness(actual: readonly number[], expected: readonly number[], tol: Tolerance = {}): string | null {
  const rtol = tol.rtol ?? 1e-6;
  const atol = tol.atol ?? 1e-8;
  if (actual.length !== expected.length) return `length ${actual.length} != expected length ${expected.length}`;
  let worst: { i: number; excess: number } | null = null;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const b = expected[i]!;
    if (Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b))) continue;
    const diff = Math.abs(a - b);
    const excess = Number.isNaN(diff) ? Infinity : diff - (atol + rtol * Math.abs(b));
    if (excess > 0 && (worst === null || excess > worst.excess)) worst = { i, excess };
  }
  if (worst === null) return null;
  const k = worst.i;
  return `element ${k}: got ${actual[k]}, expected ${expected[k]} (|diff| ${Math.abs(actual[k]! - expected[k]!).toExponential(3)}, rtol ${rtol}, atol ${atol})`;
}

/**
 * Asserts that two pytrees (arrays, numbers, nested lists/objects) have the same
 * structure and shapes and elementwise close values.
 */
export function expectClose(actual: unknown, expected: unknown, tol: Tolerance = {}, what = "value"): void {
  const [la, da] = tree.flatten(actual);
  const [lb, db] = tree.flatten(expected);
  if (!da.equals(db)) throw new Error(`${what}: structure ${da.toString()} != expected ${db.toString()}`);
  la.forEach((a, i) => {
    const b = lb[i];
    const sa = typeof a === "number" ? [] : (a as NDArray).shape;
    const sb = typeof b === "number" ? [] : (b as NDArray).shape;
    if (sa.length !== sb.length || sa.some((d, j) => d !== sb[j]))
      throw new Error(`${what}: leaf ${i} has shape [${sa.join(",")}], expected [${sb.join(",")}]`);
    const msg = closeness(toNumbers(a as NDArray), toNumbers(b as NDArray), tol);
    if (msg) throw new Error(`${what}: leaf ${i}: ${msg}`);
  });
}

/** `a * x + y` on pytrees of float arrays (every leaf computed eagerly). */
function axpy(a: number, x: unknown, y: unknown): unknown {
  return tree.map((xi: NDArray, yi: NDArray) => np.add(yi, np.multiply(xi, a)), x, y);
}

/**
 * Central finite difference of `f` at `args` along `dirs` (one direction per argument,
 * pytrees allowed): `(f(x + εv) - f(x - εv)) / 2ε`, with the output structure of `f`.
 * Use float64 inputs: the truncation error is O(ε²), the rounding error O(1e-16/ε).
 */
export function centralDifference(f: (...args: any[]) => unknown, args: readonly unknown[], dirs: readonly unknown[], eps = 1e-5): unknown {
  const plus = f(...args.map((x, i) => axpy(eps, dirs[i], x)));
  const minus = f(...args.map((x, i) => axpy(-eps, dirs[i], x)));
  return tree.map((p: NDArray, m: NDArray) => np.divide(np.subtract(p, m), 2 * eps), plus, minus);
}

/**
 * A sharper central difference (Richardson extrapolation of two step sizes, O(ε⁴)):
 * `(4 D(ε/2) - D(ε)) / 3`. Useful where the function's third derivative is large.
 */
export function richardsonDifference(f: (...args: any[]) => unknown, args: readonly unknown[], dirs: readonly unknown[], eps = 1e-3): unknown {
  const d1 = centralDifference(f, args, dirs, eps);
  const d2 = centralDifference(f, args, dirs, eps / 2);
  return tree.map((a: NDArray, b: NDArray) => np.divide(np.subtract(np.multiply(b, 4), a), 3), d1, d2);
}

/** Dense matrix (row-major number[][]) of a linear map on flat number lists of size n. */
export function denseMatrix(apply: (e: number[]) => number[], n: number): number[][] {
  const cols: number[][] = [];
  for (let j = 0; j < n; j++) {
    const e = new Array<number>(n).fill(0);
    e[j] = 1;
    cols.push(apply(e));
  }
  const m = cols[0]?.length ?? 0;
  return Array.from({ length: m }, (_, i) => cols.map((c) => c[i]!));
}

/** Matrix-vector product on plain numbers. */
export function matVec(a: readonly (readonly number[])[], v: readonly number[]): number[] {
  return a.map((row) => row.reduce((s, r, j) => s + r * v[j]!, 0));
}

/**
 * Splits a flat number list into arrays shaped like the leaves of `like` (a pytree
 * of arrays), returning a pytree with `like`'s structure.
 */
export function unflattenNumbers<T>(like: T, values: readonly number[], dtype?: DType): T {
  const [leaves, def] = tree.flatten(like);
  let off = 0;
  const arrs = leaves.map((l) => {
    const x = l as NDArray;
    const part = values.slice(off, off + x.size);
    off += x.size;
    return fromFlat(part, x.shape, dtype ?? x.dtype);
  });
  if (off !== values.length) throw new Error(`unflattenNumbers: ${values.length} values for ${off} elements`);
  return tree.unflatten(def, arrs) as T;
}

/** Converts every float leaf of a pytree to `dtype`. */
export function castTree<T>(t: T, dtype: DType): T {
  return tree.map((x: NDArray) => (x.dtype === "float32" || x.dtype === "float64" ? x.astype(dtype) : x), t as unknown) as T;
}

/** The message of the Error that `f` throws (fails the test when it does not throw). */
export function errorMessage(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error("expected an error");
}
