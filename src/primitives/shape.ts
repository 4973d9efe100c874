/** Shape primitives: broadcast_to, reshape, transpose, slice, pad, concatenate. @module */
import { ConcreteArray, type NDArray, ShapedArray } from "../core/array.js";
import { allocate, allocateForWrite } from "../core/dtype.js";
import { declareBuiltinView } from "../core/pool.js";
import { broadcastShapes, fmtShape, shapeEqual, sizeOf, stridesOf } from "../core/shape.js";
import { broadcastView, reshapeView, sliceView, transposeView } from "../kernel/views.js";
import { type BatchDim, type Params, type Primitive, UndefPrimal, bind, bind1, definePrimitive } from "../core/trace.js";
import { broadcastCopy, transposeIndex } from "./cpu.js";
import { full, unbroadcast } from "./elementwise.js";

const ints = (xs: readonly number[]): string => `(${xs.join(",")}${xs.length === 1 ? "," : ""})`;

// ------------------------------------------------------------------ broadcast_to
interface ShapeParams extends Params {
  shape: readonly number[];
}
export const broadcast_to_p: Primitive<ShapeParams> = definePrimitive<ShapeParams>({
  name: "broadcast_to",
  view: broadcastView,
  abstractEval([x], { shape }) {
    const b = broadcastShapes("broadcastTo", x!.shape, shape);
    if (!shapeEqual(b, shape))
      throw new Error(`broadcastTo: cannot broadcast shape ${fmtShape(x!.shape)} to ${fmtShape(shape)}; only size-1 and missing leading dimensions can grow.`);
    return [new ShapedArray(shape, x!.dtype)];
  },
  impl([x], _p, [out]) {
    return [broadcastCopy(x!, out!)];
  },
  jvp: ([x], [t], p) => [[broadcastTo(x!, p.shape)], [broadcastTo(t!, p.shape)]],
  transpose: ([ct], [x]) => [ct ? unbroadcast(ct, (x as UndefPrimal).aval.shape) : null],
  batch: ([x], [d], { shape }) => {
    const m = moveAxis(x!, d!, 0);
    const s = m.shape;
    const r = s.length - 1;
    const aligned = r === shape.length ? m : reshape(m, [s[0]!, ...new Array<number>(shape.length - r).fill(1), ...s.slice(1)]);
    return [[broadcastTo(aligned, [s[0]!, ...shape])], [0]];
  },
  printParams: (p) => `[shape=${ints(p.shape)}]`,
});
declareBuiltinView(broadcast_to_p);
export function broadcastTo(x: NDArray, shape: readonly number[]): NDArray {
  if (shapeEqual(x.aval.shape, shape)) return x;
  return bind1(broadcast_to_p, [x], { shape: [...shape] });
}

// ------------------------------------------------------------------ reshape
export const reshape_p: Primitive<ShapeParams> = definePrimitive<ShapeParams>({
  name: "reshape",
  view: reshapeView,
  abstractEval([x], { shape }) {
    if (sizeOf(shape) !== x!.size) {
      throw new Error(
        `reshape: cannot reshape an array of shape ${fmtShape(x!.shape)} (${x!.size} elements) into shape ${fmtShape(shape)} (${sizeOf(shape)} elements); the sizes must match (one dimension may be -1).`,
      );
    }
    return [new ShapedArray(shape, x!.dtype)];
  },
  impl: ([x], _p, [out]) => [new ConcreteArray(out!, x!.buffer)],
  jvp: ([x], [t], p) => [[reshape(x!, p.shape)], [reshape(t!, p.shape)]],
  transpose: ([ct], [x]) => [ct ? reshape(ct, (x as UndefPrimal).aval.shape) : null],
  batch: ([x], [d], { shape }) => {
    const m = moveAxis(x!, d!, 0);
    return [[reshape(m, [m.shape[0]!, ...shape])], [0]];
  },
  printParams: (p) => `[new_sizes=${ints(p.shape)}]`,
});
declareBuiltinView(reshape_p);
export function reshape(x: NDArray, shape: readonly number[]): NDArray {
  if (shapeEqual(x.aval.shape, shape)) return x;
  return bind1(reshape_p, [x], { shape: [...shape] });
}

// ------------------------------------------------------------------ transpose
interface PermParams extends Params {
  perm: readonly number[];
}
export const transpose_p: Primitive<PermParams> = definePrimitive<PermParams>({
  name: "transpose",
  view: transposeView,
  freshOutputs: true,
  abstractEval([x], { perm }) {
    const sorted = [...perm].sort((a, b) => a - b);
    if (perm.length !== x!.ndim || sorted.some((p, i) => p !== i)) {
      throw new Error(`transpose: axes ${ints(perm)} are not a permutation of the ${x!.ndim} axes of shape ${fmtShape(x!.shape)}.`);
    }
    return [
      new ShapedArray(
        perm.map((p) => x!.shape[p]!),
        x!.dtype,
      ),
    ];
  },
  impl([x], { perm }, [out]) {
    const idx = transposeIndex(x!.aval.shape, perm);
    const res = allocateForWrite(out!.dtype, out!.size);
    const b = x!.buffer;
    for (let i = 0; i < res.length; i++) res[i] = b[idx[i]!]!;
    return [new ConcreteArray(out!, res)];
  },
  jvp: ([x], [t], p) => [[transpose(x!, p.perm)], [transpose(t!, p.perm)]],
  transpose: ([ct], _x, { perm }) => {
    const inv = new Array<number>(perm.length);
    perm.forEach((p, i) => (inv[p] = i));
    return [ct ? transpose(ct, inv) : null];
  },
  batch: ([x], [d], { perm }) => [[transpose(moveAxis(x!, d!, 0), [0, ...perm.map((p) => p + 1)])], [0]],
  printParams: (p) => `[permutation=${ints(p.perm)}]`,
});
export function transpose(x: NDArray, perm: readonly number[]): NDArray {
  if (perm.every((p, i) => p === i) && perm.length === x.ndim) return x;
  return bind1(transpose_p, [x], { perm: [...perm] });
}
/** Moves axis `from` to position `to`. */
export function moveAxis(x: NDArray, from: number, to: number): NDArray {
  if (from === to) return x;
  const perm = Array.from({ length: x.ndim }, (_, i) => i).filter((i) => i !== from);
  perm.splice(to, 0, from);
  return transpose(x, perm);
}

// ------------------------------------------------------------------ slice / pad
interface SliceParams extends Params {
  starts: readonly number[];
  limits: readonly number[];
}
function copyBlock(
  src: ArrayLike<number>,
  srcShape: readonly number[],
  dst: { [i: number]: number },
  dstShape: readonly number[],
  srcOff: readonly number[],
  dstOff: readonly number[],
  block: readonly number[],
): void {
  const ss = stridesOf(srcShape);
  const ds = stridesOf(dstShape);
  const nd = block.length;
  const n = sizeOf(block);
  if (n === 0) return;
  let s0 = 0;
  let d0 = 0;
  for (let k = 0; k < nd; k++) {
    s0 += srcOff[k]! * ss[k]!;
    d0 += dstOff[k]! * ds[k]!;
  }
  const counter = new Array<number>(nd).fill(0);
  let so = s0;
  let dof = d0;
  for (let i = 0; i < n; i++) {
    dst[dof] = src[so]!;
    for (let k = nd - 1; k >= 0; k--) {
      counter[k]!++;
      so += ss[k]!;
      dof += ds[k]!;
      if (counter[k]! < block[k]!) break;
      so -= ss[k]! * counter[k]!;
      dof -= ds[k]! * counter[k]!;
      counter[k] = 0;
    }
  }
}
export const slice_p: Primitive<SliceParams> = definePrimitive<SliceParams>({
  name: "slice",
  view: sliceView,
  freshOutputs: true,
  abstractEval([x], { starts, limits }) {
    const s = x!.shape;
    if (starts.length !== s.length || limits.length !== s.length)
      throw new Error(`slice: starts ${ints(starts)} and stops ${ints(limits)} need one entry per axis of shape ${fmtShape(s)}.`);
    s.forEach((d, i) => {
      const a = starts[i]!;
      const b = limits[i]!;
      if (!(Number.isInteger(a) && Number.isInteger(b) && 0 <= a && a <= b && b <= d))
        throw new Error(`slice: [${a}, ${b}) is not a valid range for axis ${i} of size ${d} in shape ${fmtShape(s)}.`);
    });
    return [
      new ShapedArray(
        s.map((_, i) => limits[i]! - starts[i]!),
        x!.dtype,
      ),
    ];
  },
  impl([x], { starts }, [out]) {
    const res = allocate(out!.dtype, out!.size);
    copyBlock(
      x!.buffer,
      x!.aval.shape,
      res,
      out!.shape,
      starts,
      starts.map(() => 0),
      out!.shape,
    );
    return [new ConcreteArray(out!, res)];
  },
  jvp: ([x], [t], p) => [[slice(x!, p.starts, p.limits)], [slice(t!, p.starts, p.limits)]],
  transpose: ([ct], [x], { starts, limits }) => {
    const s = (x as UndefPrimal).aval.shape;
    return [
      ct
        ? pad(
            ct,
            starts,
            s.map((d, i) => d - limits[i]!),
          )
        : null,
    ];
  },
  batch: ([x], [d], { starts, limits }) => {
    const m = moveAxis(x!, d!, 0);
    return [[slice(m, [0, ...starts], [m.shape[0]!, ...limits])], [0]];
  },
  printParams: (p) => `[start_indices=${ints(p.starts)} limit_indices=${ints(p.limits)}]`,
});
export function slice(x: NDArray, starts: readonly number[], limits: readonly number[]): NDArray {
  if (starts.every((s) => s === 0) && limits.every((l, i) => l === x.aval.shape[i])) return x;
  return bind1(slice_p, [x], { starts: [...starts], limits: [...limits] });
}

interface PadParams extends Params {
  lo: readonly number[];
  hi: readonly number[];
}
export const pad_p: Primitive<PadParams> = definePrimitive<PadParams>({
  name: "pad",
  freshOutputs: true,
  abstractEval([x], { lo, hi }) {
    if (lo.length !== x!.ndim || hi.length !== x!.ndim || [...lo, ...hi].some((v) => !Number.isInteger(v) || v < 0))
      throw new Error(`pad: widths ${ints(lo)} / ${ints(hi)} must be non-negative, one per axis of ${fmtShape(x!.shape)}.`);
    return [
      new ShapedArray(
        x!.shape.map((d, i) => d + lo[i]! + hi[i]!),
        x!.dtype,
      ),
    ];
  },
  impl([x], { lo }, [out]) {
    const res = allocate(out!.dtype, out!.size);
    copyBlock(
      x!.buffer,
      x!.aval.shape,
      res,
      out!.shape,
      lo.map(() => 0),
      lo,
      x!.aval.shape,
    );
    return [new ConcreteArray(out!, res)];
  },
  jvp: ([x], [t], p) => [[pad(x!, p.lo, p.hi)], [pad(t!, p.lo, p.hi)]],
  transpose: ([ct], [x], { lo }) => {
    const s = (x as UndefPrimal).aval.shape;
    return [
      ct
        ? slice(
            ct,
            lo,
            s.map((d, i) => lo[i]! + d),
          )
        : null,
    ];
  },
  batch: ([x], [d], { lo, hi }) => [[pad(moveAxis(x!, d!, 0), [0, ...lo], [0, ...hi])], [0]],
  printParams: (p) => `[lo=${ints(p.lo)} hi=${ints(p.hi)}]`,
});
export function pad(x: NDArray, lo: readonly number[], hi: readonly number[]): NDArray {
  if ([...lo, ...hi].every((v) => v === 0)) return x;
  return bind1(pad_p, [x], { lo: [...lo], hi: [...hi] });
}

// ------------------------------------------------------------------ concatenate
interface AxisParams extends Params {
  axis: number;
}
export const concatenate_p: Primitive<AxisParams> = definePrimitive<AxisParams>({
  name: "concatenate",
  freshOutputs: true,
  abstractEval(xs, { axis }) {
    const first = xs[0]!;
    for (const x of xs) {
      if (x.dtype !== first.dtype) throw new Error(`concatenate: all arrays need one dtype, got ${xs.map(String).join(", ")}.`);
      if (x.ndim !== first.ndim || x.shape.some((d, i) => i !== axis && d !== first.shape[i])) {
        throw new Error(`concatenate: shapes ${xs.map((a) => fmtShape(a.shape)).join(", ")} must agree on every axis except axis ${axis}.`);
      }
    }
    const shape = [...first.shape];
    shape[axis] = xs.reduce((s, x) => s + x.shape[axis]!, 0);
    return [new ShapedArray(shape, first.dtype)];
  },
  impl(xs, { axis }, [out]) {
    const res = allocate(out!.dtype, out!.size);
    let off = 0;
    for (const x of xs) {
      const dstOff = out!.shape.map((_, i) => (i === axis ? off : 0));
      copyBlock(
        x.buffer,
        x.aval.shape,
        res,
        out!.shape,
        dstOff.map(() => 0),
        dstOff,
        x.aval.shape,
      );
      off += x.aval.shape[axis]!;
    }
    return [new ConcreteArray(out!, res)];
  },
  jvp: (xs, ts, p) => {
    const out = bind1(concatenate_p, xs, p);
    return [
      [out],
      [
        bind1(
          concatenate_p,
          ts.map((t, i) => t ?? full(xs[i]!.aval.shape, 0, xs[i]!.dtype)),
          p,
        ),
      ],
    ];
  },
  transpose: ([ct], xs, { axis }) => {
    let off = 0;
    return xs.map((x) => {
      const s = x.aval.shape;
      const start = off;
      off += s[axis]!;
      if (!ct || !(x instanceof UndefPrimal)) return null;
      return slice(
        ct,
        s.map((_, i) => (i === axis ? start : 0)),
        ct.aval.shape.map((d, i) => (i === axis ? start + s[axis]! : d)),
      );
    });
  },
  batch: (xs, dims, { axis }) => {
    const B = xs.find((_, i) => dims[i] !== null)!.shape[dims.find((d) => d !== null)!]!;
    const moved = xs.map((x, i) => (dims[i] === null ? broadcastTo(x, [B, ...x.shape]) : moveAxis(x, dims[i]!, 0)));
    return [[bind1(concatenate_p, moved, { axis: axis + 1 })], [0]];
  },
  printParams: (p) => `[dimension=${p.axis}]`,
});
export function concatenateArrays(xs: readonly NDArray[], axis: number): NDArray {
  if (xs.length === 1) return xs[0]!;
  return bind(concatenate_p, xs, { axis })[0]!;
}
export type { BatchDim };
