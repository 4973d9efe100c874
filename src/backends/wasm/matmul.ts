/**
 * A WebAssembly SIMD matrix multiply `C = op(A) · op(B)` where `op` is the identity or
 * a transpose of the stored row-major operand (so `Aᵀ·B` and `A·Bᵀ` need no transposed
 * copy).
 *
 * Both operands are packed first (in Wasm, split over threads): A into panels of `R`
 * rows interleaved along k (`[kBlock][rowPanel][p][r]`), B into panels of `PW`
 * columns (`[kBlock][colPanel][p][c]`), where a k block is `KC` deep. The packing step
 * reads the operand through a (panel-dimension, depth) stride pair, which is where the
 * transposed layouts are handled. The micro-kernel then keeps an `R × PW` tile of C in
 * `R·V` v128 registers and walks both packed panels through one pointer each, with
 * constant memarg offsets and `v128.load32_splat` (`load64_splat` for float64) for A.
 * The product is split into chunks — blocks of `MC` rows × `NC` columns of C, each an
 * independent call over all k blocks that writes only its own block — run by
 * {@link parallelFor} on several threads, column block by column block (all row blocks
 * of one column block share its packed B while it is in cache); every element of C is
 * summed in the same order whatever the chunking, so results do not depend on the
 * thread count.
 *
 * Narrow products — `n` or `m` at most 4, such as a matrix times two vectors — skip the
 * packing and run as matrix-vector products that read the larger operand once
 * (src/backends/wasm/gemv.ts).
 *
 * Operands are copied into the runtime's heap from {@link reserveHeap} on (raw A and B,
 * packed A and B, a padded C), so products that do not fit its memory return false and
 * run in JavaScript.
 * @module
 */
import { F32, F64, FuncBuilder, I32, OP, SIMD, SIMD_OPS, V128 } from "./emit.js";
import { MAX_VECTORS, gemvWasm } from "./gemv.js";
import { MAX_CHUNKS, type WasmModule, loadModule, parallelFor, reserveHeap, threadCount, wasmAvailable, wasmMemory } from "./runtime.js";

// opcodes not in emit.ts
const I32_REM_U = 0x70;
const IF = 0x04;
const ELSE = 0x05;
const END = 0x0b;
const F32_CONST = 0x43;
const F64_CONST = 0x44;
const V128_CONST = 0x0c;

/** Compile-time shape of the kernels. */
export interface KernelShape {
  /** Rows of the register tile. */
  R: number;
  /** v128 vectors per row of the register tile. */
  V: number;
  /** k-loop unroll factor. */
  U: number;
  /** Depth of a k block. */
  KC: number;
}

/**
 * The tile shape used by {@link matmulWasm}. On x64, V8 has 15 allocatable xmm registers
 * and its scheduler issues all loads of a k step before the arithmetic, so a tile needs
 * `R·V + R + V + 1 <= 15` registers to run without spills: 4 × 2 vectors (4 × 8 floats)
 * is the largest (6 × 2, 5 × 2, 4 × 3 and 3 × 3 spill: 30-40% slower where this was
 * first measured, 2-7% on an Intel Xeon core; unrolling k by hand adds loads to the same
 * block and spills too, while V8 unrolls the one-step loop by 2 itself). Without fused
 * multiply-add in Wasm SIMD each multiply-add is two instructions, so the arithmetic
 * ports bound the kernel: an Intel core that issues three 128-bit float multiplies or
 * adds per cycle (at most two of either) runs it on cached operands at ~97% of a bare
 * multiply-add loop (37.5 against 38.5 GFLOP/s per core at 3.3 GHz, measured
 * 2026-12-03); an AMD core has four such pipes (two multiply, two add), a third more.
 */
export const DEFAULT_SHAPE: KernelShape = { R: 4, V: 2, U: 1, KC: 256 };

interface Variant {
  esz: number;
  lanes: number;
  loadSplat: number;
  splatAlign: number;
  add: number;
  mul: number;
  load: number;
  store: number;
  align: number;
  zero: number[];
}
const F32V: Variant = {
  esz: 4,
  lanes: 4,
  loadSplat: SIMD_OPS.load32Splat,
  splatAlign: 2,
  add: SIMD.f32x4Add,
  mul: SIMD.f32x4Mul,
  load: OP.f32Load,
  store: OP.f32Store,
  align: 2,
  zero: [F32_CONST, 0, 0, 0, 0],
};
const F64V: Variant = {
  esz: 8,
  lanes: 2,
  loadSplat: SIMD_OPS.load64Splat,
  splatAlign: 3,
  add: SIMD.f64x2Add,
  mul: SIMD.f64x2Mul,
  load: OP.f64Load,
  store: OP.f64Store,
  align: 3,
  zero: [F64_CONST, 0, 0, 0, 0, 0, 0, 0, 0],
};

/** `dst = a < b ? a : b` (unsigned). */
function minU(f: FuncBuilder, a: () => void, b: () => void, dst: number): void {
  a();
  b();
  a();
  b();
  f.op(OP.i32LtU, OP.select).set(dst);
}

/**
 * `mm(chunk, pA, pB, pC, mP, nP, k, ldc, MCp, NCp, nRB)`: the chunk
 * `(ib, jb) = (chunk % nRB, chunk / nRB)` of C — row panels `[ib·MCp, …)` × column
 * panels `[jb·NCp, …)` — over all k blocks. Consecutive chunks share their column
 * block, so the part of packed B they read is still in cache for the next one.
 * `pA`/`pB` are the packed operands (`mP`/`nP` panels), `pC` the padded C with row
 * stride `ldc` bytes. The first k block stores C, later ones accumulate.
 */
function kernel(t: Variant, s: KernelShape): FuncBuilder {
  const { R, V, U, KC } = s;
  const PW = V * t.lanes;
  const f = new FuncBuilder([I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32]);
  const [chunk, pA, pB, pC, mP, nP, k, ldc, MCp, NCp, nRB] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  const L = (): number => f.local(I32);
  const ip0 = L(),
    ip1 = L(),
    jp0 = L(),
    jp1 = L(),
    kb = L(),
    kc = L(),
    aBlk = L(),
    bBlk = L(),
    jp = L(),
    ip = L(),
    pa = L(),
    pb = L(),
    pc = L(),
    cr = L(),
    p = L(),
    first = L(),
    pbBase = L(),
    aStep = L();
  const acc: number[][] = Array.from({ length: R }, () => Array.from({ length: V }, () => f.local(V128)));
  const bv = Array.from({ length: V }, () => f.local(V128));
  const av = f.local(V128);

  // block ranges of this chunk
  f.get(chunk).get(nRB).op(I32_REM_U).get(MCp).op(OP.i32Mul).set(ip0);
  minU(
    f,
    () => f.get(ip0).get(MCp).op(OP.i32Add),
    () => f.get(mP),
    ip1,
  );
  f.get(chunk).get(nRB).op(OP.i32DivU).get(NCp).op(OP.i32Mul).set(jp0);
  minU(
    f,
    () => f.get(jp0).get(NCp).op(OP.i32Add),
    () => f.get(nP),
    jp1,
  );

  const step = (off: number): void => {
    for (let v = 0; v < V; v++)
      f.get(pb)
        .simd(SIMD.v128Load, { align: 4, offset: (off * PW + v * t.lanes) * t.esz })
        .set(bv[v]!);
    for (let r = 0; r < R; r++) {
      f.get(pa)
        .simd(t.loadSplat, { align: t.splatAlign, offset: (off * R + r) * t.esz })
        .set(av);
      for (let v = 0; v < V; v++) f.get(acc[r]![v]!).get(av).get(bv[v]!).simd(t.mul).simd(t.add).set(acc[r]![v]!);
    }
  };

  f.i32(0).set(kb);
  f.whileLoop(
    () => f.get(kb).get(k).op(OP.i32GeU),
    () => {
      minU(
        f,
        () => f.i32(KC),
        () => f.get(k).get(kb).op(OP.i32Sub),
        kc,
      );
      f.get(kb).op(OP.i32Eqz).set(first);
      f.get(pA)
        .get(kb)
        .get(mP)
        .op(OP.i32Mul)
        .i32(R * t.esz)
        .op(OP.i32Mul)
        .op(OP.i32Add)
        .set(aBlk);
      f.get(pB)
        .get(kb)
        .get(nP)
        .op(OP.i32Mul)
        .i32(PW * t.esz)
        .op(OP.i32Mul)
        .op(OP.i32Add)
        .set(bBlk);
      f.get(kc)
        .i32(R * t.esz)
        .op(OP.i32Mul)
        .set(aStep);
      f.get(jp0).set(jp);
      f.whileLoop(
        () => f.get(jp).get(jp1).op(OP.i32GeU),
        () => {
          f.get(bBlk)
            .get(jp)
            .get(kc)
            .op(OP.i32Mul)
            .i32(PW * t.esz)
            .op(OP.i32Mul)
            .op(OP.i32Add)
            .set(pbBase);
          f.get(ip0).set(ip);
          f.get(aBlk).get(ip).get(aStep).op(OP.i32Mul).op(OP.i32Add).set(pa);
          f.whileLoop(
            () => f.get(ip).get(ip1).op(OP.i32GeU),
            () => {
              f.get(pbBase).set(pb);
              f.get(pC)
                .get(ip)
                .i32(R)
                .op(OP.i32Mul)
                .get(ldc)
                .op(OP.i32Mul)
                .op(OP.i32Add)
                .get(jp)
                .i32(PW * t.esz)
                .op(OP.i32Mul)
                .op(OP.i32Add)
                .set(pc);
              // load the C tile, or start from zero in the first k block
              f.get(first).op(IF, 0x40);
              for (let r = 0; r < R; r++)
                for (let v = 0; v < V; v++)
                  f.simd(V128_CONST)
                    .op(...new Array<number>(16).fill(0))
                    .set(acc[r]![v]!);
              f.op(ELSE);
              f.get(pc).set(cr);
              for (let r = 0; r < R; r++) {
                for (let v = 0; v < V; v++)
                  f.get(cr)
                    .simd(SIMD.v128Load, { align: 4, offset: v * 16 })
                    .set(acc[r]![v]!);
                if (r < R - 1) f.get(cr).get(ldc).op(OP.i32Add).set(cr);
              }
              f.op(END);
              // k loop, unrolled by U, then the remainder
              f.get(kc).set(p);
              if (U > 1) {
                f.whileLoop(
                  () => f.get(p).i32(U).op(OP.i32LtU),
                  () => {
                    for (let u = 0; u < U; u++) step(u);
                    f.get(pa)
                      .i32(U * R * t.esz)
                      .op(OP.i32Add)
                      .set(pa);
                    f.get(pb)
                      .i32(U * PW * t.esz)
                      .op(OP.i32Add)
                      .set(pb);
                    f.get(p).i32(U).op(OP.i32Sub).set(p);
                  },
                );
              }
              if (U > 1) {
                f.whileLoop(
                  () => f.get(p).op(OP.i32Eqz),
                  () => {
                    step(0);
                    f.get(pa)
                      .i32(R * t.esz)
                      .op(OP.i32Add)
                      .set(pa);
                    f.get(pb)
                      .i32(PW * t.esz)
                      .op(OP.i32Add)
                      .set(pb);
                    f.get(p).i32(1).op(OP.i32Sub).set(p);
                  },
                );
              } else {
                // kc >= 1: test at the bottom, against the end of the B panel
                f.get(pb)
                  .get(kc)
                  .i32(PW * t.esz)
                  .op(OP.i32Mul)
                  .op(OP.i32Add)
                  .set(p);
                f.doWhile(
                  () => {
                    step(0);
                    f.get(pa)
                      .i32(R * t.esz)
                      .op(OP.i32Add)
                      .set(pa);
                    f.get(pb)
                      .i32(PW * t.esz)
                      .op(OP.i32Add)
                      .tee(pb);
                  },
                  () => f.get(p).op(OP.i32Ne),
                );
              }
              f.get(pc).set(cr);
              for (let r = 0; r < R; r++) {
                for (let v = 0; v < V; v++)
                  f.get(cr)
                    .get(acc[r]![v]!)
                    .simd(SIMD.v128Store, { align: 4, offset: v * 16 });
                if (r < R - 1) f.get(cr).get(ldc).op(OP.i32Add).set(cr);
              }
              // pa already points at the next row panel (panels of one k block are consecutive)
              f.get(ip).i32(1).op(OP.i32Add).set(ip);
            },
          );
          f.get(jp).i32(1).op(OP.i32Add).set(jp);
        },
      );
      f.get(kb).i32(KC).op(OP.i32Add).set(kb);
    },
  );
  return f;
}

/**
 * `pack(chunk, src, dst, J, P, sJ, sP, nPanels, ppc)`: packs panels
 * `[chunk·ppc, …)` of `W` rows of the panel dimension (extent `J`, byte stride `sJ`)
 * by depth `P` (byte stride `sP`) into `dst`, laid out `[kBlock][panel][p][w]`, zero
 * beyond `J`. When `contiguous` the panel dimension is known to have stride `esz`
 * and full panels are copied with v128 loads.
 */
function pack(t: Variant, W: number, KC: number, contiguous: boolean): FuncBuilder {
  const f = new FuncBuilder([I32, I32, I32, I32, I32, I32, I32, I32, I32]);
  const [chunk, src, dst, J, P, sJ, sP, nPanels, ppc] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const L = (): number => f.local(I32);
  const j = L(),
    j1 = L(),
    kb = L(),
    kc = L(),
    d = L(),
    sRow = L(),
    q = L(),
    pp = L(),
    w = L(),
    wmax = L();
  const esz = t.esz;
  f.get(chunk).get(ppc).op(OP.i32Mul).set(j);
  minU(
    f,
    () => f.get(j).get(ppc).op(OP.i32Add),
    () => f.get(nPanels),
    j1,
  );
  f.whileLoop(
    () => f.get(j).get(j1).op(OP.i32GeU),
    () => {
      // wmax = min(W, J - j*W)
      minU(
        f,
        () => f.i32(W),
        () => f.get(J).get(j).i32(W).op(OP.i32Mul).op(OP.i32Sub),
        wmax,
      );
      f.i32(0).set(kb);
      f.whileLoop(
        () => f.get(kb).get(P).op(OP.i32GeU),
        () => {
          minU(
            f,
            () => f.i32(KC),
            () => f.get(P).get(kb).op(OP.i32Sub),
            kc,
          );
          // d = dst + (kb*nPanels*W + j*kc*W)*esz
          f.get(dst)
            .get(kb)
            .get(nPanels)
            .op(OP.i32Mul)
            .get(j)
            .get(kc)
            .op(OP.i32Mul)
            .op(OP.i32Add)
            .i32(W * esz)
            .op(OP.i32Mul)
            .op(OP.i32Add)
            .set(d);
          // sRow = src + j*W*sJ + kb*sP
          f.get(src).get(j).i32(W).op(OP.i32Mul).get(sJ).op(OP.i32Mul).op(OP.i32Add).get(kb).get(sP).op(OP.i32Mul).op(OP.i32Add).set(sRow);
          f.get(kc).set(pp);
          f.get(wmax).i32(W).op(OP.i32LtU, OP.i32Eqz, IF, 0x40);
          // a full panel
          f.whileLoop(
            () => f.get(pp).op(OP.i32Eqz),
            () => {
              if (contiguous) {
                for (let v = 0; v < (W * esz) / 16; v++)
                  f.get(d)
                    .get(sRow)
                    .simd(SIMD.v128Load, { align: 0, offset: v * 16 })
                    .simd(SIMD.v128Store, { align: 0, offset: v * 16 });
              } else {
                f.get(sRow).set(q);
                for (let x = 0; x < W; x++) {
                  f.get(d)
                    .get(q)
                    .mem(t.load, t.align, 0)
                    .mem(t.store, t.align, x * esz);
                  if (x < W - 1) f.get(q).get(sJ).op(OP.i32Add).set(q);
                }
              }
              f.get(d)
                .i32(W * esz)
                .op(OP.i32Add)
                .set(d);
              f.get(sRow).get(sP).op(OP.i32Add).set(sRow);
              f.get(pp).i32(1).op(OP.i32Sub).set(pp);
            },
          );
          f.op(ELSE);
          // the last, partial panel: wmax rows, zeros after
          f.whileLoop(
            () => f.get(pp).op(OP.i32Eqz),
            () => {
              f.get(sRow).set(q);
              f.i32(0).set(w);
              f.whileLoop(
                () => f.get(w).i32(W).op(OP.i32GeU),
                () => {
                  f.get(d).get(w).i32(esz).op(OP.i32Mul).op(OP.i32Add);
                  f.get(w)
                    .get(wmax)
                    .op(OP.i32LtU, IF, t === F32V ? F32 : F64);
                  f.get(q).mem(t.load, t.align, 0);
                  f.op(ELSE)
                    .op(...t.zero)
                    .op(END);
                  f.mem(t.store, t.align, 0);
                  f.get(q).get(sJ).op(OP.i32Add).set(q);
                  f.get(w).i32(1).op(OP.i32Add).set(w);
                },
              );
              f.get(d)
                .i32(W * esz)
                .op(OP.i32Add)
                .set(d);
              f.get(sRow).get(sP).op(OP.i32Add).set(sRow);
              f.get(pp).i32(1).op(OP.i32Sub).set(pp);
            },
          );
          f.op(END);
          f.get(kb).i32(KC).op(OP.i32Add).set(kb);
        },
      );
      f.get(j).i32(1).op(OP.i32Add).set(j);
    },
  );
  return f;
}

/** A loaded set of kernels for one tile shape. */
export interface MatmulKernels {
  shape: KernelShape;
  mod: WasmModule;
}

/** Builds and loads the kernels (f32 and f64) for a tile shape. */
export function loadMatmulKernels(shape: KernelShape): MatmulKernels {
  const funcs = [];
  for (const [tag, t] of [
    ["32", F32V],
    ["64", F64V],
  ] as const) {
    const PW = shape.V * t.lanes;
    funcs.push({ name: `mm${tag}`, fn: kernel(t, shape) });
    funcs.push({ name: `packA${tag}`, fn: pack(t, shape.R, shape.KC, false) });
    funcs.push({ name: `packB${tag}`, fn: pack(t, PW, shape.KC, false) });
    funcs.push({ name: `packBc${tag}`, fn: pack(t, PW, shape.KC, true) });
  }
  return { shape, mod: loadModule(funcs) };
}

let kernels: MatmulKernels | null | undefined;

function getKernels(): MatmulKernels | null {
  if (kernels !== undefined) return kernels;
  try {
    kernels = wasmAvailable() ? loadMatmulKernels(DEFAULT_SHAPE) : null;
  } catch {
    kernels = null; // no WebAssembly SIMD here: callers fall back to JS
  }
  return kernels;
}

/** True when the SIMD kernels can run in this JS engine. */
export function wasmMatmulAvailable(): boolean {
  return getKernels() !== null;
}

/** Below this many multiply-adds a product runs on the calling thread alone. */
const PARALLEL_MIN_WORK = 96 * 96 * 96;

/**
 * Column blocking of C. Each chunk of C reads the packed B of its columns over all of k;
 * when packed B is larger than the caches keep between chunks (measured: up to 4 MB, a
 * 2048² float32 B of 16 MB reads from memory at about 80% of the in-cache rate), the
 * columns are split into blocks whose packed B is about `B_BLOCK_BYTES`, and every row
 * block works through one column block before the next (the chunk order of `mm`), so
 * B is read from memory about once while A is read once per column block.
 */
const B_CACHED_BYTES = 4 << 20;
const B_BLOCK_BYTES = 2 << 20;
/** The narrowest column block, in panels (A is read once per block). */
const MIN_BLOCK_PANELS = 8;

const align64 = (n: number): number => (n + 63) & ~63;

/** Options of {@link matmulWasm}. */
export interface MatmulWasmOptions {
  /** A is stored transposed: row-major k×m, and the product uses its transpose. */
  transA?: boolean;
  /** B is stored transposed: row-major n×k, and the product uses its transpose. */
  transB?: boolean;
  /** Kernels to use instead of the default ones (for measurements). */
  kernels?: MatmulKernels;
  /** Rows per chunk of C (rounded to whole register tiles). */
  mc?: number;
  /** Columns per chunk of C (rounded to whole panels). */
  nc?: number;
  /** When given, receives the milliseconds spent packing and in the product (for measurements). */
  timings?: { pack: number; kernel: number };
}

type Buf = Float32Array | Float64Array;

/**
 * An operand that its producer writes into the heap already packed, where
 * {@link matmulWasm} would copy an array in and pack it: a Wasm kernel's output (the
 * im2col matrix of a convolution) then goes straight into the panels the product reads.
 * The layout is the packing's: `op(A)` in panels of `R` rows, `op(B)` in panels of `PW`
 * columns, the depth `k` in blocks of `KC`, stored `[block][panel][p][w]` (block `b`
 * at element `b·KC·panels·width`, panel `j` of a block of depth `kc` at `j·kc·width`),
 * zeros past the last row or column.
 */
export interface PackedOperand {
  /** Heap bytes the producer needs for its inputs when its panels are `width` wide. */
  scratchBytes(width: number): number;
  /**
   * Writes the packed operand at heap byte offset `at`, its inputs going to `[scratch,
   * scratch + scratchBytes(width))`. Called once; the heap does not grow meanwhile.
   */
  write(at: number, scratch: number, width: number, KC: number): void;
}

/**
 * `C = op(A) · op(B)` with `op(A)` m×k and `op(B)` k×n, written row-major into `C`
 * (m×n). `A` holds m×k row-major values, or k×m with `transA`; `B` holds k×n, or n×k
 * with `transB`; either may instead be a {@link PackedOperand} its producer writes into
 * the heap packed (`transA`/`transB` then do not apply to it; never run as a
 * matrix-vector product). All three must have the same float type. Returns false (and writes
 * nothing) when WebAssembly SIMD is unavailable or the operands do not fit the
 * runtime's memory; the caller then uses its JavaScript path.
 */
export function matmulWasm(A: Buf | PackedOperand, B: Buf | PackedOperand, C: Buf, m: number, k: number, n: number, opts: MatmulWasmOptions = {}): boolean {
  const ks = opts.kernels ?? getKernels();
  if (!ks) return false;
  if (m === 0 || n === 0) return true;
  if (k === 0) {
    C.fill(0, 0, m * n);
    return true;
  }
  // narrow products (n or m at most MAX_VECTORS): matrix-vector products with the
  // larger operand as the matrix, read once for all the vectors
  const heapA = !ArrayBuffer.isView(A);
  const heapB = !ArrayBuffer.isView(B);
  if (!opts.kernels && !heapA && !heapB && (n <= MAX_VECTORS || m <= MAX_VECTORS)) {
    if (n <= MAX_VECTORS && (m > MAX_VECTORS || m >= n)) {
      // the vectors are the n columns of op(B); C[i·n + c] = (op(A) · b_c)[i]
      return gemvWasm(A, B, C, {
        outs: m,
        len: k,
        byRows: !opts.transA,
        K: n,
        vecStride: opts.transB ? k : 1,
        elemStride: opts.transB ? 1 : n,
        outVec: 1,
        outStep: n,
      });
    }
    // the vectors are the m rows of op(A); C[r·n + j] = (a_rᵀ · op(B))[j]
    return gemvWasm(B, A, C, {
      outs: n,
      len: k,
      byRows: !!opts.transB,
      K: m,
      vecStride: opts.transA ? 1 : k,
      elemStride: opts.transA ? m : 1,
      outVec: n,
      outStep: 1,
    });
  }
  const { R, V } = ks.shape;
  const f64 = C instanceof Float64Array;
  const esz = f64 ? 8 : 4;
  const PW = V * (16 / esz);
  const mP = Math.ceil(m / R);
  const nP = Math.ceil(n / PW);
  const ldcE = nP * PW;
  // heap layout: raw A, raw B (none for a packed operand), packed A, packed B, padded C
  const rawA = 0;
  const rawB = align64(rawA + (heapA ? 0 : m * k * esz));
  const pkA = align64(rawB + (heapB ? 0 : k * n * esz));
  const pkB = align64(pkA + mP * R * k * esz);
  const pkC = align64(pkB + nP * PW * k * esz);
  const end = pkC + mP * R * ldcE * esz;
  const scratchA = align64(end);
  const scratchB = align64(scratchA + (heapA ? A.scratchBytes(R) : 0));
  const base = reserveHeap(scratchB + (heapB ? B.scratchBytes(PW) : 0));
  if (base < 0) return false;
  const buf = wasmMemory().buffer;
  const mem = f64 ? new Float64Array(buf) : new Float32Array(buf);
  if (heapA) A.write(base + pkA, base + scratchA, R, ks.shape.KC);
  else mem.set(A.subarray(0, m * k), (base + rawA) / esz);
  if (heapB) B.write(base + pkB, base + scratchB, PW, ks.shape.KC);
  else mem.set(B.subarray(0, k * n), (base + rawB) / esz);
  const tag = f64 ? "64" : "32";
  const t0 = opts.timings ? performance.now() : 0;
  // small products run on the calling thread alone (waking workers costs more than they save)
  const threads = m * n * k >= PARALLEL_MIN_WORK ? threadCount() : 1;
  // pack A: panel dimension m, depth k
  const aJ = opts.transA ? esz : k * esz;
  const aP = opts.transA ? m * esz : esz;
  const ppcA = Math.max(1, Math.ceil(mP / (threads * 4)));
  if (!heapA) parallelFor(ks.mod, `packA${tag}`, Math.ceil(mP / ppcA), [base + rawA, base + pkA, m, k, aJ, aP, mP, ppcA], threads === 1);
  // pack B: panel dimension n, depth k
  const bJ = opts.transB ? k * esz : esz;
  const bP = opts.transB ? esz : n * esz;
  const ppcB = Math.max(1, Math.ceil(nP / (threads * 4)));
  if (!heapB)
    parallelFor(ks.mod, opts.transB ? `packB${tag}` : `packBc${tag}`, Math.ceil(nP / ppcB), [base + rawB, base + pkB, n, k, bJ, bP, nP, ppcB], threads === 1);
  // the product, in chunks of MCp row panels × NCp column panels
  const MCp = Math.max(1, Math.round((opts.mc ?? 48) / R), Math.ceil(mP / 32768));
  const nRB = Math.ceil(mP / MCp);
  let NCp = Math.max(1, Math.round((opts.nc ?? 1 << 30) / PW));
  if (opts.nc === undefined) {
    // a packed B that does not stay in cache between row blocks is read in column blocks
    // of about B_BLOCK_BYTES, each finished by every row block before the next one
    if (k * n * esz > B_CACHED_BYTES) NCp = Math.max(MIN_BLOCK_PANELS, Math.floor(B_BLOCK_BYTES / (k * PW * esz)));
    // split columns further when there are few row blocks for the threads
    if (threads > 1 && nRB < threads * 4) NCp = Math.min(NCp, Math.max(1, Math.ceil(nP / Math.ceil((threads * 4) / nRB))));
  }
  // at most MAX_CHUNKS chunks (parallelFor's limit): widen the column blocks if needed
  NCp = Math.max(NCp, Math.ceil(nP / Math.floor(MAX_CHUNKS / nRB)));
  const nCB = Math.ceil(nP / NCp);
  const t1 = opts.timings ? performance.now() : 0;
  parallelFor(ks.mod, `mm${tag}`, nRB * nCB, [base + pkA, base + pkB, base + pkC, mP, nP, k, ldcE * esz, MCp, NCp, nRB], threads === 1);
  if (opts.timings) {
    opts.timings.pack += t1 - t0;
    opts.timings.kernel += performance.now() - t1;
  }
  const c0 = (base + pkC) / esz;
  if (ldcE === n) C.set(mem.subarray(c0, c0 + m * n));
  else for (let i = 0; i < m; i++) C.set(mem.subarray(c0 + i * ldcE, c0 + i * ldcE + n), i * n);
  return true;
}
