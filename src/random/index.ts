/**
 * Pseudo-random numbers with explicit keys, as `jax.random`.
 *
 * There is no global seed: every function takes a key and is a pure function of it,
 * so the same key gives the same numbers eagerly, under `grad`, `vmap` and `jit`, on
 * every backend. Never reuse a key for two different draws; derive fresh keys with
 * {@link split} (or {@link foldIn}).
 *
 * The generator is Threefry-2x32 (20 rounds), counter-based, with JAX's original
 * (non-partitionable) layout: `split(key(0))` gives the words JAX gives,
 * `[4146024105, 967050713]` and `[2718843009, 1272950319]`, and float32 `uniform` and
 * `normal` follow JAX's algorithms.
 *
 * ```ts
 * import { random } from "cotangent";
 * let key = random.key(42);
 * const [k1, k2] = random.split(key);
 * const x = random.normal(k1, [3]);
 * const u = random.uniform(k2, [2, 2], { minval: -1, maxval: 1 });
 * ```
 * @module
 */
import { ConcreteArray, NDArray, ShapedArray } from "../core/array.js";
import { type DType, isFloat } from "../core/dtype.js";
import { checkOptions, describeValue } from "../core/shape.js";
import { bind1 } from "../core/trace.js";
import * as np from "../numpy/index.js";
import { erf } from "../primitives/special_math.js";
import { bits_to_unit_p, checkKeyAval, random_fold_in_p, random_permutation_p, randomBits } from "./prng.js";

/** A PRNG key: an int32 array of shape `[2]` (two uint32 words as int32 bit patterns). */
export type Key = NDArray;

function checkKey(op: string, key: unknown): NDArray {
  if (!(key instanceof NDArray)) throw new Error(`${op}: expected a PRNG key (an int32 array of shape [2] from random.key(seed)), got ${describeValue(key)}.`);
  checkKeyAval(op, key.aval);
  return key;
}

function checkShapeArg(op: string, shape: unknown): number[] {
  if (typeof shape === "number" && Number.isInteger(shape) && shape >= 0) return [shape];
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new Error(`${op}: shape must be an array of non-negative integers such as [2, 3], got ${describeValue(shape)}.`);
  }
  return [...(shape as number[])];
}

function checkFloatDType(op: string, dtype: unknown): "float32" | "float64" {
  if (dtype !== "float32" && dtype !== "float64") throw new Error(`${op}: dtype must be "float32" or "float64", got ${describeValue(dtype)}.`);
  return dtype;
}

/** The two uint32 words of a 64-bit integer seed (two's complement for negative seeds). */
function seedWords(seed: number): [number, number] {
  const lo = seed % 2 ** 32;
  const hi = Math.floor(seed / 2 ** 32);
  return [hi | 0, lo | 0];
}

/**
 * A PRNG key from an integer seed, as `jax.random.key(seed)` / `PRNGKey(seed)`: the
 * words are the high and low 32 bits of the seed. Seeds are JS safe integers.
 *
 * @example
 * ```ts
 * import { random } from "cotangent";
 * const key = random.key(0);
 * console.log(key.shape, key.dtype); // [2] "int32"
 * console.log(random.keyData(random.key(2 ** 32 + 7))); // [1, 7]
 * ```
 */
export function key(seed: number): Key {
  if (typeof seed !== "number" || !Number.isSafeInteger(seed)) {
    throw new Error(
      `random.key: the seed must be an integer (a JS safe integer), got ${describeValue(seed)}; round it with Math.floor or hash it to an integer first.`,
    );
  }
  const [hi, lo] = seedWords(seed);
  return new ConcreteArray(new ShapedArray([2], "int32"), new Int32Array([hi, lo]));
}

/**
 * The words of a key (or a stack of keys) as unsigned 32-bit JS numbers, the way JAX
 * prints key data.
 *
 * @example
 * ```ts
 * import { random } from "cotangent";
 * const [a, b] = random.split(random.key(0));
 * console.log(random.keyData(a)); // [4146024105, 967050713]
 * console.log(random.keyData(b)); // [2718843009, 1272950319]
 * ```
 */
export function keyData(key: Key): number[] | number[][] {
  const k = checkKey("random.keyData", key);
  const words = Array.from(k.data(), (w) => w >>> 0);
  if (k.ndim === 1) return words;
  const out: number[][] = [];
  for (let i = 0; i < words.length; i += 2) out.push([words[i]!, words[i + 1]!]);
  return out;
}

/**
 * Splits a key into `n` (default 2) new, independent keys, returned as a JS array
 * (a typed tuple for n = 2, 3, 4, so `const [a, b] = random.split(key)` destructures;
 * stack them with `np.stack` to `vmap` over them). The input key should not be used
 * again afterwards.
 *
 * @example
 * ```ts
 * import { np, random } from "cotangent";
 * let key = random.key(0);
 * let sub: np.Array;
 * [key, sub] = random.split(key);
 * const keys = random.split(key, 4);
 * console.log(keys.length, keys[0].shape); // 4 [2]
 * ```
 */
export function split(key: Key): [Key, Key];
export function split(key: Key, n: 2): [Key, Key];
export function split(key: Key, n: 3): [Key, Key, Key];
export function split(key: Key, n: 4): [Key, Key, Key, Key];
export function split(key: Key, n: number): Key[];
export function split(key: Key, n = 2): Key[] {
  const k = checkKey("random.split", key);
  if (!Number.isInteger(n) || n < 1) throw new Error(`random.split: n must be a positive integer, got ${describeValue(n)}.`);
  const words = randomBits(k, [n, 2]);
  const axis = words.ndim - 2;
  return np.split(words, n, axis).map((w) => np.squeeze(w, axis));
}

/**
 * A new key from `key` and an integer (e.g. a step or a worker index), as
 * `jax.random.fold_in`: different data give independent keys.
 *
 * @example
 * ```ts
 * import { random } from "cotangent";
 * const base = random.key(0);
 * const k0 = random.foldIn(base, 0);
 * const k1 = random.foldIn(base, 1);
 * console.log(random.normal(k0).item() !== random.normal(k1).item()); // true
 * ```
 */
export function foldIn(key: Key, data: number | NDArray): Key {
  const k = checkKey("random.foldIn", key);
  let d: NDArray;
  if (typeof data === "number") {
    if (!Number.isInteger(data)) throw new Error(`random.foldIn: data must be an integer, got ${data}.`);
    d = np.array(data | 0, { dtype: "int32" });
  } else if (data instanceof NDArray) {
    if (data.dtype !== "int32")
      throw new Error(`random.foldIn: data must be an int32 array or an integer, got ${data.aval.toString()}; convert it with astype("int32").`);
    d = data;
  } else {
    throw new Error(`random.foldIn: data must be an integer or an int32 array, got ${describeValue(data)}.`);
  }
  return bind1(random_fold_in_p, [k, d]);
}

/**
 * Raw random 32-bit words (int32 bit patterns; `>>> 0` reads them unsigned), as
 * `jax.random.bits`.
 *
 * @example
 * ```ts
 * import { random } from "cotangent";
 * const w = random.bits(random.key(0), [4]);
 * console.log(Array.from(w.data(), (x) => x >>> 0)); // [4146024105, 967050713, 2718843009, 1272950319]
 * ```
 */
export function bits(key: Key, shape: number[] = []): NDArray {
  return randomBits(checkKey("random.bits", key), checkShapeArg("random.bits", shape));
}

/** Options of {@link uniform}. */
export interface UniformOptions {
  /** Inclusive lower bound (default 0); a number or an array broadcasting to the shape. */
  minval?: number | NDArray;
  /** Exclusive upper bound (default 1). */
  maxval?: number | NDArray;
  /** float32 (default) or float64. */
  dtype?: DType;
}

/** Floats uniform in [0, 1) from `key`. */
function unit(key: NDArray, shape: number[], dtype: "float32" | "float64"): NDArray {
  if (dtype === "float32") return bind1(bits_to_unit_p, [randomBits(key, shape)], { dtype });
  // As JAX with 64-bit words: the first half of the words are the high halves.
  const n = shape.reduce((a, b) => a * b, 1);
  const words = randomBits(key, [2 * n]);
  const [hi, lo] = np.split(words, 2, 0).map((w) => np.reshape(w, shape));
  return bind1(bits_to_unit_p, [hi!, lo!], { dtype });
}

/**
 * Floats uniformly distributed in `[minval, maxval)`, as `jax.random.uniform`.
 *
 * @example
 * ```ts
 * import { random } from "cotangent";
 * const u = random.uniform(random.key(0), [1000], { minval: -1, maxval: 1 });
 * console.log(u.min().item() >= -1, u.max().item() < 1); // true true
 * console.log(Math.abs(u.mean().item()) < 0.1); // true
 * ```
 */
export function uniform(key: Key, shape: number[] = [], opts: UniformOptions = {}): NDArray {
  opts = checkOptions("random.uniform", opts, "{ minval: -1, maxval: 1 }", ["minval", "maxval", "dtype"]);
  const k = checkKey("random.uniform", key);
  const s = checkShapeArg("random.uniform", shape);
  const dtype = checkFloatDType("random.uniform", opts.dtype ?? "float32");
  const lo = np.array(opts.minval ?? 0, { dtype });
  const hi = np.array(opts.maxval ?? 1, { dtype });
  const u = unit(k, s, dtype);
  const out = np.maximum(lo, np.add(np.multiply(u, np.subtract(hi, lo)), lo));
  if (out.shape.length !== s.length || out.shape.some((d, i) => d !== s[i])) {
    throw new Error(
      `random.uniform: minval/maxval of shapes [${lo.shape.join(",")}] and [${hi.shape.join(",")}] do not broadcast to the requested shape [${s.join(",")}].`,
    );
  }
  return out;
}

/** Coefficients of Giles' single-precision erfinv approximation (w < 5, then w >= 5). */
const ERFINV_SMALL = [2.81022636e-8, 3.43273939e-7, -3.5233877e-6, -4.39150654e-6, 0.00021858087, -0.00125372503, -0.00417768164, 0.246640727, 1.50140941];
const ERFINV_LARGE = [-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613, 0.00943887047, 1.00167406, 2.83297682];

function polynomial(coeffs: readonly number[], w: NDArray): NDArray {
  let p = np.add(np.multiply(w, coeffs[0]!), coeffs[1]!);
  for (let i = 2; i < coeffs.length; i++) p = np.add(np.multiply(p, w), coeffs[i]!);
  return p;
}

/** erfinv for |x| < 1 by Giles' approximation (M. Giles, "Approximating the erfinv function", GPU Computing Gems, 2011). */
function erfinv(x: NDArray): NDArray {
  const w = np.negative(np.log1p(np.negative(np.multiply(x, x))));
  const small = np.less(w, 5);
  const pSmall = polynomial(ERFINV_SMALL, np.subtract(w, 2.5));
  const pLarge = polynomial(ERFINV_LARGE, np.subtract(np.sqrt(w), 3));
  return np.multiply(np.where(small, pSmall, pLarge), x);
}

/**
 * Standard normal samples, as `jax.random.normal`. float32 uses JAX's inverse-CDF
 * method (`sqrt(2) * erfinv(u)` with `u` uniform in (-1, 1)); float64 uses the
 * Box–Muller transform of two float64 uniforms.
 *
 * @example
 * ```ts
 * import { np, random } from "cotangent";
 * console.log(random.normal(random.key(0)).item().toFixed(4)); // -0.2058
 * const x = random.normal(random.key(1), [2000]);
 * console.log(Math.abs(x.mean().item()) < 0.1, Math.abs(np.std(x).item() - 1) < 0.1); // true true
 * ```
 */
export function normal(key: Key, shape: number[] = [], dtype: DType = "float32"): NDArray {
  const k = checkKey("random.normal", key);
  const s = checkShapeArg("random.normal", shape);
  const dt = checkFloatDType("random.normal", dtype);
  if (dt === "float32") {
    const lo = Math.fround(-1 + 2 ** -24); // the float32 just above -1
    const u = uniform(k, s, { minval: lo, maxval: 1, dtype: dt });
    return np.multiply(erfinv(u), Math.SQRT2);
  }
  const u = unit(k, [2, ...s], dt);
  const [u1, u2] = np.split(u, 2, 0).map((a) => np.squeeze(a, 0));
  const radius = np.sqrt(np.multiply(np.log1p(np.negative(u1!)), -2)); // 1 - u1 is in (0, 1]
  return np.multiply(radius, np.cos(np.multiply(u2!, 2 * Math.PI)));
}

/**
 * Booleans that are true with probability `p`, as `jax.random.bernoulli`. The shape
 * defaults to the shape of `p`.
 *
 * @example
 * ```ts
 * import { random } from "cotangent";
 * const b = random.bernoulli(random.key(0), 0.3, [1000]);
 * console.log(b.dtype, Math.abs(b.astype("float32").mean().item() - 0.3) < 0.05); // bool true
 * ```
 */
export function bernoulli(key: Key, p: number | NDArray = 0.5, shape?: number[]): NDArray {
  const k = checkKey("random.bernoulli", key);
  const pa = p instanceof NDArray ? p : np.array(p);
  if (!isFloat(pa.dtype)) throw new Error(`random.bernoulli: p must be a float probability, got ${pa.aval.toString()}.`);
  const s = shape === undefined ? pa.shape : checkShapeArg("random.bernoulli", shape);
  return np.less(uniform(k, s, { dtype: pa.dtype }), pa);
}

/**
 * A random permutation of `0..n-1` (int32), or of the rows of an array, as
 * `jax.random.permutation`.
 *
 * @example
 * ```ts
 * import { random } from "cotangent";
 * const p = random.permutation(random.key(0), 5);
 * console.log([...p.data()].sort()); // [0, 1, 2, 3, 4]
 * const rows = random.permutation(random.key(0), random.uniform(random.key(1), [5, 2]));
 * console.log(rows.shape); // [5, 2]
 * ```
 */
export function permutation(key: Key, n: number | NDArray): NDArray {
  const k = checkKey("random.permutation", key);
  if (typeof n === "number") {
    if (!Number.isInteger(n) || n < 0) throw new Error(`random.permutation: n must be a non-negative integer, got ${n}.`);
    return bind1(random_permutation_p, [k], { n });
  }
  if (!(n instanceof NDArray) || n.ndim === 0)
    throw new Error(`random.permutation: expected an integer or an array of rank >= 1 to shuffle along axis 0, got ${describeValue(n)}.`);
  return np.take(n, bind1(random_permutation_p, [k], { n: n.shape[0]! }), 0);
}

/**
 * Standard normal samples truncated to `[lower, upper]`, as
 * `jax.random.truncated_normal`: uniform samples between the normal CDF's values at
 * the bounds, mapped back through the inverse CDF.
 *
 * @example
 * ```ts
 * import { random } from "cotangent";
 * const z = random.truncatedNormal(random.key(0), -2, 2, [1000]);
 * console.log(z.min().item() >= -2, z.max().item() <= 2); // true true
 * console.log(Math.abs(z.mean().item()) < 0.1); // true
 * ```
 */
export function truncatedNormal(key: Key, lower: number, upper: number, shape: number[] = [], dtype: DType = "float32"): NDArray {
  const op = "random.truncatedNormal";
  const k = checkKey(op, key);
  const s = checkShapeArg(op, shape);
  const dt = checkFloatDType(op, dtype);
  if (typeof lower !== "number" || typeof upper !== "number" || Number.isNaN(lower) || Number.isNaN(upper) || !(lower < upper)) {
    throw new Error(`${op}: expected numbers lower < upper, got lower ${describeValue(lower)} and upper ${describeValue(upper)}.`);
  }
  const lo = erf(lower / Math.SQRT2);
  const hi = erf(upper / Math.SQRT2);
  const u = uniform(k, s, { minval: lo, maxval: hi, dtype: dt });
  // keep u strictly inside (-1, 1) so erfinv stays finite for infinite bounds
  const edge = dt === "float32" ? 2 ** -24 : 2 ** -53;
  const z = np.multiply(erfinv(np.clip(u, -1 + edge, 1 - edge)), Math.SQRT2);
  return np.clip(z, lower, upper);
}
