/**
 * Exported convolutions and windowed reductions (src/export/onnx_conv.ts), run in ONNX
 * Runtime and compared with `jit(f)`: `conv_general_dilated` over strides, padding
 * (SAME, VALID, explicit, negative), input and kernel dilation, feature and batch groups,
 * dimension numbers, 0-D to 3-D, float32 (ONNX `Conv`) and float64 / int32 (im2col by
 * `MatMul`); `reduce_window_*` and the selections that differentiate max pooling, with
 * ties, NaN and -inf; a conv block forward and its gradient; and the `nn` layers.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Array as NDArray, exportOnnx, grad, jvp, lax, makeJaxpr, nn, np, random, vjp, vmap } from "../../src/index.js";
import { bind1 } from "../../src/core/trace.js";
import { type ConvParams, conv_general_dilated_p } from "../../src/primitives/conv.js";
import {
  type SelectParams,
  type WindowParams,
  reduce_window_max_p,
  reduce_window_min_p,
  reduce_window_sum_p,
  select_and_gather_add_p,
  select_and_scatter_add_p,
} from "../../src/primitives/window.js";
import { expectMatches, expectParity, rand, runOnnx } from "./ort.js";

type Pad = "SAME" | "VALID" | [number, number][];
type DT = "float32" | "float64";

/** The primitives `f`'s jaxpr uses at `args` (nested jaxprs not needed here: these functions have none). */
const primitivesOf = (f: (...a: any[]) => unknown, args: unknown[]): string[] => makeJaxpr(f)(...args).jaxpr.eqns.map((e) => e.primitive.name);

describe("conv_general_dilated", () => {
  const strideCases: [string, number[], Pad][] = [
    ["stride 1 SAME", [1, 1], "SAME"],
    ["stride 2 SAME", [2, 2], "SAME"],
    ["strides (2, 1) VALID", [2, 1], "VALID"],
    [
      "explicit padding",
      [1, 2],
      [
        [1, 2],
        [0, 1],
      ],
    ],
    [
      "negative padding (crops)",
      [1, 1],
      [
        [-1, 1],
        [2, -2],
      ],
    ],
  ];
  for (const dtype of ["float32", "float64"] as DT[]) {
    const x = rand([2, 3, 7, 6], dtype, -1, 1, 1);
    const w = rand([4, 3, 3, 2], dtype, -1, 1, 2);
    for (const [name, s, pad] of strideCases) {
      it(`NCHW ${name}, ${dtype}`, () => expectParity((a: NDArray, b: NDArray) => lax.convGeneralDilated(a, b, s, pad), [x, w], name));
    }
    it(`kernel dilation (atrous) and input dilation, ${dtype}`, () =>
      expectParity(
        (a: NDArray, b: NDArray) => [
          lax.convGeneralDilated(a, b, [1, 1], "SAME", { rhsDilation: [2, 3] }),
          lax.convGeneralDilated(a, b, [1, 2], "VALID", { lhsDilation: [2, 3] }),
          lax.convGeneralDilated(
            a,
            b,
            [2, 1],
            [
              [2, -1],
              [1, 3],
            ],
            { lhsDilation: [3, 2], rhsDilation: [1, 2] },
          ),
        ],
        [x, w],
      ));
    it(`feature groups (grouped and depthwise), ${dtype}`, () =>
      expectParity(
        (a: NDArray, b: NDArray, d: NDArray) => [
          lax.convGeneralDilated(a, b, [1, 1], "SAME", { featureGroupCount: 2 }),
          lax.convGeneralDilated(a, d, [2, 2], "SAME", { featureGroupCount: 4 }),
        ],
        [rand([2, 4, 6, 5], dtype, -1, 1, 3), rand([6, 2, 3, 3], dtype, -1, 1, 4), rand([8, 1, 3, 3], dtype, -1, 1, 5)],
      ));
    it(`NHWC / HWIO and mixed dimension numbers, ${dtype}`, () =>
      expectParity(
        (a: NDArray, b: NDArray, c: NDArray) => [
          lax.convGeneralDilated(a, b, [2, 1], "SAME", { dimensionNumbers: ["NHWC", "HWIO", "NHWC"] }),
          lax.convGeneralDilated(a, c, [1, 1], "VALID", { dimensionNumbers: ["NHWC", "OIHW", "NCHW"], featureGroupCount: 3 }),
          lax.convGeneralDilated(np.transpose(a, [2, 0, 3, 1]), c, [1, 1], "SAME", { dimensionNumbers: ["WNCH", "OIHW", "HCWN"], featureGroupCount: 3 }),
        ],
        [rand([2, 7, 5, 3], dtype, -1, 1, 6), rand([3, 2, 3, 4], dtype, -1, 1, 7), rand([6, 1, 2, 3], dtype, -1, 1, 8)],
      ));
    it(`1-D, 3-D and no spatial axes, ${dtype}`, () =>
      expectParity(
        (a: NDArray, b: NDArray, c: NDArray, d: NDArray, m: NDArray, k: NDArray) => [
          lax.convGeneralDilated(a, b, [2], "SAME"),
          lax.convGeneralDilated(a, b, [1], [[-1, 2]], { lhsDilation: [2], rhsDilation: [2] }),
          lax.convGeneralDilated(c, d, [1, 2, 1], "SAME"),
          lax.convGeneralDilated(m, k, [], "VALID"),
        ],
        [
          rand([2, 3, 9], dtype, -1, 1, 9),
          rand([4, 3, 3], dtype, -1, 1, 10),
          rand([1, 2, 4, 5, 3], dtype, -1, 1, 11),
          rand([3, 2, 2, 3, 2], dtype, -1, 1, 12),
          rand([5, 3], dtype, -1, 1, 13),
          rand([2, 3], dtype, -1, 1, 14),
        ],
      ));
    it(`gradients of a strided grouped conv (input dilation, batch groups), ${dtype}`, async () => {
      const f = (a: NDArray, b: NDArray) => np.sum(np.sin(lax.convGeneralDilated(a, b, [2, 2], "SAME", { featureGroupCount: 2 })));
      const args: [NDArray, NDArray] = [rand([2, 4, 7, 6], dtype, -1, 1, 15), rand([6, 2, 3, 3], dtype, -1, 1, 16)];
      const g = grad(f, { argnums: [0, 1] });
      // the input's cotangent dilates by the stride; the kernel's has batch groups
      const eqns = makeJaxpr(g)(...args).jaxpr.eqns.filter((e) => e.primitive.name === "conv_general_dilated");
      expect(eqns.some((e) => (e.params as ConvParams).lhsDilation.some((d) => d > 1))).toBe(true);
      expect(eqns.some((e) => (e.params as ConvParams).batchGroupCount > 1)).toBe(true);
      await expectParity(g, args, "grad");
    });
  }
  it("batch groups directly, and int32 (im2col by MatMul)", () => {
    const p: ConvParams = {
      windowStrides: [1, 2],
      padding: [
        [1, 0],
        [0, 1],
      ],
      lhsDilation: [1, 1],
      rhsDilation: [1, 1],
      lhsSpec: [0, 1, 2, 3],
      rhsSpec: [0, 1, 2, 3],
      outSpec: [0, 1, 2, 3],
      featureGroupCount: 1,
      batchGroupCount: 3,
    };
    return expectParity(
      (a: NDArray, b: NDArray, i: NDArray, j: NDArray) => [bind1(conv_general_dilated_p, [a, b], p), lax.conv(i, j, [1, 1], "SAME")],
      [
        rand([6, 2, 4, 5], "float32", -1, 1, 17),
        rand([6, 2, 2, 3], "float32", -1, 1, 18),
        rand([2, 3, 4, 4], "int32", -5, 5, 19),
        rand([2, 3, 3, 3], "int32", -3, 3, 20),
      ],
    );
  });
  it("float32 uses ONNX Conv, float64 im2col", () => {
    const f = (a: NDArray, b: NDArray) => lax.conv(a, b, [1, 1], "SAME");
    const text = (d: DT) => new TextDecoder("latin1").decode(exportOnnx(f, [np.zeros([1, 2, 5, 5], d), np.zeros([3, 2, 3, 3], d)]));
    expect(text("float32")).toContain("Conv");
    expect(text("float32")).not.toContain("MatMul");
    expect(text("float64")).toContain("MatMul");
  });
});

describe("reduce_window_sum / max / min", () => {
  const pools = (op: "add" | "max" | "min", init: number) => (x: NDArray) => [
    lax.reduceWindow(x, init, op, [1, 1, 2, 2], [1, 1, 2, 2], "VALID"),
    lax.reduceWindow(x, init, op, [1, 1, 3, 3], [1, 1, 1, 1], "SAME"),
    lax.reduceWindow(
      x,
      init,
      op,
      [1, 1, 3, 2],
      [1, 1, 2, 3],
      [
        [0, 0],
        [0, 0],
        [2, 1],
        [-1, 2],
      ],
    ),
    // windows over the batch and channel axes too
    lax.reduceWindow(x, init, op, [2, 2, 1, 2], [1, 2, 1, 1], "SAME"),
  ];
  for (const dtype of ["float32", "float64", "int32"] as const) {
    const x = rand([2, 3, 7, 6], dtype, -5, 5, 21);
    it(`sum, max and min pooling: strides, SAME, explicit and negative padding, windows over every axis, ${dtype}`, () =>
      expectParity((a: NDArray) => [...pools("add", 0)(a), ...pools("max", -Infinity)(a), ...pools("min", Infinity)(a)], [x]));
  }
  it("NaN and -inf as cotangent: a NaN wins its window; padding holds -inf", () =>
    expectParity(
      (a: NDArray) => pools("max", -Infinity)(a).concat(pools("min", Infinity)(a), pools("add", 0)(a)),
      [np.reshape(np.array([NaN, 1, -Infinity, -Infinity, 2, Infinity, 3, NaN, -Infinity, -Infinity, 0, 5]), [1, 1, 3, 4])],
    ));
  it("window dilation and base dilation (the transpose of a strided sum pooling)", () => {
    const p: WindowParams = {
      windowDimensions: [2, 3],
      windowStrides: [1, 2],
      padding: [
        [1, -1],
        [2, 0],
      ],
      baseDilation: [2, 1],
      windowDilation: [1, 2],
    };
    const g = grad((a: NDArray) => np.sum(np.sin(lax.reduceWindow(a, 0, "add", [1, 3, 3], [1, 2, 2], "SAME"))));
    return expectParity(
      (a: NDArray, b: NDArray) => [bind1(reduce_window_sum_p, [a], p), bind1(reduce_window_max_p, [a], p), bind1(reduce_window_min_p, [a], p), g(b)],
      [rand([4, 7], "float32", -1, 1, 22), rand([2, 7, 8], "float32", -1, 1, 23)],
    );
  });
});

describe("select_and_gather_add / select_and_scatter_add (derivatives of max pooling)", () => {
  // many ties: the first maximum of each window (row-major) is selected, as cotangent
  const ties = np.reshape(np.array([1, 3, 3, 0, 3, 3, 2, 2, 1, 3, 3, 3, 2, 3, 0, 3, 2, 2, 3, 1, 0, 0, 3, 3, 1, 3, 1, 3, 3, 2]), [1, 1, 5, 6]);
  const maxPool = (x: NDArray, k: number[], s: number[], pad: Pad) => lax.reduceWindow(x, -Infinity, "max", [1, 1, ...k], [1, 1, ...s], pad);
  const minPool = (x: NDArray) => lax.reduceWindow(x, Infinity, "min", [1, 1, 3, 2], [1, 1, 1, 2], "SAME");
  const loss = (x: NDArray) =>
    np.add(
      np.add(np.sum(np.multiply(maxPool(x, [2, 2], [2, 2], "VALID"), 3)), np.sum(np.square(maxPool(x, [3, 3], [1, 1], "SAME")))),
      np.add(
        np.sum(
          np.sin(
            maxPool(
              x,
              [3, 2],
              [2, 1],
              [
                [0, 0],
                [0, 0],
                [2, -1],
                [1, 1],
              ],
            ),
          ),
        ),
        np.sum(np.cos(minPool(x))),
      ),
    );
  it("grad with ties, overlapping windows, padding (select_and_scatter_add)", async () => {
    expect(primitivesOf(grad(loss), [ties])).toContain("select_and_scatter_add");
    expect(Number.isFinite(loss(ties).item())).toBe(true);
    await expectParity(grad(loss), [ties]);
    await expectParity(grad(loss), [rand([2, 3, 7, 6], "float64", -1, 1, 24)]);
  });
  it("jvp with ties (select_and_gather_add)", async () => {
    const f = (x: NDArray, t: NDArray) => jvp(loss, [x], [t])[1];
    expect(primitivesOf(f, [ties, ties])).toContain("select_and_gather_add");
    await expectParity(f, [ties, rand([1, 1, 5, 6], "float32", -1, 1, 25)]);
    await expectParity(f, [rand([2, 3, 7, 6], "float64", -1, 1, 26), rand([2, 3, 7, 6], "float64", -1, 1, 27)]);
  });
  it("NaN, -inf and windows of padding only; window and base dilation; min selection", () => {
    const p: SelectParams = {
      windowDimensions: [2, 3],
      windowStrides: [2, 1],
      padding: [
        [3, 1],
        [2, -1],
      ],
      baseDilation: [1, 2],
      windowDilation: [2, 1],
      select: "max",
    };
    const x = np.reshape(np.array([NaN, 1, -Infinity, -Infinity, 2, NaN, 3, 3, -Infinity, -Infinity, -Infinity, 5]), [3, 4]);
    const t = rand([3, 4], "float32", -1, 1, 28);
    const outShape = bind1(select_and_gather_add_p, [t, x], p).shape;
    const s = rand(outShape, "float32", -1, 1, 29);
    const q: SelectParams = { ...p, select: "min" };
    return expectParity(
      (xx: NDArray, tt: NDArray, ss: NDArray) => [
        bind1(select_and_gather_add_p, [tt, xx], p),
        bind1(select_and_scatter_add_p, [ss, xx], p),
        bind1(select_and_gather_add_p, [tt, xx], q),
        bind1(select_and_scatter_add_p, [ss, xx], q),
        vjp((a: NDArray) => maxPool(a, [2, 2], [1, 1], "SAME"), np.reshape(xx, [1, 1, 3, 4]))[1](np.ones([1, 1, 3, 4]))[0],
      ],
      [x, t, s],
    );
  });
});

describe("a conv block", () => {
  // W8: x [N, 1, 28, 28] → conv 3x3 1→16 SAME + ReLU → conv 3x3 16→32 stride 2 SAME + ReLU → max-pool → sum
  const block = (w1: NDArray, w2: NDArray, x: NDArray): NDArray => {
    const h1 = nn.relu(lax.conv(x, w1, [1, 1], "SAME"));
    const h2 = nn.relu(lax.conv(h1, w2, [2, 2], "SAME"));
    return np.sum(lax.reduceWindow(h2, -Infinity, "max", [1, 1, 2, 2], [1, 1, 2, 2], "VALID"));
  };
  const [k1, k2, k3] = random.split(random.key(8), 3);
  const w1 = np.multiply(random.normal(k1!, [16, 1, 3, 3]), 0.3);
  const w2 = np.multiply(random.normal(k2!, [32, 16, 3, 3]), 0.1);
  const x = random.uniform(k3!, [4, 1, 28, 28]);

  it("forward", () => expectParity(block, [w1, w2, x], "block"));

  it("grad wrt both kernels (input dilation, select_and_scatter_add)", async () => {
    const g = grad(block, { argnums: [0, 1] });
    const prims = primitivesOf(g, [w1, w2, x]);
    expect(prims).toContain("select_and_scatter_add");
    await expectParity(g, [w1, w2, x], "grad block");
  });

  it("nn.conv2d, nn.maxPool2d and nn.avgPool2d layers", () => {
    const conv = nn.conv2d.init(random.key(1), 3, 8, 3);
    const dw = nn.conv2d.init(random.key(2), 8, 8, [3, 2], { groups: 8 });
    const net = (p: { conv: typeof conv; dw: typeof dw }, xs: NDArray) => {
      const h = nn.relu(nn.conv2d.apply(p.conv, xs, { padding: 1, stride: 2 }));
      const d = nn.conv2d.apply(p.dw, h, { padding: "same", groups: 8, dilation: [2, 1] });
      return [nn.maxPool2d(d, 3, { stride: 2, padding: 1 }), nn.avgPool2d(d, 2), nn.avgPool2d(d, 3, { padding: 1, stride: 1, countIncludePad: false })];
    };
    const xs = rand([2, 3, 12, 10], "float32", -1, 1, 30);
    return Promise.all([
      expectParity(net, [{ conv, dw }, xs], "layers"),
      expectParity(
        grad((p, a) => np.sum(net(p, a)[0]!)),
        [{ conv, dw }, xs],
        "grad layers",
      ),
    ]);
  });
});

/** One spatial dimension of a random geometry: input size, kernel size, stride, padding, input and kernel dilation. */
const dimArb = fc
  .record({
    n: fc.integer({ min: 1, max: 6 }),
    k: fc.integer({ min: 1, max: 3 }),
    s: fc.integer({ min: 1, max: 3 }),
    lo: fc.integer({ min: -1, max: 2 }),
    hi: fc.integer({ min: -1, max: 2 }),
    ld: fc.integer({ min: 1, max: 2 }),
    rd: fc.integer({ min: 1, max: 2 }),
  })
  .filter(({ n, k, lo, hi, ld, rd }) => 1 + ld * (n - 1) + lo + hi >= 1 + rd * (k - 1));

describe("random geometries (property)", () => {
  it("conv_general_dilated and its gradients, float32 (Conv) and float64 (MatMul)", async () => {
    const arb = fc.record({
      dims: fc.array(dimArb, { minLength: 1, maxLength: 2 }),
      groups: fc.integer({ min: 1, max: 2 }),
      nhwc: fc.boolean(),
      dtype: fc.constantFrom<DT>("float32", "float64"),
      seed: fc.integer({ min: 1, max: 1000 }),
    });
    await fc.assert(
      fc.asyncProperty(arb, async ({ dims, groups, nhwc, dtype, seed }) => {
        const sp = "HW".slice(0, dims.length);
        const specs: [string, string, string] = nhwc ? [`N${sp}C`, `${sp}IO`, `N${sp}C`] : [`NC${sp}`, `OI${sp}`, `NC${sp}`];
        const C = 2 * groups;
        const x = rand(nhwc ? [2, ...dims.map((d) => d.n), C] : [2, C, ...dims.map((d) => d.n)], dtype, -1, 1, seed);
        const w = rand(nhwc ? [...dims.map((d) => d.k), 2, 2 * groups] : [2 * groups, 2, ...dims.map((d) => d.k)], dtype, -1, 1, seed + 1);
        const f = (a: NDArray, b: NDArray) =>
          lax.convGeneralDilated(
            a,
            b,
            dims.map((d) => d.s),
            dims.map((d) => [d.lo, d.hi]),
            { lhsDilation: dims.map((d) => d.ld), rhsDilation: dims.map((d) => d.rd), dimensionNumbers: specs, featureGroupCount: groups },
          );
        const g = (a: NDArray, b: NDArray) => [f(a, b), grad((p: NDArray, q: NDArray) => np.sum(np.sin(f(p, q))), { argnums: [0, 1] })(a, b)];
        await expectParity(g, [x, w], JSON.stringify({ dims, groups, nhwc, dtype }));
      }),
      { numRuns: 30 },
    );
  });

  it("max, min and sum pooling with their gradients and ties", async () => {
    const arb = fc.record({
      // reduceWindow dilates neither operand nor window; no window of padding only (its max is -inf)
      dims: fc.array(
        dimArb.map((d) => ({ ...d, ld: 1, rd: 1 })).filter(({ n, k, lo, hi }) => n + lo + hi >= k && lo < k && hi < k),
        { minLength: 1, maxLength: 2 },
      ),
      op: fc.constantFrom<"max" | "min" | "add">("max", "min", "add"),
      seed: fc.integer({ min: 1, max: 1000 }),
    });
    await fc.assert(
      fc.asyncProperty(arb, async ({ dims, op, seed }) => {
        const init = op === "max" ? -Infinity : op === "min" ? Infinity : 0;
        // few distinct values: many ties
        const x = np.round(rand([2, ...dims.map((d) => d.n)], "float64", -2, 2, seed));
        const f = (a: NDArray) =>
          lax.reduceWindow(
            a,
            init,
            op,
            [1, ...dims.map((d) => d.k)],
            [1, ...dims.map((d) => d.s)],
            [[0, 0], ...dims.map((d): [number, number] => [d.lo, d.hi])],
          );
        const g = (a: NDArray, t: NDArray) => [f(a), grad((p: NDArray) => np.sum(np.square(f(p))))(a), jvp(f, [a], [t])[1]];
        await expectParity(g, [x, rand(x.shape, "float64", -1, 1, seed + 1)], JSON.stringify({ dims, op }));
      }),
      { numRuns: 30 },
    );
  });
});

describe("other compositions", () => {
  it("vmap over per-example kernels and inputs (feature groups from the batching rule)", () =>
    expectParity(
      vmap((a: NDArray, b: NDArray) =>
        np.sum(lax.reduceWindow(nn.relu(lax.conv(a, b, [1, 1], "SAME")), -Infinity, "max", [1, 1, 2, 2], [1, 1, 2, 2], "VALID")),
      ),
      [rand([3, 1, 2, 6, 6], "float32", -1, 1, 40), rand([3, 4, 2, 3, 3], "float32", -1, 1, 41)],
    ));

  it("the conv block's gradient at opset 13", async () => {
    const f = (w: NDArray, x: NDArray) =>
      np.sum(lax.reduceWindow(nn.relu(lax.conv(x, w, [2, 2], "SAME")), -Infinity, "max", [1, 1, 2, 2], [1, 1, 2, 2], "VALID"));
    const args = [rand([4, 2, 3, 3], "float32", -1, 1, 42), rand([2, 2, 9, 9], "float32", -1, 1, 43)];
    const [got] = await runOnnx(grad(f), args, { opset: 13 });
    expectMatches(got!, grad(f)(args[0]!, args[1]!), "grad at opset 13");
  });
});
