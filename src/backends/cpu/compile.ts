/**
 * Compiling a closed jaxpr for the CPU into a function over concrete arrays.
 * @module
 */
import type { ConcreteArray, NDArray } from "../../core/array.js";
import { type Atom, type ClosedJaxpr, Literal, type Var } from "../../ir/jaxpr.js";

/** A compiled program: concrete inputs to concrete outputs. */
export type Executable = (args: readonly ConcreteArray[]) => ConcreteArray[];

/**
 * Baseline compilation: runs each equation's CPU implementation in order, with no
 * dispatch through the interpreter stack and buffers dropped after their last use.
 */
export function compileJaxpr(cj: ClosedJaxpr): Executable {
  const { jaxpr } = cj;
  const consts = cj.consts as NDArray[];
  // last use of each variable, to release buffers early
  const lastUse = new Map<Var, number>();
  jaxpr.eqns.forEach((e, i) => e.inputs.forEach((a) => a instanceof Literal || lastUse.set(a, i)));
  const outSet = new Set(jaxpr.outs.filter((a): a is Var => !(a instanceof Literal)));
  return (args) => {
    const env = new Map<Var, ConcreteArray>();
    const read = (a: Atom): ConcreteArray => (a instanceof Literal ? a.val : env.get(a)!);
    jaxpr.constVars.forEach((v, i) => env.set(v, consts[i]!.concreteValue("jit")));
    jaxpr.inVars.forEach((v, i) => env.set(v, args[i]!));
    jaxpr.eqns.forEach((e, i) => {
      const outs = e.primitive.impl(
        e.inputs.map(read),
        e.params,
        e.outVars.map((v) => v.aval),
      );
      e.outVars.forEach((v, k) => env.set(v, outs[k]!));
      for (const a of e.inputs) if (!(a instanceof Literal) && lastUse.get(a) === i && !outSet.has(a)) env.delete(a);
    });
    return jaxpr.outs.map(read);
  };
}
