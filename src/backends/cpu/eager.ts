/**
 * Eager elementwise operations on large arrays run on the WebAssembly SIMD kernels that
 * jit uses for fused groups: an eager `np.tanh(x)` on a million floats becomes a
 * one-equation kernel (built with the same lowering table as the fusion pass), compiled
 * once per operation, parameters, shapes and dtypes, and run on the runtime's threads.
 * Small arrays, and operations the Wasm compiler does not take (int32 arithmetic,
 * `pow`, ...), keep the primitives' JavaScript `impl`.
 *
 * Installed into the interpreter's eager evaluation by importing this module
 * (`setEagerKernel` in core/trace.ts), so core code does not depend on backends.
 * @module
 */
import { ConcreteArray, type ShapedArray } from "../../core/array.js";
import { allocateForWrite } from "../../core/dtype.js";
import { type Params, type Primitive, setEagerKernel } from "../../core/trace.js";
import { kernelLowerings } from "../../passes/fuse.js";
import { KernelBuilder } from "../kernel/builder.js";
import { broadcastMap } from "../kernel/ir.js";
import { compileWasmKernel } from "../wasm/kernel.js";
import type { KernelFn } from "./codegen.js";
import { LruCache } from "../../core/lru.js";

/** Elements below which an eager elementwise operation keeps its JavaScript `impl`. */
export const EAGER_WASM_MIN_SIZE = 16384;
/** The same for transcendental operations, whose vectorized versions pay off sooner. */
export const EAGER_WASM_MIN_SIZE_TRANSCENDENTAL = 2048;
const TRANSCENDENTAL = new Set(["exp", "log", "log1p", "expm1", "tanh", "logistic", "sin", "cos", "tan"]);

const cache = new LruCache<string, KernelFn | null>();

function keyOf(prim: Primitive, args: readonly ConcreteArray[], params: Params, out: ShapedArray): string {
  let key = `${prim.name}|${out.dtype}[${out.shape.join(",")}]`;
  for (const a of args) key += `|${a.aval.dtype}[${a.aval.shape.join(",")}]`;
  for (const k in params) key += `|${k}=${String(params[k])}`;
  return key;
}

/** The Wasm function of `prim` applied to arguments of these avals, or null when there is none. */
function wasmFunction(prim: Primitive, args: readonly ConcreteArray[], params: Params, out: ShapedArray): KernelFn | null {
  const key = keyOf(prim, args, params, out);
  let f = cache.get(key);
  if (f === undefined) {
    f = null;
    const lower = kernelLowerings.get(prim.name)!;
    const b = new KernelBuilder(out.shape);
    const operands = args.map((a) => b.load(b.addInput(a.aval.dtype, a.aval.shape), broadcastMap(a.aval.shape, out.shape)));
    const node = lower(b, operands, params, out.dtype);
    // operations that return an operand unchanged (stop_gradient) have nothing to compute
    if (!(node < args.length && b.nodes[node]!.kind === "load")) {
      b.output(node);
      f = compileWasmKernel(b.build())?.run ?? null;
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
  if (outAvals.length !== 1 || !kernelLowerings.has(prim.name)) return null;
  const out = outAvals[0]!;
  if (out.size < (TRANSCENDENTAL.has(prim.name) ? EAGER_WASM_MIN_SIZE_TRANSCENDENTAL : EAGER_WASM_MIN_SIZE)) return null;
  const f = wasmFunction(prim, args, params, out);
  if (!f) return null;
  const buf = allocateForWrite(out.dtype, out.size); // the kernel writes every element
  f(...args.map((a) => a.buffer), buf);
  return [new ConcreteArray(out, buf)];
}

setEagerKernel(runEagerKernel);
