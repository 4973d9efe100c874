/**
 * Linear-algebra primitives, as JAX's `lax/linalg.py`: `cholesky`, `triangular_solve`,
 * `lu`, `qr`, `eigh` and `svd`. Each takes matrices in its last two axes and runs over
 * any leading (batch) axes natively, so its batching rule only moves the vmapped axis to
 * the front. The JVP rules are JAX's (the Cholesky rule `L·Φ(L⁻¹ Ȧ L⁻ᵀ)`, the eigenvalue
 * gap factor `F_ij = 1/(w_j - w_i)` of `eigh`, ...), written with primitives that have
 * JVP and transpose rules themselves, so `grad`, `jvp`, `hessian` and `vmap` compose.
 * `triangular_solve` is linear in its right-hand side and has a transpose rule.
 *
 * The kernels (src/primitives/linalg_kernels.ts) compute in float64 whatever the dtype;
 * the host backend supplies faster steps for the Cholesky factorization and triangular
 * solves (`hostBackend.linalg`).
 * @module
 */
import { ConcreteArray, type NDArray, ShapedArray } from "../core/array.js";
import { type DType, type TypedArray, allocateForWrite, isFloat } from "../core/dtype.js";
import { fmtShape, shapeEqual, sizeOf } from "../core/shape.js";
import { type BatchDim, type Params, type Primitive, UndefPrimal, bind, bind1, definePrimitive } from "../core/trace.js";
import { hostBackend } from "../backends/registry.js";
import { matmulRaw, swapLast } from "./dot.js";
import { add, convert, div, equal, mul, neg, sub } from "./elementwise.js";
import * as K from "./linalg_kernels.js";
import { reduceSum } from "./reduce.js";
import { broadcastTo, moveAxis, reshape } from "./shape.js";

// ------------------------------------------------------------------ shared helpers

/** Checks a float array of rank >= 2 (square when asked) and returns its last two dims; the Error names `op`, the shape and the dtype. */
export function checkMatrix(op: string, a: ShapedArray, square: boolean): [number, number] {
  if (a.ndim < 2) throw new Error(`${op}: expected a matrix or a stack of matrices ([..., m, n]), got shape ${fmtShape(a.shape)}.`);
  if (!isFloat(a.dtype)) throw new Error(`${op}: expected a float32 or float64 array, got ${a.toString()}; convert it with astype("float64").`);
  const m = a.shape[a.ndim - 2]!;
  const n = a.shape[a.ndim - 1]!;
  if (square && m !== n) throw new Error(`${op}: expected square matrices in the last two axes, got shape ${fmtShape(a.shape)} (${m}×${n}).`);
  return [m, n];
}

/** The float64 copy of matrix `b` (of `size` elements) of a batched buffer. */
function matrixAt(buf: TypedArray, b: number, size: number): Float64Array {
  const out = new Float64Array(size);
  out.set(buf.subarray(b * size, (b + 1) * size));
  return out;
}

/**
 * The float64 copy of the symmetric part `(A + Aᵀ)/2` of square matrix `b` (n×n) of a
 * batched buffer: `cholesky` and `eigh` factor it, as JAX's `symmetrize_input`, so that
 * their derivatives are those of a function of every entry. With `lowerOnly` the strict
 * upper triangle is left zero (the Cholesky kernel reads the lower one only).
 */
function symmetricAt(buf: TypedArray, b: number, n: number, lowerOnly = false): Float64Array {
  const out = new Float64Array(n * n);
  const o = b * n * n;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      const v = (buf[o + i * n + j]! + buf[o + j * n + i]!) * 0.5;
      out[i * n + j] = v;
      if (!lowerOnly) out[j * n + i] = v;
    }
  }
  return out;
}

/** Output buffers for `avals` (the impls write every element). */
function outputs(avals: ShapedArray[]): TypedArray[] {
  return avals.map((a) => allocateForWrite(a.dtype, a.size));
}
const wrap = (avals: ShapedArray[], bufs: TypedArray[]): ConcreteArray[] => avals.map((a, i) => new ConcreteArray(a, bufs[i]!));
const batchCount = (a: ShapedArray): number => sizeOf(a.shape.slice(0, -2));

/** Batching rule of a primitive on one matrix operand: the vmapped axis goes to the front. */
function batchFront(prim: () => Primitive) {
  return ([x]: NDArray[], [d]: BatchDim[], params: Params): [NDArray[], BatchDim[]] => {
    const outs = bind(prim(), [moveAxis(x!, d!, 0)], params);
    return [outs, outs.map(() => 0)];
  };
}

/** A constant n×m matrix with `f(i, j)` at (i, j). */
function constMatrix(n: number, m: number, dtype: DType, f: (i: number, j: number) => number): NDArray {
  const buf = allocateForWrite(dtype, n * m);
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) buf[i * m + j] = f(i, j);
  return new ConcreteArray(new ShapedArray([n, m], dtype), buf);
}
const lastTwo = (x: NDArray): [number, number] => [x.shape[x.ndim - 2]!, x.shape[x.ndim - 1]!];

/** The entries of `x` on and below its k-th diagonal (k = -1: strictly below), zero elsewhere. */
export function tril(x: NDArray, k = 0): NDArray {
  const [n, m] = lastTwo(x);
  return mul(
    x,
    constMatrix(n, m, x.dtype, (i, j) => (j - i <= k ? 1 : 0)),
  );
}
/** The entries of `x` on and above its k-th diagonal, zero elsewhere. */
export function triu(x: NDArray, k = 0): NDArray {
  const [n, m] = lastTwo(x);
  return mul(
    x,
    constMatrix(n, m, x.dtype, (i, j) => (j - i >= k ? 1 : 0)),
  );
}
/** The n×n identity. */
export function eyeMatrix(n: number, dtype: DType): NDArray {
  return constMatrix(n, n, dtype, (i, j) => (i === j ? 1 : 0));
}
/** The diagonals of the square matrices `x` ([..., n, n] → [..., n]). */
export function diagonalOf(x: NDArray): NDArray {
  const n = x.shape[x.ndim - 1]!;
  return reduceSum(mul(x, eyeMatrix(n, x.dtype)), [x.ndim - 1]);
}
/** Diagonal matrices with the vectors `v` on their diagonals ([..., n] → [..., n, n]). */
export function diagEmbed(v: NDArray): NDArray {
  const n = v.shape[v.ndim - 1]!;
  return mul(reshape(v, [...v.shape, 1]), eyeMatrix(n, v.dtype));
}
/** `x[..., None, :]`: a vector as a row (broadcasts over the rows of a matrix). */
const asRow = (v: NDArray): NDArray => reshape(v, [...v.shape.slice(0, -1), 1, v.shape[v.ndim - 1]!]);
/** `x[..., :, None]`: a vector as a column. */
const asCol = (v: NDArray): NDArray => reshape(v, [...v.shape, 1]);
const mm = matmulRaw;
const mT = swapLast;

// ------------------------------------------------------------------ cholesky

/**
 * Cholesky factor `L` (lower triangular, `S = L Lᵀ`) of the symmetric part
 * `S = (A + Aᵀ)/2` of each matrix (JAX's `symmetrize_input`, done in the kernel's copy).
 * Not positive definite: the factor is all NaN (as JAX).
 * JVP: `L̇ = L·Φ(L⁻¹ Ȧ L⁻ᵀ)` with Φ taking the lower triangle and halving the diagonal.
 */
export const cholesky_p: Primitive = definePrimitive({
  name: "cholesky",
  freshOutputs: true,
  abstractEval([a]) {
    checkMatrix("cholesky", a!, true);
    return [a!];
  },
  impl([a], _p, avals) {
    const n = a!.shape[a!.ndim - 1]!;
    const [out] = outputs(avals);
    for (let b = 0, nb = batchCount(a!.aval); b < nb; b++) {
      const w = symmetricAt(a!.buffer, b, n, true);
      K.cholesky(w, n, hostBackend.linalg.choleskyRowPair);
      out!.set(w, b * n * n);
    }
    return wrap(avals, [out!]);
  },
  jvp([a], [t]) {
    const l = cholesky(a!);
    if (!t) return [[l], [null]];
    const n = a!.shape[a!.ndim - 1]!;
    const sym = mul(add(t, mT(t)), 0.5);
    // L⁻¹ Ȧ L⁻ᵀ: a right solve with Lᵀ, then a left solve with L
    const tmp = triangularSolve(l, triangularSolve(l, sym, { leftSide: false, lower: true, transposeA: true, unitDiagonal: false }), {
      leftSide: true,
      lower: true,
      transposeA: false,
      unitDiagonal: false,
    });
    const phi = mul(
      tmp,
      constMatrix(n, n, a!.dtype, (i, j) => (i > j ? 1 : i === j ? 0.5 : 0)),
    );
    return [[l], [mm(l, phi)]];
  },
  batch: batchFront(() => cholesky_p),
});

export function cholesky(a: NDArray): NDArray {
  return bind1(cholesky_p, [a]);
}

// ------------------------------------------------------------------ triangular_solve

/** Params of {@link triangular_solve_p}. */
export interface TriangularSolveParams extends Params {
  /** Solve `op(A) X = B` (true) or `X op(A) = B` (false). */
  leftSide: boolean;
  /** Read A's lower (true) or upper triangle. */
  lower: boolean;
  /** `op(A) = Aᵀ` (true) or A. */
  transposeA: boolean;
  /** Take A's diagonal as ones (A's stored diagonal is not read). */
  unitDiagonal: boolean;
}

/**
 * `op(A)⁻¹ B` (left side) or `B op(A)⁻¹` (right side) for triangular A: `a` is
 * `[..., n, n]`, `b` is `[..., n, k]` (left) or `[..., k, n]` (right), with equal batch
 * axes. Linear in `b` (its transpose solves with `op(A)ᵀ`); a zero on A's diagonal gives
 * inf/NaN.
 */
export const triangular_solve_p: Primitive<TriangularSolveParams> = definePrimitive<TriangularSolveParams>({
  name: "triangular_solve",
  freshOutputs: true,
  abstractEval([a, b], { leftSide }) {
    const [n] = checkMatrix("triangular_solve", a!, true);
    checkMatrix("triangular_solve", b!, false);
    const rows = b!.shape[b!.ndim - 2]!;
    const cols = b!.shape[b!.ndim - 1]!;
    if (a!.dtype !== b!.dtype) throw new Error(`triangular_solve: a and b have different dtypes (${a!.toString()} and ${b!.toString()}).`);
    if ((leftSide ? rows : cols) !== n || !shapeEqual(a!.shape.slice(0, -2), b!.shape.slice(0, -2))) {
      throw new Error(
        `triangular_solve: a of shape ${fmtShape(a!.shape)} does not match b of shape ${fmtShape(b!.shape)}: b needs the batch axes of a and ${leftSide ? `${n} rows` : `${n} columns`}.`,
      );
    }
    return [b!];
  },
  impl([a, b], { leftSide, lower, transposeA, unitDiagonal }, avals) {
    const n = a!.shape[a!.ndim - 1]!;
    const [r, c] = lastTwo(b!);
    const k = leftSide ? c : r;
    const [out] = outputs(avals);
    const A = a!.buffer;
    const B = b!.buffer;
    for (let t = 0, nb = batchCount(a!.aval); t < nb; t++) {
      // the kernels only read T: a float64 operand is used in place
      const M = A instanceof Float64Array ? A.subarray(t * n * n, (t + 1) * n * n) : matrixAt(A, t, n * n);
      if (leftSide) {
        const X = matrixAt(B, t, n * k);
        K.trsmLeft(M, n, lower, transposeA, unitDiagonal, X, k, hostBackend.linalg.trsm);
        out!.set(X, t * n * k);
      } else {
        // X op(A) = B  <=>  op(A)ᵀ Xᵀ = Bᵀ
        const X = K.transposeInto(B, t * n * k, k, n, new Float64Array(n * k));
        K.trsmLeft(M, n, lower, !transposeA, unitDiagonal, X, k, hostBackend.linalg.trsm);
        out!.set(K.transposeInto(X, 0, n, k, new Float64Array(n * k)), t * n * k);
      }
    }
    return wrap(avals, [out!]);
  },
  jvp([a, b], [ta, tb], p) {
    const x = triangularSolve(a!, b!, p);
    const parts: NDArray[] = [];
    if (tb) parts.push(triangularSolve(a!, tb, p));
    if (ta) {
      // JAX's rule: d(op(A)⁻¹ B) = -op(A)⁻¹ op(Ȧ) X (left), d(B op(A)⁻¹) = -X op(Ȧ) op(A)⁻¹ (right)
      const k = p.unitDiagonal ? 1 : 0;
      let g = neg(p.lower ? tril(ta, -k) : triu(ta, k));
      if (p.transposeA) g = mT(g);
      const [m, n] = lastTwo(b!);
      if (p.leftSide) parts.push(m > n ? triangularSolve(a!, mm(g, x), p) : mm(triangularSolve(a!, g, p), x));
      else parts.push(m < n ? triangularSolve(a!, mm(x, g), p) : mm(x, triangularSolve(a!, g, p)));
    }
    return [[x], [parts.length === 0 ? null : parts.length === 1 ? parts[0]! : add(parts[0]!, parts[1]!)]];
  },
  transpose([ct], [a, b], p) {
    if (a instanceof UndefPrimal) throw new Error("triangular_solve: the matrix a is not a linear argument; only b is.");
    if (!(b instanceof UndefPrimal) || !ct) return [null, null];
    return [null, triangularSolve(a as NDArray, ct, { ...p, transposeA: !p.transposeA })];
  },
  batch([a, b], [da, db], p) {
    if ((da === null || da === undefined) && p.leftSide) {
      // one matrix for every example: the examples' right-hand sides become extra columns
      const bm = moveAxis(b!, db!, b!.ndim - 1);
      const s = bm.shape;
      const cols = s[s.length - 2]! * s[s.length - 1]!;
      const x = triangularSolve(a!, reshape(bm, [...s.slice(0, -2), cols]), p);
      return [[reshape(x, s)], [s.length - 1]];
    }
    const B = da !== null && da !== undefined ? a!.shape[da]! : b!.shape[db!]!;
    const front = (x: NDArray, d: BatchDim): NDArray => (d === null ? broadcastTo(x, [B, ...x.shape]) : moveAxis(x, d, 0));
    return [[triangularSolve(front(a!, da!), front(b!, db!), p)], [0]];
  },
  printParams: (p) => `[left_side=${p.leftSide} lower=${p.lower} transpose_a=${p.transposeA} unit_diagonal=${p.unitDiagonal}]`,
});

export function triangularSolve(a: NDArray, b: NDArray, params: TriangularSolveParams): NDArray {
  return bind1(triangular_solve_p, [a, b], params);
}

// ------------------------------------------------------------------ lu

/**
 * LU factorization with partial pivoting of square matrices: outputs `lu` (L's strict
 * lower part with its unit diagonal implied, and U), `pivots` (int32, the row swapped
 * with row i at step i) and `permutation` (int32, `P A = L U` with row i of `P A` row
 * `permutation[i]` of A). A singular matrix gives a zero on U's diagonal.
 * JVP (JAX's): with `Δ = L⁻¹ P Ȧ U⁻¹`, `L̇ = L·tril(Δ, -1)` and `U̇ = triu(Δ)·U`.
 */
export const lu_p: Primitive = definePrimitive({
  name: "lu",
  freshOutputs: true,
  abstractEval([a]) {
    const [n] = checkMatrix("lu", a!, true);
    const idx = new ShapedArray([...a!.shape.slice(0, -2), n], "int32");
    return [a!, idx, idx];
  },
  impl([a], _p, avals) {
    const n = a!.shape[a!.ndim - 1]!;
    const [out, piv, perm] = outputs(avals);
    const pv = new Int32Array(n);
    const pm = new Int32Array(n);
    for (let b = 0, nb = batchCount(a!.aval); b < nb; b++) {
      const w = matrixAt(a!.buffer, b, n * n);
      K.lu(w, n, pv, pm);
      out!.set(w, b * n * n);
      piv!.set(pv, b * n);
      perm!.set(pm, b * n);
    }
    return wrap(avals, [out!, piv!, perm!]);
  },
  jvp([a], [t]) {
    const [lu, pivots, perm] = luFactor(a!);
    if (!t)
      return [
        [lu, pivots, perm],
        [null, null, null],
      ];
    const n = a!.shape[a!.ndim - 1]!;
    const x = mm(permutationMatrix(perm, a!.dtype), t);
    const l = add(tril(lu, -1), eyeMatrix(n, a!.dtype));
    const u = triu(lu);
    const la = triangularSolve(l, x, { leftSide: true, lower: true, transposeA: false, unitDiagonal: true });
    const lau = triangularSolve(u, la, { leftSide: false, lower: false, transposeA: false, unitDiagonal: false });
    return [
      [lu, pivots, perm],
      [add(mm(l, tril(lau, -1)), mm(triu(lau), u)), null, null],
    ];
  },
  batch: batchFront(() => lu_p),
});

/** `[lu, pivots, permutation]` of square matrices (see {@link lu_p}). */
export function luFactor(a: NDArray): [NDArray, NDArray, NDArray] {
  return bind(lu_p, [a]) as [NDArray, NDArray, NDArray];
}

/** The int32 vector `[0, 1, ..., n-1]` (a constant). */
export function iotaInt32(n: number): NDArray {
  return reshape(
    constMatrix(1, n, "int32", (_, j) => j),
    [n],
  );
}

/** The permutation matrices P with `P[i, perm[i]] = 1` ([..., n] int32 → [..., n, n]), so `P A` takes the rows of A in the order `perm`. */
export function permutationMatrix(perm: NDArray, dtype: DType): NDArray {
  const n = perm.shape[perm.ndim - 1]!;
  return convert(equal(asCol(perm), iotaInt32(n)), dtype);
}

// ------------------------------------------------------------------ qr

/** Params of {@link qr_p}. */
export interface QrParams extends Params {
  /** Q is m×m and R m×n (true), or Q m×k and R k×n with k = min(m, n). */
  fullMatrices: boolean;
}

/**
 * Householder QR: `[q, r]` with orthonormal columns in q and r upper triangular (the
 * signs of LAPACK's reflectors). JVP (JAX's; needs m >= n, and m = n when full):
 * with `C = Qᵀ Ȧ R⁻¹` and `Ω = tril(C, -1) - tril(C, -1)ᵀ`,
 * `Q̇ = Q (Ω - C) + Ȧ R⁻¹` and `Ṙ = (C - Ω) R`.
 */
export const qr_p: Primitive<QrParams> = definePrimitive<QrParams>({
  name: "qr",
  freshOutputs: true,
  abstractEval([a], { fullMatrices }) {
    const [m, n] = checkMatrix("qr", a!, false);
    const k = fullMatrices ? m : Math.min(m, n);
    const batch = a!.shape.slice(0, -2);
    return [new ShapedArray([...batch, m, k], a!.dtype), new ShapedArray([...batch, k, n], a!.dtype)];
  },
  impl([a], { fullMatrices }, avals) {
    const [m, n] = lastTwo(a!);
    const [qo, ro] = outputs(avals);
    for (let b = 0, nb = batchCount(a!.aval); b < nb; b++) {
      const { q, r } = K.qr(matrixAt(a!.buffer, b, m * n), m, n, fullMatrices);
      qo!.set(q, b * q.length);
      ro!.set(r, b * r.length);
    }
    return wrap(avals, [qo!, ro!]);
  },
  jvp([a], [t], p) {
    const [q, r] = qrFactor(a!, p.fullMatrices);
    if (!t)
      return [
        [q, r],
        [null, null],
      ];
    const [m, n] = lastTwo(a!);
    if (m < n || (p.fullMatrices && m !== n)) {
      throw new Error(
        `qr: the derivative is implemented for m >= n with fullMatrices: false (as JAX), got shape ${fmtShape(a!.shape)}${p.fullMatrices ? " with fullMatrices: true" : ""}.`,
      );
    }
    const dxRinv = triangularSolve(r, t, { leftSide: false, lower: false, transposeA: false, unitDiagonal: false });
    const c = mm(mT(q), dxRinv);
    const low = tril(c, -1);
    const omega = sub(low, mT(low));
    return [
      [q, r],
      [add(mm(q, sub(omega, c)), dxRinv), mm(sub(c, omega), r)],
    ];
  },
  batch: batchFront(() => qr_p),
});

export function qrFactor(a: NDArray, fullMatrices: boolean): [NDArray, NDArray] {
  return bind(qr_p, [a], { fullMatrices }) as [NDArray, NDArray];
}

// ------------------------------------------------------------------ eigh

/**
 * Eigendecomposition of the symmetric part `(A + Aᵀ)/2` of each matrix: `[w, v]` with
 * the eigenvalues w ascending and the eigenvectors in the columns of v (Jacobi sweeps
 * for small matrices, Householder tridiagonalization and QL from order 32). JVP (JAX's):
 * with `S = vᵀ sym(Ȧ) v`, `ẇ = diag(S)` and `v̇ = v (F ∘ S)` where
 * `F_ij = 1/(w_j - w_i)` off the diagonal and 0 on it (eigenvalues must be distinct).
 */
export const eigh_p: Primitive = definePrimitive({
  name: "eigh",
  freshOutputs: true,
  abstractEval([a]) {
    const [n] = checkMatrix("eigh", a!, true);
    return [new ShapedArray([...a!.shape.slice(0, -2), n], a!.dtype), a!];
  },
  impl([a], _p, avals) {
    const n = a!.shape[a!.ndim - 1]!;
    const [wo, vo] = outputs(avals);
    const w = new Float64Array(n);
    const v = new Float64Array(n * n);
    for (let b = 0, nb = batchCount(a!.aval); b < nb; b++) {
      K.eigh(symmetricAt(a!.buffer, b, n), n, w, v);
      wo!.set(w, b * n);
      vo!.set(v, b * n * n);
    }
    return wrap(avals, [wo!, vo!]);
  },
  jvp([a], [t]) {
    const [w, v] = eighFactor(a!);
    if (!t)
      return [
        [w, v],
        [null, null],
      ];
    const n = a!.shape[a!.ndim - 1]!;
    const eye = eyeMatrix(n, a!.dtype);
    const F = sub(div(1, add(eye, sub(asRow(w), asCol(w)))), eye);
    const S = mm(mm(mT(v), mul(add(t, mT(t)), 0.5)), v);
    return [
      [w, v],
      [diagonalOf(S), mm(v, mul(F, S))],
    ];
  },
  batch: batchFront(() => eigh_p),
});

export function eighFactor(a: NDArray): [NDArray, NDArray] {
  return bind(eigh_p, [a]) as [NDArray, NDArray];
}

// ------------------------------------------------------------------ svd

/** Params of {@link svd_p}. */
export interface SvdParams extends Params {
  /** U is m×m and Vᵀ n×n (true), or m×k and k×n with k = min(m, n). */
  fullMatrices: boolean;
}

/**
 * Singular value decomposition `[u, s, vh]` (`A = U diag(s) Vᵀ`, s descending) by
 * one-sided Jacobi. JVP (JAX's, for distinct nonzero singular values; fullMatrices only
 * for square matrices): with `dS = Uᵀ Ȧ V` and `F_ij = 1/(s_j² - s_i²)`, `ṡ = diag(dS)`,
 * `U̇ = U (F ∘ (dS S + S dSᵀ)) (+ (I - U Uᵀ) Ȧ V S⁻¹ when m > n)`,
 * `V̇ = V (F ∘ (S dS + dSᵀ S)) (+ (I - V Vᵀ) Ȧᵀ U S⁻¹ when n > m)`.
 */
export const svd_p: Primitive<SvdParams> = definePrimitive<SvdParams>({
  name: "svd",
  freshOutputs: true,
  abstractEval([a], { fullMatrices }) {
    const [m, n] = checkMatrix("svd", a!, false);
    const k = Math.min(m, n);
    const batch = a!.shape.slice(0, -2);
    const dt = a!.dtype;
    return [
      new ShapedArray([...batch, m, fullMatrices ? m : k], dt),
      new ShapedArray([...batch, k], dt),
      new ShapedArray([...batch, fullMatrices ? n : k, n], dt),
    ];
  },
  impl([a], { fullMatrices }, avals) {
    const [m, n] = lastTwo(a!);
    const [uo, so, vo] = outputs(avals);
    for (let b = 0, nb = batchCount(a!.aval); b < nb; b++) {
      const { u, s, vt } = K.svdJacobi(a!.buffer, b * m * n, m, n, fullMatrices);
      uo!.set(u, b * u.length);
      so!.set(s, b * s.length);
      vo!.set(vt, b * vt.length);
    }
    return wrap(avals, [uo!, so!, vo!]);
  },
  jvp([a], [t], p) {
    const [u, s, vh] = svdFactor(a!, p.fullMatrices);
    if (!t)
      return [
        [u, s, vh],
        [null, null, null],
      ];
    const [m, n] = lastTwo(a!);
    if (p.fullMatrices && m !== n)
      throw new Error(
        `svd: the derivative with fullMatrices: true is implemented for square matrices only (as JAX), got shape ${fmtShape(a!.shape)}; use fullMatrices: false.`,
      );
    const k = Math.min(m, n);
    const v = mT(vh);
    const sRow = asRow(s);
    const sCol = asCol(s);
    const eye = eyeMatrix(k, a!.dtype);
    const F = sub(div(1, add(mul(add(sRow, sCol), sub(sRow, sCol)), eye)), eye);
    const dS = mm(mm(mT(u), t), v);
    const dSS = mul(sRow, dS);
    const SdS = mul(sCol, dS);
    let dU = mm(u, mul(F, add(dSS, mT(dSS))));
    let dV = mm(v, mul(F, add(SdS, mT(SdS))));
    if (m > n) {
      const dAV = mm(t, v);
      dU = add(dU, div(sub(dAV, mm(u, mm(mT(u), dAV))), sRow));
    }
    if (n > m) {
      const dAU = mm(mT(t), u);
      dV = add(dV, div(sub(dAU, mm(v, mm(vh, dAU))), sRow));
    }
    return [
      [u, s, vh],
      [dU, diagonalOf(dS), mT(dV)],
    ];
  },
  batch: batchFront(() => svd_p),
});

export function svdFactor(a: NDArray, fullMatrices: boolean): [NDArray, NDArray, NDArray] {
  return bind(svd_p, [a], { fullMatrices }) as [NDArray, NDArray, NDArray];
}
