/** Example 6 (an RNN trained with lax.scan) in fast mode: what it prints. */
import { describe, expect, it } from "vitest";
import { main } from "../../examples/rnn.js";

describe("examples/rnn.ts", () => {
  const lines: string[] = [];
  const r = main({ fast: true, log: (l) => lines.push(l) });

  it("the scan's gradient matches the JS loop's to below 1e-12 in float64", () => {
    const line = lines.find((l) => l.startsWith("largest difference between the scan's and the JS loop's gradients (float64): "));
    expect(line).toBeDefined();
    expect(Number(line!.split(": ")[1])).toBeLessThan(1e-12);
    expect(r.difference).toBeLessThan(1e-12);
  });

  it("the scan's IR does not grow with the sequence length, the JS loop's does", () => {
    expect(r.scanLines).toBeLessThan(80);
    expect(r.loopLines).toBeGreaterThan(10 * r.scanLines);
  });

  it("training reduces the loss", () => {
    expect(lines.some((l) => /^final loss /.test(l))).toBe(true);
    expect(r.finalLoss).toBeLessThan(r.initialLoss / 3);
  });
});
