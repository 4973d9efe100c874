/**
 * Small matrix products inside compiled programs: `C = op(A) · op(B)` for float
 * matrices with fewer than {@link SMALL_MATMUL_WORK} multiply-adds — the matrix-vector
 * products and outer products of a recurrent cell, run once per iteration of a scan
 * body — as a JavaScript loop nest generated for the exact sizes and layouts.
 *
 * The generic path (the `matmul` primitive's impl) allocates the result, and copies a
 * transposed operand before the blocked JS kernel runs; for a 64×64 matrix-vector
 * product that costs more than the product. Here the operands are read in their stored
 * layout (a transposed operand by strides), the result goes into a buffer the program
 * owns (reused across calls), and the loop order is chosen so the innermost loop walks
 * memory contiguously:
 *
 * - when `op(A)`'s rows are contiguous (A not transposed), each output is a dot product
 *   summed in a local;
 * - otherwise (A transposed, so its columns are contiguous) the products are
 *   accumulated a row of A at a time into a double-precision scratch.
 *
 * Either way every output is the double-precision sum over the contracted index in
 * increasing order, converted to C's dtype once — exactly what the blocked kernel
 * (src/backends/cpu/matmul.ts) computes, so results equal the generic path's bit for bit.
 * @module
 */
import type { DType, TypedArray } from "../../core/dtype.js";
import type { ShapedArray } from "../../core/array.js";
import { compileSource } from "./codegen.js";

/** Products with fewer multiply-adds than this (and float rank-2 operands) take the generated loops. */
export const SMALL_MATMUL_WORK = 32 * 32 * 32;

/** The sizes and layout of one small product. */
export interface SmallMatmul {
  m: number;
  k: number;
  n: number;
  transA: boolean;
  transB: boolean;
  dtype: DType;
}

/**
 * The small product an equation of `matmul` / `matmul_t` computes, or null when it is
 * not one (batched, integer, or too much work).
 */
export function smallMatmulOf(name: string, params: Readonly<Record<string, unknown>>, ins: readonly ShapedArray[], out: ShapedArray): SmallMatmul | null {
  if (name !== "matmul" && name !== "matmul_t") return null;
  const [a, b] = ins as [ShapedArray, ShapedArray];
  if (a.ndim !== 2 || b.ndim !== 2 || out.ndim !== 2) return null;
  if (out.dtype !== "float32" && out.dtype !== "float64") return null;
  const transA = name === "matmul_t" && params.transposeA === true;
  const transB = name === "matmul_t" && params.transposeB === true;
  const [m, n] = out.shape as [number, number];
  const k = transA ? a.shape[0]! : a.shape[1]!;
  if (m * k * n >= SMALL_MATMUL_WORK || m * k * n === 0) return null;
  return { m, k, n, transA, transB, dtype: out.dtype };
}

/** The generated function `(A, B, C) => void` of a small product (see the module comment). */
export function smallMatmulFunction(s: SmallMatmul): (A: TypedArray, B: TypedArray, C: TypedArray) => void {
  const { m, k, n, transA, transB } = s;
  const aIdx = (i: string, p: string): string => (transA ? `${p} * ${m} + ${i}` : `${i} * ${k} + ${p}`);
  const bIdx = (p: string, j: string): string => (transB ? `${j} * ${k} + ${p}` : `${p} * ${n} + ${j}`);
  let body: string;
  if (!transA) {
    body = [
      `for (let i = 0; i < ${m}; i++) {`,
      `  for (let j = 0; j < ${n}; j++) {`,
      "    let s = 0;",
      `    for (let p = 0; p < ${k}; p++) s += A[${aIdx("i", "p")}] * B[${bIdx("p", "j")}];`,
      `    C[i * ${n} + j] = s;`,
      "  }",
      "}",
    ].join("\n");
  } else {
    body = [
      "const acc = scratch;",
      "acc.fill(0);",
      `for (let p = 0; p < ${k}; p++) {`,
      `  for (let j = 0; j < ${n}; j++) {`,
      `    const b = B[${bIdx("p", "j")}];`,
      `    for (let i = 0; i < ${m}; i++) acc[i * ${n} + j] += A[${aIdx("i", "p")}] * b;`,
      "  }",
      "}",
      `for (let q = 0; q < ${m * n}; q++) C[q] = acc[q];`,
    ].join("\n");
  }
  // a factory, so each product gets its own scratch (the source text, and so the compiled code, is shared)
  const factory = compileSource<(scratch: Float64Array) => (A: TypedArray, B: TypedArray, C: TypedArray) => void>(
    ["scratch"],
    `// ${s.dtype}\nreturn function smallMatmul(A, B, C) {\n${body}\n};`,
  );
  return factory(new Float64Array(transA ? m * n : 0));
}
