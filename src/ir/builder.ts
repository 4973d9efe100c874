/** Assembling a closed jaxpr from traced pieces, shared by staging and partial evaluation. @module */
import { ConcreteArray, NDArray } from "../core/array.js";
import { type Atom, ClosedJaxpr, Jaxpr, type JaxprEqn, Literal, Var } from "./jaxpr.js";

/**
 * Builds a closed jaxpr. Constants that are concrete 0-d arrays become inline
 * literals (`2.0:f32[]`); equal constant objects share one constvar.
 */
export function finalizeJaxpr(
  constVars: readonly Var[],
  consts: readonly NDArray[],
  inVars: readonly Var[],
  eqns: readonly JaxprEqn[],
  outs: readonly Atom[],
): ClosedJaxpr {
  const subst = new Map<Var, Atom>();
  const keptVars: Var[] = [];
  const keptVals: NDArray[] = [];
  const byValue = new Map<NDArray, Var>();
  constVars.forEach((v, i) => {
    const c = consts[i]!;
    if (c instanceof ConcreteArray && c.ndim === 0) {
      subst.set(v, new Literal(c));
      return;
    }
    const prev = byValue.get(c);
    if (prev) {
      subst.set(v, prev);
      return;
    }
    byValue.set(c, v);
    keptVars.push(v);
    keptVals.push(c);
  });
  const s = (a: Atom): Atom => (a instanceof Var ? (subst.get(a) ?? a) : a);
  const newEqns = eqns.map((e) => ({ ...e, inputs: e.inputs.map(s) }));
  return new ClosedJaxpr(new Jaxpr(keptVars, inVars, newEqns, outs.map(s)), keptVals);
}
