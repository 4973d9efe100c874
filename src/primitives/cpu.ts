/**
 * Reference CPU kernels on typed arrays, used by the primitives' `impl` rules.
 * @module
 */
import { ConcreteArray, type ShapedArray } from "../core/array.js";
import { allocateForWrite } from "../core/dtype.js";
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
  /** `res[or+i] = f(a[oa+i], b[ob+i])` for `i < n`. */
  vv(a: Buf, oa: number, b: Buf, ob: number, res: Out, or: number, n: number): void;
  vs(a: Buf, oa: number, s: number, res: Out, or: number, n: number): void;
  sv(s: number, b: Buf, ob: number, res: Out, or: number, n: number): void;
  /** Three operands, each read with its own stride (0 or 1). */
  t3(a: Buf, oa: number, sa: number, b: Buf, ob: number, sb: number, c: Buf, oc: number, sc: number, res: Out, or: number, n: number): void;
  /** res[o] = f(...f(f(res[o], x[o*inner]), x[o*inner+1])...) for each of the n outputs. */
  run(x: Buf, res: Float64Array, n: number, inner: number): void;
  /** res[ro+j] = f(res[ro+j], x[xo+j]) for j < inner: folds one row into a row of accumulators. */
  row(x: Buf, xo: number, res: Float64Array, ro: number, inner: number): void;
}
const LOOPS_SRC = `return {
  u(a, res, n, p) { for (let i = 0; i < n; i++) res[i] = f(a[i], p); },
  vv(a, oa, b, ob, res, or, n) { for (let i = 0; i < n; i++) res[or + i] = f(a[oa + i], b[ob + i]); },
  vs(a, oa, s, res, or, n) { for (let i = 0; i < n; i++) res[or + i] = f(a[oa + i], s); },
  sv(s, b, ob, res, or, n) { for (let i = 0; i < n; i++) res[or + i] = f(s, b[ob + i]); },
  t3(a, oa, sa, b, ob, sb, c, oc, sc, res, or, n) { for (let i = 0; i < n; i++) res[or + i] = f(a[oa + i * sa], b[ob + i * sb], c[oc + i * sc]); },
  run(x, res, n, inner) { for (let o = 0, k = 0; o < n; o++) { let acc = res[o]; for (let j = 0; j < inner; j++, k++) acc = f(acc, x[k]); res[o] = acc; } },
  row(x, xo, res, ro, inner) { for (let j = 0; j < inner; j++) res[ro + j] = f(res[ro + j], x[xo + j]); },
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

/** Scalar functions known to return exactly 0 or 1 (comparisons): their bool results need no clean-up pass. */
const zeroOne = new WeakSet<object>();
/** Declares that `f` only returns 0 or 1, so a bool result of {@link mapN} with it is stored as is. */
export function declareZeroOne(f: (...xs: any[]) => number): void {
  zeroOne.add(f);
}

/**
 * Runs over an output of shape `outShape` in contiguous runs of its last (collapsed)
 * dimension. `inShapes` are NumPy-broadcast to it; for each run, `visit` receives the
 * run's output offset, each operand's offset (in `offs`), and the run length; each
 * operand's stride inside a run is given by {@link innerStrides} (1, or 0 on a broadcast axis).
 */
function forEachRun(outShape: Shape, inShapes: readonly Shape[], visit: (or: number, offs: number[], len: number) => void): void {
  const nd = outShape.length;
  const k = inShapes.length;
  // broadcast strides of each operand over the output's axes
  const strides = inShapes.map((s) => {
    const st = stridesOf(s);
    const bs = new Array<number>(nd).fill(0);
    for (let i = 0; i < s.length; i++) bs[nd - s.length + i] = s[i] === 1 ? 0 : st[i]!;
    return bs;
  });
  // collapse adjacent axes that every operand walks contiguously (or not at all)
  const dims: number[] = [];
  const cs: number[][] = strides.map(() => []);
  for (let d = nd - 1; d >= 0; d--) {
    const size = outShape[d]!;
    if (size === 1) continue;
    const last = dims.length - 1;
    if (last >= 0 && strides.every((st, j) => st[d] === cs[j]![last]! * dims[last]!)) {
      dims[last] = dims[last]! * size;
      continue;
    }
    dims.push(size);
    strides.forEach((st, j) => cs[j]!.push(st[d]!));
  }
  // dims/cs are innermost first
  const len = dims.length ? dims[0]! : 1;
  const outer = dims.slice(1);
  const runs = sizeOf(outer);
  const offs = new Array<number>(k).fill(0);
  if (outer.length === 1) {
    // the common case (a matrix with a broadcast row or column): one stride per operand
    const step = cs.map((c) => c[1]!);
    for (let r = 0; r < runs; r++) {
      for (let j = 0; j < k; j++) offs[j] = r * step[j]!;
      visit(r * len, offs, len);
    }
    return;
  }
  const counter = new Array<number>(outer.length).fill(0);
  for (let r = 0; r < runs; r++) {
    visit(r * len, offs, len);
    for (let d = 0; d < outer.length; d++) {
      counter[d]!++;
      for (let j = 0; j < k; j++) offs[j]! += cs[j]![d + 1]!;
      if (counter[d]! < outer[d]!) break;
      for (let j = 0; j < k; j++) offs[j]! -= cs[j]![d + 1]! * counter[d]!;
      counter[d] = 0;
    }
  }
}

/**
 * Applies a scalar function elementwise with NumPy broadcasting. `f` should be a
 * long-lived function (compiled loops are cached per function); unary functions
 * receive `extra` as their second argument.
 */
export function mapN(args: ConcreteArray[], out: ShapedArray, f: (...xs: any[]) => number, extra?: unknown): ConcreteArray {
  const n = out.size;
  const res = allocateForWrite(out.dtype, n);
  const L = loopsFor(f);
  if (args.length === 1) {
    L.u(args[0]!.buffer, res, n, extra);
  } else if (args.length === 2) {
    const [x, y] = args as [ConcreteArray, ConcreteArray];
    const a = x.buffer;
    const b = y.buffer;
    // an operand with as many elements as the output has its layout (equal shapes up to leading 1s)
    const xn = x.size;
    const yn = y.size;
    if (xn === n && yn === n) L.vv(a, 0, b, 0, res, 0, n);
    else if (yn === 1 && xn === n) L.vs(a, 0, b[0]!, res, 0, n);
    else if (xn === 1 && yn === n) L.sv(a[0]!, b, 0, res, 0, n);
    else {
      const shapes = [x.aval.shape, y.aval.shape];
      const [sa, sb] = innerStrides(out.shape, shapes) as [number, number];
      forEachRun(out.shape, shapes, (or, offs, len) => {
        const oa = offs[0]!;
        const ob = offs[1]!;
        if (sa === 1 && sb === 1) L.vv(a, oa, b, ob, res, or, len);
        else if (sa === 1) L.vs(a, oa, b[ob]!, res, or, len);
        else if (sb === 1) L.sv(a[oa]!, b, ob, res, or, len);
        else res.fill(f(a[oa]!, b[ob]!), or, or + len);
      });
    }
  } else if (args.length === 3) {
    const [x, y, z] = args as [ConcreteArray, ConcreteArray, ConcreteArray];
    const a = x.buffer;
    const b = y.buffer;
    const c = z.buffer;
    if ((x.size === n || x.size === 1) && (y.size === n || y.size === 1) && (z.size === n || z.size === 1)) {
      L.t3(a, 0, x.size === n ? 1 : 0, b, 0, y.size === n ? 1 : 0, c, 0, z.size === n ? 1 : 0, res, 0, n);
    } else {
      const shapes = [x.aval.shape, y.aval.shape, z.aval.shape];
      const [sa, sb, sc] = innerStrides(out.shape, shapes) as [number, number, number];
      forEachRun(out.shape, shapes, (or, offs, len) => L.t3(a, offs[0]!, sa, b, offs[1]!, sb, c, offs[2]!, sc, res, or, len));
    }
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
  if (out.dtype === "bool" && !zeroOne.has(f)) for (let i = 0; i < n; i++) res[i] = res[i] ? 1 : 0;
  return new ConcreteArray(out, res);
}

/** The stride (1, or 0 when broadcast) of each operand along the output's innermost non-trivial axis. */
function innerStrides(outShape: Shape, inShapes: readonly Shape[]): number[] {
  let d = outShape.length - 1;
  while (d > 0 && outShape[d] === 1) d--;
  return inShapes.map((s) => {
    const i = s.length - (outShape.length - d);
    return i >= 0 && s[i] !== 1 ? 1 : 0;
  });
}

/** `x` NumPy-broadcast to `out` (a copy; `x` itself when the shapes are equal). */
export function broadcastCopy(x: ConcreteArray, out: ShapedArray): ConcreteArray {
  if (shapeEqual(x.aval.shape, out.shape)) return x;
  const res = allocateForWrite(out.dtype, out.size);
  const b = x.buffer;
  if (x.size === 1) {
    res.fill(b[0]!);
    return new ConcreteArray(out, res);
  }
  const [s] = innerStrides(out.shape, [x.aval.shape]);
  forEachRun(out.shape, [x.aval.shape], (or, offs, len) => {
    const o = offs[0]!;
    // the typed-array builtins pay off on long runs only
    if (len >= 64) {
      if (s === 1) res.set(b.subarray(o, o + len), or);
      else res.fill(b[o]!, or, or + len);
    } else if (s === 1) {
      for (let i = 0; i < len; i++) res[or + i] = b[o + i]!;
    } else {
      const v = b[o]!;
      for (let i = 0; i < len; i++) res[or + i] = v;
    }
  });
  return new ConcreteArray(out, res);
}

/**
 * Reduces `x` over sorted `axes` with `combine`, starting from `init`; output shape
 * drops the reduced axes.
 */
export function reduceAxes(
  x: ConcreteArray,
  axes: readonly number[],
  out: ShapedArray,
  init: number,
  combine: (acc: number, v: number) => number,
): ConcreteArray {
  // accumulate in float64: the init value (+-Infinity for max/min) must not be cast to
  // the output dtype (an Int32Array stores Infinity as 0), and float32 sums stay accurate
  const res = new Float64Array(out.size);
  res.fill(init);
  const shape = x.aval.shape;
  const nd = shape.length;
  const buf = x.buffer;
  const first = axes.length ? axes[0]! : 0;
  const contiguous = axes.every((a, i) => a === first + i);
  if (contiguous) {
    // one block of consecutive reduced axes: [outer, mid (reduced), inner] in row-major order
    const outer = sizeOf(shape.slice(0, first));
    const mid = sizeOf(shape.slice(first, first + axes.length));
    const inner = sizeOf(shape.slice(first + axes.length));
    const L = loopsFor(combine);
    if (inner === 1) L.run(buf, res, outer, mid);
    else for (let o = 0; o < outer; o++) for (let m = 0; m < mid; m++) L.row(buf, (o * mid + m) * inner, res, o * inner, inner);
  } else {
    const outStridesFull = new Array<number>(nd).fill(0);
    let acc = 1;
    for (let d = nd - 1; d >= 0; d--) {
      if (!axes.includes(d)) {
        outStridesFull[d] = acc;
        acc *= shape[d]!;
      }
    }
    // each input element's output offset (reduced axes have stride 0)
    const to = stridedIndex(shape, outStridesFull);
    for (let i = 0; i < to.length; i++) res[to[i]!] = combine(res[to[i]!]!, buf[i]!);
  }
  if (out.dtype === "float64") return new ConcreteArray(out, res);
  const typed = allocateForWrite(out.dtype, out.size);
  typed.set(res);
  return new ConcreteArray(out, typed);
}

/** For each flat output index of a transposed array, the flat input index. */
export function transposeIndex(inShape: Shape, perm: readonly number[]): Int32Array {
  const inStrides = stridesOf(inShape);
  return stridedIndex(
    perm.map((p) => inShape[p]!),
    perm.map((p) => inStrides[p]!),
  );
}
