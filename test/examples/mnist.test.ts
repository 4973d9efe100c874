/**
 * Example 5 (MNIST) with the reduced CI budget: 20 steps on 1,280 images must
 * already show learning (held-out accuracy far above the 10% of chance), the
 * progress lines and the SVG loss curve must be produced. The full budget reaches
 * >= 90% (see examples/mnist.ts); it is not run here.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadDigits, main } from "../../examples/mnist.js";

describe("examples/mnist.ts", () => {
  it("loads the 10,000 digits of the mnist package with labels 0-9", () => {
    const { images, labels } = loadDigits();
    expect(images.shape).toEqual([10000, 784]);
    const l = Array.from(labels.data());
    expect(Math.min(...l)).toBe(0);
    expect(Math.max(...l)).toBe(9);
    const px = images.data();
    expect(Math.max(...px.subarray(0, 784 * 50))).toBeLessThanOrEqual(1);
  });

  it("learns with the reduced budget and writes the loss curve", () => {
    const lines: string[] = [];
    const outDir = mkdtempSync(join(tmpdir(), "cotangent-mnist-"));
    const r = main({ fast: true, log: (l) => lines.push(l), outDir });
    expect(lines[0]).toMatch(/^MNIST: 1280 training \/ 2000 test images, MLP 784-32-10/);
    expect(lines.some((l) => /^\[#+\] 100%  epoch 1\/1  loss \d\.\d{4}  train acc \d+\.\d%$/.test(l))).toBe(true);
    const accLine = lines.find((l) => l.startsWith("test accuracy: "))!;
    const printed = Number(/test accuracy: ([\d.]+)%/.exec(accLine)![1]) / 100;
    expect(printed).toBeCloseTo(r.testAccuracy, 3);
    expect(r.testAccuracy).toBeGreaterThan(0.5); // chance is 0.1
    // the loss goes down: last five steps below the first five
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(r.losses.slice(-5))).toBeLessThan(mean(r.losses.slice(0, 5)) * 0.7);
    const svg = readFileSync(r.svgPath, "utf8");
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg).toContain("<polyline");
    expect(svg.trim().endsWith("</svg>")).toBe(true);
  });
});
