/** Batched matrix multiplication with NumPy's batch broadcasting. @module */
import { ConcreteArray, type NDArray, ShapedArray } from "../core/array.js";
import { allocate } from "../core/dtype.js";
import { broadcastShapes, fmtShape, sizeOf } from "../core/shape.js";
import { type BatchDim, UndefPrimal, bind1, definePrimitive } from "../core/trace.js";
import { matmulWasm } from "../backends/wasm/matmul.js";
import { matmulBlocked } from "../backends/cpu/matmul.js";
import { broadcastIndex } from "./cpu.js";

/** Below this many multiply-adds the plain JS loop is cheaper than packing for the SIMD kernel. */
const WASM_MIN_WORK = 32 * 32 * 32;
import { add, unbroadcast } from "./elementwise.js";
import { moveAxis, reshape, transpose } from "./shape.js";

/** Swaps the last two axes. */
export function swapLast(x: NDArray): NDArray {
  const n = x.ndim;
  const perm = Array.from({ length: n }, (_, i) => i);
  perm[n - 2] = n - 1;
  perm[n - 1] = n - 2;
  return transpose(x, perm);
}

export const matmul_p = definePrimitive({
  name: "matmul",
  freshOutputs: true,
  abstractEval([a, b]) {
    if (a!.ndim < 2 || b!.ndim < 2) throw new Error(`matmul: the primitive needs rank >= 2 operands, got ${fmtShape(a!.shape)} and ${fmtShape(b!.shape)}.`);
    if (a!.dtype !== b!.dtype) throw new Error(`matmul: operands have different dtypes ${a!.toString()} and ${b!.toString()}.`);
    if (a!.dtype === "bool") throw new Error(`matmul: bool operands are not supported; convert with astype.`);
    const [m, k] = a!.shape.slice(-2) as [number, number];
    const [k2, n] = b!.shape.slice(-2) as [number, number];
    if (k !== k2) {
      throw new Error(`matmul: shapes ${fmtShape(a!.shape)} and ${fmtShape(b!.shape)} do not align: the last axis of the first (${k}) must equal the second-to-last axis of the second (${k2}).`);
    }
    const batch = broadcastShapes("matmul", a!.shape.slice(0, -2), b!.shape.slice(0, -2));
    return [new ShapedArray([...batch, m, n], a!.dtype)];
  },
  impl([a, b], _p, [out]) {
    const as = a!.aval.shape;
    const bs = b!.aval.shape;
    const m = as[as.length - 2]!;
    const k = as[as.length - 1]!;
    const n = bs[bs.length - 1]!;
    const batchShape = out!.shape.slice(0, -2);
    const nb = sizeOf(batchShape);
    const ia = broadcastIndex(as.slice(0, -2), batchShape);
    const ib = broadcastIndex(bs.slice(0, -2), batchShape);
    const A = a!.buffer;
    const B = b!.buffer;
    const C = allocate(out!.dtype, out!.size);
    const simd = (C instanceof Float32Array || C instanceof Float64Array) && m * k * n >= WASM_MIN_WORK;
    for (let t = 0; t < nb; t++) {
      const ao = (ia ? ia[t]! : t) * m * k;
      const bo = (ib ? ib[t]! : t) * k * n;
      const co = t * m * n;
      if (simd && matmulWasm((A as Float32Array).subarray(ao, ao + m * k), (B as Float32Array).subarray(bo, bo + k * n), (C as Float32Array).subarray(co, co + m * n), m, k, n)) continue;
      matmulBlocked(A, ao, B, bo, C, co, m, k, n);
    }
    return [new ConcreteArray(out!, C)];
  },
  jvp([a, b], [ta, tb]) {
    const out = matmulRaw(a!, b!);
    const parts: NDArray[] = [];
    if (ta) parts.push(matmulRaw(ta, b!));
    if (tb) parts.push(matmulRaw(a!, tb));
    return [[out], [parts.length === 2 ? add(parts[0]!, parts[1]!) : parts[0]!]];
  },
  transpose([ct], [a, b]) {
    if (!ct) return [null, null];
    if (a instanceof UndefPrimal && b instanceof UndefPrimal) throw new Error("matmul: both operands are linear; the product is not linear.");
    if (a instanceof UndefPrimal) return [unbroadcast(matmulRaw(ct, swapLast(b as NDArray)), a.aval.shape), null];
    if (b instanceof UndefPrimal) return [null, unbroadcast(matmulRaw(swapLast(a as NDArray), ct), b.aval.shape)];
    return [null, null];
  },
  batch(args: NDArray[], dims: BatchDim[]) {
    const ranks = args.map((x, i) => x.ndim - (dims[i] === null ? 0 : 1));
    const r = Math.max(...ranks);
    const moved = args.map((x, i) => {
      const d = dims[i];
      if (d === null || d === undefined) return x;
      const m = moveAxis(x, d, 0);
      const s = m.shape;
      return ranks[i] === r ? m : reshape(m, [s[0]!, ...new Array<number>(r - ranks[i]!).fill(1), ...s.slice(1)]);
    });
    return [[matmulRaw(moved[0]!, moved[1]!)], [0]];
  },
});

/** The matmul primitive on rank >= 2 operands of equal dtype. */
export function matmulRaw(a: NDArray, b: NDArray): NDArray {
  return bind1(matmul_p, [a, b]);
}
