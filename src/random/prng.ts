/**
 * The random primitives. Bit generation is a primitive (not a JS side effect), so it
 * is staged into jaxprs like any other operation, gives the same words eagerly and
 * under `jit`, and batches under `vmap`. All of them are non-differentiable.
 *
 * A key is an int32 array whose last axis has length 2 (the two uint32 words of a
 * Threefry key, stored as int32 bit patterns). Every primitive here also accepts a
 * stack of keys (leading axes before the 2), which is what their batching rules use.
 *
 * | primitive            | inputs                    | output                          |
 * |----------------------|---------------------------|---------------------------------|
 * | `random_bits`        | key `i32[...b, 2]`        | `i32[...b, ...shape]` raw words |
 * | `random_fold_in`     | key, data `i32[...]`      | keys `i32[..., 2]`              |
 * | `random_permutation` | key `i32[...b, 2]`        | `i32[...b, n]`                  |
 * | `bits_to_unit`       | words (f32) or hi, lo (f64) | floats in `[0, 1)`            |
 * @module
 */
import { ConcreteArray, type NDArray, ShapedArray } from "../core/array.js";
import { type DType, allocate } from "../core/dtype.js";
import { broadcastShapes, fmtShape, shapeEqual, sizeOf } from "../core/shape.js";
import { type BatchDim, type Params, type Primitive, bind1, definePrimitive } from "../core/trace.js";
import { broadcastIndex } from "../primitives/cpu.js";
import { broadcastTo, moveAxis, reshape } from "../primitives/shape.js";
import { threefry2x32, threefryBits } from "./threefry.js";

const tupleText = (xs: readonly number[]): string => `(${xs.join(",")}${xs.length === 1 ? "," : ""})`;

/** Throws unless `aval` is a key (or a stack of keys). */
export function checkKeyAval(op: string, aval: ShapedArray): void {
  if (aval.dtype !== "int32" || aval.ndim === 0 || aval.shape[aval.ndim - 1] !== 2) {
    throw new Error(
      `${op}: expected a PRNG key, an int32 array of shape [2] made by random.key(seed) or random.split, got ${aval.toString()}. ` +
        `Create one with random.key(0) and derive new ones with random.split(key).`,
    );
  }
}

/** The leading (batch) axes of a key aval. */
const keyBatch = (aval: ShapedArray): number[] => aval.shape.slice(0, -1);

/** Batching rule for primitives whose only input is a key: move the batch axis in front. */
function batchKeyOnly(prim: () => Primitive<any>) {
  return ([key]: NDArray[], [d]: BatchDim[], params: Params): [NDArray[], BatchDim[]] => [[bind1(prim(), [moveAxis(key!, d!, 0)], params)], [0]];
}

// ------------------------------------------------------------------ random_bits

interface BitsParams extends Params {
  shape: readonly number[];
}

/** Raw 32-bit words hashed from the counters `0..n-1` under each key (as `jax.random.bits`). */
export const random_bits_p: Primitive<BitsParams> = definePrimitive<BitsParams>({
  name: "random_bits",
  freshOutputs: true,
  abstractEval([key], { shape }) {
    checkKeyAval("random_bits", key!);
    return [new ShapedArray([...keyBatch(key!), ...shape], "int32")];
  },
  impl([key], { shape }, [out]) {
    const n = sizeOf(shape);
    const res = allocate("int32", out!.size) as Int32Array;
    const k = key!.buffer;
    const numKeys = k.length / 2;
    for (let b = 0; b < numKeys; b++) threefryBits(k[2 * b]!, k[2 * b + 1]!, n, res, b * n);
    return [new ConcreteArray(out!, res)];
  },
  nonDifferentiable: true,
  batch: batchKeyOnly(() => random_bits_p),
  printParams: (p) => `[shape=${tupleText(p.shape)}]`,
});

/** `random_bits` on a key array. */
export function randomBits(key: NDArray, shape: readonly number[]): NDArray {
  return bind1(random_bits_p, [key], { shape: [...shape] });
}

// ------------------------------------------------------------------ random_fold_in

/** Keys derived from `key` and the integer `data` (as `jax.random.fold_in`), with broadcasting. */
export const random_fold_in_p: Primitive = definePrimitive({
  name: "random_fold_in",
  freshOutputs: true,
  abstractEval([key, data]) {
    checkKeyAval("random.foldIn", key!);
    if (data!.dtype !== "int32") throw new Error(`random.foldIn: data must be an int32 array or an integer, got ${data!.toString()}.`);
    const batch = broadcastShapes("random.foldIn", keyBatch(key!), data!.shape);
    return [new ShapedArray([...batch, 2], "int32")];
  },
  impl([key, data], _p, [out]) {
    const batch = out!.shape.slice(0, -1);
    const n = sizeOf(batch);
    const ik = broadcastIndex(keyBatch(key!.aval), batch);
    const id = broadcastIndex(data!.aval.shape, batch);
    const k = key!.buffer;
    const d = data!.buffer;
    const res = allocate("int32", 2 * n) as Int32Array;
    const pair = new Int32Array(2);
    for (let i = 0; i < n; i++) {
      const kb = ik ? ik[i]! : i;
      // The counter is the 64-bit seed built from `data`: high word 0, low word data.
      threefry2x32(k[2 * kb]!, k[2 * kb + 1]!, 0, d[id ? id[i]! : i]!, pair);
      res[2 * i] = pair[0]!;
      res[2 * i + 1] = pair[1]!;
    }
    return [new ConcreteArray(out!, res)];
  },
  nonDifferentiable: true,
  batch([key, data], [dk, dd]) {
    // Bring batch axes to the front and align the remaining (broadcasting) axes.
    const rk = key!.ndim - 1 - (dk === null ? 0 : 1);
    const rd = data!.ndim - (dd === null ? 0 : 1);
    const r = Math.max(rk, rd);
    let k = key!;
    let d = data!;
    if (dk !== null && dk !== undefined) {
      k = moveAxis(k, dk, 0);
      const s = k.shape;
      k = reshape(k, [s[0]!, ...new Array<number>(r - rk).fill(1), ...s.slice(1)]);
    }
    if (dd !== null && dd !== undefined) {
      d = moveAxis(d, dd, 0);
      const s = d.shape;
      d = reshape(d, [s[0]!, ...new Array<number>(r - rd).fill(1), ...s.slice(1)]);
    }
    return [[bind1(random_fold_in_p, [k, d])], [0]];
  },
});

// ------------------------------------------------------------------ random_permutation

interface PermParams extends Params {
  n: number;
}

/**
 * A uniformly random permutation of `0..n-1` per key, by JAX's shuffle: `r` rounds
 * (enough that ties among `n` sort keys are unlikely) of a stable sort on fresh
 * random 32-bit sort keys.
 */
export const random_permutation_p: Primitive<PermParams> = definePrimitive<PermParams>({
  name: "random_permutation",
  freshOutputs: true,
  abstractEval([key], { n }) {
    checkKeyAval("random.permutation", key!);
    return [new ShapedArray([...keyBatch(key!), n], "int32")];
  },
  impl([key], { n }, [out]) {
    const res = allocate("int32", out!.size) as Int32Array;
    const k = key!.buffer;
    const numKeys = k.length / 2;
    const rounds = Math.ceil((3 * Math.log(Math.max(1, n))) / Math.log(0xffffffff));
    const words = new Int32Array(4);
    const sortKeys = new Int32Array(n);
    for (let b = 0; b < numKeys; b++) {
      let idx = Array.from({ length: n }, (_, i) => i);
      let k0 = k[2 * b]!;
      let k1 = k[2 * b + 1]!;
      for (let round = 0; round < rounds; round++) {
        threefryBits(k0, k1, 4, words); // split(key) -> (key, subkey)
        k0 = words[0]!;
        k1 = words[1]!;
        threefryBits(words[2]!, words[3]!, n, sortKeys);
        const pos = new Array<number>(n);
        for (let i = 0; i < n; i++) pos[i] = i;
        pos.sort((a, c) => (sortKeys[a]! >>> 0) - (sortKeys[c]! >>> 0)); // Array.prototype.sort is stable
        idx = pos.map((p) => idx[p]!);
      }
      for (let i = 0; i < n; i++) res[b * n + i] = idx[i]!;
    }
    return [new ConcreteArray(out!, res)];
  },
  nonDifferentiable: true,
  batch: batchKeyOnly(() => random_permutation_p),
  printParams: (p) => `[n=${p.n}]`,
});

// ------------------------------------------------------------------ bits_to_unit

interface UnitParams extends Params {
  dtype: DType;
}

const TWO_M23 = 2 ** -23;
const TWO_M52 = 2 ** -52;
const TWO_P20 = 2 ** 20;

/**
 * Random words to floats uniform in `[0, 1)`, as JAX: the top mantissa bits of the
 * words become the mantissa of a float in `[1, 2)`, minus 1. float32 takes one word
 * (23 bits); float64 takes a high and a low word (52 bits).
 */
export const bits_to_unit_p: Primitive<UnitParams> = definePrimitive<UnitParams>({
  name: "bits_to_unit",
  freshOutputs: true,
  abstractEval(avals, { dtype }) {
    const want = dtype === "float64" ? 2 : 1;
    if (avals.length !== want || avals.some((a) => a.dtype !== "int32"))
      throw new Error(`bits_to_unit: ${dtype} needs ${want} int32 word array(s), got ${avals.map((a) => a.toString()).join(", ")}.`);
    if (want === 2 && !shapeEqual(avals[0]!.shape, avals[1]!.shape))
      throw new Error(`bits_to_unit: word arrays have shapes ${fmtShape(avals[0]!.shape)} and ${fmtShape(avals[1]!.shape)}; they must match.`);
    if (dtype !== "float32" && dtype !== "float64") throw new Error(`bits_to_unit: dtype must be float32 or float64, got ${dtype}.`);
    return [new ShapedArray(avals[0]!.shape, dtype)];
  },
  impl(args, { dtype }, [out]) {
    const n = out!.size;
    const res = allocate(dtype, n);
    const hi = args[0]!.buffer;
    if (dtype === "float32") {
      for (let i = 0; i < n; i++) res[i] = (hi[i]! >>> 9) * TWO_M23;
    } else {
      const lo = args[1]!.buffer;
      for (let i = 0; i < n; i++) res[i] = ((hi[i]! >>> 0) * TWO_P20 + (lo[i]! >>> 12)) * TWO_M52;
    }
    return [new ConcreteArray(out!, res)];
  },
  nonDifferentiable: true,
  batch(args, dims, params) {
    const bsize = args.map((a, i) => (dims[i] === null || dims[i] === undefined ? -1 : a.shape[dims[i]!]!)).find((s) => s >= 0)!;
    const moved = args.map((a, i) => {
      const d = dims[i];
      if (d !== null && d !== undefined) return moveAxis(a, d, 0);
      return broadcastTo(reshape(a, [1, ...a.shape]), [bsize, ...a.shape]);
    });
    return [[bind1(bits_to_unit_p, moved, params)], [0]];
  },
  printParams: (p) => `[dtype=${p.dtype}]`,
});
