/**
 * Constant folding: an equation whose inputs are all literals or constants is
 * evaluated now, with its primitive's CPU `impl`. A 0-d result becomes an inline
 * literal; a larger one becomes a new constant of the closed jaxpr. Equations that
 * would turn a small constant into a large one (a broadcast of a scalar to a big
 * shape) are left for the kernels, which read a broadcast scalar for free.
 * @module
 */
import { ConcreteArray } from "../core/array.js";
import { type Atom, type ClosedJaxpr, type JaxprEqn, Literal, Var } from "../ir/jaxpr.js";
import { constValues, rebuild, substituter } from "./util.js";

/** Results with more elements than this are only folded when they are no bigger than the inputs. */
export const FOLD_GROWTH_LIMIT = 1024;

/** Evaluates equations whose inputs are all known. */
export function foldConstants(cj: ClosedJaxpr): ClosedJaxpr {
  const known = constValues(cj);
  const subst = new Map<Var, Atom>();
  const s = substituter(subst);
  const newConstVars: Var[] = [];
  const newConsts: ConcreteArray[] = [];
  const eqns: JaxprEqn[] = [];
  const valueOf = (a: Atom): ConcreteArray | undefined => (a instanceof Literal ? a.val : known.get(a));
  for (const e of cj.jaxpr.eqns) {
    const inputs = e.inputs.map(s);
    const vals = inputs.map(valueOf);
    const outSize = e.outVars.reduce((n, v) => n + v.aval.size, 0);
    const inSize = vals.reduce((n, v) => n + (v ? v.size : 0), 0);
    const foldable = vals.every((v) => v !== undefined) && (outSize <= FOLD_GROWTH_LIMIT || outSize <= inSize);
    if (foldable) {
      let outs: ConcreteArray[] | undefined;
      try {
        outs = e.primitive.impl(
          vals as ConcreteArray[],
          e.params,
          e.outVars.map((v) => v.aval),
        );
      } catch {
        outs = undefined; // leave the equation to raise its error when the program runs
      }
      if (outs) {
        e.outVars.forEach((v, i) => {
          const val = outs![i]!;
          if (val.ndim === 0) {
            subst.set(v, new Literal(val));
          } else {
            const c = new Var(v.aval);
            newConstVars.push(c);
            newConsts.push(val);
            known.set(c, val);
            subst.set(v, c);
          }
        });
        continue;
      }
    }
    eqns.push(inputs.every((a, i) => a === e.inputs[i]) ? e : { ...e, inputs });
  }
  if (!newConstVars.length && eqns.length === cj.jaxpr.eqns.length) return cj;
  return rebuild(cj, {
    constVars: [...cj.jaxpr.constVars, ...newConstVars],
    consts: [...cj.consts, ...newConsts],
    eqns,
    outs: cj.jaxpr.outs.map(s),
  });
}
