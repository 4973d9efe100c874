/**
 * Forward mode: the JVP interpreter. Each tracer carries a primal and a tangent
 * (null is a symbolic zero, so integer values and constants cost nothing).
 * @module
 */
import { type ConcreteArray, NDArray, type ShapedArray } from "../core/array.js";
import { isFloat } from "../core/dtype.js";
import { activeBufferLog } from "../core/pool.js";
import { type MainTrace, type Params, type Primitive, Trace, Tracer, bind, fullRaise, withNewMain } from "../core/trace.js";

export class JvpTracer extends Tracer {
  constructor(
    trace: Trace,
    readonly primal: NDArray,
    readonly tangent: NDArray | null,
  ) {
    super(trace);
  }
  get aval(): ShapedArray {
    return this.primal.aval;
  }
  concreteValue(op: string): ConcreteArray {
    if (!this.trace.main.alive) throw escapedRead(op, this);
    return this.primal.concreteValue(op);
  }
}

/** The error for reading the value of a tracer whose transform has finished. */
export function escapedRead(op: string, t: Tracer): Error {
  return new Error(
    `${op}: this ${t.aval.toString()} value is a tracer that escaped its ${t.trace.main.kind} transform, which has already finished. ` +
      `It was stored in an outer variable inside grad/vjp/jvp and is used after the transform returned. ` +
      `Return the value from the transformed function instead (grad's hasAux, or an extra output of vjp/jvp).`,
  );
}

export class JvpTrace extends Trace {
  pure(x: NDArray): NDArray {
    return new JvpTracer(this, x, null);
  }
  lift(x: NDArray): NDArray {
    return new JvpTracer(this, x, null);
  }
  processPrimitive(prim: Primitive, tracers: NDArray[], params: Params): NDArray[] {
    // An eager grad in progress records the buffers that built-in rules create here: only
    // tracers hold them, so they are dead once the grad returns (core/pool.ts).
    const log = activeBufferLog();
    if (log === null || !log.check(prim)) return this.apply(prim, tracers, params);
    log.capturing++;
    try {
      return this.apply(prim, tracers, params);
    } finally {
      log.capturing--;
    }
  }
  private apply(prim: Primitive, tracers: NDArray[], params: Params): NDArray[] {
    const ts = tracers as JvpTracer[];
    const primals = ts.map((t) => t.primal);
    const tangents = ts.map((t) => t.tangent);
    if (prim.nonDifferentiable || tangents.every((t) => t === null)) {
      return bind(prim, primals, params).map((p) => new JvpTracer(this, p, null));
    }
    if (!prim.jvp) throw new Error(`jvp: primitive '${prim.name}' has no differentiation rule.`);
    const [po, to] = prim.jvp(primals, tangents, params);
    return po.map((p, i) => new JvpTracer(this, p, isFloat(p.dtype) ? (to[i] ?? null) : null));
  }
}

/** Forward-mode on flat lists: returns primal outputs and tangent outputs (null = zero). */
export function jvpFlat(f: (xs: NDArray[]) => NDArray[], primals: readonly NDArray[], tangents: readonly (NDArray | null)[]): [NDArray[], (NDArray | null)[]] {
  return withNewMain(
    "jvp",
    (m: MainTrace) => new JvpTrace(m),
    null,
    (main) => {
      const trace = new JvpTrace(main);
      const ins = primals.map((p, i) => new JvpTracer(trace, p, tangents[i] ?? null));
      const outs = f(ins).map((o) => fullRaise(trace, o) as JvpTracer);
      return [outs.map((o) => o.primal), outs.map((o) => o.tangent)];
    },
  );
}
