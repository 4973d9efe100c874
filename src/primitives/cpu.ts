/**
 * Reference CPU kernels on typed arrays, used by the primitives' `impl` rules.
 * @module
 */
import { ConcreteArray, type ShapedArray } from "../core/array.js";
import { type TypedArray, allocate } from "../core/dtype.js";
import { type Shape, shapeEqual, sizeOf, stridesOf } from "../core/shape.js";

/**
 * For each flat index of `outShape`, the flat index of the (NumPy-broadcast) input of
 * shape `inShape`; null when the shapes are equal (identity).
 */
export function broadcastIndex(inShape: Shape, outShape: Shape): Int32Array | null {
  if (shapeEqual(inShape, outShape)) return null;
  if (sizeOf(inShape) === 1) return new Int32Array(sizeOf(outShape));
  const nd = outShape.length;
  const inStrides = stridesOf(inShape);
  const bs = new Array<number>(nd).fill(0);
  for (let i = 0; i < inShape.length; i++) bs[nd - inShape.length + i] = inShape[i] === 1 ? 0 : inStrides[i]!;
  return stridedIndex(outShape, bs);
}

/**
 * For each flat (row-major) index of `shape`, the offset `sum(index[d] * strides[d])`:
 * the gather map of any strided view (broadcast, transpose).
 */
export function stridedIndex(shape: Shape, strides: readonly number[]): Int32Array {
  const n = sizeOf(shape);
  const idx = new Int32Array(n);
  const nd = shape.length;
  const counter = new Array<number>(nd).fill(0);
  let off = 0;
  for (let i = 0; i < n; i++) {
    idx[i] = off;
    for (let d = nd - 1; d >= 0; d--) {
      counter[d]!++;
      off += strides[d]!;
      if (counter[d]! < shape[d]!) break;
      off -= strides[d]! * counter[d]!;
      counter[d] = 0;
    }
  }
  return idx;
}

type Buf = ArrayLike<number>;
type Out = { [i: number]: number };
interface Loops {
  u(a: Buf, res: Out, n: number, p: unknown): void;
  vv(a: Buf, b: Buf, res: Out, n: number): void;
  vs(a: Buf, s: number, res: Out, n: number): void;
  sv(s: number, b: Buf, res: Out, n: number): void;
  ii(a: Buf, ia: Int32Array | null, b: Buf, ib: Int32Array | null, res: Out, n: number): void;
  /** res[o] = f(...f(f(res[o], x[o*inner]), x[o*inner+1])...) for each of the n outputs. */
  run(x: Buf, res: Float64Array, n: number, inner: number): void;
}
const LOOPS_SRC = `return {
  u(a, res, n, p) { for (let i = 0; i < n; i++) res[i] = f(a[i], p); },
  vv(a, b, res, n) { for (let i = 0; i < n; i++) res[i] = f(a[i], b[i]); },
  vs(a, s, res, n) { for (let i = 0; i < n; i++) res[i] = f(a[i], s); },
  sv(s, b, res, n) { for (let i = 0; i < n; i++) res[i] = f(s, b[i]); },
  ii(a, ia, b, ib, res, n) { for (let i = 0; i < n; i++) res[i] = f(a[ia ? ia[i] : i], b[ib ? ib[i] : i]); },
  run(x, res, n, inner) { for (let o = 0, k = 0; o < n; o++) { let acc = res[o]; for (let j = 0; j < inner; j++, k++) acc = f(acc, x[k]); res[o] = acc; } },
};`;
const loopCache = new WeakMap<object, Loops>();
/**
 * Loops specialized to one scalar function: each function gets its own copy of the
 * loop source, so its call site stays monomorphic and V8 inlines the function.
 */
function loopsFor(f: (...xs: any[]) => number): Loops {
  let l = loopCache.get(f);
  if (!l) {
    l = new Function("f", LOOPS_SRC)(f) as Loops;
    loopCache.set(f, l);
  }
  return l;
}

/**
 * Applies a scalar function elementwise with NumPy broadcasting. `f` should be a
 * long-lived function (compiled loops are cached per function); unary functions
 * receive `extra` as their second argument.
 */
export function mapN(args: ConcreteArray[], out: ShapedArray, f: (...xs: any[]) => number, extra?: unknown): ConcreteArray {
  const n = out.size;
  const res = allocate(out.dtype, n);
  if (args.length === 1) {
    loopsFor(f).u(args[0]!.buffer, res, n, extra);
  } else if (args.length === 2) {
    const L = loopsFor(f);
    const [x, y] = args as [ConcreteArray, ConcreteArray];
    const a = x.buffer;
    const b = y.buffer;
    if (y.size === 1 && x.size === n) L.vs(a, b[0]!, res, n);
    else if (x.size === 1 && y.size === n) L.sv(a[0]!, b, res, n);
    else if (shapeEqual(x.aval.shape, out.shape) && shapeEqual(y.aval.shape, out.shape)) L.vv(a, b, res, n);
    else L.ii(a, broadcastIndex(x.aval.shape, out.shape), b, broadcastIndex(y.aval.shape, out.shape), res, n);
  } else {
    const bufs = args.map((x) => x.buffer);
    const idx = args.map((x) => broadcastIndex(x.aval.shape, out.shape));
    const vals = new Array<number>(args.length);
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < bufs.length; k++) {
        const ik = idx[k];
        vals[k] = bufs[k]![ik ? ik[i]! : i]!;
      }
      res[i] = f(...vals);
    }
  }
  if (out.dtype === "bool") for (let i = 0; i < n; i++) res[i] = res[i] ? 1 : 0;
  return new ConcreteArray(out, res);
}

/**
 * Reduces `x` over sorted `axes` with `combine`, starting from `init`; output shape
 * drops the reduced axes.
 */
export function reduceAxes(x: ConcreteArray, axes: readonly number[], out: ShapedArray, init: number, combine: (acc: number, v: number) => number): ConcreteArray {
  // accumulate in float64: the init value (+-Infinity for max/min) must not be cast to
  // the output dtype (an Int32Array stores Infinity as 0), and float32 sums stay accurate
  const res = new Float64Array(out.size);
  res.fill(init);
  const shape = x.aval.shape;
  const nd = shape.length;
  if (axes.every((a, i) => a === nd - axes.length + i)) {
    // reducing trailing axes: each output is a contiguous run of the input
    const inner = axes.reduce((p, a) => p * shape[a]!, 1);
    loopsFor(combine).run(x.buffer, res, out.size, inner);
    const typed = allocate(out.dtype, out.size);
    typed.set(res);
    return new ConcreteArray(out, typed);
  }
  const outStridesFull = new Array<number>(nd).fill(0);
  let acc = 1;
  for (let d = nd - 1; d >= 0; d--) {
    if (!axes.includes(d)) {
      outStridesFull[d] = acc;
      acc *= shape[d]!;
    }
  }
  const buf = x.buffer;
  const n = x.size;
  const counter = new Array<number>(nd).fill(0);
  let off = 0;
  for (let i = 0; i < n; i++) {
    res[off] = combine(res[off]!, buf[i]!);
    for (let d = nd - 1; d >= 0; d--) {
      counter[d]!++;
      off += outStridesFull[d]!;
      if (counter[d]! < shape[d]!) break;
      off -= outStridesFull[d]! * counter[d]!;
      counter[d] = 0;
    }
  }
  const typed = allocate(out.dtype, out.size);
  typed.set(res);
  return new ConcreteArray(out, typed);
}

/** Gathers `x` through a flat index map (output flat index → input flat index). */
export function gatherFlat(x: TypedArray, out: ShapedArray, index: (i: number) => number): ConcreteArray {
  const res = allocate(out.dtype, out.size);
  for (let i = 0; i < res.length; i++) res[i] = x[index(i)]!;
  return new ConcreteArray(out, res);
}

/** For each flat output index of a transposed array, the flat input index. */
export function transposeIndex(inShape: Shape, perm: readonly number[]): Int32Array {
  const inStrides = stridesOf(inShape);
  return stridedIndex(
    perm.map((p) => inShape[p]!),
    perm.map((p) => inStrides[p]!),
  );
}
