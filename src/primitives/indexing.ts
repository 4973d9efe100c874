/** Gather along one axis (`take`) and its transpose (`scatter_add`). @module */
import { ConcreteArray, type NDArray, ShapedArray } from "../core/array.js";
import { allocate } from "../core/dtype.js";
import { fmtShape, sizeOf } from "../core/shape.js";
import { type Params, type Primitive, UndefPrimal, bind1, definePrimitive } from "../core/trace.js";
import { full } from "./elementwise.js";
import { gather, scatter } from "./gather.js";
import { broadcastTo, moveAxis, reshape, transpose } from "./shape.js";

interface TakeParams extends Params {
  axis: number;
}
interface ScatterParams extends Params {
  axis: number;
  shape: readonly number[];
}

function checkIndices(op: string, idx: ShapedArray): void {
  if (idx.dtype !== "int32")
    throw new Error(`${op}: indices must be an int32 array, got ${idx.toString()}; create them with np.array(..., { dtype: "int32" }).`);
}

/** Resolves an index (negative counts from the end) or throws naming the index and the size. */
function resolve(op: string, i: number, n: number, axis: number): number {
  const j = i < 0 ? i + n : i;
  if (j < 0 || j >= n)
    throw new Error(
      `${op}: index ${i} is out of range for axis ${axis} with size ${n}; valid indices are ${n === 0 ? "none (the axis is empty)" : `-${n}..${n - 1}`}.`,
    );
  return j;
}

/** Loops over the gathered layout: calls f(outFlat, inFlat). */
function forTake(op: string, xShape: readonly number[], idx: ConcreteArray, axis: number, f: (o: number, i: number) => void): void {
  const pre = sizeOf(xShape.slice(0, axis));
  const n = xShape[axis]!;
  const post = sizeOf(xShape.slice(axis + 1));
  const I = idx.buffer;
  const m = I.length;
  for (let a = 0; a < pre; a++) {
    for (let j = 0; j < m; j++) {
      const src = resolve(op, I[j]!, n, axis);
      const ob = (a * m + j) * post;
      const ib = (a * n + src) * post;
      for (let c = 0; c < post; c++) f(ob + c, ib + c);
    }
  }
}

/** The axes order that moves `n` axes at `from` (after a leading batch axis) to just after `to` more axes. */
function spliceAxes(ndim: number, from: number, n: number, to: number): number[] {
  const rest = Array.from({ length: ndim }, (_, i) => i).filter((i) => i < from || i >= from + n);
  const moved = Array.from({ length: n }, (_, i) => from + i);
  return [...rest.slice(0, to), ...moved, ...rest.slice(to)];
}

export const take_p: Primitive<TakeParams> = definePrimitive<TakeParams>({
  name: "take",
  freshOutputs: true,
  abstractEval([x, idx], { axis }) {
    checkIndices("take", idx!);
    if (axis < 0 || axis >= x!.ndim) throw new Error(`take: axis ${axis} is out of bounds for shape ${fmtShape(x!.shape)}.`);
    return [new ShapedArray([...x!.shape.slice(0, axis), ...idx!.shape, ...x!.shape.slice(axis + 1)], x!.dtype)];
  },
  impl([x, idx], { axis }, [out]) {
    const res = allocate(out!.dtype, out!.size);
    const X = x!.buffer;
    forTake("take", x!.aval.shape, idx!, axis, (o, i) => (res[o] = X[i]!));
    return [new ConcreteArray(out!, res)];
  },
  jvp: ([x, idx], [t], p) => [[take(x!, idx!, p.axis)], [take(t!, idx!, p.axis)]],
  transpose: ([ct], [x, idx], { axis }) => {
    if (idx instanceof UndefPrimal) throw new Error("take: indices cannot be linear.");
    return [ct ? scatterAdd(ct, idx as NDArray, axis, (x as UndefPrimal).aval.shape) : null, null];
  },
  batch: ([x, idx], [dx, di], p) => {
    if (di === null) return [[take(moveAxis(x!, dx!, 0), idx!, p.axis + 1)], [0]];
    if (dx === null) return [[take(x!, idx!, p.axis)], [p.axis + di!]];
    // both batched: one gather sharing the batch axis, then the index axes moved to `axis`
    const xb = moveAxis(x!, dx!, 0);
    const ib = moveAxis(idx!, di!, 0);
    const g = gather(xb, reshape(ib, [...ib.shape, 1]), { axes: [p.axis + 1], batchDims: 1 });
    return [[transpose(g, spliceAxes(g.ndim, 1, ib.ndim - 1, p.axis + 1))], [0]];
  },
  printParams: (p) => `[axis=${p.axis}]`,
});

export const scatter_add_p: Primitive<ScatterParams> = definePrimitive<ScatterParams>({
  name: "scatter_add",
  freshOutputs: true,
  abstractEval([u, idx], { axis, shape }) {
    checkIndices("scatter_add", idx!);
    const expect = [...shape.slice(0, axis), ...idx!.shape, ...shape.slice(axis + 1)];
    if (expect.length !== u!.ndim || expect.some((d, i) => d !== u!.shape[i]))
      throw new Error(`scatter_add: updates of shape ${fmtShape(u!.shape)} do not match ${fmtShape(expect)}.`);
    return [new ShapedArray(shape, u!.dtype)];
  },
  impl([u, idx], { axis }, [out]) {
    const res = allocate(out!.dtype, out!.size);
    const U = u!.buffer;
    forTake("scatter_add", out!.shape, idx!, axis, (o, i) => (res[i]! += U[o]!));
    return [new ConcreteArray(out!, res)];
  },
  jvp: ([u, idx], [t], p) => [[scatterAdd(u!, idx!, p.axis, p.shape)], [scatterAdd(t!, idx!, p.axis, p.shape)]],
  transpose: ([ct], [, idx], { axis }) => [ct ? take(ct, idx as NDArray, axis) : null, null],
  batch: ([u, idx], [du, di], p) => {
    if (di === null) {
      const m = moveAxis(u!, du!, 0);
      return [[scatterAdd(m, idx!, p.axis + 1, [m.shape[0]!, ...p.shape])], [0]];
    }
    // batched indices: one scatter-add sharing the batch axis, the updates' index axes first
    const ib = moveAxis(idx!, di!, 0);
    const B = ib.shape[0]!;
    const ub = du === null ? broadcastTo(u!, [B, ...u!.shape]) : moveAxis(u!, du!, 0);
    const m = ib.ndim - 1;
    const perm = [
      0,
      ...Array.from({ length: m }, (_, i) => p.axis + 1 + i),
      ...Array.from({ length: ub.ndim - 1 - m }, (_, i) => (i < p.axis ? i + 1 : i + 1 + m)),
    ];
    const zeros = full([B, ...p.shape], 0, u!.dtype);
    return [[scatter(zeros, reshape(ib, [...ib.shape, 1]), transpose(ub, perm), { axes: [p.axis + 1], batchDims: 1, mode: "add" })], [0]];
  },
  printParams: (p) => `[axis=${p.axis}]`,
});

export function take(x: NDArray, idx: NDArray, axis: number): NDArray {
  return bind1(take_p, [x, idx], { axis });
}
export function scatterAdd(u: NDArray, idx: NDArray, axis: number, shape: readonly number[]): NDArray {
  return bind1(scatter_add_p, [u, idx], { axis, shape: [...shape] });
}
export { full };
