/**
 * `conv_general_dilated`: XLA's (and JAX's) general convolution, with all of its rules.
 *
 * Per spatial dimension, with input `x` dilated by `lhsDilation` (holes between
 * elements) and padded by `padding[d] = [lo, hi]` (negative values crop), the kernel
 * dilated by `rhsDilation` slides with step `windowStrides[d]`:
 * `out[n, o, p] = Σ_{c, k} xdp[n, c, p·s + k·rd] · w[o, c, k]`. Dimension numbers say
 * which axis of each operand is the batch / feature / spatial one (as JAX's
 * `ConvDimensionNumbers`: index tuples `[batch, feature, ...spatial]` for lhs and out,
 * `[out feature, in feature, ...spatial]` for rhs). `featureGroupCount` splits the
 * features into independent groups (depthwise convolution when it equals the channel
 * count); `batchGroupCount` (used by the kernel's cotangent of a grouped convolution)
 * splits the batch likewise.
 *
 * The convolution is bilinear: its JVP is `conv(ẋ, w) + conv(x, ẇ)` and its transpose
 * rules are JAX's `_conv_general_dilated_transpose_lhs/rhs` — the input's cotangent is a
 * convolution of the cotangent with the spatially flipped kernel (input and output
 * features swapped) and input dilation equal to the stride; the kernel's cotangent is a
 * convolution of the input with the cotangent, batch and feature roles swapped. The
 * batching rule folds the mapped axis into the batch, the output features or the
 * feature groups (JAX's `_conv_general_dilated_batch_rule`).
 * @module
 */
import { ConcreteArray, type NDArray, ShapedArray } from "../core/array.js";
import { fmtShape } from "../core/shape.js";
import { type BatchDim, type Params, UndefPrimal, bind1, definePrimitive } from "../core/trace.js";
import { hostBackend } from "../backends/registry.js";
import { add } from "./elementwise.js";
import { take } from "./indexing.js";
import { reshape, transpose } from "./shape.js";

/** Params of {@link conv_general_dilated_p}. */
export interface ConvParams extends Params {
  windowStrides: readonly number[];
  /** `[lo, hi]` per spatial dimension (negative values crop). */
  padding: readonly (readonly [number, number])[];
  lhsDilation: readonly number[];
  rhsDilation: readonly number[];
  /** lhs axes `[batch, feature, ...spatial]`. */
  lhsSpec: readonly number[];
  /** rhs axes `[out feature, in feature, ...spatial]`. */
  rhsSpec: readonly number[];
  /** out axes `[batch, feature, ...spatial]`. */
  outSpec: readonly number[];
  featureGroupCount: number;
  batchGroupCount: number;
}

/** Size of a dimension of `n` elements with `d - 1` holes between neighbours. */
export function dilateDim(n: number, d: number): number {
  return n === 0 ? 0 : 1 + d * (n - 1);
}

const OP = "convGeneralDilated";

/** The output shape, with the checks that name the offending dimensions. */
function convShape(lhs: ShapedArray, rhs: ShapedArray, p: ConvParams): number[] {
  const { lhsSpec, rhsSpec, outSpec, featureGroupCount: G, batchGroupCount: B } = p;
  const ns = lhs.ndim - 2;
  if (lhs.ndim !== rhs.ndim)
    throw new Error(
      `${OP}: lhs ${fmtShape(lhs.shape)} and rhs ${fmtShape(rhs.shape)} must have the same rank (batch, feature and the same spatial dimensions).`,
    );
  if (lhs.dtype !== rhs.dtype) throw new Error(`${OP}: lhs ${lhs.toString()} and rhs ${rhs.toString()} must have the same dtype; convert one with astype.`);
  if (lhs.dtype === "bool") throw new Error(`${OP}: bool operands are not supported; convert with astype("float32").`);
  if (G > 1 && B > 1) throw new Error(`${OP}: featureGroupCount (${G}) and batchGroupCount (${B}) cannot both exceed 1.`);
  const N = lhs.shape[lhsSpec[0]!]!;
  const C = lhs.shape[lhsSpec[1]!]!;
  const O = rhs.shape[rhsSpec[0]!]!;
  const I = rhs.shape[rhsSpec[1]!]!;
  if (C % G !== 0 || C / G !== I) {
    throw new Error(
      `${OP}: the lhs has ${C} input features (axis ${lhsSpec[1]} of ${fmtShape(lhs.shape)}) and featureGroupCount is ${G}, so the rhs needs ${C % G === 0 ? C / G : `${C}/${G}`} input features per group, but its in-feature dimension (axis ${rhsSpec[1]} of ${fmtShape(rhs.shape)}) is ${I}.` +
        (C % G !== 0
          ? ` The feature count must be divisible by featureGroupCount.`
          : ` Make the kernel's in-feature dimension ${C / G}, or change featureGroupCount.`),
    );
  }
  if (O % G !== 0)
    throw new Error(
      `${OP}: the rhs has ${O} output features (axis ${rhsSpec[0]} of ${fmtShape(rhs.shape)}), which featureGroupCount ${G} does not divide; each group needs the same number of output features.`,
    );
  if (N % B !== 0 || O % B !== 0) throw new Error(`${OP}: batchGroupCount ${B} must divide the lhs batch (${N}) and the rhs output features (${O}).`);
  const out = new Array<number>(lhs.ndim);
  out[outSpec[0]!] = N / B;
  out[outSpec[1]!] = O;
  for (let d = 0; d < ns; d++) {
    const inD = lhs.shape[lhsSpec[d + 2]!]!;
    const kD = rhs.shape[rhsSpec[d + 2]!]!;
    const [lo, hi] = p.padding[d]!;
    const padded = dilateDim(inD, p.lhsDilation[d]!) + lo + hi;
    const window = dilateDim(kD, p.rhsDilation[d]!);
    if (padded < window || padded < 0) {
      throw new Error(
        `${OP}: in spatial dimension ${d} the window (${kD}${p.rhsDilation[d] !== 1 ? `, dilated by ${p.rhsDilation[d]} to ${window}` : ""}, rhs axis ${rhsSpec[d + 2]}) is larger than the padded input (${inD}${p.lhsDilation[d] !== 1 ? ` dilated by ${p.lhsDilation[d]}` : ""} + padding ${lo} + ${hi} = ${padded}, lhs axis ${lhsSpec[d + 2]}); pad more ("SAME") or use a smaller kernel.`,
      );
    }
    out[outSpec[d + 2]!] = Math.floor((padded - window) / p.windowStrides[d]!) + 1;
  }
  return out;
}

/** The convolution primitive (see the module comment). */
export const conv_general_dilated_p = definePrimitive<ConvParams>({
  name: "conv_general_dilated",
  freshOutputs: true,
  abstractEval([lhs, rhs], p) {
    return [new ShapedArray(convShape(lhs!, rhs!, p), lhs!.dtype)];
  },
  impl([lhs, rhs], p, [out]) {
    const buf = hostBackend.conv(lhs!.buffer, rhs!.buffer, out!.dtype, { ...p, lhsShape: lhs!.aval.shape, rhsShape: rhs!.aval.shape, outShape: out!.shape });
    return [new ConcreteArray(out!, buf)];
  },
  jvp([lhs, rhs], [tl, tr], p) {
    const out = convRaw(lhs!, rhs!, p);
    const parts: NDArray[] = [];
    if (tl) parts.push(convRaw(tl, rhs!, p));
    if (tr) parts.push(convRaw(lhs!, tr, p));
    return [[out], [parts.length === 2 ? add(parts[0]!, parts[1]!) : (parts[0] ?? null)]];
  },
  transpose([ct], [lhs, rhs], p) {
    if (lhs instanceof UndefPrimal && rhs instanceof UndefPrimal)
      throw new Error("conv_general_dilated: both operands are linear; the convolution is not linear in both at once.");
    if (!ct) return [null, null];
    if (lhs instanceof UndefPrimal) return [transposeLhs(ct, rhs as NDArray, lhs.aval, p), null];
    if (rhs instanceof UndefPrimal) return [null, transposeRhs(ct, lhs as NDArray, rhs.aval, p)];
    return [null, null];
  },
  batch([lhs, rhs], [ld, rd], p) {
    return batchRule(lhs!, rhs!, ld ?? null, rd ?? null, p);
  },
  printParams: (p) =>
    `[window_strides=(${p.windowStrides.join(",")}) padding=(${p.padding.map(([l, h]) => `(${l},${h})`).join(",")}) lhs_dilation=(${p.lhsDilation.join(",")}) rhs_dilation=(${p.rhsDilation.join(",")}) dimension_numbers=(${[p.lhsSpec, p.rhsSpec, p.outSpec].map((s) => `(${s.join(",")})`).join(", ")}) feature_group_count=${p.featureGroupCount} batch_group_count=${p.batchGroupCount}]`,
});

/** Binds the primitive. */
export function convRaw(lhs: NDArray, rhs: NDArray, p: ConvParams): NDArray {
  return bind1(conv_general_dilated_p, [lhs, rhs], p);
}

// ------------------------------------------------------------------ axis helpers (JAX's)

/**
 * Merges axis `src` into axis `dst` (`dst` numbered after `src` is removed), `src`
 * becoming the major part of the merged axis.
 */
export function reshapeAxisInto(src: number, dst: number, x: NDArray): NDArray {
  const perm = Array.from({ length: x.ndim }, (_, i) => i).filter((i) => i !== src);
  perm.splice(dst, 0, src);
  const shape = x.shape.filter((_, i) => i !== src);
  shape[dst] = shape[dst]! * x.shape[src]!;
  return reshape(transpose(x, perm), shape);
}

/** Splits axis `src` into `[size1, rest]`. */
export function reshapeAxisOutOf(src: number, size1: number, x: NDArray): NDArray {
  const shape = [...x.shape];
  shape.splice(src, 1, size1, shape[src]! / size1);
  return reshape(x, shape);
}

/** `x` reversed along each of `axes`. */
function rev(x: NDArray, axes: readonly number[]): NDArray {
  let y = x;
  for (const a of axes) {
    const n = x.shape[a]!;
    if (n <= 1) continue;
    const idx = new Int32Array(n);
    for (let i = 0; i < n; i++) idx[i] = n - 1 - i;
    y = take(y, new ConcreteArray(new ShapedArray([n], "int32"), idx), a);
  }
  return y;
}

/** A spec with its first two entries swapped (JAX's `_conv_spec_transpose`). */
const swap01 = (s: readonly number[]): number[] => [s[1]!, s[0]!, ...s.slice(2)];
const spatial = (shape: readonly number[], spec: readonly number[]): number[] => spec.slice(2).map((a) => shape[a]!);

// ------------------------------------------------------------------ transpose rules

/** The padding of the input's cotangent convolution (JAX's `_conv_general_vjp_lhs_padding`). */
export function vjpLhsPadding(
  inShape: readonly number[],
  window: readonly number[],
  strides: readonly number[],
  outShape: readonly number[],
  padding: readonly (readonly [number, number])[],
  lhsDilation: readonly number[],
  rhsDilation: readonly number[],
): [number, number][] {
  return inShape.map((n, d) => {
    const lhsD = dilateDim(n, lhsDilation[d]!);
    const rhsD = dilateDim(window[d]!, rhsDilation[d]!);
    const outD = dilateDim(outShape[d]!, strides[d]!);
    const before = rhsD - padding[d]![0] - 1;
    return [before, lhsD + rhsD - 1 - outD - before];
  });
}

/** The padding of the kernel's cotangent convolution (JAX's `_conv_general_vjp_rhs_padding`). */
function vjpRhsPadding(
  inShape: readonly number[],
  window: readonly number[],
  strides: readonly number[],
  outShape: readonly number[],
  padding: readonly (readonly [number, number])[],
  lhsDilation: readonly number[],
  rhsDilation: readonly number[],
): [number, number][] {
  return inShape.map((n, d) => {
    const lhsD = dilateDim(n, lhsDilation[d]!);
    const rhsD = dilateDim(window[d]!, rhsDilation[d]!);
    const outD = dilateDim(outShape[d]!, strides[d]!);
    const lo = padding[d]![0];
    return [lo, outD - lhsD + (rhsD - lo - 1)];
  });
}

function transposeLhs(ct: NDArray, rhs: NDArray, lhsAval: ShapedArray, p: ConvParams): NDArray {
  const { lhsSpec, rhsSpec, outSpec, batchGroupCount: B } = p;
  let G = p.featureGroupCount;
  let w = rhs;
  if (G > 1) {
    // move the feature groups from the kernel's output features into its input features
    w = reshapeAxisOutOf(rhsSpec[0]!, G, w);
    w = reshapeAxisInto(rhsSpec[0]!, rhsSpec[1]!, w);
  } else if (B > 1) {
    w = reshapeAxisOutOf(rhsSpec[0]!, B, w);
    w = reshapeAxisInto(rhsSpec[0]!, rhsSpec[1]!, w);
    G = B;
  }
  const padding = vjpLhsPadding(
    spatial(lhsAval.shape, lhsSpec),
    spatial(w.shape, rhsSpec),
    p.windowStrides,
    spatial(ct.shape, outSpec),
    p.padding,
    p.lhsDilation,
    p.rhsDilation,
  );
  let out = convRaw(ct, rev(w, rhsSpec.slice(2)), {
    windowStrides: p.lhsDilation,
    padding,
    lhsDilation: p.windowStrides,
    rhsDilation: p.rhsDilation,
    lhsSpec: outSpec,
    rhsSpec: swap01(rhsSpec),
    outSpec: lhsSpec,
    featureGroupCount: G,
    batchGroupCount: 1,
  });
  if (B > 1) {
    out = reshapeAxisOutOf(lhsSpec[1]!, B, out);
    out = reshapeAxisInto(lhsSpec[1]!, lhsSpec[0]!, out);
  }
  return out;
}

function transposeRhs(ct: NDArray, lhs: NDArray, rhsAval: ShapedArray, p: ConvParams): NDArray {
  const { lhsSpec, rhsSpec, outSpec } = p;
  let G = p.featureGroupCount;
  let B = p.batchGroupCount;
  if (B > 1) {
    G = B;
    B = 1;
  } else if (G > 1) {
    B = G;
    G = 1;
  }
  const padding = vjpRhsPadding(
    spatial(lhs.shape, lhsSpec),
    spatial(rhsAval.shape, rhsSpec),
    p.windowStrides,
    spatial(ct.shape, outSpec),
    p.padding,
    p.lhsDilation,
    p.rhsDilation,
  );
  return convRaw(lhs, ct, {
    windowStrides: p.rhsDilation,
    padding,
    lhsDilation: p.lhsDilation,
    rhsDilation: p.windowStrides,
    lhsSpec: swap01(lhsSpec),
    rhsSpec: swap01(outSpec),
    outSpec: swap01(rhsSpec),
    featureGroupCount: G,
    batchGroupCount: B,
  });
}

// ------------------------------------------------------------------ batching (JAX's rule)

function batchRule(lhs: NDArray, rhs: NDArray, lb: BatchDim, rb: BatchDim, p: ConvParams): [NDArray[], BatchDim[]] {
  const { lhsSpec, rhsSpec, outSpec } = p;
  if (lb !== null && rb !== null) {
    const nb = lhs.shape[lb]!;
    let newLhs: NDArray;
    let q: ConvParams;
    if (p.batchGroupCount > 1) {
      newLhs = reshapeAxisInto(lb, lhsSpec[0]!, lhs);
      q = { ...p, batchGroupCount: p.batchGroupCount * nb };
    } else {
      newLhs = reshapeAxisInto(lb, lhsSpec[1]!, lhs);
      q = { ...p, featureGroupCount: p.featureGroupCount * nb };
    }
    const newRhs = reshapeAxisInto(rb, rhsSpec[0]!, rhs);
    const out = convRaw(newLhs, newRhs, q);
    return [[reshapeAxisOutOf(outSpec[1]!, nb, out)], [outSpec[1]!]];
  }
  if (lb !== null) {
    const nb = lhs.shape[lb]!;
    if (p.batchGroupCount === 1) {
      const out = convRaw(reshapeAxisInto(lb, lhsSpec[0]!, lhs), rhs, p);
      return [[reshapeAxisOutOf(outSpec[0]!, nb, out)], [outSpec[0]!]];
    }
    let x = reshapeAxisOutOf(lhsSpec[0]! + (lb <= lhsSpec[0]! ? 1 : 0), p.batchGroupCount, lhs);
    x = reshapeAxisInto(lb + (lhsSpec[0]! < lb ? 1 : 0), lhsSpec[0]! + 1, x);
    x = reshapeAxisInto(lhsSpec[0]!, lhsSpec[0]!, x);
    const out = convRaw(x, rhs, p);
    return [[reshapeAxisOutOf(outSpec[0]!, nb, out)], [outSpec[0]!]];
  }
  const nb = rhs.shape[rb!]!;
  if (p.featureGroupCount === 1 && p.batchGroupCount === 1) {
    const out = convRaw(lhs, reshapeAxisInto(rb!, rhsSpec[0]!, rhs), p);
    return [[reshapeAxisOutOf(outSpec[1]!, nb, out)], [outSpec[1]!]];
  }
  // the groups must stay outermost in the output features: groups, then the mapped axis
  const groups = p.featureGroupCount > 1 ? p.featureGroupCount : p.batchGroupCount;
  let w = reshapeAxisOutOf(rhsSpec[0]! + (rb! <= rhsSpec[0]! ? 1 : 0), groups, rhs);
  w = reshapeAxisInto(rb! + (rhsSpec[0]! < rb! ? 1 : 0), rhsSpec[0]! + 1, w);
  w = reshapeAxisInto(rhsSpec[0]!, rhsSpec[0]!, w);
  let out = convRaw(lhs, w, p);
  out = reshapeAxisOutOf(outSpec[1]!, groups, out);
  out = reshapeAxisOutOf(outSpec[1]! + 1, nb, out);
  out = reshapeAxisInto(outSpec[1]!, outSpec[1]! + 1, out);
  return [[out], [outSpec[1]!]];
}
