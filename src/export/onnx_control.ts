/**
 * ONNX rows for the control-flow primitives of src/lax/primitives.ts: `cond` becomes
 * `If` (a balanced tree of nested `If`s for a switch of more than two branches),
 * `while` and `scan` become `Loop`. Their jaxprs are written as subgraphs, which read
 * the enclosing graph's values (the operands, a loop's constants and stacked inputs) by
 * name.
 *
 * ONNX `Loop` semantics the rows rely on: the body takes `(iteration number (int64),
 * condition, ...carried)` and returns `(next condition, ...carried, ...scan outputs)`;
 * the loop runs while the trip count is not reached and the condition is true, the
 * condition input being checked before the first iteration; scan outputs are stacked
 * on a new leading axis in iteration order.
 * @module
 */
import type { ShapedArray } from "../core/array.js";
import type { ClosedJaxpr } from "../ir/jaxpr.js";
import type { OnnxEmitter, OnnxRule, OnnxValueType } from "./onnx_ops.js";

const typeOf = (a: ShapedArray): OnnxValueType => ({ elem: a.dtype, shape: a.shape });
const ITER: OnnxValueType = { elem: "int64", shape: [] };
const BOOL: OnnxValueType = { elem: "bool", shape: [] };

/**
 * Branches `lo` to `hi - 1` of a cond on the int32 `index`: a balanced tree of `If`s
 * (`index < mid` picks the lower half), so an index below 0 picks branch 0 and one past
 * the end the last branch, as cond's clamping does.
 */
function branchTree(
  em: OnnxEmitter,
  index: string,
  branches: readonly ClosedJaxpr[],
  lo: number,
  hi: number,
  ops: readonly string[],
  outs: readonly OnnxValueType[],
): string[] {
  if (hi - lo === 1) return em.jaxpr(branches[lo]!, ops);
  const mid = lo + Math.floor((hi - lo) / 2);
  const half = (a: number, b: number) => em.subgraph([], (sub) => branchTree(sub, index, branches, a, b, ops, outs), outs);
  const pred = em.op("Less", [index, em.constant([mid], "int32", [])]);
  return em.ops("If", [pred], outs.length, { then_branch: half(lo, mid), else_branch: half(mid, hi) });
}

/** The control-flow rows, spread into the table of onnx_ops.ts. */
export const controlRules: Readonly<Record<string, OnnxRule>> = {
  // inputs [index, ...operands]
  cond: {
    lower(em, e) {
      const branches = e.params.branches as readonly ClosedJaxpr[];
      const [index, ...ops] = e.inputs as [string, ...string[]];
      if (e.outAvals.length === 0) return [];
      return branchTree(em, index, branches, 0, branches.length, ops, e.outAvals.map(typeOf));
    },
  },

  // inputs [...cond consts, ...body consts, ...carry]: the condition on the initial value is
  // the Loop's condition input; the body computes the next value and the condition on it
  while: {
    lower(em, e) {
      const cond = e.params.cond as ClosedJaxpr;
      const body = e.params.body as ClosedJaxpr;
      const ncc = e.params.condNConsts as number;
      const nbc = e.params.bodyNConsts as number;
      const cc = e.inputs.slice(0, ncc);
      const bc = e.inputs.slice(ncc, ncc + nbc);
      const init = e.inputs.slice(ncc + nbc);
      if (init.length === 0) return [];
      const carried = e.outAvals.map(typeOf);
      const first = em.jaxpr(cond, [...cc, ...init])[0]!;
      const g = em.subgraph(
        [ITER, BOOL, ...carried],
        (sub, [, , ...carry]) => {
          const next = sub.jaxpr(body, [...bc, ...carry]);
          return [sub.jaxpr(cond, [...cc, ...next])[0]!, ...next];
        },
        [BOOL, ...carried],
      );
      return em.ops("Loop", ["", first, ...init], carried.length, { body: g });
    },
  },

  // inputs [...consts, ...carry, ...xs], outputs [...carry, ...ys]: a Loop of `length` trips;
  // step t reads Gather(xs, t) and its ys are the Loop's scan outputs (in iteration order,
  // so a reverse scan's are reversed afterwards)
  scan: {
    lower(em, e) {
      const body = e.params.jaxpr as ClosedJaxpr;
      const nc = e.params.numConsts as number;
      const nk = e.params.numCarry as number;
      const length = e.params.length as number;
      const reverse = e.params.reverse as boolean;
      const consts = e.inputs.slice(0, nc);
      const init = e.inputs.slice(nc, nc + nk);
      const xs = e.inputs.slice(nc + nk);
      const carried = e.outAvals.slice(0, nk).map(typeOf);
      const ys = body.outAvals.slice(nk).map(typeOf);
      if (e.outAvals.length === 0) return [];
      if (length === 0) {
        return [...init.map((k) => em.op("Identity", [k])), ...e.outAvals.slice(nk).map((a) => em.constant([], a.dtype, a.shape))];
      }
      const g = em.subgraph(
        [ITER, BOOL, ...carried],
        (sub, [i, c, ...carry]) => {
          const t = reverse ? sub.op("Sub", [sub.constant([length - 1], "int64", []), i!]) : i!;
          const slices = xs.map((x) => sub.op("Gather", [x, t], { axis: 0 }));
          return [c!, ...sub.jaxpr(body, [...consts, ...carry, ...slices])];
        },
        [BOOL, ...carried, ...ys],
      );
      const outs = em.ops("Loop", [em.constant([length], "int64", []), "", ...init], nk + ys.length, { body: g });
      if (!reverse || ys.length === 0) return outs;
      const backwards = em.constant(
        Array.from({ length }, (_, k) => length - 1 - k),
        "int64",
        [length],
      );
      return [...outs.slice(0, nk), ...outs.slice(nk).map((y) => em.op("Gather", [y, backwards], { axis: 0 }))];
    },
  },
};
