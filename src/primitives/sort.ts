/**
 * Sorting along one axis: `sort` (values; its derivative permutes the tangent by the
 * sorting permutation) and `argsort` (the stable permutation, not differentiable).
 * NaNs sort last, as in NumPy.
 * @module
 */
import { ConcreteArray, type NDArray, ShapedArray } from "../core/array.js";
import { type TypedArray, allocateForWrite } from "../core/dtype.js";
import { sizeOf } from "../core/shape.js";
import { type Params, type Primitive, bind1, definePrimitive } from "../core/trace.js";
import { gather } from "./gather.js";
import { moveAxis, reshape } from "./shape.js";

interface AxisParams extends Params {
  axis: number;
}

function checkAxis(name: string, x: ShapedArray, axis: number): void {
  if (!Number.isInteger(axis) || axis < 0 || axis >= x.ndim) throw new Error(`${name}: axis ${axis} is out of bounds for ${x.toString()}.`);
}

/** Runs `f(lane, laneOut)` over every 1-d lane along `axis`, copying lanes in and out when the axis is not last. */
function forLanes(x: ConcreteArray, axis: number, out: TypedArray, f: (lane: TypedArray, dst: TypedArray) => void, tmp: () => [TypedArray, TypedArray]): void {
  const shape = x.aval.shape;
  const n = shape[axis]!;
  const inner = sizeOf(shape.slice(axis + 1));
  const outer = sizeOf(shape.slice(0, axis));
  const X = x.buffer;
  const [tmpIn, tmpOut] = inner === 1 ? [X, out] : tmp();
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < inner; c++) {
      const base = o * n * inner + c;
      if (inner === 1) {
        f(X.subarray(base, base + n) as TypedArray, out.subarray(base, base + n) as TypedArray);
        continue;
      }
      for (let k = 0; k < n; k++) tmpIn[k] = X[base + k * inner]!;
      f(tmpIn, tmpOut);
      for (let k = 0; k < n; k++) out[base + k * inner] = tmpOut[k]!;
    }
  }
}

/** Takes `x` along `axis` at the per-lane permutation `perm` (same shape as x): a batched gather. */
export function permuteAlong(x: NDArray, perm: NDArray, axis: number): NDArray {
  const nd = x.ndim;
  const xm = moveAxis(x, axis, nd - 1);
  const pm = moveAxis(perm, axis, nd - 1);
  const g = gather(xm, reshape(pm, [...pm.aval.shape, 1]), { axes: [nd - 1], batchDims: nd - 1 });
  return moveAxis(g, nd - 1, axis);
}

export const sort_p: Primitive<AxisParams> = definePrimitive<AxisParams>({
  name: "sort",
  freshOutputs: true,
  abstractEval([x], { axis }) {
    checkAxis("sort", x!, axis);
    return [new ShapedArray(x!.shape, x!.dtype)];
  },
  impl([x], { axis }, [out]) {
    const n = x!.aval.shape[axis]!;
    const res = allocateForWrite(out!.dtype, out!.size);
    // typed-array sort is numeric with NaNs last, as NumPy
    forLanes(
      x!,
      axis,
      res,
      (lane, dst) => {
        dst.set(lane);
        dst.sort();
      },
      () => [allocateForWrite(out!.dtype, n), allocateForWrite(out!.dtype, n)],
    );
    return [new ConcreteArray(out!, res)];
  },
  jvp: ([x], [t], p) => {
    const perm = argsort(x!, p.axis);
    return [[sort(x!, p.axis)], [permuteAlong(t!, perm, p.axis)]];
  },
  batch: ([x], [d], p) => [[sort(moveAxis(x!, d!, 0), p.axis + 1)], [0]],
  printParams: (p) => `[dimension=${p.axis}]`,
});

export const argsort_p: Primitive<AxisParams> = definePrimitive<AxisParams>({
  name: "argsort",
  freshOutputs: true,
  nonDifferentiable: true,
  abstractEval([x], { axis }) {
    checkAxis("argsort", x!, axis);
    return [new ShapedArray(x!.shape, "int32")];
  },
  impl([x], { axis }, [out]) {
    const n = x!.aval.shape[axis]!;
    const res = allocateForWrite("int32", out!.size);
    const order = new Int32Array(n);
    forLanes(
      x!,
      axis,
      res,
      (lane, dst) => {
        for (let k = 0; k < n; k++) order[k] = k;
        // stable: ties keep their order; NaNs last
        order.sort((a, b) => {
          const va = lane[a]!;
          const vb = lane[b]!;
          if (va < vb) return -1;
          if (va > vb) return 1;
          const na = Number.isNaN(va);
          const nb = Number.isNaN(vb);
          if (na !== nb) return na ? 1 : -1;
          return a - b;
        });
        dst.set(order);
      },
      () => [allocateForWrite(x!.dtype, n), allocateForWrite("int32", n)],
    );
    return [new ConcreteArray(out!, res)];
  },
  batch: ([x], [d], p) => [[argsort(moveAxis(x!, d!, 0), p.axis + 1)], [0]],
  printParams: (p) => `[dimension=${p.axis}]`,
});

/** Binds {@link sort_p}. */
export function sort(x: NDArray, axis: number): NDArray {
  return bind1(sort_p, [x], { axis });
}
/** Binds {@link argsort_p}. */
export function argsort(x: NDArray, axis: number): NDArray {
  return bind1(argsort_p, [x], { axis });
}
