/**
 * What a backend is: where arrays live and how programs run there.
 *
 * A backend declares, in one object,
 * - its buffers and how to run a kernel of the kernel expression language on them
 *   (`allocate`, `upload`, `read`, `run`, `free`);
 * - how it compiles a (jit-optimized) jaxpr into an executable (`compile`);
 * - how it runs one eager primitive (`runEager`);
 * - how arrays move onto it (`move`).
 * The host backend (the CPU) also multiplies matrices and compiles kernels to functions
 * over typed arrays for the primitives' reference implementations ({@link HostBackend}).
 *
 * Backends are listed in one table, src/backends/registry.ts: adding one (WebGPU, ONNX
 * Runtime) is its own folder plus one row there.
 * @module
 */
import type { ConcreteArray, ShapedArray } from "../core/array.js";
import type { BackendName } from "../core/device.js";
import type { DType, TypedArray } from "../core/dtype.js";
import type { Params, Primitive } from "../core/trace.js";
import type { ClosedJaxpr } from "../ir/jaxpr.js";
import type { Kernel } from "../kernel/ir.js";

export type { BackendName, DeviceBuffer } from "../core/device.js";

/**
 * A compiled program: concrete inputs to concrete outputs. `into`, when given, offers a
 * host buffer (of the output's dtype and size, not aliasing any input) per output: the
 * program may compute that output directly into it, and then returns an array over
 * that very buffer; it may also ignore the offer (callers compare the returned buffers).
 * A loop's driver passes it to avoid allocating and copying each iteration's results.
 */
export type Executable = (args: readonly ConcreteArray[], into?: readonly (TypedArray | undefined)[]) => ConcreteArray[];

/** A compiled kernel over typed arrays: called as `f(in0, ..., out0, ...)`, it writes every element of the outputs. */
export type KernelFn = (...buffers: TypedArray[]) => void;

/** What every backend implements, over buffers of one kind `B`. */
export interface Backend<B> {
  readonly name: BackendName;
  /** A zero-filled buffer for an array of this aval. */
  allocate(aval: ShapedArray): B;
  /** A buffer holding these row-major values. */
  upload(data: TypedArray, aval: ShapedArray): B;
  /** The values of a buffer, as a new typed array of the aval's dtype. */
  read(buf: B, aval: ShapedArray): TypedArray;
  /** Runs a kernel: one buffer per kernel input in, one buffer per kernel output out. */
  run(kernel: Kernel, inputs: readonly B[]): B[];
  /** Releases a buffer (a no-op where the garbage collector owns memory). */
  free(buf: B): void;
  /** Why this backend cannot be used here (null when it can). */
  availability(): string | null;
  /** The option keys `setDefaultBackend(name, options)` accepts for this backend, and an example of them (none when absent). */
  readonly options?: { readonly keys: readonly string[]; readonly example: string };
  /**
   * Applies validated `setDefaultBackend(name, options)` options: null when the backend
   * can be used as asked, else why not (the registry then warns once and keeps the CPU).
   * Throws when the options pin something this machine cannot give (`op` names the call).
   * Absent: {@link availability} decides.
   */
  select?(options: Readonly<Record<string, unknown>>, op: string): string | null;
  /** Compiles a closed jaxpr (already optimized by jit's passes) into an executable. */
  compile(cj: ClosedJaxpr): Executable;
  /**
   * Runs one primitive on concrete arguments on this backend; null when this backend has
   * no kernel for it (the caller then runs the primitive's reference `impl` on the host).
   */
  runEager(prim: Primitive, args: readonly ConcreteArray[], params: Params, outAvals: readonly ShapedArray[]): ConcreteArray[] | null;
  /** A copy of `x` on this backend, committed there (`op` names the caller in errors). */
  move(x: ConcreteArray, op: string): ConcreteArray;
}

/** `C = op(A) · op(B)` on row-major matrices stored at offsets of typed arrays (`op` transposes when its flag is set). */
export interface MatmulArgs {
  A: TypedArray;
  aOffset: number;
  B: TypedArray;
  bOffset: number;
  C: TypedArray;
  cOffset: number;
  m: number;
  k: number;
  n: number;
  transA: boolean;
  transB: boolean;
}

/** Everything about one convolution (`conv_general_dilated`) that a kernel needs: the shapes and the primitive's params. */
export interface ConvGeometry {
  lhsShape: readonly number[];
  rhsShape: readonly number[];
  outShape: readonly number[];
  /** Axis indices: lhs `[batch, feature, ...spatial]`, rhs `[out feature, in feature, ...spatial]`, out `[batch, feature, ...spatial]`. */
  lhsSpec: readonly number[];
  rhsSpec: readonly number[];
  outSpec: readonly number[];
  windowStrides: readonly number[];
  padding: readonly (readonly [number, number])[];
  lhsDilation: readonly number[];
  rhsDilation: readonly number[];
  featureGroupCount: number;
  batchGroupCount: number;
}

/** The geometry of a window over every axis of an operand (JAX's reduce_window params with the shapes). */
export interface WindowGeometry {
  inShape: readonly number[];
  outShape: readonly number[];
  windowDimensions: readonly number[];
  windowStrides: readonly number[];
  padding: readonly (readonly [number, number])[];
  baseDilation: readonly number[];
  windowDilation: readonly number[];
}

/** The window reductions. */
export type WindowReduction = "sum" | "max" | "min";

/** The backend whose buffers are host typed arrays: the one the primitives' reference implementations use. */
/**
 * Faster steps for the float64 linear-algebra kernels of src/primitives/linalg_kernels.ts
 * (which run plain JavaScript loops without them).
 */
export interface LinalgKernels {
  /**
   * The row-pair step of the Cholesky factorization of an n×n matrix in the backend's own
   * memory: `view` is where the matrix must be, `rowPair(i)` computes the entries left of
   * the diagonal of rows i and i+1 there. Null: not available for this size.
   */
  choleskyRowPair(n: number): { view: Float64Array; rowPair: (i: number) => void } | null;
  /** Solves `op(T) X = B` in place (T n×n triangular, X n×m); false: not available, use the loops. */
  trsm(t: Float64Array, n: number, lower: boolean, trans: boolean, unitDiagonal: boolean, x: Float64Array, m: number): boolean;
}

export interface HostBackend extends Backend<TypedArray> {
  /** Writes the product of two matrices into `C` (see {@link MatmulArgs}). */
  matmul(args: MatmulArgs): void;
  /** Faster float64 linear-algebra steps (WebAssembly SIMD on the CPU). */
  linalg: LinalgKernels;
  /** The fastest compiled function of a kernel on this backend. */
  kernelFunction(kernel: Kernel): KernelFn;
  /** The convolution `conv(lhs, rhs)` described by `g`, in a new buffer of `dtype`. */
  conv(lhs: TypedArray, rhs: TypedArray, dtype: DType, g: ConvGeometry): TypedArray;
  /** A windowed reduction of `x` (padding contributes the reduction's identity). */
  reduceWindow(x: TypedArray, dtype: DType, op: WindowReduction, g: WindowGeometry): TypedArray;
  /** `out[p] = t[the element of x that window p selects]` (its first maximum or minimum). */
  selectAndGather(t: TypedArray, x: TypedArray, dtype: DType, select: "max" | "min", g: WindowGeometry): TypedArray;
  /** The transpose of {@link selectAndGather}: each `s[p]` added at the element window p selects. */
  selectAndScatter(s: TypedArray, x: TypedArray, dtype: DType, select: "max" | "min", g: WindowGeometry): TypedArray;
}
