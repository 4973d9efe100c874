/**
 * matmul / dot / outer (NumPy rules for 1-d operands and batch broadcasting) and
 * linalg.norm (vector and matrix norms, ord / axis / keepdims). Expected values are
 * NumPy's, written out by hand, or an independent triple-loop reference.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Array as NDArray, np } from "../../src/index.js";
import { expectArray, expectError, values } from "./util.js";

const f64 = (d: number[] | number[][]): NDArray => np.array(d, { dtype: "float64" });

/** Batched matmul reference on plain numbers: a [...ba, m, k] @ b [...bb, k, n]. */
function refMatmul(av: number[], as: number[], bv: number[], bs: number[]): { shape: number[]; vals: number[] } {
  const [m, k] = as.slice(-2) as [number, number];
  const n = bs[bs.length - 1]!;
  const ba = as.slice(0, -2);
  const bb = bs.slice(0, -2);
  const nd = Math.max(ba.length, bb.length);
  const pad = (s: number[]): number[] => [...new Array<number>(nd - s.length).fill(1), ...s];
  const pa = pad(ba);
  const pb = pad(bb);
  const batch = pa.map((d, i) => Math.max(d, pb[i]!));
  const nb = batch.reduce((p, d) => p * d, 1);
  const vals: number[] = [];
  for (let t = 0; t < nb; t++) {
    // multi-index of batch element t, then offsets into a and b (size-1 dims repeat)
    let r = t;
    const idx = new Array<number>(nd);
    for (let i = nd - 1; i >= 0; i--) {
      idx[i] = r % batch[i]!;
      r = Math.floor(r / batch[i]!);
    }
    let oa = 0;
    let ob = 0;
    for (let i = 0; i < nd; i++) {
      oa = oa * pa[i]! + (pa[i] === 1 ? 0 : idx[i]!);
      ob = ob * pb[i]! + (pb[i] === 1 ? 0 : idx[i]!);
    }
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += av[oa * m * k + i * k + p]! * bv[ob * k * n + p * n + j]!;
        vals.push(s);
      }
  }
  return { shape: [...batch, m, n], vals };
}

describe("matmul", () => {
  const A = f64([
    [1.5, -2, 0.25],
    [3, 4, -1],
  ]);
  const B = f64([
    [2, 0.5],
    [-1, 1],
    [4, -3],
  ]);
  it("2-d @ 2-d", () => {
    expectArray(
      np.matmul(A, B),
      [
        [6, -2],
        [-2, 8.5],
      ],
      { dtype: "float64" },
    );
    expectArray(
      np.matmul(
        np.array([
          [1, 2],
          [3, 4],
        ]),
        np.array([
          [5, 6],
          [7, 8],
        ]),
      ),
      [
        [19, 22],
        [43, 50],
      ],
      { dtype: "float32" },
    );
  });
  it("1-d operands are promoted and the added axis removed", () => {
    const v = f64([1, -2, 0.5]);
    expectArray(np.matmul(A, v), [5.625, -5.5]);
    expectArray(np.matmul(f64([2, -1]), A), [0, -8, 1.5]);
    expectArray(np.matmul(v, v), 5.25);
    expect(np.matmul(np.ones([4, 2, 3]), np.ones([3])).shape).toEqual([4, 2]);
    expect(np.matmul(np.ones([3]), np.ones([4, 3, 2])).shape).toEqual([4, 2]);
  });
  it("batch axes broadcast", () => {
    expect(np.matmul(np.ones([5, 2, 3]), np.ones([3, 4])).shape).toEqual([5, 2, 4]);
    const a = np.arange(0, 24, 1, "float64").reshape([2, 1, 3, 4]).div(10);
    const b = np.arange(0, 24, 1, "float64").reshape([3, 4, 2]).div(10).sub(1);
    const out = np.matmul(a, b);
    expect(out.shape).toEqual([2, 3, 3, 2]);
    // spot values from NumPy
    expectArray(np.reshape(np.slice(out, [0, 0, 0, 0], [1, 1, 1, 2]), [2]), [-0.32, -0.26]);
    expectArray(np.reshape(np.slice(out, [1, 2, 2, 0], [2, 3, 3, 2]), [2]), [7.84, 8.7]);
    const ref = refMatmul(values(a), a.shape, values(b), b.shape);
    expectArray(out, np.array(ref.vals, { dtype: "float64", shape: ref.shape }).toJs());
  });
  it("int32 matmul stays int32", () => {
    const a = np.array(
      [
        [1, 2],
        [3, 4],
      ],
      { dtype: "int32" },
    );
    expectArray(
      np.matmul(a, a),
      [
        [7, 10],
        [15, 22],
      ],
      { dtype: "int32" },
    );
  });
  it("zero-size contraction gives zeros", () => {
    expectArray(np.matmul(np.ones([2, 0]), np.ones([0, 3])), [
      [0, 0, 0],
      [0, 0, 0],
    ]);
  });
  it("property: agrees with the triple-loop reference on random shapes", () => {
    const dims = fc.integer({ min: 1, max: 3 });
    const batch = fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 });
    fc.assert(
      fc.property(dims, dims, dims, batch, batch, fc.boolean(), (m, k, n, ba0, bb0, drop) => {
        // make batch shapes broadcast-compatible: where both have an axis, one of them is 1 or equal
        const bb = drop ? bb0.map(() => 1) : bb0;
        const ba = ba0;
        const as = [...ba, m, k];
        const bs = [...bb, k, n];
        const nA = as.reduce((p, d) => p * d, 1);
        const nB = bs.reduce((p, d) => p * d, 1);
        const av = Array.from({ length: nA }, (_, i) => ((i * 13) % 7) - 3);
        const bv = Array.from({ length: nB }, (_, i) => ((i * 5) % 11) - 5);
        let compatible = true;
        const L = Math.min(ba.length, bb.length);
        for (let i = 1; i <= L; i++) {
          const x = ba[ba.length - i]!;
          const y = bb[bb.length - i]!;
          if (x !== y && x !== 1 && y !== 1) compatible = false;
        }
        const run = (): NDArray => np.matmul(np.array(av, { dtype: "float64", shape: as }), np.array(bv, { dtype: "float64", shape: bs }));
        if (!compatible) {
          expect(run).toThrow(/matmul.*batch/);
          return;
        }
        const ref = refMatmul(av, as, bv, bs);
        const out = run();
        expect(out.shape).toEqual(ref.shape);
        expect(values(out)).toEqual(ref.vals);
      }),
      { numRuns: 80 },
    );
  });
});

describe("dot and outer", () => {
  it("dot: vectors give a scalar, matrices multiply, scalars scale", () => {
    expectArray(np.dot(f64([1, 2, 3]), f64([4, 5, 6])), 32, { dtype: "float64" });
    expectArray(
      np.dot(
        f64([
          [1, 2],
          [3, 4],
        ]),
        f64([1, -1]),
      ),
      [-1, -1],
    );
    expectArray(
      np.dot(
        f64([
          [1, 2],
          [3, 4],
        ]),
        f64([
          [0, 1],
          [1, 0],
        ]),
      ),
      [
        [2, 1],
        [4, 3],
      ],
    );
    expectArray(np.dot(2, f64([1, 2])), [2, 4]);
    expectArray(np.dot(f64([1, 2]), np.array(3, { dtype: "float64" })), [3, 6]);
  });
  it("outer flattens its inputs", () => {
    expectArray(
      np.outer(f64([1, 2]), f64([3, 4, 5])),
      [
        [3, 4, 5],
        [6, 8, 10],
      ],
      { dtype: "float64" },
    );
    expectArray(np.outer(f64([[1], [2]]), f64([[1, -1]])), [
      [1, -1],
      [2, -2],
    ]);
    expect(np.outer(np.ones([2, 3]), np.ones([4])).shape).toEqual([6, 4]);
    expect(np.outer(np.ones([2], "int32"), np.ones([2], "float64")).dtype).toBe("float64");
  });
});

describe("linalg.norm", () => {
  const m = f64([
    [3, -4],
    [1, 2],
  ]);
  const v = f64([3, -4, 1, 2]);
  it("default: 2-norm of the flattened array (Frobenius for matrices)", () => {
    expectArray(np.linalg.norm(v), 5.477225575051661, { dtype: "float64" });
    expectArray(np.linalg.norm(m), 5.477225575051661);
    expectArray(np.linalg.norm(np.arange(0, 12, 1, "float64").reshape([2, 3, 2]).sub(5)), 12.083045973594572);
    expectArray(np.linalg.norm(f64([3, 4])), 5);
    expect(np.linalg.norm(np.array([3, 4], { dtype: "int32" })).dtype).toBe("float32");
  });
  it("vector norms for any ord", () => {
    expectArray(np.linalg.norm(v, { ord: 1 }), 10);
    expectArray(np.linalg.norm(v, { ord: 2 }), 5.477225575051661);
    expectArray(np.linalg.norm(v, { ord: Infinity }), 4);
    expectArray(np.linalg.norm(v, { ord: -Infinity }), 1);
    expectArray(np.linalg.norm(v, { ord: 0 }), 4);
    expectArray(np.linalg.norm(f64([0, 2, 0])), 2);
    expectArray(np.linalg.norm(f64([0, 2, 0]), { ord: 0 }), 1);
    expectArray(np.linalg.norm(v, { ord: 3 }), 4.641588833612778);
    expectArray(np.linalg.norm(v, { ord: -1 }), 0.4800000000000001);
    expectArray(np.linalg.norm(v, { ord: 0.5 }), 37.77656570521818);
  });
  it("vector norms along an axis, with keepdims", () => {
    expectArray(np.linalg.norm(m, { axis: 0 }), [3.1622776601683795, 4.47213595499958]);
    expectArray(np.linalg.norm(m, { ord: 1, axis: -1, keepdims: true }), [[7], [3]]);
    expectArray(np.linalg.norm(m, { ord: 3, axis: 1 }), [4.497941445275415, 2.080083823051904]);
  });
  it("matrix norms: fro, 1, -1, inf, -inf", () => {
    expectArray(np.linalg.norm(m, { ord: "fro" }), 5.477225575051661);
    expectArray(np.linalg.norm(m, { ord: 1 }), 6);
    expectArray(np.linalg.norm(m, { ord: -1 }), 4);
    expectArray(np.linalg.norm(m, { ord: Infinity }), 7);
    expectArray(np.linalg.norm(m, { ord: -Infinity }), 3);
  });
  it("matrix norms over an axis pair (order matters, as NumPy)", () => {
    const c = np.arange(0, 12, 1, "float64").reshape([2, 3, 2]).sub(5);
    expectArray(np.linalg.norm(c, { axis: [1, 2] }), [7.416198487095663, 9.539392014169456]);
    expectArray(np.linalg.norm(c, { ord: 1, axis: [-2, -1] }), [9, 12]);
    expectArray(np.linalg.norm(c, { ord: Infinity, axis: [2, 1] }), [9, 12]);
    expectArray(np.linalg.norm(c, { ord: 1, axis: [2, 1] }), [9, 11]);
    expectArray(np.linalg.norm(c, { ord: 1, axis: [1, 2], keepdims: true }), [[[9]], [[12]]]);
    // the transposed matrix swaps the 1- and inf-norms
    expectArray(np.linalg.norm(m, { ord: 1, axis: [1, 0] }), 7);
    expectArray(np.linalg.norm(m, { ord: Infinity, axis: [1, 0] }), 6);
  });
  it("unsupported orders and bad shapes are clear errors", () => {
    expectError(() => np.linalg.norm(m, { ord: 2 }), "linalg.norm", "ord=2", "singular value");
    expectError(() => np.linalg.norm(v, { ord: "fro" }), "linalg.norm", "fro");
    expectError(() => np.linalg.norm(np.zeros([2, 2, 2]), { ord: 1 }), "linalg.norm", "[2,2,2]");
    expectError(() => np.linalg.norm(m, { axis: 2 }), "linalg.norm", "axis 2");
  });
});
