/**
 * `config.update` (issue 13, 6): names and value types are validated; `debugNans` makes
 * the first primitive that turns non-NaN inputs into a NaN throw, naming the primitive
 * and the user's line, eagerly and under jit (re-running the jaxpr equation by equation).
 */
import { afterEach, describe, expect, it } from "vitest";
import { config, grad, jit, np, vmap } from "../../src/index.js";
import { expectError } from "../numpy/util.js";

afterEach(() => {
  config.update("debugNans", false);
  config.update("jitCacheSize", 256);
});

describe("config.update", () => {
  it("validates the name and the value", () => {
    expectError(() => config.update("debugNan" as never, true as never), "config.update", "`debugNan`", "did you mean `debugNans`");
    expectError(() => config.update("jax_debug_nans" as never, true as never), "config.update", "debugNans");
    expectError(() => config.update("debugNans", 1 as never), "config.update", "debugNans", "boolean", "1");
    expectError(() => config.update("jitCacheSize", 0), "config.update", "jitCacheSize", "positive integer", "0");
    expectError(() => config.update("jitCacheSize", 2.5), "jitCacheSize", "2.5");
    expect(config.get("debugNans")).toBe(false);
    config.update("jitCacheSize", 8);
    expect(config.get("jitCacheSize")).toBe(8);
  });
});

describe("debugNans", () => {
  const userLine = /config\.test\.ts:\d+/;
  it("off (the default): NaN flows through", () => {
    expect(np.log(np.array(-1)).item()).toBeNaN();
  });
  it("eager: names the primitive and the user's line", () => {
    config.update("debugNans", true);
    const msg = expectError(() => np.log(np.array([1, -1])), "debugNans", "log", "f32[2]", userLine);
    expect(msg).toMatch(/debugNans/);
    // NaN in, NaN out is not reported: only the primitive that makes the first NaN is
    expect(np.add(np.array(NaN), 1).item()).toBeNaN();
    expectError(() => np.divide(np.array(0), np.array(0)), "div", userLine);
    // under grad the values are concrete: the backward pass's NaN is found too
    expectError(() => grad((x: np.Array) => np.sqrt(x).mul(0).sum())(np.array([0])), "debugNans", userLine); // 0 · inf
  });
  it("under jit: re-runs the jaxpr equation by equation and names the equation and where it was traced", () => {
    const f = jit((x: np.Array) => {
      const y = np.multiply(x, 2);
      return np.log(np.subtract(y, 4)); // NaN for x < 2
    });
    expect(f(np.array([3])).toJs()).toEqual([Math.fround(Math.log(2))]);
    config.update("debugNans", true);
    const msg = expectError(() => f(np.array([3, 1])), "debugNans", "log", "jit", userLine);
    expect(msg).toMatch(/log/);
    expect(f(np.array([3, 5])).shape).toEqual([2]);
    // vmap of jit
    expectError(() => vmap(f)(np.array([[1]])), "log");
  });
});
