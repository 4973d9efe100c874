/**
 * fast-check arbitraries for shapes and arrays, shared by property tests.
 *
 * Shapes are small (tests must stay fast); values come from explicit domains so
 * that functions are evaluated where they are smooth (positive inputs for log/sqrt,
 * values away from zero for abs and division, separated values for max/min).
 */
import fc from "fast-check";
import { type Array as NDArray, type DType } from "../../src/index.js";
import { fromFlat } from "./numeric.js";

export type Shape = number[];

/** Options of {@link shapeArb}. */
export interface ShapeOptions {
  minRank?: number;
  maxRank?: number;
  minDim?: number;
  maxDim?: number;
}

/** A random shape (rank and dims within bounds; defaults: rank 0..3, dims 1..3). */
export function shapeArb(o: ShapeOptions = {}): fc.Arbitrary<Shape> {
  return fc.array(fc.integer({ min: o.minDim ?? 1, max: o.maxDim ?? 3 }), { minLength: o.minRank ?? 0, maxLength: o.maxRank ?? 3 });
}

export const sizeOf = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

/** NumPy's broadcast of shapes (throws when incompatible). */
export function broadcastShape(...shapes: readonly (readonly number[])[]): Shape {
  const r = Math.max(0, ...shapes.map((s) => s.length));
  const out = new Array<number>(r).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const k = r - s.length + i;
      const d = s[i]!;
      if (d !== 1) {
        if (out[k] !== 1 && out[k] !== d) throw new Error(`incompatible shapes ${JSON.stringify(shapes)}`);
        out[k] = d;
      }
    }
  }
  return out;
}

/**
 * `count` shapes that broadcast together to a common `out` shape: each is `out` with
 * some leading axes dropped and some axes set to 1.
 */
export function broadcastableShapesArb(count: number, o: ShapeOptions = {}): fc.Arbitrary<{ out: Shape; shapes: Shape[] }> {
  return shapeArb(o).chain((out) =>
    fc
      .tuple(
        ...Array.from({ length: count }, () =>
          fc.tuple(fc.integer({ min: 0, max: out.length }), fc.array(fc.boolean(), { minLength: out.length, maxLength: out.length })),
        ),
      )
      .map((parts) => {
        const shapes = parts.map(([drop, ones]) => out.slice(drop).map((d, i) => (ones[i + drop] ? 1 : d)));
        return { out: broadcastShape(...shapes), shapes };
      }),
  );
}

/** Where the values of an array are drawn from. */
export type Domain =
  /** uniform in [-2, 2] */
  | "real"
  /** uniform in [0.25, 3] (log, sqrt, pow base, rsqrt) */
  | "positive"
  /** |x| in [0.25, 2], either sign (abs, divisors, negative integer powers) */
  | "nonzero"
  /** uniform in (-0.9, 0.9) */
  | "unit"
  /** nonzero, values and absolute values pairwise separated by at least 0.1 (max/min reductions, inf-norms, std) */
  | "distinct"
  /** odd multiples of 0.1 in [-1.9, 1.9]: never equal to an "even" value */
  | "oddGrid"
  /** even multiples of 0.1 in [-2, 2] */
  | "evenGrid"
  /** uniform in [-2, 2], about a third of them exactly 0 (products, polynomials) */
  | "withZeros";

/** `n` numbers from a domain. */
export function valuesArb(n: number, domain: Domain = "real"): fc.Arbitrary<number[]> {
  const list = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<T[]> => fc.array(a, { minLength: n, maxLength: n });
  const dbl = (min: number, max: number): fc.Arbitrary<number> => fc.double({ min, max, noNaN: true, noDefaultInfinity: true });
  switch (domain) {
    case "real":
      return list(dbl(-2, 2));
    case "positive":
      return list(dbl(0.25, 3));
    case "nonzero":
      return list(fc.tuple(dbl(0.25, 2), fc.boolean()).map(([m, s]) => (s ? m : -m)));
    case "unit":
      return list(dbl(-0.9, 0.9));
    case "oddGrid":
      return list(fc.integer({ min: -10, max: 9 }).map((i) => (2 * i + 1) / 10));
    case "evenGrid":
      return list(fc.integer({ min: -10, max: 10 }).map((i) => (2 * i) / 10));
    case "withZeros":
      return list(fc.oneof(dbl(-2, 2), dbl(-2, 2), fc.constant(0)));
    case "distinct":
      // magnitudes 0.15, 0.3, ... (shuffled, jittered by < 0.05) with random signs: values
      // and absolute values are both pairwise separated by at least 0.1, and never 0
      return fc
        .tuple(
          fc.shuffledSubarray(
            Array.from({ length: n }, (_, i) => i),
            { minLength: n, maxLength: n },
          ),
          list(dbl(0, 0.05)),
          list(fc.boolean()),
        )
        .map(([perm, jitter, signs]) => perm.map((p, i) => (signs[i] ? 1 : -1) * ((p + 1) * 0.15 + jitter[i]!)));
  }
}

/** An array of a given shape with values from `domain`. */
export function arrayArb(shape: readonly number[], domain: Domain = "real", dtype: DType = "float64"): fc.Arbitrary<NDArray> {
  return valuesArb(sizeOf(shape), domain).map((v) => fromFlat(v, shape, dtype));
}

/** A random shape together with an array of that shape. */
export function shapedArrayArb(o: ShapeOptions = {}, domain: Domain = "real", dtype: DType = "float64"): fc.Arbitrary<NDArray> {
  return shapeArb(o).chain((s) => arrayArb(s, domain, dtype));
}

/** A permutation of 0..n-1. */
export function permutationArb(n: number): fc.Arbitrary<number[]> {
  return fc.shuffledSubarray(
    Array.from({ length: n }, (_, i) => i),
    { minLength: n, maxLength: n },
  );
}

/** A subset of the axes 0..ndim-1 (sorted), possibly empty unless `nonEmpty`. */
export function axesArb(ndim: number, nonEmpty = false): fc.Arbitrary<number[]> {
  return fc.subarray(
    Array.from({ length: ndim }, (_, i) => i),
    { minLength: nonEmpty && ndim > 0 ? 1 : 0 },
  );
}

/** An options object for reductions: `{ axis?, keepdims? }` valid for rank `ndim` (negative axes included). */
export function reduceOptionsArb(ndim: number): fc.Arbitrary<{ axis?: number | number[]; keepdims?: boolean }> {
  return fc.oneof(
    fc.constant({}),
    fc.record({ axis: axesArb(ndim, true).chain((axes) => fc.constant(axes.length === 1 ? axes[0]! : axes)), keepdims: fc.boolean() }),
    ndim > 0 ? fc.record({ axis: fc.integer({ min: -ndim, max: -1 }), keepdims: fc.boolean() }) : fc.constant({}),
  );
}

/** A seed for deterministic auxiliary random data (directions, cotangents). */
export const seedArb: fc.Arbitrary<number> = fc.integer({ min: 0, max: 2 ** 31 - 1 });
