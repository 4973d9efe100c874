/**
 * A primitive owns its lowering: a primitive defined with the family factories alone —
 * no table anywhere names it — is fused by jit, runs on the eager Wasm path for large
 * arrays, and gives the values of its reference implementation.
 */
import { describe, expect, it } from "vitest";
import { type Array as NDArray, jit, np } from "../../src/index.js";
import { bind1 } from "../../src/core/trace.js";
import type { KernelLowering } from "../../src/kernel/lowering.js";
import { binaryPrim, mul, unaryPrim } from "../../src/primitives/elementwise.js";

// x ↦ x³ - x, lowered to kernel nodes of its own (no op of that name exists); its
// reference implementation rounds x³ to float32 first, as the kernel's ipow node does
// (each node's value is stored in its dtype; this test primitive is for float32)
const cubeMinusLowering: KernelLowering = (b, [x], _p, dtype) =>
  b.add({ kind: "binary", op: "sub", x: b.add({ kind: "ipow", x: x!, y: 3, dtype }), y: x!, dtype });
const cubeMinus_p = unaryPrim({
  name: "test_cube_minus",
  f: (x) => Math.fround(x * x * x) - x,
  op: cubeMinusLowering,
  jvp: (t, x) => mul(t, np.subtract(np.multiply(np.multiply(x, x), 3), 1)),
});
// a binary primitive lowering to an existing op under a new name
const addAgain_p = binaryPrim({ name: "test_add_again", f: (a, b) => a + b, op: "add" });

const cubeMinus = (x: NDArray): NDArray => bind1(cubeMinus_p, [x]);
const addAgain = (x: NDArray, y: NDArray): NDArray => bind1(addAgain_p, [x, y]);

describe("a primitive defined by a factory call alone", () => {
  it("carries its lowering", () => {
    expect(cubeMinus_p.lower).toBe(cubeMinusLowering);
    expect(addAgain_p.lower).toBeTypeOf("function");
  });

  it("is fused by jit with its neighbours, to the values of its reference implementation", () => {
    const f = (x: NDArray, y: NDArray) => np.sum(addAgain(cubeMinus(np.multiply(x, 2)), y));
    const x = np.array([0.5, -1, 2, 3], { dtype: "float32" });
    const y = np.array([1, 2, 3, 4], { dtype: "float32" });
    const want = [0.5, -1, 2, 3].reduce((s, v, i) => s + ((2 * v) ** 3 - 2 * v) + [1, 2, 3, 4][i]!, 0);
    expect(f(x, y).item()).toBeCloseTo(want, 12);
    expect(jit(f)(x, y).item()).toBeCloseTo(want, 12);
    const text = jit(f).lower(x, y).text();
    expect(text).toContain("fused");
    expect(text).not.toContain("test_cube_minus");
    expect(text).not.toContain("test_add_again");
  });

  it("runs on the eager bulk path for large arrays with the reference values", () => {
    const n = 20000;
    const xs = Array.from({ length: n }, (_, i) => Math.fround(Math.sin(i)));
    const out = cubeMinus(np.array(xs, { dtype: "float32" })).data();
    xs.forEach((v, i) => expect(out[i]).toBe(Math.fround(Math.fround(v * v * v) - v)));
  });
});
