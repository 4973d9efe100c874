/** Example 4 (second order, clipping) in fast mode: what it prints. */
import { describe, expect, it } from "vitest";
import { main } from "../../examples/second_order.js";

describe("examples/second_order.ts", () => {
  const lines: string[] = [];
  const r = main({ fast: true, log: (l) => lines.push(l) });
  const text = lines.join("\n");

  it("equivalent second-order computations agree", () => {
    expect(r.maxError).toBeLessThan(1e-10);
    expect(text).toMatch(/grad \|grad f\|\^2 = \[/);
    expect(text).toMatch(/2 H \(grad f\) {4}= \[/);
    expect(text).toMatch(/hessianVectorProduct\(f\)\(x, v\) = \[2\.59416, -1\.13063, 10\.2955\]; H @ v = \[2\.59416, -1\.13063, 10\.2955\]/);
    expect(text).toContain("jacfwd(F)(x) = [[-1.2, 0.5, 0], [0, -1.47479, 0.884872]]");
  });

  it("clips by value and by norm", () => {
    // gradients of sum((3w + b)^2) at w = [1, -2, 0.5], b = 0.25: 6 (3w + b) * [3...], b: 2 sum(3w + b)
    expect(text).toContain("gradients: w [19.5, -34.5, 10.5], b -1.5");
    expect(text).toContain("clipGradValue(g, 5): w [5, -5, 5], b -1.5");
    const total = Math.sqrt(19.5 ** 2 + 34.5 ** 2 + 10.5 ** 2 + 1.5 ** 2);
    expect(r.totalNorm).toBeCloseTo(total, 4);
    expect(r.clippedNorm).toBeCloseTo(1, 5);
    expect(text).toContain(`total norm before ${total.toFixed(4)}, after 1.0000`);
  });
});
