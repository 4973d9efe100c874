/**
 * examples/cnn.ts in fast mode: 10 steps on 640 images already beat chance (10%) on the
 * 2,000 held-out digits, and the parameters round-trip through io.save / io.load.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../../examples/cnn.js";

describe("examples/cnn.ts", () => {
  it("trains in fast mode, saves and reloads its parameters, writes the loss curve", () => {
    const lines: string[] = [];
    const r = main({ fast: true, log: (l) => lines.push(l), outDir: mkdtempSync(join(tmpdir(), "cotangent-cnn-")) });
    expect(lines[0]).toMatch(/^CNN on MNIST: 640 training \/ 2000 test images/);
    expect(r.testAccuracy).toBeGreaterThan(0.15);
    const bytes = readFileSync(r.paramsPath);
    // safetensors: 8-byte little-endian header length, then a JSON header naming every leaf
    const n = Number(bytes.readBigUInt64LE(0));
    const header = JSON.parse(bytes.subarray(8, 8 + n).toString("utf8")) as Record<string, { shape: number[] }>;
    expect(header["conv1.weight"]!.shape).toEqual([16, 1, 5, 5]);
    expect(header["out.bias"]!.shape).toEqual([10]);
    expect(readFileSync(r.svgPath, "utf8")).toContain("<polyline");
  });
});
