/**
 * The kernel expression language: what a fused group of primitives becomes before a
 * backend compiles it. It is backend-neutral — the CPU backend compiles it to
 * JavaScript, and a GPU (gpu.js) or WebAssembly backend can compile the same kernels.
 *
 * A {@link Kernel} is
 * - an **index space**: a shape; the kernel runs its body once per index `(i0, i1, ...)`;
 * - **inputs**: flat row-major buffers; each {@link LoadNode} reads one element through an
 *   affine {@link IndexMap} `offset + Σ strides[d] * i_d` (stride 0 expresses
 *   broadcasting; permuted strides a transpose; an offset a slice);
 * - **nodes**: a scalar program in SSA form (a node refers to earlier nodes by position):
 *   loads, constants, unary/binary/compare/select/convert ops;
 * - **outputs**: nodes written either at every index (elementwise outputs, shaped like
 *   the index space) or reduced (`sum`/`max`/`min`) over {@link Kernel.reduceAxes}.
 *
 * Semantics of every node: compute the operation on the (double precision) values of
 * its operands, then convert the result to the node's dtype exactly as storing it into
 * that dtype's typed array would (float32 rounds, int32 wraps with truncation, bool is
 * `x mod 256 != 0`). These are the semantics of the primitives' reference `impl`s, so
 * a fused kernel computes the same values as the unfused equations. Reductions
 * accumulate in double precision, in row-major order of the index space, and convert
 * to the output dtype once at the end.
 * @module
 */
import { ShapedArray } from "../core/array.js";
import { stridesOf } from "../core/shape.js";
import type { DType } from "../core/dtype.js";
import { castScalar } from "../core/dtype.js";
import { sizeOf } from "../core/shape.js";

/** Unary scalar operations (names match the primitives they lower). */
export const UNARY_OPS = [
  "neg",
  "exp",
  "log",
  "log1p",
  "expm1",
  "sin",
  "cos",
  "tan",
  "tanh",
  "logistic",
  "sqrt",
  "rsqrt",
  "abs",
  "sign",
  "floor",
  "ceil",
  "round",
  "not",
] as const;
export type UnaryOp = (typeof UNARY_OPS)[number];

/** Binary arithmetic and logical operations. */
export const BINARY_OPS = ["add", "sub", "mul", "div", "pow", "max", "min", "and", "or"] as const;
export type BinaryOp = (typeof BINARY_OPS)[number];

/** Comparisons (their result is bool 0/1). */
export const COMPARE_OPS = ["eq", "ne", "lt", "le", "gt", "ge"] as const;
export type CompareOp = (typeof COMPARE_OPS)[number];

/** Reductions an output may apply over the reduced axes. */
export type ReduceOp = "sum" | "max" | "min";

/** Affine map from an index of the index space to a flat element offset of a buffer. */
export interface IndexMap {
  readonly offset: number;
  /** One stride per axis of the index space (0 = broadcast along that axis). */
  readonly strides: readonly number[];
}

export interface LoadNode {
  readonly kind: "load";
  readonly dtype: DType;
  readonly input: number;
  readonly map: IndexMap;
}
export interface ConstNode {
  readonly kind: "const";
  readonly dtype: DType;
  /** Already converted to `dtype`. */
  readonly value: number;
}
export interface UnaryNode {
  readonly kind: "unary";
  readonly dtype: DType;
  readonly op: UnaryOp;
  readonly x: number;
}
/** `x ** y` for a fixed integer `y`. */
export interface IntegerPowNode {
  readonly kind: "ipow";
  readonly dtype: DType;
  readonly x: number;
  readonly y: number;
}
export interface BinaryNode {
  readonly kind: "binary";
  readonly dtype: DType;
  readonly op: BinaryOp;
  readonly x: number;
  readonly y: number;
}
export interface CompareNode {
  readonly kind: "compare";
  readonly dtype: "bool";
  readonly op: CompareOp;
  readonly x: number;
  readonly y: number;
}
/** `cond != 0 ? x : y`. */
export interface SelectNode {
  readonly kind: "select";
  readonly dtype: DType;
  readonly cond: number;
  readonly x: number;
  readonly y: number;
}
/** Converts `x` to `dtype` (float → int truncates toward zero; bool is `x != 0 && !isNaN(x)`). */
export interface ConvertNode {
  readonly kind: "convert";
  readonly dtype: DType;
  readonly x: number;
}

export type KernelNode = LoadNode | ConstNode | UnaryNode | IntegerPowNode | BinaryNode | CompareNode | SelectNode | ConvertNode;

/** A buffer read by the kernel. */
export interface KernelInput {
  readonly dtype: DType;
  /** The shape of the array passed in (the kernel reads it as a flat row-major buffer). */
  readonly shape: readonly number[];
}

/** A value written by the kernel. */
export interface KernelOutput {
  /** The node written. Its dtype is the output's dtype. */
  readonly node: number;
  /** When set, the output reduces over {@link Kernel.reduceAxes}; otherwise it is elementwise. */
  readonly reduce?: ReduceOp;
}

/** A kernel: index space, inputs, scalar program, outputs. Immutable. */
export interface Kernel {
  readonly shape: readonly number[];
  readonly inputs: readonly KernelInput[];
  readonly nodes: readonly KernelNode[];
  readonly outputs: readonly KernelOutput[];
  /** Sorted axes of the index space reduced by the reducing outputs ([] when none reduce). */
  readonly reduceAxes: readonly number[];
}

/** The shape of output `k` of a kernel. */
export function outputShape(kernel: Kernel, k: number): number[] {
  const o = kernel.outputs[k]!;
  return o.reduce ? kernel.shape.filter((_, d) => !kernel.reduceAxes.includes(d)) : [...kernel.shape];
}

/** Output avals of a kernel. */
export function kernelOutAvals(kernel: Kernel): ShapedArray[] {
  return kernel.outputs.map((_, j) => new ShapedArray(outputShape(kernel, j), outputDtype(kernel, j)));
}

/** The dtype of output `k` of a kernel. */
export function outputDtype(kernel: Kernel, k: number): DType {
  return kernel.nodes[kernel.outputs[k]!.node]!.dtype;
}

/**
 * The starting value of a reduction. Accumulation happens in double precision and the
 * result is converted to the output dtype once, at the end (an empty int32 max is 0,
 * as `Int32Array` stores -Infinity).
 */
export function reduceInit(op: ReduceOp): number {
  return op === "sum" ? 0 : op === "max" ? -Infinity : Infinity;
}

/** Operands (node positions) of a node. */
export function operandsOf(n: KernelNode): number[] {
  switch (n.kind) {
    case "load":
    case "const":
      return [];
    case "unary":
    case "ipow":
    case "convert":
      return [n.x];
    case "binary":
    case "compare":
      return [n.x, n.y];
    case "select":
      return [n.cond, n.x, n.y];
  }
}

/**
 * Checks a kernel's internal consistency (operands defined before use, loads in
 * bounds of their inputs, outputs valid). Throws an Error naming the problem.
 */
export function validateKernel(k: Kernel): void {
  const fail = (msg: string): never => {
    throw new Error(`kernel: ${msg}`);
  };
  const nd = k.shape.length;
  k.reduceAxes.forEach((a, i) => {
    if (!Number.isInteger(a) || a < 0 || a >= nd) fail(`reduce axis ${a} is out of range for index space [${k.shape.join(",")}]`);
    if (i > 0 && a <= k.reduceAxes[i - 1]!) fail(`reduce axes (${k.reduceAxes.join(",")}) must be sorted and distinct`);
  });
  const size = sizeOf(k.shape);
  k.nodes.forEach((n, i) => {
    for (const o of operandsOf(n)) if (!(o >= 0 && o < i)) fail(`node %${i} (${n.kind}) refers to %${o}, which is not an earlier node`);
    if (n.kind === "load") {
      const inp = k.inputs[n.input];
      if (!inp) fail(`node %${i} loads input ${n.input}, but the kernel has ${k.inputs.length} inputs`);
      if (inp!.dtype !== n.dtype) fail(`node %${i} loads ${n.dtype} from input ${n.input} of dtype ${inp!.dtype}`);
      if (n.map.strides.length !== nd) fail(`node %${i}: index map has ${n.map.strides.length} strides for a rank-${nd} index space`);
      if (size > 0) {
        let lo = n.map.offset;
        let hi = n.map.offset;
        n.map.strides.forEach((s, d) => {
          const span = s * (k.shape[d]! - 1);
          if (span < 0) lo += span;
          else hi += span;
        });
        if (lo < 0 || hi >= sizeOf(inp!.shape)) fail(`node %${i}: load of input ${n.input} (${sizeOf(inp!.shape)} elements) reaches offsets ${lo}..${hi}`);
      }
    }
    if (n.kind === "const" && castScalar(n.value, n.dtype) !== n.value && !Number.isNaN(n.value))
      fail(`node %${i}: constant ${n.value} is not a ${n.dtype} value`);
  });
  if (k.outputs.length === 0) fail("a kernel needs at least one output");
  const reducing = k.outputs.some((o) => o.reduce);
  if (!reducing && k.reduceAxes.length) fail("reduceAxes are set but no output reduces");
  k.outputs.forEach((o, j) => {
    const n = k.nodes[o.node];
    if (!n) fail(`output ${j} refers to node %${o.node}, which does not exist`);
    if (o.reduce && n!.dtype === "bool") fail(`output ${j} reduces a bool value`);
  });
}

/** The canonical (contiguous, broadcast) index map of an array of `shape` read over index space `space`. */
export function broadcastMap(shape: readonly number[], space: readonly number[], offset = 0, strides?: readonly number[]): IndexMap {
  const r = shape.length;
  const lead = space.length - r;
  const own = strides ?? contiguousStrides(shape);
  return {
    offset,
    strides: space.map((d, i) => {
      if (i < lead) return 0;
      const j = i - lead;
      return shape[j] === 1 && d !== 1 ? 0 : shape[j] === 1 ? 0 : own[j]!;
    }),
  };
}

/** Row-major strides of `shape` (the same as the core's `stridesOf`). */
export const contiguousStrides = (shape: readonly number[]): number[] => stridesOf(shape);

/** One loop of a collapsed index space: its trip count and whether a reduction runs over it. */
export interface Loop {
  size: number;
  reduced: boolean;
}

/**
 * Collapses an index space for code generation: drops size-1 axes and merges adjacent
 * axes that every access map walks contiguously (both reduced or both kept), so the
 * generated loop nest is as shallow as the accesses allow. Returns the loops and the
 * access maps' strides over them.
 */
export function collapseLoops(shape: readonly number[], reduced: readonly boolean[], maps: number[][]): { loops: Loop[]; maps: number[][] } {
  const keep = shape.map((d) => d !== 1);
  let loops: Loop[] = shape.map((size, d) => ({ size, reduced: reduced[d]! })).filter((_, d) => keep[d]);
  let ms = maps.map((m) => m.filter((_, d) => keep[d]));
  for (let d = loops.length - 2; d >= 0; d--) {
    const a = loops[d]!;
    const b = loops[d + 1]!;
    if (a.reduced !== b.reduced) continue;
    if (!ms.every((m) => m[d] === m[d + 1]! * b.size)) continue;
    loops = [...loops.slice(0, d), { size: a.size * b.size, reduced: a.reduced }, ...loops.slice(d + 2)];
    ms = ms.map((m) => [...m.slice(0, d), m[d + 1]!, ...m.slice(d + 2)]);
  }
  return { loops, maps: ms };
}

/**
 * The loop depth at which each node's value is known (for loop-invariant code motion):
 * a load's is the depth of the innermost loop its access map moves along (`mapOfLoad`
 * gives the position of its map in `maps`, or undefined for a load that is not emitted);
 * any other node's is the deepest of its operands'. Also returns each map's own depth.
 */
export function nodeLevels(
  kernel: Kernel,
  maps: readonly number[][],
  mapOfLoad: (node: number) => number | undefined,
): { level: number[]; mapLevel: number[] } {
  const mapLevel = maps.map((m) => {
    let l = 0;
    m.forEach((s, d) => {
      if (s !== 0) l = d + 1;
    });
    return l;
  });
  const level = new Array<number>(kernel.nodes.length).fill(0);
  kernel.nodes.forEach((n, i) => {
    if (n.kind === "load") {
      const m = mapOfLoad(i);
      level[i] = m === undefined ? 0 : mapLevel[m]!;
    } else level[i] = Math.max(0, ...operandsOf(n).map((p) => level[p]!));
  });
  return { level, mapLevel };
}
