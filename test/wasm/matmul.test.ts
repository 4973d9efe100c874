import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { matmulWasm, wasmMatmulAvailable } from "../../src/backends/wasm/matmul.js";

function reference(A: ArrayLike<number>, B: ArrayLike<number>, m: number, k: number, n: number): Float64Array {
  const C = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let p = 0; p < k; p++) for (let j = 0; j < n; j++) C[i * n + j]! += A[i * k + p]! * B[p * n + j]!;
  return C;
}

describe("WebAssembly SIMD matmul", () => {
  it("is available in Node 20", () => {
    expect(wasmMatmulAvailable()).toBe(true);
  });

  it("matches a float64 reference for ragged shapes (tiles, panels and k blocks not multiples)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 13 }), fc.integer({ min: 1, max: 300 }), fc.integer({ min: 1, max: 19 }), fc.boolean(), fc.integer(), (m, k, n, f64, seed) => {
        let s = seed >>> 0;
        const rnd = (): number => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
        const make = (len: number): Float32Array | Float64Array => {
          const a = f64 ? new Float64Array(len) : new Float32Array(len);
          for (let i = 0; i < len; i++) a[i] = rnd();
          return a;
        };
        const A = make(m * k);
        const B = make(k * n);
        const C = make(m * n).fill(0);
        expect(matmulWasm(A, B, C, m, k, n)).toBe(true);
        const R = reference(A, B, m, k, n);
        const tol = f64 ? 1e-12 * k : 1e-5 * k;
        for (let i = 0; i < m * n; i++) expect(Math.abs(C[i]! - R[i]!)).toBeLessThanOrEqual(tol);
      }),
      { numRuns: 60 },
    );
  });

  it("writes exact products of small integers and leaves nothing stale between calls", () => {
    const A = Float32Array.from({ length: 6 * 5 }, (_, i) => (i % 7) - 3);
    const B = Float32Array.from({ length: 5 * 9 }, (_, i) => (i % 5) - 2);
    const C1 = new Float32Array(6 * 9);
    matmulWasm(A, B, C1, 6, 5, 9);
    expect(Array.from(C1)).toEqual(Array.from(reference(A, B, 6, 5, 9)));
    const C2 = new Float32Array(2 * 2);
    matmulWasm(new Float32Array([1, 2, 3, 4]), new Float32Array([1, 0, 0, 1]), C2, 2, 2, 2);
    expect(Array.from(C2)).toEqual([1, 2, 3, 4]);
  });
});
