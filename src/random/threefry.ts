/**
 * Threefry-2x32 with 20 rounds (Salmon et al., "Parallel random numbers: as easy as
 * 1, 2, 3", SC 2011), the counter-based hash behind JAX's default PRNG, on uint32
 * words held in JS numbers. Words are stored as int32 bit patterns in arrays.
 *
 * Everything here is plain integer arithmetic: the same words come out on every
 * platform and backend.
 * @module
 */

const ROTATIONS: readonly (readonly number[])[] = [
  [13, 15, 26, 6],
  [17, 29, 16, 24],
];
/** Skein's key-schedule parity constant. */
const PARITY = 0x1bd11bda;

/**
 * Hashes the counter pair `(x0, x1)` under the key `(k0, k1)`; writes the two output
 * words (as int32 bit patterns) into `out[0]`, `out[1]`.
 */
export function threefry2x32(k0: number, k1: number, x0: number, x1: number, out: Int32Array): void {
  const ks0 = k0 | 0;
  const ks1 = k1 | 0;
  const ks2 = ks0 ^ ks1 ^ PARITY;
  const ks = [ks0, ks1, ks2];
  let a = (x0 + ks0) | 0;
  let b = (x1 + ks1) | 0;
  for (let group = 0; group < 5; group++) {
    const rot = ROTATIONS[group % 2]!;
    for (let r = 0; r < 4; r++) {
      const s = rot[r]!;
      a = (a + b) | 0;
      b = (b << s) | (b >>> (32 - s));
      b ^= a;
    }
    a = (a + ks[(group + 1) % 3]!) | 0;
    b = (b + ks[(group + 2) % 3]! + group + 1) | 0;
  }
  out[0] = a;
  out[1] = b;
}

/**
 * JAX's `random_bits` for 32-bit words: hashes the counters `0..n-1` under the key
 * (`k0`, `k1`) the way `jax.random.bits` does with the original (non-partitionable)
 * Threefry scheme. The counters are split into halves `x0 = [0, h)`, `x1 = [h, n)`
 * (zero-padded when `n` is odd); word `i` is the first output of pair `i` for
 * `i < h`, else the second output of pair `i - h`.
 */
export function threefryBits(k0: number, k1: number, n: number, out: Int32Array, offset = 0): void {
  const h = (n + 1) >> 1;
  const pair = new Int32Array(2);
  for (let j = 0; j < h; j++) {
    const c1 = h + j < n ? h + j : 0;
    threefry2x32(k0, k1, j, c1, pair);
    out[offset + j] = pair[0]!;
    if (h + j < n) out[offset + h + j] = pair[1]!;
  }
}

/** The unsigned value of an int32 bit pattern. */
export function u32(x: number): number {
  return x >>> 0;
}
