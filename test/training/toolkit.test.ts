/**
 * Training toolkit II: new activations, losses, optimizers and schedules against
 * formulas written out here in plain JS doubles (optax's / PyTorch's definitions),
 * gradients by checkGrads in float64, jit agreement for a scheduled optimizer step.
 */
import { describe, expect, it } from "vitest";
import { type Array as NDArray, checkGrads, grad, jit, losses, nn, np, optim } from "../../src/index.js";

const f64 = (x: unknown): NDArray => np.array(x as number[], { dtype: "float64" });
const nums = (x: NDArray): number[] => Array.from(x.data());
const close = (got: number[], want: number[], digits = 12): void => {
  expect(got.length).toBe(want.length);
  got.forEach((g, i) => expect(g).toBeCloseTo(want[i]!, digits));
};
const xs = [-3, -0.5, 0, 0.25, 4];
const sig = (v: number): number => 1 / (1 + Math.exp(-v));

describe("activations", () => {
  it("softplus, silu, elu, logSigmoid match their formulas", () => {
    close(
      nums(nn.softplus(f64(xs))),
      xs.map((v) => Math.log(1 + Math.exp(v))),
    );
    close(
      nums(nn.silu(f64(xs))),
      xs.map((v) => v * sig(v)),
    );
    close(
      nums(nn.elu(f64(xs), 0.7)),
      xs.map((v) => (v > 0 ? v : 0.7 * (Math.exp(v) - 1))),
    );
    close(
      nums(nn.logSigmoid(f64(xs))),
      xs.map((v) => Math.log(sig(v))),
    );
  });

  it("stay finite at large |x| (softplus(1000) = 1000, logSigmoid(-1000) = -1000)", () => {
    close(nums(nn.softplus(f64([1000, -1000]))), [1000, 0]);
    close(nums(nn.logSigmoid(f64([-1000, 1000]))), [-1000, 0]);
    expect(nums(grad((x: NDArray) => np.sum(nn.elu(x)))(f64([-1000, 1000])))).toEqual([0, 1]);
  });

  it("derivatives agree with finite differences", () => {
    for (const f of [nn.softplus, nn.silu, (x: NDArray) => nn.elu(x, 1.3), nn.logSigmoid]) {
      checkGrads((x: NDArray) => np.sum(np.multiply(f(x), f64([1, 2, 3, 4, 5]))), [f64([-2.1, -0.4, 0.3, 1.1, 2.5])]);
    }
  });
});

describe("losses", () => {
  const pred = f64([0.2, -1.5, 3, 0.9]);
  const target = f64([0, 0, 1, 1.1]);
  const err = [0.2, -1.5, 2, -0.2];

  it("huber as optax's huber_loss, for delta 1 and 1.5", () => {
    for (const delta of [1, 1.5]) {
      const want = err.map((e) => (Math.abs(e) <= delta ? 0.5 * e * e : delta * (Math.abs(e) - 0.5 * delta)));
      close(nums(losses.huber(pred, target, { delta, reduction: "none" })), want);
      expect(losses.huber(pred, target, { delta }).item()).toBeCloseTo(want.reduce((a, b) => a + b) / 4, 12);
    }
    checkGrads((p: NDArray) => losses.huber(p, target, { delta: 1 }), [pred]);
  });

  it("l1 is the mean absolute error", () => {
    expect(losses.l1(pred, target).item()).toBeCloseTo(err.reduce((a, b) => a + Math.abs(b), 0) / 4, 12);
    expect(losses.l1(pred, target, { reduction: "sum" }).item()).toBeCloseTo(3.9, 12);
  });

  it("klDivergence: sum t (log t - logp) per row, 0 where t = 0, mean over rows", () => {
    const p = [
      [0.2, 0.3, 0.5],
      [0.6, 0.3, 0.1],
    ];
    const t = [
      [0, 0.5, 0.5],
      [0.1, 0.1, 0.8],
    ];
    const rows = t.map((row, i) => row.reduce((s, ti, j) => s + (ti > 0 ? ti * (Math.log(ti) - Math.log(p[i]![j]!)) : 0), 0));
    const logP = np.log(f64(p));
    close(nums(losses.klDivergence(logP, f64(t), { reduction: "none" })), rows);
    expect(losses.klDivergence(logP, f64(t)).item()).toBeCloseTo((rows[0]! + rows[1]!) / 2, 12);
    checkGrads((lp: NDArray) => losses.klDivergence(lp, f64(t)), [logP]);
  });

  it("nll picks -logProbs[label]; its labels are checked", () => {
    const lp = f64([
      [-0.1, -2.3, -4],
      [-1.2, -0.7, -1.5],
    ]);
    const labels = np.array([2, 1], { dtype: "int32" });
    close(nums(losses.nll(lp, labels, { reduction: "none" })), [4, 0.7]);
    expect(losses.nll(lp, labels).item()).toBeCloseTo(2.35, 12);
    expect(() => losses.nll(lp, np.array([0, 3], { dtype: "int32" }))).toThrow(/label 3 .* out of range for 3 classes/);
    expect(() => losses.nll(lp, f64([0, 1]))).toThrow(/int32/);
  });

  it("unknown option keys are errors", () => {
    expect(() => losses.huber(pred, target, { delt: 1 } as never)).toThrow(/unknown option `delt` \(did you mean `delta`\?\)/);
    expect(() => losses.l1(pred, target, { reduce: "sum" } as never)).toThrow(/unknown option `reduce`/);
  });
});

describe("schedules (optax's formulas)", () => {
  const S = optim.schedules;
  it("constant, linear, exponentialDecay, cosineDecay, warmupCosineDecay", () => {
    expect(S.constant(0.3)(17)).toBeCloseTo(0.3, 15);
    const lin = S.linear(1, 0.2, 8, { transitionBegin: 2 });
    close(
      [0, 2, 6, 10, 50].map((c) => lin(c)),
      [1, 1, 0.6, 0.2, 0.2],
    );
    const ex = S.exponentialDecay(2, 4, 0.5, { transitionBegin: 1, endValue: 0.3 });
    close(
      [0, 1, 3, 5, 100].map((c) => ex(c)),
      [2, 2, 2 * 0.5 ** 0.5, 1, 0.3],
    );
    const st = S.exponentialDecay(2, 4, 0.5, { staircase: true });
    close(
      [3, 4, 9].map((c) => st(c)),
      [2, 1, 0.5],
    );
    const cos = S.cosineDecay(0.5, 10, { alpha: 0.2, exponent: 2 });
    close(
      [0, 3, 10, 20].map((c) => cos(c)),
      [0, 3, 10, 10].map((c) => 0.5 * (0.8 * (0.5 * (1 + Math.cos((Math.PI * c) / 10))) ** 2 + 0.2)),
    );
    const w = S.warmupCosineDecay({ initValue: 0.1, peakValue: 1, warmupSteps: 4, decaySteps: 14, endValue: 0.1 });
    close(
      [0, 2, 4, 9, 14, 30].map((c) => w(c)),
      [0.1, 0.55, 1, 0.1 + 0.9 * 0.5 * (1 + Math.cos(Math.PI * 0.5)), 0.1, 0.1],
    );
  });

  it("give the same values on a traced count under jit", () => {
    const s = optim.schedules.warmupCosineDecay({ initValue: 0, peakValue: 1, warmupSteps: 5, decaySteps: 20 });
    const f = jit((c: NDArray) => s(c));
    for (const c of [0, 3, 5, 12, 25]) expect(f(np.array(c, { dtype: "int32" })).item()).toBeCloseTo(s(c), 6);
  });

  it("reject bad arguments and unknown options", () => {
    expect(() => optim.schedules.cosineDecay(1, 0)).toThrow(/decaySteps must be a finite number > 0/);
    expect(() => optim.schedules.linear(1, 0, 10, { begin: 3 } as never)).toThrow(/unknown option `begin`/);
    expect(() => optim.schedules.warmupCosineDecay({ initValue: 0, peakValue: 1, warmupSteps: 10, decaySteps: 5 })).toThrow(
      /warmupSteps must be in \[0, decaySteps\)/,
    );
  });
});

/** Runs `steps` steps of `opt` on f(p) = sum(p² / 2) (gradient p); returns the iterates. */
function iterates(opt: optim.GradientTransformation<any>, p0: number[], steps: number): number[][] {
  let params = f64(p0);
  let state = opt.init(params);
  const out: number[][] = [];
  for (let t = 0; t < steps; t++) {
    const [u, s] = opt.update(params, state, params);
    params = optim.applyUpdates(params, u);
    state = s;
    out.push(nums(params));
  }
  return out;
}

describe("optimizers", () => {
  it("rmsprop as optax: g / sqrt(nu + eps), nu = decay nu + (1 - decay) g²", () => {
    let p = 1.5;
    let nu = 0;
    const want: number[] = [];
    for (let t = 0; t < 3; t++) {
      nu = 0.9 * nu + 0.1 * p * p;
      p -= (0.01 * p) / Math.sqrt(nu + 1e-8);
      want.push(p);
    }
    close(iterates(optim.rmsprop(0.01), [1.5], 3).flat(), want);
  });

  it("rmsprop centered with momentum as optax (momentum on the scaled steps)", () => {
    let p = -0.7;
    let nu = 0;
    let mu = 0;
    let tr = 0;
    const want: number[] = [];
    for (let t = 0; t < 4; t++) {
      const g = p;
      nu = 0.8 * nu + 0.2 * g * g;
      mu = 0.8 * mu + 0.2 * g;
      tr = 0.5 * tr + (-0.05 * g) / Math.sqrt(nu - mu * mu + 1e-6);
      p += tr;
      want.push(p);
    }
    close(iterates(optim.rmsprop(0.05, { decay: 0.8, eps: 1e-6, momentum: 0.5, centered: true }), [-0.7], 4).flat(), want);
  });

  it("adagrad as optax: sum of squares from 0.1, g / sqrt(s + eps)", () => {
    let p = 2;
    let s = 0.1;
    const want: number[] = [];
    for (let t = 0; t < 3; t++) {
      s += p * p;
      p -= (0.3 * p) / Math.sqrt(s + 1e-7);
      want.push(p);
    }
    close(iterates(optim.adagrad(0.3), [2], 3).flat(), want);
  });

  it("a schedule as the learning rate: step t uses lr(t), in sgd, adam, rmsprop and adagrad", () => {
    const lr = optim.schedules.linear(0.5, 0.1, 2);
    // sgd: p <- p - lr(t) p
    close(iterates(optim.sgd(lr), [1], 3).flat(), [0.5, 0.5 * 0.7, 0.5 * 0.7 * 0.9]);
    // adam's first step is about -lr(0) sign(g); the second uses lr(1) = 0.3
    const a = iterates(optim.adam(lr), [1], 2);
    expect(a[0]![0]!).toBeCloseTo(0.5, 6);
    const sched = iterates(optim.adagrad(lr), [2], 2).flat();
    const fixed = iterates(optim.adagrad(0.5), [2], 1).flat();
    expect(sched[0]).toBeCloseTo(fixed[0]!, 12);
  });

  it("a whole scheduled step jits, the count living in the state", () => {
    const opt = optim.adam(optim.schedules.cosineDecay(0.1, 10));
    const loss = (p: NDArray): NDArray => np.sum(np.square(np.subtract(p, 3)));
    const step = (p: NDArray, s: optim.AdamState): [NDArray, optim.AdamState] => {
      const [u, next] = opt.update(grad(loss)(p), s, p);
      return [optim.applyUpdates(p, u), next];
    };
    const jstep = jit(step);
    let pe = np.array([0, 1]);
    let se = opt.init(pe);
    let pj = pe;
    let sj = se;
    for (let t = 0; t < 5; t++) {
      [pe, se] = step(pe, se);
      [pj, sj] = jstep(pj, sj);
    }
    close(nums(pj), nums(pe), 5);
    expect(sj.count.item()).toBe(5);
  });

  it("a schedule returning a non-finite value is an error naming the optimizer and step", () => {
    const opt = optim.sgd((c: number | NDArray) => (typeof c === "number" && c >= 1 ? Number.NaN : 0.1));
    let state = opt.init(f64([1]));
    [, state] = opt.update(f64([1]), state);
    expect(() => opt.update(f64([1]), state)).toThrow(/optim\.sgd\.update: the learning-rate schedule returned NaN at step 1/);
  });

  it("option keys are checked", () => {
    expect(() => optim.rmsprop(0.1, { decay_rate: 0.9 } as never)).toThrow(/unknown option `decay_rate` \(did you mean `decay`\?\)/);
    expect(() => optim.adagrad(0.1, { initial: 0.1 } as never)).toThrow(/unknown option `initial`/);
    expect(() => optim.adam(0.1, { beta1: 0.9 } as never)).toThrow(/unknown option `beta1`/);
  });
});
