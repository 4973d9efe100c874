/**
 * nn layers of the second wave against formulas written out here: layerNorm as
 * PyTorch's LayerNorm, embedding rows and their accumulated gradient, dropout's kept
 * fraction and scale, multi-head attention against a per-head loop in plain JS,
 * initializers' bounds and variances (JAX's variance-scaling definitions),
 * truncated normal samples, and gradients by checkGrads in float64.
 */
import { describe, expect, it } from "vitest";
import { type Array as NDArray, checkGrads, grad, jit, nn, np, random, vmap } from "../../src/index.js";

const f64 = (x: unknown): NDArray => np.array(x as number[], { dtype: "float64" });
const nums = (x: NDArray): number[] => Array.from(x.data());

describe("layerNorm", () => {
  it("normalizes the trailing axes with the biased variance, then scales and shifts", () => {
    const x = [
      [1, 2, 4],
      [-1, 0, 7],
    ];
    const w = [0.5, 1, 2];
    const b = [0, 1, -1];
    const params = { weight: f64(w), bias: f64(b) };
    const got = nums(nn.layerNorm.apply(params, f64(x), { eps: 1e-3 }));
    const want = x.flatMap((row) => {
      const m = row.reduce((s, v) => s + v) / 3;
      const v = row.reduce((s, r) => s + (r - m) ** 2, 0) / 3;
      return row.map((r, i) => ((r - m) / Math.sqrt(v + 1e-3)) * w[i]! + b[i]!);
    });
    got.forEach((g, i) => expect(g).toBeCloseTo(want[i]!, 12));
  });

  it("over two trailing axes; gradients by finite differences", () => {
    const p = nn.layerNorm.init([2, 2], { dtype: "float64" });
    const x = random.normal(random.key(3), [3, 2, 2], "float64");
    const y = nn.layerNorm.apply(p, x);
    nums(np.mean(y, { axis: [1, 2] })).forEach((m) => expect(Math.abs(m)).toBeLessThan(1e-12));
    const c = random.normal(random.key(4), [3, 2, 2], "float64");
    checkGrads(
      (xx: NDArray, w: NDArray) => np.sum(np.multiply(nn.layerNorm.apply({ weight: w, bias: p.bias }, xx), c)),
      [
        x,
        f64([
          [1.5, 0.5],
          [2, 1],
        ]),
      ],
    );
  });

  it("names the shapes when x does not end with the normalized shape", () => {
    expect(() => nn.layerNorm.apply(nn.layerNorm.init(3), np.ones([2, 4]))).toThrow(/x of shape \[2,4\] must end with the normalized shape \[3\]/);
    expect(() => nn.layerNorm.apply(nn.layerNorm.init(3), np.ones([3]), { epsilon: 1 } as never)).toThrow(/unknown option `epsilon` \(did you mean `eps`\?\)/);
  });
});

describe("embedding", () => {
  it("looks up rows; the gradient accumulates per id", () => {
    const params = {
      weight: f64([
        [0, 1],
        [2, 3],
        [4, 5],
      ]),
    };
    const ids = np.array(
      [
        [2, 0],
        [2, 2],
      ],
      { dtype: "int32" },
    );
    expect(nn.embedding.apply(params, ids).toJs()).toEqual([
      [
        [4, 5],
        [0, 1],
      ],
      [
        [4, 5],
        [4, 5],
      ],
    ]);
    const g = grad((p: typeof params) => np.sum(nn.embedding.apply(p, ids)))(params);
    expect(g.weight.toJs()).toEqual([
      [1, 1],
      [0, 0],
      [3, 3],
    ]);
    expect(() => nn.embedding.apply(params, np.array([3], { dtype: "int32" }))).toThrow(/3/);
    expect(() => nn.embedding.apply(params, np.array([1]))).toThrow(/ids must be int32/);
  });
  it("init is standard normal [n, dim]", () => {
    const w = nn.embedding.init(random.key(0), 500, 8).weight;
    expect(w.shape).toEqual([500, 8]);
    expect(Math.abs(np.std(w).item() - 1)).toBeLessThan(0.05);
  });
});

describe("dropout", () => {
  it("keeps about 1 - rate of the elements, scaled by 1 / (1 - rate)", () => {
    const y = nums(nn.dropout(random.key(7), np.ones([20000], "float64"), 0.3));
    const kept = y.filter((v) => v !== 0);
    expect(Math.abs(kept.length / y.length - 0.7)).toBeLessThan(0.015);
    kept.forEach((v) => expect(v).toBeCloseTo(1 / 0.7, 12));
  });
  it("is the identity when not training or at rate 0; rejects a rate outside [0, 1)", () => {
    const x = f64([1, 2]);
    expect(nn.dropout(random.key(0), x, 0.5, { training: false })).toBe(x);
    expect(nn.dropout(random.key(0), x, 0)).toBe(x);
    expect(() => nn.dropout(random.key(0), x, 1)).toThrow(/rate .* must be in \[0, 1\), got 1/);
    expect(() => nn.dropout(random.key(0), x, -0.1)).toThrow(/\[0, 1\)/);
    expect(() => nn.dropout(random.key(0), x, 0.5, { train: false } as never)).toThrow(/unknown option `train` \(did you mean `training`\?\)/);
  });
  it("works under jit and grad (the gradient is the mask times the scale)", () => {
    const k = random.key(11);
    const x = np.ones([50], "float64");
    const y = nn.dropout(k, x, 0.5);
    expect(nums(jit((kk: NDArray, xx: NDArray) => nn.dropout(kk, xx, 0.5))(k, x))).toEqual(nums(y));
    expect(nums(grad((xx: NDArray) => np.sum(nn.dropout(k, xx, 0.5)))(x))).toEqual(nums(y));
  });
});

/** Attention written out per head in plain JS doubles. */
function attentionReference(p: nn.MultiHeadAttentionParams, q: number[][], k: number[][], v: number[][], mask?: boolean[][]): number[][] {
  const [H, dh, dim] = p.q.weight.shape as [number, number, number];
  const W = (a: NDArray) => a.toJs() as number[][][];
  const B = (a: NDArray) => a.toJs() as number[][];
  const proj = (x: number[][], w: number[][][], b: number[][], h: number) =>
    x.map((row) => w[h]!.map((wr, j) => wr.reduce((s, wv, c) => s + wv * row[c]!, b[h]![j]!)));
  const heads: number[][][] = [];
  for (let h = 0; h < H; h++) {
    const Q = proj(q, W(p.q.weight), B(p.q.bias), h);
    const K = proj(k, W(p.k.weight), B(p.k.bias), h);
    const V = proj(v, W(p.v.weight), B(p.v.bias), h);
    heads.push(
      Q.map((qr, i) => {
        const s = K.map((kr, j) => (mask && !mask[i]![j] ? -Infinity : qr.reduce((a, qv, c) => a + qv * kr[c]!, 0) / Math.sqrt(dh)));
        const m = Math.max(...s);
        const e = s.map((x) => Math.exp(x - m));
        const z = e.reduce((a, b) => a + b);
        return V[0]!.map((_, c) => e.reduce((a, ej, j) => a + (ej / z) * V[j]![c]!, 0));
      }),
    );
  }
  const ow = p.out.weight.toJs() as number[][];
  const ob = p.out.bias.toJs() as number[];
  return q
    .map((_, i) => {
      const merged = heads.flatMap((hd) => hd[i]!);
      return ow.map((wr, o) => wr.reduce((s, wv, c) => s + wv * merged[c]!, ob[o]!));
    })
    .map((r) => r.slice(0, dim));
}

describe("multiHeadAttention", () => {
  const p = nn.multiHeadAttention.init(random.key(1), 6, 3, { dtype: "float64" });
  const q = random.normal(random.key(2), [4, 6], "float64");
  const kv = random.normal(random.key(3), [5, 6], "float64");

  it("equals a per-head loop, with and without a mask", () => {
    const mask = np.less(random.uniform(random.key(9), [4, 5]), 0.7);
    const maskJs = (mask.toJs() as boolean[][]).map((r, i) => r.map((b, j) => Boolean(b) || j === i % 5));
    const maskArr = np.array(maskJs);
    for (const m of [undefined, maskArr]) {
      const got = nn.multiHeadAttention.apply(p, q, kv, kv, m ? { mask: m } : {}).toJs() as number[][];
      const want = attentionReference(p, q.toJs() as number[][], kv.toJs() as number[][], kv.toJs() as number[][], m ? maskJs : undefined);
      got.flat().forEach((g, i) => expect(g).toBeCloseTo(want.flat()[i]!, 10));
    }
  });

  it("batches over leading axes (vmap agrees) and its gradients match finite differences", () => {
    const qs = random.normal(random.key(5), [2, 4, 6], "float64");
    const batched = nn.multiHeadAttention.apply(p, qs, qs, qs);
    const mapped = vmap((x: NDArray) => nn.multiHeadAttention.apply(p, x, x, x))(qs);
    nums(batched).forEach((b, i) => expect(b).toBeCloseTo(nums(mapped)[i]!, 12));
    checkGrads((x: NDArray, w: NDArray) => np.sum(np.square(nn.multiHeadAttention.apply({ ...p, q: { ...p.q, weight: w } }, x, kv, kv))), [q, p.q.weight], {
      order: 1,
    });
  });

  it("names mismatched shapes", () => {
    expect(() => nn.multiHeadAttention.apply(p, np.ones([4, 5], "float64"), kv, kv)).toThrow(/q must have shape \[\.\.\., length, 6\], got \[4,5\]/);
    expect(() => nn.multiHeadAttention.apply(p, q, kv, np.ones([3, 6], "float64"))).toThrow(/k and v must have the same length/);
    expect(() => nn.multiHeadAttention.apply(p, q, kv, kv, { mask: np.ones([3, 3], "bool") })).toThrow(/mask of shape \[3,3\] does not broadcast/);
    expect(() => nn.multiHeadAttention.init(random.key(0), 6, 4)).toThrow(/dim 6 must be divisible by heads 4/);
  });
});

describe("initializers (JAX's variance scaling)", () => {
  const I = nn.initializers;
  const variance = (x: NDArray): number => np.var(x).item();
  it("uniform bounds and normal variances from fan-in / fan-out", () => {
    const gu = I.glorotUniform()(random.key(0), [300, 500]);
    expect(np.max(np.abs(gu)).item()).toBeLessThanOrEqual(Math.sqrt(6 / 800));
    expect(Math.abs(variance(gu) / (2 / 800) - 1)).toBeLessThan(0.03);
    const hu = I.heUniform()(random.key(1), [40, 60]);
    expect(np.max(np.abs(hu)).item()).toBeLessThanOrEqual(Math.sqrt(6 / 40));
    // conv kernels HWIO: fan-in = 3 * 3 * 16
    const hn = I.heNormal()(random.key(2), [3, 3, 16, 64]);
    expect(Math.abs(variance(hn) / (2 / 144) - 1)).toBeLessThan(0.05);
    // PyTorch's OIHW with explicit axes: fan-in = 16 * 3 * 3
    const oihw = I.lecunNormal({ inAxis: 1, outAxis: 0 })(random.key(3), [64, 16, 3, 3]);
    expect(Math.abs(variance(oihw) / (1 / 144) - 1)).toBeLessThan(0.05);
    const gn = I.glorotNormal()(random.key(4), [100, 300]);
    expect(Math.abs(variance(gn) / (2 / 400) - 1)).toBeLessThan(0.05);
    // truncated at 2 standard deviations of the underlying normal
    expect(np.max(np.abs(gn)).item()).toBeLessThanOrEqual((2 * Math.sqrt(2 / 400)) / 0.8796256610342398 + 1e-6);
  });
  it("zeros, ones, normal, uniform; dtype float64; unknown options", () => {
    expect(I.zeros()(random.key(0), [2], "float64").toJs()).toEqual([0, 0]);
    expect(I.ones()(random.key(0), [1]).toJs()).toEqual([1]);
    expect(Math.abs(np.std(I.normal()(random.key(0), [5000])).item() - 0.01)).toBeLessThan(5e-4);
    const u = I.uniform()(random.key(0), [1000], "float64");
    expect(u.dtype).toBe("float64");
    expect(np.min(u).item()).toBeGreaterThanOrEqual(0);
    expect(np.max(u).item()).toBeLessThan(0.01);
    expect(() => I.heNormal({ in_axis: 1 } as never)).toThrow(/unknown option `in_axis` \(did you mean `inAxis`\?\)/);
    expect(() => I.normal({ std: 1 } as never)).toThrow(/unknown option `std`/);
  });
});

describe("random.truncatedNormal", () => {
  it("stays in the bounds with the truncated normal's mean and variance", () => {
    const z = random.truncatedNormal(random.key(0), -1, 2, [20000], "float64");
    expect(np.min(z).item()).toBeGreaterThanOrEqual(-1);
    expect(np.max(z).item()).toBeLessThanOrEqual(2);
    // mean and variance of N(0,1) truncated to [-1, 2]: phi(a) - phi(b) over Z, 1 + (a phi(a) - b phi(b))/Z - mean^2
    const phi = (x: number) => Math.exp((-x * x) / 2) / Math.sqrt(2 * Math.PI);
    const Z = 0.9772498680518208 - 0.15865525393145707;
    const mean = (phi(-1) - phi(2)) / Z;
    const v = 1 + (-1 * phi(-1) - 2 * phi(2)) / Z - mean * mean;
    expect(np.mean(z).item()).toBeCloseTo(mean, 1);
    expect(Math.abs(np.var(z).item() / v - 1)).toBeLessThan(0.05);
    expect(() => random.truncatedNormal(random.key(0), 2, 1)).toThrow(/lower < upper/);
  });
});
