/**
 * Transform-level misuse is an Error at the call that makes the mistake: unknown
 * option keys (with the nearest valid key), repeated argnums, a non-function to
 * transform, an async function; and the options that used to be ignored (`hasAux`
 * of the Jacobians, `staticArgnums` of makeJaxpr) are honoured.
 */
import { describe, expect, it } from "vitest";
import {
  type Array as NDArray,
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
  valueAndGrad,
  vjp,
  vmap,
} from "../../src/index.js";
import { f64 } from "../helpers/numeric.js";
import { expectError } from "../numpy/util.js";

const sumSq = (x: NDArray): NDArray => np.sum(np.square(x));
/** A function with its types erased, to pass what the types rule out. */
const untyped = (f: unknown) => f as (...args: unknown[]) => (...args: unknown[]) => unknown;

describe("unknown option keys name the transform, the key and the nearest valid key", () => {
  it("jit", () => {
    expectError(() => jit(sumSq, { staticArgNums: [1] } as never), "jit", "unknown option `staticArgNums`", "did you mean `staticArgnums`");
    expectError(() => jit(sumSq, { static_argnums: [1] } as never), "jit", "`static_argnums`", "did you mean `staticArgnums`");
    expectError(() => jit(sumSq, { donate: true } as never), "jit", "`donate`", "`staticArgnums`, `backend`");
  });
  it("vmap", () => {
    expectError(() => vmap(sumSq, { in_axes: 0 } as never), "vmap", "`in_axes`", "did you mean `inAxes`");
    expectError(() => vmap(sumSq, { outAxis: 0 } as never), "vmap", "`outAxis`", "did you mean `outAxes`");
  });
  it("grad, valueAndGrad and the Jacobians", () => {
    expectError(() => grad(sumSq, { argnum: 0 } as never), "grad", "`argnum`", "did you mean `argnums`");
    expectError(() => valueAndGrad(sumSq, { has_aux: true } as never), "valueAndGrad", "`has_aux`", "did you mean `hasAux`");
    expectError(() => jacfwd(sumSq, { argnum: 0 } as never), "jacfwd", "did you mean `argnums`");
    expectError(() => jacrev(sumSq, { hasaux: true } as never), "jacrev", "did you mean `hasAux`");
    expectError(() => hessian(sumSq, { argNums: 0 } as never), "hessian", "did you mean `argnums`");
  });
  it("makeJaxpr and checkGrads", () => {
    expectError(() => makeJaxpr(sumSq, { static_argnums: [0] } as never), "makeJaxpr", "did you mean `staticArgnums`");
    expectError(() => checkGrads(sumSq, [f64([1])], { mode: ["rev"] } as never), "checkGrads", "`mode`", "did you mean `modes`");
    expectError(() => checkGrads(sumSq, [f64([1])], { modes: ["backward"] } as never), "checkGrads", "modes", '"fwd"', '"rev"');
  });
  it("customJvp and customVjp take no options: an extra argument is an Error", () => {
    const rule = ([x]: [NDArray], [t]: [NDArray]) => [sumSq(x), np.sum(np.multiply(t, np.multiply(x, 2)))] as const;
    expectError(() => untyped(customJvp)(sumSq, rule, { nondiff_argnums: [1] }), "customJvp", "no options", "nondiff_argnums");
    expectError(
      () =>
        untyped(customVjp)(
          sumSq,
          (x: NDArray) => [sumSq(x), x],
          (x: NDArray, g: NDArray) => [np.multiply(x, g)],
          { nondiffArgnums: [1] },
        ),
      "customVjp",
      "no options",
    );
  });
  it("an options argument that is not an object", () => {
    expectError(() => grad(sumSq, 1 as never), "grad", "options must be a plain object");
    expectError(() => vmap(sumSq, [0] as never), "vmap", "options must be a plain object", "inAxes");
  });
  it("bad option values", () => {
    expectError(() => grad(sumSq, { argnums: 0.5 }), "grad", "argnums must be an integer");
    expectError(() => grad(sumSq, { hasAux: "yes" } as never), "grad", "hasAux must be true or false");
    expectError(() => jit(sumSq, { staticArgnums: ["x"] } as never), "jit", "staticArgnums must be an integer");
    expectError(() => vmap(sumSq, { inAxes: "0" } as never), "vmap", "inAxes must be an axis");
    expectError(() => vmap(sumSq, { inAxes: [0, "x"] } as never), "vmap", "inAxes[1] must be an axis");
  });
});

describe("repeated argnums", () => {
  const f = (x: NDArray, y: NDArray): NDArray => np.sum(np.multiply(x, y));
  it("are an Error when the transform is made (JAX would give one wrong gradient)", () => {
    expectError(() => grad(f, { argnums: [0, 0] }), "grad", "[0,0]", "argument 0 twice");
    expectError(() => valueAndGrad(f, { argnums: [1, 0, 1] }), "valueAndGrad", "argument 1 twice");
    expectError(() => jacrev(f, { argnums: [0, 0] }), "jacrev", "twice");
    expectError(() => jacfwd(f, { argnums: [1, 1] }), "jacfwd", "twice");
    expectError(() => jit(f, { staticArgnums: [1, 1] }), "jit", "staticArgnums", "twice");
  });
  it("negative positions that name the same argument are an Error at the call", () => {
    const g = grad(f, { argnums: [0, -2] });
    expectError(() => g(f64([1]), f64([2])), "grad", "[0,-2]", "argument 0 twice");
  });
});

describe("jacfwd, jacrev and hessian honour hasAux", () => {
  // f(x) = [sin(x) * 3, aux]; J = diag(3 cos x); the aux is returned undifferentiated
  const x = f64([0.5, -1]);
  const f = (v: NDArray): [NDArray, { norm: NDArray; n: number }] => [np.multiply(np.sin(v), 3), { norm: np.sum(np.square(v)), n: 7 }];
  const want = [
    [3 * Math.cos(0.5), 0],
    [0, 3 * Math.cos(-1)],
  ];
  it("jacfwd and jacrev return [jacobian, aux]", () => {
    for (const jac of [jacfwd, jacrev]) {
      const [J, aux] = jac(f, { hasAux: true })(x);
      const got = J.toJs() as number[][];
      got.forEach((row, i) => row.forEach((v, j) => expect(v).toBeCloseTo(want[i]![j]!, 12)));
      expect(aux.norm.item()).toBeCloseTo(1.25, 12);
      expect(aux.n.item()).toBe(7);
    }
  });
  it("with several argnums and under jit", () => {
    const g = (a: NDArray, b: NDArray): [NDArray, NDArray] => [np.multiply(a, b), np.add(a, b)];
    const [[da, db], aux] = jacrev(g, { argnums: [0, 1], hasAux: true })(f64(2), f64(5));
    expect([da.item(), db.item(), aux.item()]).toEqual([5, 2, 7]);
    const [J, a2] = jit((v: NDArray) => jacfwd(f, { hasAux: true })(v))(x);
    expect((J.toJs() as number[][])[1]![1]).toBeCloseTo(want[1]![1]!, 12);
    expect(a2.norm.item()).toBeCloseTo(1.25, 12);
  });
  it("hessian returns [hessian, aux]", () => {
    // h(v) = sum(v^3): H = diag(6 v)
    const h = (v: NDArray): [NDArray, NDArray] => [np.sum(np.power(v, 3)), np.max(v)];
    const [H, aux] = hessian(h, { hasAux: true })(f64([1, 2]));
    expect(H.toJs()).toEqual([
      [6, 0],
      [0, 12],
    ]);
    expect(aux.item()).toBe(2);
  });
  it("without hasAux the aux is differentiated as before (no silent change)", () => {
    const J = jacrev((v: NDArray) => np.multiply(v, 2))(f64([1, 2]));
    expect(J.toJs()).toEqual([
      [2, 0],
      [0, 2],
    ]);
  });
  it("a function that does not return [out, aux] is an Error", () => {
    expectError(() => jacfwd(sumSq, { hasAux: true })(x), "jacfwd", "hasAux", "[out, aux]");
    expectError(() => jacrev((v: NDArray) => [v], { hasAux: true })(x), "jacrev", "hasAux", "length 1");
  });
});

describe("makeJaxpr honours staticArgnums", () => {
  const f = (x: NDArray, n: number): NDArray => {
    let y = x;
    for (let i = 0; i < n; i++) y = np.sin(y);
    return y;
  };
  it("static arguments are passed as they are and are not inputs of the jaxpr", () => {
    const j3 = makeJaxpr(f, { staticArgnums: [1] })(np.zeros([2]), 3);
    expect(j3.jaxpr.inVars).toHaveLength(1);
    expect(j3.jaxpr.eqns.map((e) => e.primitive.name)).toEqual(["sin", "sin", "sin"]);
    expect(makeJaxpr(f, { staticArgnums: 1 })(np.zeros([2]), 1).jaxpr.eqns).toHaveLength(1);
    expect(makeJaxpr(f, { staticArgnums: [-1] })(np.zeros([2]), 2).jaxpr.eqns).toHaveLength(2);
  });
  it("without it, a JS number argument is a traced input (the loop bound cannot be read)", () => {
    expect(makeJaxpr((x: NDArray, s: NDArray | number) => np.multiply(x, s))(np.zeros([2]), 3).jaxpr.inVars).toHaveLength(2);
  });
  it("out-of-range positions are an Error", () => {
    expectError(() => makeJaxpr(f, { staticArgnums: [2] })(np.zeros([2]), 3), "makeJaxpr", "staticArgnums", "out of range");
  });
});

describe("a non-function to transform is an Error when the transform is made", () => {
  it("names the transform and what it got", () => {
    expectError(() => jit("f" as never), "jit", "expects a function", '"f"');
    expectError(() => grad(3 as never), "grad", "expects a function", "3");
    expectError(() => valueAndGrad(null as never), "valueAndGrad", "null");
    expectError(() => vmap({} as never), "vmap", "expects a function");
    expectError(() => jacfwd(undefined as never), "jacfwd", "undefined");
    expectError(() => jacrev("g" as never), "jacrev", "expects a function");
    expectError(() => hessian(1 as never), "hessian", "expects a function");
    expectError(() => hessianVectorProduct(1 as never), "hessianVectorProduct", "expects a function");
    expectError(() => makeJaxpr("f" as never), "makeJaxpr", "expects a function");
    expectError(() => untyped(vjp)("f"), "vjp", "expects a function");
    expectError(() => untyped(linearize)("f"), "linearize", "expects a function");
    expectError(() => untyped(jvp)("f", [], []), "jvp", "expects a function");
    expectError(() => untyped(checkGrads)("f", []), "checkGrads", "expects a function");
    expectError(() => customVjp(sumSq, "fwd" as never, "bwd" as never), "customVjp", "expects a function");
  });
});

describe("an async function is a clean Error, and leaves no unhandled rejected Promise", () => {
  it("grad, valueAndGrad, vmap, jit, jacrev, vjp", async () => {
    const rejections: unknown[] = [];
    const onRejection = (r: unknown): void => {
      rejections.push(r);
    };
    process.on("unhandledRejection", onRejection);
    try {
      // an async function that fails: without care its rejected promise would end the process
      const failing = async (x: NDArray): Promise<NDArray> => {
        throw new Error(`boom ${x.shape.length}`);
      };
      const fine = async (x: NDArray): Promise<NDArray> => np.sum(x);
      for (const f of [failing, fine]) {
        expectError(() => untyped(grad)(f)(f64([1, 2])), "grad", "returned a Promise", "async", "synchronous");
        expectError(() => untyped(valueAndGrad)(f, { hasAux: true })(f64([1, 2])), "valueAndGrad", "returned a Promise");
        expectError(() => vmap(f)(f64([1, 2])), "vmap", "returned a Promise");
        expectError(() => jit(f)(f64([1, 2])), "returned a Promise");
        expectError(() => jacrev(f)(f64([1, 2])), "jacrev", "returned a Promise");
        expectError(() => vjp(f, f64([1, 2])), "vjp", "returned a Promise");
      }
      // let Node report unhandled rejections (after the microtask queue drains)
      await new Promise((resolve) => setImmediate(resolve));
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off("unhandledRejection", onRejection);
    }
    expect(rejections).toEqual([]);
  });
});

describe("checkGrads on a customVjp function", () => {
  const clip = customVjp(
    (x: NDArray) => np.multiply(x, 1),
    (x: NDArray) => [np.multiply(x, 1), null] as const,
    (_r: null, g: NDArray) => [g],
  );
  const f = (x: NDArray): NDArray => np.sum(np.sin(clip(x)));
  it("explains that forward mode is missing and suggests modes: ['rev']", () => {
    expectError(() => checkGrads(f, [f64([0.3, 0.7])]), "checkGrads", "no forward mode", "customVjp", 'modes: ["rev"]');
  });
  it("passes in reverse mode", () => {
    expect(() => checkGrads(f, [f64([0.3, 0.7])], { modes: ["rev"] })).not.toThrow();
  });
});
