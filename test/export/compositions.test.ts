/**
 * Exported compositions of transforms, run in ONNX Runtime and compared with cotangent:
 * an MLP, a gradient over a parameter pytree, vmap, a Hessian-vector product, nested
 * jit and custom derivatives, and a whole Adam training step iterated 100 times.
 */
import { describe, expect, it } from "vitest";
import {
  type Array as NDArray,
  checkpoint,
  customJvp,
  customVjp,
  exportOnnx,
  grad,
  hessianVectorProduct,
  jit,
  nn,
  np,
  optim,
  random,
  tree,
  valueAndGrad,
  vmap,
} from "../../src/index.js";
import { expectMatches, expectParity, rand, runSession, session } from "./ort.js";

interface Params {
  w1: NDArray;
  b1: NDArray;
  w2: NDArray;
  b2: NDArray;
}
const init = (seed: number, dtype: "float32" | "float64" = "float32"): Params => ({
  w1: rand([4, 8], dtype, -0.5, 0.5, seed),
  b1: rand([8], dtype, -0.1, 0.1, seed + 1),
  w2: rand([8, 3], dtype, -0.5, 0.5, seed + 2),
  b2: rand([3], dtype, -0.1, 0.1, seed + 3),
});
const mlp = (p: Params, x: NDArray): NDArray => np.add(np.matmul(nn.relu(np.add(np.matmul(x, p.w1), p.b1)), p.w2), p.b2);
const loss = (p: Params, x: NDArray, y: NDArray): NDArray => np.mean(np.square(np.subtract(np.tanh(mlp(p, x)), y)));
const xs = rand([16, 4], "float32", -1, 1, 100);
const ys = rand([16, 3], "float32", -1, 1, 101);

describe("exported compositions match cotangent in ONNX Runtime", () => {
  it("an MLP forward pass", () => expectParity(mlp, [init(1), xs], "mlp"));

  it("an MLP forward pass in float64", () => expectParity(mlp, [init(1, "float64"), xs.astype("float64")], "mlp64"));

  it("grad of a loss over a parameter pytree (outputs named from the pytree paths)", async () => {
    const g = grad(loss);
    await expectParity(g, [init(2), xs, ys], "grad");
    const s = await session(exportOnnx(g, [init(2), xs, ys]));
    expect(s.inputNames).toEqual(["args[0].b1", "args[0].b2", "args[0].w1", "args[0].w2", "args[1]", "args[2]"]);
    expect(s.outputNames).toEqual(["out.b1", "out.b2", "out.w1", "out.w2"]);
  });

  it("valueAndGrad", () => expectParity(valueAndGrad(loss), [init(3), xs, ys], "valueAndGrad"));

  it("vmap of per-example gradients", () => {
    const perExample = vmap(
      grad((p: Params, x: NDArray, y: NDArray) => loss(p, np.reshape(x, [1, 4]), np.reshape(y, [1, 3]))),
      { inAxes: [null, 0, 0] },
    );
    return expectParity(perExample, [init(4), xs, ys], "vmap");
  });

  it("hessianVectorProduct", () => {
    const f = (x: NDArray): NDArray => np.sum(np.multiply(np.sin(x), np.exp(np.multiply(x, 0.3))));
    return expectParity(hessianVectorProduct(f), [rand([6], "float64", -1, 1, 5), rand([6], "float64", -1, 1, 6)], "hvp");
  });

  it("nested jit, customJvp and customVjp functions are inlined (with their gradients)", () => {
    const softplus = customJvp(
      (x: NDArray) => np.log1p(np.exp(x)),
      ([x], [t]) => [np.log1p(np.exp(x as NDArray)), np.multiply(t as NDArray, np.sigmoid(x as NDArray))],
    );
    const clipGrad = customVjp(
      (x: NDArray) => x,
      (x: NDArray) => [x, null],
      (_r: null, g: NDArray) => [np.clip(g, -0.1, 0.1)],
    );
    const inner = jit((x: NDArray) => np.multiply(softplus(x), 2));
    const f = (x: NDArray): NDArray => np.sum(clipGrad(inner(x)));
    return expectParity((x: NDArray) => [f(x), grad(f)(x)], [rand([5], "float32", -3, 3, 7)], "custom");
  });

  it("checkpoint: the body is inlined, with its gradient", () => {
    const f = checkpoint((x: NDArray) => np.sin(np.multiply(np.exp(x), 2)));
    const h = (x: NDArray): NDArray => np.sum(f(x));
    return expectParity((x: NDArray) => [h(x), grad(h)(x)], [rand([5], "float32", -1, 1, 12)], "checkpoint");
  });

  it("closed-over arrays become initializers; the example arguments' values are not baked in", async () => {
    const w = rand([4, 3], "float32", -1, 1, 8);
    const f = (x: NDArray): NDArray => np.matmul(x, w);
    const bytes = exportOnnx(f, [np.zeros([2, 4])]);
    expect(exportOnnx(f, [np.ones([2, 4])])).toEqual(bytes);
    const s = await session(bytes);
    const x = rand([2, 4], "float32", -1, 1, 9);
    const [out] = await runSession(s, [x]);
    expectMatches(out!, f(x), "f(x)");
  });

  it("inputNames and outputNames name the graph's inputs and outputs", async () => {
    const s = await session(
      exportOnnx((a: NDArray, b: { c: NDArray }) => ({ sum: np.add(a, b.c), prod: np.multiply(a, b.c) }), [xs, { c: xs }], {
        inputNames: ["a", "c"],
        outputNames: ["prod", "sum"],
      }),
    );
    expect(s.inputNames).toEqual(["a", "c"]);
    expect(s.outputNames).toEqual(["prod", "sum"]);
  });

  it("an output that is an input, or the same value twice, is still a graph output", () =>
    expectParity((a: NDArray, b: NDArray) => [a, np.exp(b), np.exp(b), 3], [xs, ys], "passthrough"));

  it("a training step with dropout: the key is an input, ONNX Runtime draws the same mask", () => {
    const dropLoss = (p: Params, key: NDArray, x: NDArray, y: NDArray): NDArray => {
      const h = nn.dropout(key, nn.relu(np.add(np.matmul(x, p.w1), p.b1)), 0.5);
      return np.mean(np.square(np.subtract(np.add(np.matmul(h, p.w2), p.b2), y)));
    };
    const step = (p: Params, key: NDArray, x: NDArray, y: NDArray) => {
      const [l, g] = valueAndGrad(dropLoss)(p, key, x, y);
      return [tree.map((a: NDArray, b: NDArray) => np.subtract(a, np.multiply(b, 0.1)), p, g), l];
    };
    return expectParity(step, [init(30), random.key(7), xs, ys], "dropout step");
  });

  for (const opset of [13, 17, 21]) {
    it(`opset ${opset}`, async () => {
      const f = (x: NDArray): NDArray[] => [np.max(x, { axis: 1 }), np.min(x), np.sum(x, { axis: 0 }), np.reshape(x, [8, 8])];
      const s = await session(exportOnnx(f, [xs], { opset }));
      const outs = await runSession(s, [xs]);
      f(xs).forEach((w, i) => expectMatches(outs[i]!, w, `output ${i}`));
    });
  }
});

describe("a whole Adam training step, exported and iterated in ONNX Runtime", () => {
  it("100 steps in ONNX Runtime match 100 steps of cotangent", async () => {
    const opt = optim.adam(0.01);
    const step = (params: Params, state: optim.AdamState, x: NDArray, y: NDArray): [Params, optim.AdamState, NDArray] => {
      const [l, g] = valueAndGrad(loss)(params, x, y);
      const [updates, newState] = opt.update(g, state, params);
      return [optim.applyUpdates(params, updates), newState, l];
    };
    let params = init(20);
    let state = opt.init(params);
    const s = await session(exportOnnx(step, [params, state, xs, ys]));

    const nCarried = tree.leaves([params, state]).length;
    let carried = tree.leaves([params, state]) as NDArray[];
    const jstep = jit(step);
    let onnxLoss = 0;
    let loss0 = 0;
    let out: Awaited<ReturnType<typeof runSession>> = [];
    for (let i = 0; i < 100; i++) {
      out = await runSession(s, [...carried, xs, ys]);
      // feed ONNX Runtime's outputs back in as the next step's inputs
      carried = out
        .slice(0, nCarried)
        .map((t) => np.reshape(np.array(Array.from(t.data as ArrayLike<number>), { dtype: t.type === "int32" ? "int32" : "float32" }), [...t.dims]));
      onnxLoss = Number((out[nCarried]!.data as Float32Array)[0]);
      let l: NDArray;
      [params, state, l] = jstep(params, state, xs, ys);
      if (i === 0) loss0 = l.item();
      expect(Math.abs(onnxLoss - l.item()), `loss at step ${i}`).toBeLessThanOrEqual(1e-5 * Math.abs(l.item()) + 1e-6);
    }
    expect(onnxLoss).toBeLessThan(loss0 * 0.8); // it trained
    const want = tree.leaves([params, state]) as NDArray[];
    want.forEach((w, i) => expectMatches(out[i]!, w, `carried leaf ${i} after 100 steps`, { rtol: 1e-4, atol: 1e-6 }));
    expect(Array.from(out[tree.leaves(params).length]!.data as Int32Array)).toEqual([100]); // Adam's step count
  });
});
