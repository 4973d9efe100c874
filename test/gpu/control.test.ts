/**
 * lax control flow on the GPU backend: eagerly and under jit, with gradients, the
 * results equal the CPU's (the loop runs on the host around the body's compiled
 * kernels; arrays that arrive on the GPU are read back for it).
 */
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { type Array as A, checkpoint, getDefaultBackend, grad, jit, lax, np, setDefaultBackend, vmap } from "../../src/index.js";
import { ensureDisplay } from "./display.js";

beforeAll(ensureDisplay);
afterEach(() => setDefaultBackend("cpu"));

const program = (w: A, xs: A): A => {
  const [h, ys] = lax.scan(
    (h: A, x: A) => {
      const n = np.tanh(np.add(np.multiply(w, h), x));
      return [n, np.square(n)];
    },
    np.zeros([3]),
    xs,
  );
  const c = lax.cond(
    np.greater(np.sum(h), 0),
    (a: A) => np.multiply(a, 2),
    (a: A) => np.sin(a),
    h,
  );
  // the trip count is data-dependent; only an integer flows out of the while loop, so grad works
  const [, k] = lax.whileLoop(
    ([v]: [A, A]) => np.less(np.sum(v), 5),
    ([v, k]: [A, A]) => [np.add(v, 1), np.add(k, 1)] as [A, A],
    [np.abs(c), np.array(0, { dtype: "int32" })] as [A, A],
  );
  const d = lax.foriLoop(0, 3, (_i: A, v: A) => np.add(np.multiply(v, 0.9), k.astype("float32")), c);
  return np.add(np.sum(ys), np.sum(checkpoint((z: A) => np.exp(np.multiply(z, 0.1)))(d)));
};

describe("control flow on the GPU backend", () => {
  it("gives the CPU's values and gradients, eagerly, under jit and vmap", () => {
    const w = np.array([0.5, -0.3, 0.8]);
    const xs = np.array([
      [0.1, 0.2, 0.3],
      [-1, 0.5, 2],
      [0.3, 0.3, -0.4],
      [1, -1, 0],
    ]);
    const ref = [program(w, xs).item(), ...grad(program)(w, xs).data(), ...jit(vmap(program, { inAxes: [0, null] }))(np.stack([w, np.negative(w)]), xs).data()];
    setDefaultBackend("gpu");
    expect(getDefaultBackend()).toBe("gpu");
    const w2 = np.array([0.5, -0.3, 0.8]);
    const xs2 = np.array([
      [0.1, 0.2, 0.3],
      [-1, 0.5, 2],
      [0.3, 0.3, -0.4],
      [1, -1, 0],
    ]);
    const got = [
      jit(program)(w2, xs2).item(),
      ...jit(grad(program))(w2, xs2).data(),
      ...jit(vmap(program, { inAxes: [0, null] }))(np.stack([w2, np.negative(w2)]), xs2).data(),
    ];
    expect(jit(program)(w2, xs2).backend).toBe("gpu");
    expect(program(w2, xs2).item()).toBeCloseTo(ref[0]!, 4);
    got.forEach((v, i) => expect(v).toBeCloseTo(ref[i]!, 4));
  });
});
