/**
 * The interpreter stack: primitives, traces, tracers and `bind`.
 *
 * Every operation, eager or traced, goes through {@link bind}. `bind` finds the
 * highest-level trace among its arguments (and the dynamic trace of `jit`/`makeJaxpr`),
 * lifts every argument into it, and lets that trace interpret the primitive. Eager
 * execution is the bottom interpreter ({@link EvalTrace}).
 * @module
 */
import { ConcreteArray, NDArray, ShapedArray } from "./array.js";
import { type ArrayMover, setMover } from "./device.js";
import type { DType } from "./dtype.js";
import { checkSize } from "./shape.js";
import { debugNansOn } from "./config.js";
import { checkEager } from "./debug_nans.js";

export type Params = Readonly<Record<string, unknown>>;

/**
 * A value that a transpose rule receives in place of a linear input: only its aval is
 * known, since transposition computes the cotangent of that input.
 *
 * @example
 * ```ts
 * import { UndefPrimal, ShapedArray } from "cotangent";
 * const u = new UndefPrimal(new ShapedArray([3], "float32"));
 * console.log(u.aval.toString()); // f32[3]
 * ```
 */
export class UndefPrimal {
  constructor(readonly aval: ShapedArray) {}
}

/** Batch dimension of a batched value, or null when it is not batched. */
export type BatchDim = number | null;

/**
 * A primitive: the only kind of operation. All of its rules live in its definition.
 */
export interface Primitive<P extends Params = any> {
  readonly name: string;
  /** Output avals from input avals; throws a user-facing Error on bad shapes/dtypes. */
  abstractEval(avals: ShapedArray[], params: P): ShapedArray[];
  /** CPU implementation on concrete arrays. */
  impl(args: ConcreteArray[], params: P, outAvals: ShapedArray[]): ConcreteArray[];
  /** Forward-mode rule: tangents of the outputs (null = symbolic zero). */
  jvp?(primals: NDArray[], tangents: (NDArray | null)[], params: P): [NDArray[], (NDArray | null)[]];
  /** For linear primitives: cotangents of the inputs given cotangents of the outputs. */
  transpose?(cts: (NDArray | null)[], args: (NDArray | UndefPrimal)[], params: P): (NDArray | null)[];
  /** Batching rule: outputs and their batch dims from batched inputs. */
  batch?(args: NDArray[], dims: BatchDim[], params: P): [NDArray[], BatchDim[]];
  /** How the printer shows params; default prints each as `k=v`. */
  printParams?(params: P): string;
  /**
   * Partial-evaluation rule, for primitives that hold a jaxpr: splits the work into
   * what can run now (known inputs) and what is staged. Default: run when every input
   * is known, otherwise stage the whole equation.
   */
  partialEval?(trace: Trace, tracers: NDArray[], params: P): NDArray[];
  /** True when the outputs carry no tangent whatever the inputs (comparisons, argmax...). */
  nonDifferentiable?: boolean;
  /**
   * True when `impl` always returns newly allocated buffers that alias none of its
   * inputs (so compiled programs may recycle input and output buffers around it).
   */
  freshOutputs?: boolean;
}

const registry = new Map<string, Primitive>();

/** Declares a primitive (its name must be new). */
export function definePrimitive<P extends Params>(p: Primitive<P>): Primitive<P> {
  if (registry.has(p.name)) throw new Error(`primitive ${p.name} is defined twice`);
  registry.set(p.name, p as Primitive);
  return p;
}

export function allPrimitives(): Primitive[] {
  return [...registry.values()];
}

/** One entry of the interpreter stack. */
export class MainTrace {
  alive = true;
  constructor(
    readonly level: number,
    readonly makeTrace: (main: MainTrace) => Trace,
    readonly globalData: unknown,
    readonly kind: string,
  ) {}
}

/** An interpreter. Subclasses implement `pure`, `lift` and `processPrimitive`. */
export abstract class Trace {
  constructor(readonly main: MainTrace) {}
  /** Wraps a value from outside any trace (a concrete array). */
  abstract pure(x: NDArray): Tracer | NDArray;
  /** Wraps a tracer of a lower-level trace. */
  abstract lift(x: NDArray): Tracer | NDArray;
  abstract processPrimitive(prim: Primitive, tracers: NDArray[], params: Params): NDArray[];
}

/** A value seen by a trace. */
export abstract class Tracer extends NDArray {
  constructor(readonly trace: Trace) {
    super();
  }
  /** A simpler value equivalent to this tracer, when one exists. */
  fullLower(): NDArray {
    return this;
  }
}

export class EvalTrace extends Trace {
  pure(x: NDArray): NDArray {
    return x;
  }
  lift(x: NDArray): NDArray {
    return x;
  }
  processPrimitive(prim: Primitive, args: NDArray[], params: Params): NDArray[] {
    return evalPrimitive(prim, args as ConcreteArray[], params);
  }
}

/**
 * How an eager primitive runs: given the primitive, its concrete arguments, params and
 * output avals, the concrete outputs.
 */
export type EagerDispatch = (prim: Primitive, args: ConcreteArray[], params: Params, outAvals: ShapedArray[]) => ConcreteArray[];

/** What the interpreter asks of the backends: run an eager primitive, move an array. */
export interface BackendDoor {
  readonly dispatch: EagerDispatch;
  readonly move: ArrayMover;
}

/**
 * The one door from the interpreter to the backends. The core imports no backend, so
 * the backend registry (src/backends/registry.ts) opens it when it is loaded; the
 * primitives layer imports the registry (matmul and `fused` ask it for their products
 * and kernels), so every primitive bound through the package sees it open. Until then,
 * eager primitives run their reference `impl` (the same values, never a different
 * answer). @internal
 */
export function openBackendDoor(door: BackendDoor): void {
  eagerDispatch = door.dispatch;
  setMover(door.move);
}
/** Before the registry is loaded: every primitive runs its reference `impl` in host memory. */
let eagerDispatch: EagerDispatch = (prim, args, params, outAvals) => prim.impl(args, params, outAvals);

export function evalPrimitive(prim: Primitive, args: ConcreteArray[], params: Params): ConcreteArray[] {
  const outAvals = prim.abstractEval(
    args.map((a) => a.aval),
    params,
  );
  for (const a of outAvals) checkSize(prim.name, a.shape);
  const outs = eagerDispatch(prim, args, params, outAvals);
  if (debugNansOn()) checkEager(prim.name, args, outs);
  return outs;
}

const bottom = new MainTrace(0, (m) => new EvalTrace(m), null, "eval");
const traceStack: MainTrace[] = [bottom];
let dynamicTrace: MainTrace = bottom;

/** Pushes a new interpreter for the duration of `fn`. */
export function withNewMain<T>(kind: string, makeTrace: (m: MainTrace) => Trace, globalData: unknown, fn: (main: MainTrace) => T): T {
  const main = new MainTrace(traceStack.length, makeTrace, globalData, kind);
  traceStack.push(main);
  try {
    return fn(main);
  } finally {
    main.alive = false;
    traceStack.pop();
  }
}

/** Makes `main` the dynamic trace (all binds go at least to it) for the duration of `fn`. */
export function withDynamic<T>(main: MainTrace, fn: () => T): T {
  const prev = dynamicTrace;
  dynamicTrace = main;
  try {
    return fn();
  } finally {
    dynamicTrace = prev;
  }
}

/**
 * True when one primitive may take all of `xs` without changing what any transform
 * knows about them: all concrete arrays, or all values of one `jit` trace. Rules use it
 * before merging a primal with its tangent into one operation; under partial evaluation
 * (linearize, grad) a known primal and an unknown tangent must stay apart, or the primal
 * would become unknown too.
 */
export function combinable(xs: readonly NDArray[]): boolean {
  const first = xs[0];
  if (first === undefined) return true;
  if (first instanceof ConcreteArray) return xs.every((x) => x instanceof ConcreteArray);
  if (!(first instanceof Tracer) || first.trace.main.kind !== "jit") return false;
  const main = first.trace.main;
  return xs.every((x) => x instanceof Tracer && x.trace.main === main);
}

/** True when nothing is being traced (plain eager execution). */
export function isEager(): boolean {
  return traceStack.length === 1 && dynamicTrace === bottom;
}

function escapedError(t: Tracer): Error {
  return new Error(
    `A tracer (${t.aval.toString()}) from a ${t.trace.main.kind} transform that has already finished was used. ` +
      `This happens when a value computed inside grad/vjp/jvp/vmap/jit is stored in an outer variable and used after the transform returns. ` +
      `Return the value from the transformed function instead (grad's hasAux, or extra outputs of vjp).`,
  );
}

export function findTopMain(args: readonly NDArray[]): MainTrace {
  let top = dynamicTrace;
  for (const a of args) {
    if (a instanceof Tracer) {
      const m = a.trace.main;
      if (!m.alive) throw escapedError(a);
      if (m.level > top.level) top = m;
    }
  }
  return top;
}

export function fullRaise(trace: Trace, x: NDArray): NDArray {
  if (!(x instanceof Tracer)) return trace.pure(x);
  const m = x.trace.main;
  if (m === trace.main) return x;
  if (m.level < trace.main.level) return trace.lift(x);
  throw escapedError(x);
}

/** Applies a primitive to arguments, dispatching to the right interpreter. */
export function bind(prim: Primitive, args: readonly NDArray[], params: Params = {}): NDArray[] {
  const main = findTopMain(args);
  if (main === bottom) {
    for (const a of args) if (!(a instanceof ConcreteArray)) a.concreteValue(prim.name);
    return evalPrimitive(prim, args as ConcreteArray[], params);
  }
  const trace = main.makeTrace(main);
  const tracers = args.map((a) => fullRaise(trace, a));
  const outs = trace.processPrimitive(prim, tracers, params);
  return outs.map((o) => (o instanceof Tracer ? o.fullLower() : o));
}

/** `bind` for a single-output primitive. */
export function bind1(prim: Primitive, args: readonly NDArray[], params: Params = {}): NDArray {
  return bind(prim, args, params)[0]!;
}

/** Helper to build an aval. */
export function aval(shape: readonly number[], dtype: DType): ShapedArray {
  return new ShapedArray(shape, dtype);
}
