/** Example 3 (two-layer ReLU regression) in fast mode: what it prints. */
import { describe, expect, it } from "vitest";
import { main } from "../../examples/regression.js";

describe("examples/regression.ts", () => {
  const lines: string[] = [];
  const r = main({ fast: true, log: (l) => lines.push(l) });

  it("hand-written backprop matches grad to below 1e-10 in float64", () => {
    const line = lines.find((l) => l.startsWith("largest difference between hand-written backprop and grad (float64): "))!;
    expect(line).toBeDefined();
    const printed = Number(line.split(": ")[1]);
    expect(printed).toBeLessThan(1e-10);
    expect(r.difference).toBeLessThan(1e-10);
  });

  it("SGD and Adam both reduce the loss", () => {
    expect(lines.some((l) => /SGD\(lr=0\.1, momentum=0\.9\) final loss/.test(l))).toBe(true);
    expect(lines.some((l) => /Adam\(lr=0\.01\) final loss/.test(l))).toBe(true);
    expect(r.sgdLoss).toBeLessThan(r.initialLoss / 5);
    expect(r.adamLoss).toBeLessThan(r.initialLoss / 5);
  });
});
