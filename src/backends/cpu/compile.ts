/**
 * Compiling a closed jaxpr for the CPU into one generated JavaScript function.
 *
 * The plan walks the equations once at compile time and emits straight-line code:
 * - a `fused` equation runs its kernel — inlined into the plan when its index space and
 *   node count are tiny (within a budget per plan: V8 does not optimize very large
 *   functions), otherwise as a call to the kernel's own compiled function (so a
 *   program of scalar operations, fused into one kernel, is one straight-line function)
 *   — its WebAssembly SIMD version (src/backends/wasm/kernel.ts) when the kernel is big
 *   and compiles there, else its JavaScript one;
 * - a `reshape` only relabels a buffer;
 * - any other primitive calls its CPU `impl`.
 * Intermediate buffers that only kernels (and primitives known not to keep or alias
 * their inputs) read are taken from a pool owned by the executable and reused across
 * calls, with buffers of non-overlapping lifetimes shared (by liveness).
 * @module
 */
import { ConcreteArray, type ShapedArray } from "../../core/array.js";
import type { DType, TypedArray } from "../../core/dtype.js";
import type { Primitive } from "../../core/trace.js";
import { type Atom, type ClosedJaxpr, Literal, Var } from "../../ir/jaxpr.js";
import type { Kernel } from "../../kernel/ir.js";
import { kernelFunction } from "../wasm/kernel.js";
import { compileSource, emitKernel } from "./codegen.js";
import { type SmallMatmul, smallMatmulFunction, smallMatmulOf } from "./small_matmul.js";

import type { Executable } from "../backend.js";

export type { Executable };

/** Kernels whose index space has at most this many elements (and few nodes) are inlined into the plan. */
export const INLINE_KERNEL_SIZE = 64;
/**
 * At most this many kernel nodes are inlined into one plan: V8 leaves very large
 * functions unoptimized, so big kernels stay functions of their own.
 */
export const INLINE_NODE_BUDGET = 256;

const CTOR: Record<DType, string> = { float32: "Float32Array", float64: "Float64Array", int32: "Int32Array", bool: "Uint8Array" };

interface Context {
  CA: typeof ConcreteArray;
  avals: ShapedArray[];
  kernels: ((...b: TypedArray[]) => void)[];
  matmuls: ((A: TypedArray, B: TypedArray, C: TypedArray) => void)[];
  prims: Primitive[];
  params: unknown[];
  outAvals: ShapedArray[][];
  values: ConcreteArray[];
}

/** Compiles a closed jaxpr into an executable (see the module comment). */
export function compileJaxpr(cj: ClosedJaxpr): Executable {
  const { jaxpr } = cj;
  const ctx: Context = { CA: ConcreteArray, avals: [], kernels: [], matmuls: [], prims: [], params: [], outAvals: [], values: [] };
  const names = new Map<Var, number>();
  const avalIndex = new Map<ShapedArray, number>();
  const lines: string[] = [];
  let nextName = 0;
  const nameOf = (v: Var): number => {
    let k = names.get(v);
    if (k === undefined) names.set(v, (k = nextName++));
    return k;
  };
  const avalRef = (a: ShapedArray): string => {
    let k = avalIndex.get(a);
    if (k === undefined) {
      k = ctx.avals.length;
      ctx.avals.push(a);
      avalIndex.set(a, k);
    }
    return `A[${k}]`;
  };
  const valueRef = (c: ConcreteArray): string => {
    ctx.values.push(c);
    return `V[${ctx.values.length - 1}]`;
  };

  // ---------------------------------------------------------------- liveness and pooling
  const eqns = jaxpr.eqns;
  const outSet = new Set(jaxpr.outs.filter((a): a is Var => a instanceof Var));
  const lastUse = new Map<Var, number>();
  const poolable = new Set<Var>();
  // matmuls small enough for the generated loops: run like kernels, on buffers (see small_matmul.ts)
  const small = eqns.map((e): SmallMatmul | null =>
    !e.inputs.every((a) => a instanceof Var)
      ? null
      : smallMatmulOf(
          e.primitive.name,
          e.params,
          e.inputs.map((a) => a.aval),
          e.outVars[0]!.aval,
        ),
  );
  const bufferOnly = (i: number): boolean => eqns[i]!.primitive.name === "fused" || small[i] !== null;
  eqns.forEach((e, i) => {
    if (bufferOnly(i)) for (const v of e.outVars) if (!outSet.has(v)) poolable.add(v);
  });
  eqns.forEach((e, i) => {
    for (const a of e.inputs) {
      if (!(a instanceof Var)) continue;
      lastUse.set(a, i);
      if (!e.primitive.freshOutputs) poolable.delete(a);
    }
  });
  const needsArray = new Set<Var>(outSet); // values that must exist as ConcreteArray objects
  eqns.forEach((e, i) => {
    if (!bufferOnly(i) && e.primitive.name !== "reshape") for (const a of e.inputs) if (a instanceof Var) needsArray.add(a);
  });

  // ---------------------------------------------------------------- code
  const hasArray = new Set<Var>();
  const arrayOf = (a: Atom): string => {
    if (a instanceof Literal) return valueRef(a.val);
    const k = nameOf(a);
    if (!hasArray.has(a)) {
      lines.push(`const c${k} = new CA(${avalRef(a.aval)}, b${k});`);
      hasArray.add(a);
    }
    return `c${k}`;
  };
  jaxpr.inVars.forEach((v, i) => {
    const k = nameOf(v);
    lines.push(`const c${k} = args[${i}], b${k} = c${k}.buffer;`);
    hasArray.add(v);
  });
  jaxpr.constVars.forEach((v, i) => {
    const c = cj.consts[i]!.concreteValue("jit");
    const k = nameOf(v);
    lines.push(`const c${k} = ${valueRef(c)}, b${k} = c${k}.buffer;`);
    hasArray.add(v);
  });

  const freeSlots = new Map<string, number[]>();
  const slotOf = new Map<Var, number>();
  let numSlots = 0;
  // an output computed by a kernel goes straight into the caller's buffer when one is given
  const intoSlot = new Map<Var, number>();
  jaxpr.outs.forEach((a, j) => {
    if (a instanceof Var && !intoSlot.has(a)) intoSlot.set(a, j);
  });
  const allocate = (v: Var): string => {
    const { dtype, size } = v.aval;
    const j = intoSlot.get(v);
    if (j !== undefined) return `into !== undefined && into[${j}] !== undefined ? into[${j}] : new ${CTOR[dtype]}(${size})`;
    if (!poolable.has(v)) return `new ${CTOR[dtype]}(${size})`;
    const key = `${dtype}:${size}`;
    const free = freeSlots.get(key);
    const s = free && free.length ? free.pop()! : numSlots++;
    slotOf.set(v, s);
    return `S[${s}] || (S[${s}] = new ${CTOR[dtype]}(${size}))`;
  };
  const release = (i: number): void => {
    for (const a of eqns[i]!.inputs) {
      if (!(a instanceof Var) || lastUse.get(a) !== i) continue;
      const s = slotOf.get(a);
      if (s === undefined) continue;
      slotOf.delete(a);
      const key = `${a.aval.dtype}:${a.aval.size}`;
      let free = freeSlots.get(key);
      if (!free) freeSlots.set(key, (free = []));
      free.push(s);
    }
  };

  let inlined = 0;
  eqns.forEach((e, i) => {
    const name = e.primitive.name;
    if (name === "fused") {
      const kernel = e.params.kernel as Kernel;
      const outs = e.outVars.map((v) => {
        const k = nameOf(v);
        lines.push(`const b${k} = ${allocate(v)};`);
        return `b${k}`;
      });
      const ins = e.inputs.map((a) => `b${nameOf(a as Var)}`);
      const size = kernel.shape.reduce((x, y) => x * y, 1);
      if (size <= INLINE_KERNEL_SIZE && inlined + kernel.nodes.length <= INLINE_NODE_BUDGET) {
        inlined += kernel.nodes.length;
        lines.push(emitKernel(kernel, ins, outs));
      } else {
        ctx.kernels.push(kernelFunction(kernel)); // WebAssembly SIMD for big kernels it compiles, else JS
        lines.push(`K[${ctx.kernels.length - 1}](${[...ins, ...outs].join(", ")});`);
      }
    } else if (small[i]) {
      const v = e.outVars[0]!;
      const k = nameOf(v);
      lines.push(`const b${k} = ${allocate(v)};`);
      ctx.matmuls.push(smallMatmulFunction(small[i]!));
      lines.push(`M[${ctx.matmuls.length - 1}](b${nameOf(e.inputs[0] as Var)}, b${nameOf(e.inputs[1] as Var)}, b${k});`);
    } else if (name === "reshape" && e.inputs[0] instanceof Var) {
      const v = e.outVars[0]!;
      lines.push(`const b${nameOf(v)} = b${nameOf(e.inputs[0])};`);
    } else {
      const args = e.inputs.map(arrayOf);
      ctx.prims.push(e.primitive);
      ctx.params.push(e.params);
      ctx.outAvals.push(e.outVars.map((v) => v.aval));
      const p = ctx.prims.length - 1;
      lines.push(`const r${i} = P[${p}].impl([${args.join(", ")}], Q[${p}], O[${p}]);`);
      e.outVars.forEach((v, j) => {
        const k = nameOf(v);
        lines.push(`const c${k} = r${i}[${j}], b${k} = c${k}.buffer;`);
        hasArray.add(v);
      });
    }
    release(i);
    // wrap kernel results that an impl or the caller will need as arrays
    for (const v of e.outVars) if (needsArray.has(v) && !hasArray.has(v)) arrayOf(v);
  });
  const results = jaxpr.outs.map((a) => (a instanceof Literal ? valueRef(a.val) : arrayOf(a)));
  lines.push(`return [${results.join(", ")}];`);

  const body = [
    "const CA = ctx.CA, A = ctx.avals, K = ctx.kernels, M = ctx.matmuls, P = ctx.prims, Q = ctx.params, O = ctx.outAvals, V = ctx.values;",
    "return function run(args, S, into) {",
    lines.join("\n"),
    "};",
  ].join("\n");
  const factory = compileSource<
    (ctx: Context) => (args: readonly ConcreteArray[], slots: TypedArray[], into: readonly (TypedArray | undefined)[] | undefined) => ConcreteArray[]
  >(["ctx"], body);
  const run = factory(ctx);
  const slots: TypedArray[] = [];
  let busy = false;
  return (args, into) => {
    // a program reached again while it runs (a custom rule calling the jitted function) gets its own buffers
    if (busy) return run(args, [], into);
    busy = true;
    try {
      return run(args, slots, into);
    } finally {
      busy = false;
    }
  };
}
