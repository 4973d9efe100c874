/** Batched matrix multiplication with NumPy's batch broadcasting. @module */
import { ConcreteArray, type NDArray, ShapedArray } from "../core/array.js";
import { allocateForWrite } from "../core/dtype.js";
import { broadcastShapes, fmtShape, sizeOf } from "../core/shape.js";
import { type BatchDim, type Params, UndefPrimal, bind1, combinable, definePrimitive } from "../core/trace.js";
import { hostBackend } from "../backends/registry.js";
import { broadcastIndex } from "./cpu.js";
import { add, alignBatchAxes, unbroadcast } from "./elementwise.js";
import { concatenateArrays, slice, transpose } from "./shape.js";

/** Swaps the last two axes. */
export function swapLast(x: NDArray): NDArray {
  const n = x.ndim;
  const perm = Array.from({ length: n }, (_, i) => i);
  perm[n - 2] = n - 1;
  perm[n - 1] = n - 2;
  return transpose(x, perm);
}

/** The result aval of `op(a) · op(b)` for stored operand avals (`op` swaps the last two axes when the flag is set). */
function matmulAval(name: string, a: ShapedArray, b: ShapedArray, transA: boolean, transB: boolean): ShapedArray {
  if (a.ndim < 2 || b.ndim < 2) throw new Error(`${name}: the primitive needs rank >= 2 operands, got ${fmtShape(a.shape)} and ${fmtShape(b.shape)}.`);
  if (a.dtype !== b.dtype) throw new Error(`${name}: operands have different dtypes ${a.toString()} and ${b.toString()}.`);
  if (a.dtype === "bool") throw new Error(`${name}: bool operands are not supported; convert with astype.`);
  const [a0, a1] = a.shape.slice(-2) as [number, number];
  const [b0, b1] = b.shape.slice(-2) as [number, number];
  const [m, k] = transA ? [a1, a0] : [a0, a1];
  const [k2, n] = transB ? [b1, b0] : [b0, b1];
  if (k !== k2) {
    throw new Error(
      `${name}: shapes ${fmtShape(a.shape)}${transA ? " (transposed)" : ""} and ${fmtShape(b.shape)}${transB ? " (transposed)" : ""} do not align: the contracted axes have lengths ${k} and ${k2}.`,
    );
  }
  const batch = broadcastShapes(name, a.shape.slice(0, -2), b.shape.slice(0, -2));
  return new ShapedArray([...batch, m, n], a.dtype);
}

/** The batched product `op(a) · op(b)`: the host backend multiplies each batch element's matrices. */
function matmulImpl(a: ConcreteArray, b: ConcreteArray, out: ShapedArray, transA: boolean, transB: boolean): ConcreteArray {
  const as = a.aval.shape;
  const bs = b.aval.shape;
  const m = out.shape[out.ndim - 2]!;
  const n = out.shape[out.ndim - 1]!;
  const k = transA ? as[as.length - 2]! : as[as.length - 1]!;
  const batchShape = out.shape.slice(0, -2);
  const nb = sizeOf(batchShape);
  const ia = broadcastIndex(as.slice(0, -2), batchShape);
  const ib = broadcastIndex(bs.slice(0, -2), batchShape);
  const A = a.buffer;
  const B = b.buffer;
  const C = allocateForWrite(out.dtype, out.size); // every batch element writes all of its block
  for (let t = 0; t < nb; t++) {
    hostBackend.matmul({ A, aOffset: (ia ? ia[t]! : t) * m * k, B, bOffset: (ib ? ib[t]! : t) * k * n, C, cOffset: t * m * n, m, k, n, transA, transB });
  }
  return new ConcreteArray(out, C);
}

export const matmul_p = definePrimitive({
  name: "matmul",
  freshOutputs: true,
  abstractEval([a, b]) {
    return [matmulAval("matmul", a!, b!, false, false)];
  },
  impl([a, b], _p, [out]) {
    return [matmulImpl(a!, b!, out!, false, false)];
  },
  jvp([a, b], [ta, tb]) {
    return matmulJvp(a!, b!, ta, tb, false, false);
  },
  transpose([ct], [a, b]) {
    if (!ct) return [null, null];
    if (a instanceof UndefPrimal && b instanceof UndefPrimal) throw new Error("matmul: both operands are linear; the product is not linear.");
    return matmulTransposeRule(ct, a!, b!, false, false);
  },
  batch(args: NDArray[], dims: BatchDim[]) {
    const [a, b] = alignBatchAxes(args, dims) as [NDArray, NDArray];
    return [[matmulRaw(a, b)], [0]];
  },
});

/** Widest narrow operand (columns of `op(b)` or rows of `op(a)`) whose tangent rides along in the primal's product. */
const JOINT_MAX_WIDTH = 2;
/** Smallest wide operand (elements) for which reading it once instead of twice pays for the concatenation. */
const JOINT_MIN_SIZE = 1 << 16;

/** `x[..., start:limit, ...]` along one axis. */
function sliceAxis(x: NDArray, axis: number, start: number, limit: number): NDArray {
  return slice(
    x,
    x.shape.map((_, i) => (i === axis ? start : 0)),
    x.shape.map((d, i) => (i === axis ? limit : d)),
  );
}

/**
 * The JVP of `op(a) · op(b)`: `op(ȧ) · op(b) + op(a) · op(ḃ)`. When only a narrow operand
 * has a tangent (a matrix times a vector, as in a Hessian-vector product) and primal and
 * tangent can be combined, the two products become one — `A · [x ẋ]` — so the wide
 * operand is read once; the matrix-vector kernels take a few vectors at the cost of one.
 */
function matmulJvp(
  a: NDArray,
  b: NDArray,
  ta: NDArray | null | undefined,
  tb: NDArray | null | undefined,
  transA: boolean,
  transB: boolean,
): [NDArray[], NDArray[]] {
  if (!ta && tb && a.size >= JOINT_MIN_SIZE && combinable([b, tb])) {
    const axis = b.ndim - (transB ? 2 : 1); // the columns of op(b)
    const n = b.shape[axis]!;
    if (n <= JOINT_MAX_WIDTH) {
      const both = matmulT(a, concatenateArrays([b, tb], axis), transA, transB);
      return [[sliceAxis(both, both.ndim - 1, 0, n)], [sliceAxis(both, both.ndim - 1, n, 2 * n)]];
    }
  }
  if (ta && !tb && b.size >= JOINT_MIN_SIZE && combinable([a, ta])) {
    const axis = a.ndim - (transA ? 1 : 2); // the rows of op(a)
    const m = a.shape[axis]!;
    if (m <= JOINT_MAX_WIDTH) {
      const both = matmulT(concatenateArrays([a, ta], axis), b, transA, transB);
      return [[sliceAxis(both, both.ndim - 2, 0, m)], [sliceAxis(both, both.ndim - 2, m, 2 * m)]];
    }
  }
  const out = matmulT(a, b, transA, transB);
  const parts: NDArray[] = [];
  if (ta) parts.push(matmulT(ta, b, transA, transB));
  if (tb) parts.push(matmulT(a, tb, transA, transB));
  return [[out], [parts.length === 2 ? add(parts[0]!, parts[1]!) : parts[0]!]];
}

/**
 * The transpose rule of `C = op(a) · op(b)` (`op` swaps the last two axes where the flag
 * is set): the cotangent of the linear operand is another product of the same kind, so
 * the backward pass never materializes a transposed copy.
 * - `op(a)` receives `ct · op(b)ᵀ`; stored transposed, `a` receives its transpose
 *   `op(b) · ctᵀ`;
 * - `op(b)` receives `op(a)ᵀ · ct`; stored transposed, `b` receives `ctᵀ · op(a)`.
 */
function matmulTransposeRule(ct: NDArray, a: NDArray | UndefPrimal, b: NDArray | UndefPrimal, transA: boolean, transB: boolean): (NDArray | null)[] {
  if (a instanceof UndefPrimal && b instanceof UndefPrimal) throw new Error("matmul: both operands are linear; the product is not linear.");
  if (a instanceof UndefPrimal) {
    const g = transA ? matmulT(b as NDArray, ct, transB, true) : matmulT(ct, b as NDArray, false, !transB);
    return [unbroadcast(g, a.aval.shape), null];
  }
  if (b instanceof UndefPrimal) {
    const g = transB ? matmulT(ct, a, true, transA) : matmulT(a, ct, !transA, false);
    return [null, unbroadcast(g, b.aval.shape)];
  }
  return [null, null];
}

/** `op(a) · op(b)`: `matmul` when neither flag is set, else `matmul_t`. */
export function matmulT(a: NDArray, b: NDArray, transposeA: boolean, transposeB: boolean): NDArray {
  return transposeA || transposeB ? bind1(matmul_t_p, [a, b], { transposeA, transposeB }) : matmulRaw(a, b);
}

/** The matmul primitive on rank >= 2 operands of equal dtype. */
export function matmulRaw(a: NDArray, b: NDArray): NDArray {
  return bind1(matmul_p, [a, b]);
}

/** Params of {@link matmul_t_p}. */
export interface MatmulTParams extends Params {
  /** The first operand is stored with its last two axes swapped. */
  transposeA: boolean;
  /** The second operand is stored with its last two axes swapped. */
  transposeB: boolean;
}

/**
 * `matmul(op(a), op(b))` where `op` swaps the last two axes of an operand whose flag is
 * set (JAX expresses the same with `dot_general`'s dimension numbers). The transpose
 * rule of `matmul` produces it, and jit's matmul-layout pass rewrites a matmul of an
 * explicit transpose into it, so transposed operands are read in their stored layout
 * instead of being copied. It has the full set of rules: it is linear in each operand
 * (its JVP and transpose are products of the same kind) and batches like `matmul`.
 */
export const matmul_t_p = definePrimitive<MatmulTParams>({
  name: "matmul_t",
  freshOutputs: true,
  abstractEval([a, b], { transposeA, transposeB }) {
    return [matmulAval("matmul_t", a!, b!, transposeA, transposeB)];
  },
  impl([a, b], { transposeA, transposeB }, [out]) {
    return [matmulImpl(a!, b!, out!, transposeA, transposeB)];
  },
  jvp([a, b], [ta, tb], { transposeA, transposeB }) {
    return matmulJvp(a!, b!, ta, tb, transposeA, transposeB);
  },
  transpose([ct], [a, b], { transposeA, transposeB }) {
    if (!ct) return [null, null];
    return matmulTransposeRule(ct, a!, b!, transposeA, transposeB);
  },
  batch(args: NDArray[], dims: BatchDim[], { transposeA, transposeB }) {
    const [a, b] = alignBatchAxes(args, dims) as [NDArray, NDArray];
    return [[matmulT(a, b, transposeA, transposeB)], [0]];
  },
});
