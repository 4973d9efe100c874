/**
 * Common-subexpression elimination: an equation applying the same primitive, with
 * equal params, to the same inputs as an earlier one is dropped and its outputs
 * replaced by the earlier outputs (every primitive is pure). Nested jit calls are
 * processed recursively.
 * @module
 */
import type { ClosedJaxpr, JaxprEqn, Var } from "../ir/jaxpr.js";
import { type Atom } from "../ir/jaxpr.js";
import { atomKey, innerJaxpr, paramsKey, rebuild, substituter } from "./util.js";

/** Removes repeated computations. */
export function cse(cj: ClosedJaxpr): ClosedJaxpr {
  return cseWith(cj, new Map());
}

function cseWith(cj: ClosedJaxpr, done: Map<ClosedJaxpr, ClosedJaxpr>): ClosedJaxpr {
  const hit = done.get(cj);
  if (hit) return hit;
  const subst = new Map<Var, Atom>();
  const s = substituter(subst);
  const seen = new Map<string, readonly Var[]>();
  const eqns: JaxprEqn[] = [];
  for (const e of cj.jaxpr.eqns) {
    const inputs = e.inputs.map(s);
    const inner = innerJaxpr(e);
    const params = inner ? { ...e.params, jaxpr: cseWith(inner, done) } : e.params;
    const key = `${e.primitive.name}|${paramsKey(params)}|${inputs.map(atomKey).join(",")}`;
    const prev = seen.get(key);
    if (prev && prev.length === e.outVars.length) {
      e.outVars.forEach((v, i) => subst.set(v, prev[i]!));
      continue;
    }
    seen.set(key, e.outVars);
    eqns.push(inputs.every((a, i) => a === e.inputs[i]) && params === e.params ? e : { ...e, inputs, params });
  }
  const out = rebuild(cj, { eqns, outs: cj.jaxpr.outs.map(s) });
  done.set(cj, out);
  return out;
}
