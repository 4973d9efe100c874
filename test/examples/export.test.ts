/** The export example in fast mode: training continues in ONNX Runtime as in cotangent. */
import { describe, expect, it } from "vitest";
import { type ExportResult, main } from "../../examples/export.js";

describe("examples/export.ts", () => {
  const lines: string[] = [];
  let r: ExportResult;

  it("runs, and ONNX Runtime continues the training exactly as cotangent does", async () => {
    r = await main({ fast: true, log: (l) => lines.push(l) });
    expect(lines[0]).toMatch(/^initial loss \d\.\d{5}$/);
    expect(lines.some((l) => /^exported the training step \(\d+ bytes\) and the inference function \(\d+ bytes\)$/.test(l))).toBe(true);
    expect(Math.abs(r.lossOnnx - r.lossCotangent)).toBeLessThan(1e-5 * r.lossCotangent);
    expect(r.lossOnnx).toBeLessThan(r.lossAfterCotangent);
    expect(r.paramDifference).toBeLessThan(1e-4);
  });

  it("the exported inference function matches cotangent", () => {
    expect(r.inferenceDifference).toBeLessThan(1e-5);
    expect(lines.at(-1)).toMatch(/^inference in ONNX Runtime on 64 new points: test loss \d\.\d{5}; largest difference from cotangent /);
  });
});
