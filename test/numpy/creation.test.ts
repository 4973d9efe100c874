/**
 * Array creation and the Array object itself: np.array, zeros/ones/full, arange,
 * linspace, eye, zerosLike/onesLike; shape/dtype/ndim/size, toJs, item, data, astype,
 * fluent methods. Expected values are NumPy's, written out by hand.
 */
import { describe, expect, it } from "vitest";
import { Array as NDArray, np } from "../../src/index.js";
import { expectArray, expectError, values } from "./util.js";

describe("np.array", () => {
  it("infers shape and float32 from nested JS numbers", () => {
    const a = np.array([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(a.shape).toEqual([2, 3]);
    expect(a.dtype).toBe("float32");
    expect(a.ndim).toBe(2);
    expect(a.size).toBe(6);
    expect(a.toJs()).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(a).toBeInstanceOf(NDArray);
  });
  it("0-d from a number, bool from booleans, 3-d nesting", () => {
    const s = np.array(2.5);
    expect(s.shape).toEqual([]);
    expect(s.ndim).toBe(0);
    expect(s.size).toBe(1);
    expect(s.toJs()).toBe(2.5);
    const b = np.array([true, false]);
    expect(b.dtype).toBe("bool");
    expect(b.toJs()).toEqual([true, false]);
    expect(np.array(true).toJs()).toBe(true);
    const c = np.array([
      [[1], [2]],
      [[3], [4]],
    ]);
    expect(c.shape).toEqual([2, 2, 1]);
  });
  it("mixed booleans and numbers give float32", () => {
    const a = np.array([true, 2]);
    expect(a.dtype).toBe("float32");
    expect(a.toJs()).toEqual([1, 2]);
  });
  it("empty arrays", () => {
    expect(np.array([]).shape).toEqual([0]);
    expect(np.array([[], []]).shape).toEqual([2, 0]);
    expect(np.array([]).size).toBe(0);
  });
  it("float32 storage rounds, float64 keeps full precision", () => {
    expect(np.array([0.1]).item()).toBe(Math.fround(0.1));
    expect(np.array([0.1], { dtype: "float64" }).item()).toBe(0.1);
    expect(np.array(1 / 3, { dtype: "float64" }).item()).toBe(1 / 3);
  });
  it("int32 truncates toward zero; bool is x != 0", () => {
    expect(np.array([1.9, -1.9, 2.5, -0.5], { dtype: "int32" }).toJs()).toEqual([1, -1, 2, 0]);
    expect(np.array([0, 2, -0.5, 0], { dtype: "bool" }).toJs()).toEqual([false, true, true, false]);
  });
  it("typed arrays keep their dtype and accept a shape", () => {
    expect(np.array(new Float64Array([1, 2])).dtype).toBe("float64");
    expect(np.array(new Int32Array([1, 2])).dtype).toBe("int32");
    expect(np.array(new Float32Array([1, 2])).dtype).toBe("float32");
    expect(np.array(new Uint8Array([0, 3])).toJs()).toEqual([false, true]);
    const c = np.array(new Int32Array([1, 2, 3, 4, 5, 6]), { shape: [3, 2] });
    expect(c.toJs()).toEqual([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    const d = np.array(new Float64Array([1.5, -2.5]), { dtype: "int32" });
    expect(d.toJs()).toEqual([1, -2]);
  });
  it("copies typed-array input (later writes do not change the array)", () => {
    const t = new Float64Array([1, 2]);
    const a = np.array(t);
    t[0] = 99;
    expect(a.toJs()).toEqual([1, 2]);
  });
  it("a flat JS list with a shape", () => {
    expect(np.array([1, 2, 3, 4, 5, 6], { shape: [2, 3] }).toJs()).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
  });
  it("an Array input: converts dtype and reshapes", () => {
    const x = np.array([1.5, 2.5, 3.5, 4.5]);
    const y = np.array(x, { dtype: "float64", shape: [2, 2] });
    expect(y.dtype).toBe("float64");
    expect(y.toJs()).toEqual([
      [1.5, 2.5],
      [3.5, 4.5],
    ]);
    expect(np.array(x)).toBe(x);
  });
  it("NaN and infinities survive", () => {
    const a = np.array([NaN, Infinity, -Infinity], { dtype: "float64" });
    const v = values(a);
    expect(Number.isNaN(v[0])).toBe(true);
    expect(v.slice(1)).toEqual([Infinity, -Infinity]);
    expect(a.toString()).toBe("Array(f64[3], [NaN,Infinity,-Infinity])");
  });
});

describe("filled arrays", () => {
  it("zeros / ones / full with shapes and dtypes", () => {
    expectArray(
      np.zeros([2, 3]),
      [
        [0, 0, 0],
        [0, 0, 0],
      ],
      { dtype: "float32" },
    );
    expectArray(np.ones([2], "int32"), [1, 1], { dtype: "int32" });
    expectArray(np.ones([2], "bool"), [true, true], { dtype: "bool" });
    expectArray(
      np.full([2, 2], 7.5, "float64"),
      [
        [7.5, 7.5],
        [7.5, 7.5],
      ],
      { dtype: "float64" },
    );
    expectArray(np.full([3], 2.7, "int32"), [2, 2, 2], { dtype: "int32" });
    expect(np.zeros([]).shape).toEqual([]);
    expect(np.zeros([]).item()).toBe(0);
    expect(np.zeros([0, 4]).shape).toEqual([0, 4]);
    expect(np.full([], 3).item()).toBe(3);
  });
  it("zerosLike / onesLike keep shape and dtype", () => {
    const x = np.array([[1, 2, 3]], { dtype: "int32" });
    expectArray(np.zerosLike(x), [[0, 0, 0]], { dtype: "int32" });
    expectArray(np.onesLike(np.zeros([2], "float64")), [1, 1], { dtype: "float64" });
  });
});

describe("ranges", () => {
  it("arange like NumPy", () => {
    expectArray(np.arange(5), [0, 1, 2, 3, 4], { dtype: "float32" });
    expectArray(np.arange(2, 5), [2, 3, 4]);
    expectArray(np.arange(0, 1, 0.25), [0, 0.25, 0.5, 0.75]);
    expectArray(np.arange(5, 0, -2), [5, 3, 1]);
    expectArray(np.arange(1, 2, 0.5), [1, 1.5]);
    expect(np.arange(3, 3).shape).toEqual([0]);
    expect(np.arange(5, 1).shape).toEqual([0]);
    expectArray(np.arange(0, 3, 1, "int32"), [0, 1, 2], { dtype: "int32" });
    // np.arange(0, 1, 0.1) has 10 elements: ceil((1 - 0) / 0.1) = 10
    expect(np.arange(0, 1, 0.1).size).toBe(10);
    expect(np.arange(-3).shape).toEqual([0]);
  });
  it("arange in float64 is exact to 1e-12", () => {
    expectArray(np.arange(0, 0.5, 0.1, "float64"), [0, 0.1, 0.2, 0.3, 0.4], { dtype: "float64" });
  });
  it("linspace includes both ends", () => {
    expectArray(np.linspace(0, 1, 5), [0, 0.25, 0.5, 0.75, 1]);
    expectArray(np.linspace(2, -2, 3, "float64"), [2, 0, -2], { dtype: "float64" });
    expectArray(np.linspace(3, 9, 1), [3]);
    expect(np.linspace(0, 1, 0).shape).toEqual([0]);
    // np.linspace(0, 1, 4) = [0, 1/3, 2/3, 1]
    expectArray(np.linspace(0, 1, 4, "float64"), [0, 1 / 3, 2 / 3, 1]);
  });
  it("eye", () => {
    expectArray(
      np.eye(3),
      [
        [1, 0, 0],
        [0, 1, 0],
        [0, 0, 1],
      ],
      { dtype: "float32" },
    );
    expectArray(
      np.eye(2, "int32"),
      [
        [1, 0],
        [0, 1],
      ],
      { dtype: "int32" },
    );
    expect(np.eye(0).shape).toEqual([0, 0]);
  });
});

describe("Array methods", () => {
  const x = np.array([
    [1, 2],
    [3, 4],
  ]);
  it("item() on 0-d and size-1 arrays", () => {
    expect(np.array(3).item()).toBe(3);
    expect(np.array([[5]]).item()).toBe(5);
    expect(np.array(true).item()).toBe(1);
    expectError(() => x.item(), "item()", "[2,2]");
  });
  it("data() returns a copy of the right typed array", () => {
    expect(np.zeros([2]).data()).toBeInstanceOf(Float32Array);
    expect(np.zeros([2], "float64").data()).toBeInstanceOf(Float64Array);
    expect(np.zeros([2], "int32").data()).toBeInstanceOf(Int32Array);
    expect(np.zeros([2], "bool").data()).toBeInstanceOf(Uint8Array);
    const d = x.data();
    d[0] = 100;
    expect(x.toJs()).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(Array.from(x.data())).toEqual([1, 2, 3, 4]);
  });
  it("shape is a copy", () => {
    const s = x.shape;
    s[0] = 10;
    expect(x.shape).toEqual([2, 2]);
  });
  it("astype converts like NumPy", () => {
    const f = np.array([-1.7, -0.2, 0, 0.5, 2.9]);
    expectArray(f.astype("int32"), [-1, 0, 0, 0, 2], { dtype: "int32" });
    expectArray(f.astype("bool"), [true, true, false, true, true], { dtype: "bool" });
    expectArray(np.array([true, false]).astype("float32"), [1, 0], { dtype: "float32" });
    expectArray(np.array([1, 2], { dtype: "int32" }).astype("float64"), [1, 2], { dtype: "float64" });
    const back = np.array([0.1], { dtype: "float64" }).astype("float32");
    expect(back.item()).toBe(Math.fround(0.1));
    expect(x.astype("float32")).toBe(x);
  });
  it("fluent arithmetic mirrors np", () => {
    expectArray(x.add(1), [
      [2, 3],
      [4, 5],
    ]);
    expectArray(x.sub(np.array([1, 2])), [
      [0, 0],
      [2, 2],
    ]);
    expectArray(x.mul(2).div(4), [
      [0.5, 1],
      [1.5, 2],
    ]);
    expectArray(x.pow(2), [
      [1, 4],
      [9, 16],
    ]);
    expectArray(x.neg(), [
      [-1, -2],
      [-3, -4],
    ]);
    expectArray(x.matmul(x), [
      [7, 10],
      [15, 22],
    ]);
    expectArray(x.square(), [
      [1, 4],
      [9, 16],
    ]);
    expectArray(x.neg().abs(), [
      [1, 2],
      [3, 4],
    ]);
    expectArray(x.sqrt(), [
      [1, Math.SQRT2],
      [Math.sqrt(3), 2],
    ]);
    expectArray(np.array([0]).exp(), [1]);
    expectArray(np.array([1]).log(), [0]);
    expectArray(np.array([0]).sin(), [0]);
    expectArray(np.array([0]).cos(), [1]);
    expectArray(np.array([0]).tanh(), [0]);
  });
  it("fluent reductions and shapes take the same options", () => {
    expect(x.sum().item()).toBe(10);
    expectArray(x.sum({ axis: 0 }), [4, 6]);
    expectArray(x.sum({ axis: -1, keepdims: true }), [[3], [7]]);
    expectArray(x.mean({ axis: 1 }), [1.5, 3.5]);
    expectArray(x.max({ axis: 0 }), [3, 4]);
    expect(x.min().item()).toBe(1);
    expectArray(x.reshape([4]), [1, 2, 3, 4]);
    expectArray(x.transpose(), [
      [1, 3],
      [2, 4],
    ]);
    expectArray(x.T, [
      [1, 3],
      [2, 4],
    ]);
    expectArray(np.zeros([2, 3, 4]).transpose([2, 0, 1]), np.zeros([4, 2, 3]).toJs());
  });
  it(".T needs a 2-d array", () => {
    expectError(() => np.zeros([3]).T, ".T", "[3]", "transpose");
  });
  it("toString shows the aval and the values", () => {
    expect(x.toString()).toBe("Array(f32[2,2], [[1,2],[3,4]])");
    expect(np.array(true).toString()).toBe("Array(bool[], true)");
  });
  it("arrays are immutable: operations return new arrays", () => {
    const y = x.add(1);
    expect(y).not.toBe(x);
    expect(x.toJs()).toEqual([
      [1, 2],
      [3, 4],
    ]);
  });
});
