/**
 * The CPU kernel of `conv_general_dilated`: a convolution as one matrix product per
 * group on the WebAssembly SIMD matmul (every core), with the operands packed in
 * JavaScript around it.
 *
 * Per spatial dimension the convolution reads, for output position `p` and window tap
 * `k`, the input at dilated-and-padded position `p·s + k·rd` (window stride `s`, kernel
 * dilation `rd`); that position holds input element `i` when `p·s + k·rd - lo = i·ld`
 * (padding `lo`, input dilation `ld`) and zero otherwise. Two ways to compute it:
 *
 * - **gather** (im2col): `cols[(c, k), (n, p)]` holds the input each output position sees
 *   at each tap; the output is `W[o, (c, k)] · cols`. Its multiply-adds are proportional
 *   to the number of output positions.
 * - **scatter** (col2im): `Z[(o, k), (n, i)] = W[(o, k), c] · x[c, (n, i)]`, and each
 *   `Z` entry is added to the output position its tap lands on. Its multiply-adds are
 *   proportional to the number of input positions — fewer when the input is dilated
 *   (the input cotangent of a strided convolution, whose transpose dilates the
 *   cotangent by the stride), where the gather would multiply mostly zeros.
 *
 * {@link convImpl} takes the cheaper one. Both read the operands through their strides,
 * so every dimension layout (NCHW, NHWC, OIHW, HWIO, ...) is packed directly, and both
 * handle feature groups and batch groups one group per product.
 * @module
 */
import { type DType, type TypedArray, allocate, allocateForWrite } from "../../core/dtype.js";
import { sizeOf, stridesOf } from "../../core/shape.js";
import { matmulWasm } from "../wasm/matmul.js";
import { matmulBlocked } from "./matmul.js";

/** Everything about one convolution that the kernel needs (shapes and the primitive's params). */
export interface ConvGeometry {
  lhsShape: readonly number[];
  rhsShape: readonly number[];
  outShape: readonly number[];
  /** Axis indices: lhs `[batch, feature, ...spatial]`, rhs `[out feature, in feature, ...spatial]`, out `[batch, feature, ...spatial]`. */
  lhsSpec: readonly number[];
  rhsSpec: readonly number[];
  outSpec: readonly number[];
  windowStrides: readonly number[];
  padding: readonly (readonly [number, number])[];
  lhsDilation: readonly number[];
  rhsDilation: readonly number[];
  featureGroupCount: number;
  batchGroupCount: number;
}

/** Below this many multiply-adds a product runs in JavaScript (packing for the SIMD kernel costs more). */
const WASM_MIN_WORK = 32 * 32 * 32;

/** `C[m×n] = A[m×k] · B[k×n]`, all row-major and contiguous. */
function product(A: TypedArray, B: TypedArray, C: TypedArray, m: number, k: number, n: number): void {
  const float = C instanceof Float32Array || C instanceof Float64Array;
  if (float && m * k * n >= WASM_MIN_WORK && matmulWasm(A as Float32Array, B as Float32Array, C as Float32Array, m, k, n)) return;
  matmulBlocked(A, 0, B, 0, C, 0, m, k, n);
}

/**
 * For every combination of window tap (slow) and position (fast) — positions ranging
 * over `extents`, taps over `window` — the offset `Σ_d target_d · strides[d]` of the
 * element the pair reaches, or -1 when it reaches none in some dimension. `reach(d, q, k)`
 * gives dimension `d`'s target index for position `q` and tap `k`, or -1.
 */
export function tapTable(extents: readonly number[], window: readonly number[], strides: readonly number[], reach: (d: number, q: number, k: number) => number): Int32Array {
  const nd = extents.length;
  // one table per dimension: [q * K_d + k] -> offset or -1
  const per = extents.map((Q, d) => {
    const K = window[d]!;
    const t = new Int32Array(Q * K);
    for (let q = 0; q < Q; q++) {
      for (let k = 0; k < K; k++) {
        const i = reach(d, q, k);
        t[q * K + k] = i < 0 ? -1 : i * strides[d]!;
      }
    }
    return t;
  });
  const nq = sizeOf(extents);
  const nk = sizeOf(window);
  const table = new Int32Array(nk * nq);
  const kIdx = new Array<number>(nd).fill(0);
  const qIdx = new Array<number>(nd).fill(0);
  for (let kf = 0; kf < nk; kf++) {
    qIdx.fill(0);
    for (let qf = 0; qf < nq; qf++) {
      let off = 0;
      for (let d = 0; d < nd; d++) {
        const v = per[d]![qIdx[d]! * window[d]! + kIdx[d]!]!;
        if (v < 0) {
          off = -1;
          break;
        }
        off += v;
      }
      table[kf * nq + qf] = off;
      for (let d = nd - 1; d >= 0; d--) {
        if (++qIdx[d]! < extents[d]!) break;
        qIdx[d] = 0;
      }
    }
    for (let d = nd - 1; d >= 0; d--) {
      if (++kIdx[d]! < window[d]!) break;
      kIdx[d] = 0;
    }
  }
  return table;
}

/** `Σ_d index_d · strides[d]` for every flat (row-major) index of `extents`. */
function offsets(extents: readonly number[], strides: readonly number[]): Int32Array {
  return tapTable(extents, extents.map(() => 1), strides, (_d, q) => q);
}

/**
 * The convolution `out = conv(lhs, rhs)` described by `g`, computed into a new buffer of
 * `dtype` (see the module comment).
 */
export function convImpl(lhs: TypedArray, rhs: TypedArray, dtype: DType, g: ConvGeometry): TypedArray {
  const { lhsShape, rhsShape, outShape, lhsSpec, rhsSpec, outSpec } = g;
  const ls = stridesOf(lhsShape);
  const rs = stridesOf(rhsShape);
  const os = stridesOf(outShape);
  const sp = (spec: readonly number[], shape: readonly number[]) => spec.slice(2).map((a) => shape[a]!);
  const L = sp(lhsSpec, lhsShape);
  const K = sp(rhsSpec, rhsShape);
  const P = sp(outSpec, outShape);
  const lS = lhsSpec.slice(2).map((a) => ls[a]!);
  const rS = rhsSpec.slice(2).map((a) => rs[a]!);
  const oS = outSpec.slice(2).map((a) => os[a]!);
  const [lN, lC] = [ls[lhsSpec[0]!]!, ls[lhsSpec[1]!]!];
  const [rO, rI] = [rs[rhsSpec[0]!]!, rs[rhsSpec[1]!]!];
  const [oN, oC] = [os[outSpec[0]!]!, os[outSpec[1]!]!];
  const groups = g.featureGroupCount * g.batchGroupCount;
  const nOut = outShape[outSpec[0]!]!; // batch of the output (per group when batch-grouped)
  const I = rhsShape[rhsSpec[1]!]!; // input features per group
  const Og = rhsShape[rhsSpec[0]!]! / groups; // output features per group
  const nK = sizeOf(K);
  const nP = sizeOf(P);
  const nL = sizeOf(L);
  const out = allocate(dtype, sizeOf(outShape));
  if (out.length === 0 || I === 0 || nK === 0) return out;
  // the kernel's offset for each window tap
  const kOff = offsets(K, rS);
  const Kd = I * nK;
  const groupOffsets = (grp: number): [number, number] =>
    g.batchGroupCount > 1 ? [grp * nOut * lN, 0] : [0, grp * I * lC];

  if (nL < nP) {
    // scatter: Z[(o, k), (n, i)] = W[(o, k), c] · x[c, (n, i)], added at the output position of each tap
    const tab = tapTable(L, K, oS, (d, i, k) => {
      const j = i * g.lhsDilation[d]! + g.padding[d]![0] - k * g.rhsDilation[d]!;
      const s = g.windowStrides[d]!;
      return j >= 0 && j % s === 0 && j / s < P[d]! ? j / s : -1;
    });
    const lOff = offsets(L, lS);
    const M2 = nOut * nL;
    const W = allocateForWrite(dtype, Og * nK * I);
    const X = allocateForWrite(dtype, I * M2);
    const Z = allocateForWrite(dtype, Og * nK * M2);
    for (let grp = 0; grp < groups; grp++) {
      const [nBase, cBase] = groupOffsets(grp);
      const oBase = grp * Og;
      for (let o = 0; o < Og; o++) {
        for (let kf = 0; kf < nK; kf++) {
          const src = (oBase + o) * rO + kOff[kf]!;
          const dst = (o * nK + kf) * I;
          for (let c = 0; c < I; c++) W[dst + c] = rhs[src + c * rI]!;
        }
      }
      for (let c = 0; c < I; c++) {
        for (let n = 0; n < nOut; n++) {
          const src = nBase + n * lN + cBase + c * lC;
          const dst = (c * nOut + n) * nL;
          for (let lf = 0; lf < nL; lf++) X[dst + lf] = lhs[src + lOff[lf]!]!;
        }
      }
      product(W, X, Z, Og * nK, I, M2);
      for (let o = 0; o < Og; o++) {
        for (let kf = 0; kf < nK; kf++) {
          const zRow = (o * nK + kf) * M2;
          const t0 = kf * nL;
          for (let n = 0; n < nOut; n++) {
            const ob = n * oN + (oBase + o) * oC;
            const zb = zRow + n * nL;
            for (let lf = 0; lf < nL; lf++) {
              const t = tab[t0 + lf]!;
              if (t >= 0) out[ob + t]! += Z[zb + lf]!;
            }
          }
        }
      }
    }
    return out;
  }

  // gather: cols[(c, k), (n, p)] from the input, then out[o, (n, p)] = W[o, (c, k)] · cols
  const tab = tapTable(P, K, lS, (d, p, k) => {
    const j = p * g.windowStrides[d]! + k * g.rhsDilation[d]! - g.padding[d]![0];
    const ld = g.lhsDilation[d]!;
    return j >= 0 && j % ld === 0 && j / ld < L[d]! ? j / ld : -1;
  });
  const pOff = offsets(P, oS);
  const contiguousOut = pOff.every((v, i) => v === i);
  const M = nOut * nP;
  const W = allocateForWrite(dtype, Og * Kd);
  const cols = allocateForWrite(dtype, Kd * M);
  const R = allocateForWrite(dtype, Og * M);
  for (let grp = 0; grp < groups; grp++) {
    const [nBase, cBase] = groupOffsets(grp);
    const oBase = grp * Og;
    for (let o = 0; o < Og; o++) {
      const src = (oBase + o) * rO;
      const dst = o * Kd;
      for (let c = 0; c < I; c++) for (let kf = 0; kf < nK; kf++) W[dst + c * nK + kf] = rhs[src + c * rI + kOff[kf]!]!;
    }
    for (let c = 0; c < I; c++) {
      for (let kf = 0; kf < nK; kf++) {
        const row = (c * nK + kf) * M;
        const t0 = kf * nP;
        for (let n = 0; n < nOut; n++) {
          const base = nBase + n * lN + cBase + c * lC;
          const dst = row + n * nP;
          for (let pf = 0; pf < nP; pf++) {
            const t = tab[t0 + pf]!;
            cols[dst + pf] = t < 0 ? 0 : lhs[base + t]!;
          }
        }
      }
    }
    product(W, cols, R, Og, Kd, M);
    for (let o = 0; o < Og; o++) {
      for (let n = 0; n < nOut; n++) {
        const ob = n * oN + (oBase + o) * oC;
        const rb = o * M + n * nP;
        if (contiguousOut) out.set(R.subarray(rb, rb + nP), ob);
        else for (let pf = 0; pf < nP; pf++) out[ob + pOff[pf]!] = R[rb + pf]!;
      }
    }
  }
  return out;
}
