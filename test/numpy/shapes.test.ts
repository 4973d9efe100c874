/**
 * Shape functions and indexing: reshape, transpose, expandDims, squeeze, broadcastTo,
 * concatenate, stack, split, slice, take. Expected results are NumPy's, written out
 * by hand; properties check round trips (reshape, transpose inverse, split/concatenate).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Array as NDArray, np } from "../../src/index.js";
import { expectArray, expectError, values } from "./util.js";

const r23 = np.arange(6).reshape([2, 3]); // [[0,1,2],[3,4,5]]
const r234 = np.arange(24).reshape([2, 3, 4]);

describe("reshape", () => {
  it("row-major, with one -1", () => {
    expectArray(np.reshape(r23, [3, 2]), [
      [0, 1],
      [2, 3],
      [4, 5],
    ]);
    expectArray(np.reshape(r23, [-1]), [0, 1, 2, 3, 4, 5]);
    expect(np.reshape(r234, [4, -1]).shape).toEqual([4, 6]);
    expect(np.reshape(r234, [-1, 2, 3]).shape).toEqual([4, 2, 3]);
    expect(np.reshape(np.array([7]), []).shape).toEqual([]);
    expect(np.reshape(np.array(7), [1, 1]).shape).toEqual([1, 1]);
    expect(np.reshape(np.zeros([0, 3]), [3, 0]).shape).toEqual([3, 0]);
    expect(np.reshape(np.zeros([0, 3]), [-1, 3]).shape).toEqual([0, 3]);
    expect(np.reshape(r23, [2, 3])).toBe(r23);
    expect(np.reshape(r23, [6]).dtype).toBe("float32");
  });
});

describe("transpose", () => {
  it("reverses axes by default, or permutes them", () => {
    expectArray(np.transpose(r23), [
      [0, 3],
      [1, 4],
      [2, 5],
    ]);
    const t = np.transpose(r234, [1, 0, 2]);
    expect(t.shape).toEqual([3, 2, 4]);
    // t[i, j, k] = r234[j, i, k] = 12 j + 4 i + k
    expectArray(np.slice(t, [2, 1, 0], [3, 2, 4]).reshape([4]), [20, 21, 22, 23]);
    expect(np.transpose(r234).shape).toEqual([4, 3, 2]);
    expectArray(np.transpose(r234, [-1, 0, 1]).reshape([24]), [0, 4, 8, 12, 16, 20, 1, 5, 9, 13, 17, 21, 2, 6, 10, 14, 18, 22, 3, 7, 11, 15, 19, 23]);
    expect(np.transpose(np.array(3)).shape).toEqual([]);
    expectArray(np.transpose(np.array([1, 2])), [1, 2]);
  });
});

describe("expandDims, squeeze, broadcastTo", () => {
  it("expandDims with positive and negative axes", () => {
    expect(np.expandDims(np.zeros([3]), 0).shape).toEqual([1, 3]);
    expect(np.expandDims(np.zeros([3]), 1).shape).toEqual([3, 1]);
    expect(np.expandDims(np.zeros([3]), -1).shape).toEqual([3, 1]);
    expect(np.expandDims(np.zeros([2, 3]), -2).shape).toEqual([2, 1, 3]);
    expect(np.expandDims(np.zeros([]), 0).shape).toEqual([1]);
  });
  it("squeeze all size-1 axes or the given ones", () => {
    expect(np.squeeze(np.zeros([1, 3, 1])).shape).toEqual([3]);
    expect(np.squeeze(np.zeros([1, 3, 1]), 0).shape).toEqual([3, 1]);
    expect(np.squeeze(np.zeros([1, 3, 1]), -1).shape).toEqual([1, 3]);
    expect(np.squeeze(np.zeros([1, 3, 1]), [0, 2]).shape).toEqual([3]);
    expect(np.squeeze(np.zeros([1, 1])).shape).toEqual([]);
    expectArray(np.squeeze(np.array([[[5], [6]]])), [5, 6]);
  });
  it("broadcastTo repeats along new and size-1 axes", () => {
    expectArray(np.broadcastTo(np.array([1, 2]), [2, 2]), [
      [1, 2],
      [1, 2],
    ]);
    expectArray(np.broadcastTo(np.array([[1], [2]]), [2, 3]), [
      [1, 1, 1],
      [2, 2, 2],
    ]);
    expectArray(np.broadcastTo(5, [2]), [5, 5]);
    expect(np.broadcastTo(np.zeros([3, 1]), [2, 0, 3, 4]).shape).toEqual([2, 0, 3, 4]);
    expectError(() => np.broadcastTo(np.zeros([3]), [3, 2]), "broadcastTo", "[3]", "[3,2]");
    expectError(() => np.broadcastTo(np.zeros([2, 1]), [1, 1]), "broadcastTo", "[2,1]", "[1,1]");
  });
});

describe("concatenate, stack, split", () => {
  const a = np.array([
    [1, 2],
    [3, 4],
  ]);
  const b = np.array([[5, 6]]);
  it("concatenate along an axis (negative allowed); dtypes promote", () => {
    expectArray(np.concatenate([a, b]), [
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    expectArray(np.concatenate([a, np.array([[7], [8]])], 1), [
      [1, 2, 7],
      [3, 4, 8],
    ]);
    expectArray(np.concatenate([a, np.array([[7], [8]])], -1), [
      [1, 2, 7],
      [3, 4, 8],
    ]);
    expectArray(np.concatenate([np.array([1]), np.array([2, 3]), np.array([4])]), [1, 2, 3, 4]);
    expectArray(np.concatenate([a]), a.toJs());
    const mixed = np.concatenate([np.array([1], { dtype: "int32" }), np.array([true])]);
    expectArray(mixed, [1, 1], { dtype: "int32" });
    expect(np.concatenate([np.zeros([0, 2]), a]).shape).toEqual([2, 2]);
  });
  it("stack along a new axis", () => {
    const p = np.array([1, 2]);
    const q = np.array([3, 4]);
    expectArray(np.stack([p, q]), [
      [1, 2],
      [3, 4],
    ]);
    expectArray(np.stack([p, q], 1), [
      [1, 3],
      [2, 4],
    ]);
    expectArray(np.stack([p, q], -1), [
      [1, 3],
      [2, 4],
    ]);
    expect(np.stack([a, a, a], 1).shape).toEqual([2, 3, 2]);
    expect(np.stack([a, a], -3).shape).toEqual([2, 2, 2]);
    expectArray(np.stack([np.array(1), np.array(2)]), [1, 2]);
  });
  it("split into equal sections or at indices", () => {
    const [s0, s1] = np.split(np.arange(6), 2);
    expectArray(s0!, [0, 1, 2]);
    expectArray(s1!, [3, 4, 5]);
    expect(np.split(np.arange(5), [1, 3]).map((p) => p.toJs())).toEqual([[0], [1, 2], [3, 4]]);
    expect(np.split(np.arange(5), [-2]).map((p) => p.toJs())).toEqual([
      [0, 1, 2],
      [3, 4],
    ]);
    expect(np.split(np.arange(5), [3, 1]).map((p) => p.toJs())).toEqual([[0, 1, 2], [], [1, 2, 3, 4]]);
    expect(np.split(np.arange(3), [0, 10]).map((p) => p.shape)).toEqual([[0], [3], [0]]);
    const cols = np.split(r23, 3, 1);
    expect(cols.map((c) => c.toJs())).toEqual([
      [[0], [3]],
      [[1], [4]],
      [[2], [5]],
    ]);
    const rows = np.split(r234, [1], -2);
    expect(rows.map((r) => r.shape)).toEqual([
      [2, 1, 4],
      [2, 2, 4],
    ]);
  });
});

describe("slice and take", () => {
  const x = np.arange(12).reshape([3, 4]);
  it("slice with exclusive stops, negative values and missing trailing entries", () => {
    expectArray(np.slice(x, [1, 1], [3, -1]), [
      [5, 6],
      [9, 10],
    ]);
    expectArray(np.slice(x, [-1], [3]), [[8, 9, 10, 11]]);
    expectArray(np.slice(x, [0, 2], [1, 4]), [[2, 3]]);
    expect(np.slice(x, [1, 1], [1, 3]).shape).toEqual([0, 2]);
    expectArray(np.slice(x, [], []), x.toJs());
  });
  it("take: flattened, along an axis, negative indices, index arrays of any shape", () => {
    expectArray(np.take(x, [0, 5, 11]), [0, 5, 11]);
    expectArray(np.take(x, 5), 5);
    expectArray(np.take(x, [2, 0], 0), [
      [8, 9, 10, 11],
      [0, 1, 2, 3],
    ]);
    expectArray(np.take(x, [-1], 1), [[3], [7], [11]]);
    expectArray(np.take(x, [-1, -4], -1), [
      [3, 0],
      [7, 4],
      [11, 8],
    ]);
    expectArray(np.take(x, 1, 0), [4, 5, 6, 7]);
    expectArray(
      np.take(
        x,
        [
          [0, 1],
          [1, 0],
        ],
        0,
      ),
      [
        [
          [0, 1, 2, 3],
          [4, 5, 6, 7],
        ],
        [
          [4, 5, 6, 7],
          [0, 1, 2, 3],
        ],
      ],
    );
    const idx = np.array([[1, 1, 0]], { dtype: "int32" });
    expectArray(np.take(x, idx, 1), [[[1, 1, 0]], [[5, 5, 4]], [[9, 9, 8]]]);
    expect(np.take(x, np.array([], { dtype: "int32" }), 0).shape).toEqual([0, 4]);
    expect(np.take(np.array([1, 2], { dtype: "float64" }), [1]).dtype).toBe("float64");
  });
  it("take: out-of-range indices name the index and the size", () => {
    expectError(() => np.take(x, [12]), "take", "index 12", "size 12");
    expectError(() => np.take(x, [3], 0), "take", "index 3", "size 3");
    expectError(() => np.take(x, [-5], 1), "take", "index -5", "size 4");
  });
});

describe("properties", () => {
  const shapeArb = fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 4 });
  const arange = (shape: number[]): NDArray =>
    np
      .arange(
        0,
        shape.reduce((p, d) => p * d, 1),
        1,
        "float64",
      )
      .reshape(shape);

  it("reshape round trip keeps the row-major values", () => {
    fc.assert(
      fc.property(shapeArb, fc.array(fc.integer({ min: 0, max: 1000 }), { minLength: 4, maxLength: 4 }), (shape, perm) => {
        const a = arange(shape);
        // another shape with the same size: the dims shuffled
        const other = [...shape].sort((p, q) => perm[p % 4]! - perm[q % 4]!);
        const b = np.reshape(a, other);
        expect(b.shape).toEqual(other);
        expect(values(b)).toEqual(values(a));
        expect(np.reshape(b, shape).toJs()).toEqual(a.toJs());
        expect(values(np.reshape(a, [-1]))).toEqual(values(a));
      }),
      { numRuns: 80 },
    );
  });

  it("transpose by a permutation then by its inverse is the identity; element mapping is right", () => {
    const withPerm = shapeArb.chain((shape) =>
      fc.tuple(
        fc.constant(shape),
        fc.shuffledSubarray(
          Array.from({ length: shape.length }, (_, i) => i),
          { minLength: shape.length, maxLength: shape.length },
        ),
      ),
    );
    fc.assert(
      fc.property(withPerm, ([shape, perm]) => {
        const a = arange(shape);
        const t = np.transpose(a, perm);
        expect(t.shape).toEqual(perm.map((p) => shape[p]!));
        const inv = new Array<number>(perm.length);
        perm.forEach((p, i) => (inv[p] = i));
        expect(np.transpose(t, inv).toJs()).toEqual(a.toJs());
        // t[i_0..] = a[j] with j[perm[k]] = i_k; a's value is its own flat index
        const ts = t.shape;
        const strides = shape.map((_, i) => shape.slice(i + 1).reduce((p, d) => p * d, 1));
        values(t).forEach((v, flat) => {
          let r = flat;
          let src = 0;
          for (let k = ts.length - 1; k >= 0; k--) {
            const ik = r % ts[k]!;
            r = Math.floor(r / ts[k]!);
            src += ik * strides[perm[k]!]!;
          }
          expect(v).toBe(src);
        });
      }),
      { numRuns: 80 },
    );
  });

  it("split then concatenate gives the input back, along any axis", () => {
    const withAxis = shapeArb.chain((shape) =>
      fc.tuple(fc.constant(shape), fc.integer({ min: -shape.length, max: shape.length - 1 }), fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 3 })),
    );
    fc.assert(
      fc.property(withAxis, ([shape, axis, cuts]) => {
        const a = arange(shape);
        const ax = axis < 0 ? axis + shape.length : axis;
        const sorted = [...cuts].sort((p, q) => p - q).map((c) => Math.min(c, shape[ax]!));
        const parts = np.split(a, sorted, axis);
        expect(parts.length).toBe(sorted.length + 1);
        const bounds = [0, ...sorted, shape[ax]!];
        parts.forEach((p, i) => expect(p.shape[ax]).toBe(bounds[i + 1]! - bounds[i]!));
        expect(np.concatenate(parts, axis).toJs()).toEqual(a.toJs());
        // equal sections: every divisor of the axis length works
        for (let s = 1; s <= shape[ax]!; s++) {
          if (shape[ax]! % s !== 0) continue;
          expect(np.concatenate(np.split(a, s, axis), axis).toJs()).toEqual(a.toJs());
        }
        // stack of the slices along the axis equals moving that axis to the front
        const slices = Array.from({ length: shape[ax]! }, (_, i) => np.take(a, [i], ax).reshape(shape.filter((_, d) => d !== ax)));
        const st = np.stack(slices, 0);
        const perm = [ax, ...shape.map((_, d) => d).filter((d) => d !== ax)];
        expect(st.toJs()).toEqual(np.transpose(a, perm).toJs());
      }),
      { numRuns: 60 },
    );
  });
});
