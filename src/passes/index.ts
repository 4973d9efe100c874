/**
 * The optimization pipeline run by `jit` on a traced jaxpr before it is compiled.
 * Each pass is a pure function ClosedJaxpr → ClosedJaxpr (one file each):
 * inlining of nested jit calls, constant folding, algebraic simplification,
 * common-subexpression elimination, dead-code elimination, loop-invariant code motion
 * out of scans (and pruning of their stacked outputs), matmuls reading transposed
 * operands in place, and fusion into kernels.
 * @module
 */
import type { ClosedJaxpr } from "../ir/jaxpr.js";
import { cse } from "./cse.js";
import { dce } from "./dce.js";
import { foldConstants } from "./fold.js";
import { fuse } from "./fuse.js";
import { inlineCalls } from "./inline.js";
import { matmulLayout } from "./matmul_layout.js";
import { scanLoops } from "./scan.js";
import { simplify } from "./simplify.js";

export { cse, dce, foldConstants, fuse, inlineCalls, matmulLayout, scanLoops, simplify };

/** A pass over the IR. */
export type Pass = (cj: ClosedJaxpr) => ClosedJaxpr;

/** The passes that clean up a jaxpr without changing its primitives' granularity. */
export const cleanupPasses: Pass[] = [inlineCalls, foldConstants, simplify, cse, foldConstants, simplify, dce];

/**
 * The passes `jit` applies, in order. Scan loops are rewritten on the cleaned-up
 * program (what they hoist is then merged across loops and pruned). The matmul-layout
 * pass runs just before fusion, which would otherwise turn a transposed matmul operand
 * into a copy kernel.
 */
export const defaultPasses: Pass[] = [...cleanupPasses, scanLoops, cse, dce, matmulLayout, fuse];

/** Applies `passes` in order. */
export function optimizeJaxpr(cj: ClosedJaxpr, passes: readonly Pass[] = defaultPasses): ClosedJaxpr {
  return passes.reduce((j, p) => p(j), cj);
}
