/**
 * np.linalg values against NumPy/SciPy (test/fixtures/linalg.json, written by
 * scripts/fixtures_linalg.py), the defining identities of each decomposition, and the
 * behaviour on bad and singular input.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { type Array as NDArray, np } from "../../src/index.js";
import { errorMessage, expectClose } from "../helpers/numeric.js";

type Nested = number | Nested[];
const fixtures = JSON.parse(readFileSync(new URL("../fixtures/linalg.json", import.meta.url), "utf8")) as {
  cases: Record<string, Record<string, Nested | string[]>>;
};
const C = fixtures.cases;
const f64 = (x: unknown): NDArray => np.array(x as number[][], { dtype: "float64" });

/** Asserts `x` equals the nested numbers `expected` to ~1e-12 (relative to the largest entry). */
function close(x: NDArray, expected: unknown, what: string, tol = 1e-12): void {
  const e = f64(expected);
  const scale = Math.max(1, ...Array.from(e.data() as Float64Array, Math.abs));
  expectClose(x, e, { rtol: tol, atol: tol * scale }, what);
}
/** Columns of `x` equal to those of `expected` up to a sign per column (eigenvectors, singular vectors). */
function closeUpToColumnSigns(x: NDArray, expected: unknown, what: string): void {
  const e = f64(expected);
  const signs = np.sign(np.sum(np.multiply(x, e), { axis: -2, keepdims: true }));
  close(np.multiply(x, signs), expected, what, 1e-10);
}
const I = (n: number): NDArray => np.eye(n, "float64");
const maxAbs = (x: NDArray): number => Math.max(...Array.from(x.data() as Float64Array, Math.abs));
/** Strictly-lower part of the last two axes. */
const strictLower = (x: NDArray): NDArray => {
  const [m, n] = x.shape.slice(-2) as [number, number];
  const mask = np.array(
    Array.from({ length: m }, (_, i) => Array.from({ length: n }, (_, j) => (i > j ? 1 : 0))),
    { dtype: "float64" },
  );
  return np.multiply(x, mask);
};
const mT = (x: NDArray): NDArray =>
  np.transpose(
    x,
    [...x.shape.keys()].map((i, _, a) => (i < a.length - 2 ? i : i === a.length - 2 ? a.length - 1 : a.length - 2)),
  );

describe("np.linalg against NumPy/SciPy", () => {
  const spd = C.spd!;
  const gen = C.general!;
  it("cholesky, inv, det, slogdet, solve of a symmetric positive definite matrix", () => {
    const a = f64(spd.a);
    close(np.linalg.cholesky(a), spd.cholesky, "cholesky");
    close(np.linalg.inv(a), spd.inv, "inv");
    close(np.linalg.det(a), spd.det, "det");
    const [s, l] = np.linalg.slogdet(a);
    close(s, (spd.slogdet as number[])[0], "slogdet sign");
    close(l, (spd.slogdet as number[])[1], "slogdet logabsdet");
    close(np.linalg.solve(a, f64(spd.b)), spd.solve_b, "solve (vector)");
    close(np.linalg.solve(a, f64(spd.B)), spd.solve_B, "solve (matrix)");
  });
  it("eigh: eigenvalues, and eigenvectors up to sign", () => {
    const [w, v] = np.linalg.eigh(f64(spd.a));
    close(w, spd.eigh_w, "w");
    closeUpToColumnSigns(v, spd.eigh_v, "v");
  });
  it("inv, det, slogdet, solve, qr, svd of a general matrix", () => {
    const a = f64(gen.a);
    close(np.linalg.inv(a), gen.inv, "inv");
    close(np.linalg.det(a), gen.det, "det");
    const [s, l] = np.linalg.slogdet(a);
    close(s, (gen.slogdet as number[])[0], "slogdet sign");
    close(l, (gen.slogdet as number[])[1], "slogdet logabsdet");
    close(np.linalg.solve(a, f64(gen.B)), gen.solve_B, "solve");
    const [q, r] = np.linalg.qr(a);
    close(q, gen.qr_q, "q (LAPACK's signs)");
    close(r, gen.qr_r, "r (LAPACK's signs)");
    const [u, sv, vh] = np.linalg.svd(a);
    close(sv, gen.svd_s, "s");
    closeUpToColumnSigns(u, gen.svd_u, "u");
    closeUpToColumnSigns(mT(vh), mT(f64(gen.svd_vh)).toJs(), "v");
  });
  for (const name of ["tall", "wide"]) {
    it(`qr (reduced and complete) and singular values of a ${name} matrix`, () => {
      const c = C[name]!;
      const a = f64(c.a);
      const [q, r] = np.linalg.qr(a);
      close(q, c.qr_q, "q");
      close(r, c.qr_r, "r");
      const [qc, rc] = np.linalg.qr(a, { mode: "complete" });
      close(rc, c.qr_complete_r, "complete r");
      // the trailing columns of a complete q span the orthogonal complement: any orthonormal basis of it will do
      const k = Math.min(...a.shape);
      close(np.slice(qc, [0, 0], [a.shape[0]!, k]), np.slice(f64(c.qr_complete_q), [0, 0], [a.shape[0]!, k]).toJs(), "complete q (first k columns)");
      close(np.matmul(qc.T, qc), I(a.shape[0]!).toJs(), "complete q orthonormal");
      close(np.linalg.svd(a)[1], c.svd_s, "s");
    });
  }
  it("batched det, inv, slogdet, svd, eigh", () => {
    const c = C.batched!;
    const a = f64(c.a);
    close(np.linalg.det(a), c.det, "det");
    close(np.linalg.inv(a), c.inv, "inv");
    const [s, l] = np.linalg.slogdet(a);
    close(s, c.slogdet_sign, "sign");
    close(l, c.slogdet_logabsdet, "logabsdet");
    close(np.linalg.svd(a)[1], c.svd_s, "s");
    close(np.linalg.eigh(np.add(a, mT(a)))[0], c.eigh_w, "w");
  });
  it("solveTriangular: lower, upper, transposed, unit diagonal (SciPy)", () => {
    const c = C.triangular!;
    const l = f64(c.l);
    const b = f64(c.b);
    close(np.linalg.solveTriangular(l, b, { lower: true }), c.lower, "lower");
    close(np.linalg.solveTriangular(l, b, { lower: true, transA: true }), c.lower_trans, "lower, transA");
    close(np.linalg.solveTriangular(l.T, b), c.upper, "upper");
    close(np.linalg.solveTriangular(l.T, b, { transA: true }), c.upper_trans, "upper, transA");
    close(np.linalg.solveTriangular(l, b, { lower: true, unitDiagonal: true }), c.lower_unit, "unit diagonal");
    // the other triangle is never read
    close(np.linalg.solveTriangular(np.add(l, np.multiply(l.T, np.subtract(1, I(4)))), b, { lower: true }), c.lower, "upper triangle ignored");
  });
  it("a singular matrix: det 0, slogdet [0, -inf]", () => {
    const c = C.singular!;
    const a = f64(c.a);
    expect(Math.abs(np.linalg.det(a).item())).toBeLessThan(1e-15);
    expect(c.slogdet).toEqual([0, "-inf"]);
    const [s, l] = np.linalg.slogdet(a);
    expect(s.item() === 0).toBe(true); // NumPy: 0.0 (the sign of the zero is not specified)
    expect(l.item()).toBe(-Infinity);
  });
});

/** A seeded well-conditioned matrix. */
function randomMatrix(m: number, n: number, seed: number, shift = 0): NDArray {
  let s = seed;
  const next = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
  return np.array(
    Array.from({ length: m }, (_, i) => Array.from({ length: n }, (_, j) => next() + (i === j ? shift : 0))),
    { dtype: "float64" },
  );
}

describe("identities", () => {
  for (const [m, n] of [
    [5, 5],
    [7, 3],
    [3, 6],
    [1, 4],
    [4, 1],
  ] as const) {
    it(`qr of ${m}x${n}: q r == a, r upper triangular, q orthonormal`, () => {
      const a = randomMatrix(m, n, 17 * m + n);
      for (const mode of ["reduced", "complete"] as const) {
        const [q, r] = np.linalg.qr(a, { mode });
        close(np.matmul(q, r), a.toJs(), `${mode} q r`);
        expect(maxAbs(strictLower(r))).toBe(0);
        close(np.matmul(q.T, q), I(q.shape[1]!).toJs(), `${mode} qᵀ q`);
      }
    });
    it(`svd of ${m}x${n}: u diag(s) vh == a, orthonormal factors, s descending`, () => {
      const a = randomMatrix(m, n, 31 * m + n);
      const k = Math.min(m, n);
      const [u, s, vh] = np.linalg.svd(a, { fullMatrices: false });
      close(np.matmul(np.multiply(u, s), vh), a.toJs(), "u s vh");
      close(np.matmul(u.T, u), I(k).toJs(), "uᵀ u");
      close(np.matmul(vh, vh.T), I(k).toJs(), "vh vhᵀ");
      const sv = s.toJs() as number[];
      for (let i = 1; i < k; i++) expect(sv[i]!).toBeLessThanOrEqual(sv[i - 1]!);
      const [uf, sf, vf] = np.linalg.svd(a);
      expect([uf.shape, sf.shape, vf.shape]).toEqual([[m, m], [k], [n, n]]);
      close(np.matmul(uf.T, uf), I(m).toJs(), "full uᵀ u");
      close(np.matmul(vf, vf.T), I(n).toJs(), "full vh vhᵀ");
      close(np.matmul(np.multiply(np.slice(uf, [0, 0], [m, k]), sf), np.slice(vf, [0, 0], [k, n])), a.toJs(), "full u s vh");
    });
  }
  it("svd of a rank-deficient matrix: zero singular values, orthonormal u", () => {
    const x = randomMatrix(5, 2, 3);
    const a = np.matmul(x, x.T); // rank 2
    const [u, s, vh] = np.linalg.svd(a);
    close(np.matmul(u.T, u), I(5).toJs(), "uᵀ u");
    close(np.matmul(np.multiply(u, s), vh), a.toJs(), "u s vh", 1e-11);
    expect((s.toJs() as number[]).slice(2).every((v) => Math.abs(v) < 1e-13)).toBe(true);
  });
  it("svd of a tall rank-deficient matrix (QR-preconditioned): orthonormal u, u s vh == a", () => {
    const x = randomMatrix(8, 2, 9);
    const a = np.concatenate([x, np.multiply(np.slice(x, [0, 0], [8, 1]), 2)], 1); // 8×3, rank 2
    for (const fullMatrices of [false, true]) {
      const [u, s, vh] = np.linalg.svd(a, { fullMatrices });
      const k = u.shape[1]!;
      close(np.matmul(u.T, u), I(k).toJs(), `uᵀ u (full=${fullMatrices})`);
      close(np.matmul(np.multiply(np.slice(u, [0, 0], [8, 3]), s), np.slice(vh, [0, 0], [3, 3])), a.toJs(), "u s vh", 1e-11);
      expect(Math.abs((s.toJs() as number[])[2]!)).toBeLessThan(1e-13);
    }
  });
  // 40 and 65: eigh by tridiagonal QL (from order 32), cholesky by the WebAssembly kernel (from 48)
  for (const n of [1, 2, 6, 11, 40, 65]) {
    it(`eigh, cholesky, inv of ${n}x${n}: v diag(w) vᵀ == a, L Lᵀ == a, a inv(a) == I`, () => {
      const x = randomMatrix(n, n, 7 * n);
      const a = np.add(np.matmul(x, x.T), I(n));
      const [w, v] = np.linalg.eigh(a);
      close(np.matmul(np.multiply(v, w), v.T), a.toJs(), "v w vᵀ");
      close(np.matmul(v.T, v), I(n).toJs(), "vᵀ v");
      const wv = w.toJs() as number[];
      for (let i = 1; i < n; i++) expect(wv[i]!).toBeGreaterThanOrEqual(wv[i - 1]!);
      const l = np.linalg.cholesky(a);
      close(np.matmul(l, l.T), a.toJs(), "L Lᵀ");
      expect(maxAbs(strictLower(l.T))).toBe(0);
      close(np.matmul(a, np.linalg.inv(a)), I(n).toJs(), "a inv(a)");
      close(np.linalg.det(a), np.prod(w).item(), "det = prod(w)", 1e-11);
    });
  }
  it("float32 input gives float32 results to float32 accuracy", () => {
    const x = randomMatrix(4, 4, 5, 3);
    const a32 = x.astype("float32");
    for (const [name, f] of [
      ["inv", np.linalg.inv],
      ["cholesky", (y: NDArray) => np.linalg.cholesky(np.matmul(y, y.T))],
    ] as const) {
      const r32 = f(a32);
      expect(r32.dtype, name).toBe("float32");
      expectClose(r32.astype("float64"), f(x), { rtol: 1e-5, atol: 1e-5 }, name);
    }
    const [w] = np.linalg.eigh(np.add(a32, a32.T));
    expect(w.dtype).toBe("float32");
  });
});

describe("empty matrices (as NumPy)", () => {
  it("det of 0×0 is 1, slogdet [1, 0], the factors are empty", () => {
    const z = np.zeros([2, 0, 0], "float64");
    expect(np.linalg.det(z).toJs()).toEqual([1, 1]);
    expect(np.linalg.slogdet(z).map((x) => x.toJs())).toEqual([
      [1, 1],
      [0, 0],
    ]);
    expect(np.linalg.inv(z).shape).toEqual([2, 0, 0]);
    expect(np.linalg.svd(z).map((x) => x.shape)).toEqual([
      [2, 0, 0],
      [2, 0],
      [2, 0, 0],
    ]);
  });
});

describe("bad input", () => {
  const rect = np.zeros([2, 3], "float64");
  for (const name of ["inv", "det", "slogdet", "cholesky", "eigh"] as const) {
    it(`${name} of a non-square matrix names the function and the dims`, () => {
      const msg = errorMessage(() => (np.linalg[name] as (x: NDArray) => unknown)(rect));
      expect(msg).toContain(`linalg.${name}`);
      expect(msg).toContain("[2,3]");
    });
  }
  it("solve with mismatched shapes, int input, 1-d input, unknown options", () => {
    const a = np.eye(3, "float64");
    expect(errorMessage(() => np.linalg.solve(a, np.ones([4], "float64")))).toMatch(/linalg\.solve.*\[3,3\].*\[4\]/);
    expect(errorMessage(() => np.linalg.solve(a, np.ones([2, 2], "float64")))).toMatch(/linalg\.solve.*\[2,2\]/);
    expect(errorMessage(() => np.linalg.solve(np.ones([2, 3, 3], "float64"), np.ones([4, 3, 1], "float64")))).toMatch(/linalg\.solve.*batch/);
    expect(errorMessage(() => np.linalg.inv(np.eye(3, "int32")))).toMatch(/linalg\.inv.*i32\[3,3\].*astype/);
    expect(errorMessage(() => np.linalg.det(np.ones([3], "float64")))).toMatch(/linalg\.det.*\[3\]/);
    expect(errorMessage(() => np.linalg.svd(a, { fullMatrix: false } as never))).toMatch(/linalg\.svd.*fullMatrix.*did you mean `fullMatrices`/);
    expect(errorMessage(() => np.linalg.qr(a, { mode: "r" } as never))).toMatch(/linalg\.qr: mode/);
    expect(errorMessage(() => np.linalg.solveTriangular(a, np.ones([3], "float64"), { lowr: true } as never))).toMatch(/did you mean `lower`/);
    expect(errorMessage(() => np.linalg.solveTriangular(a, np.ones([2], "float64")))).toMatch(/linalg\.solveTriangular.*\[3,3\].*\[2\]/);
  });
  it("not positive definite: cholesky is all NaN (as JAX), no exception", () => {
    const l = np.linalg.cholesky(
      np.array(
        [
          [1, 2],
          [2, 1],
        ],
        { dtype: "float64" },
      ),
    );
    expect((l.toJs() as number[][]).flat().every(Number.isNaN)).toBe(true);
    // only the failing batch element
    const both = np.linalg.cholesky(
      np.stack([
        np.array(
          [
            [1, 2],
            [2, 1],
          ],
          { dtype: "float64" },
        ),
        np.eye(2, "float64"),
      ]),
    );
    expect(both.toJs()).toEqual([
      [
        [NaN, NaN],
        [NaN, NaN],
      ],
      [
        [1, 0],
        [0, 1],
      ],
    ]);
  });
  it("singular: inv and solve give inf/NaN, no exception", () => {
    const a = np.array(
      [
        [1, 2],
        [2, 4],
      ],
      { dtype: "float64" },
    );
    const v = (np.linalg.inv(a).toJs() as number[][]).flat();
    expect(v.some((x) => !Number.isFinite(x))).toBe(true);
    expect((np.linalg.solve(a, np.ones([2], "float64")).toJs() as number[]).some((x) => !Number.isFinite(x))).toBe(true);
  });
  it("NaN and inf input terminate (iteration caps) with NaN results", () => {
    const a = np.array(
      [
        [NaN, 1, 0],
        [1, 2, 0],
        [0, 0, 3],
      ],
      { dtype: "float64" },
    );
    const [w] = np.linalg.eigh(a);
    expect((w.toJs() as number[]).some(Number.isNaN)).toBe(true);
    const [, s] = np.linalg.svd(
      np.array(
        [
          [Infinity, 1],
          [1, 2],
        ],
        { dtype: "float64" },
      ),
    );
    expect((s.toJs() as number[]).some((x) => !Number.isFinite(x))).toBe(true);
  });
});

describe("the eigh kernels", () => {
  it("Jacobi and tridiagonal QL agree on eigenvalues and eigenvector projections", async () => {
    const K = await import("../../src/primitives/linalg_kernels.js");
    for (const n of [5, 33, 50]) {
      const x = randomMatrix(n, n, 100 + n);
      const a = np.add(x, x.T);
      const buf = a.data() as Float64Array;
      const w1 = new Float64Array(n),
        v1 = new Float64Array(n * n),
        w2 = new Float64Array(n),
        v2 = new Float64Array(n * n);
      K.eighJacobi(buf.slice(), n, w1, v1);
      K.eighTridiagonal(buf.slice(), n, w2, v2);
      expectClose(Array.from(w2), Array.from(w1), { rtol: 1e-12, atol: 1e-12 * n }, `n=${n} eigenvalues`);
      // eigenvectors up to sign: v1ᵀ v2 is ± the identity
      const p = np.abs(np.matmul(np.array(v1, { shape: [n, n], dtype: "float64" }).T, np.array(v2, { shape: [n, n], dtype: "float64" })));
      close(p, I(n).toJs(), `n=${n} |v1ᵀ v2|`, 1e-10);
    }
  });
});

describe("the Cholesky kernels", () => {
  for (const n of [64, 99]) {
    it(`n=${n}: the WebAssembly row-pair kernel and the JavaScript loops agree, L Lᵀ == a`, async () => {
      const K = await import("../../src/primitives/linalg_kernels.js");
      const { choleskyRowPairWasm } = await import("../../src/backends/wasm/linalg.js");
      expect(choleskyRowPairWasm(n), "WebAssembly SIMD kernel available").not.toBeNull();
      const { hostBackend } = await import("../../src/backends/registry.js");
      expect(hostBackend.linalg.choleskyRowPair, "the CPU backend's step").toBe(choleskyRowPairWasm);
      const x = randomMatrix(n, n, n);
      const a = np.add(np.matmul(x, x.T), I(n));
      const fast = np.linalg.cholesky(a); // the CPU backend's WebAssembly step
      const buf = (a.data() as Float64Array).slice();
      expect(K.cholesky(buf, n)).toBe(true); // the JavaScript loops alone
      const js = np.array(buf, { shape: [n, n], dtype: "float64" });
      expectClose(fast, js, { rtol: 1e-13, atol: 1e-13 }, "wasm vs js");
      close(np.matmul(fast, fast.T), a.toJs(), "L Lᵀ", 1e-12);
      expect(maxAbs(strictLower(fast.T))).toBe(0);
      // not positive definite at the last pivot: all NaN, from either kernel
      const wmin = np.min(np.linalg.eigh(a)[0]).item();
      const bad = np.subtract(a, np.multiply(I(n), 2 * wmin));
      expect((np.linalg.cholesky(bad).data() as Float64Array).every(Number.isNaN)).toBe(true);
    });
  }
});

describe("the triangular-solve kernels", () => {
  it("the WebAssembly kernel and the JavaScript loops agree exactly, every variant, odd widths", async () => {
    const K = await import("../../src/primitives/linalg_kernels.js");
    const { trsmWasm } = await import("../../src/backends/wasm/linalg.js");
    for (const [n, m] of [
      [7, 5],
      [40, 9],
      [65, 64],
    ] as const) {
      const t = randomMatrix(n, n, n + m, 3).data() as Float64Array;
      const b = randomMatrix(n, m, 2 * n + m).data() as Float64Array;
      for (const lower of [true, false]) {
        for (const trans of [true, false]) {
          for (const unit of [true, false]) {
            const viaWasm = b.slice();
            expect(trsmWasm(t, n, lower, trans, unit, viaWasm, m), "WebAssembly SIMD kernel available").toBe(true);
            const viaJs = b.slice();
            K.trsmLeft(t, n, lower, trans, unit, viaJs, m);
            expect(Array.from(viaWasm), `n=${n} m=${m} lower=${lower} trans=${trans} unit=${unit}`).toEqual(Array.from(viaJs));
            // and it solves the system: op(T) X = B on the triangle read
            const T = np.array(t, { shape: [n, n], dtype: "float64" });
            const tri = np.multiply(
              T,
              np.array(
                Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => ((lower ? j < i : j > i) ? 1 : i === j ? (unit ? 0 : 1) : 0))),
                { dtype: "float64" },
              ),
            );
            const op = np.add(trans ? tri.T : tri, unit ? I(n) : 0);
            close(
              np.matmul(op, np.array(viaWasm, { shape: [n, m], dtype: "float64" })),
              np.array(b, { shape: [n, m], dtype: "float64" }).toJs(),
              "op(T) X == B",
              1e-10,
            );
          }
        }
      }
    }
  });
});
