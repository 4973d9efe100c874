/**
 * Views: primitives that only re-read their operand's elements (broadcast_to,
 * transpose, slice, and reshape where the elements stay in place) compose into the
 * index map of whatever kernel reads them, so they are never computed as arrays.
 * @module
 */
import type { Params } from "../core/trace.js";

/** A strided view of a flat buffer: element (c0, c1, ...) is `buf[offset + Σ strides[j] * c_j]`. */
export interface StridedView {
  readonly offset: number;
  readonly strides: readonly number[];
}

/**
 * How a view primitive reads its operand: from the strided view of the operand (of
 * shape `inShape`) to the view of the result (of shape `outShape`), or null when the
 * result is not a view of the same elements.
 */
export type ViewRule<P extends Params = Params> = (v: StridedView, inShape: readonly number[], outShape: readonly number[], params: P) => StridedView | null;

/** `broadcast_to`: new leading axes and size-1 axes read with stride 0. */
export const broadcastView: ViewRule = (v, inShape, outShape) => {
  const lead = outShape.length - inShape.length;
  return { offset: v.offset, strides: outShape.map((d, i) => (i < lead || (inShape[i - lead] === 1 && d !== 1) ? 0 : v.strides[i - lead]!)) };
};

/** `transpose` by the `perm` param: the strides permuted. */
export const transposeView: ViewRule = (v, _in, _out, p) => ({ offset: v.offset, strides: (p.perm as readonly number[]).map((q) => v.strides[q]!) });

/** `slice` from the `starts` param (unit steps): the offset moves. */
export const sliceView: ViewRule = (v, _in, _out, p) => ({
  offset: v.offset + (p.starts as readonly number[]).reduce((o, s, j) => o + s * v.strides[j]!, 0),
  strides: v.strides,
});

/** `reshape`: a view when the regrouped axes are contiguous with each other. */
export const reshapeView: ViewRule = (v, inShape, outShape) => {
  const st = reshapeStrides(inShape, v.strides, outShape);
  return st ? { offset: v.offset, strides: st } : null;
};

/** Strides of `newShape` viewing the same elements as `shape` with `strides`, or null when that is not a view. */
export function reshapeStrides(shape: readonly number[], strides: readonly number[], newShape: readonly number[]): number[] | null {
  // an empty array has no elements to address: any strides view it, so take row-major ones
  if (newShape.includes(0)) {
    const st = newShape.map(() => 0);
    for (let d = newShape.length - 1, acc = 1; d >= 0; d--) {
      st[d] = acc;
      acc *= Math.max(newShape[d]!, 1);
    }
    return st;
  }
  const od = shape.map((d, i) => ({ d, s: strides[i]! })).filter((x) => x.d !== 1);
  const nd = newShape.map((d, i) => ({ d, i })).filter((x) => x.d !== 1);
  const out = newShape.map(() => 0);
  let oi = 0;
  let ni = 0;
  while (oi < od.length && ni < nd.length) {
    // find the smallest groups od[oi..oj), nd[ni..nj) with equal products
    let op = od[oi]!.d;
    let np = nd[ni]!.d;
    let oj = oi + 1;
    let nj = ni + 1;
    while (op !== np) {
      if (op < np) op *= od[oj++]!.d;
      else np *= nd[nj++]!.d;
    }
    // the old axes of the group must be contiguous with each other
    for (let k = oi; k < oj - 1; k++) if (od[k]!.s !== od[k + 1]!.s * od[k + 1]!.d) return null;
    let s = od[oj - 1]!.s;
    for (let k = nj - 1; k >= ni; k--) {
      out[nd[k]!.i] = s;
      s *= nd[k]!.d;
    }
    oi = oj;
    ni = nj;
  }
  return out;
}

/** True when `strides` walk `shape` in row-major order with no gaps (size-1 axes ignored). */
export function isContiguous(shape: readonly number[], strides: readonly number[]): boolean {
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    if (shape[d] === 1) continue;
    if (strides[d] !== acc) return false;
    acc *= shape[d]!;
  }
  return true;
}
