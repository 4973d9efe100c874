/**
 * The CPU kernel of `conv_general_dilated`: a convolution as one matrix product per
 * group on the WebAssembly SIMD matmul (every core). Its im2col matrix is written by a
 * WebAssembly kernel (src/backends/wasm/gather.ts) straight into the packed panels the
 * matmul multiplies, and the col2im step of the scatter form runs in WebAssembly too;
 * JavaScript loops take what those do not (int32 sums, small products, no WebAssembly).
 * Everything derived from the geometry (offset tables, runs, the choice of form) is
 * built once per geometry and kept in a bounded cache, so a training loop that calls
 * the same convolutions every step only packs and multiplies.
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
import { LruCache } from "../../core/lru.js";
import type { ConvGeometry } from "../backend.js";
import { type TapTables, scatterAddRunsWasm, tapPacker, wasmPackAvailable } from "../wasm/gather.js";
import { matmulWasm } from "../wasm/matmul.js";
import { matmulBlocked, matmulInt32 } from "./matmul.js";

/** Below this many multiply-adds a product runs in JavaScript (packing for the SIMD kernel costs more). */
const WASM_MIN_WORK = 32 * 32 * 32;
/** Below this many packed elements the packing stays in JavaScript. */
const WASM_PACK_MIN = 1 << 14;

/** `C[m×n] = A[m×k] · op(B)`, all row-major and contiguous; `op(B)` is `B[k×n]`, or the transpose of `B[n×k]` with `transB`. */
function product(A: TypedArray, B: TypedArray, C: TypedArray, m: number, k: number, n: number, transB = false): void {
  const float = C instanceof Float32Array || C instanceof Float64Array;
  if (float && m * k * n >= WASM_MIN_WORK && matmulWasm(A as Float32Array, B as Float32Array, C as Float32Array, m, k, n, { transB })) return;
  let Bk = B;
  if (transB) {
    Bk = allocateForWrite(dtypeOf(B), k * n);
    for (let j = 0; j < n; j++) for (let p = 0; p < k; p++) Bk[p * n + j] = B[j * k + p]!;
  }
  if (C instanceof Int32Array) matmulInt32(A as Int32Array, 0, Bk as Int32Array, 0, C, 0, m, k, n);
  else matmulBlocked(A, 0, Bk, 0, C, 0, m, k, n);
}

const dtypeOf = (x: TypedArray): DType =>
  x instanceof Float32Array ? "float32" : x instanceof Float64Array ? "float64" : x instanceof Int32Array ? "int32" : "bool";

/**
 * Packs the kernel of one group as `W[o, (c, k)]` (`Og × I·nK`, row-major): runs of
 * `nK` taps are copied as blocks when the taps are contiguous in the kernel's layout.
 */
function packKernel(W: TypedArray, rhs: TypedArray, oBase: number, Og: number, I: number, nK: number, rO: number, rI: number, kOff: Int32Array): void {
  const contiguous = kOff.every((v, i) => v === i);
  for (let o = 0; o < Og; o++) {
    const src = (oBase + o) * rO;
    const dst = o * I * nK;
    for (let c = 0; c < I; c++) {
      const s0 = src + c * rI;
      const d0 = dst + c * nK;
      if (contiguous && nK >= 16) W.set(rhs.subarray(s0, s0 + nK), d0);
      else for (let kf = 0; kf < nK; kf++) W[d0 + kf] = rhs[s0 + kOff[kf]!]!;
    }
  }
}

/**
 * For every combination of window tap (slow) and position (fast) — positions ranging
 * over `extents`, taps over `window` — the offset `Σ_d target_d · strides[d]` of the
 * element the pair reaches, or -1 when it reaches none in some dimension. `reach(d, q, k)`
 * gives dimension `d`'s target index for position `q` and tap `k`, or -1.
 */
export function tapTable(
  extents: readonly number[],
  window: readonly number[],
  strides: readonly number[],
  reach: (d: number, q: number, k: number) => number,
): Int32Array {
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
  return tapTable(
    extents,
    extents.map(() => 1),
    strides,
    (_d, q) => q,
  );
}

/** Scratch buffers kept between calls (packing buffers are rewritten in full each time), by dtype and role. */
const scratch = new Map<string, TypedArray>();
/** Scratch buffers larger than this many bytes are not kept. */
const SCRATCH_KEEP_BYTES = 16 << 20;

/** A buffer of `n` elements of `dtype` for role `slot`, with undefined contents. */
function scratchBuffer(dtype: DType, slot: string, n: number): TypedArray {
  const key = `${dtype}:${slot}`;
  const have = scratch.get(key);
  if (have && have.length >= n) return have.subarray(0, n);
  const buf = allocateForWrite(dtype, n);
  if (buf.byteLength <= SCRATCH_KEEP_BYTES) scratch.set(key, buf);
  return buf;
}

/**
 * For one spatial dimension without dilation of the side being read: for each `q < Q`,
 * the run of `r < R` with `position = q·a + r·b - lo` inside `[0, n)`, as `[start, end,
 * offset of the first (position · stride), step (b · stride)]` — 4 entries per `q`. The
 * innermost packing loops copy such runs with zeros around them, without a lookup per
 * element.
 */
function runs(Q: number, R: number, a: number, b: number, lo: number, n: number, stride: number): Int32Array {
  const out = new Int32Array(4 * Q);
  for (let q = 0; q < Q; q++) {
    // r in [r0, r1): 0 <= q·a + r·b - lo < n
    const c = q * a - lo;
    const r0 = Math.min(R, Math.max(0, Math.ceil(-c / b)));
    const r1 = Math.max(r0, Math.min(R, Math.floor((n - 1 - c) / b) + 1));
    out[4 * q] = r0;
    out[4 * q + 1] = r1;
    out[4 * q + 2] = (c + r0 * b) * stride;
    out[4 * q + 3] = b * stride;
  }
  return out;
}

/** A convolution of one geometry and dtype: its tables built once, run on any operands. */
type ConvPlan = (lhs: TypedArray, rhs: TypedArray) => TypedArray;

/** Plans by geometry (their tables are a few MB at most for the largest layers), least recently used dropped first. */
const plans = new LruCache<string, ConvPlan>(() => PLAN_CACHE_SIZE);
/** How many convolution geometries keep their tables. */
const PLAN_CACHE_SIZE = 64;

const planKey = (dtype: DType, g: ConvGeometry): string =>
  [
    dtype,
    g.lhsShape,
    g.rhsShape,
    g.outShape,
    g.lhsSpec,
    g.rhsSpec,
    g.outSpec,
    g.windowStrides,
    g.padding.map((p) => p.join(":")),
    g.lhsDilation,
    g.rhsDilation,
    g.featureGroupCount,
    g.batchGroupCount,
  ].join("|");

/**
 * The convolution `out = conv(lhs, rhs)` described by `g`, computed into a new buffer of
 * `dtype` (see the module comment). The geometry's tables are cached, so a convolution
 * called again with the same shapes (every step of a training loop) only packs and
 * multiplies.
 */
export function convImpl(lhs: TypedArray, rhs: TypedArray, dtype: DType, g: ConvGeometry): TypedArray {
  const key = planKey(dtype, g);
  let plan = plans.get(key);
  if (!plan) {
    plan = convPlan(dtype, g);
    plans.set(key, plan);
  }
  return plan(lhs, rhs);
}

/** The plan of one geometry: the tables, and the closure that runs it. */
function convPlan(dtype: DType, g: ConvGeometry): ConvPlan {
  const { lhsShape, rhsShape, outShape, lhsSpec, rhsSpec, outSpec } = g;
  const ls = stridesOf(lhsShape);
  const rs = stridesOf(rhsShape);
  const os = stridesOf(outShape);
  // spatial geometry; a convolution without spatial dimensions gets one of size 1
  const virtual = lhsSpec.length === 2;
  const sp = (spec: readonly number[], shape: readonly number[]) => (virtual ? [1] : spec.slice(2).map((a) => shape[a]!));
  const L = sp(lhsSpec, lhsShape);
  const K = sp(rhsSpec, rhsShape);
  const P = sp(outSpec, outShape);
  const lS = sp(lhsSpec, ls);
  const rS = sp(rhsSpec, rs);
  const oS = sp(outSpec, os);
  const str = virtual ? [1] : g.windowStrides;
  const lo = virtual ? [0] : g.padding.map((p) => p[0]);
  const ld = virtual ? [1] : g.lhsDilation;
  const rd = virtual ? [1] : g.rhsDilation;
  const ns = L.length;
  const last = ns - 1;
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
  const KL = K[last]!;
  const PL = P[last]!;
  const LL = L[last]!;
  const nKo = nK / KL;
  const nPo = nP / PL;
  const nLo = nL / LL;
  const outer = (xs: readonly number[]) => xs.slice(0, last);
  const size = sizeOf(outShape);
  if (size === 0 || I === 0 || nK === 0) return () => allocate(dtype, size);
  const kOff = offsets(K, rS);
  const Kd = I * nK;
  /** The element offsets of group `grp` in the lhs (a batch group or a feature group). */
  const groupBase = (grp: number): number => (g.batchGroupCount > 1 ? grp * nOut * lN : grp * I * lC);
  const float = dtype === "float32" || dtype === "float64";

  if (nL < nP) {
    // scatter: Z[(o, k), (n, i)] = W[(o, k), c] · x[c, (n, i)], added at the output position of each tap
    const oTab = tapTable(outer(L), outer(K), outer(oS), (d, i, k) => {
      const j = i * ld[d]! + lo[d]! - k * rd[d]!;
      return j >= 0 && j % str[d]! === 0 && j / str[d]! < P[d]! ? j / str[d]! : -1;
    });
    // the last dimension: i -> p = (i·ld + lo - k·rd) / s; an arithmetic run when s = 1
    const lastRuns = str[last] === 1 ? runs(KL, LL, -rd[last]!, ld[last]!, -lo[last]!, PL, oS[last]!) : null;
    const lastTab = lastRuns
      ? null
      : tapTable([LL], [KL], [oS[last]!], (_d, i, k) => {
          const j = i * ld[last]! + lo[last]! - k * rd[last]!;
          return j >= 0 && j % str[last]! === 0 && j / str[last]! < PL ? j / str[last]! : -1;
        });
    const lOff = offsets(L, lS);
    const lContig = lOff.every((v, i) => v === i);
    const M2 = nOut * nL;
    const rows = Og * nK;
    const segs = nOut * nLo;
    const useWasm = lastRuns !== null && float && rows * M2 >= WASM_PACK_MIN;
    // rows (o, k), segments (n, i_outer): output offsets of group 0's runs (a group's output starts at oBase·oC)
    let scatterTabs: [Int32Array, Int32Array] | null = null;
    const scatterTables = (): [Int32Array, Int32Array] => {
      if (scatterTabs) return scatterTabs;
      const segOff = new Int32Array(rows * segs);
      const rr = new Int32Array(4 * rows);
      for (let row = 0; row < rows; row++) {
        const o = Math.floor(row / nK);
        const kl = row % KL;
        const ko = Math.floor(row / KL) % nKo;
        for (let j = 0; j < 4; j++) rr[4 * row + j] = lastRuns![4 * kl + j]!;
        for (let n = 0; n < nOut; n++) {
          const ob = n * oN + o * oC;
          for (let io = 0; io < nLo; io++) {
            const t = oTab[ko * nLo + io]!;
            segOff[row * segs + n * nLo + io] = t < 0 ? -1 : ob + t;
          }
        }
      }
      scatterTabs = [segOff, rr];
      return scatterTabs;
    };
    return (lhs, rhs) => {
      const out = allocate(dtype, size);
      const W = scratchBuffer(dtype, "w", Og * nK * I);
      const X = scratchBuffer(dtype, "x", I * M2);
      const Z = scratchBuffer(dtype, "z", Og * nK * M2);
      for (let grp = 0; grp < groups; grp++) {
        const lBase = groupBase(grp);
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
            const src = lBase + n * lN + c * lC;
            const dst = (c * nOut + n) * nL;
            if (lContig) X.set(lhs.subarray(src, src + nL), dst);
            else for (let lf = 0; lf < nL; lf++) X[dst + lf] = lhs[src + lOff[lf]!]!;
          }
        }
        product(W, X, Z, Og * nK, I, M2);
        if (useWasm) {
          const [segOff, rr] = scatterTables();
          // the rows of one output feature write only its part of the output: blocks of nK rows
          if (scatterAddRunsWasm(Z as Float32Array, (out as Float32Array).subarray(oBase * oC), segOff, rr, rows, segs, LL, nK)) continue;
        }
        for (let o = 0; o < Og; o++) {
          for (let ko = 0; ko < nKo; ko++) {
            for (let kl = 0; kl < KL; kl++) {
              const zRow = ((o * nKo + ko) * KL + kl) * M2;
              for (let n = 0; n < nOut; n++) {
                const ob = n * oN + (oBase + o) * oC;
                for (let io = 0; io < nLo; io++) {
                  const t = oTab[ko * nLo + io]!;
                  if (t < 0) continue;
                  const zb = zRow + (n * nLo + io) * LL;
                  if (lastRuns) {
                    const i0 = lastRuns[4 * kl]!;
                    const i1 = lastRuns[4 * kl + 1]!;
                    const step = lastRuns[4 * kl + 3]!;
                    let d = ob + t + lastRuns[4 * kl + 2]!;
                    for (let i = i0; i < i1; i++, d += step) out[d]! += Z[zb + i]!;
                  } else {
                    const t0 = kl * LL;
                    for (let i = 0; i < LL; i++) {
                      const u = lastTab![t0 + i]!;
                      if (u >= 0) out[ob + t + u]! += Z[zb + i]!;
                    }
                  }
                }
              }
            }
          }
        }
      }
      return out;
    };
  }

  // gather: the matrix of what each output position sees at each tap, times the kernel
  const oTab = tapTable(outer(P), outer(K), outer(lS), (d, p, k) => {
    const j = p * str[d]! + k * rd[d]! - lo[d]!;
    return j >= 0 && j % ld[d]! === 0 && j / ld[d]! < L[d]! ? j / ld[d]! : -1;
  });
  const pOff = offsets(P, oS);
  const contiguousOut = pOff.every((v, i) => v === i);
  const M = nOut * nP;
  // the innermost loop runs along the longer of the last dimension's positions and taps
  const byTaps = KL > PL;
  const dl = ld[last]!;
  const lastRuns =
    dl !== 1 ? null : byTaps ? runs(PL, KL, str[last]!, rd[last]!, lo[last]!, LL, lS[last]!) : runs(KL, PL, rd[last]!, str[last]!, lo[last]!, LL, lS[last]!);
  // with input dilation in the last dimension: a table [k * PL + p] of offsets, -1 off the input
  const lastTab = lastRuns
    ? null
    : tapTable([PL], [KL], [lS[last]!], (_d, p, k) => {
        const j = p * str[last]! + k * rd[last]! - lo[last]!;
        return j >= 0 && j % dl === 0 && j / dl < LL ? j / dl : -1;
      });
  // In WebAssembly the im2col matrix is written straight into the product's packed
  // panels (src/backends/wasm/gather.ts): its M output positions are the panel
  // dimension, its I·nK (feature, tap) pairs the depth. As the B operand,
  // out[o, (n, p)] = W[o, (c, k)] · cols; as A, out[(n, p), o] = cols · W[o, (c, k)]ᵀ.
  const useWasm = float && Og * Kd * M >= WASM_MIN_WORK && wasmPackAvailable();
  // (as B unless the output positions are fewer than the features: the longer side gets the panels)
  const colsAsA = M < Og;
  const tapTables = new Map<number, TapTables>();
  const lhsBytes = dtype === "float64" ? 8 : 4;
  /** The offsets (from the group's feature 0) each tap reads for each output position, in panels of `width`. */
  const tablesFor = (width: number): TapTables => {
    let t = tapTables.get(width);
    if (t) return t;
    const one = tapTable(P, K, lS, (d, p, k) => {
      const j = p * str[d]! + k * rd[d]! - lo[d]!;
      return j >= 0 && j % ld[d]! === 0 && j / ld[d]! < L[d]! ? j / ld[d]! : -1;
    });
    const nPanels = Math.ceil(M / width);
    const Mpad = nPanels * width;
    const tab = new Int32Array(nK * Mpad).fill(-1);
    const flags = new Int32Array(nK * nPanels);
    for (let kf = 0; kf < nK; kf++) {
      const row = kf * Mpad;
      for (let n = 0; n < nOut; n++) {
        for (let pf = 0; pf < nP; pf++) {
          const v = one[kf * nP + pf]!;
          tab[row + n * nP + pf] = v < 0 ? -1 : n * lN + v;
        }
      }
      // bit v: the v-th vector (16 bytes) of the panel's row reads consecutive elements
      const per = 16 / lhsBytes;
      for (let j = 0; j < nPanels; j++) {
        let bits = 0;
        for (let v = 0; v < Math.floor(width / per); v++) {
          const at = row + j * width + v * per;
          const t0 = tab[at]!;
          let run = t0 >= 0;
          for (let w = 1; w < per && run; w++) run = tab[at + w] === t0 + w;
          if (run) bits |= 1 << v;
        }
        flags[kf * nPanels + j] = bits;
      }
    }
    t = { tab, flags };
    tapTables.set(width, t);
    return t;
  };

  return (lhs, rhs) => {
    const out = allocateForWrite(dtype, size);
    const W = scratchBuffer(dtype, "w", Og * Kd);
    const R = scratchBuffer(dtype, "r", Og * M);
    for (let grp = 0; grp < groups; grp++) {
      const lBase = groupBase(grp);
      const oBase = grp * Og;
      packKernel(W, rhs, oBase, Og, I, nK, rO, rI, kOff);
      let done = false;
      if (useWasm) {
        const cols = tapPacker(lhs.subarray(lBase) as Float32Array, I, nK, lC, M, tablesFor);
        done = colsAsA
          ? matmulWasm(cols, W as Float32Array, R as Float32Array, M, Kd, Og, { transB: true })
          : matmulWasm(W as Float32Array, cols, R as Float32Array, Og, Kd, M);
      }
      const byRows = done ? colsAsA : byTaps;
      if (!done) {
        const cols = scratchBuffer(dtype, "cols", Kd * M);
        packJs(lhs, cols, lBase);
        if (byTaps) product(cols, W, R, M, Kd, Og, true);
        else product(W, cols, R, Og, Kd, M);
      }
      if (!byRows) {
        for (let o = 0; o < Og; o++) {
          for (let n = 0; n < nOut; n++) {
            const ob = n * oN + (oBase + o) * oC;
            const rb = o * M + n * nP;
            if (contiguousOut) out.set(R.subarray(rb, rb + nP), ob);
            else for (let pf = 0; pf < nP; pf++) out[ob + pOff[pf]!] = R[rb + pf]!;
          }
        }
      } else {
        for (let n = 0; n < nOut; n++) {
          for (let pf = 0; pf < nP; pf++) {
            const rb = (n * nP + pf) * Og;
            const ob = n * oN + oBase * oC + pOff[pf]!;
            for (let o = 0; o < Og; o++) out[ob + o * oC] = R[rb + o]!;
          }
        }
      }
    }
    return out;
  };

  /** Packs the matrix in JavaScript, for the group whose lhs starts at `lBase`. */
  function packJs(lhs: TypedArray, cols: TypedArray, lBase: number): void {
    /** Writes `Q` values of one run of the innermost loop at `d`: the elements of run `q` of the last dimension (zeros outside). */
    const fillRun = (d: number, src: number, q: number, Q: number): void => {
      if (lastRuns) {
        const r0 = lastRuns[4 * q]!;
        const r1 = lastRuns[4 * q + 1]!;
        const step = lastRuns[4 * q + 3]!;
        let s = src + lastRuns[4 * q + 2]!;
        for (let r = 0; r < r0; r++) cols[d + r] = 0;
        for (let r = r0; r < r1; r++, s += step) cols[d + r] = lhs[s]!;
        for (let r = r1; r < Q; r++) cols[d + r] = 0;
      } else {
        // by taps: q a position, r a tap; else q a tap, r a position
        const [t0, step] = byTaps ? [q, PL] : [q * PL, 1];
        for (let r = 0; r < Q; r++) {
          const u = lastTab![t0 + r * step]!;
          cols[d + r] = u < 0 ? 0 : lhs[src + u]!;
        }
      }
    };
    if (!byTaps) {
      for (let c = 0; c < I; c++) {
        for (let ko = 0; ko < nKo; ko++) {
          for (let kl = 0; kl < KL; kl++) {
            const row = ((c * nKo + ko) * KL + kl) * M;
            for (let n = 0; n < nOut; n++) {
              const base = lBase + n * lN + c * lC;
              for (let po = 0; po < nPo; po++) {
                const d = row + (n * nPo + po) * PL;
                const t = oTab[ko * nPo + po]!;
                if (t < 0) for (let r = 0; r < PL; r++) cols[d + r] = 0;
                else fillRun(d, base + t, kl, PL);
              }
            }
          }
        }
      }
    } else {
      for (let n = 0; n < nOut; n++) {
        for (let po = 0; po < nPo; po++) {
          for (let pl = 0; pl < PL; pl++) {
            const row = ((n * nPo + po) * PL + pl) * Kd;
            for (let c = 0; c < I; c++) {
              const base = lBase + n * lN + c * lC;
              for (let ko = 0; ko < nKo; ko++) {
                const d = row + (c * nKo + ko) * KL;
                const t = oTab[ko * nPo + po]!;
                if (t < 0) for (let r = 0; r < KL; r++) cols[d + r] = 0;
                else fillRun(d, base + t, pl, KL);
              }
            }
          }
        }
      }
    }
  }
}
