/**
 * Eager elementwise operations on large arrays run as one-equation Wasm kernels
 * (src/backends/cpu/eager.ts). They must give the primitives' reference values: exactly
 * for arithmetic (float32 lanes round like the JS impl), within the vector math's ulp
 * bounds for transcendental functions, with NumPy broadcasting, and under grad.
 */
import { describe, expect, it } from "vitest";
import { grad, np } from "../../src/index.js";
import { eagerWasmKernelCount } from "../../src/backends/cpu/eager.js";
import { wasmAvailable } from "../../src/backends/wasm/runtime.js";

const N = 40000; // above both eager thresholds

function data(n: number, seed: number, lo = -4, hi = 4): Float32Array {
  let s = seed >>> 0;
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = lo + (hi - lo) * ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
  return a;
}

/** Distance in float32 ulps between two float32 values. */
function ulps(a: number, b: number): number {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b) ? 0 : Infinity;
  const ia = new Int32Array(new Float32Array([a]).buffer)[0]!;
  const ib = new Int32Array(new Float32Array([b]).buffer)[0]!;
  const ka = ia < 0 ? -2147483648 - ia : ia;
  const kb = ib < 0 ? -2147483648 - ib : ib;
  return Math.abs(ka - kb);
}

describe.runIf(wasmAvailable())("eager elementwise operations on Wasm kernels", () => {
  it("transcendental functions stay within 2 float32 ulps of Math.* (the Wasm path is taken)", () => {
    const x = data(N, 1);
    const before = eagerWasmKernelCount();
    const cases: [string, (a: np.Array) => np.Array, (v: number) => number, Float32Array][] = [
      ["exp", np.exp, Math.exp, x],
      ["tanh", np.tanh, Math.tanh, x],
      ["log", np.log, Math.log, data(N, 2, 1e-3, 50)],
      ["log1p", np.log1p, Math.log1p, data(N, 3, -0.9, 50)],
      ["expm1", np.expm1, Math.expm1, x],
      ["sin", np.sin, Math.sin, x],
      ["sigmoid", np.sigmoid, (v) => 1 / (1 + Math.exp(-v)), x],
    ];
    for (const [name, f, ref, input] of cases) {
      const got = f(np.array(input)).data() as Float32Array;
      let worst = 0;
      for (let i = 0; i < N; i++) worst = Math.max(worst, ulps(got[i]!, Math.fround(ref(input[i]!))));
      expect(worst, name).toBeLessThanOrEqual(2);
    }
    expect(eagerWasmKernelCount()).toBeGreaterThanOrEqual(before + cases.length);
  });

  it("arithmetic with broadcasting equals the float32-rounded reference exactly", () => {
    const a = data(200 * 200, 4);
    const b = data(200, 5);
    const x = np.array(a).reshape([200, 200]);
    const row = np.array(b);
    const col = np.array(b).reshape([200, 1]);
    const checks: [np.Array, (i: number, j: number) => number][] = [
      [np.add(x, row), (i, j) => a[i * 200 + j]! + b[j]!],
      [np.multiply(col, x), (i, j) => b[i]! * a[i * 200 + j]!],
      [np.subtract(2.5, x), (i, j) => 2.5 - a[i * 200 + j]!],
      [np.divide(x, row), (i, j) => a[i * 200 + j]! / b[j]!],
      [np.maximum(x, 0), (i, j) => Math.max(a[i * 200 + j]!, 0)],
      [np.square(x), (i, j) => a[i * 200 + j]! * a[i * 200 + j]!],
    ];
    for (const [got, ref] of checks) {
      const g = got.data() as Float32Array;
      for (let i = 0; i < 200; i++)
        for (let j = 0; j < 200; j++)
          if (g[i * 200 + j] !== Math.fround(ref(i, j))) throw new Error(`(${i},${j}): ${g[i * 200 + j]} vs ${Math.fround(ref(i, j))}`);
    }
  });

  it("large and small arrays agree (Wasm and JS paths), float64 too, and grad through them matches the hand-derived gradient", () => {
    for (const dtype of ["float32", "float64"] as const) {
      const values = data(N, 6);
      const big = np.array(values).astype(dtype);
      const f = (v: np.Array): np.Array => np.tanh(np.add(np.multiply(v, 2), 1));
      const whole = f(big).data();
      const small = f(np.array(values.subarray(0, 100)).astype(dtype)).data();
      if (dtype === "float32") for (let i = 0; i < 100; i++) expect(ulps(whole[i]!, small[i]!)).toBeLessThanOrEqual(2);
      else for (let i = 0; i < 100; i++) expect(Math.abs(whole[i]! - small[i]!)).toBeLessThanOrEqual(4e-16 * Math.max(1, Math.abs(small[i]!)));
    }
    const x = data(N, 7);
    const g = grad((v: np.Array) => np.sum(np.exp(np.negative(np.square(v)))))(np.array(x)).data() as Float32Array;
    for (let i = 0; i < N; i += 97) {
      const want = -2 * x[i]! * Math.exp(-x[i]! * x[i]!);
      expect(Math.abs(g[i]! - want)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(want)));
    }
  });
});
