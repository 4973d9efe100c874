/**
 * Eager grad hands the buffers of its temporaries, residuals and cotangents to an
 * allocation pool (core/pool.ts). These tests check that nothing still visible is ever
 * reused: results of earlier calls, aux values (also views), arrays the user computed
 * inside the function, residuals a customVjp rule kept; and that pooled memory comes
 * back zeroed where allocation promises zeros. Arrays are large enough to be pooled.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { type Array as NDArray, customVjp, grad, hessianVectorProduct, jit, np, random, valueAndGrad } from "../../src/index.js";
import { clearPool, pooledByteCount } from "../../src/core/pool.js";
import { expectClose } from "../helpers/numeric.js";

const N = 40000; // 160 kB of float32: above the pool's minimum size
const xs = Array.from({ length: N }, (_, i) => Math.sin(0.37 * i) * 1.5);
const x32 = (): NDArray => np.array(new Float32Array(xs));
const shifted = (d: number): NDArray => np.array(new Float32Array(xs.map((v) => v + d)));

// f(x) = sum(tanh(x) * exp(-x^2)); f'(x) = (1 - tanh^2) e^{-x^2} - 2x tanh(x) e^{-x^2}, in float64
const f = (x: NDArray): NDArray => np.sum(np.multiply(np.tanh(x), np.exp(np.negative(np.square(x)))));
const df = (v: number): number => (1 - Math.tanh(v) ** 2) * Math.exp(-v * v) - 2 * v * Math.tanh(v) * Math.exp(-v * v);
const tol = { rtol: 1e-5, atol: 1e-6 };

describe("buffer reuse in eager grad", () => {
  beforeEach(() => clearPool());

  it("pools the buffers of a call and later calls leave earlier results intact", () => {
    const g1 = grad(f)(x32());
    expect(pooledByteCount()).toBeGreaterThan(0);
    const snapshot = Array.from(g1.data());
    for (let k = 1; k <= 3; k++) {
      const gk = grad(f)(shifted(k * 0.01));
      expectClose(
        Array.from(gk.data()),
        xs.map((v) => df(Math.fround(v + k * 0.01))),
        tol,
      );
    }
    expect(Array.from(g1.data())).toEqual(snapshot);
    expectClose(
      snapshot,
      xs.map((v) => df(Math.fround(v))),
      tol,
    );
  });

  it("keeps the value and aux values, views of internal buffers included", () => {
    const h = (x: NDArray): [NDArray, NDArray[]] => {
      const t = np.tanh(x);
      return [np.sum(np.multiply(t, t)), [np.reshape(t, [200, 200]), np.exp(x)]];
    };
    const vg = valueAndGrad(h, { hasAux: true });
    const [[v1, aux1], g1] = vg(x32()) as [[NDArray, NDArray[]], NDArray];
    const before = [v1.item(), Array.from(aux1[0]!.data()), Array.from(aux1[1]!.data()), Array.from(g1.data())];
    for (let k = 1; k <= 3; k++) vg(shifted(k));
    expect([v1.item(), Array.from(aux1[0]!.data()), Array.from(aux1[1]!.data()), Array.from(g1.data())]).toEqual(before);
    expectClose(
      before[1] as number[],
      xs.map((v) => Math.tanh(Math.fround(v))),
      tol,
    );
    expectClose(
      before[3] as number[],
      xs.map((v) => 2 * Math.tanh(Math.fround(v)) * (1 - Math.tanh(Math.fround(v)) ** 2)),
      tol,
    );
  });

  it("never reuses arrays the function computed from concrete values it closes over", () => {
    const w = x32();
    let kept: NDArray | null = null;
    const loss = (x: NDArray): NDArray => {
      kept = np.multiply(w, 3); // no tracer involved: an ordinary eager array the user may keep
      return np.sum(np.multiply(x, kept));
    };
    grad(loss)(x32());
    const k1 = kept!;
    const snap = Array.from(k1.data());
    for (let k = 0; k < 3; k++) grad(f)(shifted(k));
    expect(Array.from(k1.data())).toEqual(snap);
  });

  it("recycles nothing when a customVjp rule may hold on to its residuals", () => {
    let stashed: NDArray | null = null;
    const sq = customVjp(
      (x: NDArray) => np.square(x),
      (x: NDArray) => [np.square(x), np.multiply(x, 2)],
      (res: NDArray, ct: NDArray) => {
        stashed = res;
        return [np.multiply(ct, res)];
      },
    );
    const g = grad((x: NDArray) => np.sum(np.tanh(sq(x))))(x32());
    expect(pooledByteCount()).toBe(0);
    const snap = Array.from(stashed!.data());
    for (let k = 0; k < 3; k++) grad(f)(shifted(k));
    expect(Array.from(stashed!.data())).toEqual(snap);
    expectClose(
      Array.from(g.data()),
      xs.map((v) => (1 - Math.tanh(Math.fround(v) ** 2) ** 2) * 2 * Math.fround(v)),
      tol,
    );
  });

  it("gives pooled memory back zeroed to allocations that promise zeros", () => {
    grad(f)(x32());
    expect(pooledByteCount()).toBeGreaterThan(0);
    for (let k = 0; k < 20; k++)
      expect(
        np
          .zeros([N])
          .data()
          .every((v) => v === 0),
      ).toBe(true);
    // eye writes only its diagonal into a 200x200 = N-element buffer
    const e = np.eye(200).data();
    let sum = 0;
    for (let i = 0; i < N; i++) sum += e[i]!;
    expect([sum, e[0], e[201], e[1]]).toEqual([200, 1, 1, 0]);
  });

  it("second order eagerly (hessian-vector product) is unaffected", () => {
    const v = np.array(new Float32Array(N).fill(1));
    // d/dx of sum(x^3 / 3) is x^2, its Hessian diag(2x)
    const cube = (x: NDArray): NDArray => np.divide(np.sum(np.power(x, 3)), 3);
    for (let k = 0; k < 3; k++) {
      const h = hessianVectorProduct(cube)(shifted(k), v) as NDArray;
      expectClose(
        Array.from(h.data()),
        xs.map((t) => 2 * Math.fround(t + k)),
        { rtol: 1e-5, atol: 1e-5 },
      );
    }
  });

  it("recycles around random numbers drawn inside the loss (dropout), and the gradient uses the same mask", () => {
    const key = random.key(7);
    // inverted dropout with keep probability 0.5: d/dx sum(tanh(x) * m * 2) = 2 m (1 - tanh^2)
    const loss = (x: NDArray): NDArray => np.sum(np.multiply(np.tanh(x), np.multiply(random.bernoulli(key, 0.5, [N]).astype("float32"), 2)));
    const mask = Array.from(random.bernoulli(key, 0.5, [N]).data(), Number);
    expect(mask.some((m) => m === 0) && mask.some((m) => m === 1)).toBe(true);
    const g1 = grad(loss)(x32());
    expect(pooledByteCount()).toBeGreaterThan(0);
    const snap = Array.from(g1.data());
    for (let k = 1; k <= 3; k++) grad(loss)(shifted(k));
    expect(Array.from(g1.data())).toEqual(snap);
    expectClose(
      snap,
      xs.map((v, i) => 2 * mask[i]! * (1 - Math.tanh(Math.fround(v)) ** 2)),
      tol,
    );
  });

  it("does not pool under jit (the compiled program owns its buffers)", () => {
    const g = jit(grad(f));
    g(x32());
    expect(pooledByteCount()).toBe(0);
    expectClose(
      Array.from((g(x32()) as NDArray).data()),
      xs.map((v) => df(Math.fround(v))),
      tol,
    );
  });
});
