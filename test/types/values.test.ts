/**
 * The values behind the computed result types (test/types/transforms.test-d.ts): number
 * leaves come back as arrays (`ToArrays`), argnums arrays give JS arrays, hasAux gives
 * pairs, vjp gives one cotangent per primal, and named structures keep their keys.
 */
import { describe, expect, it } from "vitest";
import { Array as NDArray, grad, jacrev, jit, np, stopGradient, tree, valueAndGrad, vjp, vmap } from "../../src/index.js";
import { f64 } from "../helpers/numeric.js";

const isArray = (v: unknown): boolean => v instanceof NDArray;

describe("number leaves come back as arrays", () => {
  it("in gradients, transform outputs, aux values and stopGradient", () => {
    // a leaf typed number arrives in f as an array (leaves are converted), so f computes with np functions
    const f = (p: { scale: number; w: NDArray }, n: number): NDArray => np.sum(np.multiply(p.w, np.multiply(p.scale, n)));
    const g = grad(f)({ scale: 2, w: f64([1, 2]) }, 3);
    expect(isArray(g.scale) && isArray(g.w)).toBe(true);
    // the scale is a JS number leaf: an input the gradient is taken for, d/dscale of sum(w * scale * 3) = 3 * sum(w)
    expect(g.scale.item()).toBe(9);
    expect(isArray(grad((s: number) => np.multiply(np.array(s), 2))(1))).toBe(true);
    const out = vmap((a: NDArray) => ({ s: np.sum(a), n: 1 }))(f64([[1, 2]]));
    expect(isArray(out.s) && isArray(out.n)).toBe(true);
    expect(out.n.toJs()).toEqual([1]); // broadcast over the batch of 1
    const jo = jit((a: NDArray) => [a, 2] as const)(f64(1));
    expect(isArray(jo[1])).toBe(true);
    const [, aux] = grad((a: NDArray): [NDArray, { n: number }] => [np.sum(a), { n: 4 }], { hasAux: true })(f64([1]));
    expect(aux.n.item()).toBe(4);
    expect(isArray(stopGradient(3))).toBe(true);
  });
});

describe("structures of the results", () => {
  const loss = (p: { w: NDArray; b: NDArray }, x: NDArray): NDArray => np.sum(np.add(np.multiply(p.w, x), p.b));
  const p = { w: f64([1, 2]), b: f64(0.5) };
  const x = f64([3, 4]);
  it("argnums arrays give JS arrays in that order; valueAndGrad pairs", () => {
    const g = grad(loss, { argnums: [1, 0] })(p, x);
    expect(g).toHaveLength(2);
    expect(g[0].toJs()).toEqual([1, 2]);
    expect(g[1].w.toJs()).toEqual([3, 4]);
    const [v, [gp, gx]] = valueAndGrad(loss, { argnums: [0, 1] })(p, x);
    expect(v.item()).toBe(12);
    expect(Object.keys(gp).sort()).toEqual(["b", "w"]);
    expect(gx.toJs()).toEqual([1, 2]);
  });
  it("vjp gives one cotangent per primal; jacrev of a dict output has the input's structure at each key", () => {
    const [, back] = vjp(loss, p, x);
    const cts = back(f64(1));
    expect(cts).toHaveLength(2);
    expect(cts[0].b.item()).toBe(2); // b is broadcast over the 2 elements
    const J = jacrev((q: { w: NDArray; b: NDArray }) => ({ u: np.multiply(q.w, 2), v: q.b }))(p);
    expect(J.u.w.toJs()).toEqual([
      [2, 0],
      [0, 2],
    ]);
    expect(J.v.b.item()).toBe(1);
    expect(J.v.w.toJs()).toEqual([0, 0]);
  });
  it("tree.map keeps keys and maps leaves", () => {
    const shapes = tree.map((a) => a.shape, p);
    expect(shapes).toEqual({ w: [2], b: [] });
  });
});
