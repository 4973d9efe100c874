/**
 * Batching: the vmap interpreter. Each tracer carries a value with an extra batch
 * axis (`bdim`, or null when the value is the same for every example), and each
 * primitive's batching rule says where the batch axis of its outputs is.
 * @module
 */
import { type ConcreteArray, NDArray, ShapedArray } from "../core/array.js";
import { type BatchDim, type MainTrace, type Params, type Primitive, Trace, Tracer, bind, fullRaise, withNewMain } from "../core/trace.js";
import { broadcastTo, moveAxis } from "../primitives/shape.js";

export class BatchTracer extends Tracer {
  constructor(
    trace: Trace,
    readonly val: NDArray,
    readonly bdim: BatchDim,
  ) {
    super(trace);
  }
  get aval(): ShapedArray {
    const a = this.val.aval;
    if (this.bdim === null) return a;
    return new ShapedArray(
      a.shape.filter((_, i) => i !== this.bdim),
      a.dtype,
    );
  }
  concreteValue(op: string): ConcreteArray {
    if (this.bdim === null) return this.val.concreteValue(op);
    throw new Error(
      `${op}: this ${this.aval.toString()} value differs between the examples of a vmap batch, so it cannot be read as one number or drive a JS branch or loop. ` +
        `Use np.where for value-dependent choices, or run the function per example without vmap.`,
    );
  }
  override fullLower(): NDArray {
    return this.bdim === null ? this.val : this;
  }
}

export class BatchTrace extends Trace {
  get axisSize(): number {
    return this.main.globalData as number;
  }
  pure(x: NDArray): NDArray {
    return new BatchTracer(this, x, null);
  }
  lift(x: NDArray): NDArray {
    return new BatchTracer(this, x, null);
  }
  processPrimitive(prim: Primitive, tracers: NDArray[], params: Params): NDArray[] {
    const ts = tracers as BatchTracer[];
    const vals = ts.map((t) => t.val);
    const dims = ts.map((t) => t.bdim);
    if (dims.every((d) => d === null)) return bind(prim, vals, params).map((v) => new BatchTracer(this, v, null));
    if (!prim.batch) throw new Error(`vmap: primitive '${prim.name}' has no batching rule.`);
    const [outs, outDims] = prim.batch(vals, dims, params);
    return outs.map((o, i) => new BatchTracer(this, o, outDims[i] ?? null));
  }
}

/** Moves the batch axis of `x` (or broadcasts an unbatched `x`) to position `to`. */
export function moveBatchAxis(x: NDArray, from: BatchDim, to: number, axisSize: number): NDArray {
  if (from === null) {
    const s = x.shape;
    const b = broadcastTo(x, [axisSize, ...s]);
    return moveAxis(b, 0, to);
  }
  return moveAxis(x, from, to);
}

/**
 * Batched evaluation of a flat function: `inDims[i]` is the batch axis of input i
 * (null = unbatched); outputs get their batch axis at `outDims[j]` (null = must be unbatched).
 */
export function vmapFlat(
  f: (xs: NDArray[]) => NDArray[],
  axisSize: number,
  args: readonly NDArray[],
  inDims: readonly BatchDim[],
  outDims: (n: number) => BatchDim[],
): NDArray[] {
  return withNewMain(
    "vmap",
    (m: MainTrace) => new BatchTrace(m),
    axisSize,
    (main) => {
      const trace = new BatchTrace(main);
      const ins = args.map((a, i) => (inDims[i] === null ? a : new BatchTracer(trace, a, inDims[i]!)));
      const outs = f(ins).map((o) => fullRaise(trace, o) as BatchTracer);
      const od = outDims(outs.length);
      return outs.map((o, j) => {
        const want = od[j] ?? null;
        if (want === null) {
          if (o.bdim !== null) throw new Error(`vmap: output ${j} is batched but outAxes says null (unbatched) for it.`);
          return o.val;
        }
        const rank = o.val.ndim - (o.bdim === null ? 0 : 1);
        if (!Number.isInteger(want) || want < -(rank + 1) || want > rank) {
          throw new Error(
            `vmap: outAxes ${String(want)} is out of range for output ${j} of per-example shape [${o.aval.shape.join(",")}]; the mapped axis of a rank-${rank} output goes at an axis in ${-(rank + 1)}..${rank}.`,
          );
        }
        return moveBatchAxis(o.val, o.bdim, want < 0 ? want + rank + 1 : want, axisSize);
      });
    },
  );
}
