/**
 * nn.conv2d, maxPool2d, avgPool2d against direct loops written here with PyTorch's
 * definitions (cross-correlation, zero padding, dilation, groups; -inf padding for max
 * pooling; count_include_pad for average pooling), gradients by checkGrads.
 */
import { describe, expect, it } from "vitest";
import { type Array as NDArray, checkGrads, nn, np, random } from "../../src/index.js";

const nums = (x: NDArray): number[] => Array.from(x.data());

function conv2dRef(x: NDArray, w: NDArray, b: NDArray, s: [number, number], p: [number, number], d: [number, number], g: number): number[] {
  const [N, C, H, W] = x.shape as number[];
  const [O, Cg, KH, KW] = w.shape as number[];
  const X = x.data();
  const Wt = w.data();
  const B = b.data();
  const OH = Math.floor((H! + 2 * p[0] - d[0] * (KH! - 1) - 1) / s[0]) + 1;
  const OW = Math.floor((W! + 2 * p[1] - d[1] * (KW! - 1) - 1) / s[1]) + 1;
  const out: number[] = [];
  for (let n = 0; n < N!; n++)
    for (let o = 0; o < O!; o++)
      for (let i = 0; i < OH; i++)
        for (let j = 0; j < OW; j++) {
          let acc = B[o]!;
          const grp = Math.floor(o / (O! / g));
          for (let c = 0; c < Cg!; c++)
            for (let u = 0; u < KH!; u++)
              for (let v = 0; v < KW!; v++) {
                const y = i * s[0] - p[0] + u * d[0];
                const z = j * s[1] - p[1] + v * d[1];
                if (y < 0 || z < 0 || y >= H! || z >= W!) continue;
                acc += X[((n * C! + grp * Cg! + c) * H! + y) * W! + z]! * Wt[((o * Cg! + c) * KH! + u) * KW! + v]!;
              }
          out.push(acc);
        }
  return out;
}

describe("nn.conv2d", () => {
  it("equals PyTorch's definition for strides, padding, dilation and groups", () => {
    const cases: { s: [number, number]; p: [number, number]; d: [number, number]; g: number; cin: number; cout: number; k: [number, number] }[] = [
      { s: [1, 1], p: [0, 0], d: [1, 1], g: 1, cin: 2, cout: 3, k: [3, 3] },
      { s: [2, 1], p: [1, 2], d: [1, 1], g: 1, cin: 1, cout: 2, k: [3, 2] },
      { s: [1, 2], p: [2, 1], d: [2, 1], g: 2, cin: 4, cout: 6, k: [2, 3] },
    ];
    cases.forEach((c, t) => {
      const params = nn.conv2d.init(random.key(t), c.cin, c.cout, c.k, { groups: c.g, dtype: "float64" });
      const x = random.normal(random.key(10 + t), [2, c.cin, 7, 6], "float64");
      const y = nn.conv2d.apply(params, x, { stride: c.s, padding: c.p, dilation: c.d, groups: c.g });
      const want = conv2dRef(x, params.weight, params.bias, c.s, c.p, c.d, c.g);
      expect(y.size).toBe(want.length);
      nums(y).forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 10));
    });
  });

  it("PyTorch's default init bounds; unbatched input; gradients", () => {
    const p = nn.conv2d.init(random.key(0), 4, 8, 3, { dtype: "float64" });
    const bound = 1 / Math.sqrt(36);
    expect(np.max(np.abs(p.weight)).item()).toBeLessThanOrEqual(bound);
    expect(np.max(np.abs(p.bias)).item()).toBeLessThanOrEqual(bound);
    const x = random.normal(random.key(1), [4, 5, 5], "float64");
    expect(nn.conv2d.apply(p, x, { padding: "same" }).shape).toEqual([8, 5, 5]);
    const small = nn.conv2d.init(random.key(2), 2, 2, 2, { dtype: "float64" });
    checkGrads(
      (xx: NDArray, w: NDArray) => np.sum(np.square(nn.conv2d.apply({ weight: w, bias: small.bias }, xx, { stride: 2, padding: 1 }))),
      [random.normal(random.key(3), [1, 2, 4, 4], "float64"), small.weight],
      { order: 1 },
    );
  });

  it("names wrong channels, ranks and options", () => {
    const p = nn.conv2d.init(random.key(0), 3, 4, 3);
    expect(() => nn.conv2d.apply(p, np.ones([2, 28, 28, 3]))).toThrow(/x has 28 channels .* expects 3; inputs are NCHW/);
    expect(() => nn.conv2d.apply(p, np.ones([28, 28]))).toThrow(/must be \[batch, channels, height, width\]/);
    expect(() => nn.conv2d.apply(p, np.ones([1, 3, 8, 8]), { strides: 2 } as never)).toThrow(/unknown option `strides` \(did you mean `stride`\?\)/);
    expect(() => nn.conv2d.init(random.key(0), 3, 4, 3, { groups: 2 })).toThrow(/divisible by groups 2/);
  });
});

describe("pooling", () => {
  const x = random.normal(random.key(5), [2, 3, 7, 6], "float64");
  const pool = (kind: "max" | "avg", k: [number, number], s: [number, number], p: [number, number], countPad = true): number[] => {
    const [N, C, H, W] = x.shape as number[];
    const X = x.data();
    const OH = Math.floor((H! + 2 * p[0] - k[0]) / s[0]) + 1;
    const OW = Math.floor((W! + 2 * p[1] - k[1]) / s[1]) + 1;
    const out: number[] = [];
    for (let n = 0; n < N!; n++)
      for (let c = 0; c < C!; c++)
        for (let i = 0; i < OH; i++)
          for (let j = 0; j < OW; j++) {
            let m = -Infinity;
            let sum = 0;
            let cnt = 0;
            for (let u = 0; u < k[0]; u++)
              for (let v = 0; v < k[1]; v++) {
                const y = i * s[0] - p[0] + u;
                const z = j * s[1] - p[1] + v;
                if (y < 0 || z < 0 || y >= H! || z >= W!) continue;
                const val = X[((n * C! + c) * H! + y) * W! + z]!;
                m = Math.max(m, val);
                sum += val;
                cnt++;
              }
            out.push(kind === "max" ? m : sum / (countPad ? k[0] * k[1] : cnt));
          }
    return out;
  };
  it("maxPool2d and avgPool2d equal PyTorch's definitions", () => {
    const check = (got: NDArray, want: number[]) => nums(got).forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 12));
    check(nn.maxPool2d(x, 2), pool("max", [2, 2], [2, 2], [0, 0]));
    check(nn.maxPool2d(x, [3, 2], { stride: [2, 1], padding: 1 }), pool("max", [3, 2], [2, 1], [1, 1]));
    check(nn.avgPool2d(x, 3, { stride: 2, padding: 1 }), pool("avg", [3, 3], [2, 2], [1, 1]));
    check(nn.avgPool2d(x, 3, { stride: 2, padding: 1, countIncludePad: false }), pool("avg", [3, 3], [2, 2], [1, 1], false));
    checkGrads((xx: NDArray) => np.sum(np.square(nn.avgPool2d(xx, 2, { padding: 1 }))), [x], { order: 1 });
  });
  it("names windows larger than the input and bad padding", () => {
    expect(() => nn.maxPool2d(np.ones([1, 1, 2, 2]), 3)).toThrow(/window \[3,3\] is larger than the padded input 2x2/);
    expect(() => nn.maxPool2d(np.ones([1, 1, 8, 8]), 2, { padding: 2 })).toThrow(/at most half the kernel size/);
    expect(() => nn.avgPool2d(np.ones([1, 1, 8, 8]), 2, { count_include_pad: false } as never)).toThrow(
      /unknown option `count_include_pad` \(did you mean `countIncludePad`\?\)/,
    );
  });
});
