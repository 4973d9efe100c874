/**
 * Dense linear-algebra kernels on one row-major float64 matrix at a time: Cholesky,
 * triangular solves, LU with partial pivoting, Householder QR, the symmetric
 * eigendecomposition (cyclic Jacobi, or tridiagonalization and QL) and the SVD
 * (one-sided Jacobi). The `impl` rules of src/primitives/linalg.ts run them per batch
 * element. Plain typed-array loops with no imports: every backend can run them; the
 * host backend passes faster steps for the Cholesky factorization and triangular solves
 * as arguments ({@link RowPairKernel}, {@link TrsmKernel}).
 *
 * Failures follow LAPACK/JAX, never throw: a matrix that is not positive definite gives
 * a Cholesky factor full of NaN; a zero pivot leaves LU's elimination step out (later
 * solves divide by zero and give inf/NaN); the Jacobi and QL iterations stop after
 * {@link MAX_SWEEPS} rounds, so NaN or inf input cannot hang them.
 * @module
 */

/** Upper bound on the Jacobi sweeps and on the QL iterations per eigenvalue (well-conditioned matrices need under 15). */
export const MAX_SWEEPS = 60;

/**
 * A faster implementation of {@link choleskyRowPair} working in place on its own
 * memory: `view` (n×n) is where the matrix must be, and `rowPair(i)` does for `view`
 * what `choleskyRowPair(view, n, i)` does; null means "use the JavaScript loops". The
 * host backend's `linalg.choleskyRowPair` (WebAssembly SIMD on the CPU).
 */
export type RowPairKernel = (n: number) => { view: Float64Array; rowPair: (i: number) => void } | null;
/** Smallest order for which a row-pair kernel is used (below, copying dominates). */
const FAST_MIN = 48;

/**
 * In-place Cholesky factorization `A = L Lᵀ` of the n×n matrix at `a` (only the lower
 * triangle is read); on return the lower triangle holds L and the strict upper triangle
 * is zero. Returns false and fills the matrix with NaN when A is not (numerically)
 * positive definite.
 *
 * Row by row (Cholesky–Banachiewicz), two rows at a time: {@link choleskyRowPair} (or
 * `rowPairKernel`, a faster implementation of it) computes the entries left of the
 * diagonal of rows i and i+1 (almost all the work), then the diagonal entries follow here.
 */
export function cholesky(a: Float64Array, n: number, rowPairKernel: RowPairKernel | null = null): boolean {
  const fast = n >= FAST_MIN && rowPairKernel !== null ? rowPairKernel(n) : null;
  if (fast === null) return factorRows(a, n, (i) => choleskyRowPair(a, n, i));
  fast.view.set(a.subarray(0, n * n));
  const ok = factorRows(fast.view, n, fast.rowPair);
  a.set(fast.view);
  return ok;
}

function factorRows(a: Float64Array, n: number, rowPair: (i: number) => void): boolean {
  let i = 0;
  for (; i + 1 < n; i += 2) {
    rowPair(i);
    const ri = i * n;
    const rk = ri + n; // row i+1
    // the diagonal of row i, then the last two entries of row i+1
    let sii = 0,
      ski = 0;
    for (let k = 0; k < i; k++) {
      const x = a[ri + k]!;
      sii += x * x;
      ski += a[rk + k]! * x;
    }
    const dii = a[ri + i]! - sii;
    if (!(dii > 0)) return fail(a, n);
    const lii = Math.sqrt(dii);
    a[ri + i] = lii;
    const lki = (a[rk + i]! - ski) / lii;
    a[rk + i] = lki;
    let skk = 0;
    for (let k = 0; k <= i; k++) skk += a[rk + k]! * a[rk + k]!;
    const dkk = a[rk + i + 1]! - skk;
    if (!(dkk > 0)) return fail(a, n);
    a[rk + i + 1] = Math.sqrt(dkk);
  }
  if (i < n) {
    // an odd last row
    const ri = i * n;
    for (let j = 0; j < i; j++) {
      const rj = j * n;
      let s = 0;
      for (let k = 0; k < j; k++) s += a[ri + k]! * a[rj + k]!;
      a[ri + j] = (a[ri + j]! - s) / a[rj + j]!;
    }
    let s = 0;
    for (let k = 0; k < i; k++) s += a[ri + k]! * a[ri + k]!;
    const d = a[ri + i]! - s;
    if (!(d > 0)) return fail(a, n);
    a[ri + i] = Math.sqrt(d);
  }
  for (let r = 0; r < n; r++) a.fill(0, r * n + r + 1, (r + 1) * n);
  return true;
}

/**
 * The entries `L[i, j]` and `L[i+1, j]` for `j < i` (i even), from rows 0..i-1 of L
 * already in place: two columns at a time, the four dot products of a 2×2 block share
 * their loads and run as four independent chains, so the loop is bound by throughput
 * rather than by the latency of one accumulator.
 */
export function choleskyRowPair(a: Float64Array, n: number, i: number): void {
  const ri = i * n;
  const rk = ri + n; // row i+1
  for (let j = 0; j + 1 < i; j += 2) {
    const rj = j * n;
    const rl = rj + n; // row j+1
    let s00 = 0,
      s01 = 0,
      s10 = 0,
      s11 = 0;
    for (let k = 0; k < j; k++) {
      const x0 = a[ri + k]!,
        x1 = a[rk + k]!,
        y0 = a[rj + k]!,
        y1 = a[rl + k]!;
      s00 += x0 * y0;
      s01 += x0 * y1;
      s10 += x1 * y0;
      s11 += x1 * y1;
    }
    const d0 = a[rj + j]!;
    const l0 = (a[ri + j]! - s00) / d0;
    const l1 = (a[rk + j]! - s10) / d0;
    a[ri + j] = l0;
    a[rk + j] = l1;
    const e = a[rl + j]!;
    const d1 = a[rl + j + 1]!;
    a[ri + j + 1] = (a[ri + j + 1]! - s01 - l0 * e) / d1;
    a[rk + j + 1] = (a[rk + j + 1]! - s11 - l1 * e) / d1;
  }
}

function fail(a: Float64Array, n: number): false {
  a.fill(NaN, 0, n * n);
  return false;
}

/**
 * A faster {@link trsmLeft} (same arguments; returns false to decline): the host
 * backend's `linalg.trsm` (WebAssembly SIMD on the CPU).
 */
export type TrsmKernel = (t: Float64Array, n: number, lower: boolean, trans: boolean, unitDiagonal: boolean, x: Float64Array, m: number) => boolean;
/** Fewest right-hand sides, and smallest `n·m`, for which a {@link TrsmKernel} runs (its rows are axpys of length m). */
const TRSM_FAST_MIN_COLS = 4;
const TRSM_FAST_MIN_SIZE = 4096;

/**
 * Solves `op(T) X = B` in place for the n×n triangular matrix at `t` (row-major; only
 * its `lower` or upper triangle is read; `op(T) = Tᵀ` when `trans`), where `x` holds
 * the n×m right-hand side B and receives X. With `unitDiagonal` the diagonal is taken
 * as 1. Every variant reads T by rows: without `trans` each row of X is a combination
 * of earlier rows (dot products); with it, each solved row of X is subtracted from the
 * rows still to solve (axpys), so a transposed solve needs no transposed copy.
 * `trsmKernel`, when given, runs instead for several right-hand sides.
 */
export function trsmLeft(
  t: Float64Array,
  n: number,
  lower: boolean,
  trans: boolean,
  unitDiagonal: boolean,
  x: Float64Array,
  m: number,
  trsmKernel: TrsmKernel | null = null,
): void {
  if (!trans && m === 1) return trsvLeft(t, n, lower, unitDiagonal, x);
  if (trsmKernel !== null && m >= TRSM_FAST_MIN_COLS && n * m >= TRSM_FAST_MIN_SIZE && trsmKernel(t, n, lower, trans, unitDiagonal, x, m)) return;
  // op(T) is lower triangular when T is lower and not transposed, or upper and transposed: solve top-down
  const down = lower !== trans;
  for (let s = 0; s < n; s++) {
    const i = down ? s : n - 1 - s;
    const ri = i * n;
    const xi = i * m;
    if (!trans) {
      const kEnd = lower ? i : n;
      for (let k = lower ? 0 : i + 1; k < kEnd; k++) {
        const c = t[ri + k]!;
        if (c === 0) continue;
        const xk = k * m;
        for (let j = 0; j < m; j++) x[xi + j]! -= c * x[xk + j]!;
      }
    }
    if (!unitDiagonal) {
      const d = 1 / t[ri + i]!;
      for (let j = 0; j < m; j++) x[xi + j]! *= d;
    }
    if (trans) {
      // row i of T holds the coefficients of x_i in the equations still to solve
      const kEnd = lower ? i : n;
      for (let k = lower ? 0 : i + 1; k < kEnd; k++) {
        const c = t[ri + k]!;
        if (c === 0) continue;
        const xk = k * m;
        for (let j = 0; j < m; j++) x[xk + j]! -= c * x[xi + j]!;
      }
    }
  }
}

/** {@link trsmLeft} without `trans` for one right-hand side: dot products with four accumulators. */
function trsvLeft(t: Float64Array, n: number, lower: boolean, unitDiagonal: boolean, x: Float64Array): void {
  const step = lower ? 1 : -1;
  for (let i = lower ? 0 : n - 1; i >= 0 && i < n; i += step) {
    const ri = i * n;
    const k0 = lower ? 0 : i + 1;
    const k1 = lower ? i : n;
    let s0 = 0,
      s1 = 0,
      s2 = 0,
      s3 = 0;
    let k = k0;
    for (; k + 3 < k1; k += 4) {
      s0 += t[ri + k]! * x[k]!;
      s1 += t[ri + k + 1]! * x[k + 1]!;
      s2 += t[ri + k + 2]! * x[k + 2]!;
      s3 += t[ri + k + 3]! * x[k + 3]!;
    }
    for (; k < k1; k++) s0 += t[ri + k]! * x[k]!;
    const v = x[i]! - (s0 + s1 + (s2 + s3));
    x[i] = unitDiagonal ? v : v / t[ri + i]!;
  }
}

/** The transpose of the r×c matrix at `src` (offset `off`) into `dst` (c×r). */
export function transposeInto(src: ArrayLike<number>, off: number, r: number, c: number, dst: Float64Array): Float64Array {
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) dst[j * r + i] = src[off + i * c + j]!;
  return dst;
}

/**
 * In-place LU factorization with partial pivoting of the n×n matrix at `a`:
 * `P A = L U` with L unit lower triangular (stored below the diagonal) and U upper.
 * `pivots[k]` is the row swapped with row k at step k (LAPACK's ipiv, 0-based) and
 * `perm` the resulting row permutation (row i of `P A` is row `perm[i]` of A). A zero
 * pivot column is left as it is (as LAPACK's getrf), so U has a zero on its diagonal.
 */
export function lu(
  a: Float64Array,
  n: number,
  pivots: Int32Array | Float64Array | Float32Array | Uint8Array,
  perm: Int32Array | Float64Array | Float32Array | Uint8Array,
): void {
  for (let i = 0; i < n; i++) perm[i] = i;
  for (let k = 0; k < n; k++) {
    let p = k;
    let best = Math.abs(a[k * n + k]!);
    for (let i = k + 1; i < n; i++) {
      const v = Math.abs(a[i * n + k]!);
      if (v > best) {
        best = v;
        p = i;
      }
    }
    pivots[k] = p;
    if (p !== k) {
      const rk = k * n;
      const rp = p * n;
      for (let j = 0; j < n; j++) {
        const tmp = a[rk + j]!;
        a[rk + j] = a[rp + j]!;
        a[rp + j] = tmp;
      }
      const tp = perm[k]!;
      perm[k] = perm[p]!;
      perm[p] = tp;
    }
    const d = a[k * n + k]!;
    if (d === 0) continue;
    const rk = k * n;
    for (let i = k + 1; i < n; i++) {
      const ri = i * n;
      const l = a[ri + k]! / d;
      a[ri + k] = l;
      if (l === 0) continue;
      for (let j = k + 1; j < n; j++) a[ri + j]! -= l * a[rk + j]!;
    }
  }
}

/**
 * Householder QR of the m×n matrix `a` (row-major, overwritten). Returns Q (m×qc) and
 * R (qc×n) with qc = m when `full`, else min(m, n). The reflectors follow LAPACK's
 * dlarfg (`beta = -sign(alpha)·‖x‖`), so the signs of R's diagonal are NumPy's.
 */
export function qr(a: Float64Array, m: number, n: number, full: boolean): { q: Float64Array; r: Float64Array; qc: number } {
  const k = Math.min(m, n);
  const tau = new Float64Array(k);
  const w = new Float64Array(Math.max(m, n));
  for (let j = 0; j < k; j++) {
    const alpha = a[j * n + j]!;
    let xnorm = 0;
    for (let i = j + 1; i < m; i++) xnorm = Math.hypot(xnorm, a[i * n + j]!);
    if (xnorm === 0) {
      tau[j] = 0;
      continue;
    }
    const beta = -(alpha >= 0 ? 1 : -1) * Math.hypot(alpha, xnorm);
    tau[j] = (beta - alpha) / beta;
    const scale = 1 / (alpha - beta);
    for (let i = j + 1; i < m; i++) a[i * n + j]! *= scale;
    a[j * n + j] = beta;
    applyReflector(a, m, n, j, j + 1, n, a, j, tau[j]!, w);
  }
  const qc = full ? m : k;
  const q = new Float64Array(m * qc);
  for (let i = 0; i < qc; i++) q[i * qc + i] = 1;
  for (let j = k - 1; j >= 0; j--) if (tau[j] !== 0) applyReflector(q, m, qc, j, 0, qc, a, j, tau[j]!, w);
  const r = new Float64Array(qc * n);
  for (let i = 0; i < Math.min(qc, m); i++) for (let c = i; c < n; c++) r[i * n + c] = a[i * n + c]!;
  return { q, r, qc };
}

/**
 * Applies `H = I - tau v vᵀ` to rows j.. and columns c0..c1 of the rows×cols matrix `x`,
 * where v = (1, va[(j+1)·vn + vc], va[(j+2)·vn + vc], ...) is column `vc` of `va` below row j.
 */
function applyReflector(
  x: Float64Array,
  rows: number,
  cols: number,
  j: number,
  c0: number,
  c1: number,
  va: Float64Array,
  vc: number,
  tau: number,
  w: Float64Array,
): void {
  const vn = va === x ? cols : va.length / rows;
  for (let c = c0; c < c1; c++) w[c] = x[j * cols + c]!;
  for (let i = j + 1; i < rows; i++) {
    const v = va[i * vn + vc]!;
    if (v === 0) continue;
    const ri = i * cols;
    for (let c = c0; c < c1; c++) w[c]! += v * x[ri + c]!;
  }
  for (let c = c0; c < c1; c++) {
    w[c]! *= tau;
    x[j * cols + c]! -= w[c]!;
  }
  for (let i = j + 1; i < rows; i++) {
    const v = va[i * vn + vc]!;
    if (v === 0) continue;
    const ri = i * cols;
    for (let c = c0; c < c1; c++) x[ri + c]! -= v * w[c]!;
  }
}

/**
 * Eigendecomposition of the symmetric n×n matrix `a` (overwritten; both triangles are
 * read, so pass a symmetric matrix) by cyclic Jacobi rotations: `w` receives the
 * eigenvalues in ascending order and `v` (n×n, row-major) the eigenvectors as columns.
 */
export function eighJacobi(a: Float64Array, n: number, w: Float64Array, v: Float64Array): void {
  const vt = new Float64Array(n * n); // eigenvectors as rows while rotating
  for (let i = 0; i < n; i++) vt[i * n + i] = 1;
  for (let sweep = 0; sweep < MAX_SWEEPS; sweep++) {
    let rotated = false;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q]!;
        if (apq === 0) continue;
        const app = a[p * n + p]!;
        const aqq = a[q * n + q]!;
        const g = 100 * Math.abs(apq);
        if (Math.abs(app) + g === Math.abs(app) && Math.abs(aqq) + g === Math.abs(aqq)) {
          a[p * n + q] = 0;
          a[q * n + p] = 0;
          continue;
        }
        if (Number.isNaN(apq)) continue;
        rotated = true;
        const h = aqq - app;
        let t: number;
        if (Math.abs(h) + g === Math.abs(h)) t = apq / h;
        else {
          const theta = (0.5 * h) / apq;
          t = 1 / (Math.abs(theta) + Math.sqrt(1 + theta * theta));
          if (theta < 0) t = -t;
        }
        const c = 1 / Math.sqrt(1 + t * t);
        const s = t * c;
        const tau = s / (1 + c);
        a[p * n + p] = app - t * apq;
        a[q * n + q] = aqq + t * apq;
        a[p * n + q] = 0;
        a[q * n + p] = 0;
        for (let r = 0; r < n; r++) {
          if (r === p || r === q) continue;
          const gr = a[r * n + p]!;
          const hr = a[r * n + q]!;
          const np_ = gr - s * (hr + gr * tau);
          const nq = hr + s * (gr - hr * tau);
          a[r * n + p] = np_;
          a[p * n + r] = np_;
          a[r * n + q] = nq;
          a[q * n + r] = nq;
        }
        rotateRows(vt, n, p, q, c, s);
      }
    }
    if (!rotated) break;
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => cmpAsc(a[x * n + x]!, a[y * n + y]!));
  order.forEach((src, j) => {
    w[j] = a[src * n + src]!;
    for (let i = 0; i < n; i++) v[i * n + j] = vt[src * n + i]!;
  });
}

/** Order from which {@link eigh} reduces to tridiagonal form instead of running Jacobi sweeps. */
export const TRIDIAGONAL_MIN = 32;

/**
 * Eigendecomposition of the symmetric n×n matrix `a` (overwritten): `w` receives the
 * eigenvalues in ascending order and `v` the eigenvectors as columns. Small matrices run
 * {@link eighJacobi} (high relative accuracy); from {@link TRIDIAGONAL_MIN} on,
 * {@link eighTridiagonal} (several times fewer operations).
 */
export function eigh(a: Float64Array, n: number, w: Float64Array, v: Float64Array): void {
  if (n < TRIDIAGONAL_MIN) eighJacobi(a, n, w, v);
  else eighTridiagonal(a, n, w, v);
}

/**
 * Symmetric eigendecomposition by Householder reduction to tridiagonal form and the
 * implicit QL iteration with Wilkinson shifts (EISPACK's tred2 and tql2, as in JAMA),
 * for the symmetric n×n matrix `a` (overwritten; it becomes the accumulated transform).
 * Each eigenvalue gets at most {@link MAX_SWEEPS} QL iterations; non-finite input gives
 * NaN throughout.
 */
export function eighTridiagonal(a: Float64Array, n: number, w: Float64Array, v: Float64Array): void {
  for (let i = 0; i < n * n; i++) {
    if (!Number.isFinite(a[i]!)) {
      w.fill(NaN, 0, n);
      v.fill(NaN, 0, n * n);
      return;
    }
  }
  const V = a;
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  // ---- tred2: Householder reduction to tridiagonal form (V row-major: V[r][c] = V[r*n+c])
  for (let j = 0; j < n; j++) d[j] = V[(n - 1) * n + j]!;
  for (let i = n - 1; i > 0; i--) {
    let scale = 0;
    let h = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(d[k]!);
    if (scale === 0) {
      e[i] = d[i - 1]!;
      for (let j = 0; j < i; j++) {
        d[j] = V[(i - 1) * n + j]!;
        V[i * n + j] = 0;
        V[j * n + i] = 0;
      }
    } else {
      for (let k = 0; k < i; k++) {
        d[k]! /= scale;
        h += d[k]! * d[k]!;
      }
      let f = d[i - 1]!;
      let g = Math.sqrt(h);
      if (f > 0) g = -g;
      e[i] = scale * g;
      h -= f * g;
      d[i - 1] = f - g;
      for (let j = 0; j < i; j++) e[j] = 0;
      for (let j = 0; j < i; j++) {
        f = d[j]!;
        V[j * n + i] = f;
        g = e[j]! + V[j * n + j]! * f;
        for (let k = j + 1; k <= i - 1; k++) {
          g += V[k * n + j]! * d[k]!;
          e[k]! += V[k * n + j]! * f;
        }
        e[j] = g;
      }
      f = 0;
      for (let j = 0; j < i; j++) {
        e[j]! /= h;
        f += e[j]! * d[j]!;
      }
      const hh = f / (h + h);
      for (let j = 0; j < i; j++) e[j]! -= hh * d[j]!;
      for (let j = 0; j < i; j++) {
        f = d[j]!;
        g = e[j]!;
        for (let k = j; k <= i - 1; k++) V[k * n + j]! -= f * e[k]! + g * d[k]!;
        d[j] = V[(i - 1) * n + j]!;
        V[i * n + j] = 0;
      }
    }
    d[i] = h;
  }
  // accumulate the transformations
  for (let i = 0; i < n - 1; i++) {
    V[(n - 1) * n + i] = V[i * n + i]!;
    V[i * n + i] = 1;
    const h = d[i + 1]!;
    if (h !== 0) {
      for (let k = 0; k <= i; k++) d[k] = V[k * n + i + 1]! / h;
      for (let j = 0; j <= i; j++) {
        let g = 0;
        for (let k = 0; k <= i; k++) g += V[k * n + i + 1]! * V[k * n + j]!;
        for (let k = 0; k <= i; k++) V[k * n + j]! -= g * d[k]!;
      }
    }
    for (let k = 0; k <= i; k++) V[k * n + i + 1] = 0;
  }
  for (let j = 0; j < n; j++) {
    d[j] = V[(n - 1) * n + j]!;
    V[(n - 1) * n + j] = 0;
  }
  V[(n - 1) * n + n - 1] = 1;
  e[0] = 0;
  // ---- tql2: implicit QL on the tridiagonal (d, e); the rotations act on the rows of Vt = Vᵀ
  const Vt = transposeInto(V, 0, n, n, new Float64Array(n * n));
  for (let i = 1; i < n; i++) e[i - 1] = e[i]!;
  e[n - 1] = 0;
  let f = 0;
  let tst1 = 0;
  const eps = 2 ** -52;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l]!) + Math.abs(e[l]!));
    let m = l;
    while (m < n - 1 && !(Math.abs(e[m]!) <= eps * tst1)) m++;
    if (m > l) {
      for (let iter = 0; iter < MAX_SWEEPS; iter++) {
        let g = d[l]!;
        let p = (d[l + 1]! - g) / (2 * e[l]!);
        let r = Math.hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l]! / (p + r);
        d[l + 1] = e[l]! * (p + r);
        const dl1 = d[l + 1]!;
        let h = g - d[l]!;
        for (let i = l + 2; i < n; i++) d[i]! -= h;
        f += h;
        p = d[m]!;
        let c = 1,
          c2 = 1,
          c3 = 1;
        const el1 = e[l + 1]!;
        let s = 0,
          s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i]!;
          h = c * p;
          r = Math.hypot(p, e[i]!);
          e[i + 1] = s * r;
          s = e[i]! / r;
          c = p / r;
          p = c * d[i]! - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]!);
          // rows i and i+1 of Vt (columns of V)
          const ri = i * n;
          const rj = ri + n;
          for (let k = 0; k < n; k++) {
            const hk = Vt[rj + k]!;
            const vk = Vt[ri + k]!;
            Vt[rj + k] = s * vk + c * hk;
            Vt[ri + k] = c * vk - s * hk;
          }
        }
        p = (-s * s2 * c3 * el1 * e[l]!) / dl1;
        e[l] = s * p;
        d[l] = c * p;
        if (!(Math.abs(e[l]!) > eps * tst1)) break;
      }
    }
    d[l] = d[l]! + f;
    e[l] = 0;
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => cmpAsc(d[x]!, d[y]!));
  order.forEach((src, j) => {
    w[j] = d[src]!;
    for (let i = 0; i < n; i++) v[i * n + j] = Vt[src * n + i]!;
  });
}

/** Ascending order with NaN last (a stable, total order for sorting). */
function cmpAsc(x: number, y: number): number {
  if (Number.isNaN(x)) return Number.isNaN(y) ? 0 : 1;
  if (Number.isNaN(y)) return -1;
  return x - y;
}

/** Rows p and q of the len-wide matrix `x` become `c·x_p - s·x_q` and `s·x_p + c·x_q`. */
function rotateRows(x: Float64Array, len: number, p: number, q: number, c: number, s: number): void {
  const rp = p * len;
  const rq = q * len;
  for (let i = 0; i < len; i++) {
    const xp = x[rp + i]!;
    const xq = x[rq + i]!;
    x[rp + i] = c * xp - s * xq;
    x[rq + i] = s * xp + c * xq;
  }
}

/**
 * SVD `A = U diag(s) Vᵀ` of the m×n matrix at `a` (row-major, read only) by one-sided
 * (Hestenes) Jacobi rotations, which computes small singular values to high relative
 * accuracy; a tall matrix is first reduced to its n×n R factor by Householder QR, a
 * wide one transposed. Returns U (m×uc), s (k = min(m, n), descending) and Vᵀ (vr×n), with uc = vr
 * = k, or uc = m and vr = n when `full` (the extra columns complete the bases).
 */
export function svdJacobi(a: ArrayLike<number>, off: number, m: number, n: number, full: boolean): { u: Float64Array; s: Float64Array; vt: Float64Array } {
  if (m < n) {
    // A = U S Vᵀ  <=>  Aᵀ = V S Uᵀ
    const at = transposeInto(a, off, m, n, new Float64Array(m * n));
    const r = svdJacobi(at, 0, n, m, full);
    const vr = full ? n : m; // k = m here
    return { u: transposeInto(r.vt, 0, m, m, new Float64Array(m * m)), s: r.s, vt: transposeInto(r.u, 0, n, vr, new Float64Array(vr * n)) };
  }
  if (m > n) {
    // QR preconditioning: A = Q R, R = U_R S Vᵀ, so U = Q U_R; the sweeps work on n×n
    // columns instead of m×n, and the relative accuracy of Jacobi is kept (Drmač)
    const a2 = new Float64Array(m * n);
    for (let i = 0; i < m * n; i++) a2[i] = a[off + i]!;
    const { q, r } = qr(a2, m, n, false);
    const inner = svdJacobi(r, 0, n, n, false);
    const uc = full ? m : n;
    const U = new Float64Array(m * uc);
    for (let i = 0; i < m; i++) {
      for (let l = 0; l < n; l++) {
        const qil = q[i * n + l]!;
        if (qil === 0) continue;
        for (let j = 0; j < n; j++) U[i * uc + j]! += qil * inner.u[l * n + j]!;
      }
    }
    completeColumns(
      U,
      m,
      uc,
      Array.from({ length: uc }, (_, j) => j < n),
    );
    return { u: U, s: inner.s, vt: inner.vt };
  }
  // m = n: rotate the columns of A (stored as the rows of W = Aᵀ) until orthogonal
  const k = n;
  const W = transposeInto(a, off, m, n, new Float64Array(n * m));
  const Vt = new Float64Array(n * n);
  for (let i = 0; i < n; i++) Vt[i * n + i] = 1;
  const EPS = 1e-15;
  for (let sweep = 0; sweep < MAX_SWEEPS; sweep++) {
    let rotated = false;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const rp = p * m;
        const rq = q * m;
        let alpha = 0,
          beta = 0,
          gamma = 0;
        for (let i = 0; i < m; i++) {
          const x = W[rp + i]!;
          const y = W[rq + i]!;
          alpha += x * x;
          beta += y * y;
          gamma += x * y;
        }
        if (!(Math.abs(gamma) > EPS * Math.sqrt(alpha * beta)) || gamma === 0) continue;
        rotated = true;
        const zeta = (beta - alpha) / (2 * gamma);
        const t = (zeta >= 0 ? 1 : -1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = c * t;
        rotateRows(W, m, p, q, c, s);
        rotateRows(Vt, n, p, q, c, s);
      }
    }
    if (!rotated) break;
  }
  const norms = Array.from({ length: n }, (_, j) => {
    let s = 0;
    for (let i = 0; i < m; i++) s = Math.hypot(s, W[j * m + i]!);
    return s;
  });
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => cmpAsc(norms[y]!, norms[x]!));
  const uc = full ? m : k;
  const U = new Float64Array(m * uc);
  const sv = new Float64Array(k);
  const vt = new Float64Array((full ? n : k) * n);
  const valid: boolean[] = new Array<boolean>(uc).fill(false);
  order.forEach((src, j) => {
    const sj = norms[src]!;
    sv[j] = sj;
    for (let i = 0; i < n; i++) vt[j * n + i] = Vt[src * n + i]!;
    if (sj > 0 && Number.isFinite(sj)) {
      for (let i = 0; i < m; i++) U[i * uc + j] = W[src * m + i]! / sj;
      valid[j] = true;
    } else if (Number.isNaN(sj)) {
      for (let i = 0; i < m; i++) U[i * uc + j] = NaN;
      valid[j] = true;
    }
  });
  completeColumns(U, m, uc, valid);
  return { u: U, s: sv, vt };
}

/**
 * Fills the columns of the m×c matrix `q` not marked `valid` with unit vectors
 * orthogonal to every other column: the coordinate vector with the largest residual
 * after Gram–Schmidt (twice) against the columns so far, so that a rank-deficient U or
 * a full-size basis is still orthonormal.
 */
function completeColumns(q: Float64Array, m: number, c: number, valid: boolean[]): void {
  const x = new Float64Array(m);
  const best = new Float64Array(m);
  for (let j = 0; j < c; j++) {
    if (valid[j]) continue;
    let bestNorm = -1;
    for (let e = 0; e < m; e++) {
      x.fill(0);
      x[e] = 1;
      for (let pass = 0; pass < 2; pass++) {
        for (let l = 0; l < c; l++) {
          if (!valid[l]) continue;
          let d = 0;
          for (let i = 0; i < m; i++) d += q[i * c + l]! * x[i]!;
          for (let i = 0; i < m; i++) x[i]! -= d * q[i * c + l]!;
        }
      }
      let nrm = 0;
      for (let i = 0; i < m; i++) nrm = Math.hypot(nrm, x[i]!);
      if (nrm > bestNorm) {
        bestNorm = nrm;
        for (let i = 0; i < m; i++) best[i] = x[i]! / nrm;
      }
    }
    for (let i = 0; i < m; i++) q[i * c + j] = best[i]!;
    valid[j] = true;
  }
}
