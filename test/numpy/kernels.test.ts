/**
 * The eager CPU kernels' fast paths (contiguous runs over broadcast operands, the
 * three-operand select, reductions over a block of axes, dtype conversion by typed-array
 * stores, integer powers) against naive index arithmetic done here.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Array as NDArray, np } from "../../src/index.js";
import { type Shape, axesArb, broadcastableShapesArb, shapeArb, sizeOf, valuesArb } from "../helpers/arbitraries.js";
import { fromFlat } from "../helpers/numeric.js";

/** Row-major multi-index of flat index `i` in `shape`. */
function unravel(i: number, shape: Shape): number[] {
  const idx = new Array<number>(shape.length).fill(0);
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = i % shape[d]!;
    i = Math.floor(i / shape[d]!);
  }
  return idx;
}
/** Flat index into `inShape` (NumPy-broadcast to the rank of `outIdx`) of output multi-index `outIdx`. */
function broadcastFlat(outIdx: number[], inShape: Shape): number {
  const lead = outIdx.length - inShape.length;
  let f = 0;
  for (let d = 0; d < inShape.length; d++) f = f * inShape[d]! + (inShape[d] === 1 ? 0 : outIdx[lead + d]!);
  return f;
}
const flat = (x: NDArray): number[] => Array.from(x.data());

/** Shapes that broadcast together, with values for each (rank up to 4, so that axes collapse in several ways). */
const operands = (count: number) =>
  broadcastableShapesArb(count, { maxRank: 4, maxDim: 4 }).chain(({ out, shapes }) =>
    fc.tuple(fc.constant(out), fc.tuple(...shapes.map((s) => valuesArb(sizeOf(s)).map((v) => ({ shape: s, v }))))),
  );

describe("eager CPU kernels", () => {
  it("binary operations broadcast like NumPy in every layout", () => {
    fc.assert(
      fc.property(operands(2), ([out, ops]) => {
        const [a, b] = [ops[0]!, ops[1]!];
        const x = fromFlat(a.v, a.shape, "float32");
        const y = fromFlat(b.v, b.shape, "float32");
        const n = sizeOf(out);
        const want = (op: (p: number, q: number) => number): number[] =>
          Array.from({ length: n }, (_, i) => {
            const idx = unravel(i, out);
            return op(Math.fround(a.v[broadcastFlat(idx, a.shape)]!), Math.fround(b.v[broadcastFlat(idx, b.shape)]!));
          });
        expect(np.add(x, y).shape).toEqual(out);
        expect(flat(np.subtract(x, y))).toEqual(want((p, q) => Math.fround(p - q)));
        expect(flat(np.subtract(y, x))).toEqual(want((p, q) => Math.fround(q - p)));
        expect(flat(np.greater(x, y))).toEqual(want((p, q) => (p > q ? 1 : 0)));
      }),
      { numRuns: 300 },
    );
  });

  it("where broadcasts its three operands", () => {
    fc.assert(
      fc.property(operands(3), ([out, ops]) => {
        const [c, a, b] = [ops[0]!, ops[1]!, ops[2]!];
        const cond = np.greater(fromFlat(c.v, c.shape, "float64"), 0);
        const x = fromFlat(a.v, a.shape, "float64");
        const y = fromFlat(b.v, b.shape, "float64");
        const want = Array.from({ length: sizeOf(out) }, (_, i) => {
          const idx = unravel(i, out);
          return c.v[broadcastFlat(idx, c.shape)]! > 0 ? a.v[broadcastFlat(idx, a.shape)]! : b.v[broadcastFlat(idx, b.shape)]!;
        });
        const r = np.where(cond, x, y);
        expect(r.shape).toEqual(out);
        expect(flat(r)).toEqual(want);
        // bool branches give a bool result of 0s and 1s
        expect(flat(np.where(cond, np.greater(x, 0), np.less(y, 0)))).toEqual(
          Array.from({ length: sizeOf(out) }, (_, i) => {
            const idx = unravel(i, out);
            return c.v[broadcastFlat(idx, c.shape)]! > 0 ? +(a.v[broadcastFlat(idx, a.shape)]! > 0) : +(b.v[broadcastFlat(idx, b.shape)]! < 0);
          }),
        );
      }),
      { numRuns: 300 },
    );
  });

  it("broadcastTo copies in every layout", () => {
    fc.assert(
      fc.property(operands(1), ([out, ops]) => {
        const a = ops[0]!;
        const r = np.broadcastTo(fromFlat(a.v, a.shape, "float64"), out);
        expect(flat(r)).toEqual(Array.from({ length: sizeOf(out) }, (_, i) => a.v[broadcastFlat(unravel(i, out), a.shape)]!));
      }),
      { numRuns: 200 },
    );
  });

  it("sum, max and min reduce any set of axes", () => {
    const arb = shapeArb({ maxRank: 4, maxDim: 4 }).chain((shape) => fc.tuple(fc.constant(shape), axesArb(shape.length), valuesArb(sizeOf(shape))));
    fc.assert(
      fc.property(arb, ([shape, axes, v]) => {
        const x = fromFlat(v, shape, "float64");
        const keptShape = shape.filter((_, d) => !axes.includes(d));
        const groups = new Map<number, number[]>();
        v.forEach((val, i) => {
          const idx = unravel(i, shape);
          const key = idx.filter((_, d) => !axes.includes(d)).reduce((f, k, j) => f * keptShape[j]! + k, 0);
          groups.set(key, [...(groups.get(key) ?? []), val]);
        });
        const keys = Array.from({ length: sizeOf(keptShape) }, (_, k) => groups.get(k)!);
        // the same summation order as the kernel (increasing flat index), in float64; no axes: x itself
        expect(flat(np.sum(x, { axis: axes }))).toEqual(axes.length ? keys.map((g) => g.reduce((s, t) => s + t, 0)) : v);
        if (v.length > 0) {
          // which zero max/min return for a tie of -0 and +0 is unspecified (as in NumPy): `+ 0` folds -0 into +0
          const unsigned = (t: number) => t + 0;
          expect(flat(np.max(x, { axis: axes })).map(unsigned)).toEqual(keys.map((g) => Math.max(...g) + 0));
          expect(flat(np.min(x, { axis: axes })).map(unsigned)).toEqual(keys.map((g) => Math.min(...g) + 0));
        }
      }),
      { numRuns: 300 },
    );
  });

  it("sums a float32 array with a float64 accumulator over leading axes", () => {
    const v = Array.from({ length: 3 * 5 }, (_, i) => 0.1 * (i + 1));
    const got = flat(np.sum(fromFlat(v, [3, 5], "float32"), { axis: 0 }));
    const want = [0, 1, 2, 3, 4].map((j) => Math.fround(Math.fround(v[j]!) + Math.fround(v[5 + j]!) + Math.fround(v[10 + j]!)));
    expect(got).toEqual(want);
  });

  it("astype converts as the typed arrays store (truncation toward zero, NaN and 0 to false)", () => {
    const v = [1.7, -1.7, 0.5, -0.0, NaN, Infinity, -Infinity, 2 ** 31 + 5, -3, 0, 1e-40];
    const x = fromFlat(v, [v.length], "float64");
    expect(flat(x.astype("int32"))).toEqual(v.map((t) => Math.trunc(t) | 0));
    expect(flat(x.astype("float32"))).toEqual(v.map((t) => Math.fround(t)));
    expect(x.astype("bool").toJs()).toEqual(v.map((t) => t !== 0 && !Number.isNaN(t)));
    const b = np.greater(fromFlat([1, -1, 2], [3], "float64"), 0);
    expect(b.astype("float32").toJs()).toEqual([1, 0, 1]);
    expect(b.astype("int32").toJs()).toEqual([1, 0, 1]);
    expect(fromFlat([3, -4], [2], "int32").astype("float64").toJs()).toEqual([3, -4]);
  });

  it("integer powers match repeated multiplication and ** ", () => {
    const v = [-2.5, -1, -0, 0, 0.5, 3, 1e200];
    const x = fromFlat(v, [v.length], "float64");
    expect(flat(np.square(x))).toEqual(v.map((t) => t * t));
    expect(flat(np.power(x, 2))).toEqual(v.map((t) => t * t));
    for (const y of [3, 5, -2]) expect(flat(np.power(x, y))).toEqual(v.map((t) => t ** y));
    expect(np.power(fromFlat([2, -3], [2], "int32"), 3).toJs()).toEqual([8, -27]);
  });
});
