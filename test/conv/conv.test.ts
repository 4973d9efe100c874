/**
 * lax.convGeneralDilated / lax.conv: values against a direct nested-loop float64
 * reference over random layouts, strides, paddings, dilations and feature groups;
 * gradients against finite differences (checkGrads); jit == eager; vmap == loop;
 * SciPy fixtures; bad input.
 */
import fc from "fast-check";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { type Array as NDArray, checkGrads, grad, jit, lax, makeJaxpr, np, vjp, vmap } from "../../src/index.js";
import { seedArb } from "../helpers/arbitraries.js";
import { errorMessage, expectClose, fromFlat, randomArray, seededRandom, toNumbers } from "../helpers/numeric.js";
import { loopStack, unstack } from "../helpers/programs.js";
import { type ConvCase, convCaseArb, outSpatial, referenceConv, storedShape } from "./reference.js";

/** Random float64 operands of a case, in its layouts. */
function operands(c: ConvCase, seed: number, dtype: "float32" | "float64" = "float64"): [NDArray, NDArray] {
  const rand = seededRandom(seed);
  const x = randomArray(rand, storedShape(c.specs[0], "N", "C", c.N, c.G * c.I, c.spatial), -1, 1, dtype);
  const w = randomArray(rand, storedShape(c.specs[1], "O", "I", c.G * c.Og, c.I, c.window), -1, 1, dtype);
  return [x, w];
}

/**
 * The convolution of a case as a function of its operands. Per-dimension arguments are
 * given in the order of the kernel layout's spatial letters (as JAX orders them); the
 * case lists them in H, W, D order.
 */
const convOf = (c: ConvCase) => {
  const order = [...c.specs[1]].filter((ch) => ch !== "O" && ch !== "I").map((ch) => "HWD".indexOf(ch));
  const re = <T>(v: readonly T[]): T[] => order.map((i) => v[i]!);
  const padding = typeof c.padding === "string" ? c.padding : re(c.padding);
  return (x: NDArray, w: NDArray) =>
    lax.convGeneralDilated(x, w, re(c.strides), padding, {
      lhsDilation: re(c.lhsDilation),
      rhsDilation: re(c.rhsDilation),
      dimensionNumbers: c.specs,
      featureGroupCount: c.G,
    });
};

const valid = (c: ConvCase) => outSpatial(c) !== null;

describe("convGeneralDilated: values", () => {
  it("equals the nested-loop float64 reference for any layout, stride, padding, dilation and group count", () => {
    fc.assert(
      fc.property(convCaseArb({ maxSpatialDims: 3 }).filter(valid), seedArb, (c, seed) => {
        const [x, w] = operands(c, seed);
        const y = convOf(c)(x, w);
        const ref = referenceConv(c, toNumbers(x), toNumbers(w));
        expect(y.shape).toEqual(ref.shape);
        expectClose(toNumbers(y), ref.values, { rtol: 1e-12, atol: 1e-12 }, "conv");
      }),
      { numRuns: 200 },
    );
  });

  it("float32 on the SIMD kernels (larger products, both the gather and the scatter form) agrees with the float64 reference", () => {
    const cases: ConvCase[] = [
      // strided, grouped, dilated kernel, NHWC
      {
        N: 3,
        G: 2,
        I: 5,
        Og: 6,
        spatial: [13, 11],
        window: [3, 3],
        strides: [2, 1],
        lhsDilation: [1, 1],
        rhsDilation: [1, 2],
        padding: "SAME",
        specs: ["NHWC", "HWIO", "NHWC"],
      },
      // input dilated more than the stride: the scatter (col2im) form
      {
        N: 2,
        G: 1,
        I: 8,
        Og: 12,
        spatial: [9, 10],
        window: [3, 2],
        strides: [1, 1],
        lhsDilation: [2, 3],
        rhsDilation: [1, 1],
        padding: [
          [2, 1],
          [1, 0],
        ],
        specs: ["NCHW", "OIHW", "NCHW"],
      },
      // input dilation along the last dimension, gathered (the stride keeps the output smaller than the input)
      {
        N: 2,
        G: 1,
        I: 6,
        Og: 10,
        spatial: [12, 14],
        window: [3, 3],
        strides: [1, 2],
        lhsDilation: [1, 2],
        rhsDilation: [1, 1],
        padding: [
          [1, 1],
          [2, 0],
        ],
        specs: ["NCHW", "OIHW", "NCHW"],
      },
      // fewer output positions than output features: the im2col matrix is the product's left operand
      {
        N: 1,
        G: 1,
        I: 16,
        Og: 40,
        spatial: [5, 5],
        window: [3, 3],
        strides: [1, 1],
        lhsDilation: [1, 1],
        rhsDilation: [1, 1],
        padding: "VALID",
        specs: ["NCHW", "OIHW", "NCHW"],
      },
      // 1-D, long
      {
        N: 4,
        G: 1,
        I: 16,
        Og: 8,
        spatial: [200],
        window: [5],
        strides: [3],
        lhsDilation: [1],
        rhsDilation: [1],
        padding: "VALID",
        specs: ["NCH", "OIH", "NCH"],
      },
    ];
    for (const [i, c] of cases.entries()) {
      for (const dtype of ["float32", "float64"] as const) {
        // twice per geometry with other values: the second call reuses the cached tables, not the data
        for (const seed of [100 + i, 200 + i]) {
          const [x, w] = operands(c, seed, dtype);
          const y = convOf(c)(x, w);
          expect(y.dtype).toBe(dtype);
          const ref = referenceConv(c, toNumbers(x), toNumbers(w));
          expectClose(
            toNumbers(y),
            ref.values,
            dtype === "float32" ? { rtol: 1e-4, atol: 1e-4 } : { rtol: 1e-12, atol: 1e-12 },
            `case ${i} ${dtype} seed ${seed}`,
          );
        }
      }
    }
  });

  it("matches SciPy (scipy.signal.correlate) on the committed fixtures", () => {
    const fixtures = JSON.parse(readFileSync(new URL("../fixtures/conv.json", import.meta.url), "utf8")) as {
      conv: {
        name: string;
        x: number[];
        xShape: number[];
        w: number[];
        wShape: number[];
        strides: number[];
        padding: [number, number][];
        out: number[];
        outShape: number[];
      }[];
    };
    expect(fixtures.conv.length).toBeGreaterThan(0);
    for (const f of fixtures.conv) {
      const y = lax.convGeneralDilated(fromFlat(f.x, f.xShape), fromFlat(f.w, f.wShape), f.strides, f.padding);
      expect(y.shape, f.name).toEqual(f.outShape);
      expectClose(toNumbers(y), f.out, { rtol: 1e-12, atol: 1e-12 }, f.name);
    }
  });

  it("lax.conv is convGeneralDilated with the default layout; 'SAME' keeps ceil(in / stride) positions", () => {
    const rand = seededRandom(3);
    const x = randomArray(rand, [2, 3, 7, 6]);
    const w = randomArray(rand, [4, 3, 3, 2]);
    const y = lax.conv(x, w, [2, 2], "SAME");
    expect(y.shape).toEqual([2, 4, 4, 3]);
    expectClose(y, lax.convGeneralDilated(x, w, [2, 2], "SAME", { dimensionNumbers: ["NCHW", "OIHW", "NCHW"] }), { rtol: 0, atol: 0 });
  });

  it("hand-derived: a box filter sums each window; an input dilation inserts zeros", () => {
    const x = np.arange(1, 6).reshape([1, 1, 5]);
    expect(lax.conv(x, np.ones([1, 1, 2]), [1], "VALID").toJs()).toEqual([[[3, 5, 7, 9]]]);
    // x dilated by 2 is [1 0 2 0 3 0 4 0 5]; windows of two sum neighbours
    expect(lax.convGeneralDilated(x, np.ones([1, 1, 2]), [1], "VALID", { lhsDilation: [2] }).toJs()).toEqual([[[1, 2, 2, 3, 3, 4, 4, 5]]]);
    // a depthwise convolution (featureGroupCount = channels) scales each channel by its own weight
    const xc = np.ones([1, 3, 2]);
    expect(lax.convGeneralDilated(xc, np.array([2, 3, 4]).reshape([3, 1, 1]), [1], "VALID", { featureGroupCount: 3 }).toJs()).toEqual([
      [
        [2, 2],
        [3, 3],
        [4, 4],
      ],
    ]);
  });

  it("int32 operands give exact int32 results (packed and multiplied in JavaScript)", () => {
    const c: ConvCase = {
      N: 4,
      G: 1,
      I: 8,
      Og: 4,
      spatial: [16, 15],
      window: [3, 3],
      strides: [1, 1],
      lhsDilation: [1, 1],
      rhsDilation: [1, 1],
      padding: "SAME",
      specs: ["NCHW", "OIHW", "NCHW"],
    };
    const rand = seededRandom(5);
    const ints = (shape: number[]) =>
      fromFlat(
        Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => Math.floor(rand() * 21) - 10),
        shape,
        "int32",
      );
    const x = ints(storedShape(c.specs[0], "N", "C", c.N, c.I, c.spatial));
    const w = ints(storedShape(c.specs[1], "O", "I", c.Og, c.I, c.window));
    const y = convOf(c)(x, w);
    expect(y.dtype).toBe("int32");
    expect(toNumbers(y)).toEqual(referenceConv(c, toNumbers(x), toNumbers(w)).values);
  });

  it("stages as one conv_general_dilated equation", () => {
    const text = makeJaxpr((x: NDArray, w: NDArray) => lax.conv(x, w, [1], "SAME"))(np.ones([1, 2, 5]), np.ones([3, 2, 3])).toString();
    expect(text).toContain("conv_general_dilated[window_strides=(1) padding=((1,1))");
  });
});

describe("convGeneralDilated: derivatives", () => {
  it("checkGrads (first and second order, forward and reverse) in float64 for random configurations", () => {
    fc.assert(
      fc.property(convCaseArb({ maxSpatialDims: 2 }).filter(valid), seedArb, (c, seed) => {
        const [x, w] = operands(c, seed);
        checkGrads(convOf(c), [x, w], { order: 2, atol: 1e-6, rtol: 1e-6 });
      }),
      { numRuns: 40 },
    );
  });

  it("the input cotangent of a strided convolution and the kernel cotangent equal the reference's transposes", () => {
    // <vjp(u), (dx, dw)> against the reference: the reference is bilinear, so
    // <u, conv(dx, w) + conv(x, dw)> is the exact directional derivative
    fc.assert(
      fc.property(convCaseArb({ maxSpatialDims: 2 }).filter(valid), seedArb, (c, seed) => {
        const [x, w] = operands(c, seed);
        const [dx, dw] = operands(c, seed + 1);
        const [y, back] = vjp(convOf(c), x, w);
        const u = randomArray(seededRandom(seed + 2), y.shape);
        const [gx, gw] = back(u) as [NDArray, NDArray];
        const uu = toNumbers(u);
        const dot = (a: number[]) => a.reduce((s, v, i) => s + v * uu[i]!, 0);
        const expected = dot(referenceConv(c, toNumbers(dx), toNumbers(w)).values) + dot(referenceConv(c, toNumbers(x), toNumbers(dw)).values);
        const got = toNumbers(gx).reduce((s, v, i) => s + v * toNumbers(dx)[i]!, 0) + toNumbers(gw).reduce((s, v, i) => s + v * toNumbers(dw)[i]!, 0);
        expect(Math.abs(got - expected)).toBeLessThanOrEqual(1e-10 * Math.max(1, Math.abs(expected)));
      }),
      { numRuns: 100 },
    );
  });
});

describe("convGeneralDilated: larger cotangents (the multi-threaded packing and the SIMD products)", () => {
  it("<vjp(u), (dx, dw)> equals <u, conv(dx, w) + conv(x, dw)> by the reference, in float64 and (to float32 accuracy) float32", () => {
    const cases: ConvCase[] = [
      {
        N: 8,
        G: 1,
        I: 3,
        Og: 16,
        spatial: [20, 18],
        window: [3, 3],
        strides: [2, 2],
        lhsDilation: [1, 1],
        rhsDilation: [1, 1],
        padding: "SAME",
        specs: ["NCHW", "OIHW", "NCHW"],
      },
      {
        N: 4,
        G: 2,
        I: 4,
        Og: 6,
        spatial: [15, 16],
        window: [3, 2],
        strides: [1, 2],
        lhsDilation: [1, 1],
        rhsDilation: [2, 1],
        padding: [
          [1, 2],
          [0, 1],
        ],
        specs: ["NHWC", "HWIO", "NHWC"],
      },
    ];
    for (const [i, c] of cases.entries()) {
      for (const dtype of ["float64", "float32"] as const) {
        const [x, w] = operands(c, 7 + i, dtype);
        const [dx, dw] = operands(c, 17 + i, dtype);
        const [y, back] = vjp(convOf(c), x, w);
        const u = randomArray(seededRandom(27 + i), y.shape, -1, 1, dtype);
        const [gx, gw] = back(u) as [NDArray, NDArray];
        const uu = toNumbers(u);
        const dot = (a: readonly number[], b: readonly number[]) => a.reduce((acc, v, j) => acc + v * b[j]!, 0);
        const expected = dot(referenceConv(c, toNumbers(dx), toNumbers(w)).values, uu) + dot(referenceConv(c, toNumbers(x), toNumbers(dw)).values, uu);
        const got = dot(toNumbers(gx), toNumbers(dx)) + dot(toNumbers(gw), toNumbers(dw));
        const tol = (dtype === "float64" ? 1e-11 : 1e-4) * Math.max(1, Math.abs(expected));
        expect(Math.abs(got - expected), `case ${i} ${dtype}`).toBeLessThanOrEqual(tol);
        // each cotangent by itself, against the float64 computation
        if (dtype === "float32") {
          const [, back64] = vjp(convOf(c), x.astype("float64"), w.astype("float64"));
          const [gx64, gw64] = back64(u.astype("float64")) as [NDArray, NDArray];
          expectClose(toNumbers(gx), toNumbers(gx64), { rtol: 1e-4, atol: 1e-4 }, `case ${i} dx`);
          expectClose(toNumbers(gw), toNumbers(gw64), { rtol: 1e-4, atol: 1e-3 }, `case ${i} dw`);
        }
      }
    }
  });
});

describe("convGeneralDilated: jit and vmap", () => {
  it("jit(f) == f, also for its gradient", () => {
    fc.assert(
      fc.property(convCaseArb({ maxSpatialDims: 2 }).filter(valid), seedArb, (c, seed) => {
        const [x, w] = operands(c, seed);
        const f = convOf(c);
        expectClose(jit(f)(x, w), f(x, w), { rtol: 1e-13, atol: 1e-13 }, "jit");
        const loss = (x: NDArray, w: NDArray) => np.sum(np.tanh(f(x, w)));
        const g = grad(loss, { argnums: [0, 1] });
        expectClose(jit(g)(x, w), g(x, w), { rtol: 1e-12, atol: 1e-12 }, "jit(grad)");
      }),
      { numRuns: 25 },
    );
  });

  it("vmap(f) == a loop over examples, with either or both operands mapped, on any axis", () => {
    fc.assert(
      fc.property(
        convCaseArb({ maxSpatialDims: 2 }).filter(valid),
        seedArb,
        fc.constantFrom<[boolean, boolean]>([true, false], [false, true], [true, true]),
        fc.nat(10),
        (c, seed, [mx, mw], axisSeed) => {
          const f = convOf(c);
          const B = 3;
          const xs = Array.from({ length: B }, (_, b) => operands(c, seed + b));
          const ax = mx ? axisSeed % (xs[0]![0].ndim + 1) : null;
          const aw = mw ? (axisSeed >> 1) % (xs[0]![1].ndim + 1) : null;
          const stack = (vals: NDArray[], axis: number) => np.stack(vals, axis);
          const X =
            ax === null
              ? xs[0]![0]
              : stack(
                  xs.map((p) => p[0]),
                  ax,
                );
          const W =
            aw === null
              ? xs[0]![1]
              : stack(
                  xs.map((p) => p[1]),
                  aw,
                );
          const got = vmap(f, { inAxes: [ax, aw] })(X, W);
          const ref = loopStack(
            f,
            xs.map(([x, w]) => [mx ? x : xs[0]![0], mw ? w : xs[0]![1]]),
          );
          expectClose(got, ref, { rtol: 1e-12, atol: 1e-12 }, "vmap");
        },
      ),
      { numRuns: 60 },
    );
  });

  it("per-example kernel gradients: vmap(grad) == a loop of grads (batch groups in the kernel's cotangent)", () => {
    fc.assert(
      fc.property(convCaseArb({ maxSpatialDims: 2 }).filter(valid), seedArb, (c, seed) => {
        const f = convOf(c);
        const loss = (x: NDArray, w: NDArray) => np.sum(np.square(f(x, w)));
        const g = grad(loss, { argnums: [0, 1] });
        const xs = Array.from({ length: 2 }, (_, b) => operands(c, seed + b));
        const got = vmap(g)(np.stack(xs.map((p) => p[0])), np.stack(xs.map((p) => p[1]))) as [NDArray, NDArray];
        const each = xs.map(([x, w]) => g(x, w) as [NDArray, NDArray]);
        expectClose(got[0], np.stack(each.map((e) => e[0])), { rtol: 1e-11, atol: 1e-11 }, "vmap(grad) x");
        expectClose(got[1], np.stack(each.map((e) => e[1])), { rtol: 1e-11, atol: 1e-11 }, "vmap(grad) w");
      }),
      { numRuns: 30 },
    );
  });

  it("unstack helper round trip (guards the loop reference)", () => {
    const x = randomArray(seededRandom(1), [2, 3]);
    expectClose(np.stack(unstack(x, 0, 2)), x, { rtol: 0, atol: 0 });
  });
});

describe("convGeneralDilated: bad input", () => {
  const x = np.ones([2, 4, 5, 5]);
  it("names the operation and the dims", () => {
    expect(errorMessage(() => lax.conv(x, np.ones([3, 3, 3, 3]), [1, 1], "SAME"))).toMatch(
      /convGeneralDilated: the lhs has 4 input features .* featureGroupCount is 1, so the rhs needs 4 input features .* is 3/,
    );
    expect(errorMessage(() => lax.convGeneralDilated(x, np.ones([6, 3, 3, 3]), [1, 1], "SAME", { featureGroupCount: 3 }))).toMatch(
      /4\/3 input features .* divisible by featureGroupCount/,
    );
    expect(errorMessage(() => lax.convGeneralDilated(x, np.ones([3, 2, 3, 3]), [1, 1], "SAME", { featureGroupCount: 2 }))).toMatch(
      /3 output features .* featureGroupCount 2 does not divide/,
    );
    expect(errorMessage(() => lax.conv(x, np.ones([3, 4, 7, 3]), [1, 1], "VALID"))).toMatch(
      /spatial dimension 0 the window \(7, rhs axis 2\) is larger than the padded input \(5 \+ padding 0 \+ 0 = 5, lhs axis 2\)/,
    );
    expect(errorMessage(() => lax.convGeneralDilated(x, np.ones([3, 4, 3, 3]), [1, 1], "VALID", { rhsDilation: [3, 1] }))).toMatch(
      /window \(3, dilated by 3 to 7/,
    );
    expect(errorMessage(() => lax.conv(x, np.ones([3, 4, 3]), [1, 1], "SAME"))).toMatch(
      /convGeneralDilated: lhs \[2,4,5,5\] and rhs \[3,4,3\] must have the same rank/,
    );
    expect(errorMessage(() => lax.conv(x, np.ones([3, 4, 3, 3]), [1], "SAME"))).toMatch(/windowStrides must be an array of 2 integers >= 1/);
    expect(errorMessage(() => lax.conv(x, np.ones([3, 4, 3, 3]), [1, 0], "SAME"))).toMatch(/windowStrides/);
    expect(errorMessage(() => lax.conv(x, np.ones([3, 4, 3, 3]), [1, 1], "FULL" as never))).toMatch(
      /padding must be "SAME", "VALID" or an array of 2 \[lo, hi\]/,
    );
    expect(errorMessage(() => lax.conv(x, np.ones([3, 4, 3, 3]), [1, 1], [[1, 1]]))).toMatch(/padding/);
  });

  it("validates the options", () => {
    const w = np.ones([3, 4, 3, 3]);
    expect(errorMessage(() => lax.convGeneralDilated(x, w, [1, 1], "SAME", { featureGroupCounts: 1 } as never))).toMatch(
      /convGeneralDilated: unknown option `featureGroupCounts` \(did you mean `featureGroupCount`\?\)/,
    );
    expect(errorMessage(() => lax.convGeneralDilated(x, w, [1, 1], "SAME", { dimensionNumbers: ["NCHW", "OIHW"] as never }))).toMatch(
      /dimensionNumbers must be \[lhsSpec, rhsSpec, outSpec\]/,
    );
    expect(errorMessage(() => lax.convGeneralDilated(x, w, [1, 1], "SAME", { dimensionNumbers: ["NCH", "OIHW", "NCHW"] }))).toMatch(
      /the lhs spec "NCH" has 3 letters but the operands have rank 4/,
    );
    expect(errorMessage(() => lax.convGeneralDilated(x, w, [1, 1], "SAME", { dimensionNumbers: ["NCHW", "OIHW", "NCHX"] }))).toMatch(
      /spatial letters of the out spec "NCHX"/,
    );
    expect(errorMessage(() => lax.convGeneralDilated(x, w, [1, 1], "SAME", { dimensionNumbers: ["NCHW", "OHWX", "NCHW"] }))).toMatch(
      /rhs spec "OHWX" must contain "O" and "I"/,
    );
    expect(errorMessage(() => lax.convGeneralDilated(x, w, [1, 1], "SAME", { featureGroupCount: 0 }))).toMatch(/featureGroupCount must be a positive integer/);
    expect(errorMessage(() => lax.convGeneralDilated(x, w, [1, 1], "SAME", { lhsDilation: [1] }))).toMatch(/lhsDilation must be an array of 2 integers/);
  });

  it("different dtypes promote (as np functions do); bool is refused", () => {
    expect(lax.conv(np.ones([1, 1, 3], "float64"), np.ones([1, 1, 2]), [1], "VALID").dtype).toBe("float64");
    expect(errorMessage(() => lax.conv(np.ones([1, 1, 3], "bool"), np.ones([1, 1, 2], "bool"), [1], "VALID"))).toMatch(/bool operands are not supported/);
  });
});
