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
import { LruCache } from "../../core/lru.js";
import { sizeOf, stridesOf } from "../../core/shape.js";
import type { WindowGeometry, WindowReduction } from "../backend.js";
import { tapTable } from "./conv.js";

/** Tables by geometry (a training loop pools the same shapes every step), least recently used dropped first. */
const tables = new LruCache<string, Int32Array>(() => TABLE_CACHE_SIZE);
/** How many window geometries keep their tables. */
const TABLE_CACHE_SIZE = 64;

/** The (tap, output) → input-offset table of a window geometry (cached: do not write to it). */
function windowTable(g: WindowGeometry): Int32Array {
  const key = [g.inShape, g.outShape, g.windowDimensions, g.windowStrides, g.padding.map((p) => p.join(":")), g.baseDilation, g.windowDilation].join("|");
  let tab = tables.get(key);
  if (!tab) {
    tab = tapTable(g.outShape, g.windowDimensions, stridesOf(g.inShape), (d, p, k) => {
      const j = p * g.windowStrides[d]! + k * g.windowDilation[d]! - g.padding[d]![0];
      const bd = g.baseDilation[d]!;
      return j >= 0 && j % bd === 0 && j / bd < g.inShape[d]! ? j / bd : -1;
    });
    tables.set(key, tab);
  }
  return tab;
}

/**
 * A window over the last two axes only (pooling of `[..., H, W]` planes): every other
 * axis has a window of 1, stride 1, no padding and no dilation, and the input is not
 * dilated. Such windows (every pooling layer) run in direct loops over each plane,
 * without a table; others use {@link windowTable}.
 */
interface PlaneWindow {
  planes: number;
  H: number;
  W: number;
  OH: number;
  OW: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  ph: number;
  pw: number;
  dh: number;
  dw: number;
}

function planeWindow(g: WindowGeometry): PlaneWindow | null {
  const nd = g.inShape.length;
  if (nd < 2) return null;
  for (let d = 0; d < nd; d++) {
    if (g.baseDilation[d] !== 1) return null;
    if (d < nd - 2 && (g.windowDimensions[d] !== 1 || g.windowStrides[d] !== 1 || g.padding[d]![0] !== 0 || g.padding[d]![1] !== 0)) return null;
  }
  const [h, w] = [nd - 2, nd - 1];
  return {
    planes: sizeOf(g.inShape.slice(0, h)),
    H: g.inShape[h]!,
    W: g.inShape[w]!,
    OH: g.outShape[h]!,
    OW: g.outShape[w]!,
    kh: g.windowDimensions[h]!,
    kw: g.windowDimensions[w]!,
    sh: g.windowStrides[h]!,
    sw: g.windowStrides[w]!,
    ph: g.padding[h]![0],
    pw: g.padding[w]![0],
    dh: g.windowDilation[h]!,
    dw: g.windowDilation[w]!,
  };
}

/** The taps `[k0, k1)` of a window starting at `start` (step `d`) that fall inside `[0, n)`. */
function clip(start: number, K: number, d: number, n: number): [number, number] {
  const k0 = start >= 0 ? 0 : Math.min(K, Math.ceil(-start / d));
  const k1 = Math.max(k0, Math.min(K, Math.floor((n - 1 - start) / d) + 1));
  return [k0, k1];
}

/**
 * Over each window of a plane window `q` (taps in row-major order): the sum, or the
 * extremum (`sign` 1 for max, -1 for min; a NaN wins over numbers), or with `at` the
 * input offset of the first extremum (-1 for a window of padding only), written at
 * `out[o]`/`at[o]` for output position `o`.
 */
function planeReduce(x: TypedArray, q: PlaneWindow, op: WindowReduction, out: TypedArray | null, at: Int32Array | null): void {
  const { planes, H, W, OH, OW, kh, kw, sh, sw, ph, pw, dh, dw } = q;
  const sign = op === "min" ? -1 : 1;
  const init = op === "sum" ? 0 : sign * -Infinity;
  const int = out instanceof Int32Array;
  // the taps of each output column inside the plane, once
  const cols = new Int32Array(2 * OW);
  for (let ox = 0; ox < OW; ox++) [cols[2 * ox], cols[2 * ox + 1]] = clip(ox * sw - pw, kw, dw, W);
  let o = 0;
  for (let plane = 0; plane < planes; plane++) {
    const xb = plane * H * W;
    for (let oy = 0; oy < OH; oy++) {
      const y0 = oy * sh - ph;
      const [ky0, ky1] = clip(y0, kh, dh, H);
      for (let ox = 0; ox < OW; ox++, o++) {
        const c0 = ox * sw - pw;
        const kx0 = cols[2 * ox]!;
        const kx1 = cols[2 * ox + 1]!;
        let acc = init;
        if (op === "sum") {
          for (let ky = ky0; ky < ky1; ky++) {
            const row = xb + (y0 + ky * dh) * W + c0;
            for (let kx = kx0; kx < kx1; kx++) acc += x[row + kx * dw]!;
          }
          out![o] = acc;
        } else if (at === null) {
          for (let ky = ky0; ky < ky1; ky++) {
            const row = xb + (y0 + ky * dh) * W + c0;
            for (let kx = kx0; kx < kx1; kx++) {
              const v = x[row + kx * dw]!;
              if (sign * v > sign * acc || (v !== v && acc === acc)) acc = v;
            }
          }
          out![o] = int ? clampInt(acc) : acc;
        } else {
          let best = -1;
          for (let ky = ky0; ky < ky1; ky++) {
            const row = xb + (y0 + ky * dh) * W + c0;
            for (let kx = kx0; kx < kx1; kx++) {
              const i = row + kx * dw;
              const v = x[i]!;
              if (best < 0 || sign * v > sign * acc || (v !== v && acc === acc)) {
                acc = v;
                best = i;
              }
            }
          }
          at[o] = best;
        }
      }
    }
  }
}

/** The value an int32 result stores for a window that saw only padding. */
const clampInt = (v: number): number => (v === -Infinity ? -2147483648 : v === Infinity ? 2147483647 : v);

/** `out[p] = reduce over the window of p` (padding contributes the reduction's identity). */
export function reduceWindowImpl(x: TypedArray, dtype: DType, op: WindowReduction, g: WindowGeometry): TypedArray {
  const nOut = sizeOf(g.outShape);
  const nK = sizeOf(g.windowDimensions);
  const plane = planeWindow(g);
  if (plane) {
    const out = allocateForWrite(dtype, nOut);
    planeReduce(x, plane, op, out, null);
    return out;
  }
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
  const plane = planeWindow(g);
  if (plane) {
    const at = new Int32Array(nOut);
    planeReduce(x, plane, select, null, at);
    return at;
  }
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
