/**
 * int32 multiplication wraps exactly (as `Math.imul`, i.e. the true product modulo
 * 2^32) and `maximum`/`minimum` propagate NaN (as JAX) in every CPU path: the eager
 * reference implementation, the eager Wasm path for large arrays, jit's JavaScript
 * kernels and its Wasm kernels, reductions, and int32 matrix products. The GPU paths
 * are checked in test/gpu/backend.test.ts.
 */
import { describe, expect, it } from "vitest";
import { jit, np, vmap } from "../../src/index.js";

const A = 123456789;
const B = 987654321;
/** The true product modulo 2^32, as a signed int32, from BigInt arithmetic (independent of Math.imul). */
const wrapped = (a: number, b: number): number => Number(BigInt.asIntN(32, BigInt(a) * BigInt(b)));

describe("int32 multiplication is exact", () => {
  it("123456789 * 987654321 is -67153019 (the double product would give -67153024)", () => {
    expect(wrapped(A, B)).toBe(-67153019);
    const x = np.array([A, -A, 46341, -2147483648], { dtype: "int32" });
    const y = np.array([B, B, 46341, -1], { dtype: "int32" });
    const want = [wrapped(A, B), wrapped(-A, B), wrapped(46341, 46341), wrapped(-2147483648, -1)];
    expect(Array.from(np.multiply(x, y).data())).toEqual(want);
    expect(Array.from(jit((u: np.Array, v: np.Array) => np.multiply(u, v))(x, y).data())).toEqual(want);
    expect(Array.from(jit((u: np.Array, v: np.Array) => np.add(np.multiply(u, v), 0))(x, y).data())).toEqual(want);
    expect(Array.from(vmap((u: np.Array, v: np.Array) => np.multiply(u, v))(x, y).data())).toEqual(want);
    expect(Array.from(x.mul(y).data())).toEqual(want);
  });

  it("large arrays (the eager and jit bulk paths) and products with scalars", () => {
    const n = 20000;
    const xs = Array.from({ length: n }, (_, i) => (i % 2 ? A : -B) + i);
    const x = np.array(xs, { dtype: "int32" });
    const want = xs.map((v) => wrapped(v, B));
    expect(Array.from(np.multiply(x, B).data())).toEqual(want);
    expect(Array.from(jit((u: np.Array) => np.multiply(u, B))(x).data())).toEqual(want);
    const sumWant = xs.reduce((s, v) => (s + wrapped(v, v)) | 0, 0);
    expect(np.sum(np.multiply(x, x)).item()).toBe(sumWant);
    expect(jit((u: np.Array) => np.sum(np.multiply(u, u)))(x).item()).toBe(sumWant);
  });

  it("int32 matmul sums exact wrapped products", () => {
    const a = [
      [A, B, 3],
      [-B, 7, A],
    ];
    const b = [
      [B, 1],
      [A, -A],
      [2147483647, B],
    ];
    const want = a.map((row) => b[0]!.map((_, j) => row.reduce((s, v, k) => (s + wrapped(v, b[k]![j]!)) | 0, 0)));
    const x = np.array(a, { dtype: "int32" });
    const y = np.array(b, { dtype: "int32" });
    expect(np.matmul(x, y).toJs()).toEqual(want);
    expect(jit(np.matmul)(x, y).toJs()).toEqual(want);
    // an operand stored transposed (jit reads it in place: the transposed-operand path)
    const xt = np.array(
      a[0]!.map((_, k) => a.map((row) => row[k]!)),
      { dtype: "int32" },
    );
    expect(jit((u: np.Array, v: np.Array) => np.matmul(u.T, v))(xt, y).toJs()).toEqual(want);
  });
});

describe("maximum and minimum propagate NaN", () => {
  const check = (x: np.Array, y: np.Array): void => {
    const xs = Array.from(x.data());
    const ys = Array.from(y.data());
    const ref = (f: (a: number, b: number) => number) => xs.map((a, i) => (Number.isNaN(a) || Number.isNaN(ys[i]!) ? NaN : f(a, ys[i]!)));
    const max = ref(Math.max);
    const min = ref(Math.min);
    const fmax = (u: np.Array, v: np.Array) => np.maximum(u, v);
    const fmin = (u: np.Array, v: np.Array) => np.minimum(u, v);
    for (const [f, want] of [
      [fmax, max],
      [fmin, min],
    ] as const) {
      expect(Array.from(f(x, y).data())).toEqual(want);
      expect(Array.from(f(y, x).data())).toEqual(want);
      expect(Array.from(jit(f)(x, y).data())).toEqual(want);
      expect(Array.from(jit(f)(y, x).data())).toEqual(want);
      // fused with other work (one kernel)
      expect(Array.from(jit((u: np.Array, v: np.Array) => np.add(f(np.multiply(u, 1), v), 0))(x, y).data())).toEqual(want);
    }
  };

  it("small arrays, NaN in either operand", () => {
    check(np.array([NaN, 1, 2, NaN, -Infinity], { dtype: "float64" }), np.array([0, NaN, 1, NaN, -Infinity], { dtype: "float64" }));
    check(np.array([NaN, 1, 2, NaN], { dtype: "float32" }), np.array([0, NaN, 1, NaN], { dtype: "float32" }));
  });

  it("large float32 arrays (the Wasm paths)", () => {
    const n = 20000;
    const xs = Array.from({ length: n }, (_, i) => (i % 7 === 0 ? NaN : Math.fround(Math.sin(i))));
    const ys = Array.from({ length: n }, (_, i) => (i % 11 === 0 ? NaN : Math.fround(Math.cos(i))));
    check(np.array(xs, { dtype: "float32" }), np.array(ys, { dtype: "float32" }));
  });

  it("reductions: max and min of an array holding NaN are NaN", () => {
    const x = np.array([1, NaN, 3], { dtype: "float32" });
    expect(np.max(x).item()).toBeNaN();
    expect(np.min(x).item()).toBeNaN();
    expect(jit((u: np.Array) => np.max(u))(x).item()).toBeNaN();
    expect(jit((u: np.Array) => np.min(np.multiply(u, 2)))(x).item()).toBeNaN();
  });
});
