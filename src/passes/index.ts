/**
 * The optimization pipeline run by `jit` on a traced jaxpr before it is compiled.
 * Each pass is a pure function ClosedJaxpr → ClosedJaxpr.
 * @module
 */
import type { ClosedJaxpr } from "../ir/jaxpr.js";

/** A pass over the IR. */
export type Pass = (cj: ClosedJaxpr) => ClosedJaxpr;

/** The passes `jit` applies, in order. */
export const defaultPasses: Pass[] = [];

/** Applies `passes` in order. */
export function optimizeJaxpr(cj: ClosedJaxpr, passes: readonly Pass[] = defaultPasses): ClosedJaxpr {
  return passes.reduce((j, p) => p(j), cj);
}
