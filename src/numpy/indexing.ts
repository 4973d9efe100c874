/**
 * NumPy indexing: `x.at(...index)` (`get`, `set`, `add`, `multiply`, `min`, `max`),
 * strided slices and `np.takeAlongAxis`, all lowered to slices, reverses and the
 * general gather / scatter primitives.
 * @module
 */
import { ConcreteArray, type IndexElement, type IndexRef, NDArray, type Operand, ShapedArray } from "../core/array.js";
import { broadcastShapes, describeValue, fmtShape, normalizeAxis, sizeOf } from "../core/shape.js";
import { Tracer } from "../core/trace.js";
import { asArray, convert } from "../primitives/elementwise.js";
import { type ScatterMode, gather, scatter } from "../primitives/gather.js";
import { rev } from "../primitives/rev.js";
import * as S from "../primitives/shape.js";

export type { IndexElement, IndexRef };

/** One axis of a strided slice: `n` elements from `start` every `step` (step may be negative). */
export interface AxisSlice {
  start: number;
  n: number;
  step: number;
}

/**
 * Python's `slice(start, stop, step).indices(dim)`: missing parts take their defaults,
 * negative values count from the end, and out-of-range values are clamped.
 */
export function sliceIndices(start: number | null, stop: number | null, step: number, dim: number): AxisSlice {
  if (step > 0) {
    const a = start === null ? 0 : start < 0 ? Math.max(0, start + dim) : Math.min(start, dim);
    const b = stop === null ? dim : stop < 0 ? Math.max(0, stop + dim) : Math.min(stop, dim);
    return { start: a, n: Math.max(0, Math.ceil((b - a) / step)), step };
  }
  const a = start === null ? dim - 1 : start < 0 ? Math.max(-1, start + dim) : Math.min(start, dim - 1);
  const b = stop === null ? -1 : stop < 0 ? Math.max(-1, stop + dim) : Math.min(stop, dim - 1);
  return { start: a, n: Math.max(0, Math.ceil((a - b) / -step)), step };
}

/**
 * `x[start_0::step_0 (n_0 elements), start_1::step_1, ...]`, one {@link AxisSlice} per
 * axis: a reverse for negative steps, one slice, and for steps above 1 a pad and a
 * reshape that puts every step-th element in a column of its own.
 */
export function stridedSlice(x: NDArray, specs: readonly AxisSlice[]): NDArray {
  const shape = x.aval.shape;
  const flips = specs.flatMap((s, i) => (s.step < 0 && s.n > 1 ? [i] : []));
  const pos = specs.map((s, i) => {
    if (s.n === 0) return { start: 0, n: 0, step: 1 };
    if (s.n === 1) return { start: s.start, n: 1, step: 1 };
    return s.step < 0 ? { start: shape[i]! - 1 - s.start, n: s.n, step: -s.step } : s;
  });
  let y = rev(x, flips);
  const stops = pos.map((s, i) => Math.min(shape[i]!, s.start + s.n * s.step));
  y = S.slice(
    y,
    pos.map((s) => s.start),
    stops,
  );
  if (pos.every((s) => s.step === 1)) return y;
  y = S.pad(
    y,
    pos.map(() => 0),
    pos.map((s, i) => s.n * s.step - (stops[i]! - s.start)),
  );
  const split = pos.flatMap((s) => (s.step === 1 ? [s.n] : [s.n, s.step]));
  y = S.reshape(y, split);
  const ys = y.aval.shape;
  let k = 0;
  const lims: number[] = [];
  for (const s of pos) {
    lims.push(ys[k++]!);
    if (s.step !== 1) lims.push((k++, 1));
  }
  y = S.slice(
    y,
    lims.map(() => 0),
    lims,
  );
  return S.reshape(
    y,
    pos.map((s) => s.n),
  );
}

const SLICE_RE = /^\s*(-?\d+)?\s*:\s*(-?\d+)?\s*(?::\s*(-?\d+)?\s*)?$/;

/** Parses `"start:stop:step"` (any part may be empty); throws quoting a malformed string. */
export function parseSlice(op: string, s: string): { start: number | null; stop: number | null; step: number } {
  const m = SLICE_RE.exec(s);
  if (!m)
    throw new Error(
      `${op}: malformed slice string ${JSON.stringify(s)}; write "start:stop:step" with integers, any part empty (":", "1:", "::2", "::-1"), or "..." for the remaining axes.`,
    );
  const step = m[3] === undefined ? 1 : Number(m[3]);
  if (step === 0) throw new Error(`${op}: slice ${JSON.stringify(s)} has step 0; the step must be a non-zero integer.`);
  return { start: m[1] === undefined ? null : Number(m[1]), stop: m[2] === undefined ? null : Number(m[2]), step };
}

/** Normalizes a static index or throws naming the index, the axis and its size. */
function resolveIndex(op: string, i: number, axis: number, n: number): number {
  if (!Number.isInteger(i)) throw new Error(`${op}: index ${describeValue(i)} for axis ${axis} is not an integer.`);
  const j = i < 0 ? i + n : i;
  if (j < 0 || j >= n)
    throw new Error(
      `${op}: index ${i} is out of range for axis ${axis} with size ${n}; valid indices are ${n === 0 ? "none (the axis is empty)" : `-${n}..${n - 1}`}.`,
    );
  return j;
}

/** An index array element as an int32 array, or an Error for floats and booleans. */
function indexArray(op: string, e: NDArray | readonly unknown[], axis: number, n: number): NDArray {
  let a: NDArray;
  if (e instanceof NDArray) a = e;
  else {
    const flat = (e as unknown[]).flat(Infinity as 1);
    if (!flat.every((v) => Number.isInteger(v))) throw new Error(`${op}: the index array ${describeValue(e)} for axis ${axis} must hold integers.`);
    const arr = Int32Array.from(flat as number[]);
    const shape: number[] = [];
    for (let v: unknown = e; Array.isArray(v); v = v[0]) shape.push(v.length);
    if (sizeOf(shape) !== arr.length) throw new Error(`${op}: the index array ${describeValue(e)} for axis ${axis} is ragged.`);
    a = new ConcreteArray(new ShapedArray(shape, "int32"), arr);
  }
  if (a.dtype === "bool")
    throw new Error(`${op}: a bool array as an index (a mask) has a data-dependent shape; use np.where(mask, x, y) instead, or int32 indices.`);
  if (a.dtype !== "int32")
    throw new Error(
      `${op}: an index array must be int32, got ${a.aval.toString()} for axis ${axis}; a float array is never used as an index (convert with astype("int32") if you mean it).`,
    );
  if (!(a instanceof Tracer) && a instanceof ConcreteArray) {
    const b = a.buffer;
    for (let k = 0; k < b.length; k++) resolveIndex(op, b[k]!, axis, n);
  }
  return a;
}

type Parsed = { kind: "int"; i: number } | { kind: "slice"; s: AxisSlice } | { kind: "new" } | { kind: "array"; a: NDArray };

/** `x[index]` with NumPy's rules (basic indexing as views, advanced indexing as one gather). */
export function indexGet(op: string, x: NDArray, index: readonly IndexElement[]): NDArray {
  const shape = x.aval.shape;
  const nd = shape.length;
  const ell = index.filter((e) => e === "...").length;
  if (ell > 1) throw new Error(`${op}: an index can only have one "..." (got ${ell}).`);
  const consumed = index.filter((e) => e !== null && e !== "...").length;
  if (consumed > nd) throw new Error(`${op}: too many indices (${consumed}) for an array of rank ${nd} with shape ${fmtShape(shape)}.`);
  const hasArray = index.some((e) => e instanceof NDArray || Array.isArray(e));
  // expand "..." and trailing axes into full slices, and parse each element against its axis
  const parsed: Parsed[] = [];
  let axis = 0;
  const full = (): Parsed => ({ kind: "slice", s: { start: 0, n: shape[axis]!, step: 1 } });
  for (const e of index) {
    if (e === "...") {
      for (let k = 0; k < nd - consumed; k++, axis++) parsed.push(full());
    } else if (e === null) parsed.push({ kind: "new" });
    else if (typeof e === "number") {
      const j = resolveIndex(op, e, axis, shape[axis]!);
      parsed.push(hasArray ? { kind: "array", a: ConcreteArray.scalar(j, "int32") } : { kind: "int", i: j });
      axis++;
    } else if (typeof e === "string") {
      const p = parseSlice(op, e);
      parsed.push({ kind: "slice", s: sliceIndices(p.start, p.stop, p.step, shape[axis]!) });
      axis++;
    } else if (e instanceof NDArray || Array.isArray(e)) {
      parsed.push({ kind: "array", a: indexArray(op, e, axis, shape[axis]!) });
      axis++;
    } else throw new Error(`${op}: index element ${describeValue(e)} is not a number, a slice string ("1:3", "::-1"), null, "..." or an int32 array.`);
  }
  while (axis < nd) {
    parsed.push(full());
    axis++;
  }
  // basic part: one strided slice of every axis, then a reshape dropping integer axes and adding new ones
  const specs: AxisSlice[] = [];
  const outShape: number[] = [];
  const advPos: number[] = [];
  const advArrays: NDArray[] = [];
  const advElems: number[] = [];
  parsed.forEach((p, k) => {
    const d = shape[specs.length]!;
    if (p.kind === "new") outShape.push(1);
    else if (p.kind === "int") specs.push({ start: p.i, n: 1, step: 1 });
    else if (p.kind === "slice") {
      specs.push(p.s);
      outShape.push(p.s.n);
    } else {
      specs.push({ start: 0, n: d, step: 1 });
      advPos.push(outShape.length);
      advArrays.push(p.a);
      advElems.push(k);
      outShape.push(d);
    }
  });
  const y = S.reshape(stridedSlice(x, specs), outShape);
  if (advArrays.length === 0) return y;
  // advanced part: the index arrays broadcast together, stacked as the columns of one gather
  const bshape = broadcastShapes(op, ...advArrays.map((a) => a.aval.shape));
  const cols = advArrays.map((a) => S.reshape(S.broadcastTo(a, bshape), [...bshape, 1]));
  const idx = S.concatenateArrays(cols, bshape.length);
  const g = gather(y, idx, { axes: advPos, batchDims: 0 });
  const adjacent = advElems.every((e, i) => i === 0 || e === advElems[i - 1]! + 1);
  if (!adjacent || advPos[0] === 0) return g;
  // adjacent index arrays: their broadcast axes replace them in place (NumPy's rule)
  const nb = bshape.length;
  const before = advPos[0]!;
  const perm = [
    ...Array.from({ length: before }, (_, i) => nb + i),
    ...Array.from({ length: nb }, (_, i) => i),
    ...Array.from({ length: g.ndim - nb - before }, (_, i) => nb + before + i),
  ];
  return S.transpose(g, perm);
}

/** The flat positions (an int32 array) that `x[index]` reads. */
function positions(op: string, shape: readonly number[], index: readonly IndexElement[]): NDArray {
  const n = sizeOf(shape);
  const iota = new Int32Array(n);
  for (let i = 0; i < n; i++) iota[i] = i;
  return indexGet(op, new ConcreteArray(new ShapedArray(shape, "int32"), iota), index);
}

/** `x` with `x[index]` combined with `v` by `mode` (duplicates accumulate for add/mul/min/max). */
export function indexUpdate(op: string, x: NDArray, index: readonly IndexElement[], v: Operand, mode: ScatterMode): NDArray {
  const pos = positions(op, x.aval.shape, index);
  const u = asArray(v, undefined, op);
  const uc = u.dtype === x.dtype ? u : convert(u, x.dtype);
  const ps = pos.aval.shape;
  const ub = S.broadcastTo(uc, [...broadcastShapes(op, uc.aval.shape, ps)]);
  if (ub.ndim !== ps.length) throw new Error(`${op}: values of shape ${fmtShape(uc.aval.shape)} cannot be broadcast to the indexed shape ${fmtShape(ps)}.`);
  const flat = S.reshape(x, [x.size]);
  const out = scatter(flat, S.reshape(pos, [...ps, 1]), ub, { axes: [0], batchDims: 0, mode });
  return S.reshape(out, x.aval.shape);
}

/**
 * The object `x.at(...index)` returns: JAX's `x.at[index]`. Every method returns a new
 * array (arrays are immutable).
 *
 * @example
 * ```ts
 * import { np } from "cotangent";
 * const x = np.zeros([3]);
 * console.log(x.at(1).set(5).toJs()); // [0, 5, 0]
 * console.log(x.at(np.array([0, 0, 2], { dtype: "int32" })).add(1).toJs()); // [2, 0, 1]
 * console.log(np.arange(6).reshape([2, 3]).at("...", "::-1").get().toJs()); // [[2, 1, 0], [5, 4, 3]]
 * ```
 */
export class AtIndexer implements IndexRef {
  constructor(
    readonly x: NDArray,
    readonly index: readonly IndexElement[],
  ) {}
  /** `x[index]`. */
  get(): NDArray {
    return indexGet("at().get", this.x, this.index);
  }
  /** `x` with `x[index] = v` (for duplicate indices one of the values wins). */
  set(v: Operand): NDArray {
    return indexUpdate("at().set", this.x, this.index, v, "set");
  }
  /** `x` with `x[index] += v`; duplicate indices accumulate. */
  add(v: Operand): NDArray {
    return indexUpdate("at().add", this.x, this.index, v, "add");
  }
  /** `x` with `x[index] *= v`; duplicate indices accumulate. */
  multiply(v: Operand): NDArray {
    return indexUpdate("at().multiply", this.x, this.index, v, "mul");
  }
  /** `x` with `x[index] = minimum(x[index], v)`. */
  min(v: Operand): NDArray {
    return indexUpdate("at().min", this.x, this.index, v, "min");
  }
  /** `x` with `x[index] = maximum(x[index], v)`. */
  max(v: Operand): NDArray {
    return indexUpdate("at().max", this.x, this.index, v, "max");
  }
}

/** The {@link AtIndexer} of `x` (what `x.at(...index)` returns). */
export function at(x: NDArray, index: readonly IndexElement[]): AtIndexer {
  return new AtIndexer(x, index);
}

/**
 * Picks values along `axis` at `indices`, which has the rank of `x` and broadcasts
 * with it on the other axes (NumPy's `take_along_axis`; `axis = null` works on the
 * flattened arrays). Differentiable in `x`.
 * @example
 * ```ts
 * import { np } from "cotangent";
 * const x = np.array([[10, 30, 20], [60, 40, 50]]);
 * console.log(np.takeAlongAxis(x, np.argsort(x, { axis: 1 }), 1).toJs()); // [[10, 20, 30], [40, 50, 60]]
 * ```
 */
export function takeAlongAxis(x: Operand, indices: NDArray, axis: number | null): NDArray {
  let a = asArray(x, undefined, "takeAlongAxis");
  if (!(indices instanceof NDArray)) throw new Error(`takeAlongAxis: indices must be an int32 array, got ${describeValue(indices)}.`);
  let i0 = indices;
  if (axis === null) {
    a = S.reshape(a, [a.size]);
    i0 = S.reshape(i0, [i0.size]);
    axis = 0;
  }
  if (i0.ndim !== a.ndim)
    throw new Error(`takeAlongAxis: indices of shape ${fmtShape(i0.shape)} need the rank of x ${fmtShape(a.shape)} (${a.ndim}); add axes with expandDims.`);
  const ax = normalizeAxis("takeAlongAxis", axis, a.ndim);
  const idx = indexArray("takeAlongAxis", i0, ax, a.aval.shape[ax]!);
  const xm = S.moveAxis(a, ax, a.ndim - 1);
  const im = S.moveAxis(idx, ax, a.ndim - 1);
  const lead = broadcastShapes("takeAlongAxis", xm.aval.shape.slice(0, -1), im.aval.shape.slice(0, -1));
  const xb = S.broadcastTo(xm, [...lead, xm.aval.shape[a.ndim - 1]!]);
  const ib = S.broadcastTo(im, [...lead, im.aval.shape[a.ndim - 1]!]);
  const nb = lead.length;
  const g = gather(xb, S.reshape(ib, [...ib.aval.shape, 1]), { axes: [nb], batchDims: nb });
  return S.moveAxis(g, a.ndim - 1, ax);
}
