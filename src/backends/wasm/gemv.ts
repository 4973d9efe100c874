/**
 * Matrix-vector products in WebAssembly SIMD: the `m = 1` and `n = 1` cases of
 * {@link matmulWasm}, which the panel-packed matrix kernel would run at a fraction of its
 * speed (a one-column panel pads to a full register tile, and packing copies the whole
 * matrix for a product that reads it once). Both kernels read the matrix in its stored
 * layout, so the four layouts of `op(A) · op(B)` map onto two kernels:
 *
 * - **rows**: `y[i] = Σ_p M[i, p] · v[p]` — each output is a dot product of a contiguous
 *   row with the vector (two vector accumulators per row, a scalar tail);
 * - **columns**: `y[j] = Σ_p v[p] · M[p, j]` — each output is a weighted sum of a
 *   column; a block of columns keeps its sums in registers while the rows stream past.
 *
 * Chunks are blocks of outputs, run by {@link parallelFor}; each output is summed in
 * the same order whatever the chunking, so results do not depend on the thread count.
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
const F32V: Variant = { esz: 4, lanes: 4, scalar: F32, load: OP.f32Load, store: OP.f32Store, align: 2, add: SIMD.f32x4Add, mul: SIMD.f32x4Mul, splat: SIMD_OPS.load32Splat, extract: SIMD_OPS.f32x4ExtractLane, scalarAdd: 0x92, scalarMul: 0x94 };
const F64V: Variant = { esz: 8, lanes: 2, scalar: F64, load: OP.f64Load, store: OP.f64Store, align: 3, add: SIMD.f64x2Add, mul: SIMD.f64x2Mul, splat: SIMD_OPS.load64Splat, extract: SIMD_OPS.f64x2ExtractLane, scalarAdd: 0xa0, scalarMul: 0xa2 };

/** Columns (in vectors) whose sums the column kernel keeps in registers. */
const COL_VECTORS = 4;

/**
 * `rows(chunk, M, v, y, rows, len, ldBytes, perChunk)`: `y[i] = Σ_p M[i·ld + p] v[p]` for
 * the rows `[chunk·perChunk, …)`.
 */
function rowsKernel(t: Variant): FuncBuilder {
  const f = new FuncBuilder([I32, I32, I32, I32, I32, I32, I32, I32]);
  const [chunk, M, v, y, rows, len, ld, per] = [0, 1, 2, 3, 4, 5, 6, 7];
  const i = f.local(I32), i1 = f.local(I32), row = f.local(I32), pm = f.local(I32), pv = f.local(I32), end2 = f.local(I32), end1 = f.local(I32), endS = f.local(I32);
  const a0 = f.local(V128), a1 = f.local(V128);
  const s = f.local(t.scalar);
  const vb = t.lanes * t.esz; // bytes per vector
  f.get(chunk).get(per).op(OP.i32Mul).set(i);
  f.get(i).get(per).op(OP.i32Add).set(i1);
  f.get(i1).get(rows).get(i1).get(rows).op(OP.i32LtU, OP.select).set(i1);
  f.whileLoop(
    () => f.get(i).get(i1).op(OP.i32GeU),
    () => {
      f.get(M).get(i).get(ld).op(OP.i32Mul).op(OP.i32Add).set(row);
      f.get(row).set(pm);
      f.get(v).set(pv);
      // ends (as byte addresses in the row) of the 2-vector, 1-vector and scalar parts
      f.get(row).get(len).i32(2 * t.lanes).op(OP.i32DivU).i32(2 * vb).op(OP.i32Mul).op(OP.i32Add).set(end2);
      f.get(row).get(len).i32(t.lanes).op(OP.i32DivU).i32(vb).op(OP.i32Mul).op(OP.i32Add).set(end1);
      f.get(row).get(len).i32(t.esz).op(OP.i32Mul).op(OP.i32Add).set(endS);
      f.v128(new Array(16).fill(0)).set(a0);
      f.v128(new Array(16).fill(0)).set(a1);
      f.whileLoop(
        () => f.get(pm).get(end2).op(OP.i32GeU),
        () => {
          f.get(a0).get(pm).simd(SIMD.v128Load, { align: 0, offset: 0 }).get(pv).simd(SIMD.v128Load, { align: 0, offset: 0 }).simd(t.mul).simd(t.add).set(a0);
          f.get(a1).get(pm).simd(SIMD.v128Load, { align: 0, offset: vb }).get(pv).simd(SIMD.v128Load, { align: 0, offset: vb }).simd(t.mul).simd(t.add).set(a1);
          f.get(pm).i32(2 * vb).op(OP.i32Add).set(pm);
          f.get(pv).i32(2 * vb).op(OP.i32Add).set(pv);
        },
      );
      f.whileLoop(
        () => f.get(pm).get(end1).op(OP.i32GeU),
        () => {
          f.get(a0).get(pm).simd(SIMD.v128Load, { align: 0, offset: 0 }).get(pv).simd(SIMD.v128Load, { align: 0, offset: 0 }).simd(t.mul).simd(t.add).set(a0);
          f.get(pm).i32(vb).op(OP.i32Add).set(pm);
          f.get(pv).i32(vb).op(OP.i32Add).set(pv);
        },
      );
      // horizontal sum of a0 + a1, lane by lane
      f.get(a0).get(a1).simd(t.add).set(a0);
      f.get(a0).lane(t.extract, 0);
      for (let l = 1; l < t.lanes; l++) f.get(a0).lane(t.extract, l).op(t.scalarAdd);
      f.set(s);
      f.whileLoop(
        () => f.get(pm).get(endS).op(OP.i32GeU),
        () => {
          f.get(s).get(pm).mem(t.load, t.align, 0).get(pv).mem(t.load, t.align, 0).op(t.scalarMul).op(t.scalarAdd).set(s);
          f.get(pm).i32(t.esz).op(OP.i32Add).set(pm);
          f.get(pv).i32(t.esz).op(OP.i32Add).set(pv);
        },
      );
      f.get(y).get(i).i32(t.esz).op(OP.i32Mul).op(OP.i32Add).get(s).mem(t.store, t.align, 0);
      f.get(i).i32(1).op(OP.i32Add).set(i);
    },
  );
  return f;
}

/**
 * `cols(chunk, M, v, y, rows, width, ldBytes, perChunk)`: `y[j] = Σ_p v[p] M[p·ld + j]`
 * for the columns `[chunk·perChunk, …)` (`perChunk` a multiple of the register block).
 * Whole blocks of {@link COL_VECTORS} vectors keep their sums in registers; the last,
 * partial block runs column by column.
 */
function colsKernel(t: Variant): FuncBuilder {
  const f = new FuncBuilder([I32, I32, I32, I32, I32, I32, I32, I32]);
  const [chunk, M, v, y, rows, width, ld, per] = [0, 1, 2, 3, 4, 5, 6, 7];
  const j = f.local(I32), j1 = f.local(I32), jFull = f.local(I32), pm = f.local(I32), pv = f.local(I32), vEnd = f.local(I32), py = f.local(I32);
  const acc = Array.from({ length: COL_VECTORS }, () => f.local(V128));
  const sv = f.local(V128);
  const s = f.local(t.scalar);
  const B = COL_VECTORS * t.lanes; // columns per register block
  const vb = t.lanes * t.esz;
  f.get(chunk).get(per).op(OP.i32Mul).set(j);
  f.get(j).get(per).op(OP.i32Add).set(j1);
  f.get(j1).get(width).get(j1).get(width).op(OP.i32LtU, OP.select).set(j1);
  // jFull = j + floor((j1 - j) / B) * B
  f.get(j).get(j1).get(j).op(OP.i32Sub).i32(B).op(OP.i32DivU).i32(B).op(OP.i32Mul).op(OP.i32Add).set(jFull);
  f.get(v).get(rows).i32(t.esz).op(OP.i32Mul).op(OP.i32Add).set(vEnd);
  f.whileLoop(
    () => f.get(j).get(jFull).op(OP.i32GeU),
    () => {
      for (const a of acc) f.v128(new Array(16).fill(0)).set(a);
      f.get(M).get(j).i32(t.esz).op(OP.i32Mul).op(OP.i32Add).set(pm);
      f.get(v).set(pv);
      f.whileLoop(
        () => f.get(pv).get(vEnd).op(OP.i32GeU),
        () => {
          f.get(pv).simd(t.splat, { align: t.align, offset: 0 }).set(sv);
          acc.forEach((a, q) => f.get(a).get(pm).simd(SIMD.v128Load, { align: 0, offset: q * vb }).get(sv).simd(t.mul).simd(t.add).set(a));
          f.get(pm).get(ld).op(OP.i32Add).set(pm);
          f.get(pv).i32(t.esz).op(OP.i32Add).set(pv);
        },
      );
      f.get(y).get(j).i32(t.esz).op(OP.i32Mul).op(OP.i32Add).set(py);
      acc.forEach((a, q) => f.get(py).get(a).simd(SIMD.v128Store, { align: 0, offset: q * vb }));
      f.get(j).i32(B).op(OP.i32Add).set(j);
    },
  );
  // the columns after the last whole block, one at a time
  f.whileLoop(
    () => f.get(j).get(j1).op(OP.i32GeU),
    () => {
      f.get(M).get(j).i32(t.esz).op(OP.i32Mul).op(OP.i32Add).set(pm);
      f.get(v).set(pv);
      (t.scalar === F32 ? f.f32(0) : f.f64(0)).set(s);
      f.whileLoop(
        () => f.get(pv).get(vEnd).op(OP.i32GeU),
        () => {
          f.get(s).get(pm).mem(t.load, t.align, 0).get(pv).mem(t.load, t.align, 0).op(t.scalarMul).op(t.scalarAdd).set(s);
          f.get(pm).get(ld).op(OP.i32Add).set(pm);
          f.get(pv).i32(t.esz).op(OP.i32Add).set(pv);
        },
      );
      f.get(y).get(j).i32(t.esz).op(OP.i32Mul).op(OP.i32Add).get(s).mem(t.store, t.align, 0);
      f.get(j).i32(1).op(OP.i32Add).set(j);
    },
  );
  return f;
}

let gemvModule: WasmModule | null | undefined;

function getModule(): WasmModule | null {
  if (gemvModule !== undefined) return gemvModule;
  try {
    gemvModule = wasmAvailable()
      ? loadModule([
          { name: "rows32", fn: rowsKernel(F32V) },
          { name: "cols32", fn: colsKernel(F32V) },
          { name: "rows64", fn: rowsKernel(F64V) },
          { name: "cols64", fn: colsKernel(F64V) },
        ])
      : null;
  } catch {
    gemvModule = null;
  }
  return gemvModule;
}

/** Below this many multiply-adds a product runs on the calling thread alone. */
const PARALLEL_MIN_WORK = 1 << 16;

const align64 = (n: number): number => (n + 63) & ~63;

type Buf = Float32Array | Float64Array;

/**
 * A matrix-vector product `y = M · v` (`byRows`: `M` is `outs × len` row-major) or
 * `y = vᵀ · M` (`M` is `len × outs`), written into `y`. Returns false (writing nothing)
 * where the Wasm runtime is unavailable or the operands do not fit its memory.
 */
export function gemvWasm(M: Buf, v: Buf, y: Buf, outs: number, len: number, byRows: boolean): boolean {
  const mod = getModule();
  if (!mod) return false;
  const f64 = M instanceof Float64Array;
  const esz = f64 ? 8 : 4;
  const lanes = 16 / esz;
  const mOff = 0;
  const vOff = align64(outs * len * esz);
  const yOff = align64(vOff + len * esz);
  const base = reserveHeap(yOff + outs * esz);
  if (base < 0) return false;
  const mem = f64 ? new Float64Array(wasmMemory().buffer) : new Float32Array(wasmMemory().buffer);
  mem.set(M.subarray(0, outs * len), (base + mOff) / esz);
  mem.set(v.subarray(0, len), (base + vOff) / esz);
  const threads = outs * len >= PARALLEL_MIN_WORK ? threadCount() : 1;
  const tag = f64 ? "64" : "32";
  if (byRows) {
    const per = Math.max(1, Math.ceil(outs / (threads * 4)));
    parallelFor(mod, `rows${tag}`, Math.ceil(outs / per), [base + mOff, base + vOff, base + yOff, outs, len, len * esz, per]);
  } else {
    const block = COL_VECTORS * lanes;
    const per = Math.max(1, Math.ceil(outs / (threads * 4) / block)) * block;
    parallelFor(mod, `cols${tag}`, Math.ceil(outs / per), [base + mOff, base + vOff, base + yOff, len, outs, outs * esz, per]);
  }
  y.set(mem.subarray((base + yOff) / esz, (base + yOff) / esz + outs));
  return true;
}
