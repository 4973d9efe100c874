/**
 * A cache-blocked matrix multiply in plain JavaScript, for the cases the WebAssembly
 * kernel does not take (int32, small products, no WebAssembly).
 *
 * C[m×n] = A[m×k] · B[k×n], all row-major, at element offsets `ao`, `bo`, `co`. The
 * columns of C are processed in blocks of {@link MATMUL_COLUMN_BLOCK} so the slice of B
 * they read (k × block) stays in cache while every row panel of A streams past it;
 * four rows of C are computed together so each element of B loaded is used four
 * times. Sums accumulate in double precision and are converted to C's dtype once, so
 * float32 and int32 results equal the exactly-rounded (wrapped) double sums.
 * @module
 */
import type { TypedArray } from "../../core/dtype.js";

/** Columns of C per block. */
export const MATMUL_COLUMN_BLOCK = 64;
const ROWS = 4;

let scratch = new Float64Array(ROWS * MATMUL_COLUMN_BLOCK);

/** Writes A · B into C (see the module comment). */
export function matmulBlocked(A: TypedArray, ao: number, B: TypedArray, bo: number, C: TypedArray, co: number, m: number, k: number, n: number): void {
  const NB = MATMUL_COLUMN_BLOCK;
  // a call nested inside another (impossible today, cheap to guard) must not share the scratch
  const acc = scratch;
  scratch = new Float64Array(0);
  try {
    for (let j0 = 0; j0 < n; j0 += NB) {
      const nb = Math.min(NB, n - j0);
      let i0 = 0;
      for (; i0 + ROWS <= m; i0 += ROWS) {
        acc.fill(0);
        const r0 = ao + i0 * k;
        const r1 = r0 + k;
        const r2 = r1 + k;
        const r3 = r2 + k;
        for (let p = 0; p < k; p++) {
          const a0 = A[r0 + p]!;
          const a1 = A[r1 + p]!;
          const a2 = A[r2 + p]!;
          const a3 = A[r3 + p]!;
          const br = bo + p * n + j0;
          for (let j = 0; j < nb; j++) {
            const b = B[br + j]!;
            acc[j]! += a0 * b;
            acc[NB + j]! += a1 * b;
            acc[2 * NB + j]! += a2 * b;
            acc[3 * NB + j]! += a3 * b;
          }
        }
        for (let r = 0; r < ROWS; r++) {
          const cr = co + (i0 + r) * n + j0;
          const ar = r * NB;
          for (let j = 0; j < nb; j++) C[cr + j] = acc[ar + j]!;
        }
      }
      for (; i0 < m; i0++) {
        acc.fill(0, 0, NB);
        const r0 = ao + i0 * k;
        for (let p = 0; p < k; p++) {
          const a0 = A[r0 + p]!;
          const br = bo + p * n + j0;
          for (let j = 0; j < nb; j++) acc[j]! += a0 * B[br + j]!;
        }
        const cr = co + i0 * n + j0;
        for (let j = 0; j < nb; j++) C[cr + j] = acc[j]!;
      }
    }
  } finally {
    scratch = acc;
  }
}

/**
 * Writes A · B into C for int32 matrices with int32 arithmetic throughout (products by
 * `Math.imul`, sums wrapping at every step), which is exactly what wrapping the true
 * integer sum gives: the double-precision sums of {@link matmulBlocked} lose low bits
 * beyond 2^53.
 */
export function matmulInt32(A: Int32Array, ao: number, B: Int32Array, bo: number, C: Int32Array, co: number, m: number, k: number, n: number): void {
  for (let i = 0; i < m; i++) {
    const cr = co + i * n;
    C.fill(0, cr, cr + n);
    for (let p = 0; p < k; p++) {
      const a = A[ao + i * k + p]!;
      const br = bo + p * n;
      for (let j = 0; j < n; j++) C[cr + j] = (C[cr + j]! + Math.imul(a, B[br + j]!)) | 0;
    }
  }
}
