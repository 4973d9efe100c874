/**
 * Staging: the interpreter that records primitives into a jaxpr instead of running
 * them (used by `makeJaxpr` and `jit`). It is installed as the dynamic trace, so even
 * operations on constants are recorded.
 * @module
 */
import { NDArray, ShapedArray, type ConcreteArray } from "../core/array.js";
import { type MainTrace, type Params, type Primitive, Trace, Tracer, fullRaise, withDynamic, withNewMain } from "../core/trace.js";
import { checkSize } from "../core/shape.js";
import { debugNansOn } from "../core/config.js";
import { recordSource } from "../core/debug_nans.js";
import { finalizeJaxpr } from "../ir/builder.js";
import { type ClosedJaxpr, type JaxprEqn, Var } from "../ir/jaxpr.js";

/** Builds the jaxpr while a function is traced. */
export class JaxprBuilder {
  readonly eqns: JaxprEqn[] = [];
  readonly vars = new Map<JaxprTracer, Var>();
  readonly constTracers = new Map<NDArray, JaxprTracer>();
  readonly constVals = new Map<Var, NDArray>();

  newTracer(trace: Trace, aval: ShapedArray): JaxprTracer {
    const t = new JaxprTracer(trace, aval);
    this.vars.set(t, new Var(aval));
    return t;
  }
  getVar(t: JaxprTracer): Var {
    const v = this.vars.get(t);
    if (!v) throw new Error("internal: tracer has no variable in this jaxpr");
    return v;
  }
  addConst(trace: Trace, val: NDArray): JaxprTracer {
    let t = this.constTracers.get(val);
    if (!t) {
      t = this.newTracer(trace, val.aval);
      this.constTracers.set(val, t);
      this.constVals.set(this.getVar(t), val);
    }
    return t;
  }
  build(ins: JaxprTracer[], outs: JaxprTracer[]): ClosedJaxpr {
    const constVars = [...this.constVals.keys()];
    return finalizeJaxpr(
      constVars,
      constVars.map((v) => this.constVals.get(v)!),
      ins.map((t) => this.getVar(t)),
      this.eqns,
      outs.map((t) => this.getVar(t)),
    );
  }
}

/** A value being staged into a jaxpr: only its shape and dtype are known. */
export class JaxprTracer extends Tracer {
  constructor(
    trace: Trace,
    readonly avalValue: ShapedArray,
  ) {
    super(trace);
  }
  get aval(): ShapedArray {
    return this.avalValue;
  }
  concreteValue(op: string): ConcreteArray {
    throw new Error(
      `${op}: the value of this ${this.aval.toString()} array is abstract here: under jit (and makeJaxpr) only shapes and dtypes are known while the function is traced, ` +
        `so it cannot be read as a number or drive a JS branch or loop. Use np.where for a value-dependent choice ` +
        `(lax.cond / lax.whileLoop for control flow), move the value-dependent code outside jit, ` +
        `or pass that argument as static with jit(f, { staticArgnums: [i] }).`,
    );
  }
}

export class JaxprTrace extends Trace {
  get builder(): JaxprBuilder {
    return this.main.globalData as JaxprBuilder;
  }
  pure(x: NDArray): NDArray {
    return this.builder.addConst(this, x);
  }
  lift(x: NDArray): NDArray {
    return this.builder.addConst(this, x);
  }
  processPrimitive(prim: Primitive, tracers: NDArray[], params: Params): NDArray[] {
    const b = this.builder;
    const ins = tracers as JaxprTracer[];
    const outAvals = prim.abstractEval(
      ins.map((t) => t.aval),
      params,
    );
    for (const a of outAvals) checkSize(prim.name, a.shape);
    const outs = outAvals.map((a) => b.newTracer(this, a));
    b.eqns.push({ primitive: prim, inputs: ins.map((t) => b.getVar(t)), params, outVars: outs.map((t) => b.getVar(t)) });
    if (debugNansOn() && outs.length > 0) recordSource(b.getVar(outs[0]!));
    return outs;
  }
}

/** Traces `fn` on abstract inputs into a closed jaxpr. */
export function traceToJaxpr(fn: (args: NDArray[]) => NDArray[], inAvals: readonly ShapedArray[]): ClosedJaxpr {
  const builder = new JaxprBuilder();
  return withNewMain(
    "jit",
    (m: MainTrace) => new JaxprTrace(m),
    builder,
    (main) =>
      withDynamic(main, () => {
        const trace = new JaxprTrace(main);
        const ins = inAvals.map((a) => builder.newTracer(trace, a));
        const outs = fn(ins).map((o) => fullRaise(trace, o) as JaxprTracer);
        return builder.build(ins, outs);
      }),
  );
}
