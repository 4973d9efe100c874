/**
 * Matmul layout: a `matmul` whose operand is a `transpose` swapping the last two axes
 * (what the backward pass of a matmul produces: `xᵀ·g` and `g·wᵀ`) becomes a
 * `matmul_t` that reads the untransposed array in its stored layout, so the transpose
 * is never materialized. The transpose equation is dropped when nothing else reads it.
 *
 * It runs before fusion: afterwards a transpose feeding a matmul would already be a
 * copy kernel (fusion materializes views that a non-fused primitive reads).
 * @module
 */
import type { Primitive } from "../core/trace.js";
import { type Atom, type ClosedJaxpr, type JaxprEqn, Var } from "../ir/jaxpr.js";
import { matmul_p, matmul_t_p } from "../primitives/dot.js";
import { transpose_p } from "../primitives/shape.js";
import { dce } from "./dce.js";
import { rebuild } from "./util.js";

/** Whether `perm` keeps the leading axes and swaps the last two. */
export function swapsLastTwo(perm: readonly number[]): boolean {
  const n = perm.length;
  if (n < 2 || perm[n - 2] !== n - 1 || perm[n - 1] !== n - 2) return false;
  for (let i = 0; i < n - 2; i++) if (perm[i] !== i) return false;
  return true;
}

/** Rewrites `matmul(swapLast(x), y)` / `matmul(x, swapLast(y))` into `matmul_t` (see the module comment). */
export function matmulLayout(cj: ClosedJaxpr): ClosedJaxpr {
  const { jaxpr } = cj;
  const producer = new Map<Var, JaxprEqn>();
  for (const e of jaxpr.eqns) for (const v of e.outVars) producer.set(v, e);
  /** The array `a` is the last-two-axes transpose of, or null. */
  const untransposed = (a: Atom): Atom | null => {
    if (!(a instanceof Var)) return null;
    const e = producer.get(a);
    if (!e || e.primitive !== (transpose_p as Primitive) || !swapsLastTwo(e.params.perm as number[])) return null;
    return e.inputs[0]!;
  };
  let changed = false;
  const eqns = jaxpr.eqns.map((e): JaxprEqn => {
    if (e.primitive !== (matmul_p as Primitive)) return e;
    const xa = untransposed(e.inputs[0]!);
    const xb = untransposed(e.inputs[1]!);
    if (!xa && !xb) return e;
    changed = true;
    return {
      primitive: matmul_t_p as Primitive,
      inputs: [xa ?? e.inputs[0]!, xb ?? e.inputs[1]!],
      params: { transposeA: xa !== null, transposeB: xb !== null },
      outVars: e.outVars,
    };
  });
  return changed ? dce(rebuild(cj, { eqns })) : cj;
}
