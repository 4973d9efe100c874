/**
 * A WebAssembly SIMD matrix multiply: B is packed into panels of `PW` columns, the
 * kernel keeps a 4 × PW tile of C in eight v128 registers while it walks a
 * `KC`-deep slice of A and the packed panel, and the k dimension is blocked so the
 * panel stays in L1 and the A block in L2.
 * @module
 */
import { F32, F64, FuncBuilder, I32, OP, SIMD, V128, buildModule } from "./emit.js";

const R = 4; // rows of the register tile
const V = 2; // v128 vectors per row of the register tile
const KC = 256; // depth of a k block

interface Variant {
  esz: number;
  lanes: number;
  load: number;
  loadAlign: number;
  splat: number;
  add: number;
  mul: number;
}
const F32V: Variant = { esz: 4, lanes: 4, load: OP.f32Load, loadAlign: 2, splat: SIMD.f32x4Splat, add: SIMD.f32x4Add, mul: SIMD.f32x4Mul };
const F64V: Variant = { esz: 8, lanes: 2, load: OP.f64Load, loadAlign: 3, splat: SIMD.f64x2Splat, add: SIMD.f64x2Add, mul: SIMD.f64x2Mul };

/** kernel(a, bPacked, c, m4, nPanels, kc, ldaBytes, ldcBytes): C[0:m4, panels] += A[0:m4, 0:kc] · Bpanels. */
function kernel(t: Variant): FuncBuilder {
  const f = new FuncBuilder([I32, I32, I32, I32, I32, I32, I32, I32]);
  const [a, bp, c, m4, np, kc, lda, ldc] = [0, 1, 2, 3, 4, 5, 6, 7];
  const jp = f.local(I32);
  const i = f.local(I32);
  const p = f.local(I32);
  const pa = f.local(I32);
  const pb = f.local(I32);
  const panel = f.local(I32);
  const crow = f.local(I32);
  const lda2 = f.local(I32);
  const lda3 = f.local(I32);
  const ldc2 = f.local(I32);
  const ldc3 = f.local(I32);
  const panelBytes = f.local(I32);
  const acc: number[][] = Array.from({ length: R }, () => Array.from({ length: V }, () => f.local(V128)));
  const bv = Array.from({ length: V }, () => f.local(V128));
  const av = f.local(V128);
  const PW = V * t.lanes;
  const rowOf = (base: number, r: number, l1: number, l2: number, l3: number): void => {
    f.get(base);
    if (r === 1) f.get(l1).op(OP.i32Add);
    if (r === 2) f.get(l2).op(OP.i32Add);
    if (r === 3) f.get(l3).op(OP.i32Add);
  };
  f.get(lda).i32(2).op(OP.i32Mul).set(lda2);
  f.get(lda).i32(3).op(OP.i32Mul).set(lda3);
  f.get(ldc).i32(2).op(OP.i32Mul).set(ldc2);
  f.get(ldc).i32(3).op(OP.i32Mul).set(ldc3);
  f.get(kc).i32(PW * t.esz).op(OP.i32Mul).set(panelBytes);
  f.i32(0).set(jp);
  f.get(bp).set(panel);
  f.whileLoop(
    () => f.get(jp).get(np).op(OP.i32GeU),
    () => {
      f.i32(0).set(i);
      f.whileLoop(
        () => f.get(i).get(m4).op(OP.i32GeU),
        () => {
          // crow = c + i*ldc + jp*PW*esz
          f.get(c).get(i).get(ldc).op(OP.i32Mul).op(OP.i32Add).get(jp).i32(PW * t.esz).op(OP.i32Mul).op(OP.i32Add).set(crow);
          for (let r = 0; r < R; r++)
            for (let v = 0; v < V; v++) {
              rowOf(crow, r, ldc, ldc2, ldc3);
              f.simd(SIMD.v128Load, { align: 4, offset: v * 16 }).set(acc[r]![v]!);
            }
          f.get(a).get(i).get(lda).op(OP.i32Mul).op(OP.i32Add).set(pa);
          f.get(panel).set(pb);
          f.get(kc).set(p);
          f.doWhile(
            () => {
              for (let v = 0; v < V; v++) f.get(pb).simd(SIMD.v128Load, { align: 4, offset: v * 16 }).set(bv[v]!);
              for (let r = 0; r < R; r++) {
                rowOf(pa, r, lda, lda2, lda3);
                f.mem(t.load, t.loadAlign, 0).simd(t.splat).set(av);
                for (let v = 0; v < V; v++) {
                  f.get(acc[r]![v]!).get(av).get(bv[v]!).simd(t.mul).simd(t.add).set(acc[r]![v]!);
                }
              }
              f.get(pa).i32(t.esz).op(OP.i32Add).set(pa);
              f.get(pb).i32(PW * t.esz).op(OP.i32Add).set(pb);
              f.get(p).i32(1).op(OP.i32Sub).tee(p);
            },
            () => {
              /* p != 0 is on the stack */
            },
          );
          for (let r = 0; r < R; r++)
            for (let v = 0; v < V; v++) {
              rowOf(crow, r, ldc, ldc2, ldc3);
              f.get(acc[r]![v]!).simd(SIMD.v128Store, { align: 4, offset: v * 16 });
            }
          f.get(i).i32(R).op(OP.i32Add).set(i);
        },
      );
      f.get(jp).i32(1).op(OP.i32Add).set(jp);
      f.get(panel).get(panelBytes).op(OP.i32Add).set(panel);
    },
  );
  return f;
}

type KernelFn = (a: number, bp: number, c: number, m4: number, np: number, kc: number, lda: number, ldc: number) => void;

let runtime: { memory: WebAssembly.Memory; mm32: KernelFn; mm64: KernelFn } | null | undefined;

function getRuntime(): typeof runtime {
  if (runtime !== undefined) return runtime;
  try {
    const bytes = buildModule([
      { name: "mm32", fn: kernel(F32V) },
      { name: "mm64", fn: kernel(F64V) },
    ]);
    const memory = new WebAssembly.Memory({ initial: 256 });
    const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { mem: memory } });
    const ex = inst.exports as { mm32: KernelFn; mm64: KernelFn };
    runtime = { memory, mm32: ex.mm32, mm64: ex.mm64 };
  } catch {
    runtime = null; // no WebAssembly SIMD here: callers fall back to JS
  }
  return runtime;
}

/** True when the SIMD kernels can run in this JS engine. */
export function wasmMatmulAvailable(): boolean {
  return getRuntime() !== null;
}

const align16 = (n: number): number => (n + 15) & ~15;

/**
 * `C = A · B` for row-major `A` (m×k) and `B` (k×n), written into `C` (m×n).
 * Returns false when WebAssembly SIMD is unavailable.
 */
export function matmulWasm(A: Float32Array | Float64Array, B: Float32Array | Float64Array, C: Float32Array | Float64Array, m: number, k: number, n: number): boolean {
  const rt = getRuntime();
  if (!rt) return false;
  const f64 = A instanceof Float64Array;
  const t = f64 ? F64V : F32V;
  const PW = V * t.lanes;
  const esz = t.esz;
  const m4 = Math.ceil(m / R) * R;
  const np = Math.ceil(n / PW);
  const ldcE = np * PW;
  const aOff = 0;
  const bOff = align16(aOff + m4 * k * esz);
  const cOff = align16(bOff + np * PW * k * esz);
  const end = cOff + m4 * ldcE * esz;
  const need = Math.ceil(end / 65536) - rt.memory.buffer.byteLength / 65536;
  if (need > 0) rt.memory.grow(need);
  const Ctor = f64 ? Float64Array : Float32Array;
  const mem = new Ctor(rt.memory.buffer);
  const a0 = aOff / esz;
  mem.set(A.subarray(0, m * k), a0);
  mem.fill(0, a0 + m * k, a0 + m4 * k);
  // pack B: for each k block, for each panel, kc rows of PW columns (zero beyond n)
  let w = bOff / esz;
  for (let kb = 0; kb < k; kb += KC) {
    const kc = Math.min(KC, k - kb);
    for (let jp = 0; jp < np; jp++) {
      const j0 = jp * PW;
      const full = j0 + PW <= n;
      for (let p = 0; p < kc; p++) {
        const row = (kb + p) * n + j0;
        if (full) {
          for (let q = 0; q < PW; q++) mem[w + q] = B[row + q]!;
        } else {
          for (let q = 0; q < PW; q++) mem[w + q] = j0 + q < n ? B[row + q]! : 0;
        }
        w += PW;
      }
    }
  }
  const c0 = cOff / esz;
  mem.fill(0, c0, c0 + m4 * ldcE);
  const mm = f64 ? rt.mm64 : rt.mm32;
  for (let kb = 0; kb < k; kb += KC) {
    const kc = Math.min(KC, k - kb);
    mm(aOff + kb * esz, bOff + kb * np * PW * esz, cOff, m4, np, kc, k * esz, ldcE * esz);
  }
  for (let i = 0; i < m; i++) C.set(mem.subarray(c0 + i * ldcE, c0 + i * ldcE + n), i * n);
  return true;
}
