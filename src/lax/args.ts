/** Argument checks shared by the `lax` functions (not part of the public surface). @module */
import { describeValue } from "../core/shape.js";

/** Padding of a convolution or window: `"SAME"` (output size `ceil(in / stride)`), `"VALID"` (no padding), or `[lo, hi]` per spatial dimension. */
export type Padding = "SAME" | "VALID" | readonly (readonly [number, number])[];

/** A list of `n` integers each at least `min`, or throws naming the operation and the argument. */
export function checkInts(op: string, what: string, v: unknown, n: number, min: number): number[] {
  if (!Array.isArray(v) || v.length !== n || !v.every((x) => Number.isInteger(x) && x >= min)) {
    throw new Error(`${op}: ${what} must be an array of ${n} integer${n === 1 ? "" : "s"} >= ${min} (one per spatial dimension), got ${describeValue(v)}.`);
  }
  return v as number[];
}

/**
 * Explicit `[lo, hi]` pairs from a padding argument, for inputs of spatial sizes `inShape`
 * and (dilated) windows `window` moving with `strides` — `"SAME"` pads so that the
 * output has `ceil(in / stride)` positions, the extra element going after (as JAX's
 * `padtype_to_pads`).
 */
export function resolvePadding(
  op: string,
  padding: Padding,
  inShape: readonly number[],
  window: readonly number[],
  strides: readonly number[],
): [number, number][] {
  const n = inShape.length;
  if (padding === "VALID") return inShape.map(() => [0, 0]);
  if (padding === "SAME") {
    return inShape.map((x, d) => {
      const out = Math.ceil(x / strides[d]!);
      const total = Math.max(0, (out - 1) * strides[d]! + window[d]! - x);
      return [Math.floor(total / 2), total - Math.floor(total / 2)];
    });
  }
  if (!Array.isArray(padding) || padding.length !== n || !padding.every((p) => Array.isArray(p) && p.length === 2 && p.every((v) => Number.isInteger(v)))) {
    throw new Error(
      `${op}: padding must be "SAME", "VALID" or an array of ${n} [lo, hi] integer pairs (one per spatial dimension), got ${describeValue(padding)}.`,
    );
  }
  return padding.map(([lo, hi]) => [lo, hi]);
}
