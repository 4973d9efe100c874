/**
 * Type-level tests: the transforms keep the transformed function's parameter types and
 * compute their result types; misuse (wrong argument types, wrong arity, a field that
 * does not exist) does not compile. Checked by `npm run typecheck` (tsconfig includes
 * test/) and by vitest's typecheck mode (vitest.config.ts); never executed.
 */
import { describe, expectTypeOf, it } from "vitest";
import {
  type Array,
  checkGrads,
  customJvp,
  customVjp,
  grad,
  hessian,
  hessianVectorProduct,
  jacfwd,
  jacrev,
  jit,
  jvp,
  linearize,
  makeJaxpr,
  np,
  optim,
  stopGradient,
  tree,
  valueAndGrad,
  vjp,
  vmap,
  type ClosedJaxpr,
} from "../../src/index.js";

interface Params {
  w: Array;
  b: Array;
}
declare const params: Params;
declare const x: Array;
const loss = (p: Params, xs: Array): Array => np.sum(np.add(np.matmul(xs, p.w), p.b));

describe("grad", () => {
  it("keeps f's parameters and returns the differentiated argument's type", () => {
    const g = grad(loss);
    expectTypeOf(g).parameters.toEqualTypeOf<[p: Params, xs: Array]>();
    expectTypeOf(g(params, x)).toEqualTypeOf<Params>();
    expectTypeOf(g(params, x).w).toEqualTypeOf<Array>();
  });
  it("rejects wrong arguments, wrong arity and missing fields", () => {
    const g = grad(loss);
    // @ts-expect-error a number and a string are not (Params, Array)
    g(42, "nonsense");
    // @ts-expect-error one argument is missing
    g(params);
    // @ts-expect-error one argument too many
    g(params, x, x);
    // @ts-expect-error the gradient has the fields of Params only
    void g(params, x).notAField;
    // @ts-expect-error an Array has no method whatever()
    g(params, x).w.whatever();
  });
  it("argnums: a number picks that argument; an array gives a tuple", () => {
    expectTypeOf(grad(loss, { argnums: 1 })(params, x)).toEqualTypeOf<Array>();
    expectTypeOf(grad(loss, { argnums: [0, 1] })(params, x)).toEqualTypeOf<[Params, Array]>();
    expectTypeOf(grad(loss, { argnums: [1, 0] })(params, x)).toEqualTypeOf<[Array, Params]>();
    expectTypeOf(grad(loss, { argnums: -1 })(params, x)).toEqualTypeOf<Params | Array>();
  });
  it("number leaves become arrays in the gradient", () => {
    const f = (p: { scale: number; w: Array }, n: number): Array => np.multiply(p.w, p.scale * n);
    expectTypeOf(grad(f)({ scale: 1, w: x }, 2)).toEqualTypeOf<{ scale: Array; w: Array }>();
    expectTypeOf(grad((s: number) => np.array(s))(1)).toEqualTypeOf<Array>();
  });
  it("hasAux: [grads, aux]", () => {
    const withAux = (p: Params, xs: Array): [Array, { pred: Array; n: number }] => [loss(p, xs), { pred: xs, n: 1 }];
    const [g, aux] = grad(withAux, { hasAux: true })(params, x);
    expectTypeOf(g).toEqualTypeOf<Params>();
    expectTypeOf(aux).toEqualTypeOf<{ pred: Array; n: Array }>();
    expectTypeOf(grad(withAux, { hasAux: true, argnums: [1] })(params, x)).toEqualTypeOf<[[Array], { pred: Array; n: Array }]>();
  });
  it("f must return a scalar (an array or a number), or [scalar, aux] with hasAux", () => {
    // @ts-expect-error a shape is not a scalar
    grad((a: Array) => a.shape);
    // @ts-expect-error an async function returns a Promise
    grad(async (a: Array) => np.sum(a));
    // @ts-expect-error with hasAux, f returns [scalar, aux]
    grad((a: Array) => np.sum(a), { hasAux: true });
    // @ts-expect-error without hasAux, a pair is not a scalar
    valueAndGrad((a: Array): [Array, Array] => [np.sum(a), a]);
    expectTypeOf(grad((a: Array) => 3)(x)).toEqualTypeOf<Array>();
  });
  it("an unannotated function gets `any` parameters, as plain TypeScript gives", () => {
    expectTypeOf(grad((v) => np.sum(v))).parameters.toEqualTypeOf<[v: any]>();
  });
});

describe("valueAndGrad", () => {
  it("[value, grads], and [[value, aux], grads] with hasAux", () => {
    expectTypeOf(valueAndGrad(loss)(params, x)).toEqualTypeOf<[Array, Params]>();
    expectTypeOf(valueAndGrad(loss, { argnums: [0, 1] })(params, x)).toEqualTypeOf<[Array, [Params, Array]]>();
    const withAux = (p: Params): [Array, Array] => [np.sum(p.w), p.b];
    expectTypeOf(valueAndGrad(withAux, { hasAux: true })(params)).toEqualTypeOf<[[Array, Array], Params]>();
    // @ts-expect-error wrong arity
    valueAndGrad(loss)(params);
  });
});

describe("vjp, jvp, linearize, hessianVectorProduct", () => {
  it("vjp: [out, vjpFn], vjpFn returns one cotangent per primal", () => {
    const [out, back] = vjp(loss, params, x);
    expectTypeOf(out).toEqualTypeOf<Array>();
    expectTypeOf(back(out)).toEqualTypeOf<[Params, Array]>();
    // @ts-expect-error the primals must match f's parameters
    vjp(loss, params, "x");
    // @ts-expect-error the cotangent has the output's type
    back({ w: out });
  });
  it("vjp of a pytree-valued function", () => {
    const [out, back] = vjp((p: Params) => ({ y: np.sum(p.w), z: [p.b] }), params);
    expectTypeOf(out).toEqualTypeOf<{ y: Array; z: Array[] }>();
    expectTypeOf(back(out)).toEqualTypeOf<[Params]>();
  });
  it("jvp: [out, tangentOut]", () => {
    const [y, t] = jvp((a: Array, b: number) => np.multiply(a, b), [x, 2], [x, 1]);
    expectTypeOf(y).toEqualTypeOf<Array>();
    expectTypeOf(t).toEqualTypeOf<Array>();
    // @ts-expect-error a tangent for each primal
    jvp((a: Array) => a, [x], [params]);
  });
  it("linearize: [out, jvpFn]", () => {
    const [y, f] = linearize(loss, params, x);
    expectTypeOf(y).toEqualTypeOf<Array>();
    expectTypeOf(f).parameters.toEqualTypeOf<[p: Params, xs: Array]>();
    expectTypeOf(f(params, x)).toEqualTypeOf<Array>();
  });
  it("hessianVectorProduct: (x, v) => Hv shaped like x", () => {
    const hvp = hessianVectorProduct((p: Params) => np.sum(np.square(p.w)));
    expectTypeOf(hvp(params, params)).toEqualTypeOf<Params>();
    // @ts-expect-error v has x's structure
    hvp(params, "v");
  });
});

describe("vmap and jit", () => {
  it("vmap keeps the parameters (arrays stay Array) and the result", () => {
    const batched = vmap(loss, { inAxes: [null, 0] });
    expectTypeOf(batched).parameters.toEqualTypeOf<[p: Params, xs: Array]>();
    expectTypeOf(batched(params, x)).toEqualTypeOf<Array>();
    expectTypeOf(vmap((a: Array) => ({ s: np.sum(a), n: 1 }))(x)).toEqualTypeOf<{ s: Array; n: Array }>();
    // @ts-expect-error wrong argument type
    batched(params, 3n);
  });
  it("jit keeps the signature", () => {
    const f = jit(loss);
    expectTypeOf(f(params, x)).toEqualTypeOf<Array>();
    expectTypeOf(f.lower(params, x).text()).toEqualTypeOf<string>();
    expectTypeOf(f.cacheSize).toEqualTypeOf<number>();
    const scale = jit((a: Array, k: number) => np.multiply(a, k), { staticArgnums: [1] });
    expectTypeOf(scale).parameters.toEqualTypeOf<[a: Array, k: number]>();
    // @ts-expect-error k is a number
    scale(x, "2");
    // @ts-expect-error no such field on the result
    void f(params, x).notAField;
  });
  it("makeJaxpr takes f's arguments", () => {
    expectTypeOf(makeJaxpr(loss)(params, x)).toEqualTypeOf<ClosedJaxpr>();
    // @ts-expect-error wrong arity
    makeJaxpr(loss)(params);
  });
});

describe("jacfwd, jacrev, hessian", () => {
  it("the Jacobian has the output's structure with the input's at each leaf", () => {
    expectTypeOf(jacfwd((a: Array) => np.sin(a))(x)).toEqualTypeOf<Array>();
    expectTypeOf(jacrev(loss)(params, x)).toEqualTypeOf<Params>();
    expectTypeOf(jacrev((p: Params) => ({ u: p.w, v: p.b }))(params)).toEqualTypeOf<{ u: Params; v: Params }>();
    expectTypeOf(jacfwd(loss, { argnums: [0, 1] })(params, x)).toEqualTypeOf<[Params, Array]>();
    expectTypeOf(hessian((a: Array) => np.sum(np.power(a, 3)))(x)).toEqualTypeOf<Array>();
    expectTypeOf(hessian(loss)(params, x)).toEqualTypeOf<{ w: Params; b: Params }>();
  });
  it("hasAux: [jacobian, aux]", () => {
    const f = (a: Array): [Array, { n: number }] => [np.sin(a), { n: 1 }];
    expectTypeOf(jacfwd(f, { hasAux: true })(x)).toEqualTypeOf<[Array, { n: Array }]>();
    expectTypeOf(jacrev(f, { hasAux: true })(x)).toEqualTypeOf<[Array, { n: Array }]>();
    expectTypeOf(hessian(f, { hasAux: true })(x)).toEqualTypeOf<[Array, { n: Array }]>();
    // @ts-expect-error wrong argument type
    jacrev(f)("x");
  });
});

describe("checkGrads, customJvp, customVjp, stopGradient", () => {
  it("checkGrads takes f's arguments as a tuple", () => {
    expectTypeOf(checkGrads(loss, [params, x])).toEqualTypeOf<void>();
    // @ts-expect-error the arguments must match f's parameters
    checkGrads(loss, [x]);
  });
  it("customJvp and customVjp keep f's type; the rules are typed", () => {
    const f = (a: Array, k: number): Array => np.multiply(a, k);
    const fj = customJvp(f, ([a, k], [ta]) => {
      expectTypeOf(a).toEqualTypeOf<Array>();
      expectTypeOf(k).toEqualTypeOf<Array>();
      return [f(a, 2), np.multiply(ta, 2)];
    });
    expectTypeOf(fj).toEqualTypeOf<typeof f>();
    const fv = customVjp(
      f,
      (a: Array, k: number) => [f(a, k), { k }] as const,
      (res, ct) => {
        expectTypeOf(res).toEqualTypeOf<{ readonly k: Array }>();
        expectTypeOf(ct).toEqualTypeOf<Array>();
        return [np.multiply(ct, res.k), 0];
      },
    );
    expectTypeOf(fv).toEqualTypeOf<typeof f>();
    customVjp(
      f,
      (a: Array, k: number) => [f(a, k), null] as const,
      // @ts-expect-error bwd returns one cotangent per argument of f
      (_r, ct) => [ct, ct, ct],
    );
  });
  it("stopGradient keeps the structure", () => {
    expectTypeOf(stopGradient(params)).toEqualTypeOf<Params>();
    expectTypeOf(stopGradient(3)).toEqualTypeOf<Array>();
  });
});

describe("pytrees", () => {
  it("tree.map's result mirrors the input's structure with the leaves mapped", () => {
    expectTypeOf(tree.map((p, g) => p.sub(g), params, params)).toEqualTypeOf<{ w: Array; b: Array }>();
    expectTypeOf(tree.map((p) => p.shape, params)).toEqualTypeOf<{ w: number[]; b: number[] }>();
    expectTypeOf(tree.map((v) => v * 2, { a: [1, 2], b: null })).toEqualTypeOf<{ a: number[]; b: null }>();
    expectTypeOf(tree.map((v: number) => String(v), [1, 2] as [number, number])).toEqualTypeOf<[string, string]>();
    // @ts-expect-error the leaves are arrays, not strings
    tree.map((s: string) => s, params);
    // @ts-expect-error no such field on the result
    void tree.map((p) => p, params).notAField;
  });
  it("tree.leaves and tree.flatten type the leaves", () => {
    expectTypeOf(tree.leaves(params)).toEqualTypeOf<Array[]>();
    expectTypeOf(tree.leaves({ a: [1, 2], b: x })).toEqualTypeOf<(number | Array)[]>();
    expectTypeOf(tree.flatten(params)[0]).toEqualTypeOf<Array[]>();
  });
  it("tree.PyTree describes nested arrays and objects", () => {
    const t: tree.PyTree = { a: [x, 1, { b: null }], c: true };
    const u: tree.PyTree<Array> = [x, { y: x }];
    void t;
    void u;
    // @ts-expect-error strings are not leaves of a PyTree<Array>
    const bad: tree.PyTree<Array> = { a: "s" };
    void bad;
  });
  it("tree.register types the node functions", () => {
    class Point {
      constructor(
        readonly x: Array,
        readonly y: Array,
        readonly tag: string,
      ) {}
    }
    tree.register(Point, {
      flatten: (p) => [[p.x, p.y], p.tag],
      unflatten: (tag, [px, py]) => {
        expectTypeOf(tag).toEqualTypeOf<string>();
        expectTypeOf(px).toEqualTypeOf<Array>();
        return new Point(px, py, tag);
      },
    });
    const p = new Point(x, x, "p");
    expectTypeOf(grad((q: Point) => np.sum(q.x))(p)).toEqualTypeOf<Point>();
    expectTypeOf(tree.map((v: Array) => v.mul(2), p).x).toEqualTypeOf<Array>();
    // @ts-expect-error unflatten must build a Point
    tree.register(Point, { flatten: (q) => [[q.x], null], unflatten: () => ({}) });
  });
  it("optimizers accept any parameter tree", () => {
    const opt = optim.adam(0.1);
    const state = opt.init(params);
    const [u] = opt.update(grad(loss)(params, x), state, params);
    expectTypeOf(u).toEqualTypeOf<Params>();
  });
});
