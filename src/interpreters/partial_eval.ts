/**
 * Partial evaluation: runs what is known now and stages what is unknown into a
 * jaxpr. `linearize` uses it on a JVP: primal work runs, tangent work is staged, and
 * the staged (linear) jaxpr keeps as constants only the residuals it reads.
 * @module
 */
import { type ConcreteArray, NDArray, type ShapedArray } from "../core/array.js";
import { type MainTrace, type Params, type Primitive, Trace, Tracer, bind, fullRaise, withNewMain } from "../core/trace.js";
import { activeBufferLog } from "../core/pool.js";
import { finalizeJaxpr } from "../ir/builder.js";
import { escapedRead } from "./jvp.js";
import { type ClosedJaxpr, type JaxprEqn, Var } from "../ir/jaxpr.js";

interface EqnRecipe {
  kind: "eqn";
  prim: Primitive;
  ins: PartialEvalTracer[];
  params: Params;
  outs: PartialEvalTracer[];
}
type Recipe = { kind: "arg" } | { kind: "const"; val: NDArray } | EqnRecipe;

export class PartialEvalTracer extends Tracer {
  recipe: Recipe | null = null;
  constructor(
    trace: Trace,
    /** The known value, or null when only the aval is known. */
    readonly known: NDArray | null,
    readonly avalValue: ShapedArray,
  ) {
    super(trace);
  }
  get aval(): ShapedArray {
    return this.avalValue;
  }
  concreteValue(op: string): ConcreteArray {
    if (!this.trace.main.alive) throw escapedRead(op, this);
    if (this.known) return this.known.concreteValue(op);
    throw new Error(`${op}: this ${this.aval.toString()} value is a tangent being linearized and has no value yet.`);
  }
}

export class PartialEvalTrace extends Trace {
  pure(x: NDArray): NDArray {
    return new PartialEvalTracer(this, x, x.aval);
  }
  lift(x: NDArray): NDArray {
    return new PartialEvalTracer(this, x, x.aval);
  }
  newArg(aval: ShapedArray): PartialEvalTracer {
    const t = new PartialEvalTracer(this, null, aval);
    t.recipe = { kind: "arg" };
    return t;
  }
  instantiate(t: PartialEvalTracer): PartialEvalTracer {
    if (t.known === null) return t;
    const c = new PartialEvalTracer(this, null, t.aval);
    c.recipe = { kind: "const", val: t.known };
    return c;
  }
  processPrimitive(prim: Primitive, tracers: NDArray[], params: Params): NDArray[] {
    const ts = tracers as PartialEvalTracer[];
    if (ts.every((t) => t.known !== null)) {
      const outs = bind(
        prim,
        ts.map((t) => t.known!),
        params,
      );
      // eager grad may reuse these buffers once it returns (only tracers ever hold them)
      activeBufferLog()?.note(prim, outs);
      return outs.map((v) => new PartialEvalTracer(this, v, v.aval));
    }
    if (prim.partialEval) return prim.partialEval(this, ts, params);
    const ins = ts.map((t) => this.instantiate(t));
    const outAvals = prim.abstractEval(
      ins.map((t) => t.aval),
      params,
    );
    return this.stage(prim, ins, params, outAvals);
  }
  /** Records an equation whose outputs are unknown. */
  stage(prim: Primitive, tracers: PartialEvalTracer[], params: Params, outAvals: readonly ShapedArray[]): PartialEvalTracer[] {
    const ins = tracers.map((t) => this.instantiate(t));
    const outs = outAvals.map((a) => new PartialEvalTracer(this, null, a));
    const recipe: EqnRecipe = { kind: "eqn", prim, ins, params, outs };
    for (const o of outs) o.recipe = recipe;
    return outs;
  }
  /** A tracer for a known value. */
  known(x: NDArray): PartialEvalTracer {
    return new PartialEvalTracer(this, x, x.aval);
  }
}

/** Turns the graph of recipes reachable from `outs` into a closed jaxpr over `ins`. */
function tracersToJaxpr(ins: PartialEvalTracer[], outs: PartialEvalTracer[]): ClosedJaxpr {
  const vars = new Map<PartialEvalTracer, Var>();
  const v = (t: PartialEvalTracer): Var => {
    let x = vars.get(t);
    if (!x) {
      x = new Var(t.aval);
      vars.set(t, x);
    }
    return x;
  };
  const inVars = ins.map(v);
  const constVars: Var[] = [];
  const consts: NDArray[] = [];
  const eqns: JaxprEqn[] = [];
  // Iterative post-order DFS over recipes (deep chains must not overflow the stack).
  const visited = new Set<PartialEvalTracer | EqnRecipe>();
  const stack: [PartialEvalTracer, boolean][] = outs.map((t) => [t, false] as [PartialEvalTracer, boolean]).reverse();
  while (stack.length) {
    const [t, expanded] = stack.pop()!;
    const r = t.recipe;
    if (!r) throw new Error("internal: partial-eval tracer without recipe");
    const key = r.kind === "eqn" ? r : t;
    if (visited.has(key)) continue;
    if (r.kind === "eqn" && !expanded) {
      stack.push([t, true]);
      for (let i = r.ins.length - 1; i >= 0; i--) stack.push([r.ins[i]!, false]);
      continue;
    }
    visited.add(key);
    if (r.kind === "const") {
      constVars.push(v(t));
      consts.push(r.val);
    } else if (r.kind === "arg") {
      if (!vars.has(t)) throw new Error("internal: a tangent input of this linearization is not one of its arguments");
    } else {
      eqns.push({ primitive: r.prim, inputs: r.ins.map(v), params: r.params, outVars: r.outs.map(v) });
    }
  }
  return finalizeJaxpr(constVars, consts, inVars, eqns, outs.map(v));
}

/**
 * Partially evaluates `f` on unknown inputs of avals `unknownAvals`. Each output
 * comes back as its known value, or null when it depends on the unknown inputs (or
 * when `stageAll` asks for it to be staged anyway); `jaxpr` computes the staged
 * outputs (in order) from the unknown inputs, with the residuals it reads as constants.
 */
export function partialEvalGeneral(
  f: (unknown: NDArray[]) => NDArray[],
  unknownAvals: readonly ShapedArray[],
  stageAll: (i: number) => boolean = () => false,
): { outs: (NDArray | null)[]; jaxpr: ClosedJaxpr } {
  return withNewMain(
    "linearize",
    (m: MainTrace) => new PartialEvalTrace(m),
    null,
    (main) => {
      const trace = new PartialEvalTrace(main);
      const ins = unknownAvals.map((a) => trace.newArg(a));
      const outs = f(ins).map((o, i) => {
        const t = fullRaise(trace, o) as PartialEvalTracer;
        return stageAll(i) ? trace.instantiate(t) : t;
      });
      const jaxpr = tracersToJaxpr(
        ins,
        outs.filter((o) => o.known === null),
      );
      return { outs: outs.map((o) => o.known), jaxpr };
    },
  );
}

/**
 * Partial evaluation as linearize uses it: `f` returns outputs that must be known now
 * (primal results) and outputs to stage (tangents). The staged jaxpr's constants are
 * exactly the known values it reads (the residuals).
 */
export function partialEvalFlat(
  f: (unknown: NDArray[]) => [NDArray[], NDArray[]],
  unknownAvals: readonly ShapedArray[],
): { known: NDArray[]; jaxpr: ClosedJaxpr } {
  let nKnown = 0;
  const { outs, jaxpr } = partialEvalGeneral(
    (ins) => {
      const [k, s] = f(ins);
      nKnown = k.length;
      return [...k, ...s];
    },
    unknownAvals,
    (i) => i >= nKnown,
  );
  const known = outs.slice(0, nKnown).map((o) => {
    if (o === null) throw new Error("internal: a primal output depends on a tangent");
    return o;
  });
  return { known, jaxpr };
}
