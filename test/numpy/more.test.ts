/**
 * The "more of np" functions: values against NumPy / mpmath (fixtures from
 * scripts/fixtures_numpy.py), special functions to a few float64 ulps, derivatives
 * against float64 finite differences, jit == eager and vmap == loop properties, and
 * the errors for bad arguments.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Array as NDArray, checkGrads, grad, jit, lax, makeJaxpr, np, vmap } from "../../src/index.js";
import { polygamma } from "../../src/primitives/special.js";
import { loadFixture } from "./fixtures.js";
import { expectArray } from "./util.js";

const FIX = loadFixture("numpy_more.json");
const f64 = (v: unknown): NDArray => np.array(v as number[], { dtype: "float64" });

/** Distance in units of the last place of `want` (float64). */
function ulps(got: number, want: number): number {
  if (got === want || (Number.isNaN(got) && Number.isNaN(want))) return 0;
  return Math.abs(got - want) / Math.max(Math.abs(want) * 2 ** -52, 2 ** -1074);
}

describe("special functions to a few ulps in float64 (mpmath references)", () => {
  const S = FIX.special;
  const cases: [string, (x: NDArray) => NDArray, string, number][] = [
    ["erf", np.erf, "x", 4],
    ["erfc", np.erfc, "x", 10],
    ["erfinv", np.erfinv, "y", 4],
    ["lgamma", np.lgamma, "g", 10],
    ["digamma", np.digamma, "g", 16],
  ];
  for (const [name, f, xs, maxUlps] of cases) {
    it(`${name}: at most ${maxUlps} ulps, and within 1e-13 of SciPy`, () => {
      const got = Array.from(f(f64(S[xs])).data());
      const want = S[name] as number[];
      const scipy = S[`scipy_${name}`] as number[];
      const bad: string[] = [];
      got.forEach((g, i) => {
        if (ulps(g, want[i]!) > maxUlps) bad.push(`${name}(${S[xs][i]}) = ${g}, want ${want[i]} (${ulps(g, want[i]!).toFixed(1)} ulps)`);
        if (Math.abs(g - scipy[i]!) > 1e-13 * (1 + Math.abs(scipy[i]!)) && Number.isFinite(scipy[i]!))
          bad.push(`${name}(${S[xs][i]}) = ${g}, SciPy ${scipy[i]}`);
      });
      expect(bad).toEqual([]);
    });
  }
  it("edge values: erfinv(±1) = ±Infinity, lgamma at poles = Infinity, digamma at poles = NaN", () => {
    expectArray(np.erfinv(f64([1, -1, 0])), [Infinity, -Infinity, 0]);
    expectArray(np.lgamma(f64([0, -2, 1, 2])), [Infinity, Infinity, 0, 0]);
    expectArray(np.digamma(f64([0, -3])), [NaN, NaN]);
    expectArray(np.erfc(f64([-Infinity, Infinity, 30])), [2, 0, 0]);
  });
  it("polygamma (digamma's derivatives) far left of 0 reflects instead of stepping |x| times: finite time, mpmath's values", () => {
    // mpmath 1.3, mp.dps = 40: mp.polygamma(n, mp.mpf(x))
    const want: [number, number, number][] = [
      [1, -150.3, 15.072782427367692],
      [1, -100.5, 9.8597034918700862],
      [1, -99.7, 15.069433745714621],
      [1, -1e8 + 0.25, 19.739208792178717],
      [1, -12345.75, 19.739127805924838],
      [2, -150.3, 68.837499740882355],
      [2, -100.5, -9.8027202627197571e-5],
      [2, -12345.75, -124.02510672775967],
      [3, -150.3, 769.02091375027887],
      [3, -100.5, 194.81818012691972],
      [3, -12345.75, 1558.5454565440379],
    ];
    for (const [n, x, v] of want) {
      const got = polygamma(n, f64([x])).data()[0]!;
      expect(Math.abs(got - v), `polygamma(${n}, ${x}) = ${got}, want ${v}`).toBeLessThan(1e-12 + 1e-11 * Math.abs(v));
    }
    // where the recurrence would need 2^52 steps: ψ'(-N + 1/2) = π² - ψ'(N + 1/2) = π² - 1/N + O(1/N²)
    const N = 2 ** 52 - 1;
    expect(polygamma(1, f64([-N + 0.5])).data()[0]).toBeCloseTo(Math.PI ** 2, 12);
    // and digamma's gradient is polygamma(1, x) there too
    expect(grad((z: NDArray) => np.sum(np.digamma(z)))(f64([-1e8 + 0.25])).data()[0]).toBeCloseTo(19.739208792178717, 8);
  });
  it("float32 inputs stay float32 and agree with the float64 values to float32 precision", () => {
    const x = np.array([0.3, 1.7, 4.2]);
    for (const f of [np.erf, np.erfc, np.lgamma, np.digamma]) {
      const y = f(x);
      expect(y.dtype).toBe("float32");
      expectArray(y, f(x.astype("float64")).toJs(), { tol: 2e-7 });
    }
  });
});

describe("elementwise functions against NumPy", () => {
  const E = FIX.elementwise;
  const cases: [string, () => NDArray][] = [
    ["arcsin", () => np.arcsin(f64(E.u))],
    ["arccos", () => np.arccos(f64(E.u))],
    ["arctan", () => np.arctan(f64(E.r))],
    ["arctanh", () => np.arctanh(f64(E.u))],
    ["sinh", () => np.sinh(f64(E.r))],
    ["cosh", () => np.cosh(f64(E.r))],
    ["arcsinh", () => np.arcsinh(f64(E.r))],
    ["arccosh", () => np.arccosh(f64(E.big))],
    ["log2", () => np.log2(f64(E.p))],
    ["log10", () => np.log10(f64(E.p))],
    ["exp2", () => np.exp2(f64(E.r))],
    ["arctan2", () => np.arctan2(f64(E.r), f64(E.u))],
    ["hypot", () => np.hypot(f64(E.r), f64(E.u))],
    ["mod", () => np.mod(f64(E.r), np.where(np.greater(f64(E.u), 0), f64(E.p), np.negative(f64(E.p))))],
    ["logaddexp", () => np.logaddexp(f64(E.r), np.multiply(f64(E.u), 3))],
    ["floor", () => np.floor(f64(E.r))],
    ["ceil", () => np.ceil(f64(E.r))],
    ["round", () => np.round(f64(E.s))],
    ["round2", () => np.round(f64(E.r), { decimals: 2 })],
    ["round_neg", () => np.round(np.multiply(f64(E.r), 100), { decimals: -1 })],
  ];
  for (const [name, f] of cases) it(name, () => expectArray(f(), E[name], { tol: 1e-14 }));
  it("mod of int32 follows the divisor's sign; isnan/isinf/isfinite/nanToNum", () => {
    expect(np.mod(np.array([7, -7, 7], { dtype: "int32" }), np.array([3, 3, -3], { dtype: "int32" })).toJs()).toEqual([1, 2, -2]);
    expectArray(np.isnan(f64(FIX.arrays.ties)), FIX.arrays.isnan);
    expect(np.isinf(np.array([1, Infinity, -Infinity, NaN])).toJs()).toEqual([false, true, true, false]);
    expect(np.isfinite(np.array([1, Infinity, NaN], { dtype: "float64" })).toJs()).toEqual([true, false, false]);
    expectArray(np.nanToNum(f64([NaN, Infinity, -Infinity, 1.5])), FIX.arrays.nan_to_num);
    expect(np.allclose(f64(FIX.arrays.x), np.add(f64(FIX.arrays.x), 1e-9)).item()).toBe(1);
    expect(np.allclose(f64(FIX.arrays.x), np.add(f64(FIX.arrays.x), 1e-3)).item()).toBe(0);
    expect(np.allclose(f64(FIX.arrays.ties), f64(FIX.arrays.ties)).item()).toBe(0); // NaN is never close
    expect(np.allclose(np.array([1]), np.array([1])).shape).toEqual([]);
    expect(np.all(np.zeros([0])).item()).toBe(1);
    expect(np.any(np.zeros([0])).item()).toBe(0);
  });
});

describe("array functions against NumPy", () => {
  const A = FIX.arrays;
  const x = f64(A.x);
  const y = f64(A.y);
  const ties = f64(A.ties);
  const a = f64(A.a);
  const b = f64(A.b);
  const c = f64(A.c);
  const t3 = f64(A.t3);
  const cases: [string, () => NDArray, number?][] = [
    ["cumsum", () => np.cumsum(x)],
    ["cumsum1", () => np.cumsum(x, { axis: 1 })],
    ["cumprod0", () => np.cumprod(x, { axis: 0 })],
    ["cummax0", () => np.cummax(x)],
    ["cummin1", () => np.cummin(x, { axis: -1 })],
    ["sort", () => np.sort(ties)],
    ["sort0", () => np.sort(ties, { axis: 0 })],
    ["argsort", () => np.argsort(ties)],
    ["sortflat", () => np.sort(x, { axis: null })],
    ["flip", () => np.flip(y)],
    ["flip1", () => np.flip(y, { axis: 1 })],
    ["roll", () => np.roll(x, 3)],
    ["roll_axes", () => np.roll(y, [1, -2], { axis: [0, 2] })],
    [
      "pad_const",
      () =>
        np.pad(
          x,
          [
            [1, 0],
            [2, 1],
          ],
          { constantValues: 7 },
        ),
    ],
    ["pad_edge", () => np.pad(x, 2, { mode: "edge" })],
    [
      "pad_reflect",
      () =>
        np.pad(
          x,
          [
            [2, 3],
            [3, 1],
          ],
          { mode: "reflect" },
        ),
    ],
    [
      "pad_symmetric",
      () =>
        np.pad(
          x,
          [
            [2, 3],
            [5, 1],
          ],
          { mode: "symmetric" },
        ),
    ],
    [
      "pad_wrap",
      () =>
        np.pad(
          x,
          [
            [4, 1],
            [1, 6],
          ],
          { mode: "wrap" },
        ),
    ],
    ["tile", () => np.tile(a, [2, 1, 3])],
    ["repeat", () => np.repeat(a, 2)],
    ["repeat_axis", () => np.repeat(a, [1, 0, 3], { axis: 1 })],
    ["triu", () => np.triu(y, { k: 1 })],
    ["tril", () => np.tril(x, { k: -1 })],
    ["diag_v", () => np.diag(f64([1, 2, 3]), { k: -1 })],
    ["diag_m", () => np.diag(x, { k: 1 })],
    ["diagonal", () => np.diagonal(t3, { offset: 1, axis1: 1, axis2: 2 })],
    ["diagonal02", () => np.diagonal(t3, { axis1: 0, axis2: 2 })],
    ["trace", () => np.trace(x)],
    ["trace3", () => np.trace(t3, { offset: -1, axis1: 1, axis2: 2 })],
    ["einsum_chain", () => np.einsum("ij,jk,kl->il", a, b, c)],
    ["einsum_batch", () => np.einsum("bij,bjk->bik", np.slice(np.transpose(t3, [0, 2, 1]), [0, 0, 0], [2, 3, 3]), t3)],
    ["einsum_trace", () => np.einsum("ii", np.slice(x, [0, 0], [3, 3]))],
    ["einsum_outer", () => np.einsum("i,j->ij", a.at(0).get(), c.at(":", 0).get())],
    ["einsum_sum", () => np.einsum("ijk->j", t3)],
    ["einsum_implicit", () => np.einsum("ij,jk", a, b)],
    ["einsum_diag", () => np.einsum("ii->i", np.slice(x, [0, 0], [3, 3]))],
    ["einsum_mixed", () => np.einsum("bij,jk,bk->bi", t3, c, t3.at(":", 0, ":2").get())],
    ["einsum_ell", () => np.einsum("...ij,jk->...ik", t3, c)],
    ["einsum_ell_bcast", () => np.einsum("...j,...j", a.at(null, ":1", ":").get(), t3.at(":", ":", ":3").get())],
    ["einsum_ell_lead", () => np.einsum("i...,i...->...", a, a)],
    ["tensordot", () => np.tensordot(t3, b, { axes: [[1], [0]] })],
    ["tensordot2", () => np.tensordot(y, x, { axes: 2 })],
    ["inner", () => np.inner(x, y)],
    ["moveaxis", () => np.moveaxis(t3, [0, 1], [-1, 0])],
    ["swapaxes", () => np.swapaxes(t3, 0, 2)],
    ["take_along", () => np.takeAlongAxis(x, np.array(A.idx, { dtype: "int32" }), 1)],
  ];
  for (const [name, f] of cases) it(name, () => expectArray(f(), A[name], { tol: 1e-13 }));
  it("meshgrid (xy and ij)", () => {
    np.meshgrid(a.at(0).get(), c.at(":", 0).get()).forEach((m, i) => expectArray(m, A.meshgrid_xy[i]));
    np.meshgrid(a.at(0).get(), c.at(":", 0).get(), a.at(1).get(), { indexing: "ij" }).forEach((m, i) => expectArray(m, A.meshgrid_ij[i]));
  });
  it("einsum never forms the outer product of all operands: every intermediate is at most the largest operand or result", () => {
    const u = np.ones([50, 2]);
    const v = np.ones([2, 50]);
    const w = np.ones([50, 3]);
    const jaxpr = makeJaxpr((p: NDArray, q: NDArray, r: NDArray) => np.einsum("ij,jk,kl->il", p, q, r))(u, v, w);
    const biggest = Math.max(...jaxpr.jaxpr.eqns.flatMap((e) => e.outVars.map((o) => o.aval.size)));
    expect(biggest).toBeLessThanOrEqual(2500);
    expect(jaxpr.jaxpr.eqns.filter((e) => e.primitive.name === "matmul").length).toBe(2);
  });
});

describe("derivatives (float64 finite differences)", () => {
  const x = f64([
    [0.3, -1.2, 2.0, 0.7],
    [1.1, 0.45, -0.6, 1.9],
    [-0.8, 0.25, 1.4, -1.7],
  ]);
  const pos = f64([
    [0.3, 1.2, 2.0, 0.7],
    [1.1, 0.45, 3.6, 1.9],
    [4.8, 0.25, 1.4, 1.7],
  ]);
  const unit = f64([
    [0.3, -0.2, 0.5, 0.7],
    [0.1, 0.45, -0.6, 0.9],
    [-0.8, 0.25, 0.4, -0.7],
  ]);
  const cases: [string, (a: NDArray) => NDArray, NDArray][] = [
    ["cumsum", (a) => np.cumsum(a, { axis: 1 }), x],
    ["cumprod (with a zero)", (a) => np.cumprod(np.multiply(a, f64([1, 0, 1, 1])), { axis: 1 }), x],
    ["cummax", (a) => np.cummax(a), x],
    ["cummin", (a) => np.cummin(a, { axis: 1 }), x],
    ["sort", (a) => np.sort(a, { axis: 0 }), x],
    ["flip, roll, pad", (a) => np.pad(np.roll(np.flip(a, { axis: 0 }), 1, { axis: 1 }), 2, { mode: "reflect" }), x],
    ["tile, repeat", (a) => np.repeat(np.tile(a, [2, 1]), [1, 2, 0, 1], { axis: 1 }), x],
    ["triu, tril, diag, trace", (a) => np.add(np.sum(np.triu(a, { k: 1 })), np.add(np.trace(np.tril(a)), np.sum(np.diag(np.diagonal(a))))), x],
    [
      "einsum, tensordot, inner",
      (a) => np.add(np.sum(np.einsum("ij,kj,ik->i", a, a, np.slice(a, [0, 0], [3, 3]))), np.add(np.tensordot(a, a, { axes: 2 }), np.sum(np.inner(a, a)))),
      x,
    ],
    ["inverse trig and hyperbolic", (a) => np.add(np.add(np.arcsin(a), np.arccos(a)), np.add(np.arctan(a), np.arctanh(a))), unit],
    ["sinh, cosh, asinh, acosh", (a) => np.add(np.add(np.sinh(a), np.cosh(a)), np.add(np.arcsinh(a), np.arccosh(np.add(a, 2)))), unit],
    ["erf, erfc, erfinv", (a) => np.add(np.add(np.erf(a), np.erfc(a)), np.erfinv(a)), unit],
    ["lgamma, digamma", (a) => np.add(np.lgamma(a), np.digamma(a)), pos],
    ["log2, log10, exp2", (a) => np.add(np.add(np.log2(a), np.log10(a)), np.exp2(a)), pos],
    [
      "arctan2, hypot, mod, logaddexp",
      (a) => np.add(np.add(np.arctan2(a, np.flip(a)), np.hypot(a, 0.5)), np.add(np.mod(a, 0.65), np.logaddexp(a, np.flip(a)))),
      x,
    ],
    ["nanToNum", (a) => np.nanToNum(np.log(a)), pos],
  ];
  for (const [name, f, arg] of cases) {
    it(name, () => {
      checkGrads(f, [arg], { order: name.startsWith("lgamma") ? 2 : 2, modes: ["fwd", "rev"] });
    });
  }
  it("lax cumulative reductions with reverse: values against flipped NumPy results, derivatives by finite differences", () => {
    const A = FIX.arrays;
    const flip1 = (v: NDArray): NDArray => np.flip(v, { axis: 1 });
    expectArray(lax.cumsum(x, { axis: 1, reverse: true }), flip1(np.cumsum(flip1(x), { axis: 1 })).toJs());
    expectArray(lax.cummin(f64(A.x), { axis: 1 }), A.cummin1, { tol: 1e-13 });
    for (const op of [lax.cumsum, lax.cumprod, lax.cummax, lax.cummin]) checkGrads((a: NDArray) => op(a, { axis: -1, reverse: true }), [x], { order: 2 });
    expect(() => lax.cumsum(x, { reverse: 1 } as never)).toThrow(/reverse must be a boolean/);
  });
  it("piecewise-constant functions have zero derivative", () => {
    for (const f of [np.floor, np.ceil, (a: NDArray) => np.round(a, { decimals: 1 })])
      expectArray(grad((a: NDArray) => np.sum(f(a)))(x), np.zeros([3, 4]).toJs());
  });
  it("sort's derivative permutes the cotangent; cumsum's is the reversed cumsum", () => {
    const v = f64([3, 1, 2]);
    expectArray(grad((a: NDArray) => np.sum(np.multiply(np.sort(a), f64([10, 20, 30]))))(v), [30, 10, 20]);
    expectArray(grad((a: NDArray) => np.sum(np.multiply(np.cumsum(a), f64([1, 2, 3]))))(v), [6, 5, 3]);
  });
});

describe("properties: jit == eager, vmap == loop over random shapes and axes", () => {
  const fns: [string, (a: NDArray, axis: number) => NDArray][] = [
    ["cumsum", (a, axis) => np.cumsum(a, { axis })],
    ["cumprod", (a, axis) => np.cumprod(a, { axis })],
    ["cummax", (a, axis) => np.cummax(a, { axis })],
    ["sort", (a, axis) => np.sort(a, { axis })],
    ["argsort", (a, axis) => np.argsort(a, { axis })],
    ["flip", (a, axis) => np.flip(a, { axis })],
    ["roll", (a, axis) => np.roll(a, axis - 2, { axis })],
    ["repeat", (a, axis) => np.repeat(a, 2, { axis })],
    ["pad", (a, axis) => np.pad(np.swapaxes(a, 0, axis), 1, { mode: "symmetric" })],
    ["erf+lgamma", (a) => np.add(np.erf(a), np.lgamma(np.abs(a)))],
  ];
  it("each function agrees with itself under jit and with a per-example loop under vmap", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 }),
        fc.integer({ min: 1, max: 3 }),
        fc.nat(),
        fc.nat(),
        (shape, B, axisGene, seed) => {
          const size = shape.reduce((p, d) => p * d, 1);
          const xs = np
            .array(
              Array.from({ length: B * size }, (_, i) => Math.round(Math.sin(i * 1.3 + seed) * 8) / 4 + 0.1),
              { dtype: "float64" },
            )
            .reshape([B, ...shape]);
          const axis = (axisGene % (2 * shape.length)) - shape.length;
          for (const [name, f] of fns) {
            const g = (a: NDArray): NDArray => f(a, axis);
            const x0 = xs.at(0).get();
            expectArray(jit(g)(x0), g(x0).toJs(), { tol: 1e-12 });
            const v = vmap(g)(xs);
            for (let b = 0; b < B; b++) expect(v.at(b).get().toJs(), `${name} example ${b}`).toEqual(g(xs.at(b).get()).toJs());
          }
        },
      ),
      { numRuns: 25 },
    );
  });
});

describe("bad arguments", () => {
  it("einsum subscripts that do not match an operand name the operand and both ranks", () => {
    expect(() => np.einsum("ij,jk->ik", np.zeros([2, 3]), np.zeros([3, 4, 5]))).toThrow(/operand 1 has rank 3 .* subscripts "jk" have rank 2/);
    expect(() => np.einsum("ij,jk", np.zeros([2, 3]))).toThrow(/name 2 operand\(s\) but 1 were given/);
    expect(() => np.einsum("ij,jk", np.zeros([2, 3]), np.zeros([4, 2]))).toThrow(/index j has length 3 .* 4 in operand 1/);
    expect(() => np.einsum("ij->iz", np.zeros([2, 3]))).toThrow(/output index z/);
  });
  it("options are validated", () => {
    expect(() => np.cumsum(np.zeros([2]), { axes: 0 } as never)).toThrow(/unknown option `axes` \(did you mean `axis`\?\)/);
    expect(() => np.pad(np.zeros([2]), 1, { mode: "mirror" as never })).toThrow(/unknown mode "mirror"/);
    expect(() => np.pad(np.zeros([2]), [[1, 2, 3]])).toThrow(/padWidth/);
    expect(() => np.round(np.zeros([2]), { decimal: 1 } as never)).toThrow(/did you mean `decimals`/);
    expect(() => np.sort(np.zeros([2, 2]), { axis: 2 })).toThrow(/axis 2 is out of bounds/);
    expect(() => np.tensordot(np.zeros([2, 3]), np.zeros([2, 3]), { axes: 1 })).toThrow(/axis 1 of a .* does not match axis 0 of b/);
    expect(() => np.meshgrid(np.zeros([2]), { indexing: "yx" as never })).toThrow(/indexing must be "xy" or "ij"/);
  });
});
