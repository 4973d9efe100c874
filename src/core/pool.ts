/**
 * Reuse of large CPU buffers that eager differentiation knows to be dead.
 *
 * A fresh typed array of a megabyte or more is expensive: its pages are mapped and
 * zeroed by the system on first write, and the garbage collector frees it only later.
 * An eager `grad`/`valueAndGrad` call creates many such buffers that nothing can reach
 * once it returns (forward temporaries, the residuals of the linear program, the
 * intermediate cotangents). {@link withBufferLog} records the buffers such a call
 * creates at points where no user code can see them, and hands those that are not part
 * of its results to a pool; {@link allocate} (core/dtype.ts) takes from the pool first.
 *
 * What is recorded, and why it is safe to reuse after the call:
 * - outputs of primitives applied by the partial evaluator to known values (the primal
 *   computation of linearize): user code only ever holds tracers around them, and a
 *   tracer of a finished transform refuses to be read;
 * - outputs of the backward pass's own evaluations and of the built-in transpose rules.
 * Only primitives declaring `freshOutputs` (new buffers aliasing nothing) are recorded.
 * A primitive whose rules may run user code or hold on to values (anything that is not
 * built in: custom_jvp/custom_vjp, pjit, ...) met on a recorded path marks the call
 * tainted, and a tainted call recycles nothing. Results (the value, aux and gradients)
 * are compared by ArrayBuffer, so views of a recorded buffer keep it out of the pool.
 * @module
 */
import type { DType, TypedArray } from "./dtype.js";

/** Buffers smaller than this are left to the garbage collector (cheap to allocate). */
const MIN_POOLED_BYTES = 64 * 1024;
/** The most bytes the pool keeps alive. */
const MAX_POOLED_BYTES = 128 * 1024 * 1024;

const pool = new Map<string, ArrayBuffer[]>();
let pooledBytes = 0;

const keyOf = (dtype: DType, size: number): string => `${dtype}:${size}`;

/** Bytes per element of each dtype. */
const BYTES: Record<DType, number> = { float32: 4, float64: 8, int32: 4, bool: 1 };

/**
 * A pooled buffer for `size` elements of `dtype` (contents undefined), or null. The
 * caller wraps it in a new typed array, so nothing keyed on the old view sees the reuse.
 */
export function takePooled(dtype: DType, size: number): ArrayBuffer | null {
  if (pooledBytes === 0 || size * BYTES[dtype] < MIN_POOLED_BYTES) return null;
  const ab = pool.get(keyOf(dtype, size))?.pop();
  if (ab === undefined) return null;
  pooledBytes -= ab.byteLength;
  return ab;
}

function dtypeOfBuffer(b: TypedArray): DType {
  return b instanceof Float32Array ? "float32" : b instanceof Float64Array ? "float64" : b instanceof Int32Array ? "int32" : "bool";
}

/** Bytes currently held by the pool (for tests). @internal */
export function pooledByteCount(): number {
  return pooledBytes;
}

/** Drops every pooled buffer (for tests, and to give memory back). @internal */
export function clearPool(): void {
  pool.clear();
  pooledBytes = 0;
}

/** The part of a primitive that recording looks at (core/trace.ts's Primitive satisfies it). */
export interface RecordedPrimitive {
  readonly freshOutputs?: boolean;
}
/** A value whose buffer may be recorded (core/array.ts's ConcreteArray). */
export interface RecordedValue {
  readonly device: unknown;
  readonly hasHostCopy: boolean;
  readonly buffer: TypedArray;
}

/** Primitives whose rules run no user code but do not declare `freshOutputs` (views such as reshape). */
const viewPrimitives = new WeakSet<object>();
/** Declares a built-in primitive without fresh outputs whose rules only apply built-in primitives. */
export function declareBuiltinView(p: RecordedPrimitive): void {
  viewPrimitives.add(p);
}
function builtin(p: RecordedPrimitive): boolean {
  return p.freshOutputs === true || viewPrimitives.has(p);
}

/** The buffers one eager differentiation call has created where only it can see them. */
export class BufferLog {
  readonly buffers = new Map<ArrayBuffer, TypedArray>();
  /** Set when a primitive that is not built in was met: then nothing is recycled. */
  tainted = false;
  /** Above 0 while a built-in transpose rule runs: every fresh eager output is recorded. */
  capturing = 0;

  /** Records the outputs of `prim` (applied here, with no user code in between). */
  note(prim: RecordedPrimitive, outs: readonly unknown[]): void {
    if (prim.freshOutputs !== true) {
      if (!builtin(prim)) this.tainted = true;
      return;
    }
    for (const o of outs) {
      const v = o as RecordedValue;
      // tracers (nested transforms) have no device field; device arrays are not pooled
      if (v.device !== null || !v.hasHostCopy) continue;
      const b = v.buffer;
      if (b.byteLength >= MIN_POOLED_BYTES && b.byteOffset === 0 && b.buffer instanceof ArrayBuffer && b.byteLength === b.buffer.byteLength)
        this.buffers.set(b.buffer, b);
    }
  }
  /** Records that a primitive's rule is about to run: a rule that is not built in taints the call. */
  check(prim: RecordedPrimitive): boolean {
    if (!builtin(prim)) this.tainted = true;
    return !this.tainted;
  }
}

let active: BufferLog | null = null;

/** The log of the eager differentiation call in progress, or null. */
export function activeBufferLog(): BufferLog | null {
  return active;
}

/**
 * Runs `fn` with a fresh log (unless one is active: nested calls add to the outer one)
 * and, when it returns without error, pools the recorded buffers that none of the
 * values `resultsOf` lists uses.
 */
export function withBufferLog<T>(fn: () => T, resultsOf: (r: T) => readonly unknown[]): T {
  if (active !== null) return fn();
  const log = new BufferLog();
  active = log;
  let r: T;
  try {
    r = fn();
  } finally {
    active = null;
  }
  if (!log.tainted && log.buffers.size > 0) {
    for (const x of resultsOf(r)) {
      const v = x as RecordedValue;
      if (v.device === null && v.hasHostCopy) log.buffers.delete(v.buffer.buffer as ArrayBuffer);
    }
    for (const [ab, b] of log.buffers) {
      if (pooledBytes + ab.byteLength > MAX_POOLED_BYTES) break;
      const key = keyOf(dtypeOfBuffer(b), b.length);
      let list = pool.get(key);
      if (!list) pool.set(key, (list = []));
      list.push(ab);
      pooledBytes += ab.byteLength;
    }
  }
  return r;
}
