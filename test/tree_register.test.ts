/**
 * tree.register: instances of a registered class are pytree nodes in tree.*, in every
 * transform (grad, jit and its cache key, vmap, jacobians), and in the optimizers.
 * Each test registers its own classes (the registry is global).
 */
import { describe, expect, it } from "vitest";
import { type Array as NDArray, grad, jacrev, jit, np, optim, tree, valueAndGrad, vjp, vmap } from "../src/index.js";
import { f64 } from "./helpers/numeric.js";
import { expectError } from "./numpy/util.js";

class Dense {
  constructor(
    readonly w: NDArray,
    readonly b: NDArray,
    readonly act: "tanh" | "none",
  ) {}
  apply(x: NDArray): NDArray {
    const y = np.add(np.matmul(x, this.w), this.b);
    return this.act === "tanh" ? np.tanh(y) : y;
  }
}
tree.register(Dense, {
  flatten: (d) => [[d.w, d.b], d.act],
  unflatten: (act, [w, b]) => new Dense(w, b, act),
});

describe("tree functions", () => {
  const d = new Dense(f64([[1], [2]]), f64([0.5]), "tanh");
  it("flatten gives the children's leaves; unflatten rebuilds an instance", () => {
    const [leaves, def] = tree.flatten({ layer: d, scale: 3 });
    expect(leaves).toEqual([d.w, d.b, 3]);
    expect(def.toString()).toBe('PyTreeDef({layer: CustomNode(Dense["tanh"], [*, *]), scale: *})');
    const back = tree.unflatten(def, [f64([[0], [0]]), f64([1]), 4]) as { layer: Dense; scale: number };
    expect(back.layer).toBeInstanceOf(Dense);
    expect(back.layer.act).toBe("tanh");
    expect(back.layer.b.toJs()).toEqual([1]);
    expect(back.scale).toBe(4);
  });
  it("structures are equal for the same class and equal aux data", () => {
    const s = tree.structure(d);
    expect(s.equals(tree.structure(new Dense(f64([[0], [0]]), f64([0]), "tanh")))).toBe(true);
    expect(s.equals(tree.structure(new Dense(f64([[0], [0]]), f64([0]), "none")))).toBe(false);
    expect(s.equals(tree.structure({ w: 1, b: 2 }))).toBe(false);
    expect(s.equals(tree.structure([1, 2]))).toBe(false);
  });
  it("tree.map keeps the class; leaves and flattenWithPath see the children", () => {
    const m = tree.map((x: NDArray) => np.multiply(x, 2), d);
    expect(m).toBeInstanceOf(Dense);
    expect(m.w.toJs()).toEqual([[2], [4]]);
    expect(m.act).toBe("tanh");
    expect(tree.leaves([d])).toEqual([d.w, d.b]);
    const [pairs] = tree.flattenWithPath({ layers: [d] });
    expect(pairs.map(([p]) => p)).toEqual([
      ["layers", 0, 0],
      ["layers", 0, 1],
    ]);
  });
  it("structured aux data is compared by value; other objects by identity", () => {
    class Box {
      constructor(
        readonly v: NDArray,
        readonly meta: unknown,
      ) {}
    }
    tree.register(Box, { flatten: (b) => [[b.v], b.meta], unflatten: (meta, [v]) => new Box(v, meta) });
    const s = (meta: unknown) => tree.structure(new Box(f64(1), meta));
    expect(s({ k: [1, "a"] }).equals(s({ k: [1, "a"] }))).toBe(true);
    expect(s({ k: [1, "a"] }).equals(s({ k: [1, "b"] }))).toBe(false);
    const token = new Map();
    expect(s(token).equals(s(token))).toBe(true);
    expect(s(token).equals(s(new Map()))).toBe(false);
    expect(s(0).equals(s(-0))).toBe(false);
  });
  it("subclasses are not matched (as JAX: exact types), unregistered classes stay leaves", () => {
    class Sub extends Dense {}
    const s = new Sub(f64([[1]]), f64([1]), "none");
    expect(tree.leaves([s])).toEqual([s]);
  });
  it("nests: a registered node inside another one's children", () => {
    class Seq {
      constructor(readonly layers: Dense[]) {}
    }
    tree.register(Seq, { flatten: (s) => [s.layers, s.layers.length], unflatten: (_n, layers) => new Seq(layers) });
    const s = new Seq([d, new Dense(f64([[3]]), f64([0]), "none")]);
    expect(tree.structure(s).toString()).toBe('PyTreeDef(CustomNode(Seq[2], [CustomNode(Dense["tanh"], [*, *]), CustomNode(Dense["none"], [*, *])]))');
    const back = tree.map((x) => x, s);
    expect(back).toBeInstanceOf(Seq);
    expect(back.layers[1]).toBeInstanceOf(Dense);
  });
});

describe("in the transforms", () => {
  const x = f64([
    [1, -1],
    [0.5, 2],
  ]);
  const d = new Dense(f64([[0.3], [-0.2]]), f64([0.1]), "none");
  // loss = sum(x @ w + b): d/dw = column sums of x, d/db = number of rows
  const loss = (m: Dense, xs: NDArray): NDArray => np.sum(m.apply(xs));
  it("grad returns an instance of the class with the gradients as children", () => {
    const g = grad(loss)(d, x);
    expect(g).toBeInstanceOf(Dense);
    expect(g.act).toBe("none");
    expect(g.w.toJs()).toEqual([[1.5], [1]]);
    expect(g.b.toJs()).toEqual([2]);
    const [v, g2] = valueAndGrad(loss)(d, x);
    expect(v.item()).toBeCloseTo(0.3 + 0.2 + 0.1 + 0.15 - 0.4 + 0.1, 12);
    expect(g2.w.toJs()).toEqual([[1.5], [1]]);
  });
  it("vjp gives a cotangent of the class for a class argument; jacrev too", () => {
    const [, back] = vjp((m: Dense) => m.apply(x), d);
    const [ct] = back(f64([[1], [1]]));
    expect(ct).toBeInstanceOf(Dense);
    expect(ct.w.toJs()).toEqual([[1.5], [1]]);
    const J = jacrev(loss)(d, x);
    expect(J).toBeInstanceOf(Dense);
    expect(J.b.toJs()).toEqual([2]);
  });
  it("jit: the aux data is part of the cache key, and outputs may be instances", () => {
    let traces = 0;
    const f = jit((m: Dense, xs: NDArray) => {
      traces++;
      return new Dense(np.multiply(m.w, 2), m.apply(xs), m.act);
    });
    const r = f(d, x);
    expect(r).toBeInstanceOf(Dense);
    expect(r.w.toJs()).toEqual([[0.6], [-0.4]]);
    expect(r.b.toJs()).toEqual(d.apply(x).toJs());
    f(new Dense(f64([[1], [1]]), f64([0]), "none"), x);
    expect(traces).toBe(1);
    const t = f(new Dense(f64([[1], [1]]), f64([0]), "tanh"), x);
    expect(traces).toBe(2);
    expect(f.cacheSize).toBe(2);
    expect(t.b.toJs()).toEqual(np.tanh(np.matmul(x, f64([[1], [1]]))).toJs());
  });
  it("vmap maps over the children of an instance (per-example layers)", () => {
    const stacked = new Dense(f64([[[1]], [[2]], [[3]]]), f64([[0], [1], [2]]), "none");
    const out = vmap((m: Dense) => m.apply(f64([[2]])))(stacked);
    expect(out.toJs()).toEqual([[[2]], [[5]], [[8]]]);
    const perExample = vmap(grad(loss), { inAxes: [null, 0] })(d, f64([[[1, 2]], [[3, 4]]]));
    expect(perExample).toBeInstanceOf(Dense);
    expect(perExample.w.toJs()).toEqual([
      [[1], [2]],
      [[3], [4]],
    ]);
  });
  it("vmap: an object inAxes for an instance is an Error (its fields are not its children)", () => {
    expectError(
      () => vmap((m: Dense) => m.apply(x), { inAxes: [{ w: 0, b: 0, act: null }] })(d),
      "vmap",
      "inAxes[0]",
      "instance of Dense",
      "one number or null",
    );
  });
  it("the optimizers update class parameters and keep the class", () => {
    const opt = optim.adam(0.1);
    let params = d;
    let state = opt.init(params);
    for (let i = 0; i < 3; i++) {
      const g = grad(loss)(params, x);
      const [u, s] = opt.update(g, state, params);
      state = s;
      params = optim.applyUpdates(params, u);
    }
    expect(params).toBeInstanceOf(Dense);
    // adam's first steps move each parameter by about lr against the sign of its gradient
    expect(params.b.item()).toBeCloseTo(0.1 - 0.3, 2);
    expect((params.w.toJs() as number[][])[0]![0]).toBeCloseTo(0.3 - 0.3, 2);
    const sgd = optim.sgd(0.5);
    const [u] = sgd.update(grad(loss)(d, x), sgd.init(d));
    expect(u).toBeInstanceOf(Dense);
    expect(u.b.toJs()).toEqual([-1]);
  });
  it("optimizer structure errors name the paths inside instances", () => {
    const opt = optim.sgd(0.1);
    const other = new Dense(f64([[1], [1]]), f64([0]), "tanh");
    expect(() => opt.update(other, opt.init(d), d)).toThrow(/different tree structures/);
  });
});

describe("registration errors", () => {
  it("registering twice, a non-class, or bad node functions", () => {
    expectError(
      () => tree.register(Dense, { flatten: (dd) => [[dd.w], null], unflatten: () => new Dense(f64(0), f64(0), "none") }),
      "tree.register",
      "Dense",
      "already registered",
    );
    expectError(() => tree.register("Dense" as never, { flatten: () => [[], null], unflatten: () => ({}) }), "tree.register", "must be a class");
    class A {}
    expectError(() => tree.register(A, { flatten: () => [[], null] } as never), "tree.register(A)", "flatten(obj)", "unflatten(aux, children)");
    class B {}
    expectError(
      () => tree.register(B, { flatten: () => [[], null], unflatten: () => new B(), toString: () => "" } as never),
      "tree.register(B)",
      "unknown key `toString`",
    );
    expectError(() => tree.register(Object as never, { flatten: () => [[], null], unflatten: () => ({}) }), "tree.register", "built in");
  });
  it("a flatten that does not return [children, aux] is an Error naming the class", () => {
    class C {
      v = 1;
    }
    tree.register(C, { flatten: (c) => c.v as never, unflatten: () => new C() });
    expectError(() => tree.flatten([new C()]), "tree.flatten", "registered for C", "[children, aux]");
  });
  it("two classes with the same name print apart (jit keys by structure)", () => {
    const make = () =>
      class Layer {
        constructor(readonly v: NDArray) {}
      };
    const L1 = make();
    const L2 = make();
    tree.register(L1, { flatten: (l) => [[l.v], null], unflatten: (_a, [v]) => new L1(v) });
    tree.register(L2, { flatten: (l) => [[l.v], null], unflatten: (_a, [v]) => new L2(v) });
    const s1 = tree.structure(new L1(f64(1)));
    const s2 = tree.structure(new L2(f64(1)));
    expect(s1.equals(s2)).toBe(false);
    expect(s1.toString()).not.toBe(s2.toString());
    const f = jit((l: { v: NDArray }) => l.v);
    f(new L1(f64(1)));
    f(new L2(f64(1)));
    expect(f.cacheSize).toBe(2);
  });
});
