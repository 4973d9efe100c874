/**
 * random: Threefry against Random123's known-answer vectors, keys/split/normal/uniform
 * against values published by JAX (its documentation and tutorials print them),
 * distribution sanity checks, staging/jit/vmap agreement with eager, and fast-check
 * properties (deterministic per key; split keys give independent streams).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Array as NDArray, evalJaxpr, grad, jit, makeJaxpr, np, random, vmap } from "../../src/index.js";
import { random_bits_p } from "../../src/random/prng.js";
import { threefry2x32 } from "../../src/random/threefry.js";

const words = (x: NDArray): number[] => Array.from(x.data(), (w) => w >>> 0);
const nums = (x: NDArray): number[] => Array.from(x.data());

describe("threefry2x32", () => {
  // Random123 kat_vectors for threefry2x32_20: (key, counter) -> output.
  const kat: [number[], number[], number[]][] = [
    [
      [0, 0],
      [0, 0],
      [0x6b200159, 0x99ba4efe],
    ],
    [
      [0xffffffff, 0xffffffff],
      [0xffffffff, 0xffffffff],
      [0x1cb996fc, 0xbb002be7],
    ],
    [
      [0x13198a2e, 0x03707344],
      [0x243f6a88, 0x85a308d3],
      [0xc4923a9c, 0x483df7a0],
    ],
  ];
  it.each(kat)("key %j counter %j", (k, x, want) => {
    const out = new Int32Array(2);
    threefry2x32(k[0]!, k[1]!, x[0]!, x[1]!, out);
    expect([out[0]! >>> 0, out[1]! >>> 0]).toEqual(want);
  });
});

describe("keys", () => {
  it("key(seed) holds the high and low words of the seed", () => {
    expect(random.keyData(random.key(0))).toEqual([0, 0]);
    expect(random.keyData(random.key(42))).toEqual([0, 42]);
    expect(random.keyData(random.key(2 ** 32 + 5))).toEqual([1, 5]);
    expect(random.keyData(random.key(-1))).toEqual([0xffffffff, 0xffffffff]);
    expect(random.key(3).dtype).toBe("int32");
  });

  it("split(key(0)) gives JAX's keys", () => {
    const [a, b] = random.split(random.key(0));
    expect(random.keyData(a!)).toEqual([4146024105, 967050713]);
    expect(random.keyData(b!)).toEqual([2718843009, 1272950319]);
  });

  it("bits(key(0)) gives the words of JAX's random.bits", () => {
    expect(words(random.bits(random.key(0), [4]))).toEqual([4146024105, 967050713, 2718843009, 1272950319]);
    expect(words(random.bits(random.key(0), [3]))).toEqual([4146024105, 1351547692, 2718843009]);
    // one word: the counter pair (0, 0) padded, i.e. the first Random123 vector
    expect(words(random.bits(random.key(0), []))).toEqual([0x6b200159]);
  });

  it("foldIn hashes the counter (0, data)", () => {
    // counter (0, 0) under key (0, 0) is the first known-answer vector
    expect(random.keyData(random.foldIn(random.key(0), 0))).toEqual([0x6b200159, 0x99ba4efe]);
    const out = new Int32Array(2);
    threefry2x32(0, 7, 0, 12345, out);
    expect(random.keyData(random.foldIn(random.key(7), 12345))).toEqual([out[0]! >>> 0, out[1]! >>> 0]);
    expect(random.keyData(random.foldIn(random.key(0), np.array(1, { dtype: "int32" })))).not.toEqual(random.keyData(random.foldIn(random.key(0), 0)));
  });

  it("rejects things that are not keys, naming the operation", () => {
    expect(() => random.normal(np.zeros([2]), [3])).toThrow(/random\.normal: expected a PRNG key.*f32\[2\]/);
    expect(() => random.split(np.array([1, 2, 3], { dtype: "int32" }))).toThrow(/random\.split: expected a PRNG key/);
    expect(() => random.key(1.5)).toThrow(/random\.key: the seed must be an integer/);
    expect(() => random.uniform(random.key(0), [2], { dtype: "int32" })).toThrow(/random\.uniform: dtype must be "float32" or "float64"/);
    expect(() => random.normal(random.key(0), [-1])).toThrow(/random\.normal: shape must be/);
  });
});

describe("uniform", () => {
  it("float32 takes the top 23 bits of each word (JAX's construction)", () => {
    const w = words(random.bits(random.key(5), [6]));
    const want = w.map((x) => (x >>> 9) / 2 ** 23);
    expect(nums(random.uniform(random.key(5), [6]))).toEqual(want);
    // JAX: random.uniform(PRNGKey(0)) = 0.41845703
    expect(random.uniform(random.key(0)).item()).toBe((0x6b200159 >>> 9) / 2 ** 23);
    expect(random.uniform(random.key(0)).item()).toBeCloseTo(0.41845703, 7);
  });

  it("float64 takes 52 bits from a high and a low word", () => {
    const w = words(random.bits(random.key(9), [6])); // first half: high words, second half: low words
    const want = [0, 1, 2].map((i) => (w[i]! * 2 ** 20 + (w[i + 3]! >>> 12)) / 2 ** 52);
    expect(nums(random.uniform(random.key(9), [3], { dtype: "float64" }))).toEqual(want);
  });

  it("scales to [minval, maxval) with array bounds", () => {
    const u = nums(random.uniform(random.key(1), [4000], { minval: -2, maxval: 3 }));
    expect(Math.min(...u)).toBeGreaterThanOrEqual(-2);
    expect(Math.max(...u)).toBeLessThan(3);
    const mean = u.reduce((a, b) => a + b, 0) / u.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.1); // sd of the mean ~ 0.023
    const lo = np.array([0, 10]);
    const v = random.uniform(random.key(2), [500, 2], { minval: lo, maxval: np.array([1, 11]) });
    const cols = np.mean(v, { axis: 0 }).toJs() as number[];
    expect(cols[0]).toBeCloseTo(0.5, 1);
    expect(cols[1]).toBeCloseTo(10.5, 1);
  });
});

describe("normal", () => {
  it("float32 matches JAX's published values", () => {
    // jax.random.normal(PRNGKey(0)) and normal(split(PRNGKey(0))[1], (1,)) from JAX's docs
    expect(random.normal(random.key(0)).item()).toBeCloseTo(-0.20584226, 6);
    const [, sub] = random.split(random.key(0));
    expect(random.normal(sub!, [1]).item()).toBeCloseTo(-1.2515389, 6);
    const x = nums(random.normal(random.key(0), [4]));
    [1.8160863, -0.75488514, 0.33988908, -0.53483534].forEach((v, i) => expect(x[i]).toBeCloseTo(v, 6));
  });

  it("has mean 0 and variance 1 in float32 and float64", () => {
    for (const dtype of ["float32", "float64"] as const) {
      const x = random.normal(random.key(11), [20000], dtype);
      expect(x.dtype).toBe(dtype);
      expect(Math.abs(np.mean(x).item())).toBeLessThan(0.03); // sd of the mean ~ 0.007
      expect(Math.abs(np.var(x).item() - 1)).toBeLessThan(0.04);
      // fraction within one standard deviation: 0.6827
      const inside = np.mean(np.less(np.abs(x), 1).astype("float32")).item();
      expect(Math.abs(inside - 0.6827)).toBeLessThan(0.02);
    }
  });

  it("float64 is the Box–Muller transform of two uniforms", () => {
    const u = nums(random.uniform(random.key(4), [2, 3], { dtype: "float64" }));
    const want = [0, 1, 2].map((i) => Math.sqrt(-2 * Math.log1p(-u[i]!)) * Math.cos(2 * Math.PI * u[i + 3]!));
    const got = nums(random.normal(random.key(4), [3], "float64"));
    got.forEach((g, i) => expect(g).toBeCloseTo(want[i]!, 12));
  });
});

describe("bernoulli and permutation", () => {
  it("bernoulli is uniform < p", () => {
    const k = random.key(3);
    const b = random.bernoulli(k, 0.3, [50]);
    expect(b.dtype).toBe("bool");
    const u = nums(random.uniform(k, [50]));
    expect(b.toJs()).toEqual(u.map((x) => x < 0.3));
    const rate = np.mean(random.bernoulli(random.key(8), 0.3, [5000]).astype("float32")).item();
    expect(Math.abs(rate - 0.3)).toBeLessThan(0.03);
    const pArr = np.array([0, 1]);
    expect(random.bernoulli(random.key(1), pArr).toJs()).toEqual([false, true]);
  });

  it("permutation is a permutation, reproducible, and shuffles rows", () => {
    const p = nums(random.permutation(random.key(0), 100));
    expect([...p].sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(p).not.toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(nums(random.permutation(random.key(0), 100))).toEqual(p);
    const x = np.reshape(np.arange(0, 10), [5, 2]);
    const rows = random.permutation(random.key(0), x).toJs() as number[][];
    const perm = nums(random.permutation(random.key(0), 5));
    expect(rows).toEqual(perm.map((i) => [2 * i, 2 * i + 1]));
    expect(nums(random.permutation(random.key(0), 1))).toEqual([0]);
    expect(nums(random.permutation(random.key(0), 0))).toEqual([]);
  });

  it("permutation positions are roughly uniform", () => {
    // where element 0 lands over many keys: each of 4 positions ~ 1/4
    const counts = [0, 0, 0, 0];
    for (const k of random.split(random.key(1), 400)) counts[nums(random.permutation(k, 4)).indexOf(0)]!++;
    counts.forEach((c) => expect(Math.abs(c - 100)).toBeLessThan(35));
  });
});

describe("staging, jit and vmap", () => {
  it("bits are a primitive in the jaxpr and evaluating it gives the eager numbers", () => {
    const f = (k: NDArray): NDArray => random.normal(k, [5]);
    const k = random.key(21);
    const j = makeJaxpr(f)(k);
    expect(j.toString()).toContain("random_bits[shape=(5,)]");
    expect(j.toString()).toContain("bits_to_unit[dtype=float32]");
    const [out] = evalJaxpr(j.jaxpr, j.consts, [k]);
    expect(nums(out!)).toEqual(nums(f(k)));
  });

  it("jit gives the eager numbers", () => {
    const f = (k: NDArray) => [random.normal(k, [3]), random.uniform(k, [2], { dtype: "float64" }), random.permutation(k, 6), random.split(k, 3)[2]!];
    const k = random.key(5);
    const a = jit(f)(k) as NDArray[];
    const b = f(k);
    a.forEach((x, i) => expect(nums(x)).toEqual(nums(b[i]!)));
  });

  it("vmap over keys gives one stream per key", () => {
    const keys = random.split(random.key(2), 3);
    const f = (k: NDArray) => random.normal(k, [2], "float64");
    const batched = vmap(f)(np.stack(keys)).toJs();
    expect(batched).toEqual(keys.map((k) => f(k).toJs()));
    const perms = vmap((k: NDArray) => random.permutation(k, 5))(np.stack(keys)).toJs();
    expect(perms).toEqual(keys.map((k) => random.permutation(k, 5).toJs()));
    const folded = vmap((d: NDArray) => random.foldIn(keys[0]!, d))(np.array([4, 5], { dtype: "int32" })).toJs();
    expect(folded).toEqual([random.foldIn(keys[0]!, 4).toJs(), random.foldIn(keys[0]!, 5).toJs()]);
  });

  it("batching rule of random_bits with the batch axis last", () => {
    const keys = np.stack(random.split(random.key(3), 4), 1); // [2, 4]: batch on axis 1
    const [[out], [d]] = random_bits_p.batch!([keys], [1], { shape: [3] });
    expect(d).toBe(0);
    expect(out!.shape).toEqual([4, 3]);
    const each = random.split(random.key(3), 4).map((k) => words(random.bits(k, [3])));
    expect((out!.toJs() as number[][]).map((r) => r.map((w) => w >>> 0))).toEqual(each);
  });

  it("random draws inside grad are constants", () => {
    const k = random.key(0);
    const g = grad((x: NDArray) => np.sum(np.multiply(x, random.normal(k, [3]))))(np.ones([3]));
    expect(nums(g)).toEqual(nums(random.normal(k, [3])));
  });
});

describe("properties", () => {
  const seed = fc.integer({ min: -(2 ** 40), max: 2 ** 40 });

  it("the same key gives the same numbers; different seeds give different numbers", () => {
    fc.assert(
      fc.property(seed, seed, fc.integer({ min: 1, max: 40 }), (s, t, n) => {
        const a = nums(random.normal(random.key(s), [n]));
        expect(nums(random.normal(random.key(s), [n]))).toEqual(a);
        if (s !== t) expect(nums(random.normal(random.key(t), [n]))).not.toEqual(a);
      }),
      { numRuns: 40 },
    );
  });

  it("split keys give independent streams (no equal draws among them or with the parent)", () => {
    fc.assert(
      fc.property(seed, fc.integer({ min: 2, max: 8 }), (s, n) => {
        const parent = random.key(s);
        const keys = random.split(parent, n);
        const streams = [parent, ...keys].map((k) => words(random.bits(k, [64])));
        const seen = new Set<number>();
        let total = 0;
        for (const st of streams)
          for (const w of st) {
            seen.add(w);
            total++;
          }
        // 64 * (n + 1) <= 576 words out of 2^32: a repeat has probability < 4e-5
        expect(seen.size).toBe(total);
        const distinctKeys = new Set(keys.map((k) => random.keyData(k).join(",")));
        expect(distinctKeys.size).toBe(n);
      }),
      { numRuns: 30 },
    );
  });

  it("foldIn with different data gives different streams", () => {
    fc.assert(
      fc.property(seed, fc.integer({ min: 0, max: 2 ** 31 - 2 }), (s, d) => {
        const k = random.key(s);
        const a = words(random.bits(random.foldIn(k, d), [16]));
        const b = words(random.bits(random.foldIn(k, d + 1), [16]));
        expect(new Set([...a, ...b]).size).toBe(32);
      }),
      { numRuns: 30 },
    );
  });
});
