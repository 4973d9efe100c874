/**
 * examples/transformer.ts in fast mode: 60 steps already place far more digits right
 * than chance (10%), the loss falls, and the loss curve is written. The full run
 * (150 steps) reverses held-out sequences without error; it is not run here.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { np, random } from "../../src/index.js";
import { main, reversalBatch } from "../../examples/transformer.js";

describe("examples/transformer.ts", () => {
  it("makes reversal batches", () => {
    const { x, y } = reversalBatch(random.key(0), 3);
    expect(x.dtype).toBe("int32");
    const xs = x.toJs() as number[][];
    expect(y.toJs()).toEqual(xs.map((r) => [...r].reverse()));
    expect(np.max(x).item()).toBeLessThanOrEqual(9);
  });

  it("learns in fast mode and writes the loss curve", () => {
    const lines: string[] = [];
    const r = main({ fast: true, log: (l) => lines.push(l), outDir: mkdtempSync(join(tmpdir(), "cotangent-tf-")) });
    expect(lines[0]).toMatch(/^Reversing 8-digit sequences/);
    expect(r.tokenAccuracy).toBeGreaterThan(0.3);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(r.losses.slice(-5))).toBeLessThan(mean(r.losses.slice(0, 5)) * 0.8);
    expect(readFileSync(r.svgPath, "utf8")).toContain("<polyline");
  });
});
