/**
 * Arrays: the abstract value (shape + dtype), the user-facing `Array` base class that
 * both concrete arrays and tracers extend, and the concrete CPU array.
 * @module
 */
/// <reference lib="esnext.disposable" />
import { type DType, type TypedArray, allocate, shortName } from "./dtype.js";
import { type BackendName, type DeviceBuffer, moveTo } from "./device.js";
import { type Shape, sizeOf, stridesOf } from "./shape.js";

/**
 * An abstract value: what tracing knows about an array (its shape and dtype). Every
 * array has one (`x.aval`), and jaxpr variables are typed by them.
 *
 * @example
 * ```ts
 * import { ShapedArray, np } from "cotangent";
 * const s = new ShapedArray([2, 3], "float32");
 * console.log(s.toString(), s.size, s.ndim); // f32[2,3] 6 2
 * console.log(s.equals(np.zeros([2, 3]).aval)); // true
 * ```
 */
export class ShapedArray {
  readonly shape: readonly number[];
  constructor(
    shape: Shape,
    readonly dtype: DType,
  ) {
    this.shape = shape.slice();
  }
  get ndim(): number {
    return this.shape.length;
  }
  get size(): number {
    return sizeOf(this.shape);
  }
  equals(o: ShapedArray): boolean {
    return this.dtype === o.dtype && this.shape.length === o.shape.length && this.shape.every((d, i) => d === o.shape[i]);
  }
  /** `f32[2,3]`, as in JAX's printed IR. */
  toString(): string {
    return `${shortName(this.dtype)}[${this.shape.join(",")}]`;
  }
}

/** Options of reductions: `np.sum(x, { axis, keepdims })`. */
export interface ReduceOptions {
  axis?: number | number[] | null;
  keepdims?: boolean;
}

/** Nested JS arrays as returned by {@link NDArray.toJs}. */
export type NestedArray = number | boolean | NestedArray[];

/** An array or a JS number (numbers broadcast as weakly typed scalars). */
export type Operand = NDArray | number;

/**
 * One element of an index (`x.at(...index)`): an integer (negative counts from the end),
 * a slice string `"start:stop:step"` (any part may be empty), `null` (a new axis),
 * `"..."` (the remaining axes), or an int32 array / JS array of integers (advanced
 * indexing with NumPy's broadcasting rules).
 */
export type IndexElement = number | string | null | NDArray | readonly number[] | readonly (readonly number[])[];

/**
 * What `x.at(...index)` returns: the indexed view's value and functional updates of it.
 */
export interface IndexRef {
  /** `x[index]`. */
  get(): NDArray;
  /** `x` with `x[index] = v`. */
  set(v: Operand): NDArray;
  /** `x` with `x[index] += v` (duplicate indices accumulate). */
  add(v: Operand): NDArray;
  /** `x` with `x[index] *= v` (duplicate indices accumulate). */
  multiply(v: Operand): NDArray;
  /** `x` with `x[index] = minimum(x[index], v)`. */
  min(v: Operand): NDArray;
  /** `x` with `x[index] = maximum(x[index], v)`. */
  max(v: Operand): NDArray;
}

/** The np functions that fluent methods forward to (installed by the numpy module). */
export interface FluentImpl {
  add(a: Operand, b: Operand): NDArray;
  subtract(a: Operand, b: Operand): NDArray;
  multiply(a: Operand, b: Operand): NDArray;
  divide(a: Operand, b: Operand): NDArray;
  power(a: Operand, b: Operand): NDArray;
  negative(a: Operand): NDArray;
  matmul(a: Operand, b: Operand): NDArray;
  sum(a: Operand, o?: ReduceOptions): NDArray;
  mean(a: Operand, o?: ReduceOptions): NDArray;
  max(a: Operand, o?: ReduceOptions): NDArray;
  min(a: Operand, o?: ReduceOptions): NDArray;
  reshape(a: Operand, s: number[]): NDArray;
  transpose(a: Operand, axes?: number[]): NDArray;
  unary(name: string, a: NDArray): NDArray;
  astype(a: NDArray, d: DType): NDArray;
  at(a: NDArray, index: readonly IndexElement[]): IndexRef;
  method(name: string, a: NDArray, ...args: unknown[]): NDArray;
}

let fluent: FluentImpl | undefined;
/** @internal */
export function installFluent(impl: FluentImpl): void {
  fluent = impl;
}
function F(): FluentImpl {
  if (!fluent) throw new Error("cotangent: the numpy module is not loaded; import from the package root.");
  return fluent;
}

/**
 * An n-dimensional array. Concrete arrays and the tracers that transforms pass to
 * user functions both extend this class, so user code is written once for both.
 * Arrays are immutable: every operation returns a new array.
 *
 * @example
 * ```ts
 * import { np } from "cotangent";
 * const x = np.array([[1, 2], [3, 4]]);
 * console.log(x.shape, x.dtype); // [2, 2] "float32"
 * console.log(x.add(1).mul(2).sum().item()); // 28
 * ```
 */
export abstract class NDArray {
  /** The abstract value (shape and dtype). */
  abstract get aval(): ShapedArray;
  /** The concrete value behind this array, or an Error explaining why there is none. @internal */
  abstract concreteValue(op: string): ConcreteArray;

  /** The dimensions of the array. */
  get shape(): number[] {
    return [...this.aval.shape];
  }
  /** The element type. */
  get dtype(): DType {
    return this.aval.dtype;
  }
  /** The number of dimensions. */
  get ndim(): number {
    return this.aval.shape.length;
  }
  /** The number of elements. */
  get size(): number {
    return this.aval.size;
  }
  /** Nested JS arrays of the values (a number or boolean for 0-d arrays). */
  toJs(): NestedArray {
    return this.concreteValue("toJs()").toJs();
  }
  /** The single element of a 0-d or size-1 array, as a JS number (booleans as 0/1). */
  item(): number {
    const c = this.concreteValue("item()");
    if (c.size !== 1) {
      throw new Error(`item(): only arrays with one element can be read as a number; this one has shape [${c.shape.join(",")}]. Index or reduce it first.`);
    }
    return c.buffer[0]!;
  }
  /** A copy of the values in row-major order. */
  data(): TypedArray {
    return this.concreteValue("data()").buffer.slice();
  }
  /**
   * Converts to another dtype (float to int truncates toward zero; values outside int32
   * wrap modulo 2^32 and NaN gives 0, as NumPy's C casts, whereas `np.array(v, { dtype: "int32" })` throws).
   */
  astype(dtype: DType): NDArray {
    return F().astype(this, dtype);
  }
  add(y: Operand): NDArray {
    return F().add(this, y);
  }
  sub(y: Operand): NDArray {
    return F().subtract(this, y);
  }
  mul(y: Operand): NDArray {
    return F().multiply(this, y);
  }
  div(y: Operand): NDArray {
    return F().divide(this, y);
  }
  pow(y: Operand): NDArray {
    return F().power(this, y);
  }
  neg(): NDArray {
    return F().negative(this);
  }
  matmul(y: Operand): NDArray {
    return F().matmul(this, y);
  }
  sum(opts?: ReduceOptions): NDArray {
    return F().sum(this, opts);
  }
  mean(opts?: ReduceOptions): NDArray {
    return F().mean(this, opts);
  }
  max(opts?: ReduceOptions): NDArray {
    return F().max(this, opts);
  }
  min(opts?: ReduceOptions): NDArray {
    return F().min(this, opts);
  }
  reshape(shape: number[]): NDArray {
    return F().reshape(this, shape);
  }
  transpose(axes?: number[]): NDArray {
    return F().transpose(this, axes);
  }
  /** The transpose of a 2-d array. */
  get T(): NDArray {
    if (this.ndim !== 2) throw new Error(`.T: expects a 2-d array, got shape [${this.shape.join(",")}]; use transpose(axes) for other ranks.`);
    return F().transpose(this);
  }
  exp(): NDArray {
    return F().unary("exp", this);
  }
  log(): NDArray {
    return F().unary("log", this);
  }
  sin(): NDArray {
    return F().unary("sin", this);
  }
  cos(): NDArray {
    return F().unary("cos", this);
  }
  tanh(): NDArray {
    return F().unary("tanh", this);
  }
  sqrt(): NDArray {
    return F().unary("sqrt", this);
  }
  abs(): NDArray {
    return F().unary("abs", this);
  }
  square(): NDArray {
    return F().unary("square", this);
  }
  /**
   * Indexing and functional updates, as JAX's `x.at[...]`: `x.at(0, "1:", null).get()`,
   * `x.at(idx).add(v)`; see {@link IndexElement} for the index forms.
   */
  at(...index: IndexElement[]): IndexRef {
    return F().at(this, index);
  }
  /** `np.cumsum(this, opts)`. */
  cumsum(opts?: { axis?: number | null }): NDArray {
    return F().method("cumsum", this, opts);
  }
  /** `np.cumprod(this, opts)`. */
  cumprod(opts?: { axis?: number | null }): NDArray {
    return F().method("cumprod", this, opts);
  }
  /** `np.sort(this, opts)`. */
  sort(opts?: { axis?: number | null }): NDArray {
    return F().method("sort", this, opts);
  }
  /** `np.argsort(this, opts)`. */
  argsort(opts?: { axis?: number | null }): NDArray {
    return F().method("argsort", this, opts);
  }
  /** `np.flip(this, opts)`. */
  flip(opts?: { axis?: number | number[] | null }): NDArray {
    return F().method("flip", this, opts);
  }
  /** `np.ravel(this)`. */
  ravel(): NDArray {
    return F().method("ravel", this);
  }
  /** `np.swapaxes(this, axis1, axis2)`. */
  swapaxes(axis1: number, axis2: number): NDArray {
    return F().method("swapaxes", this, axis1, axis2);
  }
  /** `np.prod(this, opts)`. */
  prod(opts?: ReduceOptions): NDArray {
    return F().method("prod", this, opts);
  }
  /** `np.any(this, opts)`. */
  any(opts?: ReduceOptions): NDArray {
    return F().method("any", this, opts);
  }
  /** `np.all(this, opts)`. */
  all(opts?: ReduceOptions): NDArray {
    return F().method("all", this, opts);
  }
  /** `np.round(this, opts)`. */
  round(opts?: { decimals?: number }): NDArray {
    return F().method("round", this, opts);
  }
  /** `np.floor(this)`. */
  floor(): NDArray {
    return F().method("floor", this);
  }
  /** `np.ceil(this)`. */
  ceil(): NDArray {
    return F().method("ceil", this);
  }
  /** `np.diagonal(this, opts)`. */
  diagonal(opts?: { offset?: number; axis1?: number; axis2?: number }): NDArray {
    return F().method("diagonal", this, opts);
  }
  /** Where the values live: `"cpu"` (host memory) or `"gpu"` (a GPU texture). */
  get backend(): BackendName {
    return this.concreteValue("backend").backend;
  }
  /**
   * A copy of this array on `backend`, committed there: operations mixing it with arrays
   * committed to the other backend throw instead of moving data silently.
   */
  to(backend: BackendName): NDArray {
    return moveTo(this, backend, "to()");
  }
  /** Releases the array's GPU memory now instead of when it is garbage-collected (a no-op on the CPU). */
  dispose(): void {}
  /** `using x = ...` disposes the array at the end of the block. */
  [Symbol.dispose](): void {
    this.dispose();
  }
  /** A short description such as `Array(f32[2,3])` followed by the values when concrete. */
  toString(): string {
    return `Array(${this.aval.toString()})`;
  }
  /**
   * How JS converts an array in an expression (`x > 0`, `Number(x)`, `` `${x}` ``): a
   * concrete array with one element is its number (`"string"` hint: that number as text;
   * a bool gives `true`/`false`). An array with more elements throws on a numeric
   * conversion (its text form is {@link toString}). Under `jit` or `vmap` the value is
   * abstract or differs across the batch, so a numeric conversion throws an Error that
   * points to `np.where`, `lax.cond` or `staticArgnums`; under `grad`/`jvp` the value is
   * concrete and converts, as {@link item} does.
   *
   * @example
   * ```ts
   * import { np } from "cotangent";
   * const x = np.array(3);
   * console.log((x as unknown as number) > 0, Number(x) + 1, `${x}`); // true 4 3
   * ```
   */
  [Symbol.toPrimitive](hint: "number" | "string" | "default"): number | string {
    if (hint === "string") {
      let c: ConcreteArray | null = null;
      try {
        c = this.concreteValue("String()");
      } catch {
        c = null;
      }
      if (c === null || c.size !== 1) return this.toString();
      const v = c.buffer[0]!;
      return c.dtype === "bool" ? String(v !== 0) : String(v);
    }
    const op = "converting an array to a JS number (a comparison, arithmetic, an if/while condition or Number())";
    const c = this.concreteValue(op);
    if (c.size !== 1) {
      throw new Error(
        `${op}: only an array with one element converts to a number; this one has shape [${c.shape.join(",")}] (${c.size} elements). ` +
          `Reduce or index it first (x.sum(), np.any/np.all of a comparison, or x.item() on one element), or compare elementwise with np.greater and friends.`,
      );
    }
    return c.buffer[0]!;
  }
  /** `JSON.stringify(x)` writes the nested values ({@link toJs}). */
  toJSON(): NestedArray {
    return this.toJs();
  }
}

/**
 * A concrete array stored on the CPU as a row-major typed array (`buffer`). Arrays made
 * by `np` functions outside of transforms are ConcreteArrays; build them with
 * `np.array` rather than with this constructor.
 *
 * @example
 * ```ts
 * import { ConcreteArray, ShapedArray } from "cotangent";
 * const c = new ConcreteArray(new ShapedArray([2], "float64"), new Float64Array([1.5, 2]));
 * console.log(c.toJs(), c.dtype, c.mul(2).toJs()); // [1.5, 2] float64 [3, 4]
 * ```
 */
export class ConcreteArray extends NDArray {
  readonly #aval: ShapedArray;
  #buffer: TypedArray | null;
  /** The backend buffer holding the values when the array lives on the GPU; null for CPU arrays. @internal */
  readonly device: DeviceBuffer | null;
  /** The backend this array was explicitly put on (`np.array(x, { backend })`, `x.to(...)`), or null. @internal */
  committed: BackendName | null = null;
  constructor(aval: ShapedArray, buffer: TypedArray | null, device: DeviceBuffer | null = null) {
    super();
    this.#aval = aval;
    this.#buffer = buffer;
    this.device = device;
  }
  /** The row-major values (read back from the device the first time when the array lives on the GPU); never mutated. */
  get buffer(): TypedArray {
    return this.#buffer ?? this.#readBack();
  }
  #readBack(): TypedArray {
    return (this.#buffer = this.device!.read(this.#aval));
  }
  /** True when the values are in host memory (a CPU array, or a GPU array already read back). @internal */
  get hasHostCopy(): boolean {
    return this.#buffer !== null;
  }
  override get backend(): BackendName {
    return this.device ? this.device.backend : (this.committed ?? "cpu");
  }
  override dispose(): void {
    this.device?.free();
  }
  static zeros(shape: Shape, dtype: DType): ConcreteArray {
    return new ConcreteArray(new ShapedArray(shape, dtype), allocate(dtype, sizeOf(shape)));
  }
  static scalar(v: number, dtype: DType): ConcreteArray {
    const b = allocate(dtype, 1);
    b[0] = dtype === "bool" ? (v ? 1 : 0) : v;
    return new ConcreteArray(new ShapedArray([], dtype), b);
  }
  get aval(): ShapedArray {
    return this.#aval;
  }
  concreteValue(): ConcreteArray {
    return this;
  }
  override toJs(): NestedArray {
    const { shape, dtype } = this.#aval;
    const buf = this.buffer;
    const conv = (v: number): number | boolean => (dtype === "bool" ? v !== 0 : v);
    if (shape.length === 0) return conv(buf[0]!);
    const strides = stridesOf(shape);
    const rec = (dim: number, off: number): NestedArray[] => {
      const n = shape[dim]!;
      const out: NestedArray[] = new Array(n);
      for (let i = 0; i < n; i++) {
        const o = off + i * strides[dim]!;
        out[i] = dim === shape.length - 1 ? conv(buf[o]!) : rec(dim + 1, o);
      }
      return out;
    };
    return rec(0, 0);
  }
  override toString(): string {
    const fmt = (v: NestedArray): string => (Array.isArray(v) ? `[${v.map(fmt).join(",")}]` : String(v));
    return `Array(${this.#aval.toString()}, ${fmt(this.toJs())})`;
  } /** How `console.log` shows a concrete array in Node. */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }
}
