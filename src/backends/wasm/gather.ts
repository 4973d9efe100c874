/**
 * WebAssembly kernels for the convolutions of src/backends/cpu/conv.ts, on every thread.
 *
 * The im2col step writes the matrix of what each output position sees at each tap
 * straight into the packed panels the SIMD matmul multiplies (src/backends/wasm/matmul.ts,
 * {@link PackedOperand}): panels `width` positions wide, the depth `(c, k)` (input
 * feature, then window tap) split into blocks of `KC`, laid out `[block][panel][p][w]`.
 * A table `tab[k·Mpad + m]` gives, for tap `k` and output position `m`, the offset of
 * the input element it reads in feature 0 (feature `c` adds `c·lC`), or -1 where it
 * reads padding or a hole of a dilated input; bit `v` of `flags[k·nPanels + j]` says
 * that the `v`-th 16 bytes of panel `j`'s row at tap `k` are consecutive input
 * elements, copied as one vector. Elements are moved as raw 4- or 8-byte words.
 *
 * And the col2im step: `scatterAdd` adds each run of a source laid out in rows of
 * segments into the destination at the run's (strided) positions, in float32 or
 * float64; chunks hold whole groups of rows that write disjoint parts of the destination.
 * @module
 */
import { F32, F64, FuncBuilder, I32, OP } from "./emit.js";
import type { PackedOperand } from "./matmul.js";
import { type WasmModule, loadModule, parallelFor, threadCount, reserveHeap, wasmAvailable, wasmMemory } from "./runtime.js";

const I32_LOAD = 0x28;
const I64_LOAD = 0x29;
const I64_STORE = 0x37;
const I64_CONST = 0x42;
const I32_SHL = 0x74;
const I32_SHR_S = 0x75;
const I32_AND = 0x71;
const I32_XOR = 0x73;
const I32_REM_U = 0x70;
const V128_LOAD = 0x00;
const V128_STORE = 0x0b;

/**
 * `tapPack(chunk, src, dst, tab, flags, nK, lC, depth, nPanels, KC, Mpad, ppc)` for
 * elements of `esz` bytes and panels `width` wide: packs panels `[chunk·ppc, …)` (see
 * the module comment). `lC` is in bytes.
 */
function tapPackKernel(esz: 4 | 8, width: number): FuncBuilder {
  const f = new FuncBuilder([I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32]);
  const [chunk, src, dst, tab, flags, nK, lC, depth, nPanels, KC, Mpad, ppc] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
  const L = (): number => f.local(I32);
  const j = L(),
    j1 = L(),
    kb = L(),
    kc = L(),
    d = L(),
    c = L(),
    kf = L(),
    sC = L(),
    pp = L(),
    tp = L(),
    fl = L(),
    o = L();
  const load = esz === 4 ? I32_LOAD : I64_LOAD;
  const store = esz === 4 ? OP.i32Store : I64_STORE;
  const align = esz === 4 ? 2 : 3;
  const shift = esz === 4 ? 2 : 3;
  const rowBytes = width * esz;
  // panels [chunk·ppc, min(…, nPanels))
  f.get(chunk).get(ppc).op(OP.i32Mul).set(j);
  f.get(j).get(ppc).op(OP.i32Add).tee(j1).get(nPanels).op(OP.i32GtU);
  f.ifThen(() => f.get(nPanels).set(j1));
  f.whileLoop(
    () => f.get(j).get(j1).op(OP.i32GeU),
    () => {
      f.i32(0).set(kb);
      f.whileLoop(
        () => f.get(kb).get(depth).op(OP.i32GeU),
        () => {
          // kc = min(KC, depth - kb)
          f.get(depth).get(kb).op(OP.i32Sub).tee(kc).get(KC).op(OP.i32GtU);
          f.ifThen(() => f.get(KC).set(kc));
          // d = dst + (kb·nPanels + j·kc)·width·esz
          f.get(dst).get(kb).get(nPanels).op(OP.i32Mul).get(j).get(kc).op(OP.i32Mul).op(OP.i32Add).i32(rowBytes).op(OP.i32Mul).op(OP.i32Add).set(d);
          // c = kb / nK, kf = kb % nK, sC = src + c·lC
          f.get(kb).get(nK).op(OP.i32DivU).set(c);
          f.get(kb).get(nK).op(I32_REM_U).set(kf);
          f.get(src).get(c).get(lC).op(OP.i32Mul).op(OP.i32Add).set(sC);
          f.get(kc).set(pp);
          f.whileLoop(
            () => f.get(pp).op(OP.i32Eqz),
            () => {
              // tp = tab + (kf·Mpad + j·width)·4
              f.get(tab).get(kf).get(Mpad).op(OP.i32Mul).get(j).i32(width).op(OP.i32Mul).op(OP.i32Add).i32(2).op(I32_SHL).op(OP.i32Add).set(tp);
              f.get(flags).get(kf).get(nPanels).op(OP.i32Mul).get(j).op(OP.i32Add).i32(2).op(I32_SHL).op(OP.i32Add).mem(I32_LOAD, 2, 0).set(fl);
              // per 16 bytes of the panel row: a whole vector where its elements are consecutive, else element by element
              const scalar = (w: number): void => {
                // an offset of -1 reads the feature's first element and stores zero
                f.get(tp)
                  .mem(I32_LOAD, 2, 4 * w)
                  .set(o);
                f.get(d);
                f.get(sC).get(o).get(o).i32(31).op(I32_SHR_S).i32(-1).op(I32_XOR).op(I32_AND).i32(shift).op(I32_SHL).op(OP.i32Add).mem(load, align, 0);
                if (esz === 4) f.i32(0);
                else f.op(I64_CONST, 0);
                f.get(o).i32(0).op(OP.i32GeS).op(OP.select);
                f.mem(store, align, w * esz);
              };
              const per = 16 / esz;
              const nVec = Math.floor(width / per);
              for (let v = 0; v < nVec; v++) {
                f.get(fl)
                  .i32(1 << v)
                  .op(I32_AND);
                f.ifThen(
                  () => {
                    f.get(d)
                      .get(sC)
                      .get(tp)
                      .mem(I32_LOAD, 2, v * per * 4)
                      .i32(shift)
                      .op(I32_SHL)
                      .op(OP.i32Add)
                      .simd(V128_LOAD, { align: 0, offset: 0 })
                      .simd(V128_STORE, { align: 0, offset: v * 16 });
                  },
                  () => {
                    for (let w = v * per; w < (v + 1) * per; w++) scalar(w);
                  },
                );
              }
              for (let w = nVec * per; w < width; w++) scalar(w);
              f.get(d).i32(rowBytes).op(OP.i32Add).set(d);
              // next tap, or the next feature's first tap
              f.get(kf).i32(1).op(OP.i32Add).tee(kf).get(nK).op(OP.i32Eq);
              f.ifThen(() => {
                f.i32(0).set(kf);
                f.get(sC).get(lC).op(OP.i32Add).set(sC);
              });
              f.get(pp).i32(1).op(OP.i32Sub).set(pp);
            },
          );
          f.get(kb).get(KC).op(OP.i32Add).set(kb);
        },
      );
      f.get(j).i32(1).op(OP.i32Add).set(j);
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
          { name: "scatterAdd32", fn: scatterAddKernel(false) },
          { name: "scatterAdd64", fn: scatterAddKernel(true) },
        ])
      : null;
  } catch {
    mod = null;
  }
  return mod;
}

/** The im2col kernels by panel width (a width the matmul's packing uses: a few at most). */
const packModules = new Map<number, WasmModule | null>();
function packModule(width: number): WasmModule | null {
  let m = packModules.get(width);
  if (m !== undefined) return m;
  try {
    m = wasmAvailable()
      ? loadModule([
          { name: "tapPack4", fn: tapPackKernel(4, width) },
          { name: "tapPack8", fn: tapPackKernel(8, width) },
        ])
      : null;
  } catch {
    m = null;
  }
  packModules.set(width, m);
  return m;
}

const align64 = (n: number): number => (n + 63) & ~63;
/** Below this many destination elements the packing runs on the calling thread alone. */
const PARALLEL_MIN = 1 << 16;

/** True when the im2col and col2im kernels can run (WebAssembly SIMD is available). */
export function wasmPackAvailable(): boolean {
  return getModule() !== null;
}

/** The tables of the im2col packing for panels of one width (see the module comment). */
export interface TapTables {
  /** `[nK][Mpad]`: the input offset each tap reads for each output position (feature 0), or -1; -1 past `M`. */
  tab: Int32Array;
  /** `[nK][Mpad / width]`: bit `v` set where the panel's `v`-th 16 bytes are consecutive input elements. */
  flags: Int32Array;
}

/**
 * The im2col matrix of a convolution as a {@link PackedOperand}: the `M` output
 * positions are its panel dimension and the `I·nK` (feature, tap) pairs its depth, read
 * from `src` (feature `c` at `c·lC`) through the tables `tables(width)` gives (built
 * once per geometry by the caller). Requires {@link wasmPackAvailable}.
 */
export function tapPacker(src: Float32Array | Float64Array, I: number, nK: number, lC: number, M: number, tables: (width: number) => TapTables): PackedOperand {
  const esz = src.BYTES_PER_ELEMENT as 4 | 8;
  const layout = (width: number) => {
    const { tab, flags } = tables(width);
    const oTab = align64(src.length * esz);
    const oFlags = align64(oTab + tab.length * 4);
    return { tab, flags, oTab, oFlags, bytes: oFlags + flags.length * 4 };
  };
  return {
    scratchBytes: (width) => layout(width).bytes,
    write(at, scratch, width, KC) {
      const m = packModule(width);
      if (!m) throw new Error("internal: the im2col kernels need WebAssembly; check wasmPackAvailable() first");
      const { tab, flags, oTab, oFlags } = layout(width);
      const buf = wasmMemory().buffer;
      const Ctor = src.constructor as Float32ArrayConstructor | Float64ArrayConstructor;
      new Ctor(buf, scratch, src.length).set(src);
      new Int32Array(buf, scratch + oTab, tab.length).set(tab);
      new Int32Array(buf, scratch + oFlags, flags.length).set(flags);
      const nPanels = flags.length / nK;
      const threads = M * I * nK >= PARALLEL_MIN ? threadCount() : 1;
      const ppc = Math.max(1, Math.ceil(nPanels / (threads * 4)));
      parallelFor(
        m,
        esz === 4 ? "tapPack4" : "tapPack8",
        Math.ceil(nPanels / ppc),
        [scratch, at, scratch + oTab, scratch + oFlags, nK, lC * esz, I * nK, nPanels, KC, nPanels * width, ppc],
        threads === 1,
      );
    },
  };
}

/**
 * The col2im step: adds the runs of `src` (`rows × segs × Q` elements: row `r`, segment
 * `s`, element `q` at `(r·segs + s)·Q + q`) into `dst` — run `(r, s)` element `q` in `[r0, r1)`
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
