/**
 * Matrix-vector products in WebAssembly SIMD, with one to four vectors at a time: the
 * narrow cases of {@link matmulWasm} (`m` or `n` at most 4), which the panel-packed
 * matrix kernel would run at a fraction of its speed (a narrow panel pads to a full
 * register tile, and packing copies the whole matrix for a product that reads it once).
 * With `K` vectors the matrix is still read once, so `A·[x v]` costs about as much as
 * `A·x`. Both kernels read the matrix in its stored layout, so the four layouts of
 * `op(A) · op(B)` map onto two kernels:
 *
 * - **rows**: `y_c[i] = Σ_p M[i, p] · v_c[p]` — each output is a dot product of a
 *   contiguous row with a vector (two vector accumulators per output, a scalar tail);
 * - **columns**: `y_c[j] = Σ_p v_c[p] · M[p, j]` — each output is a weighted sum of a
 *   column; a block of columns keeps its sums for all `K` vectors in registers while the
 *   rows stream past. A large matrix goes in panels of a few rows, the sums carried in
 *   the output from one panel to the next, so that the matrix is read a few rows at a
 *   time, each row left to right: a walk down whole columns (one row stride per step)
 *   defeats the hardware prefetcher, and ran at half the row kernel's speed.
 *
 * Chunks are blocks of outputs, run by {@link parallelFor}; each output is summed in
 * the same order whatever the chunking and whatever `K`, so results depend neither on
 * the thread count nor on which other vectors share the call.
 * @module
 */
import { F32, F64, FuncBuilder, I32, OP, SIMD, SIMD_OPS, V128 } from "./emit.js";
import { type WasmModule, loadModule, parallelFor, reserveHeap, threadCount, wasmAvailable, wasmMemory } from "./runtime.js";

interface Variant {
  esz: number;
  lanes: number;
  scalar: typeof F32 | typeof F64;
  load: number;
  store: number;
  align: number;
  add: number;
  mul: number;
  splat: number;
  extract: number;
  scalarAdd: number;
  scalarMul: number;
}
const F32V: Variant = {
  esz: 4,
  lanes: 4,
  scalar: F32,
  load: OP.f32Load,
  store: OP.f32Store,
  align: 2,
  add: SIMD.f32x4Add,
  mul: SIMD.f32x4Mul,
  splat: SIMD_OPS.load32Splat,
  extract: SIMD_OPS.f32x4ExtractLane,
  scalarAdd: 0x92,
  scalarMul: 0x94,
};
const F64V: Variant = {
  esz: 8,
  lanes: 2,
  scalar: F64,
  load: OP.f64Load,
  store: OP.f64Store,
  align: 3,
  add: SIMD.f64x2Add,
  mul: SIMD.f64x2Mul,
  splat: SIMD_OPS.load64Splat,
  extract: SIMD_OPS.f64x2ExtractLane,
  scalarAdd: 0xa0,
  scalarMul: 0xa2,
};

/** Most vectors one call of the kernels takes. */
export const MAX_VECTORS = 4;

/**
 * Columns (in v128 vectors) whose sums the column kernel keeps in registers, per number
 * of vectors `K`: a block needs `K·CB` accumulators, `CB` loads of the matrix and `K`
 * splats, which must fit V8's 15 allocatable xmm registers on x64 to run without spills.
 * Measured on 1000 × 1000 (float32 and float64, Zen 4): 4 for one or two vectors, 2 for
 * three or four (3 × 3 and 4 × 3 blocks spill and run 1.6x slower).
 */
const COL_BLOCK: readonly number[] = [0, 4, 4, 2, 2];

/**
 * Smallest matrix (bytes) the column kernel runs in panels, per number of vectors `K`.
 * Below, the matrix sits in cache and the walk down whole columns, with no sums to
 * carry, ran as fast or faster; four vectors (the biggest register blocks, the most sums
 * to carry) gained from panels only from 8 MiB on, and lost up to 10 % below.
 */
const COL_PANEL_MIN_BYTES: readonly number[] = [0, 768 << 10, 768 << 10, 1 << 20, 8 << 20];

/**
 * Rows per panel of the column kernel for a `len × outs` matrix (`esz`-byte elements)
 * times `K` vectors: `len` (one panel, a walk down whole columns) or a few rows. In a
 * panel, a block of columns walks down the panel's rows, then the next block (the same
 * rows, the next columns), so the prefetcher sees a few rows each read left to right.
 * Measured on Zen 4 (1 MiB L2, 32 MiB L3), float32 and float64, one to four vectors:
 * - 8 rows ran 1.3x to 1.9x faster than whole columns from 2000 × 2000 to 3000 × 3000
 *   (copy into Wasm memory included); 12 rows about as fast, 16 and more slower (too
 *   many streams at once);
 * - with three or four vectors, whose blocks are half a cache line wide, the panel's
 *   lines must stay in L1 until their second half is read: rows a multiple of 4 KiB
 *   apart fall in one 8-way set, and 8 of them ran 1.3x slower than whole columns
 *   (1024 × 1024 float32), 4 of them as fast or faster (from 2 MiB; below, up to 5 % slower);
 * - with short rows whole columns have a short, constant stride that the prefetcher
 *   follows: from three vectors on, panels won down to rows of 512 bytes; for one or two,
 *   from rows of 2 KiB while the matrix fits in the last-level cache, but out of it
 *   (20000 rows of 1 to 3.2 KiB) whole columns ran up to 1.4x faster, up to rows of 4 KiB.
 */
function columnPanel(K: number, len: number, outs: number, esz: number): number {
  const row = outs * esz;
  const bytes = len * row;
  if (bytes < COL_PANEL_MIN_BYTES[K]!) return len;
  if (K >= 3) return row < 512 ? len : row % 4096 !== 0 ? 8 : bytes >= 2 << 20 ? 4 : len;
  return row >= (bytes > 16 << 20 ? 4096 : 2048) ? 8 : len;
}

/**
 * Vectors the row kernel multiplies in one pass over a row, per number of vectors `K`
 * (the row is read from memory once; later passes find it in L1). Four vectors in one
 * pass need 8 accumulators and their loads and spill: two passes of two run 1.5x faster.
 */
const ROW_GROUP: readonly number[] = [0, 1, 2, 3, 2];

/**
 * `rows_K(chunk, M, v, y, rows, len, ldBytes, perChunk, yStepBytes, yVecBytes)`:
 * `y_c[i] = Σ_p M[i·ld + p] v_c[p]` for the rows `[chunk·perChunk, …)` and the `K`
 * vectors `c`, in passes over the row of `G` vectors each. The vectors are interleaved
 * by v128 block: elements `[b·lanes, (b+1)·lanes)` of vector `c` lie at byte
 * `(b·K + c)·16` of `v`. `y_c[i]` is stored at byte `i·yStep + c·yVec` of `y`. Each
 * output keeps two vector accumulators (even and odd blocks) and a scalar tail: the
 * same sum for every `K` and `G`.
 */
function rowsKernel(t: Variant, K: number, G: number): FuncBuilder {
  const f = new FuncBuilder([I32, I32, I32, I32, I32, I32, I32, I32, I32, I32]);
  const [chunk, M, v, y, rows, len, ld, per, yStep, yVec] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const i = f.local(I32),
    i1 = f.local(I32),
    row = f.local(I32),
    pm = f.local(I32),
    pv = f.local(I32),
    end2 = f.local(I32),
    end1 = f.local(I32),
    endS = f.local(I32),
    py = f.local(I32);
  const a0 = Array.from({ length: G }, () => f.local(V128));
  const a1 = Array.from({ length: G }, () => f.local(V128));
  const m0 = f.local(V128),
    m1 = f.local(V128);
  const s = Array.from({ length: K }, () => f.local(t.scalar));
  const ms = f.local(t.scalar);
  const vb = t.lanes * t.esz; // bytes per vector
  f.get(chunk).get(per).op(OP.i32Mul).set(i);
  f.get(i).get(per).op(OP.i32Add).set(i1);
  f.get(i1).get(rows).get(i1).get(rows).op(OP.i32LtU, OP.select).set(i1);
  f.whileLoop(
    () => f.get(i).get(i1).op(OP.i32GeU),
    () => {
      f.get(M).get(i).get(ld).op(OP.i32Mul).op(OP.i32Add).set(row);
      // ends (as byte addresses in the row) of the 2-vector, 1-vector and scalar parts
      f.get(row)
        .get(len)
        .i32(2 * t.lanes)
        .op(OP.i32DivU)
        .i32(2 * vb)
        .op(OP.i32Mul)
        .op(OP.i32Add)
        .set(end2);
      f.get(row).get(len).i32(t.lanes).op(OP.i32DivU).i32(vb).op(OP.i32Mul).op(OP.i32Add).set(end1);
      f.get(row).get(len).i32(t.esz).op(OP.i32Mul).op(OP.i32Add).set(endS);
      // the vectors in groups of G, one pass over the row each (later passes find it in cache)
      for (let g0 = 0; g0 < K; g0 += G) {
        const cs = Array.from({ length: Math.min(G, K - g0) }, (_, q) => g0 + q);
        f.get(row).set(pm);
        f.get(v).set(pv);
        for (let q = 0; q < cs.length; q++) {
          f.v128(new Array(16).fill(0)).set(a0[q]!);
          f.v128(new Array(16).fill(0)).set(a1[q]!);
        }
        f.whileLoop(
          () => f.get(pm).get(end2).op(OP.i32GeU),
          () => {
            f.get(pm).simd(SIMD.v128Load, { align: 0, offset: 0 }).set(m0);
            f.get(pm).simd(SIMD.v128Load, { align: 0, offset: vb }).set(m1);
            cs.forEach((c, q) => {
              f.get(a0[q]!)
                .get(m0)
                .get(pv)
                .simd(SIMD.v128Load, { align: 0, offset: c * vb })
                .simd(t.mul)
                .simd(t.add)
                .set(a0[q]!);
              f.get(a1[q]!)
                .get(m1)
                .get(pv)
                .simd(SIMD.v128Load, { align: 0, offset: (K + c) * vb })
                .simd(t.mul)
                .simd(t.add)
                .set(a1[q]!);
            });
            f.get(pm)
              .i32(2 * vb)
              .op(OP.i32Add)
              .set(pm);
            f.get(pv)
              .i32(2 * K * vb)
              .op(OP.i32Add)
              .set(pv);
          },
        );
        f.whileLoop(
          () => f.get(pm).get(end1).op(OP.i32GeU),
          () => {
            f.get(pm).simd(SIMD.v128Load, { align: 0, offset: 0 }).set(m0);
            cs.forEach((c, q) =>
              f
                .get(a0[q]!)
                .get(m0)
                .get(pv)
                .simd(SIMD.v128Load, { align: 0, offset: c * vb })
                .simd(t.mul)
                .simd(t.add)
                .set(a0[q]!),
            );
            f.get(pm).i32(vb).op(OP.i32Add).set(pm);
            f.get(pv)
              .i32(K * vb)
              .op(OP.i32Add)
              .set(pv);
          },
        );
        // horizontal sums of a0 + a1, lane by lane
        cs.forEach((c, q) => {
          f.get(a0[q]!).get(a1[q]!).simd(t.add).set(a0[q]!);
          f.get(a0[q]!).lane(t.extract, 0);
          for (let l = 1; l < t.lanes; l++) f.get(a0[q]!).lane(t.extract, l).op(t.scalarAdd);
          f.set(s[c]!);
        });
        // the scalar tail lies in one block: vector c's elements at pv + c·16
        f.whileLoop(
          () => f.get(pm).get(endS).op(OP.i32GeU),
          () => {
            f.get(pm).mem(t.load, t.align, 0).set(ms);
            for (const c of cs)
              f.get(s[c]!)
                .get(ms)
                .get(pv)
                .mem(t.load, t.align, c * vb)
                .op(t.scalarMul)
                .op(t.scalarAdd)
                .set(s[c]!);
            f.get(pm).i32(t.esz).op(OP.i32Add).set(pm);
            f.get(pv).i32(t.esz).op(OP.i32Add).set(pv);
          },
        );
      }
      f.get(y).get(i).get(yStep).op(OP.i32Mul).op(OP.i32Add).set(py);
      for (let c = 0; c < K; c++) {
        f.get(py).get(s[c]!).mem(t.store, t.align, 0);
        if (c < K - 1) f.get(py).get(yVec).op(OP.i32Add).set(py);
      }
      f.get(i).i32(1).op(OP.i32Add).set(i);
    },
  );
  return f;
}

/**
 * `cols_K(chunk, M, v, y, rows, width, ldBytes, perChunk, yVecBytes, panel)`:
 * `y_c[j] = Σ_p v_c[p] M[p·ld + j]` for the columns `[chunk·perChunk, …)` (`perChunk` a
 * multiple of the register block) and the `K` vectors `c`, interleaved by element
 * (`v_c[p]` at byte `(p·K + c)·esz` of `v`); `y_c` starts at byte `c·yVec` of `y`.
 * The rows go in panels of `panel` rows (`rows` or more: one panel, whole columns; see
 * {@link columnPanel}): in each, whole blocks of `CB` v128 columns take their `K·CB`
 * sums into registers (zero in the first panel, else the sums the last panel stored),
 * add the panel's rows one at a time and store the sums; after the last whole block,
 * single v128 columns, then column by column. Every output is summed over `p` in order
 * from zero — a multiply, then an add, per row — whatever the panel, the block and the
 * chunk.
 */
function colsKernel(t: Variant, K: number, CB: number): FuncBuilder {
  const f = new FuncBuilder([I32, I32, I32, I32, I32, I32, I32, I32, I32, I32]);
  const [chunk, M, v, y, rows, width, ld, per, yVec, panel] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const j = f.local(I32),
    j0 = f.local(I32),
    j1 = f.local(I32),
    jEnd = f.local(I32),
    pm = f.local(I32),
    pv = f.local(I32),
    vEnd = f.local(I32),
    py = f.local(I32);
  const mp = f.local(I32),
    vp = f.local(I32),
    vpEnd = f.local(I32); // the panel: its first row, its vector elements
  const acc = Array.from({ length: K }, () => Array.from({ length: CB }, () => f.local(V128)));
  const mv = Array.from({ length: CB }, () => f.local(V128));
  const sv = Array.from({ length: K }, () => f.local(V128));
  const s = Array.from({ length: K }, () => f.local(t.scalar));
  const ms = f.local(t.scalar);
  const vb = t.lanes * t.esz;
  f.get(chunk).get(per).op(OP.i32Mul).set(j0);
  f.get(j0).get(per).op(OP.i32Add).set(j1);
  f.get(j1).get(width).get(j1).get(width).op(OP.i32LtU, OP.select).set(j1);
  f.get(v)
    .get(rows)
    .i32(K * t.esz)
    .op(OP.i32Mul)
    .op(OP.i32Add)
    .set(vEnd);
  /** `py` = the sums of column `j`, vector 0; `next()` moves it to the next vector's. */
  const sumsOf = (): void => void f.get(y).get(j).i32(t.esz).op(OP.i32Mul).op(OP.i32Add).set(py);
  const next = (c: number): void => {
    if (c < K - 1) f.get(py).get(yVec).op(OP.i32Add).set(py);
  };
  f.get(M).set(mp);
  f.get(v).set(vp);
  f.whileLoop(
    () => f.get(vp).get(vEnd).op(OP.i32GeU),
    () => {
      // vpEnd = min(vp + panel·K·esz, vEnd), without overflow for a huge panel
      f.get(vEnd)
        .get(vp)
        .op(OP.i32Sub)
        .i32(K * t.esz)
        .op(OP.i32DivU)
        .get(panel)
        .op(OP.i32LeU);
      f.ifThen(
        () => f.get(vEnd).set(vpEnd),
        () =>
          f
            .get(vp)
            .get(panel)
            .i32(K * t.esz)
            .op(OP.i32Mul)
            .op(OP.i32Add)
            .set(vpEnd),
      );
      f.get(j0).set(j);
      /** Columns `[j, jEnd)` in steps of `nv` v128 vectors: `nv·lanes` columns per pass over the panel's rows. */
      const vectorPasses = (nv: number): void => {
        const B = nv * t.lanes;
        // jEnd = j + floor((j1 - j) / B) * B
        f.get(j).get(j1).get(j).op(OP.i32Sub).i32(B).op(OP.i32DivU).i32(B).op(OP.i32Mul).op(OP.i32Add).set(jEnd);
        f.whileLoop(
          () => f.get(j).get(jEnd).op(OP.i32GeU),
          () => {
            // the sums so far: zero in the first panel, else the last panel's
            f.get(vp).get(v).op(OP.i32Eq);
            f.ifThen(
              () => {
                for (let c = 0; c < K; c++) for (let q = 0; q < nv; q++) f.v128(new Array(16).fill(0)).set(acc[c]![q]!);
              },
              () => {
                sumsOf();
                for (let c = 0; c < K; c++) {
                  for (let q = 0; q < nv; q++)
                    f.get(py)
                      .simd(SIMD.v128Load, { align: 0, offset: q * vb })
                      .set(acc[c]![q]!);
                  next(c);
                }
              },
            );
            f.get(mp).get(j).i32(t.esz).op(OP.i32Mul).op(OP.i32Add).set(pm);
            f.get(vp).set(pv);
            f.whileLoop(
              () => f.get(pv).get(vpEnd).op(OP.i32GeU),
              () => {
                for (let q = 0; q < nv; q++)
                  f.get(pm)
                    .simd(SIMD.v128Load, { align: 0, offset: q * vb })
                    .set(mv[q]!);
                for (let c = 0; c < K; c++) {
                  f.get(pv)
                    .simd(t.splat, { align: t.align, offset: c * t.esz })
                    .set(sv[c]!);
                  for (let q = 0; q < nv; q++) f.get(acc[c]![q]!).get(mv[q]!).get(sv[c]!).simd(t.mul).simd(t.add).set(acc[c]![q]!);
                }
                f.get(pm).get(ld).op(OP.i32Add).set(pm);
                f.get(pv)
                  .i32(K * t.esz)
                  .op(OP.i32Add)
                  .set(pv);
              },
            );
            sumsOf();
            for (let c = 0; c < K; c++) {
              for (let q = 0; q < nv; q++)
                f.get(py)
                  .get(acc[c]![q]!)
                  .simd(SIMD.v128Store, { align: 0, offset: q * vb });
              next(c);
            }
            f.get(j).i32(B).op(OP.i32Add).set(j);
          },
        );
      };
      vectorPasses(CB);
      if (CB > 1) vectorPasses(1);
      // the last columns, fewer than a vector, one at a time
      f.whileLoop(
        () => f.get(j).get(j1).op(OP.i32GeU),
        () => {
          f.get(vp).get(v).op(OP.i32Eq);
          f.ifThen(
            () => {
              for (let c = 0; c < K; c++) (t.scalar === F32 ? f.f32(0) : f.f64(0)).set(s[c]!);
            },
            () => {
              sumsOf();
              for (let c = 0; c < K; c++) {
                f.get(py).mem(t.load, t.align, 0).set(s[c]!);
                next(c);
              }
            },
          );
          f.get(mp).get(j).i32(t.esz).op(OP.i32Mul).op(OP.i32Add).set(pm);
          f.get(vp).set(pv);
          f.whileLoop(
            () => f.get(pv).get(vpEnd).op(OP.i32GeU),
            () => {
              f.get(pm).mem(t.load, t.align, 0).set(ms);
              for (let c = 0; c < K; c++)
                f.get(s[c]!)
                  .get(pv)
                  .mem(t.load, t.align, c * t.esz)
                  .get(ms)
                  .op(t.scalarMul)
                  .op(t.scalarAdd)
                  .set(s[c]!);
              f.get(pm).get(ld).op(OP.i32Add).set(pm);
              f.get(pv)
                .i32(K * t.esz)
                .op(OP.i32Add)
                .set(pv);
            },
          );
          sumsOf();
          for (let c = 0; c < K; c++) {
            f.get(py).get(s[c]!).mem(t.store, t.align, 0);
            next(c);
          }
          f.get(j).i32(1).op(OP.i32Add).set(j);
        },
      );
      // the next panel
      f.get(vpEnd)
        .get(vp)
        .op(OP.i32Sub)
        .i32(K * t.esz)
        .op(OP.i32DivU)
        .get(ld)
        .op(OP.i32Mul)
        .get(mp)
        .op(OP.i32Add)
        .set(mp);
      f.get(vpEnd).set(vp);
    },
  );
  return f;
}

let gemvModule: WasmModule | null | undefined;

function getModule(): WasmModule | null {
  if (gemvModule !== undefined) return gemvModule;
  try {
    const funcs = [];
    for (const [tag, t] of [
      ["32", F32V],
      ["64", F64V],
    ] as const) {
      for (let K = 1; K <= MAX_VECTORS; K++) {
        funcs.push({ name: `rows${tag}_${K}`, fn: rowsKernel(t, K, ROW_GROUP[K]!) });
        funcs.push({ name: `cols${tag}_${K}`, fn: colsKernel(t, K, COL_BLOCK[K]!) });
      }
    }
    gemvModule = wasmAvailable() ? loadModule(funcs) : null;
  } catch {
    gemvModule = null;
  }
  return gemvModule;
}

/**
 * Below this many multiply-adds a product runs on the calling thread alone. A
 * matrix-vector product reads each matrix element once, so it is bound by memory — and
 * by the copy of the matrix into the Wasm memory, which the calling thread makes
 * alone: measured on 2 cores, a second thread gained nothing from 500x500 to 3000x3000
 * and cost the wake-up of the worker.
 */
let parallelMinWork = 1 << 24;

/** Sets the work below which products stay on the calling thread (tests lower it to split small products); returns the previous value. @internal */
export function setGemvParallelMinWork(work: number): number {
  const prev = parallelMinWork;
  parallelMinWork = work;
  return prev;
}

/**
 * Rows per panel of the column kernel: 0 picks by size; tests force panels on small
 * matrices (as many rows as the matrix or more: one panel, whole columns).
 */
let colPanelRows = 0;

/** Sets the column kernel's rows per panel, 0 to pick by size; returns the previous value. @internal */
export function setGemvColumnPanel(rows: number): number {
  const prev = colPanelRows;
  colPanelRows = rows;
  return prev;
}

const align64 = (n: number): number => (n + 63) & ~63;

type Buf = Float32Array | Float64Array;

/** Shape and layouts of a {@link gemvWasm} product. */
export interface GemvLayout {
  /** Outputs per vector: the rows of `M` (`byRows`) or its columns. */
  outs: number;
  /** Length of each vector: the columns of `M` (`byRows`) or its rows. */
  len: number;
  /** `M` is `outs × len` row-major and each output a row·vector dot product; otherwise `M` is `len × outs`. */
  byRows: boolean;
  /** Number of vectors, 1 to {@link MAX_VECTORS}. */
  K: number;
  /** Distance in `V` between vectors: element `p` of vector `c` is `V[c·vecStride + p·elemStride]`. */
  vecStride: number;
  /** Distance in `V` between consecutive elements of a vector. */
  elemStride: number;
  /** Distance in `Y` between the outputs of two vectors: output `i` of vector `c` goes to `Y[c·outVec + i·outStep]`. */
  outVec: number;
  /** Distance in `Y` between consecutive outputs of a vector. */
  outStep: number;
}

/**
 * `K` matrix-vector products with one matrix, reading the matrix once: for each vector
 * `v_c` (`c < K`, taken from `V` with the strides in `layout`), `y_c = M · v_c`
 * (`byRows`) or `y_c = v_cᵀ · M`, written into `Y` with the output strides. Each output
 * is summed in the same order whatever `K` and the thread count. Returns false (writing
 * nothing) where the Wasm runtime is unavailable or the operands do not fit its memory.
 */
export function gemvWasm(M: Buf, V: Buf, Y: Buf, layout: GemvLayout): boolean {
  const { outs, len, byRows, K, vecStride, elemStride, outVec, outStep } = layout;
  if (!(K >= 1 && K <= MAX_VECTORS)) throw new Error(`internal: gemvWasm takes 1 to ${MAX_VECTORS} vectors, got ${K}`);
  const mod = getModule();
  if (!mod) return false;
  if (len === 0) {
    // empty sums (the column kernel needs at least one row)
    for (let c = 0; c < K; c++) for (let i = 0; i < outs; i++) Y[c * outVec + i * outStep] = 0;
    return true;
  }
  const f64 = M instanceof Float64Array;
  const esz = f64 ? 8 : 4;
  const lanes = 16 / esz;
  const blocks = Math.ceil(len / lanes);
  const mOff = 0;
  const vOff = align64(outs * len * esz);
  const yOff = align64(vOff + blocks * lanes * K * esz);
  const base = reserveHeap(yOff + outs * K * esz);
  if (base < 0) return false;
  const mem = f64 ? new Float64Array(wasmMemory().buffer) : new Float32Array(wasmMemory().buffer);
  mem.set(M.subarray(0, outs * len), (base + mOff) / esz);
  // the vectors, in the layout of the kernel: blocks of lanes (rows) or elements (columns) interleaved
  const v0 = (base + vOff) / esz;
  if (K === 1 && elemStride === 1) mem.set(V.subarray(0, len), v0);
  else if (!byRows && vecStride === 1 && elemStride === K) mem.set(V.subarray(0, len * K), v0);
  else if (byRows) interleaveBlocks(mem, v0, V, K, len, lanes, vecStride, elemStride);
  else interleaveElements(mem, v0, V, K, len, vecStride, elemStride);
  const threads = outs * len * K >= parallelMinWork ? threadCount() : 1;
  const tag = f64 ? "64" : "32";
  const y0 = (base + yOff) / esz;
  if (byRows) {
    // rows write Y's layout directly when it is packed: y_c[i] at c·outs + i or at i·K + c
    const packed = outStep === 1 ? K === 1 || outVec === outs : outVec === 1 && outStep === K;
    const [st, vc] = packed ? [outStep, outVec] : [1, outs];
    const per = Math.max(1, Math.ceil(outs / (threads * 4)));
    parallelFor(
      mod,
      `rows${tag}_${K}`,
      Math.ceil(outs / per),
      [base + mOff, base + vOff, base + yOff, outs, len, len * esz, per, st * esz, vc * esz],
      threads === 1,
    );
    if (packed) {
      Y.set(mem.subarray(y0, y0 + outs * K));
      return true;
    }
  } else {
    const block = COL_BLOCK[K]! * lanes;
    const per = Math.max(1, Math.ceil(outs / (threads * 4) / block)) * block;
    const panel = colPanelRows > 0 ? colPanelRows : columnPanel(K, len, outs, esz);
    parallelFor(
      mod,
      `cols${tag}_${K}`,
      Math.ceil(outs / per),
      [base + mOff, base + vOff, base + yOff, len, outs, outs * esz, per, outs * esz, panel],
      threads === 1,
    );
  }
  // y_c[i] at y0 + c·outs + i
  if (outStep === 1) for (let c = 0; c < K; c++) Y.set(mem.subarray(y0 + c * outs, y0 + (c + 1) * outs), c * outVec);
  else scatter(Y, mem, y0, K, outs, outVec, outStep);
  return true;
}

/** Copies `K` strided vectors into `dst` from `d0` on, interleaved by blocks of `lanes` elements (the row kernel's layout). */
function interleaveBlocks(dst: Buf, d0: number, V: Buf, K: number, len: number, lanes: number, vecStride: number, elemStride: number): void {
  for (let c = 0; c < K; c++) {
    let d = d0 + c * lanes;
    let s = c * vecStride;
    for (let p = 0; p < len; p += lanes) {
      const e = Math.min(lanes, len - p);
      for (let q = 0; q < e; q++) dst[d + q] = V[s + q * elemStride]!;
      d += K * lanes;
      s += lanes * elemStride;
    }
  }
}

/** Copies `K` strided vectors into `dst` from `d0` on, interleaved element by element (the column kernel's layout). */
function interleaveElements(dst: Buf, d0: number, V: Buf, K: number, len: number, vecStride: number, elemStride: number): void {
  for (let c = 0; c < K; c++) {
    let s = c * vecStride;
    for (let d = d0 + c; d < d0 + len * K; d += K) {
      dst[d] = V[s]!;
      s += elemStride;
    }
  }
}

/** `Y[c·outVec + i·outStep] = src[s0 + c·outs + i]`. */
function scatter(Y: Buf, src: Buf, s0: number, K: number, outs: number, outVec: number, outStep: number): void {
  for (let c = 0; c < K; c++) {
    let d = c * outVec;
    for (let s = s0 + c * outs; s < s0 + (c + 1) * outs; s++) {
      Y[d] = src[s]!;
      d += outStep;
    }
  }
}
