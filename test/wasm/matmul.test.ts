/**
 * The WebAssembly SIMD matmul kernel (src/backends/wasm/matmul.ts) against a float64
 * triple-loop reference: ragged shapes (not multiples of the 4 × 8 register tile, the
 * 256-deep k blocks or the row chunks), transposed operand layouts, float32 and
 * float64, and the same bits on one thread and on several; likewise the matrix-vector
 * kernels behind narrow products (m or n at most 4, one to four vectors per call).
 */
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { matmulWasm, wasmMatmulAvailable } from "../../src/backends/wasm/matmul.js";
import { setThreadCount, threadCount } from "../../src/backends/wasm/runtime.js";
import { gemvWasm, setGemvColumnPanel, setGemvParallelMinWork } from "../../src/backends/wasm/gemv.js";
import { np } from "../../src/index.js";

type Buf = Float32Array | Float64Array;

/**
 * `op(A)·op(B)` in float64, with `op` a transpose when the flag is set (A stored k×m,
 * B stored n×k), and the per-element bound `Σ|a||b|` for tolerances.
 */
function reference(
  A: ArrayLike<number>,
  B: ArrayLike<number>,
  m: number,
  k: number,
  n: number,
  transA = false,
  transB = false,
): { C: Float64Array; S: Float64Array } {
  const C = new Float64Array(m * n);
  const S = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let c = 0;
      let s = 0;
      for (let p = 0; p < k; p++) {
        const a = transA ? A[p * m + i]! : A[i * k + p]!;
        const b = transB ? B[j * k + p]! : B[p * n + j]!;
        c += a * b;
        s += Math.abs(a * b);
      }
      C[i * n + j] = c;
      S[i * n + j] = s;
    }
  return { C, S };
}

function random(len: number, f64: boolean, seed: number): Buf {
  let s = seed >>> 0;
  const a = f64 ? new Float64Array(len) : new Float32Array(len);
  for (let i = 0; i < len; i++) a[i] = ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
  return a;
}

/** Runs the kernel and checks every element against the reference: error <= c·k·eps·Σ|a||b|. */
function check(
  m: number,
  k: number,
  n: number,
  opts: { f64?: boolean; transA?: boolean; transB?: boolean; seed?: number; mc?: number; nc?: number } = {},
): Buf {
  const f64 = opts.f64 ?? false;
  const seed = opts.seed ?? 1;
  const A = random(m * k, f64, seed);
  const B = random(k * n, f64, seed + 7);
  const C = f64 ? new Float64Array(m * n).fill(NaN) : new Float32Array(m * n).fill(NaN);
  expect(matmulWasm(A, B, C, m, k, n, { transA: opts.transA, transB: opts.transB, mc: opts.mc, nc: opts.nc })).toBe(true);
  const { C: R, S } = reference(A, B, m, k, n, opts.transA, opts.transB);
  const eps = f64 ? 2 ** -52 : 2 ** -23;
  for (let i = 0; i < m * n; i++) {
    const err = Math.abs(C[i]! - R[i]!);
    if (!(err <= 2 * (k + 1) * eps * S[i]! + 1e-300))
      throw new Error(
        `${m}x${k}x${n} f64=${f64} transA=${opts.transA} transB=${opts.transB}: C[${i}] = ${C[i]}, reference ${R[i]} (error ${err}, bound ${2 * (k + 1) * eps * S[i]!})`,
      );
  }
  return C;
}

describe("WebAssembly SIMD matmul", () => {
  const threads = threadCount();
  afterAll(() => setThreadCount(threads));

  it("is available in Node 20", () => {
    expect(wasmMatmulAvailable()).toBe(true);
  });

  it("matches a float64 reference on odd shapes, in every layout, float32 and float64", () => {
    const shapes: [number, number, number][] = [
      [1, 1, 1],
      [1, 7, 1],
      [3, 1, 5],
      [4, 256, 8],
      [5, 257, 9],
      [13, 97, 31],
      [97, 61, 3],
      [2, 513, 131],
      [67, 300, 17],
    ];
    for (const [m, k, n] of shapes)
      for (const f64 of [false, true])
        for (const transA of [false, true]) for (const transB of [false, true]) check(m, k, n, { f64, transA, transB, seed: m * 31 + k });
  });

  it("stays within float32 tolerance for k = 1024 (four k blocks) on a large, ragged product", () => {
    check(131, 1024, 77);
    check(64, 1024, 64, { transA: true });
    check(64, 1024, 64, { transB: true, f64: true });
  });

  it("chunks of C in row and column blocks: ragged blocks in every layout, and more blocks than one job may have", () => {
    // explicit blocks: 3 row panels x 3 column panels per chunk, ragged at both ends
    for (const transA of [false, true]) for (const transB of [false, true]) check(53, 300, 83, { transA, transB, mc: 12, nc: 24, seed: 5 });
    check(30, 70, 50, { f64: true, transB: true, mc: 8, nc: 8, seed: 6 });
    // 250 row blocks x 263 column blocks is past parallelFor's 65535 chunks: the column blocks widen
    check(1000, 3, 2100, { mc: 4, nc: 8, seed: 7 });
  });

  it("a packed B larger than the cache is read in column blocks: float32 and float64, transposed layouts, the same bits on one thread and on several", () => {
    // float32: k·n·4 = 4.5 MB, float64: k·n·8 = 4.3 MB, both above the 4 MB where column blocking starts
    check(13, 1100, 1030, { seed: 8 });
    check(9, 1100, 1030, { transA: true, transB: true, seed: 9 });
    check(11, 700, 770, { f64: true, transB: true, seed: 10 });
    const A = random(61 * 1100, false, 11);
    const B = random(1100 * 1030, false, 12);
    const run = (t: number): Float32Array => {
      setThreadCount(t);
      const C = new Float32Array(61 * 1030);
      matmulWasm(A, B, C, 61, 1100, 1030);
      return C;
    };
    expect(run(2)).toEqual(run(1));
  });

  it("property: random shapes and layouts match the reference", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 600 }),
        fc.integer({ min: 1, max: 40 }),
        fc.boolean(),
        fc.boolean(),
        fc.boolean(),
        fc.integer(),
        (m, k, n, f64, transA, transB, seed) => {
          check(m, k, n, { f64, transA, transB, seed });
        },
      ),
      { numRuns: 80 },
    );
  });

  it("writes exact products of small integers and leaves nothing stale between calls", () => {
    const A = Float32Array.from({ length: 6 * 5 }, (_, i) => (i % 7) - 3);
    const B = Float32Array.from({ length: 5 * 9 }, (_, i) => (i % 5) - 2);
    const C1 = new Float32Array(6 * 9);
    matmulWasm(A, B, C1, 6, 5, 9);
    expect(Array.from(C1)).toEqual(Array.from(reference(A, B, 6, 5, 9).C));
    const C2 = new Float32Array(2 * 2);
    matmulWasm(new Float32Array([1, 2, 3, 4]), new Float32Array([1, 0, 0, 1]), C2, 2, 2, 2);
    expect(Array.from(C2)).toEqual([1, 2, 3, 4]);
    // k = 0: the empty sum
    const C3 = new Float32Array(6).fill(5);
    expect(matmulWasm(new Float32Array(0), new Float32Array(0), C3, 2, 0, 3)).toBe(true);
    expect(Array.from(C3)).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it("gives the same bits on one thread and on several", () => {
    const A = random(200 * 300, false, 3);
    const B = random(300 * 170, false, 4);
    const run = (t: number): Float32Array => {
      setThreadCount(t);
      const C = new Float32Array(200 * 170);
      matmulWasm(A, B, C, 200, 300, 170);
      return C;
    };
    const one = run(1);
    const two = run(2);
    expect(two).toEqual(one);
    const { C: R, S } = reference(A, B, 200, 300, 170);
    for (let i = 0; i < R.length; i++) expect(Math.abs(one[i]! - R[i]!)).toBeLessThanOrEqual(2 * 301 * 2 ** -23 * S[i]!);
  });

  it("np.matmul with broadcast batch dimensions takes the Wasm path per batch element", () => {
    const [b, m, k, n] = [3, 33, 45, 37];
    const A = random(b * m * k, false, 5);
    const B = random(k * n, false, 6);
    const C = np.matmul(np.array(A).reshape([b, m, k]), np.array(B).reshape([1, k, n]));
    expect(C.shape).toEqual([b, m, n]);
    const got = C.data() as Float32Array;
    for (let t = 0; t < b; t++) {
      const { C: R, S } = reference(A.subarray(t * m * k, (t + 1) * m * k), B, m, k, n);
      for (let i = 0; i < m * n; i++) expect(Math.abs(got[t * m * n + i]! - R[i]!)).toBeLessThanOrEqual(2 * (k + 1) * 2 ** -23 * S[i]!);
    }
  });
});

describe.runIf(wasmMatmulAvailable())("matrix-vector products (the gemv kernels behind matmulWasm when m or n is at most 4)", () => {
  const start = threadCount();
  // products this small stay on one thread by default; split them so the thread tests below test something
  const minWork = setGemvParallelMinWork(0);
  afterAll(() => {
    setThreadCount(start);
    setGemvParallelMinWork(minWork);
  });

  it("A·x, Aᵀ·x, xᵀ·B and xᵀ·Bᵀ agree with the float64 reference at ragged sizes, float32 and float64", () => {
    const lens = [1, 3, 7, 8, 9, 17, 33, 100, 257];
    const outs = [1, 2, 15, 16, 17, 31, 33, 100];
    let seed = 100;
    for (const f64 of [false, true])
      for (const k of lens)
        for (const o of outs) {
          check(o, k, 1, { f64, seed: seed++ }); // A·x: rows kernel
          check(o, k, 1, { f64, transA: true, seed: seed++ }); // Aᵀ·x: columns kernel
          check(1, k, o, { f64, seed: seed++ }); // xᵀ·B: columns kernel
          check(1, k, o, { f64, transB: true, seed: seed++ }); // xᵀ·Bᵀ: rows kernel
        }
  });

  it("narrow products (n or m from 2 to 4) agree with the float64 reference in every layout, float32 and float64", () => {
    // k: below, at and past the SIMD width and the two-vector step; the other side: below,
    // at and past the column kernel's register blocks (4·4 or 2·4 float32 columns, half in float64)
    const lens = [1, 3, 5, 8, 9, 17, 35, 101];
    const others = [1, 2, 5, 7, 9, 15, 17, 33, 70];
    let seed = 500;
    for (const f64 of [false, true])
      for (const K of [2, 3, 4])
        for (const k of lens)
          for (const o of others)
            for (const transA of [false, true])
              for (const transB of [false, true]) {
                check(o, k, K, { f64, transA, transB, seed: seed++ }); // K columns of op(B)
                check(K, k, o, { f64, transA, transB, seed: seed++ }); // K rows of op(A)
              }
  });

  it("each column (row) of a narrow product has the bits of the matrix-vector product with that column (row) alone", () => {
    const [o, k] = [37, 203];
    for (const f64 of [false, true])
      for (const K of [2, 3, 4])
        for (const transA of [false, true])
          for (const transB of [false, true]) {
            const make = (len: number): Buf => (f64 ? new Float64Array(len) : new Float32Array(len));
            // n = K: C (o×K) against op(A)·b_c
            const A = random(o * k, f64, K + 11);
            const B = random(k * K, f64, K + 12);
            const C = make(o * K);
            expect(matmulWasm(A, B, C, o, k, K, { transA, transB })).toBe(true);
            for (let c = 0; c < K; c++) {
              const b = make(k);
              for (let p = 0; p < k; p++) b[p] = transB ? B[c * k + p]! : B[p * K + c]!;
              const y = make(o);
              expect(matmulWasm(A, b, y, o, k, 1, { transA })).toBe(true);
              for (let i = 0; i < o; i++) expect(C[i * K + c]).toBe(y[i]);
            }
            // m = K: C (K×o) against a_rᵀ·op(B)
            const X = random(K * k, f64, K + 13);
            const D = make(K * o);
            expect(matmulWasm(X, A, D, K, k, o, { transA, transB })).toBe(true);
            for (let r = 0; r < K; r++) {
              const a = make(k);
              for (let p = 0; p < k; p++) a[p] = transA ? X[p * K + r]! : X[r * k + p]!;
              const y = make(o);
              expect(matmulWasm(a, A, y, 1, k, o, { transB })).toBe(true);
              expect(Array.from(D.subarray(r * o, (r + 1) * o))).toEqual(Array.from(y));
            }
          }
  });

  it("the column kernel sums each output over p in increasing order from zero, in the working float type, bit for bit, whatever its panels", () => {
    // y_c[j] = Σ_p v_c[p]·M[p, j] summed left to right from +0, one rounding per multiply and per add
    const plainLoop = (M: Buf, V: Buf, len: number, outs: number, K: number, f64: boolean): number[] => {
      const y: number[] = [];
      for (let c = 0; c < K; c++)
        for (let j = 0; j < outs; j++) {
          let s = 0;
          for (let p = 0; p < len; p++) s = f64 ? s + V[c * len + p]! * M[p * outs + j]! : Math.fround(s + Math.fround(V[c * len + p]! * M[p * outs + j]!));
          y.push(s);
        }
      return y;
    };
    const prev = setGemvColumnPanel(0);
    try {
      // 1029 columns: 64 register blocks of 16 float32 columns (128 of 8 float64; half as
      // wide for 3 or 4 vectors) and 5 more, so whole blocks, single v128s and single
      // columns, and on two threads 8 chunks of which the last is ragged; 37 rows in panels
      // of 1, 3 (12 and 1 row) or 8 (4 and 5 rows), or in one panel (1000 rows per panel
      // or more). Panels picked by size (0): none on the small shapes; on 300 × 1029, of 8
      // rows for 1 to 3 vectors (and none for 4); on 256 × 1024 (rows of 4 or 8 KiB), of 8
      // rows for 1 and 2 vectors, and for 3 of 4 rows in float64 (none in float32: 1 MiB).
      const shapes: [number, number][] = [
        [37, 1029],
        [37, 3],
        [1, 5],
        [0, 6],
        [300, 1029],
        [256, 1024],
      ];
      let seed = 900;
      for (const f64 of [false, true])
        for (const [len, outs] of shapes)
          for (let K = 1; K <= 4; K++) {
            const M = random(len * outs, f64, seed++);
            const V = random(K * len, f64, seed++);
            const want = plainLoop(M, V, len, outs, K, f64);
            for (const panel of [0, 1, 3, 8, 1000]) {
              setGemvColumnPanel(panel);
              for (const t of [1, 2]) {
                setThreadCount(t);
                const Y = f64 ? new Float64Array(K * outs).fill(NaN) : new Float32Array(K * outs).fill(NaN);
                expect(gemvWasm(M, V, Y, { outs, len, byRows: false, K, vecStride: len, elemStride: 1, outVec: outs, outStep: 1 })).toBe(true);
                const bad = want.findIndex((w, i) => !Object.is(w, Y[i]));
                expect(bad, `panel ${panel} f64=${f64} ${len}x${outs} K=${K} threads=${t}: y[${bad}] = ${Y[bad]}, plain loop ${want[bad]}`).toBe(-1);
              }
            }
          }
    } finally {
      setGemvColumnPanel(prev);
    }
  });

  it("a 1000 x 1000 matrix times 2 or 3 vectors gives the same bits on one thread and on several", () => {
    for (const transA of [false, true])
      for (const transB of [false, true]) {
        const run = (t: number, narrowM: boolean): Buf => {
          setThreadCount(t);
          return narrowM ? check(3, 1000, 1000, { transA, transB, seed: 21 }) : check(1000, 1000, 2, { transA, transB, seed: 20 });
        };
        expect(run(2, false)).toEqual(run(1, false));
        expect(run(2, true)).toEqual(run(1, true));
      }
  });

  it("a 1000 x 1000 matrix-vector product gives the same bits on one thread and on several", () => {
    for (const transA of [false, true]) {
      const run = (t: number): Buf => {
        setThreadCount(t);
        return check(1000, 1000, 1, { transA, seed: 9 });
      };
      expect(run(2)).toEqual(run(1));
    }
  });
});
