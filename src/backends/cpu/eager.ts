/**
 * Eager elementwise operations on large arrays run on the WebAssembly SIMD kernels that
 * jit uses for fused groups: an eager `np.tanh(x)` on a million floats becomes a
 * one-equation kernel (built with the primitive's own lowering, `prim.lower`), compiled
 * once per operation, parameters, shapes and dtypes, and run on the runtime's threads.
 * Small arrays, and operations the Wasm compiler does not take (int32 arithmetic,
 * `pow`, ...), keep the primitives' JavaScript `impl`.
 *
 * This is the CPU backend's `runEager` (src/backends/cpu/index.ts).
 * @module
 */
import { ConcreteArray, type ShapedArray } from "../../core/array.js";
import { allocateForWrite } from "../../core/dtype.js";
import type { Params, Primitive } from "../../core/trace.js";
import { KernelBuilder } from "../../kernel/builder.js";
import { broadcastMap } from "../../kernel/ir.js";
import type { KernelLowering } from "../../kernel/lowering.js";
import { compileWasmKernel } from "../wasm/kernel.js";
import { VEC_MATH, VEC_TRIG } from "../wasm/vecmath.js";
import type { KernelFn } from "./codegen.js";
import { LruCache } from "../../core/lru.js";

/** Elements below which an eager elementwise operation keeps its JavaScript `impl`. */
export const EAGER_WASM_MIN_SIZE = 16384;
/** The same for transcendental operations, whose vectorized versions pay off sooner. */
export const EAGER_WASM_MIN_SIZE_TRANSCENDENTAL = 2048;

/** A compiled eager operation: its Wasm function, and whether it computes a transcendental function (which pays off on smaller arrays). */
interface EagerKernel {
  run: KernelFn;
  transcendental: boolean;
}
const cache = new LruCache<string, EagerKernel | null>();
/**
 * Whether a primitive's kernels compute a transcendental function, learned from its
 * first kernel: a non-transcendental operation on a mid-sized array then keeps its
 * `impl` without building a cache key.
 */
const transcendental = new WeakMap<Primitive, boolean>();

function keyOf(prim: Primitive, args: readonly ConcreteArray[], params: Params, out: ShapedArray): string {
  let key = `${prim.name}|${out.dtype}[${out.shape.join(",")}]`;
  for (const a of args) key += `|${a.aval.dtype}[${a.aval.shape.join(",")}]`;
  for (const k in params) key += `|${k}=${String(params[k])}`;
  return key;
}

/** The Wasm function of `prim` applied to arguments of these avals, or null when there is none. */
function wasmFunction(prim: Primitive, lower: KernelLowering, args: readonly ConcreteArray[], params: Params, out: ShapedArray): EagerKernel | null {
  const key = keyOf(prim, args, params, out);
  let f = cache.get(key);
  if (f === undefined) {
    f = null;
    const b = new KernelBuilder(out.shape);
    const operands = args.map((a) => b.load(b.addInput(a.aval.dtype, a.aval.shape), broadcastMap(a.aval.shape, out.shape)));
    const node = lower(b, operands, params, out.dtype);
    // operations that return an operand unchanged (stop_gradient) have nothing to compute
    if (node < args.length && b.nodes[node]!.kind === "load") transcendental.set(prim, false);
    else {
      b.output(node);
      const k = b.build();
      const heavy = k.nodes.some((n) => n.kind === "unary" && (n.op in VEC_MATH || n.op in VEC_TRIG));
      transcendental.set(prim, heavy);
      const w = compileWasmKernel(k);
      if (w) f = { run: w.run, transcendental: heavy };
    }
    cache.set(key, f);
  }
  return f;
}

/** How many distinct eager operations have a Wasm kernel so far (for tests). @internal */
export function eagerWasmKernelCount(): number {
  let n = 0;
  for (const f of cache.values()) if (f) n++;
  return n;
}

/**
 * Runs an eager elementwise primitive as a Wasm kernel when its output is large enough
 * and the kernel compiles; null means "use the primitive's impl".
 */
export function runEagerKernel(prim: Primitive, args: readonly ConcreteArray[], params: Params, outAvals: readonly ShapedArray[]): ConcreteArray[] | null {
  const lower = prim.lower;
  if (lower === undefined || outAvals.length !== 1) return null;
  const out = outAvals[0]!;
  if (out.size < EAGER_WASM_MIN_SIZE_TRANSCENDENTAL || (out.size < EAGER_WASM_MIN_SIZE && transcendental.get(prim) === false)) return null;
  const f = wasmFunction(prim, lower, args, params, out);
  if (!f || (out.size < EAGER_WASM_MIN_SIZE && !f.transcendental)) return null;
  const buf = allocateForWrite(out.dtype, out.size); // the kernel writes every element
  f.run(...args.map((a) => a.buffer), buf);
  return [new ConcreteArray(out, buf)];
}
