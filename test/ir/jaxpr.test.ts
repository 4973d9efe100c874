/**
 * The IR: makeJaxpr printouts (inline snapshots, reviewed by eye against JAX's
 * format), the typechecker on traced and on hand-built malformed jaxprs, and
 * evalJaxpr agreeing with running the function.
 */
import { describe, expect, it } from "vitest";
import { ClosedJaxpr, Jaxpr, type JaxprEqn, Literal, ShapedArray, Var, evalJaxpr, grad, makeJaxpr, np, typecheckJaxpr } from "../../src/index.js";
import type { ConcreteArray } from "../../src/index.js";
import { add_p, mul_p, sin_p } from "../../src/primitives/elementwise.js";
import { reduce_sum_p } from "../../src/primitives/reduce.js";

const f32 = (...shape: number[]): ShapedArray => new ShapedArray(shape, "float32");
const eqn = (primitive: JaxprEqn["primitive"], inputs: (Var | Literal)[], outVars: Var[], params: Record<string, unknown> = {}): JaxprEqn => ({
  primitive,
  inputs,
  params,
  outVars,
});

describe("makeJaxpr printing (JAX style)", () => {
  it("elementwise with a literal", () => {
    const j = makeJaxpr((x: np.Array) => np.multiply(np.sin(x), 2))(np.zeros([3]));
    expect(j.toString()).toMatchInlineSnapshot(`"{ lambda ; a:f32[3]. let b:f32[3] = sin a; c:f32[3] = mul b 2.0:f32[] in (c) }"`);
  });
  it("broadcasting and a reduction over one axis", () => {
    const j = makeJaxpr((x: np.Array, y: np.Array) => np.sum(np.multiply(x, y), { axis: 1 }))(np.zeros([2, 3]), np.zeros([3]));
    expect(j.toString()).toMatchInlineSnapshot(`
      "{ lambda ; a:f32[2,3] b:f32[3]. let
          c:f32[2,3] = mul a b
          d:f32[2] = reduce_sum[axes=(1,)] c
        in (d) }"
    `);
  });
  it("a small layer: matmul, tanh, mean", () => {
    const j = makeJaxpr((w: np.Array, x: np.Array) => np.mean(np.tanh(np.matmul(x, w))))(np.zeros([3, 2]), np.zeros([4, 3]));
    expect(j.toString()).toMatchInlineSnapshot(`
      "{ lambda ; a:f32[3,2] b:f32[4,3]. let
          c:f32[4,2] = matmul b a
          d:f32[4,2] = tanh c
          e:f32[] = reduce_sum[axes=(0,1)] d
          f:f32[] = div e 8.0:f32[]
        in (f) }"
    `);
  });
  it("the gradient of sum(sin(x))", () => {
    const j = makeJaxpr(grad((x: np.Array) => np.sum(np.sin(x))))(np.zeros([3]));
    expect(j.toString()).toMatchInlineSnapshot(`
      "{ lambda ; a:f32[3]. let
          b:f32[3] = sin a
          c:f32[3] = cos a
          d:f32[] = reduce_sum[axes=(0,)] b
          e:f32[1] = reshape[new_sizes=(1,)] 1.0:f32[]
          f:f32[3] = broadcast_to[shape=(3,)] e
          g:f32[3] = mul f c
        in (g) }"
    `);
    typecheckJaxpr(j.jaxpr);
  });
  it("pytree inputs and several outputs; captured arrays become constvars", () => {
    const j = makeJaxpr((t: { a: np.Array; b: np.Array }) => [np.add(t.a, t.b), np.multiply(t.a, 2)])({ a: np.zeros([2]), b: np.zeros([2]) });
    expect(j.toString()).toMatchInlineSnapshot(`"{ lambda ; a:f32[2] b:f32[2]. let c:f32[2] = add a b; d:f32[2] = mul a 2.0:f32[] in (c, d) }"`);
    const c = np.array([1, 2, 3]);
    const k = makeJaxpr((x: np.Array) => np.add(x, c))(np.zeros([3]));
    expect(k.toString()).toMatchInlineSnapshot(`"{ lambda a:f32[3]; b:f32[3]. let c:f32[3] = add b a in (c) }"`);
    expect(k.consts).toHaveLength(1);
    expect(k.consts[0]!.toJs()).toEqual([1, 2, 3]);
  });
  it("dtypes: int literals, float64, bool comparisons, conversions", () => {
    expect(makeJaxpr((x: np.Array) => np.multiply(x, 3))(np.zeros([2], "int32")).toString()).toMatchInlineSnapshot(
      `"{ lambda ; a:i32[2]. let b:i32[2] = mul a 3:i32[] in (b) }"`,
    );
    expect(makeJaxpr((x: np.Array) => np.where(np.greater(x, 0), x, 0))(np.zeros([2], "float64")).toString()).toMatchInlineSnapshot(
      `"{ lambda ; a:f64[2]. let b:bool[2] = gt a 0.0:f64[]; c:f64[2] = select b a 0.0:f64[] in (c) }"`,
    );
    expect(makeJaxpr((x: np.Array) => x.astype("int32"))(np.zeros([3])).toString()).toMatchInlineSnapshot(
      `"{ lambda ; a:f32[3]. let b:i32[3] = convert_element_type[new_dtype=int32] a in (b) }"`,
    );
  });
  it("shape primitives print their params", () => {
    expect(makeJaxpr((x: np.Array) => np.reshape(np.transpose(x), [6]))(np.zeros([2, 3])).toString()).toMatchInlineSnapshot(`
      "{ lambda ; a:f32[2,3]. let
          b:f32[3,2] = transpose[permutation=(1,0)] a
          c:f32[6] = reshape[new_sizes=(6,)] b
        in (c) }"
    `);
    expect(makeJaxpr((x: np.Array) => np.concatenate([x, np.slice(x, [1], [2])]))(np.zeros([3])).toString()).toMatchInlineSnapshot(`
      "{ lambda ; a:f32[3]. let
          b:f32[1] = slice[start_indices=(1,) limit_indices=(2,)] a
          c:f32[4] = concatenate[dimension=0] a b
        in (c) }"
    `);
    expect(makeJaxpr((x: np.Array) => np.take(x, [2, 0], 0))(np.zeros([3, 2])).toString()).toMatchInlineSnapshot(
      `"{ lambda a:i32[2]; b:f32[3,2]. let c:f32[2,2] = take[axis=0] b a in (c) }"`,
    );
    expect(makeJaxpr((x: np.Array) => np.argmax(x, { axis: 0 }))(np.zeros([3])).toString()).toMatchInlineSnapshot(
      `"{ lambda ; a:f32[3]. let b:i32[] = argmax[axis=0] a in (b) }"`,
    );
  });
  it("the identity has no equations", () => {
    expect(makeJaxpr((x: np.Array) => x)(np.zeros([2])).toString()).toMatchInlineSnapshot(`"{ lambda ; a:f32[2]. let in (a) }"`);
  });
  it("numerically stable logSumExp stages the max shift", () => {
    expect(makeJaxpr((x: np.Array) => np.logSumExp(x, { axis: -1 }))(np.zeros([2, 3])).toString()).toMatchInlineSnapshot(`
      "{ lambda ; a:f32[2,3]. let
          b:f32[2] = reduce_max[axes=(1,)] a
          c:f32[2] = stop_gradient b
          d:f32[2] = abs c
          e:bool[2] = lt d inf:f32[]
          f:f32[2] = select e c 0.0:f32[]
          g:f32[2,1] = reshape[new_sizes=(2,1)] f
          h:f32[2,3] = broadcast_to[shape=(2,3)] g
          i:f32[2,3] = sub a h
          j:f32[2,3] = exp i
          k:f32[2] = reduce_sum[axes=(1,)] j
          l:f32[2] = log k
          m:f32[2] = add l f
        in (m) }"
    `);
  });
  it("avals of inputs and outputs", () => {
    const j = makeJaxpr((x: np.Array) => np.sum(x, { axis: 0 }))(np.zeros([4, 5], "float64"));
    expect(j.inAvals.map(String)).toEqual(["f64[4,5]"]);
    expect(j.outAvals.map(String)).toEqual(["f64[5]"]);
  });
});

describe("evalJaxpr and the typechecker on traced jaxprs", () => {
  const fns: [string, (...a: np.Array[]) => np.Array, np.Array[]][] = [
    [
      "layer",
      (w, x) => np.tanh(np.matmul(x!, w!)),
      [
        np.array([
          [1, -1],
          [0.5, 2],
          [0, 1],
        ]),
        np.array([
          [1, 2, 3],
          [-1, 0, 1],
        ]),
      ],
    ],
    [
      "reductions",
      (x) => np.add(np.logSumExp(x!, { axis: 0 }), np.var(x!, { axis: 0 })),
      [
        np.array(
          [
            [1, 2],
            [3, 5],
          ],
          { dtype: "float64" },
        ),
      ],
    ],
    ["grad", grad((x: np.Array) => np.sum(np.multiply(np.sin(x), x))), [np.array([0.1, 0.2, 0.3])]],
    ["indexing", (x) => np.sum(np.take(np.concatenate([x!, x!]), [0, 3, 5])), [np.array([1, 2, 3])]],
  ];
  for (const [name, f, args] of fns) {
    it(`${name}: typechecks and evaluates to f(args)`, () => {
      const cj = makeJaxpr(f)(...args);
      typecheckJaxpr(cj.jaxpr);
      const [out] = evalJaxpr(cj.jaxpr, cj.consts, args);
      expect(out!.toJs()).toEqual(f(...args).toJs());
    });
  }
});

describe("typecheckJaxpr on hand-built jaxprs", () => {
  it("accepts a well-formed jaxpr, which evaluates correctly", () => {
    const a = new Var(f32(3));
    const b = new Var(f32(3));
    const c = new Var(f32(3));
    const d = new Var(f32());
    const two = new Literal(np.array(2) as ConcreteArray);
    const j = new Jaxpr([], [a], [eqn(sin_p, [a], [b]), eqn(mul_p, [b, two], [c]), eqn(reduce_sum_p, [c], [d], { axes: [0] })], [d, c]);
    expect(() => typecheckJaxpr(j)).not.toThrow();
    expect(j.toString()).toMatchInlineSnapshot(`
      "{ lambda ; a:f32[3]. let
          b:f32[3] = sin a
          c:f32[3] = mul b 2.0:f32[]
          d:f32[] = reduce_sum[axes=(0,)] c
        in (d, c) }"
    `);
    const [s, y] = evalJaxpr(j, [], [np.array([0, Math.PI / 2, -Math.PI / 2])]);
    expect(y!.toJs()).toEqual([0, 2, -2]);
    expect(s!.item()).toBeCloseTo(0, 6);
  });
  it("rejects a variable used before its definition", () => {
    const a = new Var(f32(3));
    const b = new Var(f32(3));
    const c = new Var(f32(3));
    const j = new Jaxpr([], [a], [eqn(add_p, [a, c], [b]), eqn(sin_p, [a], [c])], [b]);
    expect(() => typecheckJaxpr(j)).toThrow(/used before it is defined.*equation 0: add/);
  });
  it("rejects an output that is never defined", () => {
    const a = new Var(f32(3));
    const ghost = new Var(f32(3));
    expect(() => typecheckJaxpr(new Jaxpr([], [a], [], [ghost]))).toThrow(/used before it is defined \(outputs\)/);
  });
  it("rejects a wrong declared aval (shape or dtype)", () => {
    const a = new Var(f32(3));
    const wrongShape = new Var(f32(2));
    expect(() => typecheckJaxpr(new Jaxpr([], [a], [eqn(sin_p, [a], [wrongShape])], [wrongShape]))).toThrow(
      /declared f32\[2\] but the primitive gives f32\[3\]/,
    );
    const wrongDtype = new Var(new ShapedArray([3], "float64"));
    expect(() => typecheckJaxpr(new Jaxpr([], [a], [eqn(sin_p, [a], [wrongDtype])], [wrongDtype]))).toThrow(
      /declared f64\[3\] but the primitive gives f32\[3\]/,
    );
    const summed = new Var(f32(3));
    expect(() => typecheckJaxpr(new Jaxpr([], [a], [eqn(reduce_sum_p, [a], [summed], { axes: [0] })], [summed]))).toThrow(
      /reduce_sum output 0 is declared f32\[3\] but the primitive gives f32\[\]/,
    );
  });
  it("rejects a duplicate definition", () => {
    const a = new Var(f32(3));
    const b = new Var(f32(3));
    const twice = new Jaxpr([], [a], [eqn(sin_p, [a], [b]), eqn(sin_p, [b], [b])], [b]);
    expect(() => typecheckJaxpr(twice)).toThrow(/defined twice.*equation 1: sin/);
    expect(() => typecheckJaxpr(new Jaxpr([], [a, a], [], [a]))).toThrow(/defined twice \(invar\)/);
    expect(() => typecheckJaxpr(new Jaxpr([], [a], [eqn(sin_p, [a], [a])], [a]))).toThrow(/defined twice/);
  });
  it("rejects inputs the primitive does not accept, and a wrong number of outputs", () => {
    const a = new Var(f32(3));
    const i = new Var(new ShapedArray([3], "int32"));
    const o = new Var(f32(3));
    expect(() => typecheckJaxpr(new Jaxpr([], [a, i], [eqn(add_p, [a, i], [o])], [o]))).toThrow(
      /equation 0: add rejects its inputs: add: operands have different dtypes/,
    );
    const x = new Var(f32(2));
    expect(() => typecheckJaxpr(new Jaxpr([], [a, x], [eqn(add_p, [a, x], [o])], [o]))).toThrow(/rejects its inputs.*cannot be broadcast/);
    const o2 = new Var(f32(3));
    expect(() => typecheckJaxpr(new Jaxpr([], [a], [eqn(sin_p, [a], [o, o2])], [o]))).toThrow(/has 2 outputs, expected 1/);
  });
  it("jaxprs are immutable", () => {
    const a = new Var(f32(3));
    const j = new Jaxpr([], [a], [], [a]);
    expect(Object.isFrozen(j)).toBe(true);
    expect(Object.isFrozen(j.inVars)).toBe(true);
    expect(() => (j.inVars as Var[]).push(a)).toThrow();
    const cj = new ClosedJaxpr(j, []);
    expect(Object.isFrozen(cj)).toBe(true);
    expect(() => new ClosedJaxpr(new Jaxpr([a], [], [], [a]), [])).toThrow(/consts/);
  });
});
