/**
 * Input validation (issue 13, 3): sparse JS arrays, int32 overflow and NaN/Inf to int32
 * in np.array (as JAX's OverflowError; astype keeps wrapping), shapes beyond the
 * typed-array limit.
 */
import { describe, expect, it } from "vitest";
import { jit, np } from "../../src/index.js";
import { expectError } from "../numpy/util.js";

describe("np.array input validation", () => {
  it("sparse JS arrays are an Error naming the hole", () => {
    // eslint-disable-next-line no-sparse-arrays
    expectError(() => np.array([1, , 3] as never), "np.array", "hole", "[1]");
    // eslint-disable-next-line no-sparse-arrays
    expectError(
      () =>
        np.array([
          [1, 2],
          [, 4],
        ] as never),
      "np.array",
      "[1][0]",
    );
    expectError(() => np.array(new Array(3) as number[]), "np.array", "hole");
  });
  it("integers outside int32 are an Error, as JAX's OverflowError", () => {
    expectError(() => np.array(3e9, { dtype: "int32" }), "np.array", "3000000000", "int32", "-2147483648", /float64|astype/);
    expectError(() => np.array([1, -2147483649], { dtype: "int32" }), "np.array", "-2147483649", "[1]");
    expectError(() => np.array(new Float64Array([2 ** 31]), { dtype: "int32" }), "np.array", "2147483648");
    expect(np.array([2147483647, -2147483648], { dtype: "int32" }).toJs()).toEqual([2147483647, -2147483648]);
    expect(np.array([1.9, -1.9], { dtype: "int32" }).toJs()).toEqual([1, -1]); // truncation, as documented
  });
  it("NaN and Infinity to int32 are an Error", () => {
    expectError(() => np.array(NaN, { dtype: "int32" }), "np.array", "NaN", "int32");
    expectError(() => np.array([1, Infinity], { dtype: "int32" }), "np.array", "Infinity");
    expectError(() => np.array(new Float32Array([-Infinity]), { dtype: "int32" }), "np.array", "-Infinity");
  });
  it("astype keeps wrapping (C casts, as NumPy's astype)", () => {
    expect(np.array([3e9], { dtype: "float64" }).astype("int32").toJs()).toEqual([3e9 | 0]);
  });
  it("shapes beyond the typed-array limit name the operation and the shape", () => {
    expectError(() => np.zeros([100000, 100000]), "np.zeros", "[100000,100000]", "10000000000 elements");
    expectError(() => np.ones([1e5, 1e5], "int32"), "np.ones", "[100000,100000]");
    expectError(() => np.full([1e6, 1e6], 2), "np.full", "[1000000,1000000]");
    const x = np.zeros([100000]);
    expectError(() => np.broadcastTo(x, [100000, 100000]), "broadcastTo", "[100000,100000]");
    expectError(() => np.outer(x, x), "mul", "[100000,100000]"); // the primitive that would build it
    expectError(() => jit((a: np.Array) => np.outer(a, a))(x), "mul", "[100000,100000]");
  });
});
