/**
 * nn: activations against closed forms (and the normal CDF for GELU), layer
 * initialization bounds, linear/mlp against hand-written matrix products, and
 * batch normalization against hand-computed PyTorch BatchNorm1d numbers.
 */
import { describe, expect, it } from "vitest";
import { type Array as NDArray, checkGrads, grad, jit, nn, np, random } from "../../src/index.js";

const f64 = (x: unknown): NDArray => np.array(x as number[], { dtype: "float64" });
const nums = (x: NDArray): number[] => Array.from(x.data());
const expectAllClose = (got: number[], want: number[], digits = 12): void => {
  expect(got.length).toBe(want.length);
  got.forEach((g, i) => expect(g).toBeCloseTo(want[i]!, digits));
};

describe("activations", () => {
  it("relu: max(x, 0) with derivative 0 at 0 (as PyTorch)", () => {
    const x = f64([-2, -0, 0, 0.5, 3]);
    expect(nums(nn.relu(x))).toEqual([0, 0, 0, 0.5, 3]);
    expect(nums(grad((v: NDArray) => np.sum(nn.relu(v)))(x))).toEqual([0, 0, 0, 1, 1]);
    expect(nn.relu(np.array([1, -1], { dtype: "int32" })).dtype).toBe("float32");
  });

  it("leakyRelu: slope below zero, derivative at 0 is the slope (as PyTorch)", () => {
    const x = f64([-2, 0, 3]);
    expectAllClose(nums(nn.leakyRelu(x)), [-0.02, 0, 3]);
    expectAllClose(nums(nn.leakyRelu(x, 0.2)), [-0.4, 0, 3]);
    expectAllClose(nums(grad((v: NDArray) => np.sum(nn.leakyRelu(v, 0.2)))(x)), [0.2, 0.2, 1]);
  });

  it("sigmoid and tanh match their closed forms and stay finite", () => {
    const xs = [-3, -0.5, 0, 2];
    expectAllClose(
      nums(nn.sigmoid(f64(xs))),
      xs.map((v) => 1 / (1 + Math.exp(-v))),
    );
    expectAllClose(nums(nn.tanh(f64(xs))), xs.map(Math.tanh));
    expect(nums(nn.sigmoid(f64([-1000, 1000])))).toEqual([0, 1]);
    expect(nums(grad((v: NDArray) => np.sum(nn.sigmoid(v)))(f64([-1000, 0, 1000])))).toEqual([0, 0.25, 0]);
  });

  it("gelu (tanh approximation) is within 5e-4 of x * Phi(x)", () => {
    // standard normal CDF values (tables)
    const phi: [number, number][] = [
      [-2, 0.022750131948179195],
      [-1, 0.15865525393145707],
      [0.5, 0.6914624612740131],
      [1, 0.8413447460685429],
      [2, 0.9772498680518208],
    ];
    const y = nums(nn.gelu(f64(phi.map(([x]) => x))));
    phi.forEach(([x, p], i) => expect(Math.abs(y[i]! - x * p)).toBeLessThan(5e-4));
    expect(nn.gelu(f64([1])).item()).toBeCloseTo(0.8411919906082768, 12); // PyTorch gelu(1, approximate="tanh")
    checkGrads((v: NDArray) => nn.gelu(v), [f64([-1.5, -0.2, 0.7, 2])], { order: 2 });
  });

  it("softmax: values on known logits, overflow-free, any axis", () => {
    const lse = Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3));
    expectAllClose(
      nums(nn.softmax(f64([1, 2, 3]))),
      [1, 2, 3].map((v) => Math.exp(v - lse)),
    );
    expectAllClose(nums(nn.softmax(f64([1000, 1000, 1000]))), [1 / 3, 1 / 3, 1 / 3]);
    const m = f64([
      [1, 2],
      [3, 5],
    ]);
    const col = nn.softmax(m, 0).toJs() as number[][];
    expect(col[0]![0]).toBeCloseTo(1 / (1 + Math.exp(2)), 12);
    expect(col[1]![1]).toBeCloseTo(1 / (1 + Math.exp(-3)), 12);
    const rows = np.sum(nn.softmax(m), { axis: 1 }).toJs() as number[];
    expectAllClose(rows, [1, 1]);
  });

  it("softmax's gradient is s * (w - <w, s>)", () => {
    const x = f64([0.3, -1, 2]);
    const w = [1, 4, -2];
    const s = nums(nn.softmax(x));
    const ws = s.reduce((a, si, i) => a + si * w[i]!, 0);
    const g = grad((v: NDArray) => np.sum(np.multiply(nn.softmax(v), f64(w))))(x);
    expectAllClose(
      nums(g),
      s.map((si, i) => si * (w[i]! - ws)),
    );
    checkGrads(
      (v: NDArray) => nn.softmax(v),
      [
        f64([
          [0.1, 0.5, -0.3],
          [2, 1, 0],
        ]),
      ],
      { order: 2 },
    );
  });

  it("logSoftmax is x - logsumexp(x), stable", () => {
    const lse = Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3));
    expectAllClose(nums(nn.logSoftmax(f64([1, 2, 3]))), [1 - lse, 2 - lse, 3 - lse]);
    expectAllClose(nums(nn.logSoftmax(f64([0, 1000]))), [-1000, 0]);
    checkGrads((v: NDArray) => nn.logSoftmax(v), [f64([[0.1, 0.5, -0.3]])], { order: 2 });
  });

  it("oneHot", () => {
    expect(nn.oneHot(np.array([1, 0, 3], { dtype: "int32" }), 3).toJs()).toEqual([
      [0, 1, 0],
      [1, 0, 0],
      [0, 0, 0],
    ]);
    expect(() => nn.oneHot(np.array([1.0]), 3)).toThrow(/nn\.oneHot: labels must be an int32 array/);
  });

  it("work under jit", () => {
    const x = f64([[-1, 0.5, 2]]);
    const f = (v: NDArray) => [nn.relu(v), nn.softmax(v), nn.logSoftmax(v), nn.gelu(v)];
    const a = jit(f)(x) as NDArray[];
    f(x).forEach((y, i) => expectAllClose(nums(a[i]!), nums(y), 14));
  });
});

describe("linear and mlp", () => {
  it("linear.init: PyTorch layout and bounds U(-1/sqrt(in), 1/sqrt(in))", () => {
    const p = nn.linear.init(random.key(0), 16, 300);
    expect(p.weight.shape).toEqual([300, 16]);
    expect(p.bias.shape).toEqual([300]);
    const w = nums(p.weight);
    const b = nums(p.bias);
    expect(Math.max(...w.map(Math.abs))).toBeLessThanOrEqual(0.25);
    expect(Math.max(...w)).toBeGreaterThan(0.24); // 4800 draws reach close to the bound
    expect(Math.min(...w)).toBeLessThan(-0.24);
    expect(Math.max(...b.map(Math.abs))).toBeLessThanOrEqual(0.25);
    expect(Math.max(...b.map(Math.abs))).toBeGreaterThan(0.2);
    // variance of U(-a, a) is a^2 / 3
    const mean = w.reduce((s, v) => s + v, 0) / w.length;
    const variance = w.reduce((s, v) => s + (v - mean) ** 2, 0) / w.length;
    expect(variance).toBeCloseTo(0.25 ** 2 / 3, 2);
    expect(nums(nn.linear.init(random.key(0), 16, 300).weight)).toEqual(w);
    expect(nums(nn.linear.init(random.key(1), 16, 300).weight)).not.toEqual(w);
    expect(nn.linear.init(random.key(0), 2, 3, { dtype: "float64" }).weight.dtype).toBe("float64");
  });

  it("linear.apply is x @ weight.T + bias", () => {
    const params = {
      weight: f64([
        [1, 2, 3],
        [-1, 0, 1],
      ]),
      bias: f64([0.5, -0.5]),
    };
    const x = f64([
      [1, 1, 1],
      [2, 0, -1],
    ]);
    // row 1: [6.5, -0.5]; row 2: [2 - 3 + 0.5, -2 - 1 - 0.5]
    expect(nn.linear.apply(params, x).toJs()).toEqual([
      [6.5, -0.5],
      [-0.5, -3.5],
    ]);
    expect(nn.linear.apply(params, f64([1, 1, 1])).toJs()).toEqual([6.5, -0.5]);
    expect(() => nn.linear.apply(params, f64([[1, 2]]))).toThrow(/nn\.linear\.apply: the input has shape \[1,2\] but the layer expects 3 features/);
  });

  it("mlp.init and apply compose linear layers with the activation between them", () => {
    const params = nn.mlp.init(random.key(3), [3, 5, 4, 2]);
    expect(params.map((l) => l.weight.shape)).toEqual([
      [5, 3],
      [4, 5],
      [2, 4],
    ]);
    const x = random.normal(random.key(4), [6, 3]);
    const manual = nn.linear.apply(params[2]!, nn.tanh(nn.linear.apply(params[1]!, nn.tanh(nn.linear.apply(params[0]!, x)))));
    expect(nums(nn.mlp.apply(params, x, { activation: nn.tanh }))).toEqual(nums(manual));
    const withRelu = nn.linear.apply(params[2]!, nn.relu(nn.linear.apply(params[1]!, nn.relu(nn.linear.apply(params[0]!, x)))));
    expect(nums(nn.mlp.apply(params, x))).toEqual(nums(withRelu));
    expect(() => nn.mlp.init(random.key(0), [3])).toThrow(/nn\.mlp\.init: sizes must list at least/);
  });

  it("gradients of an mlp have the structure of its params", () => {
    const params = nn.mlp.init(random.key(0), [2, 3, 1], { dtype: "float64" });
    const x = f64([
      [0.5, -1],
      [1, 2],
    ]);
    const g = grad((p: typeof params) => np.sum(nn.mlp.apply(p, x, { activation: nn.tanh })))(params);
    expect(g[0]!.weight.shape).toEqual([3, 2]);
    expect(g[1]!.bias.shape).toEqual([1]);
    // d/d bias of the last layer of a sum over 2 rows is 2
    expect(g[1]!.bias.toJs()).toEqual([2]);
    checkGrads((p: typeof params) => nn.mlp.apply(p, x, { activation: nn.tanh }), [params], { order: 1 });
  });
});

describe("batchNorm (as PyTorch BatchNorm1d)", () => {
  const x = f64([[1], [2], [3], [4]]);

  it("training: batch mean and biased variance give ±1.3416 / ±0.4472", () => {
    const { params, state } = nn.batchNorm.init(1, { dtype: "float64" });
    const [y, s] = nn.batchNorm.apply(params, state, x, { training: true });
    // mean 2.5, biased variance 1.25
    const d = Math.sqrt(1.25 + 1e-5);
    expectAllClose(nums(y), [-1.5 / d, -0.5 / d, 0.5 / d, 1.5 / d]);
    expect(nums(y).map((v) => v.toFixed(4))).toEqual(["-1.3416", "-0.4472", "0.4472", "1.3416"]);
    // running stats: mean 0.9 * 0 + 0.1 * 2.5; var 0.9 * 1 + 0.1 * (unbiased 5/3)
    expectAllClose(nums(s.mean), [0.25]);
    expectAllClose(nums(s.var), [0.9 + 0.1 * (5 / 3)]);
  });

  it("gamma, beta, momentum and eps", () => {
    const params = { gamma: f64([2]), beta: f64([1]) };
    const state = { mean: f64([1]), var: f64([2]) };
    const [y, s] = nn.batchNorm.apply(params, state, x, { training: true, momentum: 0.5, eps: 0.75 });
    const d = Math.sqrt(1.25 + 0.75);
    expectAllClose(
      nums(y),
      [-1.5, -0.5, 0.5, 1.5].map((v) => (2 * v) / d + 1),
    );
    expectAllClose(nums(s.mean), [0.5 * 1 + 0.5 * 2.5]);
    expectAllClose(nums(s.var), [0.5 * 2 + 0.5 * (5 / 3)]);
  });

  it("eval mode uses the running statistics and leaves them unchanged", () => {
    const { params } = nn.batchNorm.init(1, { dtype: "float64" });
    const state = { mean: f64([0.25]), var: f64([1.0666666666666667]) };
    const [y, s] = nn.batchNorm.apply(params, state, x, { training: false });
    const d = Math.sqrt(1.0666666666666667 + 1e-5);
    expectAllClose(
      nums(y),
      [1, 2, 3, 4].map((v) => (v - 0.25) / d),
    );
    expect(s).toBe(state);
  });

  it("normalizes each feature separately, for [N, C] and [N, C, L] inputs", () => {
    const { params, state } = nn.batchNorm.init(2, { dtype: "float64" });
    const x2 = f64([
      [1, 10],
      [3, 30],
    ]); // feature 0: mean 2, var 1; feature 1: mean 20, var 100
    const [y] = nn.batchNorm.apply(params, state, x2, { training: true });
    expectAllClose(nums(y), [-1 / Math.sqrt(1 + 1e-5), -10 / Math.sqrt(100 + 1e-5), 1 / Math.sqrt(1 + 1e-5), 10 / Math.sqrt(100 + 1e-5)]);
    const x3 = np.reshape(f64([1, 2, 10, 20, 3, 4, 30, 40]), [2, 2, 2]); // [N=2, C=2, L=2]
    const [y3, s3] = nn.batchNorm.apply(params, state, x3, { training: true });
    // feature 0 values 1,2,3,4 (mean 2.5), feature 1 values 10,20,30,40 (mean 25)
    expectAllClose(nums(s3.mean), [0.25, 2.5]);
    const d0 = Math.sqrt(1.25 + 1e-5);
    expect((y3.toJs() as number[][][])[0]![0]![0]).toBeCloseTo(-1.5 / d0, 12);
  });

  it("the gradient of sum(y) is zero in training mode and matches finite differences", () => {
    const { params, state } = nn.batchNorm.init(2, { dtype: "float64" });
    const xs = f64([
      [0.3, -1],
      [1.2, 0.4],
      [-0.5, 2],
      [0.9, 0.1],
    ]);
    const g = grad((v: NDArray) => np.sum(nn.batchNorm.apply(params, state, v, { training: true })[0]))(xs);
    nums(g).forEach((v) => expect(Math.abs(v)).toBeLessThan(1e-12));
    checkGrads((v: NDArray, p: typeof params) => nn.batchNorm.apply(p, state, v, { training: true })[0], [xs, params], { order: 2 });
  });

  it("rejects bad inputs with a message naming the fix", () => {
    const { params, state } = nn.batchNorm.init(3);
    expect(() => nn.batchNorm.apply(params, state, np.ones([4, 2]), { training: true })).toThrow(/nn\.batchNorm\.apply: expected input of shape \[batch, 3\]/);
    expect(() => nn.batchNorm.apply(params, state, np.ones([1, 3]), { training: true })).toThrow(/more than one value per feature/);
    expect(() => nn.batchNorm.apply(params, state, np.ones([4, 3]), {} as { training: boolean })).toThrow(/pass \{ training: true \}/);
  });
});
