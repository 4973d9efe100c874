/**
 * Property: for random shapes (broadcasting included), random compositions of
 * elementwise ops, reductions and transposes, and their gradients, the exported model
 * run in ONNX Runtime equals jit(f) (float64, to 1e-12 relative).
 */
import fc from "fast-check";
import { describe, it } from "vitest";
import { type Array as NDArray, grad, np } from "../../src/index.js";
import { arrayArb, broadcastableShapesArb, permutationArb, reduceOptionsArb } from "../helpers/arbitraries.js";
import { expectParity } from "./ort.js";

const unaries: Record<string, (x: NDArray) => NDArray> = {
  tanh: np.tanh,
  sin: np.sin,
  sigmoid: np.sigmoid,
  square: np.square,
  abs: np.abs,
  expHalf: (x) => np.exp(np.multiply(x, 0.5)),
  softplus: (x) => np.log1p(np.exp(x)),
};
const binaries: Record<string, (x: NDArray, y: NDArray) => NDArray> = {
  add: np.add,
  sub: np.subtract,
  mul: np.multiply,
  max: np.maximum,
  min: np.minimum,
  where: (x, y) => np.where(np.greater(x, y), x, np.multiply(y, 2)),
};

describe("exportOnnx equals jit on random programs", () => {
  it("elementwise ops with broadcasting, a reduction, a transpose, and the gradient of the sum", async () => {
    const programArb = broadcastableShapesArb(2, { maxRank: 3, maxDim: 4 }).chain(({ out, shapes }) =>
      fc.record({
        x: arrayArb(shapes[0]!, "real", "float64"),
        y: arrayArb(shapes[1]!, "real", "float64"),
        u: fc.constantFrom(...Object.keys(unaries)),
        b: fc.constantFrom(...Object.keys(binaries)),
        perm: permutationArb(out.length),
        reduce: reduceOptionsArb(out.length),
      }),
    );
    await fc.assert(
      fc.asyncProperty(programArb, async ({ x, y, u, b, perm, reduce }) => {
        const f = (a: NDArray, c: NDArray): NDArray => np.sum(np.transpose(binaries[b]!(unaries[u]!(a), c), perm), reduce);
        const g = (a: NDArray, c: NDArray) => [f(a, c), grad((p: NDArray, q: NDArray) => np.sum(f(p, q)), { argnums: [0, 1] })(a, c)];
        await expectParity(g, [x, y], `${b}(${u}(x), y), perm ${perm}, ${JSON.stringify(reduce)}`);
      }),
      { numRuns: 40 },
    );
  });
});
