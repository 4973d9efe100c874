/**
 * Every options object rejects unknown keys (issue 13, 2): the probes of the issue, each
 * naming the function, the key and the nearest valid one.
 */
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { checkGrads, grad, jit, losses, makeJaxpr, nn, np, optim, random, toDot } from "../../src/index.js";
import { expectError } from "../numpy/util.js";

const x = np.array([
  [1, 2],
  [3, 4],
]);

describe("unknown option keys throw, naming the function, the key and the nearest valid key", () => {
  it("np reductions", () => {
    expectError(() => np.mean(x, { axis: 1, keepDims: true } as never), "mean", "`keepDims`", "did you mean `keepdims`");
    expectError(() => np.sum(x, { axes: 0 } as never), "sum", "`axes`", "did you mean `axis`");
    expectError(() => np.max(x, { keepDim: true } as never), "max", "keepdims");
    expectError(() => np.min(x, { axs: 0 } as never), "min", "axis");
    expectError(() => np.prod(x, { keep_dims: true } as never), "prod", "keepdims");
    expectError(() => np.logSumExp(x, { Axis: 0 } as never), "logSumExp", "axis");
    expectError(() => np.var(x, { dof: 1 } as never), "var", "ddof");
    expectError(() => np.std(x, { ddoff: 1 } as never), "std", "ddof");
    expectError(() => np.argmax(x, { axes: 0 } as never), "argmax", "axis");
    expectError(() => np.argmin(x, { dim: 0 } as never), "argmin", "`dim`");
    expectError(() => x.sum({ keepDims: true } as never), "sum", "keepdims");
    expectError(() => np.linalg.norm(x, { order: 2 } as never), "norm", "`order`", "ord");
  });
  it("np.array and creation", () => {
    expectError(() => np.array([1, 2], { dtyp: "int32" } as never), "np.array", "`dtyp`", "did you mean `dtype`");
    expectError(() => np.array([1, 2], { shap: [2] } as never), "np.array", "shape");
  });
  it("losses", () => {
    expectError(() => losses.mse(x, x, { reduce: "sum" } as never), "losses.mse", "`reduce`", "reduction");
    expectError(() => losses.binaryCrossEntropy(np.array([0.5]), np.array([1]), { from_logits: true } as never), "binaryCrossEntropy", "fromLogits");
    expectError(() => losses.softmaxCrossEntropy(x, np.array([0, 1], { dtype: "int32" }), { reductions: "sum" } as never), "softmaxCrossEntropy", "reduction");
  });
  it("random", () => {
    const k = random.key(0);
    expectError(() => random.uniform(k, [2], { min: 0, max: 2 } as never), "random.uniform", "`min`", "minval");
  });
  it("nn", () => {
    const k = random.key(0);
    expectError(() => nn.linear.init(k, 2, 3, { dtyp: "float64" } as never), "nn.linear.init", "dtype");
    expectError(() => nn.mlp.init(k, [2, 3], { dtype: "float64", bias: false } as never), "nn.mlp.init", "`bias`");
    const p = nn.mlp.init(k, [2, 3]);
    expectError(() => nn.mlp.apply(p, x, { act: nn.tanh } as never), "nn.mlp.apply", "activation");
    const bn = nn.batchNorm.init(2);
    expectError(() => nn.batchNorm.apply(bn.params, bn.state, x, { training: true, epsilon: 1e-3 } as never), "batchNorm", "`epsilon`", "eps");
    expectError(() => nn.gelu(x, { approx: false } as never), "nn.gelu", "approximate");
  });
  it("optim", () => {
    expectError(() => optim.sgd(0.1, { momentun: 0.9 } as never), "sgd", "momentum");
    expectError(() => optim.adam(0.1, { beta1: 0.9 } as never), "adam", "`beta1`");
    expectError(() => optim.clipGradNorm({ a: x }, 1, { norm_type: 2 } as never), "clipGradNorm", "normType");
  });
  it("toDot", () => {
    const j = makeJaxpr((a: np.Array) => np.sin(a))(x);
    expectError(() => toDot(j, { titel: "f" } as never), "toDot", "title");
  });
  it("valid keys still work", () => {
    expect(np.mean(x, { axis: 1, keepdims: true }).shape).toEqual([2, 1]);
    expect(losses.mse(x, np.zeros([2, 2]), { reduction: "sum" }).item()).toBe(30);
  });
});

describe("nn.gelu({ approximate: false }) is the exact erf form", () => {
  // SciPy's x·Φ(x) and its derivative (scripts/gelu_fixture.py)
  const ref = JSON.parse(readFileSync(new URL("../fixtures/gelu_exact.json", import.meta.url), "utf8")) as { x: number[]; gelu: number[]; dgelu: number[] };
  const close = (got: number[], want: number[], tol: number): void =>
    got.forEach((g, i) => expect(Math.abs(g - want[i]!), `at x=${ref.x[i]}: ${g} vs ${want[i]}`).toBeLessThanOrEqual(tol * Math.abs(want[i]!) + 1e-300));
  it("values and gradient in float64 match SciPy to 1e-13", () => {
    const x = np.array(ref.x, { dtype: "float64" });
    close(nn.gelu(x, { approximate: false }).toJs() as number[], ref.gelu, 1e-13);
    close(grad((v: np.Array) => nn.gelu(v, { approximate: false }).sum())(x).toJs() as number[], ref.dgelu, 1e-13);
  });
  it("differs from the tanh form, which stays the default; float32, jit and checkGrads", () => {
    const x = np.array([1], { dtype: "float64" });
    expect(Math.abs(nn.gelu(x).item() - nn.gelu(x, { approximate: false }).item())).toBeGreaterThan(1e-4);
    expect(nn.gelu(x, { approximate: true }).item()).toBe(nn.gelu(x).item());
    const x32 = np.array(ref.x);
    close(jit((v: np.Array) => nn.gelu(v, { approximate: false }))(x32).toJs() as number[], ref.gelu.map(Math.fround), 1e-5);
    checkGrads((v: np.Array) => nn.gelu(v, { approximate: false }), [np.array([-2, -0.3, 0.7, 3], { dtype: "float64" })], { order: 2 });
    expectError(() => nn.gelu(x, { approximate: "no" } as never), "nn.gelu", "approximate", "true");
  });
});
