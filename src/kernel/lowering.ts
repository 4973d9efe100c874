/**
 * How a primitive lowers to the kernel expression language. A primitive carries its
 * lowering beside its other rules (the family factories in src/primitives/ fill it in):
 * - `lower`: an elementwise primitive's scalar program, built from its operands' nodes;
 * - `reduceOp`: the reduction a reducing primitive performs over its `axes` param;
 * - `view`: how a view primitive (broadcast, transpose, slice, reshape) reads its operand
 *   through a strided index map instead of computing anything.
 * jit's fusion pass, the eager Wasm path and the GPU backend all read these fields; no
 * table keyed by primitive names exists.
 *
 * The fields are declared here, on the core's `Primitive` interface (the core does not
 * know the kernel language), by module augmentation.
 * @module
 */
import type { DType } from "../core/dtype.js";
import type { Params } from "../core/trace.js";
import type { KernelBuilder } from "./builder.js";
import type { BinaryOp, CompareOp, ReduceOp, UnaryOp } from "./ir.js";
import type { ViewRule } from "./views.js";

/** Lowers one elementwise equation: operand nodes in, result node out. */
export type KernelLowering = (b: KernelBuilder, operands: number[], params: Params, outDtype: DType) => number;

declare module "../core/trace.js" {
  interface Primitive<P extends Params = any> {
    /** The kernel nodes an elementwise primitive lowers to (see src/kernel/lowering.ts). */
    readonly lower?: KernelLowering;
    /** The reduction a reducing primitive applies over its `axes` param. */
    readonly reduceOp?: ReduceOp;
    /** How a view primitive reads its operand as a strided view (see src/kernel/views.ts). */
    readonly view?: ViewRule<P>;
  }
}

/** The lowering of a unary op. */
export const unaryLowering =
  (op: UnaryOp): KernelLowering =>
  (b, [x], _p, dtype) =>
    b.add({ kind: "unary", op, x: x!, dtype });

/** The lowering of a binary arithmetic or logical op. */
export const binaryLowering =
  (op: BinaryOp): KernelLowering =>
  (b, [x, y], _p, dtype) =>
    b.add({ kind: "binary", op, x: x!, y: y!, dtype });

/** The lowering of a comparison (a bool result). */
export const compareLowering =
  (op: CompareOp): KernelLowering =>
  (b, [x, y]) =>
    b.add({ kind: "compare", op, x: x!, y: y!, dtype: "bool" });

/** `cond ? x : y`. */
export const selectLowering: KernelLowering = (b, [c, x, y], _p, dtype) => b.add({ kind: "select", cond: c!, x: x!, y: y!, dtype });

/** A dtype conversion. */
export const convertLowering: KernelLowering = (b, [x], _p, dtype) => b.add({ kind: "convert", x: x!, dtype });

/** `x ** y` for the integer param `y`. */
export const integerPowLowering: KernelLowering = (b, [x], p, dtype) => b.add({ kind: "ipow", x: x!, y: p.y as number, dtype });

/** The identity (the operand's node itself). */
export const identityLowering: KernelLowering = (_b, [x]) => x!;
