/**
 * Reductions with `axis` (number, list, negative) and `keepdims`, against NumPy
 * results written out by hand; float64 to 1e-12. Properties: summing axes one by one
 * equals summing all of them at once; keepdims shapes.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Array as NDArray, np } from "../../src/index.js";
import { expectArray, expectError, values } from "./util.js";

const f64 = (d: number[] | number[][]): NDArray => np.array(d, { dtype: "float64" });
const x = f64([
  [1, 2, 3],
  [4, 5, 6],
]);
const cube = np.arange(0, 24, 1, "float64").reshape([2, 3, 4]);

describe("sum", () => {
  it("all axes, one axis, negative axes, lists of axes, keepdims", () => {
    expectArray(np.sum(x), 21, { dtype: "float64" });
    expectArray(np.sum(x, { axis: 0 }), [5, 7, 9]);
    expectArray(np.sum(x, { axis: 1 }), [6, 15]);
    expectArray(np.sum(x, { axis: -1, keepdims: true }), [[6], [15]]);
    expectArray(np.sum(x, { axis: -2, keepdims: true }), [[5, 7, 9]]);
    expectArray(np.sum(x, { axis: [0, 1] }), 21);
    expectArray(np.sum(x, { keepdims: true }), [[21]]);
    expectArray(np.sum(cube, { axis: -1 }), [
      [6, 22, 38],
      [54, 70, 86],
    ]);
    expectArray(np.sum(cube, { axis: [0, 2] }), [60, 92, 124]);
    expectArray(np.sum(cube, { axis: [-1, 0], keepdims: true }), [[[60], [92], [124]]]);
    expectArray(np.sum(cube, { axis: [] }), cube.toJs());
  });
  it("float64 keeps precision; dtypes", () => {
    expect(np.sum(f64([0.1, 0.2, 0.3])).item()).toBeCloseTo(0.6, 15);
    expect(np.sum(np.array([1, 2], { dtype: "int32" })).dtype).toBe("int32");
    expect(np.sum(np.array([true, true])).dtype).toBe("int32");
    expect(np.sum(np.array([1, 2])).dtype).toBe("float32");
  });
  it("0-d and empty inputs (sum of nothing is 0)", () => {
    expect(np.sum(np.array(4)).item()).toBe(4);
    expect(np.sum(3).item()).toBe(3);
    expectArray(np.sum(np.zeros([0, 3]), { axis: 0 }), [0, 0, 0]);
    expect(np.sum(np.zeros([0])).item()).toBe(0);
    expect(np.sum(np.zeros([2, 0]), { axis: 1 }).toJs()).toEqual([0, 0]);
  });
});

describe("mean, max, min, prod", () => {
  it("mean", () => {
    expectArray(np.mean(x), 3.5, { dtype: "float64" });
    expectArray(np.mean(x, { axis: 0 }), [2.5, 3.5, 4.5]);
    expectArray(np.mean(x, { axis: -1, keepdims: true }), [[2], [5]]);
    expectArray(np.mean(cube, { axis: 1 }), [
      [4, 5, 6, 7],
      [16, 17, 18, 19],
    ]);
    expectArray(np.mean(np.array([1, 2, 4], { dtype: "int32" })), 7 / 3, { dtype: "float32", tol: 1e-7 });
  });
  it("max and min", () => {
    expectArray(np.max(x), 6, { dtype: "float64" });
    expectArray(np.max(x, { axis: 1 }), [3, 6]);
    expectArray(np.min(x, { axis: 0 }), [1, 2, 3]);
    expectArray(np.min(x, { axis: -1, keepdims: true }), [[1], [4]]);
    expectArray(np.max(cube, { axis: -2 }), [
      [8, 9, 10, 11],
      [20, 21, 22, 23],
    ]);
    expectArray(np.min(cube, { axis: [1, 2] }), [0, 12]);
    expectArray(np.max(np.array([-3, -1, -2], { dtype: "int32" })), -1, { dtype: "int32" });
    expectArray(np.max(np.array([false, true])), 1, { dtype: "int32" });
    expectArray(np.max(f64([-Infinity, -Infinity])), -Infinity);
  });
  it("max and min propagate NaN (as NumPy)", () => {
    expect(Number.isNaN(np.max(f64([1, NaN, 3])).item())).toBe(true);
    expect(Number.isNaN(np.min(f64([NaN, 1])).item())).toBe(true);
    expectArray(
      np.max(
        f64([
          [1, NaN],
          [2, 3],
        ]),
        { axis: 1 },
      ),
      [NaN, 3],
    );
  });
  it("prod", () => {
    expectArray(np.prod(f64([1, 2, 3, 4, 5, 6])), 720, { dtype: "float64" });
    expectArray(np.prod(x, { axis: 0 }), [4, 10, 18]);
    expectArray(np.prod(x, { axis: -1 }), [6, 120]);
    expectArray(np.prod(x, { axis: 1, keepdims: true }), [[6], [120]]);
    expectArray(
      np.prod(
        f64([
          [0.5, -2, 3],
          [1.5, 0, -1],
        ]),
        { axis: 0 },
      ),
      [0.75, -0, -3],
    );
    expectArray(np.prod(np.array([2, 3], { dtype: "int32" })), 6, { dtype: "int32" });
    expectArray(np.prod(cube, { axis: [0, 1] }).reshape([4]), [0, 1 * 5 * 9 * 13 * 17 * 21, 2 * 6 * 10 * 14 * 18 * 22, 3 * 7 * 11 * 15 * 19 * 23]);
    // the product of nothing is 1
    expectArray(np.prod(np.zeros([0])), 1);
    expectArray(np.prod(np.zeros([2, 0]), { axis: 1 }), [1, 1]);
  });
});

describe("logSumExp, var, std", () => {
  it("logSumExp, stable for large inputs", () => {
    expectArray(np.logSumExp(f64([1, 2, 3])), 3.40760596444438, { dtype: "float64" });
    expectArray(np.logSumExp(x, { axis: 1 }), [3.4076059644443806, 6.407605964444381]);
    expectArray(np.logSumExp(x, { axis: 0, keepdims: true }), [[4.048587351573742, 5.048587351573742, 6.048587351573742]]);
    expectArray(np.logSumExp(f64([1000, 1000])), 1000.6931471805599);
    expectArray(np.logSumExp(f64([-1000, -1000])), -999.3068528194401);
    expectArray(np.logSumExp(f64([-Infinity, -Infinity])), -Infinity);
    expectArray(np.logSumExp(f64([Infinity, 0])), Infinity);
    expect(np.logSumExp(np.array([1, 2], { dtype: "int32" })).dtype).toBe("float32");
  });
  it("var and std, ddof 0 by default (as NumPy)", () => {
    expectArray(np.var(x), 2.9166666666666665, { dtype: "float64" });
    expectArray(np.var(x, { ddof: 1 }), 3.5);
    expectArray(np.var(x, { axis: 0 }), [2.25, 2.25, 2.25]);
    expectArray(np.var(x, { axis: -1, keepdims: true }), [[2 / 3], [2 / 3]]);
    expectArray(np.std(x), 1.707825127659933);
    expectArray(np.std(x, { axis: 1 }), [0.816496580927726, 0.816496580927726]);
    const c7 = cube.div(7);
    expectArray(np.var(c7, { axis: [0, 2] }), [0.760204081632653, 0.7602040816326531, 0.760204081632653]);
    expectArray(np.std(c7, { axis: -1, ddof: 1 }), [
      [0.18442777839082936, 0.18442777839082938, 0.18442777839082938],
      [0.18442777839082938, 0.18442777839082952, 0.1844277783908293],
    ]);
    expect(np.var(np.array([1, 2], { dtype: "int32" })).dtype).toBe("float32");
    expect(np.var(np.array([5])).item()).toBe(0);
  });
  it("np.var is exposed under its NumPy name", () => {
    expect(typeof np.var).toBe("function");
    expect("var_" in np).toBe(false);
  });
});

describe("argmax, argmin", () => {
  const m = f64([
    [1, 9, 3],
    [8, 2, 8],
  ]);
  it("along an axis, flattened, keepdims, ties take the first", () => {
    expectArray(np.argmax(m, { axis: 1 }), [1, 0], { dtype: "int32" });
    expectArray(np.argmax(m, { axis: 0 }), [1, 0, 1]);
    expectArray(np.argmin(m, { axis: -1 }), [0, 1]);
    expectArray(np.argmax(m), 1, { dtype: "int32" });
    expectArray(np.argmin(m), 0);
    expectArray(np.argmax(m, { axis: 1, keepdims: true }), [[1], [0]]);
    expectArray(np.argmax(m, { keepdims: true }), [[1]]);
    expectArray(np.argmax(f64([3, 3, 1])), 0);
    expectArray(np.argmin(f64([1, 3, 1])), 0);
    expectArray(np.argmax(cube, { axis: 1 }), [
      [2, 2, 2, 2],
      [2, 2, 2, 2],
    ]);
    expectArray(np.argmax(np.array([false, true, true])), 1);
  });
  it("NaN counts as the extreme value (as NumPy)", () => {
    expectArray(np.argmax(f64([1, NaN, 3])), 1);
    expectArray(np.argmin(f64([1, 0, NaN])), 2);
  });
});

describe("properties", () => {
  const shapeAndAxes = fc
    .array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 4 })
    .chain((shape) =>
      fc.tuple(
        fc.constant(shape),
        fc.subarray(Array.from({ length: shape.length }, (_, i) => i)),
        fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
        fc.integer({ min: 0, max: 1000 }),
      ),
    );
  const data = (shape: number[], seed: number): NDArray => {
    const n = shape.reduce((p, d) => p * d, 1);
    // small integers: float64 sums are exact whatever the order
    return np.array(
      Array.from({ length: n }, (_, i) => ((i * 7919 + seed) % 23) - 11),
      { dtype: "float64", shape },
    );
  };

  it("summing the axes one by one equals summing them all at once", () => {
    fc.assert(
      fc.property(shapeAndAxes, ([shape, axes, neg, seed]) => {
        const a = data(shape, seed);
        // use negative spellings for some axes
        const spelled = axes.map((ax, i) => (neg[i] ? ax - shape.length : ax));
        const all = np.sum(a, { axis: spelled });
        let step = a;
        for (const ax of [...axes].sort((p, q) => q - p)) step = np.sum(step, { axis: ax });
        expect(all.shape).toEqual(step.shape);
        expect(values(all)).toEqual(values(step));
        // and summing everything equals the plain JS sum
        expect(np.sum(a).item()).toBe(values(a).reduce((p, v) => p + v, 0));
        // max over several axes equals max one by one
        if (axes.length > 0) {
          let mstep = a;
          for (const ax of [...axes].sort((p, q) => q - p)) mstep = np.max(mstep, { axis: ax });
          expect(values(np.max(a, { axis: spelled }))).toEqual(values(mstep));
        }
      }),
      { numRuns: 120 },
    );
  });

  it("keepdims keeps reduced axes as size 1, and equals the reduction reshaped", () => {
    fc.assert(
      fc.property(shapeAndAxes, ([shape, axes, , seed]) => {
        const a = data(shape, seed);
        const kept = shape.map((d, i) => (axes.includes(i) ? 1 : d));
        const dropped = shape.filter((_, i) => !axes.includes(i));
        for (const f of [np.sum, np.mean, np.max, np.min, np.prod, np.logSumExp]) {
          const k = f(a, { axis: axes, keepdims: true });
          const d = f(a, { axis: axes });
          expect(k.shape).toEqual(kept);
          expect(d.shape).toEqual(dropped);
          expect(values(k)).toEqual(values(d));
        }
        const v = np.var(a, { axis: axes, keepdims: true });
        expect(v.shape).toEqual(kept);
      }),
      { numRuns: 60 },
    );
  });

  it("mean equals sum / count and var equals mean of squared deviations", () => {
    fc.assert(
      fc.property(shapeAndAxes, ([shape, axes, , seed]) => {
        const a = data(shape, seed);
        const count = axes.reduce((p, ax) => p * shape[ax]!, 1);
        const mu = np.mean(a, { axis: axes, keepdims: true });
        const s = values(np.sum(a, { axis: axes }));
        values(np.mean(a, { axis: axes })).forEach((m, i) => expect(m).toBeCloseTo(s[i]! / count, 12));
        const dev = np.mean(np.square(np.subtract(a, mu)), { axis: axes });
        const v = values(np.var(a, { axis: axes }));
        values(dev).forEach((d, i) => expect(v[i]).toBeCloseTo(d, 10));
      }),
      { numRuns: 60 },
    );
  });
});

describe("reduction errors", () => {
  it("bad axes name the function and the rank", () => {
    expectError(() => np.sum(x, { axis: 2 }), "sum", "axis 2", "rank 2", "-2..1");
    expectError(() => np.mean(x, { axis: -3 }), "mean", "axis -3");
    expectError(() => np.max(x, { axis: [0, 0] }), "max", "repeated axis");
    expectError(() => np.argmax(x, { axis: 5 }), "argmax", "axis 5");
    expectError(() => np.max(np.zeros([0, 2]), { axis: 0 }), "max", "[0,2]");
    expectError(() => np.argmin(np.zeros([0])), "argmin", "empty");
  });
});
