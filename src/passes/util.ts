/**
 * Helpers shared by the passes: keys for atoms and params, and reading constant values.
 * @module
 */
import { ConcreteArray } from "../core/array.js";
import { type Atom, ClosedJaxpr, Jaxpr, type JaxprEqn, Var } from "../ir/jaxpr.js";

const objectIds = new WeakMap<object, number>();
let nextId = 0;
function idOf(o: object): number {
  let i = objectIds.get(o);
  if (i === undefined) objectIds.set(o, (i = nextId++));
  return i;
}

/** A string equal for equal atoms: the same variable, or literals of one dtype and value. */
export function atomKey(a: Atom): string {
  if (a instanceof Var) return `v${a.id}`;
  const v = a.value;
  return `l${a.aval.dtype}:${Object.is(v, -0) ? "-0" : String(v)}`;
}

/**
 * A string equal for equal params: plain data (numbers, strings, booleans, arrays,
 * plain objects) compares by value, anything else (jaxprs, functions, class instances)
 * by identity.
 */
export function paramsKey(v: unknown): string {
  if (v === null) return "null";
  switch (typeof v) {
    case "undefined":
      return "u";
    case "number":
      return Object.is(v, -0) ? "-0" : String(v);
    case "string":
      return JSON.stringify(v);
    case "boolean":
      return v ? "T" : "F";
    case "bigint":
      return `${v}n`;
    case "function":
    case "symbol":
      return `#${typeof v === "function" ? idOf(v) : String(v)}`;
  }
  if (Array.isArray(v)) return `[${v.map(paramsKey).join(",")}]`;
  const proto: unknown = Object.getPrototypeOf(v);
  if (proto === Object.prototype || proto === null) {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .map((k) => `${k}:${paramsKey(o[k])}`)
      .join(",")}}`;
  }
  return `#${idOf(v as object)}`;
}

/** Concrete values of a closed jaxpr's constants, by variable (tracer constants are skipped). */
export function constValues(cj: ClosedJaxpr): Map<Var, ConcreteArray> {
  const m = new Map<Var, ConcreteArray>();
  cj.jaxpr.constVars.forEach((v, i) => {
    const c = cj.consts[i];
    if (c instanceof ConcreteArray) m.set(v, c);
  });
  return m;
}

/** The pjit equation's inner closed jaxpr, when `e` is a nested jit call. */
export function innerJaxpr(e: JaxprEqn): ClosedJaxpr | undefined {
  if (e.primitive.name !== "pjit") return undefined;
  const j = e.params.jaxpr;
  return j instanceof ClosedJaxpr ? j : undefined;
}

/** Substitutes atoms through `subst` (chains are followed). */
export function substituter(subst: Map<Var, Atom>): (a: Atom) => Atom {
  return (a) => {
    let x = a;
    while (x instanceof Var) {
      const y = subst.get(x);
      if (y === undefined) break;
      x = y;
    }
    return x;
  };
}

/** Rebuilds a closed jaxpr with new pieces (unspecified pieces are kept). */
export function rebuild(
  cj: ClosedJaxpr,
  parts: { constVars?: readonly Var[]; consts?: ClosedJaxpr["consts"]; inVars?: readonly Var[]; eqns?: readonly JaxprEqn[]; outs?: readonly Atom[] },
): ClosedJaxpr {
  const j = cj.jaxpr;
  return new ClosedJaxpr(
    new Jaxpr(parts.constVars ?? j.constVars, parts.inVars ?? j.inVars, parts.eqns ?? j.eqns, parts.outs ?? j.outs),
    parts.consts ?? cj.consts,
  );
}
