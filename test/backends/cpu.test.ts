/**
 * The CPU plan compiler and the blocked matmul: compiled programs agree with
 * hand-computed values, results of one call survive the next (pooled buffers are
 * never handed out), large and tiny kernels, primitives without kernels, literal and
 * input outputs; the blocked matmul against a plain triple loop on ragged shapes and
 * every numeric dtype.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Array as NDArray, jit, makeJaxpr, np } from "../../src/index.js";
import type { ConcreteArray } from "../../src/core/array.js";
import { type TypedArray, allocate } from "../../src/core/dtype.js";
import { compileJaxpr } from "../../src/backends/cpu/compile.js";
import { MATMUL_COLUMN_BLOCK, matmulBlocked } from "../../src/backends/cpu/matmul.js";
import { optimizeJaxpr } from "../../src/passes/index.js";
import { seededRandom } from "../helpers/numeric.js";

function compiled(f: (...xs: NDArray[]) => NDArray | NDArray[], ...example: NDArray[]): (...xs: NDArray[]) => number[][] {
  const exe = compileJaxpr(optimizeJaxpr(makeJaxpr(f)(...example)));
  return (...xs) => exe(xs as ConcreteArray[]).map((o) => Array.from(o.data(), Number));
}

const f64 = (xs: number[] | number[][]): NDArray => np.array(xs, { dtype: "float64" });

describe("compiled plans", () => {
  it("keep earlier results intact when intermediate buffers are reused", () => {
    // two large kernels with a matmul between them: the intermediates are pooled
    const f = (a: NDArray, b: NDArray) => np.sum(np.tanh(np.matmul(np.exp(a), np.multiply(b, 2))), { axis: 1 });
    const run = compiled(f, np.zeros([40, 30], "float64"), np.zeros([30, 20], "float64"));
    const r = seededRandom(3);
    const A = Array.from({ length: 40 }, () => Array.from({ length: 30 }, () => r() - 0.5));
    const B = Array.from({ length: 30 }, () => Array.from({ length: 20 }, () => r() - 0.5));
    const ref = (a: number[][], b: number[][]): number[] =>
      a.map((row) => {
        let s = 0;
        for (let j = 0; j < 20; j++) {
          let d = 0;
          for (let p = 0; p < 30; p++) d += Math.exp(row[p]!) * (2 * b[p]![j]!);
          s += Math.tanh(d);
        }
        return s;
      });
    const first = run(f64(A), f64(B))[0]!;
    const B2 = B.map((row) => row.map((v) => -v));
    const second = run(f64(A), f64(B2))[0]!;
    first.forEach((v, i) => expect(v).toBeCloseTo(ref(A, B)[i]!, 10));
    second.forEach((v, i) => expect(v).toBeCloseTo(ref(A, B2)[i]!, 10));
    // the first result is a different buffer and was not overwritten
    first.forEach((v, i) => expect(v).toBeCloseTo(-second[i]!, 10));
  });

  it("return inputs, literals and aliases (a reshape of an input)", () => {
    const run = compiled((x: NDArray) => [x, np.reshape(x, [4]), np.add(np.zeros([]), 3)], np.zeros([2, 2]));
    expect(
      run(
        np.array([
          [1, 2],
          [3, 4],
        ]),
      ),
    ).toEqual([[1, 2, 3, 4], [1, 2, 3, 4], [3]]);
  });

  it("run primitives without kernels through their impl (take, concatenate, argmax)", () => {
    const idx = np.array([2, 0], { dtype: "int32" });
    const run = compiled((x: NDArray) => [np.take(np.exp(x), idx), np.concatenate([x, np.negative(x)]), np.argmax(x)], np.zeros([3], "float64"));
    const out = run(f64([0, 1, 2]));
    expect(out[0]).toEqual([Math.exp(2), 1]);
    expect(out[1]).toEqual([0, 1, 2, -0, -1, -2]);
    expect(out[2]).toEqual([2]);
  });

  it("jit of int32 and bool programs keeps their semantics", () => {
    const f = jit((a: NDArray, b: NDArray) => [np.add(a, b), np.multiply(a, a), np.logicalAnd(np.greater(a, 0), np.less(b, 0))]);
    const a = np.array([2147483647, -3, 65537], { dtype: "int32" });
    const b = np.array([1, -4, 2], { dtype: "int32" });
    const [s, sq, both] = f(a, b) as NDArray[];
    expect(s!.toJs()).toEqual([-2147483648, -7, 65539]);
    // 65537^2 = 2^32 + 2^17 + 1 wraps to 131073; 2147483647^2 = 2^62 - 2^32 + 1 wraps to 1
    // (int32 products wrap exactly, as Math.imul and JAX's int32 multiply; a double
    // product rounded before wrapping would give 0)
    expect(sq!.toJs()).toEqual([1, 9, 131073]);
    expect(both!.toJs()).toEqual([false, false, false]);
    expect((f(np.array([1], { dtype: "int32" }), np.array([-1], { dtype: "int32" })) as NDArray[])[2]!.toJs()).toEqual([true]);
  });

  it("results of a jitted call stay valid after later calls with the same signature", () => {
    const f = jit((x: NDArray) => np.multiply(np.exp(np.add(np.multiply(x, 3), 1)), 2));
    const a = f(np.zeros([100], "float64"));
    const b = f(np.ones([100], "float64"));
    expect(Array.from(a.data()).every((v) => v === 2 * Math.E)).toBe(true);
    expect(Array.from(b.data()).every((v) => v === 2 * Math.exp(4))).toBe(true);
  });
});

describe("blocked matmul", () => {
  function reference(A: TypedArray, B: TypedArray, C: TypedArray, m: number, k: number, n: number): void {
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += A[i * k + p]! * B[p * n + j]!;
        C[i * n + j] = s;
      }
  }
  it("equals a triple loop on ragged shapes, at offsets, for float32, float64 and int32", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 1, max: MATMUL_COLUMN_BLOCK + 9 }),
        fc.constantFrom("float32" as const, "float64" as const, "int32" as const),
        fc.nat(),
        (m, k, n, dtype, seed) => {
          const r = seededRandom(seed);
          const off = 3;
          const A = allocate(dtype, off + m * k);
          const B = allocate(dtype, off + k * n);
          for (let i = 0; i < A.length; i++) A[i] = dtype === "int32" ? Math.floor(r() * 2e4) - 1e4 : r() - 0.5;
          for (let i = 0; i < B.length; i++) B[i] = dtype === "int32" ? Math.floor(r() * 2e4) - 1e4 : r() - 0.5;
          const got = allocate(dtype, off + m * n);
          const want = allocate(dtype, m * n);
          matmulBlocked(A, off, B, off, got, off, m, k, n);
          reference(A.subarray(off), B.subarray(off), want, m, k, n);
          expect(Array.from(got.subarray(off))).toEqual(Array.from(want));
          expect(Array.from(got.subarray(0, off))).toEqual([0, 0, 0]);
        },
      ),
      { numRuns: 150 },
    );
  });

  it("int32 products wrap like the stored double sum", () => {
    const A = new Int32Array([65536, 65536]);
    const B = new Int32Array([65536, 1]);
    const C = new Int32Array(1);
    matmulBlocked(A, 0, B, 0, C, 0, 1, 2, 1); // 2^32 + 2^16 wraps to 2^16
    expect(C[0]).toBe(65536);
  });

  it("np.matmul of int32 matrices (the JS path) equals hand-computed values", () => {
    const a = np.array(
      [
        [1, 2],
        [3, 4],
        [5, 6],
      ],
      { dtype: "int32" },
    );
    const b = np.array(
      [
        [1, 0, -1],
        [2, 1, 0],
      ],
      { dtype: "int32" },
    );
    expect(np.matmul(a, b).toJs()).toEqual([
      [5, 2, -1],
      [11, 4, -3],
      [17, 6, -5],
    ]);
  });
});
