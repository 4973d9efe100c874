/** Example 1 (autograd basics) in fast mode: what it prints. */
import { describe, expect, it } from "vitest";
import { main } from "../../examples/autograd.js";

describe("examples/autograd.ts", () => {
  const lines: string[] = [];
  const result = main({ fast: true, log: (l) => lines.push(l) });
  const text = lines.join("\n");

  it("prints out = 27 and the gradient 4.5 everywhere (3/2 (x + 2) at x = 1)", () => {
    expect(lines).toContain("out = 27");
    expect(lines).toContain("gradient d(out)/dx = [[4.5, 4.5], [4.5, 4.5]]");
    expect(result.gradient).toEqual([
      [4.5, 4.5],
      [4.5, 4.5],
    ]);
  });

  it("prints the vjp 6 x v and the detached gradient", () => {
    expect(text).toContain("vjp with v = [0.1, 1, 0.0001]: [0.6, 12, 0.0018]");
    expect(text).toContain("v @ jacrev(f)(x) = [0.6, 12, 0.0018]");
    expect(text).toContain("grad of sum(x*x): [2, 4, 6]; with stopGradient on one factor: [1, 2, 3]");
  });

  it("prints the traced jaxpr", () => {
    expect(text).toContain("{ lambda ; a:f32[2,2]. let");
    expect(text).toMatch(/b:f32\[2,2\] = add a 2\.0:f32\[\]/);
    expect(text).toMatch(/reduce_sum\[axes=\(0,1\)\]/);
  });
});
