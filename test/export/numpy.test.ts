/**
 * Parity in ONNX Runtime of the ONNX rows of the NumPy-level primitives
 * (src/export/onnx_numpy.ts): gather, scatter, rev, the inverse trigonometric and
 * hyperbolic functions, log2/log10/exp2, atan2, hypot, mod, cumulative reductions,
 * sort and argsort — each compared with `jit(f)`.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Array as NDArray, exportOnnx, jit, np, vmap } from "../../src/index.js";
import * as G from "../../src/primitives/gather.js";
import * as I from "../../src/primitives/indexing.js";
import * as X from "../../src/primitives/special.js";
import { shapeArb, sizeOf } from "../helpers/arbitraries.js";
import { expectMatches, expectParity, rand, runOnnx } from "./ort.js";
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

describe("gather and scatter on random shapes and indices equal jit in ONNX Runtime", () => {
  /** x of rank 1..3 (dims 1..4), nb batch axes, k indexed axes among the rest, indices in [-n, n) with repeats, J of rank 0..2. */
  const caseArb = shapeArb({ minRank: 1, maxRank: 3, minDim: 1, maxDim: 4 }).chain((shape) =>
    fc.integer({ min: 0, max: shape.length - 1 }).chain((nb) =>
      fc.shuffledSubarray(shape.map((_, i) => i).slice(nb), { minLength: 1 }).chain((axes) =>
        shapeArb({ minRank: 0, maxRank: 2, minDim: 0, maxDim: 3 }).chain((J) => {
          const lead = [...shape.slice(0, nb), ...J];
          const count = sizeOf(lead) * axes.length;
          return fc.record({
            shape: fc.constant(shape),
            nb: fc.constant(nb),
            axes: fc.constant(axes),
            lead: fc.constant(lead),
            cols: fc.array(fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }), { minLength: count, maxLength: count }),
            mode: fc.constantFrom("set", "add", "mul", "min", "max" as const),
            seed: fc.integer({ min: 1, max: 1000 }),
          });
        }),
      ),
    ),
  );
  it("gather, and scatter in every mode (repeated indices included), float32 and int32", async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, async ({ shape, nb, axes, lead, cols, mode, seed }) => {
        const sizes = axes.map((a) => shape[a]!);
        // an index in [-n, n): both signs
        const idx = cols.map((u, j) => Math.floor(u * 2 * sizes[j % axes.length]!) - sizes[j % axes.length]!);
        const i = np.reshape(np.array(idx, { dtype: "int32" }), [...lead, axes.length]);
        const p = { axes, batchDims: nb };
        const outShape = [...lead, ...shape.filter((_, a) => a >= nb && !axes.includes(a))];
        for (const dtype of ["float32", "int32"] as const) {
          const x = rand(shape, dtype, -4, 4, seed);
          const u = rand(outShape, dtype, -4, 4, seed + 1);
          await expectParity(
            (x: NDArray, i: NDArray, u: NDArray) => [G.gather(x, i, p), G.scatter(x, i, u, { ...p, mode })],
            [x, i, u],
            `${dtype} x${JSON.stringify(shape)} axes ${JSON.stringify(axes)} batchDims ${nb} indices ${JSON.stringify(idx)} scatter-${mode}`,
          );
        }
      }),
      { numRuns: 40 },
    );
  });
});

describe("indexing an empty axis", () => {
  it("is rejected at export, as cotangent throws on every such index (an empty result would hide it)", () => {
    const i = np.array([0], { dtype: "int32" });
    const get = (x: NDArray, j: NDArray) => G.gather(x, np.reshape(j, [1, 1]), { axes: [0], batchDims: 0 });
    const put = (x: NDArray, j: NDArray) => G.scatter(x, np.reshape(j, [1, 1]), np.zeros([1, 0]), { axes: [0], batchDims: 0, mode: "add" });
    expect(() => jit(get)(np.zeros([0, 2]), i)).toThrow(/out of range/);
    expect(() => exportOnnx(get, [np.zeros([0, 2]), i])).toThrow(
      /exportOnnx\(get\): primitive gather cannot be exported to ONNX: it indexes axis 0 .* every index is out of range/,
    );
    expect(() => jit(put)(np.zeros([0, 0]), i)).toThrow(/out of range/);
    expect(() => exportOnnx(put, [np.zeros([0, 0]), i])).toThrow(
      /primitive scatter cannot be exported to ONNX: it indexes axis 0 .* every index is out of range/,
    );
  });
});

describe("opset requirements of the scatter reductions", () => {
  const i = np.array([0, 2], { dtype: "int32" });
  it("scatter add and mul need opset 16, min, max and set need 18: the Error names the primitive, the mode and the opset", () => {
    const add = (x: NDArray, j: NDArray) => x.at(j).add(1);
    const set = (x: NDArray, j: NDArray) => x.at(j).set(1);
    expect(() => exportOnnx(add, [np.zeros([3]), i], { opset: 15 })).toThrow(
      /exportOnnx\(add\): primitive scatter cannot be exported to ONNX: scatter-add .*opset 16/,
    );
    expect(() => exportOnnx(set, [np.zeros([3]), i], { opset: 17 })).toThrow(
      /exportOnnx\(set\): primitive scatter cannot be exported to ONNX: scatter-set .*opset 18/,
    );
    expect(exportOnnx(add, [np.zeros([3]), i], { opset: 16 }).length).toBeGreaterThan(0);
  });
  it("gather, sort, cumulative reductions and the special functions export at opset 13", async () => {
    const f = (x: NDArray, j: NDArray) => [
      np.sort(np.cumsum(x.at(j).get())),
      np.cummax(x),
      np.lgamma(np.add(np.abs(x), 1)),
      np.erfc(x),
      X.polygamma(1, np.add(np.abs(x), 1)),
    ];
    const x = np.array([0.5, -1, 2]);
    const got = await runOnnx(f, [x, i], { opset: 13 });
    const want = jit(f)(x, i);
    got.forEach((g, k) => expectMatches(g, want[k]!, `opset 13 output ${k}`));
  });
});
