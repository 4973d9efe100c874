/**
 * The bulk of the float64 Cholesky factorization in WebAssembly SIMD: for rows i and
 * i+1, the entries left of the diagonal (`choleskyRowPair` of
 * src/primitives/linalg_kernels.ts, which does the same in JavaScript). Each entry pair
 * `L[i..i+1, j..j+3]` is a 2×4 block of dot products over `k < j`, run on f64x2 lanes
 * with eight vector accumulators (eight independent chains, the six loads of a step
 * shared by eight products), then finished by scalar substitutions; a last pair of
 * columns runs as a 2×2 block.
 *
 * {@link choleskyRowPairWasm} is the CPU backend's `linalg.choleskyRowPair` (see
 * `LinalgKernels` in src/backends/backend.ts): the matrix lives in the runtime's heap
 * while it is factored.
 *
 * And {@link trsmWasm}, its `linalg.trsm`: the triangular solve with several right-hand
 * sides (`trsmLeft` of src/primitives/linalg_kernels.ts):
 * every update of a row of X by another is an f64x2 axpy along the row.
 * @module
 */
import { F64, FuncBuilder, I32, OP, SIMD, SIMD_OPS, V128 } from "./emit.js";
import { type WasmModule, loadModule, reserveHeap, wasmAvailable, wasmMemory } from "./runtime.js";

const F64_SUB = 0xa1;
const F64_MUL = 0xa2;
const F64_DIV = 0xa3;

/** `rows2(A, n, i)`: the row-pair step on the n×n row-major float64 matrix at byte `A` (i even). */
function rowPairKernel(): FuncBuilder {
  const f = new FuncBuilder([I32, I32, I32]);
  const [A, n, i] = [0, 1, 2];
  const rowB = f.local(I32),
    ri = f.local(I32),
    rk = f.local(I32),
    rj = f.local(I32),
    rl = f.local(I32);
  const j = f.local(I32),
    kb = f.local(I32),
    kEnd = f.local(I32),
    kEnd2 = f.local(I32),
    jb = f.local(I32);
  const acc = Array.from({ length: 8 }, () => f.local(V128));
  const x0 = f.local(V128),
    x1 = f.local(V128),
    y0 = f.local(V128),
    y1 = f.local(V128);
  const s = Array.from({ length: 4 }, () => f.local(F64));
  const d0 = f.local(F64),
    l0 = f.local(F64),
    l1 = f.local(F64),
    e = f.local(F64),
    d1 = f.local(F64);
  // the 4-column block: rows j..j+3, 8 accumulators (2 rows × 4 columns), 6 loads per step
  const rows4 = Array.from({ length: 4 }, () => f.local(I32));
  const acc4 = Array.from({ length: 8 }, () => f.local(V128));
  const y4 = Array.from({ length: 4 }, () => f.local(V128));
  const lr = Array.from({ length: 8 }, () => f.local(F64));
  const zero = new Array<number>(16).fill(0);
  const load = (ptr: number, off: number, into: number): void => {
    f.get(ptr).get(kb).op(OP.i32Add).simd(SIMD.v128Load, { align: 0, offset: off }).set(into);
  };
  /** One f64x2 step (16 bytes at `off` past kb) into accumulators base..base+3. */
  const step = (off: number, base: number): void => {
    load(ri, off, x0);
    load(rk, off, x1);
    load(rj, off, y0);
    load(rl, off, y1);
    const pairs: [number, number][] = [
      [x0, y0],
      [x0, y1],
      [x1, y0],
      [x1, y1],
    ];
    pairs.forEach(([x, y], q) =>
      f
        .get(acc[base + q]!)
        .get(x)
        .get(y)
        .simd(SIMD.f64x2Mul)
        .simd(SIMD.f64x2Add)
        .set(acc[base + q]!),
    );
  };
  /** Pushes the f64 at byte `ptr + jb + off`. */
  const ld = (ptr: number, off: number): void => {
    f.get(ptr).get(jb).op(OP.i32Add).mem(OP.f64Load, 3, off);
  };
  f.get(n).i32(3).op(OP.i32Shl).set(rowB);
  f.get(A).get(i).get(rowB).op(OP.i32Mul).op(OP.i32Add).set(ri);
  f.get(ri).get(rowB).op(OP.i32Add).set(rk);
  f.i32(0).set(j);
  // blocks of four columns while j + 3 < i
  f.whileLoop(
    () => f.get(j).i32(3).op(OP.i32Add).get(i).op(OP.i32GeS),
    () => {
      f.get(A).get(j).get(rowB).op(OP.i32Mul).op(OP.i32Add).set(rows4[0]!);
      for (let c = 1; c < 4; c++)
        f.get(rows4[c - 1]!)
          .get(rowB)
          .op(OP.i32Add)
          .set(rows4[c]!);
      for (const a of acc4) f.v128(zero).set(a);
      f.i32(0).set(kb);
      f.get(j).i32(3).op(OP.i32Shl).tee(jb).set(kEnd);
      f.whileLoop(
        () => f.get(kb).get(kEnd).op(OP.i32GeS),
        () => {
          load(ri, 0, x0);
          load(rk, 0, x1);
          for (let c = 0; c < 4; c++) load(rows4[c]!, 0, y4[c]!);
          for (let r = 0; r < 2; r++) {
            for (let c = 0; c < 4; c++) {
              const q = acc4[r * 4 + c]!;
              f.get(q)
                .get(r === 0 ? x0 : x1)
                .get(y4[c]!)
                .simd(SIMD.f64x2Mul)
                .simd(SIMD.f64x2Add)
                .set(q);
            }
          }
          f.get(kb).i32(16).op(OP.i32Add).set(kb);
        },
      );
      // L[r, j+c] = (A[r, j+c] - Σ_{k<j} - Σ_{p<c} L[r, j+p] L[j+c, j+p]) / L[j+c, j+c], for rows r = i, i+1
      for (let r = 0; r < 2; r++) {
        const rr = r === 0 ? ri : rk;
        for (let c = 0; c < 4; c++) {
          const q = acc4[r * 4 + c]!;
          f.get(rr).get(jb).op(OP.i32Add); // the store address
          ld(rr, c * 8);
          f.get(q).lane(SIMD_OPS.f64x2ExtractLane, 0).get(q).lane(SIMD_OPS.f64x2ExtractLane, 1).op(OP.f64Add).op(F64_SUB);
          for (let pp = 0; pp < c; pp++) {
            f.get(lr[r * 4 + pp]!);
            ld(rows4[c]!, pp * 8);
            f.op(F64_MUL).op(F64_SUB);
          }
          ld(rows4[c]!, c * 8);
          f.op(F64_DIV)
            .tee(lr[r * 4 + c]!)
            .mem(OP.f64Store, 3, c * 8);
        }
      }
      f.get(j).i32(4).op(OP.i32Add).set(j);
    },
  );
  // a last pair of columns (i - j is 0 or 2 here)
  f.whileLoop(
    () => f.get(j).get(i).op(OP.i32GeS),
    () => {
      f.get(A).get(j).get(rowB).op(OP.i32Mul).op(OP.i32Add).set(rj);
      f.get(rj).get(rowB).op(OP.i32Add).set(rl);
      for (const a of acc) f.v128(zero).set(a);
      f.i32(0).set(kb);
      f.get(j).i32(3).op(OP.i32Shl).tee(jb).set(kEnd);
      f.get(kEnd).i32(16).op(OP.i32Sub).set(kEnd2);
      f.whileLoop(
        () => f.get(kb).get(kEnd2).op(OP.i32GeS),
        () => {
          step(0, 0);
          step(16, 4);
          f.get(kb).i32(32).op(OP.i32Add).set(kb);
        },
      );
      f.get(kb)
        .get(kEnd)
        .op(OP.i32LtS)
        .ifThen(() => step(0, 0));
      for (let q = 0; q < 4; q++) {
        f.get(acc[q]!)
          .get(acc[q + 4]!)
          .simd(SIMD.f64x2Add)
          .set(acc[q]!);
        f.get(acc[q]!).lane(SIMD_OPS.f64x2ExtractLane, 0).get(acc[q]!).lane(SIMD_OPS.f64x2ExtractLane, 1).op(OP.f64Add).set(s[q]!);
      }
      // d0 = L[j, j]; L[i, j] and L[i+1, j]
      ld(rj, 0);
      f.set(d0);
      f.get(ri).get(jb).op(OP.i32Add);
      ld(ri, 0);
      f.get(s[0]!).op(F64_SUB).get(d0).op(F64_DIV).tee(l0).mem(OP.f64Store, 3, 0);
      f.get(rk).get(jb).op(OP.i32Add);
      ld(rk, 0);
      f.get(s[2]!).op(F64_SUB).get(d0).op(F64_DIV).tee(l1).mem(OP.f64Store, 3, 0);
      // e = L[j+1, j], d1 = L[j+1, j+1]; L[i, j+1] and L[i+1, j+1]
      ld(rl, 0);
      f.set(e);
      ld(rl, 8);
      f.set(d1);
      f.get(ri).get(jb).op(OP.i32Add);
      ld(ri, 8);
      f.get(s[1]!).op(F64_SUB).get(l0).get(e).op(F64_MUL).op(F64_SUB).get(d1).op(F64_DIV).mem(OP.f64Store, 3, 8);
      f.get(rk).get(jb).op(OP.i32Add);
      ld(rk, 8);
      f.get(s[3]!).op(F64_SUB).get(l1).get(e).op(F64_MUL).op(F64_SUB).get(d1).op(F64_DIV).mem(OP.f64Store, 3, 8);
      f.get(j).i32(2).op(OP.i32Add).set(j);
    },
  );
  return f;
}

/**
 * `trsm(T, X, n, m, lower, trans, unit)`: `op(T) X = B` in place for the n×n float64
 * triangular T at byte `T` and the n×m right-hand side at byte `X`, by rows as
 * `trsmLeft` (the same order of operations, so the same results).
 */
function trsmKernel(): FuncBuilder {
  const f = new FuncBuilder([I32, I32, I32, I32, I32, I32, I32]);
  const [T, X, n, m, lower, trans, unit] = [0, 1, 2, 3, 4, 5, 6];
  const s = f.local(I32),
    i = f.local(I32),
    k = f.local(I32),
    kEnd = f.local(I32),
    down = f.local(I32);
  const rowT = f.local(I32),
    rowXi = f.local(I32),
    rowXk = f.local(I32),
    p = f.local(I32),
    m2 = f.local(I32),
    mB = f.local(I32);
  const c = f.local(F64),
    cv = f.local(V128);
  const F64_NE = 0x62;
  /** `dst[0..m) -= c · src[0..m)` for rows at bytes dst and src, with c in `c`/`cv`. */
  const axpy = (dst: number, src: number): void => {
    f.i32(0).set(p);
    f.whileLoop(
      () => f.get(p).get(m2).op(OP.i32GeS),
      () => {
        f.get(dst).get(p).op(OP.i32Add);
        f.get(dst).get(p).op(OP.i32Add).simd(SIMD.v128Load, { align: 0, offset: 0 });
        f.get(cv).get(src).get(p).op(OP.i32Add).simd(SIMD.v128Load, { align: 0, offset: 0 }).simd(SIMD.f64x2Mul).simd(SIMD_OPS.f64x2Sub);
        f.simd(SIMD.v128Store, { align: 0, offset: 0 });
        f.get(p).i32(16).op(OP.i32Add).set(p);
      },
    );
    f.get(p)
      .get(mB)
      .op(OP.i32LtS)
      .ifThen(() => {
        f.get(dst).get(p).op(OP.i32Add);
        f.get(dst).get(p).op(OP.i32Add).mem(OP.f64Load, 3, 0);
        f.get(c).get(src).get(p).op(OP.i32Add).mem(OP.f64Load, 3, 0).op(F64_MUL).op(F64_SUB);
        f.mem(OP.f64Store, 3, 0);
      });
  };
  /** Row i of X times 1 / T[i, i] (unless the diagonal is unit). */
  const scale = (): void => {
    f.get(unit)
      .op(OP.i32Eqz)
      .ifThen(() => {
        f.f64(1).get(rowT).get(i).i32(3).op(OP.i32Shl).op(OP.i32Add).mem(OP.f64Load, 3, 0).op(F64_DIV).set(c);
        f.get(c).simd(SIMD.f64x2Splat).set(cv);
        f.i32(0).set(p);
        f.whileLoop(
          () => f.get(p).get(m2).op(OP.i32GeS),
          () => {
            f.get(rowXi).get(p).op(OP.i32Add);
            f.get(rowXi).get(p).op(OP.i32Add).simd(SIMD.v128Load, { align: 0, offset: 0 }).get(cv).simd(SIMD.f64x2Mul);
            f.simd(SIMD.v128Store, { align: 0, offset: 0 });
            f.get(p).i32(16).op(OP.i32Add).set(p);
          },
        );
        f.get(p)
          .get(mB)
          .op(OP.i32LtS)
          .ifThen(() => {
            f.get(rowXi).get(p).op(OP.i32Add);
            f.get(rowXi).get(p).op(OP.i32Add).mem(OP.f64Load, 3, 0).get(c).op(F64_MUL);
            f.mem(OP.f64Store, 3, 0);
          });
      });
  };
  // mB: bytes per row of X; m2: the byte offset up to which whole f64x2 pairs remain (p < m2 <=> p + 16 <= mB)
  f.get(m).i32(3).op(OP.i32Shl).tee(mB).i32(8).op(OP.i32Sub).set(m2);
  f.get(lower).get(trans).op(OP.i32Ne).set(down);
  f.i32(0).set(s);
  f.whileLoop(
    () => f.get(s).get(n).op(OP.i32GeS),
    () => {
      // i = down ? s : n - 1 - s
      f.get(s).get(n).i32(1).op(OP.i32Sub).get(s).op(OP.i32Sub).get(down).op(OP.select).set(i);
      f.get(T).get(i).get(n).op(OP.i32Mul).i32(3).op(OP.i32Shl).op(OP.i32Add).set(rowT);
      f.get(X).get(i).get(mB).op(OP.i32Mul).op(OP.i32Add).set(rowXi);
      // k from (lower ? 0 : i + 1) to (lower ? i : n)
      f.i32(0).get(i).i32(1).op(OP.i32Add).get(lower).op(OP.select).set(k);
      f.get(i).get(n).get(lower).op(OP.select).set(kEnd);
      f.get(trans).ifThen(scale);
      f.whileLoop(
        () => f.get(k).get(kEnd).op(OP.i32GeS),
        () => {
          f.get(rowT).get(k).i32(3).op(OP.i32Shl).op(OP.i32Add).mem(OP.f64Load, 3, 0).tee(c).f64(0).op(F64_NE);
          f.ifThen(() => {
            f.get(c).simd(SIMD.f64x2Splat).set(cv);
            f.get(X).get(k).get(mB).op(OP.i32Mul).op(OP.i32Add).set(rowXk);
            // without trans row i takes the solved row k; with trans the solved row i goes into row k
            f.get(trans).ifThen(
              () => axpy(rowXk, rowXi),
              () => axpy(rowXi, rowXk),
            );
          });
          f.get(k).i32(1).op(OP.i32Add).set(k);
        },
      );
      f.get(trans).op(OP.i32Eqz).ifThen(scale);
      f.get(s).i32(1).op(OP.i32Add).set(s);
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
          { name: "rows2", fn: rowPairKernel() },
          { name: "trsm", fn: trsmKernel() },
        ])
      : null;
  } catch {
    mod = null; // no WebAssembly SIMD here: the JavaScript loops run instead
  }
  return mod;
}

/**
 * The row-pair step of the Cholesky factorization on an n×n matrix in the runtime's
 * heap: returns the heap view to factor in and the step, or null when WebAssembly SIMD
 * is unavailable or the matrix does not fit.
 */
export function choleskyRowPairWasm(n: number): { view: Float64Array; rowPair: (i: number) => void } | null {
  const m = getModule();
  if (m === null) return null;
  const base = reserveHeap(n * n * 8);
  if (base < 0) return null;
  const view = new Float64Array(wasmMemory().buffer, base, n * n);
  const rows2 = m.exports.rows2!;
  return { view, rowPair: (i) => void rows2(base, n, i) };
}

/**
 * `trsmLeft` (src/primitives/linalg_kernels.ts) in WebAssembly SIMD: T and X are
 * copied into the runtime's heap, solved there and X copied back. Returns false when
 * WebAssembly SIMD is unavailable or the operands do not fit (the caller runs the
 * JavaScript loops).
 */
export function trsmWasm(t: Float64Array, n: number, lower: boolean, trans: boolean, unitDiagonal: boolean, x: Float64Array, m: number): boolean {
  const md = getModule();
  if (md === null) return false;
  const base = reserveHeap((n * n + n * m) * 8);
  if (base < 0) return false;
  const heap = new Float64Array(wasmMemory().buffer, base, n * n + n * m);
  heap.set(t.subarray(0, n * n));
  heap.set(x.subarray(0, n * m), n * n);
  md.exports.trsm!(base, base + n * n * 8, n, m, lower ? 1 : 0, trans ? 1 : 0, unitDiagonal ? 1 : 0);
  x.set(heap.subarray(n * n, n * n + n * m));
  return true;
}
