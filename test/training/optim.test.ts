/**
 * optim: updates against hand-computed sequences (SGD with momentum and Nesterov),
 * Adam/AdamW against torch.optim's update rules written out in plain JS doubles,
 * clipping against the optax/PyTorch formulas, tree-mismatch errors, immutability of
 * states, and jit agreement.
 */
import { describe, expect, it } from "vitest";
import { type Array as NDArray, grad, jit, np, optim } from "../../src/index.js";

const f64 = (x: unknown): NDArray => np.array(x as number[], { dtype: "float64" });
const nums = (x: NDArray): number[] => Array.from(x.data());
const expectAllClose = (got: number[], want: number[], digits = 12): void => {
  expect(got.length).toBe(want.length);
  got.forEach((g, i) => expect(g).toBeCloseTo(want[i]!, digits));
};

/** Runs `steps` steps of `opt` on f(p) = sum(p^2) / 2 (gradient p); returns the iterates. */
function runQuadratic(opt: optim.GradientTransformation<any>, p0: number[], steps: number): number[][] {
  let params = { p: f64(p0) };
  let state = opt.init(params);
  const out: number[][] = [];
  for (let t = 0; t < steps; t++) {
    const g = grad((q: typeof params) => np.multiply(np.sum(np.square(q.p)), 0.5))(params);
    const [u, s] = opt.update(g, state, params);
    params = optim.applyUpdates(params, u);
    state = s;
    out.push(nums(params.p));
  }
  return out;
}

describe("sgd", () => {
  it("plain: p - lr * g", () => {
    expectAllClose(runQuadratic(optim.sgd(0.1), [1, -2], 2).flat(), [0.9, -1.8, 0.81, -1.62]);
  });

  it("momentum as torch.optim.SGD: buf = m * buf + g", () => {
    // p = 1, lr 0.1, m 0.9, g = p: buf 1 -> p 0.9; buf 0.9 + 0.9 = 1.8 -> p 0.72; buf 1.62 + 0.72 = 2.34 -> p 0.486
    expectAllClose(runQuadratic(optim.sgd(0.1, { momentum: 0.9 }), [1], 3).flat(), [0.9, 0.72, 0.486]);
  });

  it("Nesterov: step along g + m * buf", () => {
    // constant gradient 1: steps 1.9, 2.71, 3.439
    const opt = optim.sgd(0.1, { momentum: 0.9, nesterov: true });
    let state = opt.init({ w: f64([0]) });
    const want = [-0.19, -0.271, -0.3439];
    for (const w of want) {
      const [u, s] = opt.update({ w: f64([1]) }, state);
      expect(u.w.item()).toBeCloseTo(w, 14);
      state = s;
    }
  });

  it("weight decay adds wd * p to the gradient", () => {
    const opt = optim.sgd(0.5, { weightDecay: 0.1 });
    const [u] = opt.update({ w: f64([1]) }, opt.init({ w: f64([2]) }), { w: f64([2]) });
    expect(u.w.item()).toBeCloseTo(-0.5 * (1 + 0.2), 14);
    expect(() => opt.update({ w: f64([1]) }, opt.init({ w: f64([2]) }))).toThrow(/weightDecay needs the parameters/);
  });

  it("rejects Nesterov without momentum and bad rates", () => {
    expect(() => optim.sgd(0.1, { nesterov: true })).toThrow(/Nesterov momentum needs momentum > 0/);
    expect(() => optim.sgd(-1)).toThrow(/optim\.sgd: lr must be a finite number >= 0/);
  });
});

/** torch.optim.Adam / AdamW (single-tensor, non-amsgrad) on plain numbers. */
function torchAdam(p0: number, grads: (p: number) => number, steps: number, lr: number, { b1 = 0.9, b2 = 0.999, eps = 1e-8, wd = 0 } = {}): number[] {
  let p = p0;
  let m = 0;
  let v = 0;
  const out: number[] = [];
  for (let step = 1; step <= steps; step++) {
    const g = grads(p);
    p = p * (1 - lr * wd); // AdamW's decoupled decay (wd = 0 for Adam)
    m = m + (g - m) * (1 - b1); // exp_avg.lerp_(grad, 1 - beta1)
    v = v * b2 + (1 - b2) * g * g; // exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
    const bc1 = 1 - b1 ** step;
    const bc2 = 1 - b2 ** step;
    const stepSize = lr / bc1;
    const denom = Math.sqrt(v) / Math.sqrt(bc2) + eps;
    p = p - stepSize * (m / denom);
    out.push(p);
  }
  return out;
}

describe("adam and adamw", () => {
  it("the first step is -lr * g / (|g| + eps)", () => {
    const opt = optim.adam(0.1);
    const [u] = opt.update(f64([0.5, -3, 0]), opt.init(f64([1, 1, 1])));
    expectAllClose(nums(u), [-0.1 * (0.5 / (0.5 + 1e-8)), 0.1 * (3 / (3 + 1e-8)), 0], 15);
  });

  it("first steps match torch.optim.Adam on f(p) = p^2", () => {
    // gradient 2p from p = 1, lr 0.1; step 1 by hand: m = 0.2, v = 0.004, m_hat = 2, v_hat = 4, p = 1 - 0.1 * 2 / (2 + 1e-8)
    const want = torchAdam(1, (p) => 2 * p, 5, 0.1);
    expect(want[0]).toBeCloseTo(1 - 0.2 / (2 + 1e-8), 15);
    let params = f64([1]);
    const opt = optim.adam(0.1);
    let state = opt.init(params);
    const got: number[] = [];
    for (let i = 0; i < 5; i++) {
      const g = grad((p: NDArray) => np.sum(np.square(p)))(params);
      const [u, s] = opt.update(g, state, params);
      params = optim.applyUpdates(params, u);
      state = s;
      got.push(params.item());
    }
    expectAllClose(got, want, 14);
    expect(state.count.item()).toBe(5);
  });

  it("float32 parameters track the float64 reference to float32 precision", () => {
    const want = torchAdam(0.7, (p) => Math.cos(p), 4, 0.05, { b1: 0.8, b2: 0.99, eps: 1e-6 });
    let params = np.array([0.7]);
    const opt = optim.adam(0.05, { b1: 0.8, b2: 0.99, eps: 1e-6 });
    let state = opt.init(params);
    for (let i = 0; i < 4; i++) {
      const [u, s] = opt.update(grad((p: NDArray) => np.sum(np.sin(p)))(params), state, params);
      params = optim.applyUpdates(params, u);
      state = s;
      expect(params.dtype).toBe("float32");
      expect(params.item()).toBeCloseTo(want[i]!, 6);
    }
  });

  it("adamw: Adam plus decoupled decay, as torch.optim.AdamW", () => {
    const want = torchAdam(2, (p) => p, 3, 0.1, { wd: 0.5 });
    const got = runQuadratic(optim.adamw(0.1, { weightDecay: 0.5 }), [2], 3).flat();
    expectAllClose(got, want, 14);
    const opt = optim.adamw(0.1);
    expect(() => opt.update(f64([1]), opt.init(f64([1])))).toThrow(/optim\.adamw\.update: decoupled weight decay needs the parameters/);
  });

  it("minimizes a least-squares problem", () => {
    const x = f64([
      [1, 0],
      [0, 1],
      [1, 1],
      [2, -1],
    ]);
    const y = f64([1, -2, -1, 4]); // exactly 1 * x0 - 2 * x1
    let params = { w: f64([0, 0]) };
    const loss = (p: typeof params) => np.mean(np.square(np.subtract(np.matmul(x, p.w), y)));
    const opt = optim.adam(0.1);
    let state = opt.init(params);
    for (let i = 0; i < 300; i++) {
      const [u, s] = opt.update(grad(loss)(params), state, params);
      params = optim.applyUpdates(params, u);
      state = s;
    }
    expectAllClose(nums(params.w), [1, -2], 3);
  });

  it("states are frozen and updates do not change them", () => {
    const opt = optim.adam(0.1);
    const params = { a: f64([1, 2]), b: [f64([3])] };
    const s0 = opt.init(params);
    expect(Object.isFrozen(s0)).toBe(true);
    expect(Object.isFrozen(s0.mu)).toBe(true);
    const g = { a: f64([1, 1]), b: [f64([1])] };
    const [u1, s1] = opt.update(g, s0);
    const [u1again] = opt.update(g, s0);
    expect(nums(u1again.a)).toEqual(nums(u1.a));
    expect(s0.count.item()).toBe(0);
    expect(s1.count.item()).toBe(1);
    expect(Object.isFrozen(s1)).toBe(true);
  });

  it("mismatched gradient and parameter trees give a clear error", () => {
    const opt = optim.adam(0.1);
    const state = opt.init({ w: f64([1, 2]), b: f64([0]) });
    expect(() => opt.update({ w: f64([1, 2]) }, state)).toThrow(
      /optim\.adam\.update: grads and the optimizer state have different tree structures.*only in the optimizer state: b/,
    );
    expect(() => opt.update({ w: f64([1, 2, 3]), b: f64([0]) }, state)).toThrow(/at w, grads has shape \[3\] but the optimizer state has shape \[2\]/);
    const layers = [{ weight: f64([[1]]), bias: f64([0]) }];
    expect(() => optim.applyUpdates(layers, [{ weight: f64([1]), bias: f64([0]) }])).toThrow(
      /optim\.applyUpdates: at \[0\]\.weight, params has shape \[1,1\] but updates has shape \[1\]/,
    );
    expect(() => optim.applyUpdates({ w: f64([1]) }, { v: f64([1]) })).toThrow(/only in params: w; only in updates: v/);
    expect(() => opt.init({ n: np.array([1], { dtype: "int32" }) })).toThrow(/optim\.adam\.init: the params leaf at n has dtype int32/);
  });
});

describe("chain, clipping, applyUpdates", () => {
  it("globalNorm and clipByGlobalNorm (optax's rule)", () => {
    const g = { a: f64([3]), b: f64([[4]]) };
    expect(optim.globalNorm(g).item()).toBe(5);
    const clip = optim.clipByGlobalNorm(1);
    const [u] = clip.update(g, clip.init(g));
    expectAllClose([...nums(u.a), ...nums(u.b)], [0.6, 0.8], 15);
    const [same] = optim.clipByGlobalNorm(10).update(g, {});
    expect([...nums(same.a), ...nums(same.b)]).toEqual([3, 4]);
  });

  it("chain threads updates through each transformation", () => {
    const opt = optim.chain(optim.clipByGlobalNorm(1), optim.sgd(0.5, { momentum: 0.5 }));
    const params = { w: f64([0, 0]) };
    let state = opt.init(params);
    expect(state.length).toBe(2);
    let u;
    [u, state] = opt.update({ w: f64([3, 4]) }, state);
    expectAllClose(nums(u.w), [-0.3, -0.4], 15);
    [u, state] = opt.update({ w: f64([0.3, 0.4]) }, state); // norm 0.5 < 1: not clipped; buf = 0.5 * [0.6, 0.8] + [0.3, 0.4]
    expectAllClose(nums(u.w), [-0.3, -0.4], 15);
    expect(() => opt.update({ w: f64([1, 1]) }, [])).toThrow(/optim\.chain\.update: expected the state from this chain's init/);
  });

  it("clipGradNorm as torch.nn.utils.clip_grad_norm_", () => {
    const g = { a: f64([3, 0]), b: [f64([4])] };
    const [c, total] = optim.clipGradNorm(g, 1);
    expect(total.item()).toBe(5);
    const coef = 1 / (5 + 1e-6);
    expectAllClose([...nums(c.a), ...nums(c.b[0]!)], [3 * coef, 0, 4 * coef], 15);
    const [unclipped] = optim.clipGradNorm(g, 10);
    expect([...nums(unclipped.a), ...nums(unclipped.b[0]!)]).toEqual([3, 0, 4]);
    const [ci, inf] = optim.clipGradNorm(g, 2, { normType: Infinity });
    expect(inf.item()).toBe(4);
    expectAllClose(nums(ci.b[0]!), [4 * (2 / (4 + 1e-6))], 15);
    const [, l1] = optim.clipGradNorm(g, 100, { normType: 1 });
    expect(l1.item()).toBeCloseTo(7, 14);
  });

  it("clipGradValue clamps elementwise", () => {
    expect(nums(optim.clipGradValue({ w: f64([-3, 0.5, 2]) }, 1).w)).toEqual([-1, 0.5, 1]);
  });

  it("applyUpdates keeps each parameter's dtype", () => {
    const p = optim.applyUpdates({ a: np.array([1]), b: f64([1]) }, { a: f64([0.5]), b: np.array([0.25]) });
    expect(p.a.dtype).toBe("float32");
    expect(p.b.dtype).toBe("float64");
    expect([p.a.item(), p.b.item()]).toEqual([1.5, 1.25]);
  });

  it("an optimizer step runs under jit with the eager numbers", () => {
    const x = f64([
      [1, 2],
      [3, -1],
    ]);
    const loss = (p: { w: NDArray }) => np.sum(np.square(np.matmul(x, p.w)));
    const opt = optim.chain(optim.clipByGlobalNorm(5), optim.adam(0.01));
    const step = (params: { w: NDArray }, state: unknown[]) => {
      const [u, s] = opt.update(grad(loss)(params), state, params);
      return [optim.applyUpdates(params, u), s] as const;
    };
    const params = { w: f64([0.5, -0.5]) };
    let eager = [params, opt.init(params)] as const;
    let jitted = eager;
    const fast = jit(step);
    for (let i = 0; i < 3; i++) {
      eager = step(...eager);
      jitted = fast(...jitted) as typeof jitted;
    }
    expectAllClose(nums(jitted[0].w), nums(eager[0].w), 14);
  });
});
