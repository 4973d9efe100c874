/**
 * Arrays in JS expressions (issue 13, 1): a concrete size-1 array converts to its number,
 * a larger one throws, a tracer of jit/vmap throws the concretization Error, and under
 * grad/jvp (concrete values inside) the number is read as `item()` reads it.
 */
import { describe, expect, it } from "vitest";
import { grad, jit, jvp, np, vmap, type Array as NDArray } from "../../src/index.js";
import { expectError } from "../numpy/util.js";

const branchy = (x: NDArray): NDArray => ((x as unknown as number) > 0 ? np.multiply(x, 3) : np.negative(x));

describe("Symbol.toPrimitive", () => {
  it("a concrete size-1 array is its number", () => {
    expect((np.array(3) as unknown as number) > 0).toBe(true);
    expect((np.array(-3) as unknown as number) > 0).toBe(false);
    expect(Number(np.array(5))).toBe(5);
    expect(Number(np.array([[7]]))).toBe(7);
    expect((np.array(2) as unknown as number) + 1).toBe(3);
    expect(Number(np.array(true))).toBe(1);
    expect(Number(np.array(1.5, { dtype: "float64" }))).toBe(1.5);
    expect(`${np.array(2)}`).toBe("2");
    expect(String(np.array(2.5))).toBe("2.5");
    expect(String(np.array(true))).toBe("true");
  });
  it("a larger array throws when converted, naming the shape and the fix", () => {
    expectError(() => Number(np.array([1, 2])), "[2]", "one element", /item\(\)|sum/);
    expectError(() => (np.zeros([2, 2]) as unknown as number) > 0, "[2,2]");
    expectError(() => (np.zeros([0]) as unknown as number) + 1, "[0]");
  });
  it("the string hint of a larger or abstract array is its description, never a throw", () => {
    expect(`${np.array([1, 2])}`).toBe("Array(f32[2], [1,2])");
    let seen = "";
    jit((x: NDArray) => {
      seen = `${x}`;
      return x;
    })(np.array(1));
    expect(seen).toBe("Array(f32[])");
  });
  it("grad of a JS branch on the value takes the right branch", () => {
    expect(grad(branchy)(np.array(2)).item()).toBe(3);
    expect(grad(branchy)(np.array(-2)).item()).toBe(-1);
    const [y, t] = jvp(branchy, [np.array(2)], [np.array(1)]);
    expect([y.item(), t.item()]).toEqual([6, 3]);
  });
  it("jit of a JS branch on a traced value throws the concretization Error", () => {
    expectError(() => jit(branchy)(np.array(2)), "abstract", "jit", "np.where", "lax.cond", "staticArgnums");
  });
  it("jit of a JS loop bounded by a traced array throws", () => {
    const f = (x: NDArray, n: NDArray): NDArray => {
      for (let i = 0; i < (n as unknown as number); i++) x = x.mul(2);
      return x;
    };
    expectError(() => jit(f)(np.array(1), np.array(3)), "abstract", "staticArgnums");
    // as static, the loop runs
    expect(jit(f, { staticArgnums: [1] })(np.array(1), 3 as unknown as NDArray).item()).toBe(8);
  });
  it("vmap of a JS branch on a batched value throws", () => {
    expectError(() => vmap(branchy)(np.array([1, -1])), "vmap", "np.where");
  });
  it("toJSON gives the nested numbers", () => {
    expect(
      JSON.stringify(
        np.array([
          [1, 2],
          [3, 4],
        ]),
      ),
    ).toBe("[[1,2],[3,4]]");
    expect(JSON.stringify({ w: np.array(2.5), b: np.array([true, false]) })).toBe('{"w":2.5,"b":[true,false]}');
  });
});
