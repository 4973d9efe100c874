/**
 * The CPU backend: typed arrays in host memory; kernels compiled to JavaScript loops or
 * WebAssembly SIMD; jitted programs compiled to one generated function; eager
 * elementwise operations on large arrays run as Wasm kernels; matrix products on the
 * Wasm SIMD kernel or the blocked JavaScript one; the bulk of the Cholesky factorization
 * and triangular solves with several right-hand sides on Wasm SIMD kernels.
 * @module
 */
import { ConcreteArray } from "../../core/array.js";
import { type DType, type TypedArray, allocate, allocateForWrite } from "../../core/dtype.js";
import { sizeOf } from "../../core/shape.js";
import { outputDtype, outputShape } from "../../kernel/ir.js";
import type { HostBackend, MatmulArgs } from "../backend.js";
import { kernelFunction } from "../wasm/kernel.js";
import { choleskyRowPairWasm, trsmWasm } from "../wasm/linalg.js";
import { matmulWasm } from "../wasm/matmul.js";
import { compileKernel } from "./codegen.js";
import { convImpl } from "./conv.js";
import { reduceWindowImpl, selectAndGatherImpl, selectAndScatterImpl } from "./window.js";
import { compileJaxpr } from "./compile.js";
import { runEagerKernel } from "./eager.js";
import { matmulBlocked, matmulInt32 } from "./matmul.js";

/** Below this many multiply-adds the plain JS loop is cheaper than packing for the SIMD kernel. */
const WASM_MIN_WORK = 32 * 32 * 32;

/** Copies the m×k matrix stored k×m at `off` into a fresh row-major array (for the JS kernels). */
function transposed(X: TypedArray, dtype: DType, off: number, rows: number, cols: number): TypedArray {
  const T = allocateForWrite(dtype, rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) T[i * cols + j] = X[off + j * rows + i]!;
  return T;
}

const dtypeOf = (x: TypedArray): DType =>
  x instanceof Float32Array ? "float32" : x instanceof Float64Array ? "float64" : x instanceof Int32Array ? "int32" : "bool";

/**
 * `C = op(A) · op(B)`: the WebAssembly SIMD kernel (float types, enough work), which
 * reads transposed operands in place; otherwise the JavaScript kernels, on transposed
 * copies (int32 with exact wrapping int32 arithmetic).
 */
function matmul({ A, aOffset, B, bOffset, C, cOffset, m, k, n, transA, transB }: MatmulArgs): void {
  const float = C instanceof Float32Array || C instanceof Float64Array;
  if (float && m * k * n >= WASM_MIN_WORK) {
    if (
      matmulWasm(
        (A as Float32Array).subarray(aOffset, aOffset + m * k),
        (B as Float32Array).subarray(bOffset, bOffset + k * n),
        (C as Float32Array).subarray(cOffset, cOffset + m * n),
        m,
        k,
        n,
        { transA, transB },
      )
    )
      return;
  }
  const dtype = dtypeOf(C);
  const [A2, ao] = transA ? [transposed(A, dtype, aOffset, m, k), 0] : [A, aOffset];
  const [B2, bo] = transB ? [transposed(B, dtype, bOffset, k, n), 0] : [B, bOffset];
  if (C instanceof Int32Array) matmulInt32(A2 as Int32Array, ao, B2 as Int32Array, bo, C, cOffset, m, k, n);
  else matmulBlocked(A2, ao, B2, bo, C, cOffset, m, k, n);
}

/** The CPU backend. */
export const cpuBackend: HostBackend = {
  name: "cpu",
  allocate: (aval) => allocate(aval.dtype, aval.size),
  upload: (data, aval) => {
    const b = allocate(aval.dtype, aval.size);
    b.set(data);
    return b;
  },
  read: (buf, aval) => {
    const b = allocate(aval.dtype, aval.size);
    b.set(buf);
    return b;
  },
  run(kernel, inputs) {
    const outs = kernel.outputs.map((_, j) => allocate(outputDtype(kernel, j), sizeOf(outputShape(kernel, j))));
    compileKernel(kernel)(...inputs, ...outs);
    return outs;
  },
  free: () => {},
  availability: () => null,
  compile: compileJaxpr,
  runEager: runEagerKernel,
  move(x) {
    if (x.device === null && x.committed === "cpu") return x;
    const c = new ConcreteArray(x.aval, x.buffer);
    c.committed = "cpu";
    return c;
  },
  matmul,
  kernelFunction,
  conv: convImpl,
  reduceWindow: reduceWindowImpl,
  selectAndGather: selectAndGatherImpl,
  selectAndScatter: selectAndScatterImpl,
  linalg: { choleskyRowPair: choleskyRowPairWasm, trsm: trsmWasm },
};
