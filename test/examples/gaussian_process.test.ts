/** Example 6 (Gaussian process) in fast mode: what it prints. */
import { describe, expect, it } from "vitest";
import { main } from "../../examples/gaussian_process.js";

describe("examples/gaussian_process.ts", () => {
  const lines: string[] = [];
  const r = main({ fast: true, log: (l) => lines.push(l) });
  const text = lines.join("\n");

  it("checks the likelihood's derivatives and fits the hyperparameters", () => {
    expect(text).toContain("checkGrads: the gradient and Hessian of the NLL agree with finite differences");
    expect(r.nllEnd).toBeLessThan(r.nllStart - 20);
    // the observation noise is at most 0.1 in size (its RMS is about 0.05)
    expect(r.noise).toBeGreaterThan(0.01);
    expect(r.noise).toBeLessThan(0.2);
  });

  it("predicts held-out points of the noise-free function", () => {
    expect(r.rmse).toBeLessThan(0.05);
    expect(text).toMatch(/posterior mean at held-out points: RMSE 0\.0\d+/);
  });
});
