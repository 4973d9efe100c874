/**
 * ONNX rows for cotangent's counter-based random numbers: Threefry-2x32 (20 rounds, as
 * src/random/threefry.ts) written as ONNX integer arithmetic, so that an exported
 * function that draws random numbers from a key it receives (dropout in a training
 * step) gives the same bits in ONNX Runtime. Words are computed as int64 values in
 * [0, 2^32): additions are masked, rotations are a multiply and a divide by powers of
 * two, and the results are turned back into int32 bit patterns. Needs opset 18
 * (BitwiseXor, BitwiseAnd, BitwiseOr).
 * @module
 */
import { i64, ints } from "./onnx_consts.js";
import type { OnnxEmitter, OnnxRule } from "./onnx_ops.js";

const ROTATIONS = [
  [13, 15, 26, 6],
  [17, 29, 16, 24],
];
const PARITY = 0x1bd11bda;
const MASK = 0xffffffff;

function needOpset18(em: OnnxEmitter): void {
  if (em.opset < 18) em.fail("the Threefry hash needs ONNX's bitwise operators, from opset 18; pass { opset: 18 } or later.");
}

/** int32 bit patterns → int64 words in [0, 2^32). */
function toWord(em: OnnxEmitter, x: string): string {
  return em.op("BitwiseAnd", [em.op("Cast", [x], { to: 7 }), i64(em, MASK)]);
}
/** int64 words in [0, 2^32) → int32 bit patterns. */
function toBits(em: OnnxEmitter, w: string): string {
  const signed = em.op("Where", [em.op("GreaterOrEqual", [w, i64(em, 2 ** 31)]), em.op("Sub", [w, i64(em, 2 ** 32)]), w]);
  return em.op("Cast", [signed], { to: 6 });
}
const addW = (em: OnnxEmitter, a: string, b: string): string => em.op("BitwiseAnd", [em.op("Add", [a, b]), i64(em, MASK)]);
function rotl(em: OnnxEmitter, b: string, s: number): string {
  const hi = em.op("BitwiseAnd", [em.op("Mul", [b, i64(em, 2 ** s)]), i64(em, MASK)]);
  const lo = em.op("Div", [b, i64(em, 2 ** (32 - s))]);
  return em.op("BitwiseOr", [hi, lo]);
}

/** Threefry-2x32 of counters (x0, x1) under key words (k0, k1), all int64 words (broadcasting). */
function threefry(em: OnnxEmitter, k0: string, k1: string, x0: string, x1: string): [string, string] {
  const ks = [k0, k1, em.op("BitwiseXor", [em.op("BitwiseXor", [k0, k1]), i64(em, PARITY)])];
  let a = addW(em, x0, k0);
  let b = addW(em, x1, k1);
  for (let group = 0; group < 5; group++) {
    for (const s of ROTATIONS[group % 2]!) {
      a = addW(em, a, b);
      b = em.op("BitwiseXor", [rotl(em, b, s), a]);
    }
    a = addW(em, a, ks[(group + 1) % 3]!);
    b = addW(em, addW(em, b, ks[(group + 2) % 3]!), i64(em, group + 1));
  }
  return [a, b];
}

/** The two key words of a key array [..., 2], each [..., 1]. */
function keyWords(em: OnnxEmitter, key: string, rank: number): [string, string] {
  const word = (i: number): string => toWord(em, em.op("Slice", [key, ints(em, [i]), ints(em, [i + 1]), ints(em, [rank - 1])]));
  return [word(0), word(1)];
}

/**
 * Words 0..n-1 of each key of `key` [...b, 2] (threefryBits): pairs (j, h + j) for
 * j < h = ceil(n / 2), the first outputs, then the second ones; int64 words [...b, n].
 */
function keyBits(em: OnnxEmitter, key: string, keyRank: number, n: number): string {
  const h = (n + 1) >> 1;
  const [k0, k1] = keyWords(em, key, keyRank);
  const j = Array.from({ length: h }, (_, i) => i);
  const [p0, p1] = threefry(
    em,
    k0,
    k1,
    em.constant(j, "int64", [h]),
    em.constant(
      j.map((i) => (h + i < n ? h + i : 0)),
      "int64",
      [h],
    ),
  );
  const last = keyRank - 1;
  const second = em.op("Slice", [p1, ints(em, [0]), ints(em, [n - h]), ints(em, [last])]);
  return em.op("Concat", [p0, second], { axis: last });
}

export const randomRules: Readonly<Record<string, OnnxRule>> = {
  random_bits: {
    lower(em, e) {
      needOpset18(em);
      const n = (e.params.shape as readonly number[]).reduce((p, q) => p * q, 1);
      const words = keyBits(em, e.inputs[0]!, e.inAvals[0]!.ndim, n);
      return [em.op("Reshape", [toBits(em, words), ints(em, e.outAvals[0]!.shape)])];
    },
  },
  // threefry(key, (0, data)) per element, broadcast between the key batch and data
  random_fold_in: {
    lower(em, e) {
      needOpset18(em);
      const [key, data] = e.inputs as [string, string];
      const [k0, k1] = keyWords(em, key, e.inAvals[0]!.ndim);
      const d = em.op("Unsqueeze", [toWord(em, data), ints(em, [-1])]);
      const [p0, p1] = threefry(em, k0, k1, i64(em, 0), d);
      const out = e.outAvals[0]!.shape;
      const both = em.op("Concat", [em.op("Expand", [p0, ints(em, [...out.slice(0, -1), 1])]), em.op("Expand", [p1, ints(em, [...out.slice(0, -1), 1])])], {
        axis: -1,
      });
      return [toBits(em, both)];
    },
  },
  // float32: (hi >>> 9) · 2^-23; float64: ((hi >>> 0) · 2^20 + (lo >>> 12)) · 2^-52 — exact in both
  bits_to_unit: {
    lower(em, e) {
      const dtype = e.params.dtype as "float32" | "float64";
      const hi = toWord(em, e.inputs[0]!);
      if (dtype === "float32") {
        const m = em.op("Cast", [em.op("Div", [hi, i64(em, 512)])], { to: 1 });
        return [em.op("Mul", [m, em.constant([2 ** -23], "float32", [])])];
      }
      const lo = toWord(em, e.inputs[1]!);
      const m = em.op("Add", [em.op("Mul", [hi, i64(em, 2 ** 20)]), em.op("Div", [lo, i64(em, 4096)])]);
      return [em.op("Mul", [em.op("Cast", [m], { to: 11 }), em.constant([2 ** -52], "float64", [])])];
    },
  },
  // JAX's shuffle, as cotangent's impl: each round splits the key (4 words: the next key,
  // then the subkey) and stably sorts by n fresh unsigned 32-bit words of the subkey
  // (TopK breaks ties by position, as a stable sort)
  random_permutation: {
    lower(em, e) {
      needOpset18(em);
      const n = e.params.n as number;
      const keyAval = e.inAvals[0]!;
      const out = e.outAvals[0]!;
      const rank = keyAval.ndim;
      if (n === 0) return [em.constant([], "int32", out.shape)];
      const rounds = Math.ceil((3 * Math.log(Math.max(1, n))) / Math.log(0xffffffff));
      let idx = em.op("Expand", [
        em.constant(
          Array.from({ length: n }, (_, i) => i),
          "int64",
          [n],
        ),
        ints(em, out.shape),
      ]);
      let key = e.inputs[0]!;
      for (let r = 0; r < rounds; r++) {
        const split = toBits(em, keyBits(em, key, rank, 4));
        const half = (i: number): string => em.op("Slice", [split, ints(em, [i]), ints(em, [i + 2]), ints(em, [rank - 1])]);
        key = half(0);
        const sortKeys = keyBits(em, half(2), rank, n);
        const [, perm] = em.ops("TopK", [sortKeys, ints(em, [n])], 2, { axis: rank - 1, largest: 0, sorted: 1 });
        idx = em.op("GatherElements", [idx, perm!], { axis: rank - 1 });
      }
      return [em.op("Cast", [idx], { to: 6 })];
    },
  },
};
