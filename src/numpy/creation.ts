/** Array creation. @module */
import { ConcreteArray, NDArray, ShapedArray } from "../core/array.js";
import { moveTo } from "../core/device.js";
import { type DType, type TypedArray, allocate, castScalar, isDType } from "../core/dtype.js";
import { checkOptions, checkShape, describeValue, fmtShape, sizeOf } from "../core/shape.js";
import type { BackendName } from "../core/device.js";
import { asArray, convert, full as fullArray } from "../primitives/elementwise.js";
import { reshape } from "../primitives/shape.js";

/** Options of {@link array}. */
export interface ArrayOptions {
  /** Element type; default float32 for numbers, bool for booleans, the typed array's own type for typed arrays. */
  dtype?: DType;
  /** Shape to give flat data (a typed array or a flat JS array). */
  shape?: number[];
  /** Put the array on this backend and commit it there (see `setDefaultBackend`); default: uncommitted, on the CPU until an operation moves it. */
  backend?: BackendName;
}

/** Nested JS data accepted by {@link array}. */
export type ArrayData = number | boolean | TypedArray | NDArray | readonly ArrayData[];

function checkDType(op: string, d: unknown): DType | undefined {
  if (d === undefined) return undefined;
  if (!isDType(d)) throw new Error(`${op}: unknown dtype ${describeValue(d)}; use one of "float32", "float64", "int32", "bool".`);
  return d;
}

function typedDType(t: TypedArray): DType {
  if (t instanceof Float64Array) return "float64";
  if (t instanceof Int32Array) return "int32";
  if (t instanceof Uint8Array) return "bool";
  return "float32";
}

/**
 * Creates an array from a number, a boolean, nested JS arrays, or a typed array.
 * Ragged nesting is an error naming the position where lengths differ.
 *
 * @example
 * ```ts
 * import { np } from "cotangent";
 * const a = np.array([[1, 2, 3], [4, 5, 6]]);
 * console.log(a.shape, a.dtype); // [2, 3] "float32"
 * const b = np.array([1, 2], { dtype: "float64" });
 * const c = np.array(new Int32Array([1, 2, 3, 4]), { shape: [2, 2] });
 * console.log(b.dtype, c.toJs()); // float64 [[1, 2], [3, 4]]
 * ```
 */
export function array(data: ArrayData, opts: ArrayOptions = {}): NDArray {
  opts = checkOptions("np.array", opts, `{ dtype: "float64", shape: [2, 3] }`, ["dtype", "shape", "backend"]);
  if (opts.backend !== undefined) {
    const { backend, ...rest } = opts;
    return moveTo(array(data, rest), backend, "np.array");
  }
  const dtype = checkDType("np.array", opts.dtype);
  if (data instanceof NDArray) {
    const x = dtype ? convert(data, dtype) : data;
    return opts.shape ? withShape(x, opts.shape) : x;
  }
  if (ArrayBuffer.isView(data)) {
    if (data instanceof DataView || !("length" in data)) throw new Error(`np.array: a DataView is not accepted; pass a typed array such as Float32Array.`);
    const t = data as TypedArray;
    const d = dtype ?? typedDType(t);
    if (d === "int32" && !(t instanceof Int32Array || t instanceof Uint8Array)) checkInt32("np.array", t);
    const buf = allocate(d, t.length);
    for (let i = 0; i < t.length; i++) buf[i] = castScalar(t[i]!, d);
    const shape = opts.shape ? checkShape("np.array", opts.shape) : [t.length];
    if (sizeOf(shape) !== t.length)
      throw new Error(
        `np.array: ${t.length} values cannot have shape ${fmtShape(shape)} (${sizeOf(shape)} elements); give a shape whose sizes multiply to ${t.length}.`,
      );
    return new ConcreteArray(new ShapedArray(shape, d), buf);
  }
  // nested JS data: infer the shape and check it is rectangular
  const shape: number[] = [];
  let probe: unknown = data;
  while (Array.isArray(probe)) {
    shape.push(probe.length);
    probe = probe[0];
  }
  const flat: number[] = [];
  let sawBool = false;
  let sawNumber = false;
  const walk = (x: unknown, depth: number, path: number[]): void => {
    if (depth === shape.length) {
      if (Array.isArray(x))
        throw new Error(
          `np.array: ragged nested array: element at [${path.join("][")}] is an array but elements before it at that depth are scalars; every row must have the same shape (expected shape ${fmtShape(shape)}).`,
        );
      if (typeof x === "boolean") {
        sawBool = true;
        flat.push(x ? 1 : 0);
      } else if (typeof x === "number") {
        sawNumber = true;
        flat.push(x);
      } else if (x instanceof NDArray) {
        throw new Error(`np.array: nested arrays of cotangent Arrays are not accepted; use np.stack to combine arrays.`);
      } else {
        throw new Error(
          `np.array: ${path.length ? `the element at [${path.join("][")}]` : "the data"} is ${describeValue(x)}${x === null || typeof x === "object" || typeof x === "function" ? "" : ` (a ${typeof x})`}; only numbers, booleans, nested JS arrays of them, typed arrays and Arrays are accepted.`,
        );
      }
      return;
    }
    if (!Array.isArray(x) || x.length !== shape[depth]) {
      throw new Error(
        `np.array: ragged nested array: the element at [${path.join("][")}] has ${Array.isArray(x) ? `length ${x.length}` : "no length (a scalar)"} but length ${shape[depth]} was expected from the first element at that depth; every row must have the same length.`,
      );
    }
    for (let i = 0; i < x.length; i++) {
      if (!(i in x)) {
        throw new Error(
          `np.array: the JS array has a hole (an empty slot, as in [1, , 3]) at [${[...path, i].join("][")}]; every element must be given. Fill it with a number (or NaN) first.`,
        );
      }
      walk(x[i], depth + 1, [...path, i]);
    }
  };
  walk(data, 0, []);
  const d = dtype ?? (sawBool && !sawNumber ? "bool" : "float32");
  if (d === "int32") checkInt32("np.array", flat, shape);
  const buf = allocate(d, flat.length);
  for (let i = 0; i < flat.length; i++) buf[i] = castScalar(flat[i]!, d);
  let out: NDArray = new ConcreteArray(new ShapedArray(shape, d), buf);
  if (opts.shape) out = withShape(out, opts.shape);
  return out;
}

/**
 * As JAX's OverflowError: values that int32 cannot hold (NaN, ±Infinity, or an integer
 * part outside -2^31..2^31-1) are an Error in np.array; `astype("int32")` wraps instead,
 * as NumPy's C casts do.
 */
function checkInt32(op: string, values: ArrayLike<number>, shape?: readonly number[]): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    const t = Math.trunc(v);
    if (t >= -2147483648 && t <= 2147483647) continue;
    const where = shape && shape.length > 0 ? ` at [${unravel(i, shape).join("][")}]` : values.length > 1 ? ` at flat index ${i}` : "";
    throw new Error(
      `${op}: the value ${String(v)}${where} does not fit in int32 (integers -2147483648..2147483647${Number.isNaN(v) || !Number.isFinite(v) ? "; NaN and infinities have no int32 value" : ""}), as JAX's OverflowError. ` +
        `Use dtype "float64" (or "float32"), or convert an existing array with astype("int32"), which wraps as C casts do.`,
    );
  }
}

function unravel(i: number, shape: readonly number[]): number[] {
  const out = new Array<number>(shape.length);
  for (let k = shape.length - 1; k >= 0; k--) {
    out[k] = i % shape[k]!;
    i = Math.floor(i / shape[k]!);
  }
  return out;
}

function withShape(x: NDArray, shape: number[]): NDArray {
  checkShape("np.array", shape);
  if (sizeOf(shape) !== x.size)
    throw new Error(
      `np.array: ${x.size} values cannot have shape ${fmtShape(shape)} (${sizeOf(shape)} elements); give a shape whose sizes multiply to ${x.size}.`,
    );
  return reshape(x, shape);
}

/**
 * An array of zeros.
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.zeros([2, 2]).toJs()); // [[0, 0], [0, 0]]
 * ```
 */
export function zeros(shape: number[], dtype: DType = "float32"): NDArray {
  return filled("np.zeros", shape, 0, dtype);
}
/**
 * An array of ones.
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.ones([3], "int32").toJs()); // [1, 1, 1]
 * ```
 */
export function ones(shape: number[], dtype: DType = "float32"): NDArray {
  return filled("np.ones", shape, 1, dtype);
}
/**
 * An array filled with `value`.
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.full([2], 7).toJs()); // [7, 7]
 * ```
 */
export function full(shape: number[], value: number, dtype: DType = "float32"): NDArray {
  return filled("np.full", shape, value, dtype);
}
function filled(op: string, shape: number[], value: number, dtype: DType): NDArray {
  checkShape(op, shape);
  if (typeof value !== "number" && typeof value !== "boolean")
    throw new Error(`${op}: the fill value must be a number or a boolean, got ${describeValue(value)}.`);
  const d = checkDType(op, dtype)!;
  const buf = allocate(d, sizeOf(shape));
  buf.fill(castScalar(value, d));
  return new ConcreteArray(new ShapedArray(shape, d), buf);
}
/**
 * Zeros with the shape and dtype of `x`.
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.zerosLike(np.array([1, 2])).toJs()); // [0, 0]
 * ```
 */
export function zerosLike(x: NDArray): NDArray {
  const a = asArray(x, undefined, "np.zerosLike");
  return fullArray(a.aval.shape, 0, a.dtype);
}
/**
 * Ones with the shape and dtype of `x`.
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.onesLike(np.array([1, 2])).toJs()); // [1, 1]
 * ```
 */
export function onesLike(x: NDArray): NDArray {
  const a = asArray(x, undefined, "np.onesLike");
  return fullArray(a.aval.shape, 1, a.dtype);
}

/**
 * Evenly spaced values in `[start, stop)`: `arange(stop)`, `arange(start, stop, step)`.
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.arange(4).toJs(), np.arange(1, 2, 0.5).toJs()); // [0, 1, 2, 3] [1, 1.5]
 * ```
 */
export function arange(start: number, stop?: number, step = 1, dtype: DType = "float32"): NDArray {
  if (stop === undefined) {
    stop = start;
    start = 0;
  }
  for (const [name, v] of [
    ["start", start],
    ["stop", stop],
    ["step", step],
  ] as const) {
    if (typeof v !== "number" || !Number.isFinite(v)) throw new Error(`np.arange: ${name} must be a finite number, got ${describeValue(v)}.`);
  }
  if (step === 0) throw new Error(`np.arange: step must be non-zero, got 0.`);
  const n = Math.max(0, Math.ceil((stop - start) / step));
  const d = checkDType("np.arange", dtype)!;
  const buf = allocate(d, n);
  for (let i = 0; i < n; i++) buf[i] = castScalar(start + i * step, d);
  return new ConcreteArray(new ShapedArray([n], d), buf);
}

/**
 * `n` evenly spaced values from `a` to `b` inclusive.
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.linspace(0, 1, 5).toJs()); // [0, 0.25, 0.5, 0.75, 1]
 * ```
 */
export function linspace(a: number, b: number, n: number, dtype: DType = "float32"): NDArray {
  if (!Number.isInteger(n) || n < 0) throw new Error(`np.linspace: n must be a non-negative integer, got ${describeValue(n)}.`);
  for (const [name, v] of [
    ["start", a],
    ["stop", b],
  ] as const) {
    if (typeof v !== "number" || !Number.isFinite(v)) throw new Error(`np.linspace: ${name} must be a finite number, got ${describeValue(v)}.`);
  }
  const d = checkDType("np.linspace", dtype)!;
  const buf = allocate(d, n);
  for (let i = 0; i < n; i++) buf[i] = castScalar(n === 1 ? a : a + ((b - a) * i) / (n - 1), d);
  return new ConcreteArray(new ShapedArray([n], d), buf);
}

/**
 * The `n × n` identity matrix.
 * @example
 * ```ts
 * import { np } from "cotangent";
 * console.log(np.eye(2).toJs()); // [[1, 0], [0, 1]]
 * ```
 */
export function eye(n: number, dtype: DType = "float32"): NDArray {
  if (!Number.isInteger(n) || n < 0) throw new Error(`np.eye: n must be a non-negative integer, got ${describeValue(n)}.`);
  const d = checkDType("np.eye", dtype)!;
  const buf = allocate(d, n * n);
  for (let i = 0; i < n; i++) buf[i * n + i] = 1;
  return new ConcreteArray(new ShapedArray([n, n], d), buf);
}
