/**
 * CPU kernels of the windowed reductions (`reduce_window_*`) and of the selections that
 * differentiate max/min pooling (`select_and_gather_add`, `select_and_scatter_add`).
 *
 * Every kernel walks a table of (window tap, output position) → input offset built by
 * {@link tapTable} (-1 where the tap falls on padding or on a hole of the dilated
 * input), taps in the outer loop, so each reduction folds the taps of every window in
 * row-major window order: sums are accumulated in float64, and a selection keeps the
 * first extremum of its window (a NaN is selected over any number).
 * @module
 */
import { type DType, type TypedArray, allocate, allocateForWrite } from "../../core/dtype.js";
import { sizeOf, stridesOf } from "../../core/shape.js";
import type { WindowGeometry, WindowReduction } from "../backend.js";
import { tapTable } from "./conv.js";

/** The (tap, output) → input-offset table of a window geometry. */
function windowTable(g: WindowGeometry): Int32Array {
  return tapTable(g.outShape, g.windowDimensions, stridesOf(g.inShape), (d, p, k) => {
    const j = p * g.windowStrides[d]! + k * g.windowDilation[d]! - g.padding[d]![0];
    const bd = g.baseDilation[d]!;
    return j >= 0 && j % bd === 0 && j / bd < g.inShape[d]! ? j / bd : -1;
  });
}

/** The value an int32 result stores for a window that saw only padding. */
const clampInt = (v: number): number => (v === -Infinity ? -2147483648 : v === Infinity ? 2147483647 : v);

/** `out[p] = reduce over the window of p` (padding contributes the reduction's identity). */
export function reduceWindowImpl(x: TypedArray, dtype: DType, op: WindowReduction, g: WindowGeometry): TypedArray {
  const nOut = sizeOf(g.outShape);
  const nK = sizeOf(g.windowDimensions);
  const tab = windowTable(g);
  const acc = new Float64Array(nOut).fill(op === "sum" ? 0 : op === "max" ? -Infinity : Infinity);
  for (let kf = 0; kf < nK; kf++) {
    const t0 = kf * nOut;
    if (op === "sum") {
      for (let o = 0; o < nOut; o++) {
        const t = tab[t0 + o]!;
        if (t >= 0) acc[o]! += x[t]!;
      }
    } else {
      const sign = op === "max" ? 1 : -1;
      for (let o = 0; o < nOut; o++) {
        const t = tab[t0 + o]!;
        if (t < 0) continue;
        const v = x[t]!;
        const a = acc[o]!;
        if (sign * v > sign * a || (v !== v && a === a)) acc[o] = v;
      }
    }
  }
  if (dtype === "float64") return acc;
  const out = allocateForWrite(dtype, nOut);
  if (dtype === "int32") for (let o = 0; o < nOut; o++) out[o] = clampInt(acc[o]!);
  else out.set(acc);
  return out;
}

/** For each output position, the input offset its window selects (first max or min; a NaN first), or -1 for a window of padding only. */
function selections(x: TypedArray, select: "max" | "min", g: WindowGeometry): Int32Array {
  const nOut = sizeOf(g.outShape);
  const nK = sizeOf(g.windowDimensions);
  const tab = windowTable(g);
  const best = new Float64Array(nOut);
  const at = new Int32Array(nOut).fill(-1);
  const sign = select === "max" ? 1 : -1;
  for (let kf = 0; kf < nK; kf++) {
    const t0 = kf * nOut;
    for (let o = 0; o < nOut; o++) {
      const t = tab[t0 + o]!;
      if (t < 0) continue;
      const v = x[t]!;
      const a = best[o]!;
      if (at[o] === -1 || sign * v > sign * a || (v !== v && a === a)) {
        best[o] = v;
        at[o] = t;
      }
    }
  }
  return at;
}

/** `out[p] = t[the element of x that p's window selects]` (0 for a window of padding only). */
export function selectAndGatherImpl(t: TypedArray, x: TypedArray, dtype: DType, select: "max" | "min", g: WindowGeometry): TypedArray {
  const at = selections(x, select, g);
  const out = allocateForWrite(dtype, at.length);
  for (let o = 0; o < at.length; o++) out[o] = at[o]! < 0 ? 0 : t[at[o]!]!;
  return out;
}

/** `out[i] = Σ s[p]` over the windows `p` that select element `i` of x (the transpose of the gather). */
export function selectAndScatterImpl(s: TypedArray, x: TypedArray, dtype: DType, select: "max" | "min", g: WindowGeometry): TypedArray {
  const at = selections(x, select, g);
  const out = allocate(dtype, sizeOf(g.inShape));
  for (let o = 0; o < at.length; o++) if (at[o]! >= 0) out[at[o]!]! += s[o]!;
  return out;
}
