/** Gather along one axis (`take`) and its transpose (`scatter_add`). @module */
import { ConcreteArray, type NDArray, ShapedArray } from "../core/array.js";
import { allocate } from "../core/dtype.js";
import { fmtShape, sizeOf } from "../core/shape.js";
import { type BatchDim, type Params, type Primitive, UndefPrimal, bind1, definePrimitive } from "../core/trace.js";
import { full } from "./elementwise.js";
import { broadcastTo, concatenateArrays, moveAxis, reshape, slice } from "./shape.js";

interface TakeParams extends Params {
  axis: number;
}
interface ScatterParams extends Params {
  axis: number;
  shape: readonly number[];
}

function checkIndices(op: string, idx: ShapedArray): void {
  if (idx.dtype !== "int32") throw new Error(`${op}: indices must be an int32 array, got ${idx.toString()}; create them with np.array(..., { dtype: "int32" }).`);
}

/** Resolves an index (negative counts from the end) or throws naming the index and the size. */
function resolve(op: string, i: number, n: number, axis: number): number {
  const j = i < 0 ? i + n : i;
  if (j < 0 || j >= n) throw new Error(`${op}: index ${i} is out of range for axis ${axis} with size ${n}; valid indices are ${n === 0 ? "none (the axis is empty)" : `-${n}..${n - 1}`}.`);
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

/** Evaluates a primitive per batch element and stacks the results (rare batching cases). */
function batchByLoop(prim: Primitive, args: NDArray[], dims: BatchDim[], params: Params): [NDArray[], BatchDim[]] {
  const i0 = dims.findIndex((d) => d !== null);
  const B = args[i0]!.shape[dims[i0]!]!;
  if (B === 0) {
    // an empty batch: the per-example result type, with a leading axis of size 0
    const per = args.map((x, i) => (dims[i] === null ? x.aval : new ShapedArray(x.aval.shape.filter((_, k) => k !== dims[i]), x.dtype)));
    const out = prim.abstractEval(per, params)[0]!;
    return [[full([0, ...out.shape], 0, out.dtype)], [0]];
  }
  const outs: NDArray[] = [];
  for (let b = 0; b < B; b++) {
    const slices = args.map((x, i) => {
      if (dims[i] === null) return x;
      const m = moveAxis(x, dims[i]!, 0);
      const s = m.shape;
      return reshape(slice(m, [b, ...s.slice(1).map(() => 0)], [b + 1, ...s.slice(1)]), s.slice(1));
    });
    const y = bind1(prim, slices, params);
    outs.push(reshape(y, [1, ...y.shape]));
  }
  return [[concatenateArrays(outs, 0)], [0]];
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
    return batchByLoop(take_p, [x!, idx!], [dx!, di!], p);
  },
  printParams: (p) => `[axis=${p.axis}]`,
});

export const scatter_add_p: Primitive<ScatterParams> = definePrimitive<ScatterParams>({
  name: "scatter_add",
  freshOutputs: true,
  abstractEval([u, idx], { axis, shape }) {
    checkIndices("scatter_add", idx!);
    const expect = [...shape.slice(0, axis), ...idx!.shape, ...shape.slice(axis + 1)];
    if (expect.length !== u!.ndim || expect.some((d, i) => d !== u!.shape[i])) throw new Error(`scatter_add: updates of shape ${fmtShape(u!.shape)} do not match ${fmtShape(expect)}.`);
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
    const B = idx!.shape[di!]!;
    const uu = du === null ? broadcastTo(u!, [B, ...u!.shape]) : u!;
    return batchByLoop(scatter_add_p, [uu, idx!], [du === null ? 0 : du!, di!], p);
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
