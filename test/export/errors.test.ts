/** What exportOnnx rejects, and how it says so. */
import { describe, expect, it } from "vitest";
import { type Array as NDArray, exportOnnx, np, random } from "../../src/index.js";
import { ShapedArray } from "../../src/core/array.js";
import { bind1, definePrimitive } from "../../src/core/trace.js";
import { scatterAdd } from "../../src/primitives/indexing.js";

describe("exportOnnx errors", () => {
  it("a primitive with no ONNX form: names it, the exported function, and what to do instead", () => {
    function whiten(x: NDArray): NDArray {
      return np.linalg.cholesky(np.matmul(x, np.transpose(x)));
    }
    expect(() => exportOnnx(whiten, [np.eye(3)])).toThrow(
      /^exportOnnx\(whiten\): primitive cholesky cannot be exported to ONNX: .*compute it outside the exported function and pass the result in/,
    );
  });

  it("a primitive without a row in the mapping table: names it and the table", () => {
    const mystery_p = definePrimitive({
      name: "mystery_op_for_export_test",
      abstractEval: ([x]) => [new ShapedArray(x!.shape, x!.dtype)],
      impl: ([x]) => [x!],
    });
    function usesMystery(x: NDArray): NDArray {
      return np.exp(bind1(mystery_p, [x]));
    }
    expect(() => exportOnnx(usesMystery, [np.zeros([2])])).toThrow(
      'exportOnnx(usesMystery): primitive mystery_op_for_export_test cannot be exported to ONNX: it has no entry in the ONNX mapping table (src/export/onnx_ops.ts). Add a row for "mystery_op_for_export_test" there',
    );
  });

  it("random numbers below opset 18", () => {
    expect(() => exportOnnx((k: random.Key) => random.normal(k, [2]), [random.key(0)], { opset: 17 })).toThrow(
      /primitive random_bits cannot be exported to ONNX: the Threefry hash needs ONNX's bitwise operators, from opset 18/,
    );
  });

  it("scatter_add below opset 16", () => {
    const f = (u: NDArray) => scatterAdd(u, np.array([0, 0], { dtype: "int32" }), 0, [3]);
    expect(() => exportOnnx(f, [np.ones([2])], { opset: 15 })).toThrow(/primitive scatter_add cannot be exported to ONNX: .*opset 16/);
  });

  it("options: unknown keys, opset range, name counts and duplicates", () => {
    const f = (x: NDArray) => np.exp(x);
    const x = np.zeros([2]);
    expect(() => exportOnnx(f, [x], { opst: 18 } as never)).toThrow("exportOnnx(f): unknown option `opst` (did you mean `opset`?)");
    expect(() => exportOnnx(f, [x], { opset: 12 })).toThrow("exportOnnx(f): opset must be an integer from 13 to 21, got 12.");
    expect(() => exportOnnx(f, [x], { opset: 18.5 })).toThrow(/opset must be an integer/);
    expect(() => exportOnnx(f, [x], { inputNames: ["a", "b"] })).toThrow("exportOnnx(f): inputNames has 2 name(s) but exampleArgs has 1 leaves");
    expect(() => exportOnnx(f, [x], { outputNames: [] })).toThrow("exportOnnx(f): outputNames has 0 name(s) but the output has 1 leaves");
    expect(() => exportOnnx((a: NDArray, b: NDArray) => np.add(a, b), [x, x], { inputNames: ["a", "a"] })).toThrow('repeats the name "a"');
    expect(() => exportOnnx(f, [x], { inputNames: ["y"], outputNames: ["y"] })).toThrow('"y" names both an input and an output');
    expect(() => exportOnnx(f, [x], { inputNames: [3] as never })).toThrow("inputNames must be an array of non-empty strings");
  });

  it("bad arguments", () => {
    expect(() => exportOnnx((x: NDArray) => x, np.zeros([2]) as never)).toThrow(/exampleArgs must be an array with one entry per argument/);
    expect(() => exportOnnx(3 as never, [])).toThrow(/expects a function, got number/);
  });
});
