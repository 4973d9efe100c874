/**
 * The jit API: the trace cache (one trace per signature: tree structure, shapes,
 * dtypes and static values, counted with side effects in the traced function and
 * with `cacheSize`), pytree arguments and results, closed-over arrays as constants,
 * closures over tracers of enclosing transforms, staticArgnums, `lower`, the error
 * for reading abstract values, and eager/compiled agreement on dtype corner cases.
 * Expected values are computed by hand or by running the function eagerly.
 */
import { describe, expect, it } from "vitest";
import { type Array as NDArray, grad, jit, makeJaxpr, np, typecheckJaxpr, vmap } from "../../src/index.js";
import { errorMessage, f64 } from "../helpers/numeric.js";
import { expectAgree } from "../helpers/programs.js";

const msg = errorMessage;

/** A function that counts how often it is traced (run as JS). */
function counted<A extends unknown[]>(body: (...args: A) => unknown): { f: (...args: A) => any; traces: () => number } {
  let n = 0;
  return {
    f: (...args: A) => {
      n++;
      return body(...args);
    },
    traces: () => n,
  };
}

describe("jit: the trace cache", () => {
  it("traces once for repeated calls with the same shapes and dtypes, whatever the values", () => {
    const c = counted((x: NDArray) => np.sum(np.square(x)));
    const jf = jit(c.f);
    expect(jf(f64([1, 2])).item()).toBe(5);
    expect(jf(f64([3, 4])).item()).toBe(25);
    expect(jf(f64([0, -1])).item()).toBe(1);
    expect(c.traces()).toBe(1);
    expect(jf.cacheSize).toBe(1);
  });

  it("retraces for a new shape, a new dtype or a new tree structure, and reuses older traces", () => {
    const c = counted((x: unknown) => np.sum(np.stack((Array.isArray(x) ? x : [x]) as NDArray[])));
    const jf = jit(c.f);
    jf(f64([1, 2]));
    jf(f64([1, 2, 3]));
    expect(jf.cacheSize).toBe(2);
    jf(np.array([1, 2], { dtype: "float32" }));
    expect(jf.cacheSize).toBe(3);
    const r = jf([f64([1, 2]), f64([3, 4])]);
    expect(r.item()).toBe(10);
    expect(jf.cacheSize).toBe(4);
    // all of these signatures again: no new traces
    jf(f64([5, 6]));
    jf(f64([5, 6, 7]));
    jf(np.array([5, 6], { dtype: "float32" }));
    jf([f64([0, 0]), f64([0, 1])]);
    expect(c.traces()).toBe(4);
    expect(jf.cacheSize).toBe(4);
    // the result dtype follows the input's
    expect(jf(np.array([1, 2], { dtype: "float32" })).dtype).toBe("float32");
  });

  it("JS numbers are traced arguments (float32 scalars), not baked-in values", () => {
    const c = counted((x: NDArray, k: NDArray | number) => np.multiply(x, k));
    const jf = jit(c.f);
    expect(jf(f64([1, 2]), 2).toJs()).toEqual([2, 4]);
    expect(jf(f64([1, 2]), 3).toJs()).toEqual([3, 6]);
    expect(c.traces()).toBe(1);
  });

  it("static arguments: a new trace per distinct value, equal values (and equal plain objects) share one", () => {
    const c = counted((x: NDArray, n: number, cfg: { act: string }) => {
      let y = x;
      for (let i = 0; i < n; i++) y = np.multiply(y, 2);
      return cfg.act === "neg" ? np.negative(y) : y;
    });
    const jf = jit(c.f, { staticArgnums: [1, 2] });
    expect(jf(f64([1, 3]), 2, { act: "id" }).toJs()).toEqual([4, 12]);
    expect(jf(f64([5, 1]), 2, { act: "id" }).toJs()).toEqual([20, 4]);
    expect(c.traces()).toBe(1);
    expect(jf(f64([1, 3]), 3, { act: "id" }).toJs()).toEqual([8, 24]);
    expect(jf(f64([1, 3]), 3, { act: "neg" }).toJs()).toEqual([-8, -24]);
    expect(c.traces()).toBe(3);
    expect(jf(f64([1, 1]), 2, { act: "id" }).toJs()).toEqual([4, 4]);
    expect(jf.cacheSize).toBe(3);
    expect(c.traces()).toBe(3);
  });

  it("static objects are keyed by contents (key order aside), functions inside them by identity", () => {
    const c = counted((x: NDArray, o: { k: number; f: (a: NDArray) => NDArray }) => np.multiply(o.f(x), o.k));
    const jf = jit(c.f, { staticArgnums: [1] });
    expect(jf(f64([0]), { k: 2, f: np.cos }).toJs()).toEqual([2]);
    expect(jf(f64([0]), { f: np.cos, k: 2 }).toJs()).toEqual([2]);
    expect(c.traces()).toBe(1);
    expect(jf(f64([0]), { k: 2, f: np.exp }).toJs()).toEqual([2]);
    expect(jf(f64([0]), { k: 2, f: (a: NDArray) => np.add(a, 5) }).toJs()).toEqual([10]);
    expect(jf(f64([0]), { k: 3, f: np.cos }).toJs()).toEqual([3]);
    expect(c.traces()).toBe(4);
    // strings and numbers with the same text are different values
    const s = counted((x: NDArray, v: unknown) => np.multiply(x, typeof v === "string" ? 10 : 1));
    const js = jit(s.f, { staticArgnums: [1] });
    expect(js(f64([1]), "1").toJs()).toEqual([10]);
    expect(js(f64([1]), 1).toJs()).toEqual([1]);
  });

  it("lower(...) reuses the trace of a call with the same signature", () => {
    const c = counted((x: NDArray) => np.sin(x));
    const jf = jit(c.f);
    jf(f64([1, 2]));
    jf.lower(f64([3, 4]));
    expect(c.traces()).toBe(1);
    jf.lower(f64([3, 4, 5]));
    expect(c.traces()).toBe(2);
  });

  it("a function is traced once under grad and vmap too, per signature", () => {
    const c = counted((x: NDArray) => np.sum(np.sin(x)));
    const jf = jit(c.f);
    const x = f64([0.5, 1]);
    grad(jf)(x);
    grad(jf)(f64([2, 3]));
    jf(x);
    vmap(jf)(
      f64([
        [1, 2],
        [3, 4],
      ]),
    );
    expect(c.traces()).toBe(1);
  });
});

describe("jit: arguments, results and closures", () => {
  it("pytree arguments and results keep their structure", () => {
    type P = { w: NDArray; b: NDArray; extra: NDArray[] };
    const f = jit((p: P, x: NDArray) => ({ y: np.add(np.matmul(x, p.w), p.b), parts: [np.sum(p.extra[0]!), null, x] }));
    const p: P = {
      w: f64([
        [1, 0],
        [0, 2],
      ]),
      b: f64([1, 1]),
      extra: [f64([1, 2, 3])],
    };
    const r = f(p, f64([3, 4])) as { y: NDArray; parts: [NDArray, null, NDArray] };
    expect(r.y.toJs()).toEqual([4, 9]);
    expect(r.parts[0].item()).toBe(6);
    expect(r.parts[1]).toBeNull();
    expect(r.parts[2].toJs()).toEqual([3, 4]);
    // gradients flow through the pytree into a pytree of the same keys
    const g = grad((q: P) => np.sum((f(q, f64([3, 4])) as { y: NDArray }).y))(p) as P;
    expect(g.w.toJs()).toEqual([
      [3, 3],
      [4, 4],
    ]);
    expect(g.b.toJs()).toEqual([1, 1]);
    expect(g.extra[0]!.toJs()).toEqual([0, 0, 0]);
  });

  it("results that are inputs, constants, or ints pass through", () => {
    const f = jit((x: NDArray) => [x, np.ones([2], "float64"), np.argmax(x), np.greater(x, 1)]);
    const [a, b, c, d] = f(f64([1, 3])) as NDArray[];
    expect(a!.toJs()).toEqual([1, 3]);
    expect(b!.toJs()).toEqual([1, 1]);
    expect(c!.dtype).toBe("int32");
    expect(c!.item()).toBe(1);
    expect(d!.toJs()).toEqual([false, true]);
    expect(jit(() => np.arange(3))().toJs()).toEqual([0, 1, 2]);
  });

  it("closed-over arrays become constants of the jaxpr (baked in at trace time)", () => {
    let c = f64([1, 2, 3]);
    const f = jit((x: NDArray) => np.add(x, c));
    expect(f(f64([1, 1, 1])).toJs()).toEqual([2, 3, 4]);
    const lowered = f.lower(f64([0, 0, 0]));
    expect(lowered.jaxpr.consts.some((k) => k instanceof Object && (k as NDArray).shape.join() === "3")).toBe(true);
    expect(lowered.jaxpr.jaxpr.constVars.length).toBe(lowered.jaxpr.consts.length);
    // rebinding the variable does not change the traced function (as in JAX)
    c = f64([100, 100, 100]);
    expect(f(f64([1, 1, 1])).toJs()).toEqual([2, 3, 4]);
  });

  it("grad of a function that calls a jitted closure over grad's input", () => {
    // f(x) = sum(x * sin(x)) computed by a jitted closure over x: f'(x) = sin x + x cos x
    const f = (x: NDArray): NDArray => jit((s: NDArray) => np.sum(np.multiply(x, s)))(np.sin(x));
    const x = f64([0.5, -1.2, 2]);
    const want = f64([0.5, -1.2, 2].map((v) => Math.sin(v) + v * Math.cos(v)));
    expectAgree(grad(f)(x), want, 1e-15, "grad through a jitted closure");
    // and second derivatives: f''(x) = 2 cos x - x sin x
    const g2 = grad((y: NDArray) => np.sum(grad(f)(y)))(x);
    expectAgree(g2, f64([0.5, -1.2, 2].map((v) => 2 * Math.cos(v) - v * Math.sin(v))), 1e-14, "second derivative");
  });

  it("a jitted closure over a vmap-batched value, and over an outer jit's value", () => {
    const r = vmap((a: NDArray) => jit((b: NDArray) => np.sum(np.multiply(a, b)))(np.square(a)))(
      f64([
        [1, 2],
        [3, 4],
      ]),
    );
    expect(r.toJs()).toEqual([1 + 8, 27 + 64]);
    const outer = jit((a: NDArray) => jit((b: NDArray) => np.multiply(a, b))(np.add(a, 1)));
    expect(outer(f64([1, 2])).toJs()).toEqual([2, 6]);
  });

  it("nested jit: the inner call is a pjit equation of the outer jaxpr", () => {
    const inner = jit(function inner(x: NDArray) {
      return np.sin(x);
    });
    const text = makeJaxpr((x: NDArray) => np.multiply(inner(x), 2))(f64([1])).toString();
    expect(text).toContain("pjit[name=inner");
    expect(jit((x: NDArray) => np.multiply(inner(x), 2))(f64([0.5])).item()).toBeCloseTo(2 * Math.sin(0.5), 15);
  });
});

describe("jit: reading values, staticArgnums and errors", () => {
  it("item() inside jit throws an error that explains abstract values and names staticArgnums", () => {
    const m = msg(() => jit((x: NDArray) => np.multiply(x, x.item()))(f64(2)));
    expect(m).toMatch(/^item\(\): the value of this f64\[\] array is abstract here: under jit/);
    expect(m).toContain("only shapes and dtypes are known");
    expect(m).toContain("staticArgnums");
  });

  it("a JS branch or loop on an array value throws the same error", () => {
    const relu = (x: NDArray): NDArray => (np.sum(x).item() > 0 ? x : np.zeros(x.shape, "float64"));
    expect(relu(f64([1, -0.5])).toJs()).toEqual([1, -0.5]); // fine eagerly
    expect(msg(() => jit(relu)(f64([1, -0.5])))).toMatch(/abstract.*staticArgnums/s);
    const loop = (x: NDArray): NDArray => {
      let y = x;
      while (np.max(y).item() < 10) y = np.multiply(y, 2);
      return y;
    };
    expect(msg(() => jit(loop)(f64([1])))).toMatch(/abstract/);
    expect(msg(() => jit((x: NDArray) => x.toJs())(f64([1])))).toMatch(/^toJs\(\): the value of this f64\[1\] array is abstract/);
  });

  it("the fix the error suggests: making the argument static", () => {
    const power = (x: NDArray, n: number): NDArray => {
      let y = np.onesLike(x);
      for (let i = 0; i < n; i++) y = np.multiply(y, x);
      return y;
    };
    const jp = jit(power, { staticArgnums: [1] });
    expect(jp(f64([2, 3]), 3).toJs()).toEqual([8, 27]);
    expect(jp(f64([2, 3]), 0).toJs()).toEqual([1, 1]);
    // grad through the static-argument function: d/dx x^3 = 3x^2
    expect(grad((x: NDArray) => np.sum(jp(x, 3)))(f64([2, 3])).toJs()).toEqual([12, 27]);
  });

  it("bad staticArgnums and array static arguments are rejected with the fix", () => {
    expect(msg(() => jit((x: NDArray, y: NDArray) => np.add(x, y), { staticArgnums: [1] })(f64(1), f64(2)))).toBe(
      "jit(fn): static argument 1 is an array; static arguments must be plain JS values (numbers, strings, booleans, or objects of them). Pass arrays as ordinary (traced) arguments.",
    );
    expect(msg(() => jit((x: NDArray) => x, { staticArgnums: [2] })(f64(1)))).toBe(
      "jit(fn): staticArgnums contains 2 but the function was called with 1 argument(s).",
    );
    // an array inside a static object is rejected too (its values are not part of the cache key)
    expect(msg(() => jit((x: NDArray, o: { s: NDArray }) => np.multiply(x, o.s), { staticArgnums: [1] })(f64(1), { s: f64(2) }))).toMatch(
      /^jit\(fn\): static argument 1\.s is an array/,
    );
  });

  it("non-array arguments and results are rejected, naming jit", () => {
    expect(msg(() => jit((x: unknown) => x)("a"))).toMatch(/^jit\(fn\): every leaf of an? argument must be an array or a number, got string/);
    expect(msg(() => jit(() => "a")())).toMatch(/^jit\(fn\): every leaf of an? result must be an array or a number/);
  });
});

describe("jit: lower()", () => {
  it("gives the optimized jaxpr (typechecks; dead code removed) and its text", () => {
    const f = jit(function f(a: NDArray, b: NDArray) {
      np.exp(a); // dead: removed by the passes
      return np.matmul(a, b);
    });
    const lowered = f.lower(
      f64([
        [1, 2, 3],
        [4, 5, 6],
      ]),
      f64([
        [1, 0],
        [0, 1],
        [1, 1],
      ]),
    );
    typecheckJaxpr(lowered.jaxpr.jaxpr);
    expect(lowered.jaxpr.jaxpr.eqns.map((e) => e.primitive.name)).toEqual(["matmul"]);
    expect(lowered.text()).toMatchInlineSnapshot(`
      "{ lambda ; a:f64[2,3] b:f64[3,2]. let c:f64[2,2] = matmul a b in (c) }"
    `);
    expect(lowered.text()).toBe(lowered.jaxpr.toString());
  });

  it("lower() of a transformed function shows the transformed program", () => {
    // d/dx sum(x * c) = c: the gradient of a linear function is a constant broadcast
    const c = f64([2, 3]);
    const lowered = jit(grad((x: NDArray) => np.sum(np.multiply(x, c)))).lower(f64([0, 0]));
    typecheckJaxpr(lowered.jaxpr.jaxpr);
    expect(lowered.jaxpr.inAvals.map(String)).toEqual(["f64[2]"]);
    expect(lowered.jaxpr.outAvals.map(String)).toEqual(["f64[2]"]);
  });
});

describe("jit: compiled code computes what eager code does on dtype corner cases", () => {
  const cases: [string, (x: NDArray) => NDArray, NDArray][] = [
    ["int32 products wrap around", (x) => np.add(np.multiply(np.multiply(x, x), x), 7), np.array([123456789, -987654321, 46341], { dtype: "int32" })],
    ["int32 sum of wrapped squares", (x) => np.sum(np.multiply(x, x)), np.array([123456789, -987654321, 46341], { dtype: "int32" })],
    ["int32 negation of the minimum", (x) => np.negative(x), np.array([-2147483648, 5], { dtype: "int32" })],
    ["int32 true division gives float32", (x) => np.divide(x, 2), np.array([7, -7], { dtype: "int32" })],
    ["float to int32 truncates toward zero", (x) => x.astype("int32"), f64([2.7, -2.7, 1e3])],
    ["float32 rounding of every intermediate", (x) => np.subtract(np.add(x, 1), 1), np.array([1e-8, 3.3, 16777217], { dtype: "float32" })],
    ["float32 overflow to infinity", (x) => np.exp(np.multiply(x, 100)), np.array([1e-8, 3.3], { dtype: "float32" })],
    ["NaN propagates through maximum and max", (x) => np.add(np.maximum(x, 0), np.max(x)), f64([NaN, 1, 2])],
    ["bool sums count", (x) => np.sum(np.greater(x, 0)), f64([1, -1, 2])],
  ];
  for (const [name, f, x] of cases) {
    it(name, () => {
      const want = f(x);
      const got = jit(f)(x);
      expect(got.dtype).toBe(want.dtype);
      expect(got.shape).toEqual(want.shape);
      expect(Array.from(got.data())).toEqual(Array.from(want.data()));
    });
  }
});
