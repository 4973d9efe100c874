/**
 * ONNX rows for the convolution and the windowed reductions: `conv_general_dilated`,
 * `reduce_window_sum` / `_max` / `_min`, and the selections that differentiate max
 * pooling, `select_and_gather_add` and `select_and_scatter_add`.
 *
 * Windows are written as *taps*: the operand is dilated (holes between elements) and
 * padded (or cropped, for negative padding) once, and each position `k` of the window
 * is one strided `Slice` of it, shaped like the output. Then:
 *
 * - a float32 convolution is one ONNX `Conv` (operands transposed to NCHW / OIHW by the
 *   dimension numbers; input dilation and negative padding done on the operand first;
 *   batch groups folded into feature groups). ONNX Runtime's CPU `Conv` takes float32
 *   only, so a float64 or int32 convolution is the taps stacked and multiplied with the
 *   kernel by `MatMul` (im2col, one product per group);
 * - `reduce_window_*` is `Sum` / `Max` / `Min` of the taps, padding holding the
 *   reduction's identity (0, -inf, +inf; the int32 extremes for int32) as in cotangent;
 * - a selection walks the taps in row-major order keeping the first maximum (minimum),
 *   a NaN over any number, and never a padded position — the rule of cotangent's
 *   kernels (src/backends/cpu/window.ts). Which taps fall on padding is known at export
 *   time, so those masks are constants. The gather picks the tangent of the selected tap;
 *   the scatter puts each output's value back where its selected tap came from
 *   (the transpose of each tap's slice: dilate by the strides, pad) and sums.
 *
 * ONNX's `MaxPool` is not used: ONNX Runtime's (1.30, CPU) skips a NaN where cotangent's
 * window yields it (when the `Indices` output is not requested), takes no int32, and
 * pools spatial axes only, without base dilation. The taps handle every case the
 * primitives allow, at the cost of one `Slice` (and, for the selections, a few
 * elementwise nodes) per window position.
 * @module
 */
import type { DType } from "../core/dtype.js";
import { sizeOf, stridesOf } from "../core/shape.js";
import type { ConvParams } from "../primitives/conv.js";
import type { SelectParams, WindowParams } from "../primitives/window.js";
import { ints, scalar } from "./onnx_consts.js";
import type { OnnxEmitter, OnnxRule } from "./onnx_ops.js";

/** An ONNX value with its (static) shape. */
interface Val {
  readonly name: string;
  readonly shape: readonly number[];
}

/** A scalar constant, made when first used (an unused initializer draws a warning from ONNX Runtime). */
type Fill = () => string;
const lazyScalar =
  (em: OnnxEmitter, v: number, d: DType): Fill =>
  () =>
    scalar(em, v, d);
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
const dilated = (n: number, d: number): number => (n === 0 ? 0 : 1 + d * (n - 1));

function reshape(em: OnnxEmitter, x: Val, shape: readonly number[]): Val {
  if (shape.length === x.shape.length && shape.every((d, i) => d === x.shape[i])) return x;
  return { name: em.op("Reshape", [x.name, ints(em, shape)]), shape };
}

function transpose(em: OnnxEmitter, x: Val, perm: readonly number[]): Val {
  if (perm.every((p, i) => p === i)) return x;
  return { name: em.op("Transpose", [x.name], { perm }), shape: perm.map((p) => x.shape[p]!) };
}

/** `Slice` on the axes whose `[start, end, step)` is not the whole axis. */
function slice(em: OnnxEmitter, x: Val, starts: readonly number[], ends: readonly number[], steps: readonly number[]): Val {
  const axes = range(x.shape.length).filter((d) => starts[d] !== 0 || ends[d] !== x.shape[d] || steps[d] !== 1);
  if (axes.length === 0) return x;
  const pick = (xs: readonly number[]) => axes.map((d) => xs[d]!);
  const name = em.op("Slice", [x.name, ints(em, pick(starts)), ints(em, pick(ends)), ints(em, axes), ints(em, pick(steps))]);
  return { name, shape: x.shape.map((n, d) => (axes.includes(d) ? Math.max(0, Math.ceil((ends[d]! - starts[d]!) / steps[d]!)) : n)) };
}

/**
 * `out[i] = x[i - lo]` along each axis, `fill` outside `x`, of length `n + lo + hi`: pads
 * by the positive amounts, then crops the negative ones (a crop may reach into the
 * other side's padding, as in the padding of a convolution's transpose).
 */
function padCrop(em: OnnxEmitter, x: Val, lo: readonly number[], hi: readonly number[], fill: Fill): Val {
  const plo = lo.map((l) => Math.max(0, l));
  const phi = hi.map((h) => Math.max(0, h));
  const padded: Val = [...plo, ...phi].every((p) => p === 0)
    ? x
    : { name: em.op("Pad", [x.name, ints(em, [...plo, ...phi]), fill()], { mode: "constant" }), shape: x.shape.map((n, d) => n + plo[d]! + phi[d]!) };
  return slice(
    em,
    padded,
    lo.map((l) => Math.max(0, -l)),
    padded.shape.map((n, d) => n - Math.max(0, -hi[d]!)),
    lo.map(() => 1),
  );
}

/** Each element followed by `dil - 1` copies of `fill` on every axis (an axis of `n` becomes `n · dil`, trailing holes included). */
function dilate(em: OnnxEmitter, x: Val, dil: readonly number[], fill: Fill): Val {
  if (dil.every((d, i) => d === 1 || x.shape[i] === 0)) return x;
  const split: number[] = [];
  const pads: number[] = [];
  x.shape.forEach((n, d) => {
    split.push(n);
    pads.push(0);
    if (dil[d] !== 1) {
      split.push(1);
      pads.push(dil[d]! - 1);
    }
  });
  const padded = em.op("Pad", [reshape(em, x, split).name, ints(em, [...pads.map(() => 0), ...pads]), fill()], { mode: "constant" });
  const shape = x.shape.map((n, d) => n * dil[d]!);
  return reshape(em, { name: padded, shape: split.map((n, i) => n + pads[i]!) }, shape);
}

/** The operand as a window sees it: dilated by `base` (holes of `fill`), padded by `lo`/`hi` with `fill` (negative: cropped). */
function prepare(em: OnnxEmitter, x: Val, base: readonly number[], lo: readonly number[], hi: readonly number[], fill: Fill): Val {
  return padCrop(
    em,
    dilate(em, x, base, fill),
    lo,
    hi.map((h, d) => h - (x.shape[d] === 0 ? 0 : base[d]! - 1)),
    fill,
  );
}

/** A window over every axis of a prepared operand: size, step and dilation per axis, and the output's shape. */
interface Window {
  readonly dims: readonly number[];
  readonly strides: readonly number[];
  readonly dilation: readonly number[];
  readonly out: readonly number[];
}

/** The window's taps (multi-indices), in row-major order. */
function taps(dims: readonly number[]): number[][] {
  const out: number[][] = [];
  const k = dims.map(() => 0);
  if (dims.some((d) => d === 0)) return out;
  for (;;) {
    out.push([...k]);
    let d = dims.length - 1;
    for (; d >= 0; d--) {
      if (++k[d]! < dims[d]!) break;
      k[d] = 0;
    }
    if (d < 0) return out;
  }
}

/** What tap `k` of the window sees at every output position: a strided slice of the prepared operand. */
function tap(em: OnnxEmitter, x: Val, w: Window, k: readonly number[]): Val {
  const starts = k.map((kd, d) => kd * w.dilation[d]!);
  const ends = starts.map((s, d) => (w.out[d] === 0 ? s : s + (w.out[d]! - 1) * w.strides[d]! + 1));
  return slice(em, x, starts, ends, w.strides);
}

/** The transpose of {@link tap}: an output-shaped value put back where tap `k` read it, zeros elsewhere, in a tensor of shape `prepared`. */
function untap(em: OnnxEmitter, v: Val, w: Window, k: readonly number[], prepared: readonly number[], zero: Fill): Val {
  const spread = dilate(em, v, w.strides, zero);
  const lo = k.map((kd, d) => kd * w.dilation[d]!);
  return padCrop(
    em,
    spread,
    lo,
    prepared.map((n, d) => n - lo[d]! - spread.shape[d]!),
    zero,
  );
}

/** The sum of values of one dtype (ONNX Runtime's `Sum` takes floats only). */
function sumAll(em: OnnxEmitter, xs: readonly string[], dtype: DType): string {
  if (xs.length === 1) return em.op("Identity", [xs[0]!]);
  if (dtype !== "int32") return em.op("Sum", [...xs]);
  return xs.slice(1).reduce((a, b) => em.op("Add", [a, b]), xs[0]!);
}

// ------------------------------------------------------------------ windowed reductions

const identities = {
  sum: { float: 0, int32: 0 },
  max: { float: -Infinity, int32: -2147483648 },
  min: { float: Infinity, int32: 2147483647 },
};

function windowOf(p: WindowParams, out: readonly number[]): Window {
  return { dims: p.windowDimensions, strides: p.windowStrides, dilation: p.windowDilation, out };
}

function reduceWindow(kind: "sum" | "max" | "min"): OnnxRule {
  return {
    lower(em, e) {
      const p = e.params as WindowParams;
      const a = e.inAvals[0]!;
      const fill = lazyScalar(em, identities[kind][a.dtype === "int32" ? "int32" : "float"], a.dtype);
      const x = prepare(
        em,
        { name: e.inputs[0]!, shape: a.shape },
        p.baseDilation,
        p.padding.map((q) => q[0]),
        p.padding.map((q) => q[1]),
        fill,
      );
      const w = windowOf(p, e.outAvals[0]!.shape);
      const ts = taps(w.dims).map((k) => tap(em, x, w, k).name);
      if (kind === "sum") return [sumAll(em, ts, a.dtype)];
      // Max and Min propagate NaN as cotangent's windows do
      return [ts.length === 1 ? em.op("Identity", ts) : em.op(kind === "max" ? "Max" : "Min", ts)];
    },
  };
}

// ------------------------------------------------------------------ selections

/**
 * Which taps each output position may select, known at export time: per tap, the
 * positions where it reads the operand (not padding nor a hole), and where it is the
 * first such tap. Masks are over the output shape with 1 on axes where every tap always
 * reads the operand; `null` stands for all true (`valid`) or all false (`first`).
 */
interface Selectable {
  readonly valid: (boolean[] | null)[];
  readonly first: (boolean[] | null)[];
  readonly maskShape: number[];
}

function selectable(p: WindowParams, inShape: readonly number[], w: Window, ks: readonly number[][]): Selectable {
  // reads[d][k][q]: does tap k_d of axis d read an element at output position q?
  const reads = inShape.map((n, d) =>
    range(w.dims[d]!).map((kd) =>
      range(w.out[d]!).map((q) => {
        const j = q * w.strides[d]! + kd * w.dilation[d]! - p.padding[d]![0];
        const b = p.baseDilation[d]!;
        return j >= 0 && j % b === 0 && j / b < n;
      }),
    ),
  );
  const partial = reads.map((r) => r.some((row) => row.some((v) => !v)));
  const maskShape = w.out.map((n, d) => (partial[d] ? n : 1));
  const size = sizeOf(maskShape);
  const strides = stridesOf(maskShape);
  const masks = ks.map((k) => range(size).map((f) => k.every((kd, d) => !partial[d] || reads[d]![kd]![Math.floor(f / strides[d]!) % maskShape[d]!]!)));
  const seen = new Array<boolean>(size).fill(false);
  const first = masks.map((m) => {
    const f = m.map((v, i) => v && !seen[i]);
    m.forEach((v, i) => (seen[i] = seen[i] || v));
    return f.some((v) => v) ? f : null;
  });
  return {
    valid: masks.map((m) => (m.every((v) => v) ? null : m)),
    first,
    maskShape,
  };
}

/**
 * For each tap, where it is the selected one: cotangent's rule (the first maximum or
 * minimum of the window in row-major tap order, a NaN over any number, padding never)
 * written as a walk over the taps of the operand `x`. `each(i, better)` is called per tap
 * with the boolean value "tap i beats every earlier tap" (`null` for the first tap).
 * Where a window reads only padding, tap 0 stays selected: it reads the padding's zero
 * (the gather's result), and the scatter's value lands on padding, which is cut off.
 */
function walkSelection(
  em: OnnxEmitter,
  p: SelectParams,
  x: Val,
  dtype: DType,
  w: Window,
  ks: readonly number[][],
  each: (i: number, better: string | null) => void,
): void {
  const xp = prepare(
    em,
    x,
    p.baseDilation,
    p.padding.map((q) => q[0]),
    p.padding.map((q) => q[1]),
    lazyScalar(em, 0, dtype),
  );
  const s = selectable(p, x.shape, w, ks);
  const mask = (m: boolean[] | null): string | null => (m === null ? null : em.constant(m.map(Number), "bool", s.maskShape));
  let best = "";
  ks.forEach((k, i) => {
    const v = tap(em, xp, w, k).name;
    if (i === 0) {
      best = v;
      each(0, null);
      return;
    }
    let better = em.op(p.select === "max" ? "Greater" : "Less", [v, best]);
    if (dtype !== "int32") better = em.op("Or", [better, em.op("And", [em.op("IsNaN", [v]), em.op("Not", [em.op("IsNaN", [best])])])]);
    const valid = mask(s.valid[i]!);
    if (valid !== null) better = em.op("And", [better, valid]);
    const first = mask(s.first[i]!);
    if (first !== null) better = em.op("Or", [better, first]);
    best = em.op("Where", [better, v, best]);
    each(i, better);
  });
}

/** `select_and_gather_add(t, x)`: each output takes `t` at the element of `x` its window selects (0 for a window of padding only). */
const selectAndGather: OnnxRule = {
  lower(em, e) {
    const p = e.params as SelectParams;
    const a = e.inAvals[0]!;
    const zero = lazyScalar(em, 0, a.dtype);
    const t = prepare(
      em,
      { name: e.inputs[0]!, shape: a.shape },
      p.baseDilation,
      p.padding.map((q) => q[0]),
      p.padding.map((q) => q[1]),
      zero,
    );
    const w = windowOf(p, e.outAvals[0]!.shape);
    const ks = taps(w.dims);
    let chosen = "";
    const x: Val = { name: e.inputs[1]!, shape: e.inAvals[1]!.shape };
    walkSelection(em, p, x, a.dtype, w, ks, (i, better) => {
      const ti = tap(em, t, w, ks[i]!).name;
      chosen = better === null ? ti : em.op("Where", [better, ti, chosen]);
    });
    return [em.op("Identity", [chosen])];
  },
};

/** `select_and_scatter_add(s, x)`: each `s[p]` added at the element of `x` that window `p` selects. */
const selectAndScatter: OnnxRule = {
  lower(em, e) {
    const p = e.params as SelectParams;
    const a = e.inAvals[1]!;
    const d = a.dtype;
    const zero = lazyScalar(em, 0, d);
    const src: Val = { name: e.inputs[0]!, shape: e.inAvals[0]!.shape };
    const w = windowOf(p, src.shape);
    const ks = taps(w.dims);
    // the selected tap's index at each output position
    let sel = "";
    walkSelection(em, p, { name: e.inputs[1]!, shape: a.shape }, d, w, ks, (i, better) => {
      const ki = em.constant([i], "int64", []);
      sel = better === null ? em.op("Expand", [ki, ints(em, w.out)]) : em.op("Where", [better, ki, sel]);
    });
    const lo = p.padding.map((q) => q[0]);
    const hi = p.padding.map((q) => q[1]);
    const prepared = a.shape.map((n, i) => dilated(n, p.baseDilation[i]!) + lo[i]! + hi[i]!);
    const s = src.name;
    const parts = ks.map((k, i) => {
      const picked = ks.length === 1 ? s : em.op("Where", [em.op("Equal", [sel, em.constant([i], "int64", [])]), s, zero()]);
      return untap(em, { name: picked, shape: w.out }, w, k, prepared, zero).name;
    });
    // back from the prepared operand's coordinates: padding removed (cropped elements get 0), holes dropped
    const total: Val = { name: sumAll(em, parts, d), shape: prepared };
    const undone = padCrop(
      em,
      total,
      lo.map((l) => -l),
      hi.map((h, i) => -(h - (a.shape[i] === 0 ? 0 : p.baseDilation[i]! - 1))),
      zero,
    );
    const out = slice(
      em,
      undone,
      a.shape.map(() => 0),
      undone.shape,
      p.baseDilation,
    );
    return [out.name];
  },
};

// ------------------------------------------------------------------ convolution

/** The inverse of a permutation. */
const inverse = (perm: readonly number[]): number[] => {
  const inv = new Array<number>(perm.length);
  perm.forEach((p, i) => (inv[p] = i));
  return inv;
};

const conv: OnnxRule = {
  lower(em, e) {
    const p = e.params as ConvParams;
    const [la, ra] = e.inAvals as [(typeof e.inAvals)[0], (typeof e.inAvals)[0]];
    const dtype = la.dtype;
    const zero = lazyScalar(em, 0, dtype);
    // NCHW / OIHW (the spatial axes in the kernel's order); a convolution without spatial axes gets one of size 1
    const ns0 = la.ndim - 2;
    const ns = Math.max(1, ns0);
    const extra = ns0 === 0 ? [1] : [];
    let x = transpose(em, { name: e.inputs[0]!, shape: la.shape }, p.lhsSpec);
    let w = transpose(em, { name: e.inputs[1]!, shape: ra.shape }, p.rhsSpec);
    x = reshape(em, x, [...x.shape, ...extra]);
    w = reshape(em, w, [...w.shape, ...extra]);
    const one = (xs: readonly number[]): number[] => (ns0 === 0 ? [1] : [...xs]);
    const strides = one(p.windowStrides);
    const lhsDil = one(p.lhsDilation);
    const rhsDil = one(p.rhsDilation);
    const lo = ns0 === 0 ? [0] : p.padding.map((q) => q[0]);
    const hi = ns0 === 0 ? [0] : p.padding.map((q) => q[1]);
    // batch groups: batch group g (the g-th block of the batch) meets the g-th block of output features, as feature groups do
    let groups = p.featureGroupCount;
    const B = p.batchGroupCount;
    if (B > 1) {
      const [N, C, ...sp] = x.shape as [number, number, ...number[]];
      x = reshape(em, x, [B, N / B, C, ...sp]);
      x = transpose(em, x, [1, 0, ...range(ns + 1).map((i) => i + 2)]);
      x = reshape(em, x, [N / B, B * C, ...sp]);
      groups = B;
    }
    const outCanonical = [x.shape[0]!, w.shape[0]!, ...(ns0 === 0 ? [1] : p.outSpec.slice(2).map((a) => e.outAvals[0]!.shape[a]!))];
    const keep = [1, 1];
    let y: Val;
    if (dtype === "float32") {
      // ONNX Conv: input dilation on the operand; the padding of an axis as Conv's pads, or
      // on the operand where it crops (a crop may eat into the other side's padding)
      const crops = lo.map((l, d) => l < 0 || hi[d]! < 0);
      const xp = prepare(em, x, [...keep, ...lhsDil], [0, 0, ...lo.map((l, d) => (crops[d] ? l : 0))], [0, 0, ...hi.map((h, d) => (crops[d] ? h : 0))], zero);
      const pads = [...lo.map((l, d) => (crops[d] ? 0 : l)), ...hi.map((h, d) => (crops[d] ? 0 : h))];
      const name = em.op("Conv", [xp.name, w.name], {
        kernel_shape: w.shape.slice(2),
        strides,
        dilations: rhsDil,
        pads,
        group: groups,
      });
      y = { name, shape: outCanonical };
    } else {
      y = convByMatMul(em, x, w, groups, { dims: w.shape.slice(2), strides, dilation: rhsDil, out: outCanonical.slice(2) }, lhsDil, lo, hi, zero);
    }
    y = reshape(em, y, outCanonical.slice(0, ns0 + 2));
    const out = transpose(em, y, inverse(p.outSpec));
    return [out.name];
  },
};

/**
 * A convolution (canonical layouts, `w` of `[O, C / groups, ...window]`) as im2col: the
 * window's taps stacked, `[N, G, P, Cg·K]`, times the kernel as `[G, Cg·K, Og]` by `MatMul`.
 */
function convByMatMul(
  em: OnnxEmitter,
  x: Val,
  w: Val,
  groups: number,
  win: Window,
  lhsDil: readonly number[],
  lo: readonly number[],
  hi: readonly number[],
  zero: Fill,
): Val {
  const [N, C] = x.shape as [number, number];
  const [O, Cg] = w.shape as [number, number];
  const G = groups;
  const Og = O / G;
  const xp = prepare(em, x, [1, 1, ...lhsDil], [0, 0, ...lo], [0, 0, ...hi], zero);
  const full: Window = { dims: [1, 1, ...win.dims], strides: [1, 1, ...win.strides], dilation: [1, 1, ...win.dilation], out: [N, C, ...win.out] };
  const ks = taps(full.dims);
  const K = ks.length;
  const P = sizeOf(win.out);
  const stacked = ks.map((k) => em.op("Unsqueeze", [tap(em, xp, full, k).name, ints(em, [2])]));
  const cols = em.op("Concat", stacked, { axis: 2 }); // [N, C, K, ...out]
  const lhs = transpose(em, reshape(em, { name: cols, shape: [N, C, K, ...win.out] }, [N, G, Cg * K, P]), [0, 1, 3, 2]);
  const rhs = transpose(em, reshape(em, w, [G, Og, Cg * K]), [0, 2, 1]);
  const prodName = em.op("MatMul", [lhs.name, rhs.name]); // [N, G, P, Og]
  const y = transpose(em, { name: prodName, shape: [N, G, P, Og] }, [0, 1, 3, 2]);
  return reshape(em, y, [N, O, ...win.out]);
}

/** The rows, spread into `onnxRules` (src/export/onnx_ops.ts). */
export const convRules: Readonly<Record<string, OnnxRule>> = {
  conv_general_dilated: conv,
  reduce_window_sum: reduceWindow("sum"),
  reduce_window_max: reduceWindow("max"),
  reduce_window_min: reduceWindow("min"),
  select_and_gather_add: selectAndGather,
  select_and_scatter_add: selectAndScatter,
};
