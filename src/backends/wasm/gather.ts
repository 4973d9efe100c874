/**
 * A WebAssembly kernel that packs strided runs, on every thread: the im2col step of a
 * convolution (src/backends/cpu/conv.ts).
 *
 * The destination is `rows × segs × Q` elements. Row `r` has one run description
 * `[r0, r1, offset, step]` (offset and step in bytes) and each of its segments a source
 * element offset `so` (or -1): segment `(r, s)` holds `Q` elements, zero where `so < 0`,
 * else zeros before `r0`, `src[so + offset + (q - r0)·step]` for `q` in `[r0, r1)`, and
 * zeros after. Elements are copied as raw 4- or 8-byte words, so one kernel serves every
 * dtype of that size.
 *
 * And its transpose for the col2im step: `scatterAdd` adds each run of a source laid out
 * the same way into the destination at the run's (strided) positions, in float32 or
 * float64; chunks hold whole groups of rows that write disjoint parts of the destination.
 * @module
 */
import { F32, F64, FuncBuilder, I32, OP } from "./emit.js";
import { type WasmModule, loadModule, parallelFor, reserveHeap, threadCount, wasmAvailable, wasmMemory } from "./runtime.js";

const I32_LOAD = 0x28;
const I64_LOAD = 0x29;
const I64_STORE = 0x37;
const I64_CONST = 0x42;
const I32_SHL = 0x74;

/** `runs(chunk, src, dst, segTab, runTab, nSegs, Q, rowsPerChunk, nRows)` for elements of `esz` bytes. */
function runsKernel(esz: 4 | 8): FuncBuilder {
  const f = new FuncBuilder([I32, I32, I32, I32, I32, I32, I32, I32, I32]);
  const [chunk, src, dst, segTab, runTab, nSegs, Q, rowsPerChunk, nRows] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const L = (): number => f.local(I32);
  const row = L(),
    rowEnd = L(),
    r0 = L(),
    r1 = L(),
    off = L(),
    step = L(),
    sp = L(),
    d = L(),
    seg = L(),
    so = L(),
    s = L(),
    r = L();
  const shift = esz === 4 ? 2 : 3;
  const load = esz === 4 ? I32_LOAD : I64_LOAD;
  const store = esz === 4 ? OP.i32Store : I64_STORE;
  const align = esz === 4 ? 2 : 3;
  const zeroAt = (): void => {
    f.get(d);
    if (esz === 4) f.i32(0);
    else f.op(I64_CONST, 0);
    f.mem(store, align, 0);
    f.get(d).i32(esz).op(OP.i32Add).set(d);
  };
  // rows [chunk·rowsPerChunk, min(…, nRows))
  f.get(chunk).get(rowsPerChunk).op(OP.i32Mul).set(row);
  f.get(row).get(rowsPerChunk).op(OP.i32Add).tee(rowEnd).get(nRows).op(OP.i32GtU);
  f.ifThen(() => f.get(nRows).set(rowEnd));
  f.whileLoop(
    () => f.get(row).get(rowEnd).op(OP.i32GeU),
    () => {
      const rt = (k: number) =>
        f
          .get(runTab)
          .get(row)
          .i32(16)
          .op(OP.i32Mul)
          .op(OP.i32Add)
          .mem(I32_LOAD, 2, 4 * k);
      rt(0);
      f.set(r0);
      rt(1);
      f.set(r1);
      rt(2);
      f.set(off);
      rt(3);
      f.set(step);
      f.get(segTab).get(row).get(nSegs).op(OP.i32Mul).i32(2).op(I32_SHL).op(OP.i32Add).set(sp);
      f.get(dst).get(row).get(nSegs).op(OP.i32Mul).get(Q).op(OP.i32Mul).i32(shift).op(I32_SHL).op(OP.i32Add).set(d);
      f.i32(0).set(seg);
      f.whileLoop(
        () => f.get(seg).get(nSegs).op(OP.i32GeU),
        () => {
          f.get(sp).mem(I32_LOAD, 2, 0).set(so);
          f.get(so).i32(0).op(OP.i32LtS);
          f.ifThen(
            () => {
              f.i32(0).set(r);
              f.whileLoop(
                () => f.get(r).get(Q).op(OP.i32GeU),
                () => {
                  zeroAt();
                  f.get(r).i32(1).op(OP.i32Add).set(r);
                },
              );
            },
            () => {
              f.get(src).get(so).i32(shift).op(I32_SHL).op(OP.i32Add).get(off).op(OP.i32Add).set(s);
              f.i32(0).set(r);
              f.whileLoop(
                () => f.get(r).get(r0).op(OP.i32GeU),
                () => {
                  zeroAt();
                  f.get(r).i32(1).op(OP.i32Add).set(r);
                },
              );
              f.whileLoop(
                () => f.get(r).get(r1).op(OP.i32GeU),
                () => {
                  f.get(d).get(s).mem(load, align, 0).mem(store, align, 0);
                  f.get(d).i32(esz).op(OP.i32Add).set(d);
                  f.get(s).get(step).op(OP.i32Add).set(s);
                  f.get(r).i32(1).op(OP.i32Add).set(r);
                },
              );
              f.whileLoop(
                () => f.get(r).get(Q).op(OP.i32GeU),
                () => {
                  zeroAt();
                  f.get(r).i32(1).op(OP.i32Add).set(r);
                },
              );
            },
          );
          f.get(sp).i32(4).op(OP.i32Add).set(sp);
          f.get(seg).i32(1).op(OP.i32Add).set(seg);
        },
      );
      f.get(row).i32(1).op(OP.i32Add).set(row);
    },
  );
  return f;
}

const F32_ADD = 0x92;
const F64_ADD = 0xa0;
const F32_LOAD = 0x2a;
const F64_LOAD = 0x2b;
const F32_STORE = 0x38;
const F64_STORE = 0x39;

/**
 * `scatterAdd(chunk, src, dst, segTab, runTab, nSegs, Q, rowsPerChunk, nRows)`:
 * `dst[so + offset + (q - r0)·step] += src[(row·nSegs + seg)·Q + q]` for `q` in `[r0, r1)`.
 */
function scatterAddKernel(f64: boolean): FuncBuilder {
  const f = new FuncBuilder([I32, I32, I32, I32, I32, I32, I32, I32, I32]);
  const [chunk, src, dst, segTab, runTab, nSegs, Q, rowsPerChunk, nRows] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const L = (): number => f.local(I32);
  const row = L(),
    rowEnd = L(),
    r0 = L(),
    r1 = L(),
    off = L(),
    step = L(),
    sp = L(),
    zs = L(),
    seg = L(),
    so = L(),
    d = L(),
    r = L();
  const esz = f64 ? 8 : 4;
  const shift = f64 ? 3 : 2;
  const [load, store, add, align] = f64 ? [F64_LOAD, F64_STORE, F64_ADD, 3] : [F32_LOAD, F32_STORE, F32_ADD, 2];
  void F32;
  void F64;
  f.get(chunk).get(rowsPerChunk).op(OP.i32Mul).set(row);
  f.get(row).get(rowsPerChunk).op(OP.i32Add).tee(rowEnd).get(nRows).op(OP.i32GtU);
  f.ifThen(() => f.get(nRows).set(rowEnd));
  f.whileLoop(
    () => f.get(row).get(rowEnd).op(OP.i32GeU),
    () => {
      const rt = (k: number) =>
        f
          .get(runTab)
          .get(row)
          .i32(16)
          .op(OP.i32Mul)
          .op(OP.i32Add)
          .mem(I32_LOAD, 2, 4 * k);
      rt(0);
      f.set(r0);
      rt(1);
      f.set(r1);
      rt(2);
      f.set(off);
      rt(3);
      f.set(step);
      f.get(segTab).get(row).get(nSegs).op(OP.i32Mul).i32(2).op(I32_SHL).op(OP.i32Add).set(sp);
      f.i32(0).set(seg);
      f.whileLoop(
        () => f.get(seg).get(nSegs).op(OP.i32GeU),
        () => {
          f.get(sp).mem(I32_LOAD, 2, 0).set(so);
          f.get(so).i32(0).op(OP.i32GeS);
          f.ifThen(() => {
            f.get(dst).get(so).i32(shift).op(I32_SHL).op(OP.i32Add).get(off).op(OP.i32Add).set(d);
            // zs = src + ((row·nSegs + seg)·Q + r0)·esz
            f.get(src)
              .get(row)
              .get(nSegs)
              .op(OP.i32Mul)
              .get(seg)
              .op(OP.i32Add)
              .get(Q)
              .op(OP.i32Mul)
              .get(r0)
              .op(OP.i32Add)
              .i32(shift)
              .op(I32_SHL)
              .op(OP.i32Add)
              .set(zs);
            f.get(r0).set(r);
            f.whileLoop(
              () => f.get(r).get(r1).op(OP.i32GeU),
              () => {
                f.get(d).get(d).mem(load, align, 0).get(zs).mem(load, align, 0).op(add).mem(store, align, 0);
                f.get(d).get(step).op(OP.i32Add).set(d);
                f.get(zs).i32(esz).op(OP.i32Add).set(zs);
                f.get(r).i32(1).op(OP.i32Add).set(r);
              },
            );
          });
          f.get(sp).i32(4).op(OP.i32Add).set(sp);
          f.get(seg).i32(1).op(OP.i32Add).set(seg);
        },
      );
      f.get(row).i32(1).op(OP.i32Add).set(row);
    },
  );
  return f;
}

let mod: WasmModule | null | undefined;
function getModule(): WasmModule | null {
  if (mod !== undefined) return mod;
  try {
    mod = wasmAvailable()
      ? loadModule([
          { name: "runs4", fn: runsKernel(4) },
          { name: "runs8", fn: runsKernel(8) },
          { name: "scatterAdd32", fn: scatterAddKernel(false) },
          { name: "scatterAdd64", fn: scatterAddKernel(true) },
        ])
      : null;
  } catch {
    mod = null;
  }
  return mod;
}

const align64 = (n: number): number => (n + 63) & ~63;
/** Below this many destination elements the packing runs on the calling thread alone. */
const PARALLEL_MIN = 1 << 16;

type Words = Float32Array | Float64Array | Int32Array;

/**
 * Packs the runs described above from `src` into `dst` (`rows·segs·Q` elements):
 * `segOff[r·segs + s]` are element offsets (or -1), `runs[4r..4r+3]` are `[r0, r1,
 * offset, step]` in elements. Returns false (writing nothing) when WebAssembly is
 * unavailable or the data does not fit its memory; the caller packs in JavaScript.
 */
export function packRunsWasm(src: Words, dst: Words, segOff: Int32Array, runs: Int32Array, rows: number, segs: number, Q: number): boolean {
  if (!getModule()) return false;
  const esz = src.BYTES_PER_ELEMENT as 4 | 8;
  const n = rows * segs * Q;
  const packer = runPacker(src, segOff, runs, rows, segs, Q);
  const oDst = align64(packer.scratchBytes);
  const base = reserveHeap(oDst + n * esz);
  if (base < 0) return false;
  packer.write(base + oDst, base);
  const Ctor = src.constructor as Float32ArrayConstructor | Float64ArrayConstructor | Int32ArrayConstructor;
  dst.set(new Ctor(wasmMemory().buffer, base + oDst, n));
  return true;
}

/**
 * The packing of {@link packRunsWasm} as a producer that writes `rows·segs·Q` elements
 * at a heap offset (for `matmulWasm`'s `HeapOperand`): its inputs — `src`, the segment
 * offsets and the runs — go to its scratch bytes. Requires WebAssembly (check
 * {@link wasmPackAvailable}).
 */
export function runPacker(
  src: Words,
  segOff: Int32Array,
  runs: Int32Array,
  rows: number,
  segs: number,
  Q: number,
): { scratchBytes: number; write(at: number, scratch: number): void } {
  const esz = src.BYTES_PER_ELEMENT as 4 | 8;
  const oSeg = align64(src.length * esz);
  const oRun = align64(oSeg + segOff.length * 4);
  return {
    scratchBytes: oRun + runs.length * 4,
    write(at, scratch) {
      const m = getModule()!;
      const buf = wasmMemory().buffer;
      const Ctor = src.constructor as Float32ArrayConstructor | Float64ArrayConstructor | Int32ArrayConstructor;
      new Ctor(buf, scratch, src.length).set(src);
      new Int32Array(buf, scratch + oSeg, segOff.length).set(segOff);
      const rt = new Int32Array(buf, scratch + oRun, runs.length);
      for (let i = 0; i < runs.length; i += 4) {
        rt[i] = runs[i]!;
        rt[i + 1] = runs[i + 1]!;
        rt[i + 2] = runs[i + 2]! * esz;
        rt[i + 3] = runs[i + 3]! * esz;
      }
      const threads = rows * segs * Q >= PARALLEL_MIN ? threadCount() : 1;
      const perChunk = Math.max(1, Math.ceil(rows / (threads * 4)));
      parallelFor(m, esz === 4 ? "runs4" : "runs8", Math.ceil(rows / perChunk), [scratch, at, scratch + oSeg, scratch + oRun, segs, Q, perChunk, rows], threads === 1);
    },
  };
}

/** True when the packing kernels can run (WebAssembly SIMD is available). */
export function wasmPackAvailable(): boolean {
  return getModule() !== null;
}

/**
 * The col2im step: adds the runs of `src` (`rows × segs × Q` elements, laid out as
 * {@link packRunsWasm} writes them) into `dst` — run `(r, s)` element `q` in `[r0, r1)`
 * goes to `dst[segOff[r·segs + s] + offset + (q - r0)·step]` (skipped where the segment
 * offset is -1). Rows are split among threads in blocks of `rowBlock` whose writes must
 * not overlap another block's. Float32/float64 only; false when it cannot run.
 */
export function scatterAddRunsWasm(
  src: Float32Array | Float64Array,
  dst: Float32Array | Float64Array,
  segOff: Int32Array,
  runs: Int32Array,
  rows: number,
  segs: number,
  Q: number,
  rowBlock: number,
): boolean {
  const m = getModule();
  if (!m) return false;
  const esz = src.BYTES_PER_ELEMENT;
  const oSrc = 0;
  const oSeg = align64(oSrc + src.length * esz);
  const oRun = align64(oSeg + segOff.length * 4);
  const oDst = align64(oRun + runs.length * 4);
  const base = reserveHeap(oDst + dst.length * esz);
  if (base < 0) return false;
  const buf = wasmMemory().buffer;
  const Ctor = src.constructor as Float32ArrayConstructor | Float64ArrayConstructor;
  new Ctor(buf, base + oSrc, src.length).set(src);
  new Int32Array(buf, base + oSeg, segOff.length).set(segOff);
  new Ctor(buf, base + oDst, dst.length).set(dst);
  const rt = new Int32Array(buf, base + oRun, runs.length);
  for (let i = 0; i < runs.length; i += 4) {
    rt[i] = runs[i]!;
    rt[i + 1] = runs[i + 1]!;
    rt[i + 2] = runs[i + 2]! * esz;
    rt[i + 3] = runs[i + 3]! * esz;
  }
  const blocks = Math.ceil(rows / rowBlock);
  const threads = src.length >= PARALLEL_MIN ? threadCount() : 1;
  const perChunk = Math.max(1, Math.ceil(blocks / (threads * 4))) * rowBlock;
  parallelFor(
    m,
    esz === 4 ? "scatterAdd32" : "scatterAdd64",
    Math.ceil(rows / perChunk),
    [base + oSrc, base + oDst, base + oSeg, base + oRun, segs, Q, perChunk, rows],
    threads === 1,
  );
  dst.set(new Ctor(wasmMemory().buffer, base + oDst, dst.length));
  return true;
}
