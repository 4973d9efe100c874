/**
 * Errors that name the right operation, and values that must not hide a NaN (issue 13,
 * 4 and 5): nn.softmax's axis, np.array / jit backends, nn.relu(NaN), BCE's gradient at
 * the clamped ends as PyTorch's.
 */
import { describe, expect, it } from "vitest";
import { grad, jit, losses, nn, np } from "../../src/index.js";
import { expectError } from "../numpy/util.js";

describe("errors name the operation the user called", () => {
  it("nn.softmax / nn.logSoftmax with a bad axis", () => {
    const x = np.zeros([2, 3]);
    expectError(() => nn.softmax(x, 5), "nn.softmax", "axis 5", "rank 2");
    expectError(() => nn.logSoftmax(x, -3), "nn.logSoftmax", "axis -3");
  });
  it("np.array and jit with a bad backend", () => {
    expectError(() => np.array([1], { backend: "tpu" } as never), "np.array", '"tpu"', '"cpu" or "gpu"');
    const f = (x: np.Array): np.Array => x;
    expectError(() => jit(f, { backend: "tpu" } as never), "jit(f)", '"tpu"', '"cpu" or "gpu"');
  });
});

describe("NaN is never hidden", () => {
  it("nn.relu propagates NaN, with derivative 0 at 0 as before", () => {
    expect(nn.relu(np.array([NaN, -1, 0, 2])).toJs()).toEqual([NaN, 0, 0, 2]);
    expect(grad((x: np.Array) => nn.relu(x).sum())(np.array([-1, 0, 2])).toJs()).toEqual([0, 0, 1]);
    expect(jit(nn.relu)(np.array([NaN, 3])).toJs()).toEqual([NaN, 3]);
  });
  it("np.clip and the other activations keep NaN (clip through NaN-propagating maximum/minimum)", () => {
    expect(np.clip(np.array([NaN, 5, -5]), -1, 1).toJs()).toEqual([NaN, 1, -1]);
    expect(jit((x: np.Array) => np.clip(x, -1, 1))(np.array([NaN, 2])).toJs()).toEqual([NaN, 1]);
    for (const f of [nn.leakyRelu, nn.elu, nn.softplus, nn.silu, nn.gelu]) expect((f(np.array([NaN])) as np.Array).toJs()).toEqual([NaN]);
  });
});

describe("binaryCrossEntropy's gradient at the clamped ends is PyTorch's", () => {
  // PyTorch's BCELoss backward: grad · (p - t) / max(p (1 - p), 1e-12), the log clamp not differentiated
  const torchGrad = (p: number, t: number, n: number): number => (p - t) / Math.max(p * (1 - p), 1e-12) / n;
  it("at p = 0 and p = 1, float64", () => {
    const p = np.array([0, 0, 1, 1, 0.25], { dtype: "float64" });
    const t = np.array([1, 0, 0, 1, 1], { dtype: "float64" });
    const g = grad((q: np.Array) => losses.binaryCrossEntropy(q, t))(p).toJs() as number[];
    const want = [0, 0, 1, 1, 0.25].map((pi, i) => torchGrad(pi, [1, 0, 0, 1, 1][i]!, 5));
    g.forEach((gi, i) => expect(Math.abs(gi - want[i]!)).toBeLessThanOrEqual(1e-12 * Math.abs(want[i]!) + 1e-15));
    expect(g[0]).toBeLessThan(-1e10); // -1e12 / 5, not 0
  });
  it("the loss keeps PyTorch's -100 clamp; the target gradient is log(1-p) - log(p), clamped", () => {
    const p = np.array([0, 0.5], { dtype: "float64" });
    const t = np.array([1, 1], { dtype: "float64" });
    expect(losses.binaryCrossEntropy(p, t, { reduction: "none" }).toJs()).toEqual([100, Math.log(2)]);
    const gt = grad((u: np.Array) => losses.binaryCrossEntropy(p, u, { reduction: "sum" }))(t).toJs() as number[];
    expect(gt).toEqual([0 - -100, 0]);
  });
});
