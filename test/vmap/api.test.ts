/**
 * The vmap API: inAxes/outAxes forms (numbers, null, negative axes, per-argument
 * lists, pytrees and prefixes), pytree arguments and results, nesting and closures,
 * per-example gradients on a hand-derived model, empty batches, and the error
 * messages for bad axes, mismatched sizes, unmapped calls and reading batched values.
 * Expected values are computed by hand.
 */
import { describe, expect, it } from "vitest";
import { type Array as NDArray, grad, jit, np, vmap } from "../../src/index.js";
import { errorMessage, f64 } from "../helpers/numeric.js";
import { expectAgree } from "../helpers/programs.js";

const X = f64([
  [1, 2, 3],
  [4, 5, 6],
]);
const dot = (a: NDArray, b: NDArray): NDArray => np.sum(np.multiply(a, b));

describe("vmap: inAxes", () => {
  it("maps axis 0 by default", () => {
    expect(vmap((a: NDArray) => np.sum(a))(X).toJs()).toEqual([6, 15]);
  });

  it("maps a non-zero axis and a negative axis", () => {
    expect(vmap((a: NDArray) => np.sum(a), { inAxes: 1 })(X).toJs()).toEqual([5, 7, 9]);
    expect(vmap((a: NDArray) => np.sum(a), { inAxes: -1 })(X).toJs()).toEqual([5, 7, 9]);
    expect(vmap((a: NDArray) => np.max(a), { inAxes: -2 })(X).toJs()).toEqual([3, 6]);
  });

  it("one entry per argument, null for a shared argument", () => {
    const w = f64([1, 0, -1]);
    expect(vmap(dot, { inAxes: [0, null] })(X, w).toJs()).toEqual([-2, -2]);
    expect(vmap(dot, { inAxes: [null, 1] })(f64([1, 10]), X).toJs()).toEqual([41, 52, 63]);
    // both mapped, along different axes: column j of X^T is row j of X
    expect(vmap(dot, { inAxes: [0, 1] })(X, X.T).toJs()).toEqual([14, 77]);
  });

  it("a single number or null applies to every argument", () => {
    expect(vmap((a: NDArray, b: NDArray) => np.subtract(a, b), { inAxes: 1 })(X, X).toJs()).toEqual([
      [0, 0],
      [0, 0],
      [0, 0],
    ]);
  });

  it("JS numbers as unmapped arguments", () => {
    expect(vmap((a: NDArray, k: NDArray | number) => np.multiply(a, k), { inAxes: [0, null] })(f64([1, 2]), 3).toJs()).toEqual([3, 6]);
  });

  it("pytree arguments with an inAxes pytree", () => {
    const params = { w: f64([1, 1, 1]), b: f64([10, 20]) };
    const f = (p: { w: NDArray; b: NDArray }, x: NDArray): NDArray => np.add(dot(p.w, x), p.b);
    // w shared, b mapped; x mapped along axis 0
    expect(vmap(f, { inAxes: [{ w: null, b: 0 }, 0] })(params, X).toJs()).toEqual([16, 35]);
    // key order in the spec does not matter
    expect(vmap(f, { inAxes: [{ b: 0, w: null }, 0] })(params, X).toJs()).toEqual([16, 35]);
  });

  it("inAxes prefixes: one axis for a whole subtree", () => {
    const pair = [X, np.multiply(X, 10)];
    const f = (p: NDArray[]): NDArray => np.add(np.sum(p[0]!), np.sum(p[1]!));
    expect(vmap(f, { inAxes: [0] })(pair).toJs()).toEqual([66, 165]);
    expect(vmap(f, { inAxes: [[0, 1]] })([X, np.multiply(X.T, 10)]).toJs()).toEqual([66, 165]);
    const g = (p: { a: NDArray[]; s: NDArray }): NDArray => np.multiply(np.add(p.a[0]!, p.a[1]!), p.s);
    const out = vmap(g, { inAxes: [{ a: 1, s: null }] })({ a: [X, X], s: f64(0.5) });
    expect(out.toJs()).toEqual([
      [1, 4],
      [2, 5],
      [3, 6],
    ]);
  });

  it("int and bool arguments are mapped like floats", () => {
    const idx = np.array(
      [
        [2, 0],
        [1, 1],
      ],
      { dtype: "int32" },
    );
    expect(vmap((i: NDArray) => np.take(f64([10, 20, 30]), i))(idx).toJs()).toEqual([
      [30, 10],
      [20, 20],
    ]);
    const mask = np.array([
      [true, false, true],
      [false, false, true],
    ]);
    expect(vmap((m: NDArray, x: NDArray) => np.sum(np.where(m, x, 0)))(mask, X).toJs()).toEqual([4, 6]);
  });
});

describe("vmap: outAxes and results", () => {
  it("places the mapped axis at outAxes (positive, negative)", () => {
    const f = (a: NDArray): NDArray => np.multiply(a, 2);
    const T = [
      [2, 8],
      [4, 10],
      [6, 12],
    ];
    expect(vmap(f, { outAxes: 1 })(X).toJs()).toEqual(T);
    expect(vmap(f, { outAxes: -1 })(X).toJs()).toEqual(T);
    expect(vmap(f, { outAxes: -2 })(X).toJs()).toEqual([
      [2, 4, 6],
      [8, 10, 12],
    ]);
  });

  it("an unmapped result is broadcast along the mapped axis, or returned as is with outAxes null", () => {
    const c = f64([7, 8]);
    expect(vmap((_a: NDArray) => c)(X).toJs()).toEqual([
      [7, 8],
      [7, 8],
    ]);
    expect(vmap((_a: NDArray) => c, { outAxes: 1 })(X).toJs()).toEqual([
      [7, 7],
      [8, 8],
    ]);
    expect(vmap((_a: NDArray, b: NDArray) => np.sum(b), { inAxes: [0, null], outAxes: null })(X, c).toJs()).toBe(15);
  });

  it("results of a jitted function that do not depend on the mapped argument stay unbatched", () => {
    const f = jit((b: NDArray, c: NDArray) => [np.multiply(b, 2), np.cos(c), np.add(b, c)]);
    const c = f64([0, 1, 2]);
    const [u, v, w] = vmap(f, { inAxes: [0, null], outAxes: [0, null, 1] })(X, c) as NDArray[];
    expect(u!.toJs()).toEqual([
      [2, 4, 6],
      [8, 10, 12],
    ]);
    expectAgree(v!, f64([1, Math.cos(1), Math.cos(2)]), 1e-15, "unbatched output");
    expect(w!.toJs()).toEqual([
      [1, 4],
      [3, 6],
      [5, 8],
    ]);
    // an output that depends on the mapped argument cannot be declared unbatched
    expect(() => vmap(f, { inAxes: [0, null], outAxes: [null, null, 0] })(X, c)).toThrow("vmap: output 0 is batched but outAxes says null (unbatched) for it.");
  });

  it("pytree results with an outAxes pytree and prefix", () => {
    const f = (a: NDArray) => ({ s: np.sum(a), parts: [a, np.negative(a)] });
    const r = vmap(f, { outAxes: { s: 0, parts: 1 } })(X) as { s: NDArray; parts: NDArray[] };
    expect(r.s.toJs()).toEqual([6, 15]);
    expect(r.parts[0]!.toJs()).toEqual([
      [1, 4],
      [2, 5],
      [3, 6],
    ]);
    expect(r.parts[1]!.shape).toEqual([3, 2]);
    const c = f64([7, 8]);
    const l = vmap((a: NDArray) => [np.sum(a), c], { outAxes: [-1, null] })(X) as NDArray[];
    expect(l[0]!.toJs()).toEqual([6, 15]);
    expect(l[1]!.toJs()).toEqual([7, 8]);
  });

  it("dtypes are preserved (argmax gives int32, comparisons bool)", () => {
    const r = vmap((a: NDArray) => [np.argmax(a), np.greater(a, 2)])(X) as NDArray[];
    expect(r[0]!.dtype).toBe("int32");
    expect(r[0]!.toJs()).toEqual([2, 2]);
    expect(r[1]!.toJs()).toEqual([
      [false, false, true],
      [true, true, true],
    ]);
  });

  it("an empty batch gives empty results of the right shape", () => {
    const z = np.zeros([0, 3], "float64");
    expect(vmap((a: NDArray) => np.sum(np.sin(a)))(z).shape).toEqual([0]);
    expect(vmap((a: NDArray) => np.matmul(a, np.ones([3, 2], "float64")))(z).shape).toEqual([0, 2]);
    expect(vmap((a: NDArray, i: NDArray) => np.take(a, i, 0))(z, np.zeros([0, 2], "int32")).shape).toEqual([0, 2]);
    expect(vmap(jit((a: NDArray) => np.max(a, { axis: 0, keepdims: true })))(z).shape).toEqual([0, 1]);
  });
});

describe("vmap: nesting and closures", () => {
  it("vmap(vmap(f)) maps two axes", () => {
    const outer = vmap(
      vmap((a: NDArray, b: NDArray) => np.multiply(a, b), { inAxes: [0, null] }),
      { inAxes: [null, 0] },
    );
    // result[i][j] = x[j] * y[i]
    expect(outer(f64([1, 2, 3]), f64([10, 100])).toJs()).toEqual([
      [10, 20, 30],
      [100, 200, 300],
    ]);
    // a pairwise distance matrix
    const P = f64([
      [0, 0],
      [3, 4],
      [6, 8],
    ]);
    const dist = (a: NDArray, b: NDArray): NDArray => np.sqrt(np.sum(np.square(np.subtract(a, b))));
    expect(vmap(vmap(dist, { inAxes: [null, 0] }), { inAxes: [0, null] })(P, P).toJs()).toEqual([
      [0, 5, 10],
      [5, 0, 5],
      [10, 5, 0],
    ]);
  });

  it("an inner function closing over an outer vmap's batched value", () => {
    const f = (a: NDArray): NDArray => vmap((b: NDArray) => np.multiply(a, b))(f64([1, 2]));
    // for each row a: [[a*1], [a*2]]
    expect(
      vmap(f)(
        f64([
          [1, 2],
          [3, 4],
        ]),
      ).toJs(),
    ).toEqual([
      [
        [1, 2],
        [2, 4],
      ],
      [
        [3, 4],
        [6, 8],
      ],
    ]);
  });

  it("vmap inside grad, closing over grad's input", () => {
    // f(w) = sum_i (w . x_i)^2, grad = 2 sum_i (w . x_i) x_i
    const f = (w: NDArray): NDArray => np.sum(np.square(vmap((x: NDArray) => dot(w, x))(X)));
    const g = grad(f)(f64([1, 0, 0]));
    expect(g.toJs()).toEqual([2 * (1 * 1 + 4 * 4), 2 * (1 * 2 + 4 * 5), 2 * (1 * 3 + 4 * 6)]);
  });

  it("values that are not batched can be read inside vmap", () => {
    const f = (a: NDArray, s: NDArray): NDArray => (s.item() > 0 ? np.multiply(a, 2) : np.negative(a));
    expect(vmap(f, { inAxes: [0, null] })(f64([1, 2]), f64(1)).toJs()).toEqual([2, 4]);
    expect(vmap(f, { inAxes: [0, null] })(f64([1, 2]), f64(-1)).toJs()).toEqual([-1, -2]);
  });
});

describe("vmap: per-example gradients", () => {
  it("of a linear model's squared error, vmap(grad(loss), { inAxes: [null, 0, 0] }), match the hand-derived formula", () => {
    const loss = (w: NDArray, x: NDArray, y: NDArray): NDArray => np.square(np.subtract(dot(w, x), y));
    const w = f64([0.5, -1, 2]);
    const y = f64([1, -2]);
    const per = vmap(grad(loss), { inAxes: [null, 0, 0] })(w, X, y) as NDArray;
    // d/dw (w.x - y)^2 = 2 (w.x - y) x
    const r0 = 2 * (0.5 - 2 + 6 - 1);
    const r1 = 2 * (2 - 5 + 12 + 2);
    expectAgree(
      per,
      f64([
        [r0, 2 * r0, 3 * r0],
        [4 * r1, 5 * r1, 6 * r1],
      ]),
      1e-14,
      "per-example grads",
    );
    // and the mean over the batch equals the gradient of the mean loss
    const meanLoss = (wv: NDArray): NDArray => np.mean(vmap(loss, { inAxes: [null, 0, 0] })(wv, X, y));
    expectAgree(grad(meanLoss)(w), np.mean(per, { axis: 0 }), 1e-14, "mean of per-example grads");
  });

  it("of a two-layer tanh network with a parameter pytree equal a loop", () => {
    type P = { w1: NDArray; b1: NDArray; w2: NDArray };
    const params: P = {
      w1: f64([
        [0.1, -0.2],
        [0.3, 0.4],
        [-0.5, 0.6],
      ]),
      b1: f64([0.05, -0.05]),
      w2: f64([1.5, -0.7]),
    };
    const loss = (p: P, x: NDArray, y: NDArray): NDArray => np.square(np.subtract(np.matmul(np.tanh(np.add(np.matmul(x, p.w1), p.b1)), p.w2), y));
    const ys = f64([0.3, -0.1]);
    const per = vmap(grad(loss), { inAxes: [null, 0, 0] })(params, X, ys) as P;
    for (let i = 0; i < 2; i++) {
      const gi = grad(loss)(params, np.take(X, i, 0), np.take(ys, i, 0)) as P;
      for (const k of ["w1", "b1", "w2"] as const) expectAgree(np.take(per[k], i, 0), gi[k], 1e-14, `example ${i} ${k}`);
    }
    expect(per.w1.shape).toEqual([2, 3, 2]);
  });
});

describe("vmap: errors", () => {
  const msg = errorMessage;

  it("mismatched mapped sizes name both shapes and sizes", () => {
    const m = msg(() => vmap(dot)(X, f64([1, 2, 3])));
    expect(m).toMatch(/^vmap: the mapped axes have different sizes/);
    expect(m).toContain("[2,3] has size 2 along axis 0");
    expect(m).toContain("[3] has size 3 along axis 0");
  });

  it("inAxes out of range gives the valid range", () => {
    expect(msg(() => vmap(np.sin, { inAxes: 2 })(X))).toBe("vmap: inAxes 2 is out of range for an argument of shape [2,3]; use an axis in -2..1, or null.");
    expect(msg(() => vmap(np.sin, { inAxes: -3 })(X))).toContain("out of range");
    expect(msg(() => vmap(np.sin)(f64(1)))).toBe("vmap: inAxes 0 maps a 0-d argument, which has no axis to map over; use null for it.");
  });

  it("no mapped argument", () => {
    expect(msg(() => vmap(np.sin, { inAxes: null })(X))).toBe(
      "vmap: no argument is mapped (every inAxes entry is null); at least one argument needs a mapped axis.",
    );
    expect(msg(() => vmap(dot, { inAxes: [null, null] })(X, X))).toMatch(/no argument is mapped/);
  });

  it("inAxes with the wrong number of entries or keys", () => {
    expect(msg(() => vmap(dot, { inAxes: [0] })(X, X))).toMatch(/^vmap: inAxes has 1 entries but the value it describes has 2/);
    const m = msg(() => vmap((p: { a: NDArray; b: NDArray }) => np.add(p.a, p.b), { inAxes: [{ a: 0, c: 0 }] })({ a: X, b: X }));
    expect(m).toMatch(/^vmap: inAxes\[0\] has keys \{a, c\} but the object it describes has keys \{a, b\}/);
  });

  it("outAxes null for a batched result, or out of range", () => {
    expect(msg(() => vmap(np.sin, { outAxes: null })(X))).toBe("vmap: output 0 is batched but outAxes says null (unbatched) for it.");
    expect(msg(() => vmap(np.sin, { outAxes: 2 })(X))).toMatch(/^vmap: outAxes 2 is out of range for output 0 of per-example shape \[3\]; .* -2\.\.1/);
  });

  it("reading a batched value (item(), toJs(), a JS branch) explains why and what to use instead", () => {
    const m = msg(() => vmap((a: NDArray) => (np.sum(a).item() > 0 ? a : np.negative(a)))(X));
    expect(m).toMatch(/^item\(\): this f64\[\] value differs between the examples of a vmap batch/);
    expect(m).toContain("np.where");
    expect(msg(() => vmap((a: NDArray) => a.toJs())(X))).toMatch(/^toJs\(\): this f64\[3\] value differs between the examples/);
  });

  it("shape errors inside the mapped function show per-example shapes", () => {
    expect(msg(() => vmap((a: NDArray) => np.add(a, np.ones([4])))(X))).toMatch(/shapes \[3\] and \[4\]/);
    expect(msg(() => vmap((a: NDArray) => np.matmul(a, np.ones([4, 2])))(X))).toMatch(/^matmul: shapes \[3\] and \[4,2\] are not aligned/);
  });
});
