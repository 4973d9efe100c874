/**
 * losses: values on known inputs computed by hand (with Math.log/Math.exp as the
 * calculator), their gradients against closed forms, stability at extreme inputs,
 * and the error messages.
 */
import { describe, expect, it } from "vitest";
import { type Array as NDArray, checkGrads, grad, jit, losses, np } from "../../src/index.js";

const f64 = (x: unknown): NDArray => np.array(x as number[], { dtype: "float64" });
const i32 = (x: number[]): NDArray => np.array(x, { dtype: "int32" });
const nums = (x: NDArray): number[] => Array.from(x.data());
const expectAllClose = (got: number[], want: number[], digits = 12): void => {
  expect(got.length).toBe(want.length);
  got.forEach((g, i) => expect(g).toBeCloseTo(want[i]!, digits));
};

describe("mse", () => {
  it("mean, sum and none", () => {
    const p = f64([1, 2, 3]);
    const t = f64([1, 0, 0]);
    expect(losses.mse(p, t).item()).toBeCloseTo(13 / 3, 14);
    expect(losses.mse(p, t, { reduction: "sum" }).item()).toBe(13);
    expect(nums(losses.mse(p, t, { reduction: "none" }))).toEqual([0, 4, 9]);
    expect(losses.mse(p, 1).item()).toBeCloseTo(5 / 3, 14);
  });
  it("gradient 2 (pred - target) / n", () => {
    const g = grad((p: NDArray) =>
      losses.mse(
        p,
        f64([
          [0, 1],
          [1, 1],
        ]),
      ),
    )(
      f64([
        [1, 1],
        [3, -1],
      ]),
    );
    expect(g.toJs()).toEqual([
      [0.5, 0],
      [1, -1],
    ]);
  });
  it("refuses shapes that would broadcast", () => {
    expect(() => losses.mse(np.zeros([4, 1]), np.zeros([4]))).toThrow(/losses\.mse: pred has shape \[4,1\] but target has shape \[4\]; they must match/);
    expect(() => losses.mse(np.zeros([2]), np.zeros([2]), { reduction: "avg" as "mean" })).toThrow(/reduction must be "mean", "sum" or "none"/);
  });
});

describe("softmaxCrossEntropy", () => {
  const logits = f64([
    [2, 1, 0.1],
    [0.5, 2.5, -1],
  ]);
  const lse = (r: number[]): number => Math.log(r.reduce((s, v) => s + Math.exp(v), 0));
  const rows = [
    [2, 1, 0.1],
    [0.5, 2.5, -1],
  ];

  it("integer labels: log-sum-exp minus the label's logit", () => {
    const want = [lse(rows[0]!) - 2, lse(rows[1]!) - -1];
    expectAllClose(nums(losses.softmaxCrossEntropy(logits, i32([0, 2]), { reduction: "none" })), want);
    expect(losses.softmaxCrossEntropy(logits, i32([0, 2])).item()).toBeCloseTo((want[0]! + want[1]!) / 2, 12);
    expect(losses.softmaxCrossEntropy(logits, i32([0, 2]), { reduction: "sum" }).item()).toBeCloseTo(want[0]! + want[1]!, 12);
    // first example by hand: log(e^2 + e + e^0.1) - 2
    expect(want[0]).toBeCloseTo(0.41703004, 7);
  });

  it("one-hot rows and probability targets", () => {
    const oneHot = f64([
      [1, 0, 0],
      [0, 0, 1],
    ]);
    expectAllClose(
      nums(losses.softmaxCrossEntropy(logits, oneHot, { reduction: "none" })),
      nums(losses.softmaxCrossEntropy(logits, i32([0, 2]), { reduction: "none" })),
    );
    const soft = f64([
      [0.5, 0.5, 0],
      [0.2, 0.3, 0.5],
    ]);
    const want = [0.5 * (lse(rows[0]!) - 2) + 0.5 * (lse(rows[0]!) - 1), 0.2 * (lse(rows[1]!) - 0.5) + 0.3 * (lse(rows[1]!) - 2.5) + 0.5 * (lse(rows[1]!) + 1)];
    expectAllClose(nums(losses.softmaxCrossEntropy(logits, soft, { reduction: "none" })), want);
  });

  it("is stable for huge logits", () => {
    const z = f64([
      [1000, 0],
      [0, -1000],
      [-1e4, 1e4],
    ]);
    expectAllClose(nums(losses.softmaxCrossEntropy(z, i32([1, 1, 1]), { reduction: "none" })), [1000, 1000, 0]);
    const g = grad((v: NDArray) => losses.softmaxCrossEntropy(v, i32([1, 1, 1]), { reduction: "sum" }))(z);
    nums(g).forEach((v) => expect(Number.isFinite(v)).toBe(true));
  });

  it("gradient softmax(z) - onehot, divided by the batch size for the mean", () => {
    const g = nums(grad((v: NDArray) => losses.softmaxCrossEntropy(v, i32([0, 2])))(logits));
    const want: number[] = [];
    rows.forEach((r, n) => r.forEach((v, c) => want.push((Math.exp(v - lse(r)) - (c === [0, 2][n] ? 1 : 0)) / 2)));
    expectAllClose(g, want);
    checkGrads((v: NDArray) => losses.softmaxCrossEntropy(v, i32([1, 0])), [logits], { order: 2 });
  });

  it("works on batches with extra axes and under jit", () => {
    const z = np.reshape(logits, [1, 2, 3]);
    expectAllClose(
      nums(losses.softmaxCrossEntropy(z, np.reshape(i32([0, 2]), [1, 2]), { reduction: "none" })),
      nums(losses.softmaxCrossEntropy(logits, i32([0, 2]), { reduction: "none" })),
    );
    const f = jit((v: NDArray, y: NDArray) => losses.softmaxCrossEntropy(v, y));
    expect(f(logits, i32([0, 2])).item()).toBeCloseTo(losses.softmaxCrossEntropy(logits, i32([0, 2])).item(), 14);
  });

  it("errors name the shapes and the fix", () => {
    expect(() => losses.softmaxCrossEntropy(logits, i32([0, 3]))).toThrow(/label 3 \(at flat index 1\) is out of range for 3 classes/);
    expect(() => losses.softmaxCrossEntropy(logits, f64([0, 2]))).toThrow(/labels must be int32 class indices of shape \[2\].*astype\("int32"\)/);
    expect(() => losses.softmaxCrossEntropy(logits, i32([0, 1, 2]))).toThrow(/logits have shape \[2,3\]/);
  });
});

describe("binaryCrossEntropy", () => {
  it("probabilities", () => {
    const want = -(Math.log(0.9) + Math.log(0.8)) / 2;
    expect(losses.binaryCrossEntropy(f64([0.9, 0.2]), f64([1, 0])).item()).toBeCloseTo(want, 14);
    expect(want).toBeCloseTo(0.16425203, 7);
    // soft targets: -(t log p + (1 - t) log(1 - p))
    const p = 0.3;
    const t = 0.25;
    expect(losses.binaryCrossEntropy(f64([p]), f64([t])).item()).toBeCloseTo(-(t * Math.log(p) + (1 - t) * Math.log(1 - p)), 14);
  });

  it("clamps log(0) at -100 like PyTorch and keeps gradients finite", () => {
    expect(nums(losses.binaryCrossEntropy(f64([0, 1, 1]), f64([1, 0, 1]), { reduction: "none" })).map((v) => v + 0)).toEqual([100, 100, 0]);
    const g = nums(grad((p: NDArray) => losses.binaryCrossEntropy(p, f64([1, 0])))(f64([0, 1])));
    g.forEach((v) => expect(Number.isFinite(v)).toBe(true));
  });

  it("from logits: log(1 + exp(-z)) for t = 1, log(1 + exp(z)) for t = 0", () => {
    const z = [2, -1, 0.5];
    const t = [1, 0, 0.3];
    const want = z.map((v, i) => t[i]! * Math.log1p(Math.exp(-v)) + (1 - t[i]!) * Math.log1p(Math.exp(v)));
    expectAllClose(nums(losses.binaryCrossEntropy(f64(z), f64(t), { fromLogits: true, reduction: "none" })), want);
    expectAllClose(nums(losses.binaryCrossEntropy(np.sigmoid(f64(z)), f64(t), { reduction: "none" })), want);
    // exact for huge logits
    expectAllClose(nums(losses.binaryCrossEntropy(f64([1000, -1000, 1000]), f64([1, 0, 0]), { fromLogits: true, reduction: "none" })), [0, 0, 1000]);
  });

  it("from logits: gradient sigmoid(z) - t (over n)", () => {
    const z = [2, -1, 0];
    const t = [1, 0, 1];
    const g = nums(grad((v: NDArray) => losses.binaryCrossEntropy(v, f64(t), { fromLogits: true }))(f64(z)));
    expectAllClose(
      g,
      z.map((v, i) => (1 / (1 + Math.exp(-v)) - t[i]!) / 3),
    );
    checkGrads((v: NDArray) => losses.binaryCrossEntropy(v, f64([0.2, 0.9]), { fromLogits: true }), [f64([0.3, -2])], { order: 2 });
  });

  it("refuses mismatched shapes", () => {
    expect(() => losses.binaryCrossEntropy(np.zeros([3, 1]), np.zeros([3]))).toThrow(
      /losses\.binaryCrossEntropy: pred has shape \[3,1\] but target has shape \[3\]/,
    );
  });
});
