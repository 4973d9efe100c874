/**
 * Parity in ONNX Runtime of the ONNX rows of the NumPy-level primitives
 * (src/export/onnx_numpy.ts): gather, scatter, rev, the inverse trigonometric and
 * hyperbolic functions, log2/log10/exp2, atan2, hypot, mod, cumulative reductions,
 * sort and argsort — each compared with `jit(f)`.
 */
import { describe, expect, it } from "vitest";
import { type Array as NDArray, jit, np, vmap } from "../../src/index.js";
import * as G from "../../src/primitives/gather.js";
import * as I from "../../src/primitives/indexing.js";
import { expectParity, runOnnx } from "./ort.js";
import { float64Cases, numpyCases } from "./numpy_cases.js";

describe("exportOnnx of the NumPy-level primitives: parity with jit in ONNX Runtime", () => {
  for (const c of [...numpyCases, ...float64Cases]) it(c.name, () => expectParity(c.f, c.args, c.name));
});

/** Runs `f` with cotangent's jit and in ONNX Runtime; both must reject the indices. */
async function expectBothReject(f: (x: NDArray, i: NDArray) => NDArray, x: NDArray, idx: NDArray, what: string): Promise<void> {
  expect(() => jit(f)(x, idx), `${what}: cotangent`).toThrow(/out of range/);
  await expect(runOnnx(f, [x, idx]), `${what}: ONNX Runtime`).rejects.toThrow(/invalid ind|out of data bounds/);
}

describe("out-of-range indices: cotangent throws, and the exported model fails the run (never a silent value)", () => {
  const x = np.array([1, 2, 3]);
  const fs: [string, (x: NDArray, i: NDArray) => NDArray][] = [
    ["x.at(i).get()", (x, i) => x.at(i).get()],
    ["np.take", (x, i) => np.take(x, i, 0)],
    ["scatter_add (take's transpose)", (_x, i) => I.scatterAdd(np.ones([i.size]), i, 0, [3])],
    ["vmap of takeAlongAxis (batched gather)", (x, i) => vmap((j: NDArray) => np.takeAlongAxis(x, j, 0))(np.reshape(i, [i.size, 1]))],
  ];
  for (const mode of ["set", "add", "mul", "min", "max"] as const) {
    fs.push([`scatter-${mode}`, (x, i) => G.scatter(x, np.reshape(i, [i.size, 1]), np.full([i.size], 7), { axes: [0], batchDims: 0, mode })]);
  }
  for (const [name, f] of fs) {
    it(name, async () => {
      for (const bad of [3, -4, 100, -100]) await expectBothReject(f, x, np.array([0, bad], { dtype: "int32" }), `${name} at index ${bad}`);
      // in range, negative ones counted from the end: the same values
      await expectParity(f, [x, np.array([-3, 2, -1], { dtype: "int32" })], name);
    });
  }
});
