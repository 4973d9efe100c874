/**
 * Dead-code elimination: drops equations none of whose outputs are used, and constants
 * nobody reads. Every primitive is pure, so an unused result never needs computing.
 * Nested jit calls (`pjit`) are pruned too: unused outputs are removed from the inner
 * jaxpr, its dead code eliminated, and inputs it no longer reads dropped from the call.
 * @module
 */
import { ClosedJaxpr, Jaxpr, type JaxprEqn, Var } from "../ir/jaxpr.js";
import { innerJaxpr } from "./util.js";

interface Pruned {
  cj: ClosedJaxpr;
  /** Which inputs the pruned jaxpr still reads (the pruned jaxpr keeps only those when `dropInputs`). */
  usedInputs: boolean[];
}

function prune(cj: ClosedJaxpr, usedOuts: readonly boolean[], dropInputs: boolean): Pruned {
  const j = cj.jaxpr;
  const live = new Set<Var>();
  const outs = j.outs.filter((_, i) => usedOuts[i]);
  for (const a of outs) if (a instanceof Var) live.add(a);
  const kept: JaxprEqn[] = [];
  for (let i = j.eqns.length - 1; i >= 0; i--) {
    const e = j.eqns[i]!;
    const used = e.outVars.map((v) => live.has(v));
    if (!used.some(Boolean)) continue;
    const inner = innerJaxpr(e);
    if (inner) {
      const p = prune(inner, used, true);
      const inputs = e.inputs.filter((_, k) => p.usedInputs[k]);
      kept.push({ ...e, inputs, outVars: e.outVars.filter((_, k) => used[k]), params: { ...e.params, jaxpr: p.cj } });
      for (const a of inputs) if (a instanceof Var) live.add(a);
      continue;
    }
    kept.push(e);
    for (const a of e.inputs) if (a instanceof Var) live.add(a);
  }
  kept.reverse();
  const keepConst = j.constVars.map((v) => live.has(v));
  const usedInputs = j.inVars.map((v) => live.has(v));
  const inVars = dropInputs ? j.inVars.filter((_, i) => usedInputs[i]) : j.inVars;
  const newJ = new Jaxpr(
    j.constVars.filter((_, i) => keepConst[i]),
    inVars,
    kept,
    outs,
  );
  return {
    cj: new ClosedJaxpr(
      newJ,
      cj.consts.filter((_, i) => keepConst[i]),
    ),
    usedInputs,
  };
}

/**
 * Removes equations whose results are unused (recursing into nested jit calls) and
 * unused constants. Inputs and outputs of the jaxpr are kept.
 */
export function dce(cj: ClosedJaxpr): ClosedJaxpr {
  return prune(
    cj,
    cj.jaxpr.outs.map(() => true),
    false,
  ).cj;
}
