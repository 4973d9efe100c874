/**
 * Constants every ONNX row makes: a 0-d scalar of an element type, and int64 scalars and
 * vectors (ONNX's shapes, axes, starts and pads are int64 tensors).
 * @module
 */
import type { DType } from "../core/dtype.js";
import type { OnnxEmitter } from "./onnx_ops.js";

/** A 0-d constant `v` of element type `d`. */
export const scalar = (em: OnnxEmitter, v: number, d: DType): string => em.constant([v], d, []);
/** A 0-d int64 constant. */
export const i64 = (em: OnnxEmitter, v: number): string => em.constant([v], "int64", []);
/** A 1-d int64 constant (shapes, axes, starts, pads). */
export const ints = (em: OnnxEmitter, xs: readonly number[]): string => em.constant(xs, "int64", [xs.length]);
