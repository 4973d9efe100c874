/**
 * Parity of exported models with cotangent: every primitive with an ONNX row is
 * exported, run in ONNX Runtime (CPU) and compared with `jit(f)` — float32 to 1e-5
 * relative, float64 to 1e-12, integers and bools exactly.
 */
import { describe, expect, it } from "vitest";
import { type Array as NDArray, lax, makeJaxpr, np, random } from "../../src/index.js";
import { allPrimitives, bind1 } from "../../src/core/trace.js";
import type { ClosedJaxpr, Jaxpr } from "../../src/ir/jaxpr.js";
import { onnxRules } from "../../src/export/onnx_ops.js";
import * as E from "../../src/primitives/elementwise.js";
import * as S from "../../src/primitives/shape.js";
import * as D from "../../src/primitives/dot.js";
import * as I from "../../src/primitives/indexing.js";
import * as R from "../../src/primitives/reduce.js";
import { expectParity, rand } from "./ort.js";

interface Case {
  name: string;
  f: (...a: any[]) => unknown;
  args: unknown[];
}

const x34 = rand([3, 4], "float32", -2, 2, 1);
const y34 = rand([3, 4], "float32", -2, 2, 2);
const pos34 = rand([3, 4], "float32", 0.1, 3, 3);
const small = np.array([1e-7, -1e-6, 3e-4, -0.02, 0.3, -1.5, 4, 0]);
const i34 = rand([3, 4], "int32", -20, 20, 4);
const j34 = rand([3, 4], "int32", 1, 7, 5);
const b34 = rand([3, 4], "bool", 0, 1, 6);
const c34 = rand([3, 4], "bool", 0, 1, 7);
const x64 = rand([3, 4], "float64", -2, 2, 8);
const pos64 = rand([3, 4], "float64", 0.1, 3, 9);
const halves = np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 0.49999997, -0.7, 2.2, 3.5, -3.5, 0]);

const cases: Case[] = [
  // shapes
  { name: "broadcast_to", f: (x: NDArray) => np.broadcastTo(x, [2, 3, 4]), args: [rand([3, 1], "float32")] },
  { name: "reshape", f: (x: NDArray) => np.reshape(x, [2, 6]), args: [x34] },
  { name: "reshape to size 0", f: (x: NDArray) => np.reshape(x, [0, 5]), args: [np.zeros([5, 0])] },
  { name: "transpose", f: (x: NDArray) => np.transpose(x, [2, 0, 1]), args: [rand([2, 3, 4])] },
  { name: "slice", f: (x: NDArray) => np.slice(x, [1, 1], [3, 3]), args: [x34] },
  { name: "pad", f: (x: NDArray) => S.pad(x, [1, 0], [2, 3]), args: [x34] },
  { name: "pad int32", f: (x: NDArray) => S.pad(x, [0, 2], [1, 0]), args: [i34] },
  { name: "concatenate", f: (x: NDArray, y: NDArray) => np.concatenate([x, y, x], 1), args: [x34, y34] },
  // reductions
  { name: "reduce_sum", f: (x: NDArray) => [np.sum(x), np.sum(x, { axis: 1 }), R.reduceSum(x, [])], args: [x34] },
  { name: "reduce_sum int32", f: (x: NDArray) => np.sum(x, { axis: 0 }), args: [i34] },
  { name: "reduce_max / reduce_min", f: (x: NDArray) => [np.max(x, { axis: 0 }), np.min(x), np.max(x, { axis: [0, 1] })], args: [x34] },
  { name: "argmax / argmin", f: (x: NDArray) => [np.argmax(x, { axis: 1 }), np.argmin(x, { axis: 0 })], args: [x34] },
  // unary
  { name: "neg exp sin cos tan tanh", f: (x: NDArray) => [np.negative(x), np.exp(x), np.sin(x), np.cos(x), np.tan(x), np.tanh(x)], args: [x34] },
  { name: "log sqrt rsqrt", f: (x: NDArray) => [np.log(x), np.sqrt(x), np.rsqrt(x)], args: [pos34] },
  { name: "log1p expm1 (small arguments)", f: (x: NDArray) => [np.log1p(x), np.expm1(x)], args: [small] },
  { name: "logistic abs sign floor ceil", f: (x: NDArray) => [np.sigmoid(x), np.abs(x), np.sign(x), np.floor(x), np.ceil(x)], args: [x34] },
  { name: "abs sign neg int32", f: (x: NDArray) => [np.abs(x), np.sign(x), np.negative(x)], args: [i34] },
  { name: "round: half away from zero", f: (x: NDArray) => E.round(x), args: [halves] },
  { name: "not", f: (b: NDArray) => np.logicalNot(b), args: [b34] },
  { name: "stop_gradient", f: (x: NDArray) => E.stopGradientArray(x), args: [x34] },
  {
    name: "integer_pow",
    f: (x: NDArray) => [E.integerPow(x, 0), E.integerPow(x, 1), E.integerPow(x, 2), E.integerPow(x, 3), E.integerPow(x, -2)],
    args: [pos34],
  },
  {
    name: "integer_pow int32",
    f: (x: NDArray) => [
      E.integerPow(x, 2),
      E.integerPow(x, 3),
      E.integerPow(x, -1),
      bind1(E.integer_pow_p, [x], { y: -1 }),
      bind1(E.integer_pow_p, [x], { y: -2 }),
    ],
    args: [np.array([-3, -2, -1, 0, 1, 2, 5], { dtype: "int32" })],
  },
  {
    name: "convert_element_type",
    f: (x: NDArray, i: NDArray, b: NDArray) => [
      E.convert(x, "int32"),
      E.convert(x, "bool"),
      E.convert(x, "float64"),
      E.convert(i, "float32"),
      E.convert(b, "float32"),
      E.convert(i, "bool"),
    ],
    args: [np.multiply(x34, 3), i34, b34],
  },
  // binary
  { name: "add sub mul div", f: (x: NDArray, y: NDArray) => [np.add(x, y), np.subtract(x, 1), np.multiply(x, y), np.divide(x, y)], args: [x34, y34] },
  { name: "broadcasting", f: (x: NDArray, r: NDArray) => [np.add(x, r), np.multiply(r, x)], args: [x34, rand([4], "float32", -1, 1, 11)] },
  {
    name: "int32 arithmetic (division truncates)",
    f: (i: NDArray, j: NDArray) => [np.add(i, j), np.subtract(i, j), np.multiply(i, j), np.maximum(i, j), np.minimum(i, j)],
    args: [i34, j34],
  },
  {
    name: "int32 division: truncating, by zero gives 0, INT_MIN / -1 wraps",
    f: (x: NDArray, y: NDArray) => [bind1(E.div_p, [x, y]), bind1(E.div_p, [y, x])],
    args: [np.array([7, -7, 5, -2147483648, 0, 9, -9, 2147483647], { dtype: "int32" }), np.array([0, 0, -1, -1, 0, 2, 4, -1], { dtype: "int32" })],
  },
  { name: "pow", f: (x: NDArray, y: NDArray) => np.power(x, y), args: [pos34, y34] },
  {
    name: "NaN propagates as in cotangent (max, min, sign, reductions, argmax)",
    f: (x: NDArray, y: NDArray) => [
      np.maximum(x, y),
      np.minimum(x, y),
      np.sign(x),
      np.max(x),
      np.min(np.reshape(x, [5, 1]), { axis: 1 }),
      np.argmax(x),
      np.argmin(y),
    ],
    args: [np.array([NaN, 1, NaN, -1, 2]), np.array([1, NaN, NaN, 0, 3])],
  },
  { name: "max min", f: (x: NDArray, y: NDArray) => [np.maximum(x, y), np.minimum(x, 0)], args: [x34, y34] },
  {
    name: "comparisons",
    f: (x: NDArray, y: NDArray) => [
      np.equal(x, y),
      np.equal(x, x),
      np.notEqual(x, y),
      np.less(x, y),
      np.lessEqual(x, x),
      np.greater(x, y),
      np.greaterEqual(x, y),
    ],
    args: [x34, y34],
  },
  { name: "comparisons int32", f: (i: NDArray, j: NDArray) => [np.equal(i, j), np.less(i, j), np.greaterEqual(i, j)], args: [i34, j34] },
  { name: "and or", f: (a: NDArray, b: NDArray) => [np.logicalAnd(a, b), np.logicalOr(a, b)], args: [b34, c34] },
  { name: "select", f: (b: NDArray, x: NDArray, y: NDArray) => [np.where(b, x, y), np.where(b, x, 0)], args: [b34, x34, y34] },
  // products and indexing
  { name: "matmul", f: (a: NDArray, b: NDArray) => np.matmul(a, b), args: [rand([2, 3, 4], "float32", -1, 1, 12), rand([4, 5], "float32", -1, 1, 13)] },
  { name: "matmul int32", f: (a: NDArray, b: NDArray) => np.matmul(a, b), args: [rand([3, 4], "int32", -5, 5, 14), rand([4, 2], "int32", -5, 5, 15)] },
  {
    name: "matmul_t",
    f: (a: NDArray, b: NDArray) => [D.matmulT(a, b, false, true), D.matmulT(b, a, false, true), D.matmulT(a, a, true, false), D.matmulT(a, a, false, true)],
    args: [rand([4, 3]), rand([5, 3])],
  },
  {
    name: "take",
    f: (x: NDArray, i: NDArray) => [np.take(x, i, 1), np.take(x, i, 0)],
    args: [
      x34,
      np.array(
        [
          [0, -1],
          [2, 1],
        ],
        { dtype: "int32" },
      ),
    ],
  },
  {
    name: "scatter_add (repeated and negative indices)",
    f: (u: NDArray, i: NDArray) => [I.scatterAdd(u, i, 1, [3, 4, 2]), I.scatterAdd(np.reshape(u, [2, 2, 3, 2]), np.reshape(i, [2, 2]), 0, [4, 3, 2])],
    args: [rand([3, 4, 2]), np.array([0, -1, 3, 0], { dtype: "int32" })],
  },
  // control flow (more in control.test.ts): If, a tree of Ifs, Loop with a computed condition, Loop with Gather of the step
  {
    name: "cond, switch, while, scan",
    f: (p: NDArray, i: NDArray, x: NDArray) => [
      lax.cond(p, np.exp, np.negative, x),
      lax.switch(i, [np.sin, np.cos, np.tanh], x),
      lax.whileLoop(
        (v: NDArray) => np.less(np.sum(v), 100),
        (v: NDArray) => np.add(np.multiply(v, 2), 1),
        np.abs(x),
      ),
      lax.scan((c: NDArray, r: NDArray) => [np.add(c, r), np.multiply(c, r)], np.zeros([4]), x, { reverse: true }),
    ],
    args: [np.array(true), np.array(2, { dtype: "int32" }), x34],
  },
  // random numbers from keys that are inputs: the same Threefry bits as cotangent
  {
    name: "random_bits (odd and even counts, a batch of keys)",
    f: (k: NDArray, ks: NDArray) => [random.bits(k, [7]), random.bits(k, [2, 3]), random.bits(ks, [5])],
    args: [random.key(42), np.stack(random.split(random.key(3), 3))],
  },
  {
    name: "random_fold_in and split",
    f: (k: NDArray, d: NDArray) => [random.foldIn(k, d), random.foldIn(k, 7), random.split(k, 4)],
    args: [random.key(5), np.array([0, 1, -1, 2147483647], { dtype: "int32" })],
  },
  {
    name: "bits_to_unit (uniform, normal, bernoulli in float32 and float64)",
    f: (k: NDArray) => [
      random.uniform(k, [4, 3]),
      random.normal(k, [5]),
      random.uniform(k, [3], { dtype: "float64" }),
      random.normal(k, [2, 2], "float64"),
      random.bernoulli(k, 0.3, [6]),
    ],
    args: [random.key(11)],
  },
  // float64
  { name: "float64 elementwise", f: (x: NDArray) => [np.exp(x), np.tanh(x), np.sigmoid(x), np.log1p(np.abs(x)), np.expm1(x), np.sin(x)], args: [x64] },
  { name: "float64 log sqrt pow", f: (x: NDArray, y: NDArray) => [np.log(x), np.sqrt(x), np.power(x, y), np.divide(y, x)], args: [pos64, x64] },
  {
    name: "float64 matmul and reductions",
    f: (a: NDArray, b: NDArray) => [np.matmul(a, np.transpose(b)), np.sum(a, { axis: 1 }), np.max(b)],
    args: [x64, pos64],
  },
];

describe("exportOnnx parity with jit, in ONNX Runtime", () => {
  for (const c of cases) it(c.name, () => expectParity(c.f, c.args, c.name, "jit"));
});

/** The primitives a jaxpr uses, nested jaxprs included. */
function primitivesOf(j: Jaxpr, into: Set<string>): Set<string> {
  for (const e of j.eqns) {
    into.add(e.primitive.name);
    for (const p of Object.values(e.params).flat())
      if (p && typeof p === "object" && "jaxpr" in p && "consts" in p) primitivesOf((p as ClosedJaxpr).jaxpr, into);
  }
  return into;
}

describe("the mapping table", () => {
  it("has a row for every primitive (mapped, inlined or rejected with a reason)", () => {
    const missing = allPrimitives()
      .map((p) => p.name)
      .filter((n) => !(n in onnxRules));
    expect(missing).toEqual([]);
  });

  it("every row that lowers to ONNX nodes is exercised by the parity cases above", () => {
    const used = new Set<string>();
    for (const c of cases) primitivesOf(makeJaxpr(c.f)(...c.args).jaxpr, used);
    const lowered = Object.entries(onnxRules)
      .filter(([, r]) => "lower" in r)
      .map(([n]) => n);
    expect(lowered.filter((n) => !used.has(n))).toEqual([]);
  });
});
