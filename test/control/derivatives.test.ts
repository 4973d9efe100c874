/**
 * Derivatives through lax control flow and checkpoint: every primitive against float64
 * central differences, the adjoint identity <vjp(u), v> = <u, jvp(v)>, grad-of-grad,
 * hessian-vector products and jacfwd = jacrev (test/helpers/gradcheck.ts), with
 * closures over differentiated values, eagerly and under jit.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Array as NDArray, checkpoint, grad, jacfwd, jit, jvp, lax, linearize, np } from "../../src/index.js";
import { linearizeJaxpr } from "../../src/transforms/ad.js";
import { checkDerivatives } from "../helpers/gradcheck.js";
import { randomArray, seededRandom } from "../helpers/numeric.js";

const f64 = (rand: () => number, shape: number[]): NDArray => randomArray(rand, shape, -1, 1, "float64");

/** An Elman RNN over xs: h = tanh(W h + U x), returns the sum of the hidden states (a JS-loop reference below). */
function rnnScan(W: NDArray, U: NDArray, h0: NDArray, xs: NDArray, opts: { reverse?: boolean } = {}): NDArray {
  const [h, hs] = lax.scan(
    (h: NDArray, x: NDArray) => {
      const n = np.tanh(np.add(np.matmul(W, h), np.matmul(U, x)));
      return [n, np.sin(n)];
    },
    h0,
    xs,
    opts,
  );
  return np.add(np.sum(hs, { axis: 0 }), h);
}
function rnnLoop(W: NDArray, U: NDArray, h0: NDArray, xs: NDArray, opts: { reverse?: boolean } = {}): NDArray {
  let h = h0;
  let acc = np.zerosLike(h0);
  const T = xs.shape[0]!;
  for (let t = 0; t < T; t++) {
    const i = opts.reverse ? T - 1 - t : t;
    h = np.tanh(np.add(np.matmul(W, h), np.matmul(U, np.reshape(np.slice(xs, [i, 0], [i + 1, xs.shape[1]!]), [xs.shape[1]!]))));
    acc = np.add(acc, np.sin(h));
  }
  return np.add(acc, h);
}

describe("scan", () => {
  it("equals a JS loop, eagerly and under jit (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 6 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 3 }),
        fc.boolean(),
        fc.integer({ min: 0, max: 1e6 }),
        (T, H, I, reverse, seed) => {
          const r = seededRandom(seed);
          const [W, U, h0, xs] = [f64(r, [H, H]), f64(r, [H, I]), f64(r, [H]), f64(r, [T, I])];
          const want = rnnLoop(W, U, h0, xs, { reverse }).toJs();
          // the body runs compiled (fused kernels), so the last bit may differ from eager ops
          const eager = rnnScan(W, U, h0, xs, { reverse }).data();
          const got = jit((a: NDArray, b: NDArray, c: NDArray, d: NDArray) => rnnScan(a, b, c, d, { reverse }))(W, U, h0, xs).data();
          (want as number[]).forEach((v, k) => {
            expect(eager[k]).toBeCloseTo(v, 12);
            expect(got[k]).toBeCloseTo(v, 12);
          });
        },
      ),
      { numRuns: 25 },
    );
  });

  it("has the derivatives of the loop (jvp/vjp/grad-of-grad/hvp/jacobians vs float64 differences)", () => {
    const r = seededRandom(3);
    const args = [f64(r, [3, 3]), f64(r, [3, 2]), f64(r, [3]), f64(r, [4, 2])];
    checkDerivatives((W, U, h0, xs) => rnnScan(W!, U!, h0!, xs!), args, { name: "rnn scan" });
    checkDerivatives((W, U, h0, xs) => rnnScan(W!, U!, h0!, xs!, { reverse: true }), args, { name: "reverse scan", checks: ["jvp", "vjp", "hvp"] });
    checkDerivatives((W, U, h0, xs) => jit((a: NDArray, b: NDArray, c: NDArray, d: NDArray) => rnnScan(a, b, c, d))(W!, U!, h0!, xs!), args, {
      name: "jit(rnn scan)",
      checks: ["jvp", "vjp", "gradgrad"],
    });
  });

  it("grad under jit equals grad eagerly, and grad equals the loop's grad", () => {
    const r = seededRandom(5);
    const [W, U, h0, xs] = [f64(r, [4, 4]), f64(r, [4, 3]), f64(r, [4]), f64(r, [6, 3])];
    const loss = (w: NDArray, u: NDArray) => np.sum(rnnScan(w, u, h0, xs));
    const lossLoop = (w: NDArray, u: NDArray) => np.sum(rnnLoop(w, u, h0, xs));
    const g = grad(loss, { argnums: [0, 1] })(W, U) as NDArray[];
    const gj = jit(grad(loss, { argnums: [0, 1] }))(W, U) as NDArray[];
    const gl = grad(lossLoop, { argnums: [0, 1] })(W, U) as NDArray[];
    g.forEach((gi, i) => {
      const a = gi.data();
      const b = gj[i]!.data();
      const c = gl[i]!.data();
      a.forEach((v, k) => {
        expect(v).toBeCloseTo(b[k]!, 12);
        expect(v).toBeCloseTo(c[k]!, 12);
      });
    });
  });

  it("carries integer state and non-differentiated values alongside", () => {
    const f = (x: NDArray) =>
      lax.scan(
        ([i, v]: [NDArray, NDArray], _x: null) => [[np.add(i, 1), np.multiply(v, np.add(x, i.astype("float64")))], null],
        [np.array(0, { dtype: "int32" }), np.array(1, { dtype: "float64" })],
        null,
        { length: 3 },
      )[0][1];
    // (x)(x+1)(x+2) at x = 2 is 24, derivative 3x² + 6x + 2 = 26
    expect(f(np.array(2, { dtype: "float64" })).item()).toBe(24);
    expect(grad(f)(np.array(2, { dtype: "float64" })).item()).toBeCloseTo(26, 10);
  });

  it("keeps a loop-invariant residual (a closed-over weight) out of the stacked residuals", () => {
    const r = seededRandom(9);
    const W = f64(r, [5, 5]);
    const f = (h0: NDArray) => lax.scan((h: NDArray) => [np.matmul(W, h), null], h0, null, { length: 100 })[0];
    const lin = linearizeJaxpr(f, f64(r, [5]));
    // the linear program needs W once, not a stack of 100 copies
    expect(lin.consts.map((c) => c.size).reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(25);
  });
});

describe("cond and switch", () => {
  const branchy = (x: NDArray, y: NDArray) =>
    lax.cond(
      np.greater(np.sum(x), 0),
      (a: NDArray, b: NDArray) => np.multiply(np.sin(a), b),
      (a: NDArray, b: NDArray) => np.add(np.exp(a), np.square(b)),
      x,
      y,
    );

  it("takes the right branch and has its derivatives, eagerly and under jit", () => {
    const r = seededRandom(11);
    for (const sign of [1, -1]) {
      const x = np.add(np.abs(f64(r, [3])), 0.5).mul(sign);
      const y = f64(r, [3]);
      const want = sign > 0 ? np.multiply(np.sin(x), y) : np.add(np.exp(x), np.square(y));
      expect(branchy(x, y).toJs()).toEqual(want.toJs());
      expect(jit(branchy)(x, y).toJs()).toEqual(want.toJs());
      checkDerivatives(branchy, [x, y], { name: `cond (${sign > 0 ? "true" : "false"} branch)` });
    }
  });

  it("closes over differentiated values in each branch", () => {
    const f = (w: NDArray, x: NDArray) =>
      lax.cond(
        np.less(np.sum(x), 0),
        () => np.multiply(w, x),
        () => np.sin(np.multiply(w, w)),
      );
    const r = seededRandom(12);
    checkDerivatives(f, [f64(r, [2]), np.array([-1, -2], { dtype: "float64" })], { name: "cond closures (true)" });
    checkDerivatives(f, [f64(r, [2]), np.array([1, 2], { dtype: "float64" })], { name: "cond closures (false)" });
  });

  it("switch clamps its index and differentiates the chosen branch", () => {
    const fns = [(x: NDArray) => np.sin(x), (x: NDArray) => np.multiply(x, x), (x: NDArray) => np.exp(x)];
    const x = np.array([0.3, -0.7], { dtype: "float64" });
    for (const [i, k] of [
      [-5, 0],
      [0, 0],
      [1, 1],
      [2, 2],
      [9, 2],
    ] as const) {
      expect(lax.switch(np.array(i, { dtype: "int32" }), fns, x).toJs()).toEqual(fns[k]!(x).toJs());
      checkDerivatives((z) => lax.switch(i, fns, z!), [x], { name: `switch ${i}`, checks: ["jvp", "vjp", "hvp"] });
    }
  });
});

describe("whileLoop and foriLoop", () => {
  it("whileLoop is forward-differentiable (jvp vs differences), with a data-dependent trip count", () => {
    // repeated squaring-ish map until the value passes 10
    const f = (x: NDArray) =>
      lax.whileLoop(
        (v: NDArray) => np.less(np.sum(v), 10),
        (v: NDArray) => np.add(np.multiply(v, x), 1),
        np.ones([2], "float64"),
      );
    const x = np.array([1.5, 2.5], { dtype: "float64" });
    checkDerivatives(f, [x], { name: "whileLoop", checks: ["jvp"] });
    expect(jit(f)(x).toJs()).toEqual(f(x).toJs());
    // two steps, v1 = x + 1 and v2 = v1 x + 1: dv2/dx = diag(v1 + x) = diag(4, 6)
    expect(f(x).toJs()).toEqual([4.75, 9.75]);
    expect(jacfwd(f)(x).toJs()).toEqual([
      [4, 0],
      [0, 6],
    ]);
    const [, lin] = linearize(f, x);
    expect(lin(np.array([1, 1], { dtype: "float64" })).toJs()).toEqual([4, 6]);
  });

  it("foriLoop with JS bounds is reverse-differentiable; with array bounds it runs as a while loop", () => {
    const body = (i: NDArray, v: NDArray) => np.add(np.sin(v), np.multiply(i.astype("float64"), v));
    const f = (v: NDArray) => lax.foriLoop(1, 4, body, v);
    const r = seededRandom(21);
    checkDerivatives(f, [f64(r, [3])], { name: "foriLoop" });
    let ref = np.array([0.1, 0.2], { dtype: "float64" });
    for (let i = 1; i < 4; i++) ref = body(np.array(i, { dtype: "int32" }), ref);
    expect(f(np.array([0.1, 0.2], { dtype: "float64" })).toJs()).toEqual(ref.toJs());
    const g = jit((v: NDArray, n: NDArray) => lax.foriLoop(np.array(1, { dtype: "int32" }), n, body, v));
    expect(g(np.array([0.1, 0.2], { dtype: "float64" }), np.array(4, { dtype: "int32" })).toJs()).toEqual(ref.toJs());
    const [, t] = jvp((v: NDArray) => g(v, np.array(4, { dtype: "int32" })), [np.array([0.1, 0.2], { dtype: "float64" })], [np.ones([2], "float64")]);
    const [, t2] = jvp(f, [np.array([0.1, 0.2], { dtype: "float64" })], [np.ones([2], "float64")]);
    expect((t as NDArray).toJs()).toEqual((t2 as NDArray).toJs());
  });
});

describe("checkpoint", () => {
  const mlp = (x: NDArray, w: NDArray) => {
    let h = x;
    for (let i = 0; i < 3; i++) h = np.tanh(np.matmul(h, w));
    return np.sum(np.sin(h));
  };
  const r = seededRandom(31);
  const x = f64(r, [2, 3]);
  const w = f64(r, [3, 3]);

  it("has the values and derivatives of f at orders 1 and 2, for every policy", () => {
    for (const policy of ["nothing_saveable", "dots_saveable", "everything_saveable"] as const) {
      const c = checkpoint(mlp, { policy });
      expect(c(x, w).item()).toBe(mlp(x, w).item());
      const g1 = grad(c, { argnums: [0, 1] })(x, w) as NDArray[];
      const g2 = grad(mlp, { argnums: [0, 1] })(x, w) as NDArray[];
      g1.forEach((g, i) => g.data().forEach((v, k) => expect(v).toBeCloseTo(g2[i]!.data()[k]!, 13)));
      checkDerivatives(c, [x, w], { name: `checkpoint ${policy}` });
    }
  });

  it("saves no residuals but its inputs (or the products with dots_saveable)", () => {
    const res = (f: typeof mlp) => linearizeJaxpr(f, x, w).consts.reduce((n, c) => n + c.size, 0);
    const plain = res(mlp);
    const none = res(checkpoint(mlp));
    const dots = res(checkpoint(mlp, { policy: "dots_saveable" }));
    expect(none).toBe(x.size + w.size);
    expect(dots).toBeGreaterThan(none);
    expect(plain).toBeGreaterThan(none);
  });

  it("passes static arguments through", () => {
    const f = checkpoint((x: NDArray, k: number) => np.multiply(np.sin(x), k), { staticArgnums: [1] });
    expect(grad((x: NDArray) => np.sum(f(x, 3)))(np.array([0], { dtype: "float64" })).toJs()).toEqual([3]);
  });
});
