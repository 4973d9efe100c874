/**
 * Elementwise functions, NumPy broadcasting and dtype promotion. Expected values are
 * NumPy's (written out by hand or as known constants); float64 results to 1e-12.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Array as NDArray, type DType, np } from "../../src/index.js";
import { expectArray, expectError, values } from "./util.js";

const f64 = (d: number | number[] | number[][]): NDArray => np.array(d, { dtype: "float64" });
const i32 = (d: number | number[] | number[][]): NDArray => np.array(d, { dtype: "int32" });

describe("unary functions (float64, to 1e-12)", () => {
  it("exp, log, log1p, expm1", () => {
    expectArray(np.exp(f64([0, 1, -1])), [1, 2.718281828459045, 0.36787944117144233], { dtype: "float64" });
    expectArray(np.log(f64([1, 2, Math.E, 0])), [0, 0.6931471805599453, 1, -Infinity]);
    expect(Number.isNaN(np.log(f64(-1)).item())).toBe(true);
    // accurate for tiny x where log(1 + x) would lose digits
    expectArray(np.log1p(f64([1e-10, 1, -0.5])), [9.9999999995e-11, 0.6931471805599453, -0.6931471805599453]);
    expectArray(np.expm1(f64([1e-10, 1])), [1.00000000005e-10, 1.718281828459045]);
  });
  it("sin, cos, tan, tanh", () => {
    expectArray(np.sin(f64([0, Math.PI / 2, Math.PI / 6, -Math.PI / 2])), [0, 1, 0.5, -1]);
    expectArray(np.cos(f64([0, Math.PI, Math.PI / 3])), [1, -1, 0.5]);
    expectArray(np.tan(f64([0, Math.PI / 4, -Math.PI / 4])), [0, 1, -1]);
    expectArray(np.tanh(f64([0, 1, -1, 50])), [0, 0.7615941559557649, -0.7615941559557649, 1]);
  });
  it("sqrt, rsqrt, square, reciprocal, abs, sign, negative", () => {
    expectArray(np.sqrt(f64([0, 4, 2])), [0, 2, 1.4142135623730951]);
    expectArray(np.rsqrt(f64([4, 0.25, 2])), [0.5, 2, 0.7071067811865475]);
    expectArray(np.square(f64([-3, 0.5, 1e-3])), [9, 0.25, 1e-6]);
    expectArray(np.reciprocal(f64([2, -4, 0])), [0.5, -0.25, Infinity]);
    expectArray(np.abs(f64([-2.5, 0, 3])), [2.5, 0, 3]);
    expectArray(np.sign(f64([-2.5, 0, 3, NaN])), [-1, 0, 1, NaN]);
    expectArray(np.negative(f64([1, -2, 0])), [-1, 2, 0]);
  });
  it("sigmoid is exact at 0 and stable for large |x|", () => {
    // 1 / (1 + e^-2) = 0.8807970779778823
    expectArray(np.sigmoid(f64([0, 2, -2])), [0.5, 0.8807970779778823, 0.11920292202211755]);
    const big = values(np.sigmoid(f64([800, -800])));
    expect(big).toEqual([1, 0]);
    expect(values(np.sigmoid(np.array([-100, 100]))).every(Number.isFinite)).toBe(true);
  });
  it("floor and ceil", () => {
    expectArray(np.floor(f64([1.5, -1.5, 2])), [1, -2, 2]);
    expectArray(np.ceil(f64([1.5, -1.5, 2])), [2, -1, 2]);
  });
  it("float-only functions promote int and bool input to float32 (as jnp)", () => {
    const e = np.exp(i32([0, 1]));
    expect(e.dtype).toBe("float32");
    expectArray(e, [1, Math.E]);
    expect(np.sqrt(np.array([true])).dtype).toBe("float32");
    expect(np.sin(f64([1])).dtype).toBe("float64");
  });
  it("int-preserving functions keep int32", () => {
    expectArray(np.abs(i32([-3, 2])), [3, 2], { dtype: "int32" });
    expectArray(np.sign(i32([-3, 0, 2])), [-1, 0, 1], { dtype: "int32" });
    expectArray(np.negative(i32([-3, 2])), [3, -2], { dtype: "int32" });
    expectArray(np.square(i32([-3, 4])), [9, 16], { dtype: "int32" });
  });
  it("JS numbers are accepted as 0-d float32 arrays", () => {
    const y = np.exp(0);
    expect(y.shape).toEqual([]);
    expect(y.dtype).toBe("float32");
    expect(y.item()).toBe(1);
  });
});

describe("binary functions", () => {
  const a = f64([
    [1, 2, 3],
    [4, 5, 6],
  ]);
  it("add, subtract, multiply, divide", () => {
    expectArray(
      np.add(a, f64([10, 20, 30])),
      [
        [11, 22, 33],
        [14, 25, 36],
      ],
      { dtype: "float64" },
    );
    expectArray(np.subtract(a, f64([[1], [2]])), [
      [0, 1, 2],
      [2, 3, 4],
    ]);
    expectArray(np.multiply(a, 0.5), [
      [0.5, 1, 1.5],
      [2, 2.5, 3],
    ]);
    expectArray(np.divide(a, f64([2, 4, 8])), [
      [0.5, 0.5, 0.375],
      [2, 1.25, 0.75],
    ]);
    expectArray(np.divide(1, f64([3])), [0.3333333333333333]);
    expectArray(np.subtract(10, a), [
      [9, 8, 7],
      [6, 5, 4],
    ]);
    expectArray(np.divide(f64([1, -1, 0]), 0), [Infinity, -Infinity, NaN]);
  });
  it("power with integer, fractional and array exponents", () => {
    expectArray(np.power(f64([-2, 3, 0]), 3), [-8, 27, 0]);
    expectArray(np.power(f64([4, 2]), 0.5), [2, 1.4142135623730951]);
    expectArray(np.power(f64([2, 3, 10]), f64([3, 2, -1])), [8, 9, 0.1]);
    expectArray(np.power(f64([0, -3, 5]), 0), [1, 1, 1]);
    expectArray(np.power(f64([2, 4]), -2), [0.25, 0.0625]);
    expectArray(np.power(2, f64([1, 10])), [2, 1024]);
    expect(Number.isNaN(np.power(f64([-8]), 1 / 3).item())).toBe(true);
  });
  it("maximum and minimum (NaN propagates, as NumPy)", () => {
    expectArray(np.maximum(f64([1, 5, -1]), f64([3, 2, -1])), [3, 5, -1]);
    expectArray(np.minimum(f64([1, 5, -1]), 0), [0, 0, -1]);
    expectArray(np.maximum(f64([NaN, 1]), f64([0, NaN])), [NaN, NaN]);
    expectArray(np.minimum(f64([NaN]), 0), [NaN]);
  });
  it("clip", () => {
    expectArray(np.clip(f64([-2, 0.5, 3, 1]), 0, 1), [0, 0.5, 1, 1], { dtype: "float64" });
    expectArray(
      np.clip(
        f64([
          [-5, 5],
          [0, 0],
        ]),
        f64([-1, -2]),
        f64([[1], [3]]),
      ),
      [
        [-1, 1],
        [0, 0],
      ],
    );
  });
  it("comparisons give bool arrays and broadcast", () => {
    const x = f64([1, 2, 3]);
    expectArray(np.equal(x, 2), [false, true, false], { dtype: "bool" });
    expectArray(np.notEqual(x, 2), [true, false, true], { dtype: "bool" });
    expectArray(np.less(x, 2), [true, false, false], { dtype: "bool" });
    expectArray(np.lessEqual(x, 2), [true, true, false], { dtype: "bool" });
    expectArray(np.greater(x, 2), [false, false, true], { dtype: "bool" });
    expectArray(np.greaterEqual(x, 2), [false, true, true], { dtype: "bool" });
    expectArray(np.less(f64([[1], [3]]), f64([2, 4])), [
      [true, true],
      [false, true],
    ]);
    // NaN compares false, except !=
    expectArray(np.equal(f64([NaN]), f64([NaN])), [false]);
    expectArray(np.notEqual(f64([NaN]), f64([NaN])), [true]);
    expectArray(np.less(f64([NaN]), 1), [false]);
    // 2 == 2.0 across dtypes
    expectArray(np.equal(i32([2, 3]), f64([2, 2.5])), [true, false]);
  });
  it("logical functions on bool arrays", () => {
    const p = np.array([true, true, false, false]);
    const q = np.array([true, false, true, false]);
    expectArray(np.logicalAnd(p, q), [true, false, false, false], { dtype: "bool" });
    expectArray(np.logicalOr(p, q), [true, true, true, false], { dtype: "bool" });
    expectArray(np.logicalNot(p), [false, false, true, true], { dtype: "bool" });
    expectArray(np.logicalAnd(np.array([[true], [false]]), q), [
      [true, false, true, false],
      [false, false, false, false],
    ]);
  });
  it("where selects and broadcasts all three operands", () => {
    const x = f64([-1, 2, -3]);
    expectArray(np.where(np.greater(x, 0), x, 0), [0, 2, 0], { dtype: "float64" });
    expectArray(np.where(np.array([[true], [false]]), f64([1, 2]), f64([[10], [20]])), [
      [1, 2],
      [20, 20],
    ]);
    expectArray(np.where(np.array(true), 1, 2), 1);
    // branches promote: int32 and a non-integer number give float32
    const w = np.where(np.array([true, false]), i32([1, 2]), 0.5);
    expectArray(w, [1, 0.5], { dtype: "float32" });
  });
});

describe("dtype promotion", () => {
  const dtypes: DType[] = ["bool", "int32", "float32", "float64"];
  const rank = (d: DType): number => dtypes.indexOf(d);
  it("the table: the result is the larger dtype of the chain bool < int32 < float32 < float64", () => {
    const expected: Record<DType, Record<DType, DType>> = {
      bool: { bool: "bool", int32: "int32", float32: "float32", float64: "float64" },
      int32: { bool: "int32", int32: "int32", float32: "float32", float64: "float64" },
      float32: { bool: "float32", int32: "float32", float32: "float32", float64: "float64" },
      float64: { bool: "float64", int32: "float64", float32: "float64", float64: "float64" },
    };
    for (const da of dtypes) {
      for (const db of dtypes) {
        const x = np.ones([2], da);
        const y = np.ones([2], db);
        expect(np.add(x, y).dtype, `${da} + ${db}`).toBe(expected[da][db]);
        expect(np.multiply(y, x).dtype, `${db} * ${da}`).toBe(expected[da][db]);
        expect(np.maximum(x, y).dtype).toBe(rank(da) >= rank(db) ? da : db);
        expect(np.equal(x, y).dtype).toBe("bool");
      }
    }
  });
  it("float64 is never downcast, and keeps full precision", () => {
    const x = f64([0.1]);
    expect(np.add(x, np.array([0.2])).dtype).toBe("float64");
    expect(np.add(x, 0.2).item()).toBe(0.1 + 0.2);
    expect(np.multiply(np.ones([1], "int32"), x).dtype).toBe("float64");
    expect(np.divide(x, 3).item()).toBe(0.1 / 3);
    expect(np.power(x, 0.5).dtype).toBe("float64");
    expect(np.where(np.array([true]), x, np.array([1])).dtype).toBe("float64");
    expect(np.concatenate([x, np.array([1])]).dtype).toBe("float64");
    expect(np.matmul(f64([[1]]), np.array([[1]])).dtype).toBe("float64");
  });
  it("JS numbers are weak: they take the array's dtype", () => {
    expectArray(np.multiply(i32([1, 2]), 3), [3, 6], { dtype: "int32" });
    expectArray(np.add(3, i32([1])), [4], { dtype: "int32" });
    expectArray(np.subtract(10, i32([1])), [9], { dtype: "int32" });
    expectArray(np.multiply(i32([1, 2]), 2.5), [2.5, 5], { dtype: "float32" });
    expectArray(np.add(np.array([true]), 1), [2], { dtype: "int32" });
    expectArray(np.add(np.array([true]), 0.5), [1.5], { dtype: "float32" });
    expect(np.add(np.ones([1], "float32"), 1e-9).dtype).toBe("float32");
    expect(np.add(2, 3).dtype).toBe("float32");
    expect(np.add(2, 3).item()).toBe(5);
  });
  it("int / int division gives float32 (true division)", () => {
    const q = np.divide(i32([7, -7, 1]), i32([2, 2, 3]));
    expect(q.dtype).toBe("float32");
    expectArray(q, [3.5, -3.5, Math.fround(1 / 3)]);
    expect(np.divide(i32([1]), 2).dtype).toBe("float32");
    expect(np.divide(np.array([true]), np.array([true])).dtype).toBe("float32");
    expect(np.divide(i32([1]), f64([2])).dtype).toBe("float64");
    expectArray(np.divide(i32([1]), i32([0])), [Infinity]);
    expect(np.reciprocal(i32([4])).dtype).toBe("float32");
  });
  it("power: int ** int stays int32, a fractional or negative exponent gives float", () => {
    expectArray(np.power(i32([2, 3]), 2), [4, 9], { dtype: "int32" });
    expectArray(np.power(i32([4]), 0.5), [2], { dtype: "float32" });
    expectArray(np.power(i32([2]), -1), [0.5], { dtype: "float32" });
  });
  it("reductions: mean of ints is float32, sum of bools is int32", () => {
    expect(np.mean(i32([1, 2])).dtype).toBe("float32");
    expect(np.mean(i32([1, 2])).item()).toBe(1.5);
    expect(np.sum(np.array([true, true, false])).dtype).toBe("int32");
    expect(np.sum(np.array([true, true, false])).item()).toBe(2);
  });
});

// ------------------------------------------------------------------ broadcasting

/** NumPy's broadcasting rule, written independently: null when incompatible. */
function refBroadcast(a: readonly number[], b: readonly number[]): number[] | null {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const da = i < n - a.length ? 1 : a[i - (n - a.length)]!;
    const db = i < n - b.length ? 1 : b[i - (n - b.length)]!;
    if (da === db || db === 1) out.push(da);
    else if (da === 1) out.push(db);
    else return null;
  }
  return out;
}
/** The element of a row-major array of `shape` read at broadcast multi-index `idx`. */
function refRead(vals: number[], shape: readonly number[], idx: readonly number[]): number {
  const off = idx.length - shape.length;
  let flat = 0;
  for (let i = 0; i < shape.length; i++) flat = flat * shape[i]! + (shape[i] === 1 ? 0 : idx[i + off]!);
  return vals[flat]!;
}
function* multiIndices(shape: readonly number[]): Generator<number[]> {
  const n = shape.reduce((p, d) => p * d, 1);
  for (let f = 0; f < n; f++) {
    const idx = new Array<number>(shape.length);
    let r = f;
    for (let i = shape.length - 1; i >= 0; i--) {
      idx[i] = r % shape[i]!;
      r = Math.floor(r / shape[i]!);
    }
    yield idx;
  }
}

describe("broadcasting", () => {
  it("hand-checked examples", () => {
    expect(np.add(np.zeros([3, 1]), np.zeros([4])).shape).toEqual([3, 4]);
    expect(np.add(np.zeros([2, 1, 3]), np.zeros([4, 1])).shape).toEqual([2, 4, 3]);
    expect(np.add(np.zeros([]), np.zeros([2, 3])).shape).toEqual([2, 3]);
    expect(np.add(np.zeros([0, 3]), np.zeros([3])).shape).toEqual([0, 3]);
    expect(np.add(np.zeros([1, 0]), np.zeros([3, 1])).shape).toEqual([3, 0]);
    expectArray(np.add(np.array([[1], [2]]), np.array([10, 20, 30])), [
      [11, 21, 31],
      [12, 22, 32],
    ]);
    expectError(() => np.add(np.zeros([2, 3]), np.zeros([2])), "add", "[2,3]", "[2]");
    expectError(() => np.add(np.zeros([0]), np.zeros([2])), "[0]", "[2]");
  });

  // shapes that are often compatible: derive both from one base shape
  const shapePair = fc
    .tuple(
      fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 0, maxLength: 4 }),
      fc.array(fc.constantFrom("keep", "one", "rand"), { minLength: 8, maxLength: 8 }),
      fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 8, maxLength: 8 }),
      fc.nat(4),
      fc.nat(4),
    )
    .map(([base, how, rnd, dropA, dropB]) => {
      const derive = (off: number, drop: number): number[] =>
        base.slice(Math.min(drop, base.length)).map((d, i) => {
          const h = how[(i + off) % 8]!;
          return h === "keep" ? d : h === "one" ? 1 : rnd[(i + off) % 8]!;
        });
      return [derive(0, dropA), derive(3, dropB)] as const;
    });

  it("property: the result shape (or the error) agrees with NumPy's definition", () => {
    fc.assert(
      fc.property(shapePair, ([sa, sb]) => {
        const ref = refBroadcast(sa, sb);
        const run = (): number[] => np.add(np.zeros(sa), np.zeros(sb)).shape;
        if (ref === null) expect(run).toThrow(/cannot be broadcast/);
        else expect(run()).toEqual(ref);
        // symmetric, and broadcastTo agrees when one side is the full shape
        if (ref !== null) {
          expect(np.multiply(np.zeros(sb), np.zeros(sa)).shape).toEqual(ref);
          expect(np.broadcastTo(np.zeros(sa), ref).shape).toEqual(ref);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("property: every output element reads the broadcast input elements", () => {
    fc.assert(
      fc.property(shapePair, ([sa, sb]) => {
        const ref = refBroadcast(sa, sb);
        if (ref === null) return;
        const na = sa.reduce((p, d) => p * d, 1);
        const nb = sb.reduce((p, d) => p * d, 1);
        const va = Array.from({ length: na }, (_, i) => i + 1);
        const vb = Array.from({ length: nb }, (_, i) => 1000 * (i + 1));
        const out = np.add(np.array(va, { dtype: "float64", shape: sa }), np.array(vb, { dtype: "float64", shape: sb }));
        const got = values(out);
        let k = 0;
        for (const idx of multiIndices(ref)) {
          expect(got[k++]).toBe(refRead(va, sa, idx) + refRead(vb, sb, idx));
        }
        // where with three operands follows the same rule
        const cond = np.greater(np.array(va, { shape: sa }), na / 2);
        expect(np.where(cond, np.zeros(sb), 1).shape).toEqual(ref);
      }),
      { numRuns: 150 },
    );
  });
});
