import { describe, expect, it } from "vitest";
import { grad, makeJaxpr, np } from "../src/index.js";

describe("smoke", () => {
  it("README example", () => {
    const f = (x: np.Array) => np.add(np.square(np.subtract(x, 1)), np.square(np.add(x, 1)));
    expect(f(np.array(4.5)).item()).toBe(42.5);
    expect(grad(f)(np.array(4.5)).item()).toBe(18);
    expect(grad(grad(f))(np.array(4.5)).item()).toBe(4);
  });
  it("prints a jaxpr in JAX's style", () => {
    const j = makeJaxpr((x: np.Array) => np.multiply(np.sin(x), 2))(np.zeros([3]));
    expect(j.toString()).toMatchInlineSnapshot(`"{ lambda ; a:f32[3]. let b:f32[3] = sin a; c:f32[3] = mul b 2.0:f32[] in (c) }"`);
  });
});
