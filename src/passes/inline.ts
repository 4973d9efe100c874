/**
 * Inlining of nested jit calls: a `pjit` equation is replaced by the equations of its
 * jaxpr (with fresh variables, so a function called twice is inlined twice), and its
 * constants become constants of the outer jaxpr. After inlining, the other passes see
 * across the call boundary — `grad(jit(f))` under an outer `jit` fuses into the
 * surrounding kernels instead of running as separate programs.
 * @module
 */
import { ConcreteArray, type NDArray } from "../core/array.js";
import { type Atom, type ClosedJaxpr, type JaxprEqn, Literal, Var } from "../ir/jaxpr.js";
import { innerJaxpr, rebuild, substituter } from "./util.js";

/** Replaces every nested jit call by its body. */
export function inlineCalls(cj: ClosedJaxpr): ClosedJaxpr {
  if (!cj.jaxpr.eqns.some((e) => innerJaxpr(e))) return cj;
  const constVars = [...cj.jaxpr.constVars];
  const consts: NDArray[] = [...cj.consts];
  const eqns: JaxprEqn[] = [];
  const subst = new Map<Var, Atom>();
  const s = substituter(subst);

  const inline = (inner: ClosedJaxpr, args: readonly Atom[], outVars: readonly Var[]): void => {
    const j = inner.jaxpr;
    const local = new Map<Var, Atom>();
    j.inVars.forEach((v, i) => local.set(v, args[i]!));
    j.constVars.forEach((v, i) => {
      const c = inner.consts[i]!;
      if (c instanceof ConcreteArray && c.ndim === 0) {
        local.set(v, new Literal(c));
        return;
      }
      const nv = new Var(v.aval);
      constVars.push(nv);
      consts.push(c);
      local.set(v, nv);
    });
    const read = (a: Atom): Atom => (a instanceof Var ? s(local.get(a) ?? a) : a);
    for (const e of j.eqns) {
      const ins = e.inputs.map(read);
      const nested = innerJaxpr(e);
      const outs = e.outVars.map((v) => {
        const nv = new Var(v.aval);
        local.set(v, nv);
        return nv;
      });
      if (nested) inline(nested, ins, outs);
      else eqns.push({ ...e, inputs: ins, outVars: outs });
    }
    j.outs.forEach((a, i) => subst.set(outVars[i]!, read(a)));
  };

  for (const e of cj.jaxpr.eqns) {
    const ins = e.inputs.map(s);
    const inner = innerJaxpr(e);
    if (inner) inline(inner, ins, e.outVars);
    else eqns.push(ins.every((a, i) => a === e.inputs[i]) ? e : { ...e, inputs: ins });
  }
  return rebuild(cj, { constVars, consts, eqns, outs: cj.jaxpr.outs.map(s) });
}
