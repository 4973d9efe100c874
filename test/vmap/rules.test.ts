/**
 * Every primitive's batching rule against a per-example loop. Each case is a small
 * function through the np API (or the primitive's own binding where np has none) on
 * inputs of fixed shapes; fast-check draws the batch size, the values and a random
 * inAxes/outAxes (null, non-zero and negative axes), and every case also runs with
 * every input mapped. A last test checks that the cases together contain every
 * registered primitive.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Array as NDArray, checkpoint, customJvp, customVjp, grad, jit, lax, makeJaxpr, np, random, stopGradient, vmap } from "../../src/index.js";
import { allPrimitives } from "../../src/core/trace.js";
import { round } from "../../src/primitives/elementwise.js";
import { scatterAdd } from "../../src/primitives/indexing.js";
import { pad } from "../../src/primitives/shape.js";
import { matmulT } from "../../src/primitives/dot.js";
import { type SelectParams, selectAndGather, selectAndScatter } from "../../src/primitives/window.js";
import { seededRandom } from "../helpers/numeric.js";
import { type InputSpec, expectAgree, loopStack, makeBatch, unstack } from "../helpers/programs.js";

type F = (...xs: NDArray[]) => NDArray;
interface Case {
  name: string;
  inputs: InputSpec[];
  f: F;
}

const real = (...shape: number[]): InputSpec => ({ shape, dtype: "float64", lo: -2, hi: 2 });
const pos = (...shape: number[]): InputSpec => ({ shape, dtype: "float64", lo: 0.3, hi: 2.5 });
const unit = (...shape: number[]): InputSpec => ({ shape, dtype: "float64", lo: -0.9, hi: 0.9 });
/** int32 indices valid for an axis of length n (negative ones included). */
const idx = (n: number, ...shape: number[]): InputSpec => ({ shape, dtype: "int32", lo: -n, hi: n - 1 });
/** A PRNG key: two int32 words. */
const key = (): InputSpec => ({ shape: [2], dtype: "int32", lo: -(2 ** 31), hi: 2 ** 31 - 1 });
const c = (name: string, inputs: InputSpec[], f: F): Case => ({ name, inputs, f });

/** A 2x2 max pool with strides (1, 2) over a [3, 4] operand. */
const POOL: SelectParams = {
  windowDimensions: [2, 2],
  windowStrides: [1, 2],
  padding: [
    [0, 0],
    [0, 0],
  ],
  baseDilation: [1, 1],
  windowDilation: [1, 1],
  select: "max",
};

const W = np.array(
  [
    [0.5, -1, 2, 1.5],
    [1, 0.25, -0.5, 3],
    [-2, 1, 1, 0.75],
  ],
  { dtype: "float64" },
);

const softplus: (x: NDArray) => NDArray = customJvp(
  (x: NDArray) => np.log1p(np.exp(x)),
  ([x]: NDArray[], [t]: NDArray[]) => [softplus(x!), np.multiply(t!, np.sigmoid(x!))],
);
const product = customVjp(
  (x: NDArray, y: NDArray) => np.multiply(x, y),
  (x: NDArray, y: NDArray) => [np.multiply(x, y), [x, y]],
  ([x, y]: NDArray[], g: NDArray) => [np.multiply(g, y!), np.sum(np.multiply(g, x!), { axis: 0 })],
);

const CASES: Case[] = [
  // calls of functions with custom rules
  c("custom_jvp_call", [real(2, 3)], (x) => softplus(x)),
  c("custom_vjp_call", [real(2, 3), real(3)], (x, y) => product(x, y)),
  // unary elementwise
  c("neg", [real(2, 3)], (x) => np.negative(x)),
  c("exp", [real(2, 3)], (x) => np.exp(x)),
  c("log", [pos(3, 2)], (x) => np.log(x)),
  c("log1p", [unit(4)], (x) => np.log1p(x)),
  c("expm1", [real(2, 2)], (x) => np.expm1(x)),
  c("sin", [real(3)], (x) => np.sin(x)),
  c("cos", [real(1, 3)], (x) => np.cos(x)),
  c("tan", [unit(2, 3)], (x) => np.tan(x)),
  c("tanh", [real(2, 1, 3)], (x) => np.tanh(x)),
  c("logistic", [real(3, 2)], (x) => np.sigmoid(x)),
  c("sqrt", [pos(2, 3)], (x) => np.sqrt(x)),
  c("rsqrt", [pos(3)], (x) => np.rsqrt(x)),
  c("abs", [real(2, 3)], (x) => np.abs(x)),
  c("sign", [real(2, 3)], (x) => np.sign(x)),
  c("floor", [real(2, 3)], (x) => np.floor(x)),
  c("ceil", [real(3, 2)], (x) => np.ceil(x)),
  c("round", [real(4)], (x) => round(np.multiply(x, 3))),
  c("integer_pow", [real(2, 3)], (x) => np.power(x, 3)),
  c("stop_gradient", [real(2, 3)], (x) => stopGradient(np.multiply(x, 2))),
  c("convert_element_type (float to int and back)", [real(2, 3)], (x) => np.multiply(np.multiply(x, 3).astype("int32"), 2)),
  c("convert_element_type (float64 to float32)", [real(3)], (x) => x.astype("float32")),
  c("scalar input", [real()], (x) => np.multiply(np.exp(x), 2)),
  // binary elementwise with broadcasting
  c("add", [real(2, 3), real(3)], (x, y) => np.add(x!, y!)),
  c("sub", [real(2, 1), real(1, 3)], (x, y) => np.subtract(x!, y!)),
  c("mul", [real(3), real(2, 2, 3)], (x, y) => np.multiply(x!, y!)),
  c("div", [real(2, 3), pos(2, 1)], (x, y) => np.divide(x!, y!)),
  c("pow", [pos(2, 3), real(3)], (x, y) => np.power(x!, y!)),
  c("max", [real(2, 3), real(2, 3)], (x, y) => np.maximum(x!, y!)),
  c("min", [real(3), real(2, 3)], (x, y) => np.minimum(x!, y!)),
  c("eq, ne", [real(2, 3), real(3)], (x, y) => np.logicalAnd(np.equal(np.floor(x!), np.floor(y!)), np.notEqual(x!, y!))),
  c("lt, le", [real(2, 3), real(2, 1)], (x, y) => np.logicalOr(np.less(x!, y!), np.lessEqual(x!, 0))),
  c("gt, ge, not", [real(3), real(2, 3)], (x, y) => np.logicalNot(np.logicalAnd(np.greater(x!, y!), np.greaterEqual(y!, -1)))),
  c("select (where) with broadcasting", [real(2, 3), real(3), real(2, 1)], (p, x, y) => np.where(np.greater(p!, 0), x!, y!)),
  c("where with a scalar branch", [real(3, 2), real(3, 2)], (p, x) => np.where(np.less(p!, x!), x!, 0.5)),
  // shapes
  c("broadcast_to", [real(3, 1)], (x) => np.broadcastTo(x, [2, 3, 4])),
  c("broadcast_to (new leading axes only)", [real(3)], (x) => np.broadcastTo(x, [2, 3])),
  c("reshape", [real(2, 3)], (x) => np.reshape(x, [3, 2])),
  c("reshape with -1 to rank 3", [real(4, 3)], (x) => np.reshape(x, [2, -1, 3])),
  c("transpose", [real(2, 3, 2)], (x) => np.transpose(x, [2, 0, 1])),
  c("transpose (default reverses)", [real(2, 3)], (x) => np.transpose(x)),
  c("slice", [real(3, 4)], (x) => np.slice(x, [1, 0], [3, -1])),
  c("pad", [real(2, 3)], (x) => pad(x, [1, 0], [0, 2])),
  c("concatenate, mixed batched/unbatched", [real(2, 3), real(1, 3), real(2, 3)], (a, b, d) => np.concatenate([a!, b!, d!], 0)),
  c("concatenate along the last axis", [real(2, 1), real(2, 3)], (a, b) => np.concatenate([a!, b!], -1)),
  c("stack", [real(3), real(3)], (a, b) => np.stack([a!, b!], 1)),
  c("squeeze / expandDims", [real(3, 1)], (x) => np.expandDims(np.squeeze(x, 1), 0)),
  // reductions
  c("reduce_sum over all axes", [real(2, 3)], (x) => np.sum(x)),
  c("reduce_sum, axes and keepdims", [real(2, 3, 2)], (x) => np.sum(x, { axis: [0, 2], keepdims: true })),
  c("reduce_max", [real(3, 4)], (x) => np.max(x, { axis: 1 })),
  c("reduce_min with keepdims", [real(3, 4)], (x) => np.min(x, { axis: -1, keepdims: true })),
  c("mean, negative axis", [real(2, 3, 2)], (x) => np.mean(x, { axis: -2 })),
  c("prod", [real(2, 3)], (x) => np.prod(x, { axis: 0 })),
  c("logSumExp", [real(3, 2)], (x) => np.logSumExp(x, { axis: 1, keepdims: true })),
  c("argmax along an axis", [real(3, 4)], (x) => np.argmax(x, { axis: 1 })),
  c("argmax flattened, keepdims", [real(2, 3)], (x) => np.argmax(x, { keepdims: true })),
  c("argmin", [real(3, 4)], (x) => np.argmin(x, { axis: 0 })),
  // matmul: batch broadcasting and 1-d operands
  c("matmul", [real(2, 3), real(3, 4)], (a, b) => np.matmul(a!, b!)),
  c("matmul, stack times matrix", [real(2, 2, 3), real(3, 4)], (a, b) => np.matmul(a!, b!)),
  c("matmul, batch broadcasting [1,2,3] @ [2,3,2]", [real(1, 2, 3), real(2, 3, 2)], (a, b) => np.matmul(a!, b!)),
  c("matmul, vector @ stack", [real(3), real(2, 3, 2)], (a, b) => np.matmul(a!, b!)),
  c("matmul, matrix @ vector", [real(2, 3), real(3)], (a, b) => np.matmul(a!, b!)),
  c("matmul_t, aᵀ·b", [real(3, 2), real(3, 4)], (a, b) => matmulT(a!, b!, true, false)),
  c("matmul_t, a·bᵀ with batch broadcasting", [real(2, 2, 3), real(4, 3)], (a, b) => matmulT(a!, b!, false, true)),
  c("matmul_t, aᵀ·bᵀ", [real(3, 2), real(4, 3)], (a, b) => matmulT(a!, b!, true, true)),
  // convolutions and windows
  c("conv_general_dilated", [real(2, 3, 5), real(4, 3, 2)], (x, w) => lax.conv(x!, w!, [2], "SAME")),
  c("conv_general_dilated, NHWC, feature groups", [real(1, 5, 4, 4), real(2, 2, 2, 4)], (x, w) =>
    lax.convGeneralDilated(x!, w!, [1, 2], "VALID", { dimensionNumbers: ["NHWC", "HWIO", "NHWC"], featureGroupCount: 2 }),
  ),
  c("reduce_window_sum", [real(2, 5)], (x) => lax.reduceWindow(x, 0, "add", [1, 2], [1, 2], "SAME")),
  c("reduce_window_max", [real(3, 4)], (x) => lax.reduceWindow(x, -Infinity, "max", [2, 2], [1, 2], "VALID")),
  c("reduce_window_min", [real(4, 3)], (x) =>
    lax.reduceWindow(
      x,
      Infinity,
      "min",
      [3, 1],
      [1, 1],
      [
        [1, 1],
        [0, 0],
      ],
    ),
  ),
  c("select_and_gather_add", [real(3, 4), real(3, 4)], (t, x) => selectAndGather(t!, x!, POOL)),
  c("select_and_scatter_add", [real(2, 2), real(3, 4)], (s, x) => selectAndScatter(s!, x!, POOL)),
  // linear algebra (matrices made well conditioned inside the function)
  c("cholesky", [real(3, 3)], (x) => np.linalg.cholesky(np.add(np.matmul(x, x.T), np.multiply(np.eye(3, x.dtype), 3)))),
  c("triangular_solve", [real(3, 3), real(3, 2)], (a, b) =>
    np.linalg.solveTriangular(np.add(a!, np.multiply(np.eye(3, a!.dtype), 5)), b!, { lower: true, transA: true }),
  ),
  c("triangular_solve, vector b", [real(3, 3), real(3)], (a, b) => np.linalg.solveTriangular(np.add(a!, np.multiply(np.eye(3, a!.dtype), 5)), b!)),
  c("lu (det)", [real(3, 3)], (x) => np.linalg.det(np.add(x, np.multiply(np.eye(3, x.dtype), 5)))),
  c("lu (solve)", [real(3, 3), real(3, 2)], (a, b) => np.linalg.solve(np.add(a!, np.multiply(np.eye(3, a!.dtype), 5)), b!)),
  c("qr", [real(4, 3)], (x) => np.linalg.qr(x)[1]),
  c("eigh", [real(3, 3)], (x) => np.linalg.eigh(x)[1]),
  c("svd", [real(4, 3)], (x) => np.linalg.svd(x, { fullMatrices: false })[1]),
  c("dot of vectors", [real(3), real(3)], (a, b) => np.dot(a!, b!)),
  // indexing
  c("take, batched indices", [real(3, 4), idx(3, 2)], (x, i) => np.take(x!, i!, 0)),
  c("take along axis 1, 2-d indices", [real(3, 4), idx(4, 2, 2)], (x, i) => np.take(x!, i!, 1)),
  c("take flattened, scalar index", [real(2, 3), idx(6)], (x, i) => np.take(x!, i!)),
  c("take, constant indices", [real(4, 2)], (x) => np.take(x, [3, -1, 0], 0)),
  c("scatter_add (direct), batched updates and indices", [real(2, 3), idx(4, 2)], (u, i) => scatterAdd(u!, i!, 0, [4, 3])),
  c("scatter_add via grad of take", [real(3, 4), idx(4, 3)], (x, i) =>
    grad((z: NDArray) => np.sum(np.multiply(np.take(z, i!, 1), np.take(W, [0, 1, 2], 1))))(x!),
  ),
  // general gather / scatter / rev (x.at, takeAlongAxis, dynamic slices)
  c("gather: at().get with an index array and a reversed slice", [real(3, 4), idx(3, 2)], (x, i) => x!.at(i!, "::-1").get()),
  c("gather: two index arrays broadcast, after a slice", [real(2, 3, 4), idx(3, 2), idx(4, 1)], (x, i, j) => x!.at(":", i!, j!).get()),
  c("gather: takeAlongAxis", [real(3, 4), idx(4, 3, 2)], (x, i) => np.takeAlongAxis(x!, i!, 1)),
  c("scatter-add: at().add with duplicates", [real(4), idx(4, 3), real(3)], (x, i, u) => x!.at(i!).add(u!)),
  c("scatter-set: at().set of a row", [real(3, 4), real(4)], (x, u) => x!.at(1).set(u!)),
  c("scatter-mul: at().multiply", [real(4), idx(4, 3), real(3)], (x, i, u) => x!.at(i!).multiply(u!)),
  c("scatter-min: at().min", [real(4, 2), idx(4, 3), real(3, 2)], (x, i, u) => x!.at(i!).min(u!)),
  c("scatter-max: at().max", [real(4, 2), idx(4, 3), real(2)], (x, i, u) => x!.at(i!).max(u!)),
  c("rev: flip via a negative step", [real(2, 3)], (x) => x!.at("::-1", "::-2").get()),
  c("dynamicSlice with a traced start", [real(5, 3), idx(5)], (x, s) => lax.dynamicSlice(x!, [s!, 1], [2, 2])),
  c("dynamicUpdateSlice with a traced start", [real(5, 3), real(2, 3), idx(5)], (x, u, s) => lax.dynamicUpdateSlice(x!, u!, [s!, 0])),
  // sorting and cumulative reductions
  c("sort along the last axis", [real(3, 4)], (x) => np.sort(x!)),
  c("argsort along axis 0", [real(3, 4)], (x) => np.argsort(x!, { axis: 0 })),
  c("cumsum, reversed by flips", [real(3, 4)], (x) => np.cumsum(x!, { axis: 1 })),
  c("cumprod", [real(3, 4)], (x) => np.cumprod(x!, { axis: 0 })),
  c("cummax", [real(4, 2)], (x) => np.cummax(x!)),
  c("cummin", [real(2, 4)], (x) => np.cummin(x!, { axis: 1 })),
  // more elementwise math
  c("asin", [unit(2, 3)], (x) => np.arcsin(x!)),
  c("acos", [unit(3)], (x) => np.arccos(x!)),
  c("atan", [real(3)], (x) => np.arctan(x!)),
  c("sinh", [real(3)], (x) => np.sinh(x!)),
  c("cosh", [real(3)], (x) => np.cosh(x!)),
  c("asinh", [real(3)], (x) => np.arcsinh(x!)),
  c("acosh", [{ shape: [3], dtype: "float64", lo: 1.1, hi: 3 }], (x) => np.arccosh(x!)),
  c("atanh", [unit(3)], (x) => np.arctanh(x!)),
  c("log2", [pos(3)], (x) => np.log2(x!)),
  c("log10", [pos(3)], (x) => np.log10(x!)),
  c("exp2", [real(3)], (x) => np.exp2(x!)),
  c("erf", [real(3)], (x) => np.erf(x!)),
  c("erfc", [real(3)], (x) => np.erfc(x!)),
  c("erf_inv", [unit(3)], (x) => np.erfinv(x!)),
  c("lgamma", [pos(3)], (x) => np.lgamma(x!)),
  c("digamma", [pos(3)], (x) => np.digamma(x!)),
  c("polygamma via the derivative of digamma", [pos(3)], (x) => grad((z: NDArray) => np.sum(np.digamma(z)))(x!)),
  c("atan2", [real(2, 3), real(3)], (y, x) => np.arctan2(y!, x!)),
  c("hypot", [real(2, 3), real(3)], (x, y) => np.hypot(x!, y!)),
  c("mod", [real(2, 3), pos(3)], (x, y) => np.mod(x!, y!)),
  // random bits from (batched) keys: every example gets the words of its own key
  c("random_bits", [key()], (k) => random.bits(k!, [3])),
  c("random_fold_in", [key(), idx(1000, 2)], (k, d) => random.bits(random.foldIn(k!, d!), [2])),
  c("random_permutation", [key()], (k) => random.permutation(k!, 4)),
  c("bits_to_unit (float32 and float64)", [key()], (k) => np.add(random.uniform(k!, [2]), random.normal(k!, [2], "float64"))),
  // the jit primitive
  c("pjit", [real(2, 3), real(3)], (a, b) => jit((u: NDArray, v: NDArray) => np.sum(np.multiply(np.sin(u), v), { axis: 1 }))(a!, b!)),
  // structured control flow (test/control/ has the thorough tests)
  c("cond", [real(3), real(3)], (a, b) =>
    lax.cond(
      np.greater(np.sum(a!), 0),
      (u: NDArray) => np.sin(u),
      (u: NDArray) => np.multiply(u, b!),
      a!,
    ),
  ),
  c("scan", [real(4, 2), real(2)], (xs, h) => lax.scan((c: NDArray, x: NDArray) => [np.tanh(np.add(np.multiply(c, h!), x)), np.sum(c)], h!, xs!)[1]),
  c("while", [unit(3)], (a) =>
    lax.whileLoop(
      (v: NDArray) => np.less(np.sum(np.abs(v)), 4),
      (v: NDArray) => np.add(np.multiply(v, 2), 0.25),
      a!,
    ),
  ),
  c("checkpoint", [real(2, 3)], (a) => checkpoint((u: NDArray) => np.sin(np.exp(u)))(a!)),
  c("pjit closing over a batched value", [real(3), real(3)], (a, b) => jit((u: NDArray) => np.multiply(u, a!))(np.exp(b!))),
];

/** An axis or null from a gene (about one in three null). */
function axisFrom(g: number, r: number, allowNull: boolean): number | null {
  if (allowNull && g % 3 === 0) return null;
  return ((g >> 2) % (2 * r + 2)) - (r + 1);
}

function check(cs: Case, size: number, inAxes: (number | null)[], outAxes: number, seed: number, tol = 1e-12): void {
  const b = makeBatch(cs, seededRandom(seed), size, inAxes);
  const got = vmap(cs.f, { inAxes, outAxes })(...b.batched) as NDArray;
  const what = `${cs.name}: inAxes ${JSON.stringify(inAxes)} outAxes ${outAxes} size ${size}`;
  const want = loopStack(cs.f, b.perExample, outAxes);
  expect(got.shape, what).toEqual(want.shape);
  expect(got.dtype, what).toBe(want.dtype);
  expectAgree(got, want, tol, what);
  unstack(got, outAxes, size).forEach((s, i) => expectAgree(s, cs.f(...b.perExample[i]!), tol, `${what}, example ${i}`));
}

describe("batching rules against per-example loops", () => {
  for (const cs of CASES) {
    it(cs.name, () => {
      const outRank = cs.f(
        ...makeBatch(
          cs,
          seededRandom(1),
          1,
          cs.inputs.map(() => null),
        ).perExample[0]!,
      ).ndim;
      // every input mapped at axis 0, and at the last axis
      check(
        cs,
        3,
        cs.inputs.map(() => 0),
        0,
        11,
      );
      check(
        cs,
        2,
        cs.inputs.map(() => -1),
        -1,
        12,
      );
      fc.assert(
        fc.property(
          fc.integer({ min: 1, max: 3 }),
          fc.array(fc.nat({ max: 1 << 10 }), { minLength: 3, maxLength: 3 }),
          fc.nat({ max: 1 << 10 }),
          fc.nat({ max: 1 << 20 }),
          (size, genes, og, seed) => {
            const inAxes: (number | null)[] = cs.inputs.map((s, k) => axisFrom(genes[k]!, s.shape.length, true));
            if (!inAxes.some((a) => a !== null)) inAxes[genes[0]! % inAxes.length] = 0;
            check(cs, size, inAxes, axisFrom(og, outRank, false)!, seed);
          },
        ),
        { numRuns: 12 },
      );
    });
  }

  it("float32 inputs: each rule agrees with the loop to float32 tolerance", () => {
    for (const cs of CASES) {
      const cs32: Case = { ...cs, inputs: cs.inputs.map((s) => (s.dtype === "float64" ? { ...s, dtype: "float32" } : s)) };
      check(
        cs32,
        2,
        cs.inputs.map((_, k) => (k === 0 ? 0 : cs.inputs[k]!.shape.length > 0 ? 1 : null)),
        0,
        5,
        1e-6,
      );
    }
  });

  it("the cases exercise every primitive that has a batching rule", () => {
    const seen = new Set<string>();
    for (const cs of CASES) {
      const ex = makeBatch(
        cs,
        seededRandom(1),
        1,
        cs.inputs.map(() => null),
      ).perExample[0]!;
      for (const e of makeJaxpr(cs.f)(...ex).jaxpr.eqns) seen.add(e.primitive.name);
    }
    // rules that only throw: "fused" is a backend kernel that exists only in optimized
    // jaxprs; custom_vjp_lin is customVjp's forward mode, which is unsupported (as in JAX)
    const errorOnly = new Set(["fused", "custom_vjp_lin"]);
    const missing = allPrimitives()
      .filter((p) => p.batch && !errorOnly.has(p.name))
      .map((p) => p.name)
      .filter((n) => !seen.has(n));
    expect(missing).toEqual([]);
  });
});
