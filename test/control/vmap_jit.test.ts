/**
 * Batching and compilation of lax control flow: vmap of each primitive equals a loop
 * over the batch (including batched predicates, which run both branches or keep
 * iterating until every example is done), jit equals eager, and a scan of length 1000
 * stays one loop in the IR.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Array as NDArray, grad, jit, lax, makeJaxpr, np, vmap } from "../../src/index.js";
import { randomArray, seededRandom } from "../helpers/numeric.js";

const f64 = (rand: () => number, shape: number[]): NDArray => randomArray(rand, shape, -1, 1, "float64");
const rows = (x: NDArray): NDArray[] =>
  Array.from({ length: x.shape[0]! }, (_, i) => np.reshape(np.slice(x, [i, ...x.shape.slice(1).map(() => 0)], [i + 1, ...x.shape.slice(1)]), x.shape.slice(1)));
const close = (a: NDArray, b: NDArray, digits = 12): void => {
  expect(a.shape).toEqual(b.shape);
  const bd = b.data();
  a.data().forEach((v, k) => expect(v).toBeCloseTo(bd[k]!, digits));
};

describe("vmap", () => {
  it("vmap(scan) equals a loop over the batch, with the batch on carry, xs or a closed-over weight (property)", () => {
    const body = (w: NDArray) => (h: NDArray, x: NDArray) => {
      const n = np.tanh(np.add(np.multiply(w, h), x));
      return [n, np.square(n)] as [NDArray, NDArray];
    };
    const f = (w: NDArray, h0: NDArray, xs: NDArray) => lax.scan(body(w), h0, xs);
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 0, max: 5 }),
        fc.constantFrom<[number | null, number | null, number | null]>([0, null, null], [null, 0, null], [null, null, 1], [0, 0, 0], [null, null, 0]),
        fc.integer({ min: 0, max: 1e6 }),
        (B, T, axes, seed) => {
          const r = seededRandom(seed);
          const w = axes[0] === null ? f64(r, [2]) : f64(r, [B, 2]);
          const h0 = axes[1] === null ? f64(r, [2]) : f64(r, [B, 2]);
          const xs = axes[2] === null ? f64(r, [T, 2]) : axes[2] === 0 ? f64(r, [B, T, 2]) : f64(r, [T, B, 2]);
          const [hB, ysB] = vmap(f, { inAxes: axes })(w, h0, xs) as [NDArray, NDArray];
          for (let b = 0; b < B; b++) {
            const pick = (x: NDArray, ax: number | null) => (ax === null ? x : rows(ax === 0 ? x : np.transpose(x, [1, 0, 2]))[b]!);
            const [h, ys] = f(pick(w, axes[0]), pick(h0, axes[1]), pick(xs, axes[2]));
            close(rows(hB)[b]!, h);
            close(rows(ysB)[b]!, ys);
          }
        },
      ),
      { numRuns: 20 },
    );
  });

  it("vmap(cond) with a batched predicate runs both branches and selects per example", () => {
    const f = (x: NDArray) =>
      lax.cond(
        np.greater(np.sum(x), 0),
        (a: NDArray) => np.multiply(a, 2),
        (a: NDArray) => np.sin(a),
        x,
      );
    const xs = np.array(
      [
        [1, 2],
        [-3, 1],
        [0.5, -0.1],
      ],
      { dtype: "float64" },
    );
    const got = vmap(f)(xs);
    rows(xs).forEach((x, b) => close(rows(got)[b]!, f(x)));
    // the batched index of switch is clamped per example
    const fns = [(a: NDArray) => np.add(a, 1), (a: NDArray) => np.multiply(a, 3)];
    const idx = np.array([-1, 0, 1, 5], { dtype: "int32" });
    const s = vmap((i: NDArray, a: NDArray) => lax.switch(i, fns, a), { inAxes: [0, null] })(idx, np.array(2, { dtype: "float64" }));
    expect(s.toJs()).toEqual([3, 3, 6, 6]);
    // gradients of the batched select
    const g = vmap(grad((x: NDArray) => np.sum(f(x))))(xs);
    rows(xs).forEach((x, b) => close(rows(g)[b]!, grad((z: NDArray) => np.sum(f(z)))(x)));
  });

  it("vmap(whileLoop) with a batched predicate iterates until every example is done", () => {
    // steps to bring v to at most 1: divide by 3 above 10, else subtract 1
    const collatzSteps = (n: NDArray) =>
      lax.whileLoop(
        ([v]: [NDArray, NDArray]) => np.greater(v, 1),
        ([v, k]: [NDArray, NDArray]) => [np.where(np.greater(v, 10), np.divide(v, 3), np.subtract(v, 1)), np.add(k, 1)] as [NDArray, NDArray],
        [n, np.array(0, { dtype: "int32" })] as [NDArray, NDArray],
      )[1];
    const ns = np.array([1, 6, 7, 90]);
    const want = rows(ns).map((n) => collatzSteps(n).item());
    expect(want).toEqual([0, 5, 6, 11]);
    expect(vmap(collatzSteps)(ns).toJs()).toEqual(want);
    expect(jit(vmap(collatzSteps))(ns).toJs()).toEqual(want);
  });

  it("vmap(foriLoop) and lax.map equal loops", () => {
    const f = (x: NDArray) => lax.foriLoop(0, 3, (_i: NDArray, v: NDArray) => np.sin(np.add(v, x)), x);
    const xs = np.array([0.1, 0.5, -0.3], { dtype: "float64" });
    close(vmap(f)(xs), np.stack(rows(xs).map(f)));
    close(lax.map(f, xs), np.stack(rows(xs).map(f)));
  });
});

describe("jit", () => {
  it("jit equals eager for cond, switch, whileLoop and scan (property)", () => {
    fc.assert(
      fc.property(fc.double({ min: -3, max: 3, noNaN: true }), fc.integer({ min: 0, max: 4 }), (v, n) => {
        const x = np.array(v, { dtype: "float64" });
        const f = (x: NDArray, n: NDArray) => {
          const a = lax.cond(
            np.greater(x, 0),
            (y: NDArray) => np.exp(y),
            (y: NDArray) => np.cos(y),
            x,
          );
          const b = lax.switch(n, [(y: NDArray) => y, (y: NDArray) => np.square(y), (y: NDArray) => np.negative(y)], a);
          const c = lax.whileLoop(
            (s: NDArray) => np.less(s, 100),
            (s: NDArray) => np.add(np.multiply(s, 2), 1),
            np.abs(b),
          );
          return lax.scan((acc: NDArray, k: NDArray) => [np.add(acc, np.multiply(k, c)), acc], c, np.arange(0, 3, 1, "float64"));
        };
        const idx = np.array(n, { dtype: "int32" });
        const [e1, e2] = f(x, idx);
        const [j1, j2] = jit(f)(x, idx);
        close(j1, e1, 10);
        close(j2, e2, 10);
      }),
      { numRuns: 30 },
    );
  });

  it("a scan of length 1000 stays one loop in the IR (not unrolled)", () => {
    const f = (w: NDArray, h0: NDArray) => lax.scan((h: NDArray) => [np.tanh(np.multiply(w, h)), null], h0, null, { length: 1000 })[0];
    const w = np.array([0.5, 0.9]);
    const h0 = np.array([1, -1]);
    const text = jit(f).lower(w, h0).text();
    expect(text.match(/scan\[/g)?.length).toBe(1);
    expect(text).toContain("length=1000");
    expect(text.split("\n").length).toBeLessThan(15);
    expect(makeJaxpr(f)(w, h0).toString()).toMatchInlineSnapshot(`
      "{ lambda ; a:f32[2] b:f32[2]. let
          c:f32[2] = scan[length=1000 reverse=false num_consts=1 num_carry=1 jaxpr={ lambda ; a:f32[2] b:f32[2]. let c:f32[2] = mul a b; d:f32[2] = tanh c in (d) }] a b
        in (c) }"
    `);
    // the gradient is one forward scan and one reverse scan
    const gtext = jit(grad((w: NDArray) => np.sum(f(w, h0))))
      .lower(w)
      .text();
    expect(gtext.match(/scan\[/g)?.length).toBe(2);
    expect(gtext).toContain("reverse=true");
  });
});
