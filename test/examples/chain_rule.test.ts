/** Example 2 (chain rule) in fast mode: what it prints. */
import { describe, expect, it } from "vitest";
import { main } from "../../examples/chain_rule.js";

describe("examples/chain_rule.ts", () => {
  const lines: string[] = [];
  const { maxError } = main({ fast: true, log: (l) => lines.push(l) });
  const text = lines.join("\n");

  it("agrees with the derivatives worked out by hand", () => {
    expect(text).toContain("y = (x-1)^2 + (x+1)^2 at x = 2: grad = 8.000000, by hand = 8.000000");
    expect(text).toContain("second derivative: grad = 4.000000, by hand = 4.000000");
    expect(text).toContain("sigmoid'(0): grad = 0.250000, by hand = 0.250000");
    expect(text).toContain("df/db of a*b + sin(a): grad = 0.500000, by hand = 0.500000");
    expect(maxError).toBeLessThan(1e-12);
    expect(lines.at(-1)).toMatch(/^largest difference from the hand-derived values: \d\.\d\de[-+]\d+$/);
  });

  it("prints the IR of the function and of its gradient", () => {
    expect(text).toContain("{ lambda ; a:f64[] b:f64[]. let c:f64[] = mul a b; d:f64[] = sin a; e:f64[] = add c d in (e) }");
    expect(text).toMatch(/cos a/);
    expect(text).toMatch(/in \(\w+, \w+\) \}/); // two outputs: both partials
  });
});
