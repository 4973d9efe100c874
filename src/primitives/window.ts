/**
 * Windowed reductions (`reduce_window_sum`, `reduce_window_max`, `reduce_window_min`:
 * sum and max/min pooling) and the two selections that differentiate max/min pooling,
 * as JAX's `lax/windowed_reductions.py`:
 *
 * - `reduce_window_sum` is linear; its transpose is another windowed sum of the
 *   cotangent, dilated by the strides and padded (JAX's transpose rule);
 * - the JVP of `reduce_window_max` is `select_and_gather_add(ṫ, x)`: each output takes
 *   the tangent of the element its window selects (the first maximum);
 * - `select_and_gather_add` and `select_and_scatter_add` (XLA's select-and-scatter: the
 *   cotangent of each window goes to the element it selects) are linear in their first
 *   operand and each other's transpose.
 *
 * A window spans every axis of the operand (size 1 on axes it does not pool), with
 * strides, `[lo, hi]` padding (negative crops), and dilation of the operand
 * (`baseDilation`) and of the window (`windowDilation`).
 * @module
 */
import { ConcreteArray, type NDArray, ShapedArray } from "../core/array.js";
import { fmtShape } from "../core/shape.js";
import { type BatchDim, type Params, type Primitive, UndefPrimal, bind1, definePrimitive } from "../core/trace.js";
import type { WindowGeometry } from "../backends/backend.js";
import { hostBackend } from "../backends/registry.js";
import { dilateDim, vjpLhsPadding } from "./conv.js";
import { broadcastTo, moveAxis } from "./shape.js";

/** Params of the window primitives: one entry per axis of the operand. */
export interface WindowParams extends Params {
  windowDimensions: readonly number[];
  windowStrides: readonly number[];
  padding: readonly (readonly [number, number])[];
  baseDilation: readonly number[];
  windowDilation: readonly number[];
}
/** Params of the selections: the window, and which extremum a window selects. */
export interface SelectParams extends WindowParams {
  select: "max" | "min";
}

/** The output shape of a window over `shape`, with errors naming the axis. */
function windowShape(op: string, shape: readonly number[], p: WindowParams): number[] {
  return shape.map((n, d) => {
    const padded = dilateDim(n, p.baseDilation[d]!) + p.padding[d]![0] + p.padding[d]![1];
    const w = dilateDim(p.windowDimensions[d]!, p.windowDilation[d]!);
    if (padded < w || padded < 0) {
      throw new Error(
        `${op}: on axis ${d} the window (${p.windowDimensions[d]}${p.windowDilation[d] !== 1 ? `, dilated to ${w}` : ""}) is larger than the padded operand (${n} + padding ${p.padding[d]![0]} + ${p.padding[d]![1]} = ${padded}) of shape ${fmtShape(shape)}; pad more ("SAME") or use a smaller window.`,
      );
    }
    return Math.floor((padded - w) / p.windowStrides[d]!) + 1;
  });
}

const geometry = (inShape: readonly number[], outShape: readonly number[], p: WindowParams): WindowGeometry => ({ ...p, inShape, outShape });
const printWindow = (p: WindowParams): string =>
  `[window_dimensions=(${p.windowDimensions.join(",")}) window_strides=(${p.windowStrides.join(",")}) padding=(${p.padding.map(([l, h]) => `(${l},${h})`).join(",")})${p.baseDilation.some((v) => v !== 1) ? ` base_dilation=(${p.baseDilation.join(",")})` : ""}${p.windowDilation.some((v) => v !== 1) ? ` window_dilation=(${p.windowDilation.join(",")})` : ""}${"select" in p ? ` select=${String(p.select)}` : ""}]`;

/** Params with a leading axis of window 1 (for a batch axis moved to the front). */
function withLeadingAxis<P extends WindowParams>(p: P): P {
  return {
    ...p,
    windowDimensions: [1, ...p.windowDimensions],
    windowStrides: [1, ...p.windowStrides],
    padding: [[0, 0], ...p.padding],
    baseDilation: [1, ...p.baseDilation],
    windowDilation: [1, ...p.windowDilation],
  };
}

/** Batching of a window primitive: every mapped operand's axis moved to the front (unmapped ones broadcast), a window of 1 over it. */
function batchWindow(prim: Primitive) {
  return (args: NDArray[], dims: BatchDim[], p: WindowParams): [NDArray[], BatchDim[]] => {
    const i0 = dims.findIndex((d) => d !== null);
    const B = args[i0]!.shape[dims[i0]!]!;
    const moved = args.map((x, i) => (dims[i] === null ? broadcastTo(x, [B, ...x.shape]) : moveAxis(x, dims[i]!, 0)));
    return [[bind1(prim, moved, withLeadingAxis(p))], [0]];
  };
}

// ------------------------------------------------------------------ reduce_window_sum

/** The windowed sum (linear). */
export const reduce_window_sum_p: Primitive<WindowParams> = definePrimitive<WindowParams>({
  name: "reduce_window_sum",
  freshOutputs: true,
  abstractEval([x], p) {
    if (x!.dtype === "bool") throw new Error(`reduceWindow: bool operands are not supported; convert with astype.`);
    return [new ShapedArray(windowShape("reduceWindow", x!.shape, p), x!.dtype)];
  },
  impl([x], p, [out]) {
    return [new ConcreteArray(out!, hostBackend.reduceWindow(x!.buffer, out!.dtype, "sum", geometry(x!.aval.shape, out!.shape, p)))];
  },
  jvp([x], [t], p) {
    return [[reduceWindowSum(x!, p)], [reduceWindowSum(t!, p)]];
  },
  transpose([ct], [x], p) {
    if (!ct) return [null];
    const inShape = (x as UndefPrimal).aval.shape;
    // the cotangent dilated by the strides, padded, summed over the same (symmetric) window
    const padding = vjpLhsPadding(inShape, p.windowDimensions, p.windowStrides, ct.shape, p.padding, p.baseDilation, p.windowDilation);
    return [
      reduceWindowSum(ct, {
        windowDimensions: p.windowDimensions,
        windowStrides: p.baseDilation,
        padding,
        baseDilation: p.windowStrides,
        windowDilation: p.windowDilation,
      }),
    ];
  },
  batch: (args, dims, p) => batchWindow(reduce_window_sum_p)(args, dims, p),
  printParams: printWindow,
});

/** Binds `reduce_window_sum`. */
export function reduceWindowSum(x: NDArray, p: WindowParams): NDArray {
  return bind1(reduce_window_sum_p, [x], p);
}

// ------------------------------------------------------------------ reduce_window_max / min

function extremumPrim(name: string, select: "max" | "min"): Primitive<WindowParams> {
  const prim: Primitive<WindowParams> = definePrimitive<WindowParams>({
    name,
    freshOutputs: true,
    abstractEval([x], p) {
      if (x!.dtype === "bool") throw new Error(`reduceWindow: bool operands are not supported; convert with astype.`);
      return [new ShapedArray(windowShape("reduceWindow", x!.shape, p), x!.dtype)];
    },
    impl([x], p, [out]) {
      return [new ConcreteArray(out!, hostBackend.reduceWindow(x!.buffer, out!.dtype, select, geometry(x!.aval.shape, out!.shape, p)))];
    },
    // each output moves with the element its window selects
    jvp([x], [t], p) {
      return [[bind1(prim, [x!], p)], [selectAndGather(t!, x!, { ...p, select })]];
    },
    batch: (args, dims, p) => batchWindow(prim)(args, dims, p),
    printParams: printWindow,
  });
  return prim;
}
/** The windowed maximum (max pooling). */
export const reduce_window_max_p = extremumPrim("reduce_window_max", "max");
/** The windowed minimum. */
export const reduce_window_min_p = extremumPrim("reduce_window_min", "min");

// ------------------------------------------------------------------ select_and_gather_add / select_and_scatter_add

/** `out[p] = t[the element of x selected by window p]`; linear in `t`. */
export const select_and_gather_add_p: Primitive<SelectParams> = definePrimitive<SelectParams>({
  name: "select_and_gather_add",
  freshOutputs: true,
  abstractEval([t, x], p) {
    if (t!.dtype !== x!.dtype || t!.ndim !== x!.ndim || t!.shape.some((d, i) => d !== x!.shape[i]))
      throw new Error(`select_and_gather_add: the tangent ${t!.toString()} must match the operand ${x!.toString()}.`);
    return [new ShapedArray(windowShape("select_and_gather_add", x!.shape, p), t!.dtype)];
  },
  impl([t, x], p, [out]) {
    return [new ConcreteArray(out!, hostBackend.selectAndGather(t!.buffer, x!.buffer, out!.dtype, p.select, geometry(x!.aval.shape, out!.shape, p)))];
  },
  jvp([t, x], [tt], p) {
    const out = selectAndGather(t!, x!, p);
    return [[out], [tt ? selectAndGather(tt, x!, p) : null]];
  },
  transpose([ct], [, x], p) {
    if (x instanceof UndefPrimal) throw new Error("select_and_gather_add: the operand that selects cannot be linear.");
    return [ct ? selectAndScatter(ct, x as NDArray, p) : null, null];
  },
  batch: (args, dims, p) => batchWindow(select_and_gather_add_p)(args, dims, p),
  printParams: printWindow,
});

/** `out[i] = Σ s[p]` over the windows p that select element i of x; linear in `s`. */
export const select_and_scatter_add_p: Primitive<SelectParams> = definePrimitive<SelectParams>({
  name: "select_and_scatter_add",
  freshOutputs: true,
  abstractEval([s, x], p) {
    const expect = windowShape("select_and_scatter_add", x!.shape, p);
    if (s!.dtype !== x!.dtype || s!.ndim !== expect.length || s!.shape.some((d, i) => d !== expect[i]))
      throw new Error(
        `select_and_scatter_add: the source ${s!.toString()} must have the window output shape ${fmtShape(expect)} of the operand ${x!.toString()}.`,
      );
    return [new ShapedArray(x!.shape, s!.dtype)];
  },
  impl([s, x], p, [out]) {
    return [new ConcreteArray(out!, hostBackend.selectAndScatter(s!.buffer, x!.buffer, out!.dtype, p.select, geometry(x!.aval.shape, s!.aval.shape, p)))];
  },
  jvp([s, x], [ts], p) {
    return [[selectAndScatter(s!, x!, p)], [ts ? selectAndScatter(ts, x!, p) : null]];
  },
  transpose([ct], [, x], p) {
    if (x instanceof UndefPrimal) throw new Error("select_and_scatter_add: the operand that selects cannot be linear.");
    return [ct ? selectAndGather(ct, x as NDArray, p) : null, null];
  },
  batch: (args, dims, p) => batchWindow(select_and_scatter_add_p)(args, dims, p),
  printParams: printWindow,
});

/** Binds `select_and_gather_add`. */
export function selectAndGather(t: NDArray, x: NDArray, p: SelectParams): NDArray {
  return bind1(select_and_gather_add_p, [t, x], p);
}
/** Binds `select_and_scatter_add` (the result has the shape of `x`). */
export function selectAndScatter(s: NDArray, x: NDArray, p: SelectParams): NDArray {
  return bind1(select_and_scatter_add_p, [s, x], p);
}
