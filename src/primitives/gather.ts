/**
 * General gather and scatter: point indexing of several axes at once, with leading
 * batch axes shared by the operand and the indices (a simpler form of XLA's
 * dimension numbers that covers NumPy's advanced indexing and every batching case).
 *
 * `gather(x, idx, { axes, batchDims })`: `idx` has shape `[...B, ...J, k]` with
 * `k = axes.length` and `B = x.shape[:batchDims]`; the result has shape
 * `[...B, ...J, ...rest]` where `rest` are the axes of `x` after the batch axes that
 * are not in `axes`, in order:
 *
 *     out[b, j, r] = x[b, ..., idx[b, j, 0] on axes[0], ..., idx[b, j, k-1] on axes[k-1], ... r ...]
 *
 * `scatter(x, idx, u, { axes, batchDims, mode })` is its transpose-like partner: `u`
 * has the gather's result shape, and each element of `u` is combined into the element
 * of (a copy of) `x` that the gather would read (`mode` add / set / mul / min / max;
 * duplicates accumulate, except for set, where the last one wins).
 *
 * Negative indices count from the end; an index out of range throws, naming the index,
 * the axis and its size.
 * @module
 */
import { ConcreteArray, type NDArray, ShapedArray } from "../core/array.js";
import { allocate, allocateForWrite } from "../core/dtype.js";
import { fmtShape, sizeOf, stridesOf } from "../core/shape.js";
import { type BatchDim, type Params, type Primitive, UndefPrimal, bind1, definePrimitive } from "../core/trace.js";
import { add, convert, div, equal, full, mul, where } from "./elementwise.js";
import { broadcastTo, moveAxis } from "./shape.js";

/** How scatter combines an update with the element already there. */
export type ScatterMode = "add" | "set" | "mul" | "min" | "max";

export interface GatherParams extends Params {
  /** The operand axes indexed by the last axis of the indices, in order. */
  axes: readonly number[];
  /** Leading axes shared by operand and indices (one example per entry). */
  batchDims: number;
}
export interface ScatterParams extends GatherParams {
  mode: ScatterMode;
}

const ints = (xs: readonly number[]): string => `(${xs.join(",")}${xs.length === 1 ? "," : ""})`;

/** The result shape of a gather, after checking operand and indices; `op` names the caller. */
function gatherShape(op: string, x: ShapedArray, idx: ShapedArray, { axes, batchDims: nb }: GatherParams): number[] {
  if (idx.dtype !== "int32")
    throw new Error(
      `${op}: indices must be an int32 array, got ${idx.toString()}; create them with np.array(..., { dtype: "int32" }) (a float array is never used as an index).`,
    );
  const k = axes.length;
  if (idx.ndim < nb + 1 || idx.shape[idx.ndim - 1] !== k)
    throw new Error(
      `${op}: indices of shape ${fmtShape(idx.shape)} need ${nb} batch axes and a last axis of length ${k} (one column per indexed axis ${ints(axes)}).`,
    );
  const seen = new Set<number>();
  for (const a of axes) {
    if (!Number.isInteger(a) || a < nb || a >= x.ndim || seen.has(a))
      throw new Error(`${op}: indexed axes ${ints(axes)} must be distinct axes of ${fmtShape(x.shape)} after its ${nb} batch axes.`);
    seen.add(a);
  }
  for (let i = 0; i < nb; i++)
    if (idx.shape[i] !== x.shape[i]) throw new Error(`${op}: batch axes of the operand ${fmtShape(x.shape)} and of the indices ${fmtShape(idx.shape)} differ.`);
  const rest = x.shape.filter((_, i) => i >= nb && !seen.has(i));
  return [...idx.shape.slice(0, -1), ...rest];
}

/**
 * The flat operand offsets a gather reads: `base[p]` for each index position `p` (batch
 * and indexed axes) and `rest[r]` for each element of the non-indexed axes; element
 * `(p, r)` of the result is `x[base[p] + rest[r]]`. Index checks happen here, at run
 * time, so they also fire inside compiled programs.
 */
function gatherOffsets(
  op: string,
  xShape: readonly number[],
  idx: ConcreteArray,
  { axes, batchDims: nb }: GatherParams,
): { base: Int32Array; rest: Int32Array } {
  const strides = stridesOf(xShape);
  const k = axes.length;
  const restAxes = xShape.map((_, i) => i).filter((i) => i >= nb && !axes.includes(i));
  const restShape = restAxes.map((i) => xShape[i]!);
  const R = sizeOf(restShape);
  const rest = new Int32Array(R);
  const rs = stridesOf(restShape);
  for (let r = 0; r < R; r++) {
    let o = 0;
    for (let j = 0; j < restAxes.length; j++) o += (Math.floor(r / rs[j]!) % restShape[j]!) * strides[restAxes[j]!]!;
    rest[r] = o;
  }
  const I = idx.buffer;
  const P = sizeOf(idx.aval.shape.slice(0, -1));
  const B = sizeOf(xShape.slice(0, nb));
  const J = B === 0 ? 0 : P / B;
  const batchStride = sizeOf(xShape.slice(nb));
  const sizes = axes.map((a) => xShape[a]!);
  const axStrides = axes.map((a) => strides[a]!);
  const base = new Int32Array(P);
  if (k === 1 && nb === 0) {
    // the common case (one indexed axis, no batch axes): one tight loop
    const n = sizes[0]!;
    const st = axStrides[0]!;
    for (let q = 0; q < P; q++) {
      const i = I[q]!;
      const j = i < 0 ? i + n : i;
      if (j < 0 || j >= n)
        throw new Error(
          `${op}: index ${i} is out of range for axis ${axes[0]} with size ${n}; valid indices are ${n === 0 ? "none (the axis is empty)" : `-${n}..${n - 1}`}.`,
        );
      base[q] = j * st;
    }
    return { base, rest };
  }
  let p = 0;
  for (let b = 0; b < B; b++) {
    const b0 = b * batchStride;
    for (let q = 0; q < J; q++, p++) {
      let o = b0;
      for (let c = 0; c < k; c++) {
        const i = I[p * k + c]!;
        const n = sizes[c]!;
        const j = i < 0 ? i + n : i;
        if (j < 0 || j >= n)
          throw new Error(
            `${op}: index ${i} is out of range for axis ${axes[c]} with size ${n}; valid indices are ${n === 0 ? "none (the axis is empty)" : `-${n}..${n - 1}`}.`,
          );
        o += j * axStrides[c]!;
      }
      base[p] = o;
    }
  }
  return { base, rest };
}

const shiftAxes = (p: GatherParams, by: number): { axes: number[]; batchDims: number } => ({ axes: p.axes.map((a) => a + by), batchDims: p.batchDims });

export const gather_p: Primitive<GatherParams> = definePrimitive<GatherParams>({
  name: "gather",
  freshOutputs: true,
  abstractEval([x, idx], p) {
    return [new ShapedArray(gatherShape("gather", x!, idx!, p), x!.dtype)];
  },
  impl([x, idx], p, [out]) {
    const res = allocateForWrite(out!.dtype, out!.size);
    const X = x!.buffer;
    const { base, rest } = gatherOffsets("gather", x!.aval.shape, idx!, p);
    const R = rest.length;
    if (R === 1) for (let q = 0; q < base.length; q++) res[q] = X[base[q]!]!;
    else {
      for (let q = 0; q < base.length; q++) {
        const b = base[q]!;
        const o = q * R;
        for (let r = 0; r < R; r++) res[o + r] = X[b + rest[r]!]!;
      }
    }
    return [new ConcreteArray(out!, res)];
  },
  jvp: ([x, idx], [t], p) => [[gather(x!, idx!, p)], [gather(t!, idx!, p)]],
  transpose: ([ct], [x, idx], p) => {
    if (idx instanceof UndefPrimal) throw new Error("gather: indices cannot be linear.");
    if (!ct) return [null, null];
    const xa = (x as UndefPrimal).aval;
    return [scatter(full(xa.shape, 0, xa.dtype), idx as NDArray, ct, { ...p, mode: "add" }), null];
  },
  batch: ([x, idx], [dx, di], p) => {
    const nb = p.batchDims;
    if (di === null) {
      // the operand's batch axis becomes the first non-indexed axis: out batch axis = idx.ndim - 1
      return [[gather(moveAxis(x!, dx!, nb), idx!, shiftAxes(p, 1))], [idx!.ndim - 1]];
    }
    if (dx === null) return [[gather(x!, moveAxis(idx!, di!, nb), p)], [nb]];
    return [[gather(moveAxis(x!, dx!, 0), moveAxis(idx!, di!, 0), { axes: p.axes.map((a) => a + 1), batchDims: nb + 1 })], [0]];
  },
  printParams: (p) => `[axes=${ints(p.axes)} batch_dims=${p.batchDims}]`,
});

const combiners: Record<ScatterMode, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  set: (_a, b) => b,
  mul: (a, b) => a * b,
  min: (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : a < b ? a : b),
  max: (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : a > b ? a : b),
};

/** Where `xs` and the updates `us` tie with the result (1/0 in x's dtype), for the min/max rules. */
function isOne(x: NDArray, y: NDArray): NDArray {
  return convert(equal(x, y), x.dtype);
}

export const scatter_p: Primitive<ScatterParams> = definePrimitive<ScatterParams>({
  name: "scatter",
  freshOutputs: true,
  abstractEval([x, idx, u], p) {
    const op = `scatter-${p.mode}`;
    const expect = gatherShape(op, x!, idx!, p);
    if (!(p.mode in combiners)) throw new Error(`scatter: unknown mode ${String(p.mode)}; use add, set, mul, min or max.`);
    if (u!.dtype !== x!.dtype) throw new Error(`${op}: updates ${u!.toString()} and operand ${x!.toString()} have different dtypes.`);
    if (expect.length !== u!.ndim || expect.some((d, i) => d !== u!.shape[i]))
      throw new Error(`${op}: updates of shape ${fmtShape(u!.shape)} do not match the indexed shape ${fmtShape(expect)}.`);
    return [new ShapedArray(x!.shape, x!.dtype)];
  },
  impl([x, idx, u], p, [out]) {
    const res = allocate(out!.dtype, out!.size);
    res.set(x!.buffer);
    const U = u!.buffer;
    const f = combiners[p.mode];
    const { base, rest } = gatherOffsets(`scatter-${p.mode}`, out!.shape, idx!, p);
    const R = rest.length;
    for (let q = 0; q < base.length; q++) {
      const b = base[q]!;
      const o = q * R;
      if (p.mode === "add") {
        for (let r = 0; r < R; r++) {
          const t = b + rest[r]!;
          res[t] = res[t]! + U[o + r]!;
        }
      } else {
        for (let r = 0; r < R; r++) {
          const t = b + rest[r]!;
          res[t] = f(res[t]!, U[o + r]!);
        }
      }
    }
    return [new ConcreteArray(out!, res)];
  },
  jvp: ([x, idx, u], [tx, , tu], p) => {
    const out = scatter(x!, idx!, u!, p);
    const zx = (): NDArray => full(x!.aval.shape, 0, x!.dtype);
    const zu = (): NDArray => full(u!.aval.shape, 0, u!.dtype);
    const gp = { axes: p.axes, batchDims: p.batchDims };
    switch (p.mode) {
      case "add":
      case "set":
        return [[out], [scatter(tx ?? zx(), idx!, tu ?? zu(), p)]];
      case "mul": {
        // out = x · P with P the product of the updates landing on each element;
        // dP = Σ_j du_j · (product of the other updates on j's element), computed
        // exactly with zeros among the updates (no division by an update that is 0).
        const ones = full(x!.aval.shape, 1, x!.dtype);
        const P = scatter(ones, idx!, u!, p);
        const parts: NDArray[] = [];
        if (tx) parts.push(mul(tx, P));
        if (tu) {
          const isZero = equal(u!, 0);
          const zeros = scatter(full(x!.aval.shape, 0, x!.dtype), idx!, convert(isZero, u!.dtype), { ...p, mode: "add" });
          const nonzeroProd = scatter(ones, idx!, where(isZero, 1, u!), p);
          const zg = gather(zeros, idx!, gp);
          const pg = gather(nonzeroProd, idx!, gp);
          const others = where(isZero, where(equal(zg, 1), pg, 0), where(equal(zg, 0), div(pg, where(isZero, 1, u!)), 0));
          parts.push(mul(x!, scatter(zx(), idx!, mul(tu, others), { ...p, mode: "add" })));
        }
        return [[out], [parts.length === 2 ? add(parts[0]!, parts[1]!) : parts[0]!]];
      }
      case "min":
      case "max": {
        // ties split the derivative evenly among the operand and the updates that reach the extremum
        const mx = isOne(x!, out);
        const mu = isOne(u!, gather(out, idx!, gp));
        const count = add(mx, scatter(zx(), idx!, mu, { ...p, mode: "add" }));
        let num = tx ? mul(tx, mx) : zx();
        if (tu) num = add(num, scatter(zx(), idx!, mul(tu, mu), { ...p, mode: "add" }));
        return [[out], [div(num, count)]];
      }
    }
  },
  transpose: ([ct], [x, idx, u], p) => {
    if (idx instanceof UndefPrimal) throw new Error("scatter: indices cannot be linear.");
    if (p.mode !== "add" && p.mode !== "set") throw new Error(`scatter-${p.mode} is not linear; only add and set scatters can be transposed.`);
    if (!ct) return [null, null, null];
    const gp = { axes: p.axes, batchDims: p.batchDims };
    const ctU = u instanceof UndefPrimal ? gather(ct, idx as NDArray, gp) : null;
    let ctX: NDArray | null = null;
    if (x instanceof UndefPrimal) ctX = p.mode === "add" ? ct : scatter(ct, idx as NDArray, full(u!.aval.shape, 0, ct.dtype), p);
    return [ctX, null, ctU];
  },
  batch: ([x, idx, u], [dx, di, du], p) => {
    const nb = p.batchDims;
    const B = dx != null ? x!.shape[dx]! : di != null ? idx!.shape[di]! : u!.shape[du!]!;
    const front = (a: NDArray, d: BatchDim): NDArray => (d === null ? broadcastTo(a, [B, ...a.shape]) : moveAxis(a, d, 0));
    if (di === null) {
      const xb = moveAxis(front(x!, dx ?? null), 0, nb);
      const ub = moveAxis(front(u!, du ?? null), 0, idx!.ndim - 1);
      return [[scatter(xb, idx!, ub, { ...p, ...shiftAxes(p, 1) })], [nb]];
    }
    return [[scatter(front(x!, dx ?? null), moveAxis(idx!, di!, 0), front(u!, du ?? null), { ...p, axes: p.axes.map((a) => a + 1), batchDims: nb + 1 })], [0]];
  },
  printParams: (p) => `[mode=${p.mode} axes=${ints(p.axes)} batch_dims=${p.batchDims}]`,
});

/** Binds {@link gather_p}. */
export function gather(x: NDArray, idx: NDArray, p: { axes: readonly number[]; batchDims: number }): NDArray {
  return bind1(gather_p, [x, idx], { axes: [...p.axes], batchDims: p.batchDims });
}
/** Binds {@link scatter_p}. */
export function scatter(x: NDArray, idx: NDArray, u: NDArray, p: { axes: readonly number[]; batchDims: number; mode: ScatterMode }): NDArray {
  return bind1(scatter_p, [x, idx, u], { axes: [...p.axes], batchDims: p.batchDims, mode: p.mode });
}
