/**
 * The examples of the PyTorch autograd tutorials our users come from, each checked
 * against values derived by hand (or computed independently in plain JS).
 */
import { describe, expect, it } from "vitest";
import { type Array as NDArray, grad, np, stopGradient, valueAndGrad, vjp } from "../../src/index.js";
import { expectClose, f64, fromFlat, randomArray, seededRandom, toNumbers } from "../helpers/numeric.js";

describe("PyTorch autograd tutorials", () => {
  it("chain rule: y = (x-1)^2 + (x+1)^2 at 4.5 is 42.5 with dy/dx = 4x = 18", () => {
    const f = (x: NDArray): NDArray => np.add(np.square(np.subtract(x, 1)), np.square(np.add(x, 1)));
    for (const dtype of ["float32", "float64"] as const) {
      const [y, dy] = valueAndGrad(f)(np.array(4.5, { dtype }));
      expect(y.item()).toBe(42.5);
      expect(dy.item()).toBe(18);
      expect(dy.dtype).toBe(dtype);
    }
    // the second derivative is the constant 4
    expect(grad(grad(f))(f64(-3.25)).item()).toBe(4);
  });

  it("sigmoid' = s(1 - s)", () => {
    const xs = [-30, -4, -1.5, 0, 0.3, 2, 7, 30];
    const g = grad((x: NDArray) => np.sigmoid(x));
    for (const x of xs) {
      const s = 1 / (1 + Math.exp(-x));
      expect(g(f64(x)).item()).toBeCloseTo(s * (1 - s), 14);
    }
    expect(g(np.array(0)).item()).toBe(0.25);
    // elementwise through vjp with a vector of ones
    const x = f64(xs);
    const [, back] = vjp((a: NDArray) => np.sigmoid(a), x);
    const want = xs.map((v) => {
      const s = 1 / (1 + Math.exp(-v));
      return s * (1 - s);
    });
    expectClose(back(np.onesLike(x))[0], f64(want), { rtol: 1e-14, atol: 1e-300 });
  });

  it("two inputs: (x + t)(x - t) has gradients 2x and -2t", () => {
    const f = (x: NDArray, t: NDArray): NDArray => np.multiply(np.add(x, t), np.subtract(x, t));
    const [gx, gt] = grad(f, { argnums: [0, 1] })(f64(3), f64(-1.5));
    expect(gx.item()).toBe(6);
    expect(gt.item()).toBe(3);
    expect(grad(f, { argnums: 1 })(f64(2), f64(5)).item()).toBe(-10);
  });

  it("sum(x^2) has gradient 2x", () => {
    const x = f64([
      [1, -2, 3.5],
      [0, 0.25, -7],
    ]);
    const g = grad((a: NDArray) => np.sum(np.power(a, 2)))(x);
    expect(g.toJs()).toEqual([
      [2, -4, 7],
      [0, 0.5, -14],
    ]);
  });

  it("vjp of x^2 with a vector v is 2·v·x (y.backward(v))", () => {
    const x = f64([1, 2, 3]);
    const v = f64([0.1, 1.0, 0.0001]);
    const [y, back] = vjp((a: NDArray) => np.multiply(a, a), x);
    expect(y.toJs()).toEqual([1, 4, 9]);
    const [gx] = back(v);
    expectClose(gx, f64([0.2, 4, 0.0006]), { rtol: 1e-15 });
  });

  it("out = mean(3 (x+2)^2) on ones(2,2) is 27 with gradient 4.5 everywhere", () => {
    const f = (x: NDArray): NDArray => np.mean(np.multiply(3, np.square(np.add(x, 2))));
    const [out, g] = valueAndGrad(f)(np.ones([2, 2]));
    expect(out.item()).toBe(27);
    expect(g.toJs()).toEqual([
      [4.5, 4.5],
      [4.5, 4.5],
    ]);
    expect(g.dtype).toBe("float32");
  });

  it("vjp through a JS while loop that doubles y until its norm reaches 1000", () => {
    const rand = seededRandom(7);
    for (let trial = 0; trial < 5; trial++) {
      const x = randomArray(rand, [3], -1, 1);
      const f = (a: NDArray): NDArray => {
        let y = np.multiply(a, 2);
        while (np.linalg.norm(y).item() < 1000) y = np.multiply(y, 2);
        return y;
      };
      // the number of doublings, computed independently on plain numbers
      const xv = toNumbers(x);
      let scale = 2;
      while (Math.hypot(...xv.map((v) => v * scale)) < 1000) scale *= 2;
      const [y, back] = vjp(f, x);
      expectClose(
        y,
        fromFlat(
          xv.map((v) => v * scale),
          [3],
        ),
        { rtol: 1e-15 },
      );
      const v = f64([0.1, 1.0, 0.0001]);
      expectClose(back(v)[0], f64([0.1 * scale, scale, 0.0001 * scale]), { rtol: 1e-15 });
    }
  });

  it("linear layer: d mean(x Wᵀ + b)/dW is the batch mean of the inputs; through stopGradient it is zero", () => {
    const rand = seededRandom(3);
    const B = 5;
    const inDim = 4;
    const x = randomArray(rand, [B, inDim]);
    const params = { weight: randomArray(rand, [1, inDim]), bias: randomArray(rand, [1]) };
    const linear = (p: typeof params, xs: NDArray): NDArray => np.add(np.matmul(xs, p.weight.T), p.bias);
    const loss = (p: typeof params): NDArray => np.mean(linear(p, x));
    const g = grad(loss)(params);
    const xv = toNumbers(x);
    const batchMean = Array.from({ length: inDim }, (_, i) => Array.from({ length: B }, (_, b) => xv[b * inDim + i]!).reduce((s, v) => s + v, 0) / B);
    expectClose(g.weight, fromFlat(batchMean, [1, inDim]), { rtol: 1e-14, atol: 1e-16 });
    expectClose(g.bias, f64([1]), { rtol: 1e-15 });
    // with several outputs, each row gets the batch mean divided by the output count
    const w3 = randomArray(rand, [3, inDim]);
    const g3 = grad((w: NDArray) => np.mean(np.matmul(x, w.T)))(w3);
    expectClose(
      g3,
      fromFlat(
        [...batchMean, ...batchMean, ...batchMean].map((v) => v / 3),
        [3, inDim],
      ),
      { rtol: 1e-14, atol: 1e-16 },
    );
    // detach the weight: no gradient flows to it, the bias still gets one
    const gs = grad((p: typeof params) => np.mean(linear({ weight: stopGradient(p.weight), bias: p.bias }, x)))(params);
    expect(gs.weight.toJs()).toEqual([[0, 0, 0, 0]]);
    expectClose(gs.bias, f64([1]), { rtol: 1e-15 });
  });

  it("gradient of the norm of a gradient: grad(a => norm(grad(mean(a*a))(a))) = (2/n) a/|a|", () => {
    const a = f64([1, -2, 3, 0.5]);
    const inner = grad((b: NDArray) => np.mean(np.multiply(b, b)));
    const g = grad((b: NDArray) => np.linalg.norm(inner(b)))(a);
    const av = toNumbers(a);
    const n = av.length;
    const len = Math.hypot(...av);
    expectClose(g, f64(av.map((v) => (2 / n) * (v / len))), { rtol: 1e-14 });
  });

  it("two-layer ReLU net with biases: autodiff equals hand-written backprop to 1e-12 (float64)", () => {
    const rand = seededRandom(11);
    const N = 6;
    const D = 4;
    const H = 5;
    const O = 3;
    const x = randomArray(rand, [N, D]);
    const target = randomArray(rand, [N, O]);
    const params = {
      w1: randomArray(rand, [D, H]),
      b1: randomArray(rand, [H], -0.1, 0.1),
      w2: randomArray(rand, [H, O]),
      b2: randomArray(rand, [O], -0.1, 0.1),
    };
    const relu = (z: NDArray): NDArray => np.maximum(z, 0);
    const loss = (p: typeof params): NDArray => {
      const h = relu(np.add(np.matmul(x, p.w1), p.b1));
      const y = np.add(np.matmul(h, p.w2), p.b2);
      return np.mean(np.square(np.subtract(y, target)));
    };
    const [value, g] = valueAndGrad(loss)(params);

    // hand-written forward and backward on plain numbers
    const X = toNumbers(x);
    const T = toNumbers(target);
    const W1 = toNumbers(params.w1);
    const B1 = toNumbers(params.b1);
    const W2 = toNumbers(params.w2);
    const B2 = toNumbers(params.b2);
    const Z = new Array<number>(N * H).fill(0);
    const Hh = new Array<number>(N * H).fill(0);
    const Y = new Array<number>(N * O).fill(0);
    for (let n = 0; n < N; n++) {
      for (let j = 0; j < H; j++) {
        let s = B1[j]!;
        for (let d = 0; d < D; d++) s += X[n * D + d]! * W1[d * H + j]!;
        Z[n * H + j] = s;
        Hh[n * H + j] = Math.max(s, 0);
      }
      for (let o = 0; o < O; o++) {
        let s = B2[o]!;
        for (let j = 0; j < H; j++) s += Hh[n * H + j]! * W2[j * O + o]!;
        Y[n * O + o] = s;
      }
    }
    let L = 0;
    for (let k = 0; k < N * O; k++) L += (Y[k]! - T[k]!) ** 2;
    L /= N * O;
    const dY = Y.map((y, k) => (2 * (y - T[k]!)) / (N * O));
    const dW2 = new Array<number>(H * O).fill(0);
    const dB2 = new Array<number>(O).fill(0);
    const dZ = new Array<number>(N * H).fill(0);
    for (let n = 0; n < N; n++) {
      for (let o = 0; o < O; o++) {
        dB2[o]! += dY[n * O + o]!;
        for (let j = 0; j < H; j++) dW2[j * O + o]! += Hh[n * H + j]! * dY[n * O + o]!;
      }
      for (let j = 0; j < H; j++) {
        let s = 0;
        for (let o = 0; o < O; o++) s += dY[n * O + o]! * W2[j * O + o]!;
        dZ[n * H + j] = Z[n * H + j]! > 0 ? s : 0;
      }
    }
    const dW1 = new Array<number>(D * H).fill(0);
    const dB1 = new Array<number>(H).fill(0);
    for (let n = 0; n < N; n++) {
      for (let j = 0; j < H; j++) {
        dB1[j]! += dZ[n * H + j]!;
        for (let d = 0; d < D; d++) dW1[d * H + j]! += X[n * D + d]! * dZ[n * H + j]!;
      }
    }
    // some hidden units are inactive for some examples, so the ReLU mask matters
    expect(Z.some((z) => z < 0) && Z.some((z) => z > 0)).toBe(true);
    expect(Math.abs(value.item() - L)).toBeLessThan(1e-12);
    const tol = { rtol: 0, atol: 1e-12 };
    expectClose(g.w1, fromFlat(dW1, [D, H]), tol, "w1");
    expectClose(g.b1, fromFlat(dB1, [H]), tol, "b1");
    expectClose(g.w2, fromFlat(dW2, [H, O]), tol, "w2");
    expectClose(g.b2, fromFlat(dB2, [O]), tol, "b2");
  });

  it("grad of a parameter object returns an object with the same keys and shapes", () => {
    const rand = seededRandom(5);
    const params = {
      layer1: { w: randomArray(rand, [3, 2]), b: randomArray(rand, [2]) },
      layer2: { w: randomArray(rand, [2, 1]), b: randomArray(rand, [1]) },
      scales: [randomArray(rand, []), randomArray(rand, [4])],
    };
    const x = randomArray(rand, [5, 3]);
    const loss = (p: typeof params): NDArray => {
      const h = np.tanh(np.add(np.matmul(x, p.layer1.w), p.layer1.b));
      const y = np.add(np.matmul(h, p.layer2.w), p.layer2.b);
      return np.add(np.mean(np.multiply(y, p.scales[0]!)), np.sum(np.square(p.scales[1]!)));
    };
    const g = grad(loss)(params);
    expect(Object.keys(g).sort()).toEqual(["layer1", "layer2", "scales"]);
    expect(Object.keys(g.layer1).sort()).toEqual(["b", "w"]);
    expect(g.layer1.w.shape).toEqual([3, 2]);
    expect(g.layer1.b.shape).toEqual([2]);
    expect(g.layer2.w.shape).toEqual([2, 1]);
    expect(g.layer2.b.shape).toEqual([1]);
    expect(Array.isArray(g.scales)).toBe(true);
    expect(g.scales[0]!.shape).toEqual([]);
    expect(g.scales[1]!.shape).toEqual([4]);
    expect(g.layer1.w.dtype).toBe("float64");
    // d/d scales[1] of sum(s²) is 2s
    expectClose(g.scales[1], np.multiply(params.scales[1]!, 2), { rtol: 1e-15 });
  });
});
