/**
 * Independent float64 references for the convolution tests: a direct nested-loop
 * convolution written from XLA's definition (one multiply-add per output element,
 * input-feature and window tap; no im2col, no matrix product), and random convolution
 * configurations for fast-check.
 */
import fc from "fast-check";

export interface ConvCase {
  /** Logical sizes. */
  N: number;
  G: number;
  /** Input features per group. */
  I: number;
  /** Output features per group. */
  Og: number;
  spatial: number[];
  window: number[];
  strides: number[];
  lhsDilation: number[];
  rhsDilation: number[];
  padding: "SAME" | "VALID" | [number, number][];
  /** Layout strings; their spatial letters are "HWD" in logical order. */
  specs: [string, string, string];
}

const SPATIAL = "HWD";

/** A layout string: `a`, `b` and the spatial letters in a random order. */
function layoutArb(a: string, b: string, ns: number): fc.Arbitrary<string> {
  const letters = [a, b, ...SPATIAL.slice(0, ns)];
  return fc.shuffledSubarray(letters, { minLength: letters.length, maxLength: letters.length }).map((l) => l.join(""));
}

/** Random small convolutions of 1 to 3 spatial dimensions, any layout, groups, strides, dilations and padding. */
export function convCaseArb(o: { maxSpatialDims?: number; defaultLayout?: boolean } = {}): fc.Arbitrary<ConvCase> {
  return fc.integer({ min: 1, max: o.maxSpatialDims ?? 2 }).chain((ns) => {
    const perDim = (min: number, max: number) => fc.array(fc.integer({ min, max }), { minLength: ns, maxLength: ns });
    const pads = fc.oneof(
      fc.constant("SAME" as const),
      fc.constant("VALID" as const),
      fc.array(fc.tuple(fc.integer({ min: -1, max: 2 }), fc.integer({ min: -1, max: 2 })), { minLength: ns, maxLength: ns }),
    );
    const specs: fc.Arbitrary<[string, string, string]> = o.defaultLayout
      ? fc.constant(["NC" + SPATIAL.slice(0, ns), "OI" + SPATIAL.slice(0, ns), "NC" + SPATIAL.slice(0, ns)] as [string, string, string])
      : fc.tuple(layoutArb("N", "C", ns), layoutArb("O", "I", ns), layoutArb("N", "C", ns));
    return fc.record({
      N: fc.integer({ min: 1, max: 2 }),
      G: fc.integer({ min: 1, max: 2 }),
      I: fc.integer({ min: 1, max: 2 }),
      Og: fc.integer({ min: 1, max: 2 }),
      spatial: perDim(1, ns === 1 ? 7 : 5),
      window: perDim(1, 3),
      strides: perDim(1, 3),
      lhsDilation: perDim(1, 2),
      rhsDilation: perDim(1, 2),
      padding: pads,
      specs,
    });
  });
}

const dilate = (n: number, d: number) => (n === 0 ? 0 : 1 + d * (n - 1));

/** Explicit padding pairs of a case (JAX's padtype_to_pads: SAME keeps ceil(in / stride) outputs). */
export function casePads(c: ConvCase): [number, number][] {
  if (c.padding === "VALID") return c.spatial.map(() => [0, 0]);
  if (c.padding === "SAME") {
    return c.spatial.map((x, d) => {
      const out = Math.ceil(x / c.strides[d]!);
      const total = Math.max(0, (out - 1) * c.strides[d]! + dilate(c.window[d]!, c.rhsDilation[d]!) - x);
      return [Math.floor(total / 2), Math.ceil(total / 2)];
    });
  }
  return c.padding;
}

/** Output spatial sizes, or null when some window is larger than its padded input. */
export function outSpatial(c: ConvCase): number[] | null {
  const pads = casePads(c);
  const out = c.spatial.map((x, d) => {
    const padded = dilate(x, c.lhsDilation[d]!) + pads[d]![0] + pads[d]![1];
    const w = dilate(c.window[d]!, c.rhsDilation[d]!);
    return padded < w ? -1 : Math.floor((padded - w) / c.strides[d]!) + 1;
  });
  return out.some((v) => v < 0) ? null : out;
}

/** The stored shape of an operand whose logical axes are `[a, b, ...spatial]` in a layout string. */
export function storedShape(spec: string, a: string, b: string, sizeA: number, sizeB: number, spatial: readonly number[]): number[] {
  return [...spec].map((ch) => (ch === a ? sizeA : ch === b ? sizeB : spatial[SPATIAL.indexOf(ch)]!));
}

/** Row-major offset of logical index `[ia, ib, ...is]` in an operand of the given layout and stored shape. */
function offsetOf(spec: string, a: string, b: string, shape: readonly number[], ia: number, ib: number, is: readonly number[]): number {
  let off = 0;
  for (let ax = 0; ax < spec.length; ax++) {
    const ch = spec[ax]!;
    const idx = ch === a ? ia : ch === b ? ib : is[SPATIAL.indexOf(ch)]!;
    off = off * shape[ax]! + idx;
  }
  return off;
}

/** Odometer over all indices of `dims`. */
function* indices(dims: readonly number[]): Generator<number[]> {
  const n = dims.reduce((a, b) => a * b, 1);
  const idx = dims.map(() => 0);
  for (let f = 0; f < n; f++) {
    yield [...idx];
    for (let d = dims.length - 1; d >= 0; d--) {
      if (++idx[d]! < dims[d]!) break;
      idx[d] = 0;
    }
  }
}

/**
 * The convolution straight from its definition, in float64:
 * `out[n, o, p] = Σ_{c, k} x[n, g·I + c, i] · w[o, c, k]` over taps where
 * `p·s + k·rd - lo = i·ld` for an input index `i`; `g = floor(o / Og)`.
 */
export function referenceConv(c: ConvCase, x: ArrayLike<number>, w: ArrayLike<number>): { values: number[]; shape: number[] } {
  const P = outSpatial(c)!;
  const pads = casePads(c);
  const [ls, rs, os] = c.specs;
  const C = c.G * c.I;
  const O = c.G * c.Og;
  const xShape = storedShape(ls, "N", "C", c.N, C, c.spatial);
  const wShape = storedShape(rs, "O", "I", O, c.I, c.window);
  const oShape = storedShape(os, "N", "C", c.N, O, P);
  const out = new Array<number>(oShape.reduce((a, b) => a * b, 1)).fill(0);
  for (let n = 0; n < c.N; n++) {
    for (let o = 0; o < O; o++) {
      const g = Math.floor(o / c.Og);
      for (const p of indices(P)) {
        let s = 0;
        for (let ci = 0; ci < c.I; ci++) {
          for (const k of indices(c.window)) {
            const i: number[] = [];
            let inside = true;
            for (let d = 0; d < P.length && inside; d++) {
              const j = p[d]! * c.strides[d]! + k[d]! * c.rhsDilation[d]! - pads[d]![0];
              const ld = c.lhsDilation[d]!;
              if (j < 0 || j % ld !== 0 || j / ld >= c.spatial[d]!) inside = false;
              else i.push(j / ld);
            }
            if (!inside) continue;
            s += x[offsetOf(ls, "N", "C", xShape, n, g * c.I + ci, i)]! * w[offsetOf(rs, "O", "I", wShape, o, ci, k)]!;
          }
        }
        out[offsetOf(os, "N", "C", oShape, n, o, p)] = s;
      }
    }
  }
  return { values: out, shape: oShape };
}
