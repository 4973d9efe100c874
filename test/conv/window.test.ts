/**
 * lax.reduceWindow (sum, max and min pooling): values against a nested-loop reference
 * and NumPy fixtures, gradients (checkGrads; max goes to the first maximum of each
 * window), jit == eager, vmap == loop, bad input.
 */
import fc from "fast-check";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { type Array as NDArray, checkGrads, grad, jit, lax, makeJaxpr, np, vmap } from "../../src/index.js";
import { seedArb } from "../helpers/arbitraries.js";
import { errorMessage, expectClose, fromFlat, randomArray, seededRandom, toNumbers } from "../helpers/numeric.js";
import { loopStack } from "../helpers/programs.js";

interface WindowCase {
  shape: number[];
  window: number[];
  strides: number[];
  padding: "SAME" | "VALID" | [number, number][];
  op: "add" | "max" | "min";
}

const caseArb: fc.Arbitrary<WindowCase> = fc.integer({ min: 1, max: 3 }).chain((nd) => {
  const per = (min: number, max: number) => fc.array(fc.integer({ min, max }), { minLength: nd, maxLength: nd });
  return fc.record({
    shape: per(1, 6),
    window: per(1, 3),
    strides: per(1, 3),
    padding: fc.oneof(
      fc.constant("SAME" as const),
      fc.constant("VALID" as const),
      fc.array(fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 })), { minLength: nd, maxLength: nd }),
    ),
    op: fc.constantFrom("add" as const, "max" as const, "min" as const),
  });
});

function pads(c: WindowCase): [number, number][] {
  if (c.padding === "VALID") return c.shape.map(() => [0, 0]);
  if (c.padding === "SAME") {
    return c.shape.map((n, d) => {
      const total = Math.max(0, (Math.ceil(n / c.strides[d]!) - 1) * c.strides[d]! + c.window[d]! - n);
      return [Math.floor(total / 2), Math.ceil(total / 2)];
    });
  }
  return c.padding;
}
const validCase = (c: WindowCase) => c.shape.every((n, d) => n + pads(c)[d]![0] + pads(c)[d]![1] >= c.window[d]!);

/** The windowed reduction from its definition: padded positions hold `init`, and each window starts from `init`. */
function reference(c: WindowCase, x: readonly number[], init: number): { values: number[]; shape: number[] } {
  const p = pads(c);
  const out = c.shape.map((n, d) => Math.floor((n + p[d]![0] + p[d]![1] - c.window[d]!) / c.strides[d]!) + 1);
  const f = c.op === "add" ? (a: number, b: number) => a + b : c.op === "max" ? Math.max : Math.min;
  const values: number[] = [];
  const nd = c.shape.length;
  const count = (s: number[]) => s.reduce((a, b) => a * b, 1);
  const unflat = (i: number, s: number[]) => s.map((_, d) => Math.floor(i / count(s.slice(d + 1))) % s[d]!);
  for (let o = 0; o < count(out); o++) {
    const oi = unflat(o, out);
    let acc = init;
    for (let k = 0; k < count(c.window); k++) {
      const ki = unflat(k, c.window);
      const pos = oi.map((v, d) => v * c.strides[d]! + ki[d]! - p[d]![0]);
      const inside = pos.every((v, d) => v >= 0 && v < c.shape[d]!);
      let off = 0;
      for (let d = 0; d < nd; d++) off = off * c.shape[d]! + pos[d]!;
      acc = f(acc, inside ? x[off]! : init);
    }
    values.push(acc);
  }
  return { values, shape: out };
}

const identity = { add: 0, max: -Infinity, min: Infinity };
/** Random values with gaps larger than the finite-difference step (so no window has a near tie). */
function distinctArray(shape: number[], seed: number): NDArray {
  const n = shape.reduce((a, b) => a * b, 1);
  const rand = seededRandom(seed);
  const vals = Array.from({ length: n }, (_, i) => (i - n / 2) * 0.1);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [vals[i], vals[j]] = [vals[j]!, vals[i]!];
  }
  return fromFlat(vals, shape);
}
const poolOf = (c: WindowCase, init?: number) => (x: NDArray) => lax.reduceWindow(x, init ?? identity[c.op], c.op, c.window, c.strides, c.padding);

describe("reduceWindow: values", () => {
  it("equals the nested-loop reference (identity init) for random windows, strides and paddings", () => {
    fc.assert(
      fc.property(caseArb.filter(validCase), seedArb, (c, seed) => {
        const x = randomArray(seededRandom(seed), c.shape);
        const ref = reference(c, toNumbers(x), identity[c.op]);
        const y = poolOf(c)(x);
        expect(y.shape).toEqual(ref.shape);
        expectClose(toNumbers(y), ref.values, { rtol: 1e-12, atol: 1e-12 });
      }),
      { numRuns: 150 },
    );
  });

  it("follows XLA for any init: padded positions hold init and each window starts from it", () => {
    fc.assert(
      fc.property(caseArb.filter(validCase), seedArb, fc.double({ min: -1, max: 1, noNaN: true }), (c, seed, init) => {
        const x = randomArray(seededRandom(seed), c.shape);
        expectClose(toNumbers(poolOf(c, init)(x)), reference(c, toNumbers(x), init).values, { rtol: 1e-12, atol: 1e-12 });
      }),
      { numRuns: 60 },
    );
  });

  it("matches NumPy (sliding_window_view) on the committed fixtures", () => {
    const fixtures = JSON.parse(readFileSync(new URL("../fixtures/conv.json", import.meta.url), "utf8")) as {
      window: {
        name: string;
        op: "add" | "max" | "min";
        x: number[];
        xShape: number[];
        window: number[];
        strides: number[];
        padding: [number, number][];
        out: number[];
        outShape: number[];
      }[];
    };
    expect(fixtures.window.length).toBeGreaterThan(0);
    for (const f of fixtures.window) {
      const y = lax.reduceWindow(fromFlat(f.x, f.xShape), identity[f.op], f.op, f.window, f.strides, f.padding);
      expect(y.shape, f.name).toEqual(f.outShape);
      expectClose(toNumbers(y), f.out, { rtol: 1e-12, atol: 1e-12 }, f.name);
    }
  });

  it("float32 and int32 operands keep their dtype", () => {
    const x = np.array(
      [
        [1, 5],
        [3, 2],
      ],
      { dtype: "int32" },
    );
    const y = lax.reduceWindow(x, -Infinity, "max", [2, 1], [1, 1], "VALID");
    expect(y.dtype).toBe("int32");
    expect(y.toJs()).toEqual([[3, 5]]);
    expect(lax.reduceWindow(np.ones([4]), 0, "add", [2], [2], "VALID").dtype).toBe("float32");
  });

  it("hand-derived: a NaN wins its window, ties go to the first maximum, a window of padding only gives the identity (int32: its extreme)", () => {
    const x = np.array([
      [1, Number.NaN, 5, 5],
      [0, 2, 5, 1],
    ]);
    expect(toNumbers(lax.reduceWindow(x, -Infinity, "max", [2, 2], [2, 2], "VALID"))).toEqual([Number.NaN, 5]);
    expect(toNumbers(lax.reduceWindow(x, Infinity, "min", [2, 2], [2, 2], "VALID"))).toEqual([Number.NaN, 1]);
    // the gradient of a max goes to the element it selects: the NaN, and the first of the tied 5s
    const g = grad((x: NDArray) => np.sum(lax.reduceWindow(x, -Infinity, "max", [2, 2], [2, 2], "VALID")))(x);
    expect(g.toJs()).toEqual([
      [0, 1, 1, 0],
      [0, 0, 0, 0],
    ]);
    // padding of 2 on the left: the first window [1, 2] sees only padding
    const xi = np.array([[3, -4, 7]], { dtype: "int32" });
    const pad: [number, number][] = [
      [0, 0],
      [2, 1],
    ];
    expect(lax.reduceWindow(xi, -Infinity, "max", [1, 2], [1, 2], pad).toJs()).toEqual([[-2147483648, 3, 7]]);
    expect(lax.reduceWindow(xi, Infinity, "min", [1, 2], [1, 2], pad).toJs()).toEqual([[2147483647, -4, 7]]);
    expect(lax.reduceWindow(xi, 0, "add", [1, 2], [1, 2], pad).toJs()).toEqual([[0, -1, 7]]);
  });

  it("stages as one equation per pooling", () => {
    const text = makeJaxpr((x: NDArray) => lax.reduceWindow(x, -Infinity, "max", [2], [2], "VALID"))(np.ones([4])).toString();
    expect(text).toContain("reduce_window_max[window_dimensions=(2) window_strides=(2) padding=((0,0))]");
  });
});

describe("reduceWindow: derivatives", () => {
  it("checkGrads (orders 1 and 2, forward and reverse) for sum, max and min pooling", () => {
    fc.assert(
      // every window sees an element (a window of padding only is an infinite max, without derivative)
      fc.property(
        caseArb.filter((c) => validCase(c) && pads(c).every(([lo, hi], d) => lo < c.window[d]! && hi < c.window[d]!)),
        seedArb,
        (c, seed) => {
          checkGrads(poolOf(c), [distinctArray(c.shape, seed)], { order: 2, atol: 1e-6, rtol: 1e-6 });
        },
      ),
      { numRuns: 60 },
    );
  });

  it("the gradient of a max goes to the first maximum of each window, summed over overlapping windows", () => {
    const x = np.array([2, 2, 1, 3, 3]);
    // windows of 3, stride 1: [2,2,1] -> index 0; [2,1,3] -> index 3; [1,3,3] -> index 3
    expect(grad((x: NDArray) => np.sum(lax.reduceWindow(x, -Infinity, "max", [3], [1], "VALID")))(x).toJs()).toEqual([1, 0, 0, 2, 0]);
    expect(grad((x: NDArray) => np.sum(lax.reduceWindow(x, Infinity, "min", [3], [1], "VALID")))(x).toJs()).toEqual([0, 0, 3, 0, 0]);
  });
});

describe("reduceWindow: jit and vmap", () => {
  it("jit(f) == f and jit(grad f) == grad f", () => {
    fc.assert(
      fc.property(caseArb.filter(validCase), seedArb, (c, seed) => {
        const x = distinctArray(c.shape, seed);
        const f = poolOf(c);
        expectClose(jit(f)(x), f(x), { rtol: 0, atol: 0 });
        const g = grad((x: NDArray) => np.sum(np.sin(f(x))));
        expectClose(jit(g)(x), g(x), { rtol: 1e-14, atol: 1e-14 });
      }),
      { numRuns: 40 },
    );
  });

  it("vmap(f) and vmap(grad f) == loops over examples", () => {
    fc.assert(
      fc.property(caseArb.filter(validCase), seedArb, fc.nat(3), (c, seed, axisSeed) => {
        const f = poolOf(c);
        const g = grad((x: NDArray) => np.sum(np.sin(f(x))));
        const xs = [0, 1, 2].map((b) => distinctArray(c.shape, seed + b));
        const axis = axisSeed % (c.shape.length + 1);
        const X = np.stack(xs, axis);
        expectClose(
          vmap(f, { inAxes: axis })(X),
          loopStack(
            f,
            xs.map((x) => [x]),
          ),
          { rtol: 0, atol: 0 },
          "vmap(f)",
        );
        expectClose(
          vmap(g, { inAxes: axis, outAxes: axis })(X),
          np.stack(
            xs.map((x) => g(x)),
            axis,
          ),
          { rtol: 1e-14, atol: 1e-14 },
          "vmap(grad)",
        );
      }),
      { numRuns: 40 },
    );
  });
});

describe("reduceWindow: bad input", () => {
  const x = np.ones([3, 4]);
  it("names the function, the axis and the sizes", () => {
    expect(errorMessage(() => lax.reduceWindow(x, 0, "add", [4, 1], [1, 1], "VALID"))).toMatch(
      /reduceWindow: on axis 0 the window \(4\) is larger than the padded operand \(3 \+ padding 0 \+ 0 = 3\) of shape \[3,4\]/,
    );
    expect(errorMessage(() => lax.reduceWindow(x, 0, "add", [2], [1, 1], "VALID"))).toMatch(/reduceWindow: windowDims must be an array of 2 integers >= 1/);
    expect(errorMessage(() => lax.reduceWindow(x, 0, "add", [2, 2], [1, 0], "VALID"))).toMatch(/strides must be an array of 2 integers >= 1/);
    expect(errorMessage(() => lax.reduceWindow(x, 0, "mean" as never, [2, 2], [1, 1], "VALID"))).toMatch(/op must be "add", "max" or "min", got "mean"/);
    expect(errorMessage(() => lax.reduceWindow(x, np.ones([2]), "add", [2, 2], [1, 1], "VALID"))).toMatch(/init must be a number or a 0-d array/);
    expect(errorMessage(() => lax.reduceWindow(x, 0, "add", [2, 2], [1, 1], [[0, 0]]))).toMatch(/padding must be "SAME", "VALID" or an array of 2 \[lo, hi\]/);
  });
});
