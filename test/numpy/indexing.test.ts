/**
 * x.at(...) (get / set / add / multiply / min / max), strided np.slice, takeAlongAxis
 * and lax.dynamicSlice / dynamicUpdateSlice: values against NumPy (fixtures from
 * scripts/fixtures_numpy.py), gradients against float64 finite differences, jit ==
 * eager and vmap == loop over random indices, and the errors for bad indices.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Array as NDArray, type IndexElement, checkGrads, grad, jit, lax, np, vmap } from "../../src/index.js";
import { loadFixture } from "./fixtures.js";
import { expectArray } from "./util.js";

const FIX = loadFixture("numpy_more.json");
const IX = FIX.indexing;
const f64 = (v: unknown): NDArray => np.array(v as number[], { dtype: "float64" });
const i32 = (v: unknown): NDArray => np.array(v as number[], { dtype: "int32" });
/** The fixture's index spec with JS arrays turned into int32 arrays. */
const toIndex = (spec: unknown[]): IndexElement[] => spec.map((e) => (Array.isArray(e) ? i32(e) : (e as IndexElement)));

describe("x.at(...) against NumPy", () => {
  const x = f64(IX.x);
  for (const cs of IX.cases as {
    index: unknown[];
    get: number[];
    shape: number[];
    update: number[];
    set: number[];
    add: number[];
    multiply: number[];
    min: number[];
    max: number[];
  }[]) {
    it(`x[${JSON.stringify(cs.index)}]`, () => {
      const idx = toIndex(cs.index);
      expectArray(x.at(...idx).get(), cs.get, { shape: cs.shape });
      const u = np.reshape(f64(cs.update), cs.shape);
      expectArray(x.at(...idx).set(u), cs.set);
      expectArray(x.at(...idx).add(u), cs.add);
      expectArray(x.at(...idx).multiply(u), cs.multiply);
      expectArray(x.at(...idx).min(u), cs.min);
      expectArray(x.at(...idx).max(u), cs.max);
      // JS arrays as index arrays and the same index under jit
      expectArray(x.at(...(cs.index as IndexElement[])).get(), cs.get, { shape: cs.shape });
      expectArray(jit((a: NDArray, v: NDArray) => a.at(...idx).add(v))(x, u), cs.add);
    });
  }

  it("a scalar broadcasts over the indexed block; set with a duplicate index keeps the last value", () => {
    expectArray(np.zeros([2, 3]).at(":", "1:").set(4), [
      [0, 4, 4],
      [0, 4, 4],
    ]);
    expectArray(
      np
        .zeros([3])
        .at([1, 1])
        .set(np.array([5, 6])),
      [0, 6, 0],
    );
    expectArray(np.zeros([3]).at([1, 1, 1]).add(1), [0, 3, 0]);
    expect(np.zeros([3], "int32").at(0).set(2.7).toJs()).toEqual([2, 0, 0]);
  });
});

describe("np.slice with steps", () => {
  const v = np.arange(10, undefined, 1, "float64");
  for (const s of IX.slices as { start: number | null; stop: number | null; step: number; out: number[] }[]) {
    it(`[${s.start}:${s.stop}:${s.step}]`, () => {
      if (s.step > 0 && s.stop !== null && s.start !== null && s.stop < s.start) return;
      expectArray(np.slice(v, [s.start], [s.stop], [s.step]), s.out, { shape: [s.out.length] });
      expectArray(v.at(`${s.start ?? ""}:${s.stop ?? ""}:${s.step}`).get(), s.out, { shape: [s.out.length] });
    });
  }
  it("two axes with steps, and the gradient scatters back to the strided positions", () => {
    const x = np.arange(12, undefined, 1, "float64").reshape([3, 4]);
    expectArray(np.slice(x, [0, 3], [3, null], [2, -2]), [
      [3, 1],
      [11, 9],
    ]);
    const g = grad((a: NDArray) => np.sum(np.slice(a, [0, 3], [3, null], [2, -2])))(x);
    expectArray(g, [
      [0, 1, 0, 1],
      [0, 0, 0, 0],
      [0, 1, 0, 1],
    ]);
  });
  it("a stride argument is never ignored: a zero or non-integer step throws", () => {
    const x = np.arange(4);
    expect(() => np.slice(x, [0], [4], [0])).toThrow(/steps must be an array of non-zero integers/);
    expect(() => np.slice(x, [0], [4], [1.5])).toThrow(/steps/);
  });
});

describe("gradients (float64 finite differences)", () => {
  const x = f64([
    [0.3, -1.2, 2.0, 0.7],
    [1.1, 0.4, -0.6, 1.9],
    [-0.8, 0.25, 1.4, -1.7],
  ]);
  const idx = i32([2, 0, 2, -1]);
  const u = f64([
    [0.5, -0.3, 1.2, 0.9],
    [-1.1, 0.8, 0.2, 0.6],
    [0.4, 1.3, -0.7, 0.1],
    [0.9, -0.2, 0.5, -1.4],
  ]);
  const cases: [string, (a: NDArray, b: NDArray) => NDArray][] = [
    ["get with index array and slice", (a) => a.at(idx, "::-2").get()],
    ["set", (a, b) => a.at(np.array([0, 2], { dtype: "int32" })).set(np.slice(b, [0], [2]))],
    ["add with duplicates", (a, b) => a.at(idx).add(b)],
    ["multiply with duplicates", (a, b) => a.at(idx).multiply(b)],
    ["min", (a, b) => a.at(idx).min(b)],
    ["max", (a, b) => a.at(idx).max(b)],
    ["takeAlongAxis", (a) => np.takeAlongAxis(a, np.argsort(a, { axis: 1 }), 1)],
    ["dynamicSlice", (a) => lax.dynamicSlice(a, [np.array(1, { dtype: "int32" }), np.array(5, { dtype: "int32" })], [2, 2])],
    ["dynamicUpdateSlice", (a, b) => lax.dynamicUpdateSlice(a, np.slice(b, [0, 0], [2, 3]), [np.array(2, { dtype: "int32" }), 0])],
  ];
  for (const [name, f] of cases) {
    it(name, () => {
      checkGrads(f, [x, u], { order: 2, modes: ["fwd", "rev"] });
    });
  }
  it("multiply: an update of 0 among duplicates still gives the exact derivative", () => {
    const z = f64([2, 3]);
    const w = f64([0, 4, 5]);
    const ix = i32([0, 0, 1]);
    // out = [2·0·4, 3·5]: d/dw0 = 2·4 = 8, d/dw1 = 0, d/dw2 = 3
    expectArray(grad((b: NDArray) => np.sum(z.at(ix).multiply(b)))(w), [8, 0, 3]);
    checkGrads((b: NDArray) => z.at(ix).multiply(b), [w], { order: 1 });
  });
});

describe("properties: jit == eager, vmap == loop", () => {
  const shapeArb = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 });
  it("a random index (ints, slices, arrays, null, ...) gives the same get and add under jit and vmap", () => {
    fc.assert(
      fc.property(shapeArb, fc.array(fc.nat({ max: 1000 }), { minLength: 8, maxLength: 8 }), fc.integer({ min: 1, max: 3 }), (shape, genes, B) => {
        const size = shape.reduce((a, b) => a * b, 1);
        const xs = np
          .array(
            Array.from({ length: B * size }, (_, i) => Math.sin(i + genes[0]!)),
            { dtype: "float64" },
          )
          .reshape([B, ...shape]);
        const index: IndexElement[] = shape.map((d, k) => {
          const g = genes[k + 1]!;
          switch (g % 4) {
            case 0:
              return (g % (2 * d)) - d; // negative and positive ints
            case 1:
              return `${(g % (2 * d + 2)) - d - 1}::${g % 2 ? -1 : 2}`;
            case 2:
              return np.array([g % d, -1 - (g % d)], { dtype: "int32" });
            default:
              return ":";
          }
        });
        if (genes[7]! % 3 === 0) index.splice(genes[6]! % (index.length + 1), 0, null);
        if (genes[7]! % 3 === 1) index.splice(0, 1, "...");
        const get = (a: NDArray): NDArray => a.at(...index).get();
        const add = (a: NDArray): NDArray => a.at(...index).add(1.5);
        const x0 = xs.at(0).get();
        expectArray(jit(get)(x0), get(x0).toJs());
        expectArray(jit(add)(x0), add(x0).toJs());
        const vg = vmap(get)(xs);
        const va = vmap(add)(xs);
        for (let b = 0; b < B; b++) {
          expectArray(vg.at(b).get(), get(xs.at(b).get()).toJs(), { shape: get(xs.at(b).get()).shape });
          expectArray(va.at(b).get(), add(xs.at(b).get()).toJs());
        }
      }),
      { numRuns: 40 },
    );
  });

  it("batched index arrays under vmap equal a loop of unbatched gathers and scatters", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 3 }), fc.nat(), (B, n, m, seed) => {
        const xs = np
          .array(
            Array.from({ length: B * n * 2 }, (_, i) => Math.cos(i * 0.7 + seed)),
            { dtype: "float64" },
          )
          .reshape([B, n, 2]);
        const is = np
          .array(
            Array.from({ length: B * m }, (_, i) => ((i * 7 + seed) % (2 * n)) - n),
            { dtype: "int32" },
          )
          .reshape([B, m]);
        const us = np
          .array(
            Array.from({ length: B * m * 2 }, (_, i) => i - 3),
            { dtype: "float64" },
          )
          .reshape([B, m, 2]);
        const f = (x: NDArray, i: NDArray, u: NDArray): NDArray => np.add(x.at(i).add(u), np.sum(x.at(i, "::-1").get()));
        const got = vmap(f)(xs, is, us);
        const gotJit = jit(vmap(f))(xs, is, us);
        for (let b = 0; b < B; b++) {
          const want = f(xs.at(b).get(), is.at(b).get(), us.at(b).get());
          expectArray(got.at(b).get(), want.toJs());
          expectArray(gotJit.at(b).get(), want.toJs());
        }
      }),
      { numRuns: 30 },
    );
  });

  it("dynamicSlice / dynamicUpdateSlice clamp like JAX for any start, eagerly, under jit and vmap", () => {
    fc.assert(
      fc.property(fc.integer({ min: -8, max: 12 }), fc.integer({ min: -8, max: 12 }), fc.integer({ min: 0, max: 3 }), (s0, s1, size) => {
        const x = np.arange(20, undefined, 1, "float64").reshape([4, 5]);
        const c0 = Math.min(Math.max(s0, 0), 4 - Math.min(size, 4));
        const c1 = Math.min(Math.max(s1, 0), 5 - size);
        const sizes = [Math.min(size, 4), size];
        const want = np.slice(x, [c0, c1], [c0 + sizes[0]!, c1 + sizes[1]!]);
        const t = (v: number): NDArray => np.array(v, { dtype: "int32" });
        expectArray(lax.dynamicSlice(x, [t(s0), t(s1)], sizes), want.toJs(), { shape: sizes });
        expectArray(lax.dynamicSlice(x, [s0, s1], sizes), want.toJs(), { shape: sizes });
        expectArray(jit((a: NDArray, i: NDArray, j: NDArray) => lax.dynamicSlice(a, [i, j], sizes))(x, t(s0), t(s1)), want.toJs(), { shape: sizes });
        const starts = np.array([s0, s1 - 1, s1], { dtype: "int32" });
        const vs = vmap((i: NDArray) => lax.dynamicSlice(x, [i, t(s1)], sizes))(starts);
        expectArray(vs.at(0).get(), want.toJs(), { shape: sizes });
        const upd = np.full(sizes, -1, "float64");
        const w = x.at(`${c0}:${c0 + sizes[0]!}`, `${c1}:${c1 + sizes[1]!}`).set(-1);
        expectArray(lax.dynamicUpdateSlice(x, upd, [t(s0), t(s1)]), w.toJs());
        expectArray(jit((a: NDArray, i: NDArray) => lax.dynamicUpdateSlice(a, upd, [i, s1]))(x, t(s0)), w.toJs());
      }),
      { numRuns: 40 },
    );
  });
});

describe("out-of-range indices throw the same Error eagerly, under jit and under vmap", () => {
  it("for any out-of-range int, index-array entry or traced index", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 0, max: 6 }), fc.boolean(), (n, over, negative) => {
        const bad = negative ? -n - 1 - over : n + over;
        const x = np.arange(n * 2, undefined, 1, "float64").reshape([2, n]);
        const msg = new RegExp(`index ${bad} is out of range for axis 1 with size ${n}`);
        expect(() => x.at(":", bad).get()).toThrow(msg);
        const idx = np.array([0, bad], { dtype: "int32" });
        expect(() => x.at(":", idx).get()).toThrow(msg);
        expect(() => x.at(":", idx).add(1)).toThrow(/index .* is out of range/);
        expect(() => jit((a: NDArray, i: NDArray) => a.at(":", i).get())(x, idx)).toThrow(msg);
        expect(() => vmap((a: NDArray, i: NDArray) => a.at(i).get())(x, np.array([[0], [bad]], { dtype: "int32" }))).toThrow(
          /index .* is out of range for axis 1 with size/,
        );
        expect(() => np.takeAlongAxis(x, np.array([[bad], [0]], { dtype: "int32" }), 1)).toThrow(msg);
      }),
      { numRuns: 30 },
    );
  });
});

describe("bad indices", () => {
  const x = np.zeros([2, 3]);
  it("a static index out of range names the index, the axis and its size", () => {
    expect(() => x.at(0, 3).get()).toThrow(/index 3 is out of range for axis 1 with size 3/);
    expect(() => x.at(-3).set(1)).toThrow(/index -3 is out of range for axis 0 with size 2/);
    expect(() => x.at(np.array([0, 5], { dtype: "int32" })).get()).toThrow(/index 5 is out of range for axis 0 with size 2/);
    expect(() => jit((a: NDArray, i: NDArray) => a.at(":", i).get())(x, np.array([4], { dtype: "int32" }))).toThrow(
      /index 4 is out of range for axis 1 with size 3/,
    );
  });
  it("a malformed slice string is quoted", () => {
    expect(() => x.at("1:x").get()).toThrow(/malformed slice string "1:x"/);
    expect(() => x.at("::0").get()).toThrow(/"::0" has step 0/);
  });
  it("a float or bool array as an index is an Error, never a silent cast", () => {
    expect(() => x.at(np.array([0, 1])).get()).toThrow(/must be int32, got f32\[2\].*never used as an index/);
    expect(() => x.at(np.array([true, false])).get()).toThrow(/bool array as an index/);
    expect(() => x.at([0.5]).get()).toThrow(/must hold integers/);
    expect(() => lax.dynamicSlice(x, [np.array(1), 0], [1, 1])).toThrow(/must be int32/);
  });
  it("too many indices, two ellipses and mismatched update shapes are reported", () => {
    expect(() => x.at(0, 0, 0).get()).toThrow(/too many indices \(3\) for an array of rank 2/);
    expect(() => x.at("...", 0, "...").get()).toThrow(/only have one "\.\.\."/);
    expect(() => x.at(0).set(np.zeros([2]))).toThrow(/cannot be broadcast|\[2\]/);
    expect(() => lax.dynamicSlice(x, [0], [1, 1])).toThrow(/got 1 start indices for an array of rank 2/);
  });
});
